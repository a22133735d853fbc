"""The "A real network" page's settings as one frozen value, its presets, and its URL round trip.

A link carries the shared training settings (``task``, ``T``, ``H``,
``rec``, ``lr``, ``opt``, ``steps``, ``seed``) and up to four rules, slot
``k`` as ``rule{k}=<name>``, ``c{k}=<threshold>``, ``scope{k}=per_tensor``
and ``opt{k}=name:value,...``. ``network_from_query`` never raises: a bad
value becomes the nearest valid one (or the default) plus a notice.
Floats are written in their shortest round-trip form (``url_number``), so
a link reopens the very run it was made from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.clipping import CLIP_SPECS, check_clip, clip_modes
from ..core.network import TASKS, NetworkRun, NetworkTraining, RuleSetting, start_training
from ..core.optimizers import OPTIMIZERS
from .config import QueryReader, WidgetGet, _fmt, _number, threshold_symbol, url_number

#: Ranges the page offers (the engine accepts wider ones).
NET_T_RANGE = (2, 200)
NET_HIDDEN_RANGE = (2, 64)
NET_REC_RANGE = (0.1, 5.0)
NET_LR_RANGE = (1e-4, 2.0)
NET_STEPS_RANGE = (10, 3000)
NET_SEED_RANGE = (0, 1_000_000)
NET_THRESHOLD_RANGE = (1e-6, 1e6)
#: At most this many rules train side by side.
MAX_RULES = 4
#: The batch every page run uses.
NET_BATCH = 32
TASK_LABELS = {"adding": "adding problem", "temporal_order": "temporal order problem"}
#: Rules whose scope the learner may set: the others are per tensor by definition
#: (Keras' clipnorm), unit-wise (AGC) or decide for the whole step (skip).
SCOPED_RULES = ("value", "norm", "norm_torch", "normalize", "autoclip", "zclip", "clip_update")


def network_rules() -> tuple[str, ...]:
    """Every registered rule that has a network form (all of the registry's, in its order)."""
    return tuple(clip_modes())


@dataclass(frozen=True)
class RuleChoice:
    """One rule of the comparison: its name, threshold, scope and options (defaults left out)."""

    clip: str = "norm"
    threshold: float = 1.0
    scope: str = "global"
    options: tuple[tuple[str, float], ...] = ()

    @property
    def label(self) -> str:
        """A short name for a legend: the rule, its threshold and its scope."""
        spec = CLIP_SPECS[self.clip]
        text = spec.label
        if spec.uses_threshold:
            text += f" ({threshold_symbol(self.clip)} = {self.threshold:g})"
        if self.scope == "per_tensor":
            text += ", per tensor"
        return text


@dataclass(frozen=True)
class NetworkConfig:
    """Everything the page trains: shared settings and up to four rules, side by side."""

    task: str = "adding"
    T: int = 10
    hidden: int = 16
    rec_scale: float = 1.0
    lr: float = 0.15
    optimizer: str = "momentum"
    steps: int = 1000
    seed: int = 0
    rules: tuple[RuleChoice, ...] = field(
        default_factory=lambda: (RuleChoice("none", 1.0), RuleChoice("norm", 1.0))
    )
    present: bool = False


@dataclass(frozen=True)
class NetworkPreset:
    """A named configuration that tells one story (its caption is computed from the runs)."""

    key: str
    title: str
    config: NetworkConfig


#: The presets: (a) an unclipped run that blows up next to a clipped one that solves;
#: (b) one threshold applied to the whole gradient or to each tensor; (c) an adaptive
#: threshold against a fixed one. Small (T = 10, 16 units) so they train in seconds.
NETWORK_PRESETS = (
    NetworkPreset(
        "explode",
        "(a) No clipping explodes, clipping solves",
        NetworkConfig(rules=(RuleChoice("none", 1.0), RuleChoice("norm", 1.0))),
    ),
    NetworkPreset(
        "scope",
        "(b) Per-tensor against global clipping",
        NetworkConfig(
            optimizer="sgd",
            lr=0.3,
            rules=(RuleChoice("norm", 1.0), RuleChoice("norm", 1.0, "per_tensor")),
        ),
    ),
    NetworkPreset(
        "adaptive",
        "(c) An adaptive threshold against a fixed one",
        NetworkConfig(
            optimizer="sgd",
            lr=0.5,
            rules=(RuleChoice("norm", 1.0), RuleChoice("autoclip", 10.0)),
        ),
    ),
)


def network_preset(key: str) -> NetworkPreset:
    for p in NETWORK_PRESETS:
        if p.key == key:
            return p
    raise KeyError(f"unknown network preset {key!r}")


def which_preset(config: NetworkConfig) -> NetworkPreset | None:
    """The preset ``config`` is (presentation mode aside), or None."""
    for p in NETWORK_PRESETS:
        if replace(config, present=False) == p.config:
            return p
    return None


def _option_specs(mode: str):
    return {o.name: o for o in CLIP_SPECS[mode].options}


def canonical_rule(clip: str, threshold: float, scope: str, options: Mapping[str, Any]) -> RuleChoice:
    """A RuleChoice in one form: scope global where the rule has none, defaults dropped, sorted."""
    if clip not in SCOPED_RULES:
        scope = "global"
    spec = CLIP_SPECS[clip]
    if not spec.uses_threshold:
        threshold = 1.0
    known = _option_specs(clip)
    kept = tuple(
        sorted(
            (str(n), float(v))
            for n, v in options.items()
            if n in known and v is not None and float(v) != known[n].default
        )
    )
    return RuleChoice(clip, float(threshold), scope, kept)


def _read_rule(read: QueryReader, k: int) -> RuleChoice | None:
    name = read.get(f"rule{k}")
    if name is None or name == "":
        return None
    if name not in network_rules():
        read.notices.append(f"Rule {k}: unknown clipping rule {name!r}; left out.")
        return None
    spec = CLIP_SPECS[name]
    threshold = spec.default_threshold
    raw = read.get(f"c{k}")
    if raw is not None and spec.uses_threshold:
        number = _number(raw)
        try:
            if number is None:
                raise ValueError(f"{threshold_symbol(name)} {raw!r} is not a number")
            threshold = check_clip(name, number)
        except ValueError as error:
            read.notices.append(f"Rule {k} ({spec.label}): {error}; using {_fmt(threshold)}.")
    scope = read.choice(f"scope{k}", f"scope of rule {k}", ("global", "per_tensor"), "global")
    if scope == "per_tensor" and name not in SCOPED_RULES:
        read.notices.append(f"Rule {k} ({spec.label}) has no per-tensor form; using it as defined.")
        scope = "global"
    options: dict[str, float] = {}
    known = _option_specs(name)
    for item in (part.strip() for part in (read.get(f"opt{k}") or "").split(",")):
        if not item:
            continue
        opt, sep, text = item.partition(":")
        opt = opt.strip()
        if not sep or opt not in known:
            has = ", ".join(known) or "none"
            read.notices.append(
                f"Rule {k} ({spec.label}): {item!r} is not 'name:value' for an option it has "
                f"({has}); ignored."
            )
            continue
        number = _number(text)
        try:
            if number is None:
                raise ValueError(f"option {opt!r} must be a number, got {text.strip()!r}")
            options[opt] = known[opt].check(name, number)
        except ValueError as error:
            read.notices.append(f"Rule {k} ({spec.label}): {error}; using the default.")
    return canonical_rule(name, threshold, scope, options)


def network_from_query(query: Mapping[str, object]) -> tuple[NetworkConfig, list[str]]:
    """Reads a NetworkConfig from URL query parameters (never raises; each correction a notice).

    ``preset=<key>`` starts from that preset; any other setting in the link overrides it.
    """
    read = QueryReader(query)
    base = NetworkConfig()
    preset_key = read.get("preset")
    if preset_key is not None:
        keys = tuple(p.key for p in NETWORK_PRESETS)
        if preset_key in keys:
            base = network_preset(preset_key).config
        else:
            read.notices.append(f"Unknown preset {preset_key!r}; using the default settings.")
    task = read.choice("task", "task", TASKS, base.task)
    rules = tuple(r for k in range(1, MAX_RULES + 1) if (r := _read_rule(read, k)) is not None)
    extra = [
        k
        for k in read.query
        if str(k).startswith("rule") and str(k)[4:].isdigit() and int(str(k)[4:]) > MAX_RULES
    ]
    if extra:
        read.notices.append(
            f"At most {MAX_RULES} rules train side by side; {', '.join(sorted(map(str, extra)))} left out."
        )
    if not rules:
        if any(str(k).startswith("rule") for k in read.query):
            read.notices.append("No usable rule in the link; training the default rules.")
        rules = base.rules
    config = NetworkConfig(
        task=task,
        T=int(read.number("T", "T", *NET_T_RANGE, base.T, integer=True)),
        hidden=int(read.number("H", "hidden size", *NET_HIDDEN_RANGE, base.hidden, integer=True)),
        rec_scale=read.number("rec", "rec_scale", *NET_REC_RANGE, base.rec_scale),
        lr=read.number("lr", "learning rate", *NET_LR_RANGE, base.lr),
        optimizer=read.choice("opt", "optimizer", tuple(OPTIMIZERS), base.optimizer),
        steps=int(read.number("steps", "steps", *NET_STEPS_RANGE, base.steps, integer=True)),
        seed=int(read.number("seed", "seed", *NET_SEED_RANGE, base.seed, integer=True)),
        rules=rules,
        present=read.flag("present"),
    )
    return config, read.notices


def network_to_query(config: NetworkConfig) -> dict[str, str]:
    """The link of ``config`` (exact: ``network_from_query(network_to_query(c)) == (c, [])``)."""
    query = {
        "task": config.task,
        "T": str(config.T),
        "H": str(config.hidden),
        "rec": url_number(config.rec_scale),
        "lr": url_number(config.lr),
        "opt": config.optimizer,
        "steps": str(config.steps),
        "seed": str(config.seed),
    }
    for k, rule in enumerate(config.rules, start=1):
        query[f"rule{k}"] = rule.clip
        if CLIP_SPECS[rule.clip].uses_threshold:
            query[f"c{k}"] = url_number(rule.threshold)
        if rule.scope != "global":
            query[f"scope{k}"] = rule.scope
        if rule.options:
            query[f"opt{k}"] = ",".join(f"{n}:{url_number(v)}" for n, v in rule.options)
    if config.present:
        query["present"] = "1"
    return query


#: The choice a rule slot shows when it is off (slots 2-4).
OFF = ""


def network_widget_values(config: NetworkConfig) -> dict[str, object]:
    """The page's widgets showing ``config`` (names without the page prefix)."""
    values: dict[str, object] = {
        "task": config.task,
        "T": config.T,
        "H": config.hidden,
        "rec": config.rec_scale,
        "lr": config.lr,
        "opt": config.optimizer,
        "steps": config.steps,
        "seed": config.seed,
        "present": config.present,
    }
    for k in range(1, MAX_RULES + 1):
        rule = config.rules[k - 1] if k <= len(config.rules) else None
        values[f"rule{k}"] = rule.clip if rule else OFF
        values[f"c{k}"] = rule.threshold if rule else 1.0
        values[f"scope{k}"] = rule.scope if rule else "global"
        opts = dict(rule.options) if rule else {}
        for mode in network_rules():
            for option in CLIP_SPECS[mode].options:
                value = (
                    opts.get(option.name, option.default) if (rule and rule.clip == mode) else option.default
                )
                values[f"o{k}_{mode}_{option.name}"] = value
    return values


def network_from_widget_values(get: WidgetGet) -> NetworkConfig:
    """The NetworkConfig the widgets show (``get(name)`` is a widget's value)."""
    rules = []
    for k in range(1, MAX_RULES + 1):
        clip = get(f"rule{k}") or OFF
        if clip == OFF or clip not in CLIP_SPECS:
            continue
        options = {}
        for option in CLIP_SPECS[clip].options:
            value = get(f"o{k}_{clip}_{option.name}")
            if value is not None:
                options[option.name] = float(value)
        threshold = get(f"c{k}")
        rules.append(
            canonical_rule(
                str(clip),
                float(threshold) if threshold is not None else CLIP_SPECS[clip].default_threshold,
                str(get(f"scope{k}") or "global"),
                options,
            )
        )
    return NetworkConfig(
        task=str(get("task")),
        T=int(get("T")),
        hidden=int(get("H")),
        rec_scale=float(get("rec")),
        lr=float(get("lr")),
        optimizer=str(get("opt")),
        steps=int(get("steps")),
        seed=int(get("seed")),
        rules=tuple(rules) or NetworkConfig().rules,
        present=bool(get("present")),
    )


# ---------------------------------------------------------------------------
# Settings -> training


def run_labels(config: NetworkConfig) -> list[str]:
    """Each rule's legend name; a rule listed twice with the same settings gets its slot number."""
    labels = [rule.label for rule in config.rules]
    return [f"{lab} (#{k})" if labels.count(lab) > 1 else lab for k, lab in enumerate(labels, start=1)]


def rule_settings_of(config: NetworkConfig) -> list[RuleSetting]:
    """The core's RuleSetting of each rule (all with the config's seed and learning rate)."""
    return [
        RuleSetting(
            r.clip,
            r.threshold if CLIP_SPECS[r.clip].uses_threshold else None,
            dict(r.options),
            r.scope,
            config.seed,
        )
        for r in config.rules
    ]


def eval_every(config: NetworkConfig) -> int:
    """The held-out loss is measured 20 times per run (and at the end)."""
    return max(1, config.steps // 20)


def start_network_training(config: NetworkConfig) -> NetworkTraining:
    """The page's training of ``config``: every rule side by side, parameters recorded (for the slice)."""
    return start_training(
        rule_settings_of(config), task=config.task, T=config.T, hidden=config.hidden, batch=NET_BATCH,
        steps=config.steps, lr=config.lr, optimizer=config.optimizer, rec_scale=config.rec_scale,
        eval_every=eval_every(config), record_params=True,
    )  # fmt: skip


def train_network(config: NetworkConfig, chunks: int = 1, on_chunk=None) -> list[NetworkRun]:
    """Trains ``config`` in ``chunks`` pieces, calling ``on_chunk(runs, training)`` after each one
    but the last; the runs are the same however many chunks (see ``NetworkTraining``)."""
    training = start_network_training(config)
    size = max(1, -(-config.steps // max(1, chunks)))
    while True:
        training.advance(size)
        if training.done:
            return training.runs()
        if on_chunk is not None:
            on_chunk(training.runs(), training)
