"""The Explorer's settings as one frozen value, and its round trip through a URL.

Every setting a learner can change lives in ``ExplorerConfig``. A shared link
carries it as query parameters; ``from_query`` reads them back and replaces
anything malformed or out of range by the nearest valid value, returning a
notice for each replacement instead of raising.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, cast

from ..core.clipping import BUILTIN_RULES, CLIP_SPECS, ClipOption, check_clip, clip_modes
from ..core.engine import ClipMode
from ..core.optimizers import OPTIMIZER_OPTIONS, OPTIMIZERS, OptimizerName
from ..core.registry import Landscape, ParamSpec, Window, get_landscape, list_landscapes
from ..core.stepper import NOISE_DEFAULTS, NOISE_KEYS, check_noise
from ..core.validation import MAX_STEPS

#: Slider ranges of the app (the engine accepts wider ones).
LR_RANGE = (1e-3, 10.0)
THRESHOLD_RANGE = (1e-2, 1e2)
STEPS_RANGE = (1, MAX_STEPS)
#: AdamW's decoupled weight decay: the engine's default (optax's adamw), and the range the app offers.
DEFAULT_WEIGHT_DECAY: float = OPTIMIZER_OPTIONS["adamw"]["weight_decay"]
WEIGHT_DECAY_RANGE = (0.0, 0.5)
#: The paths the Explorer shows by default (any registered rule may be added, e.g. ``paths=none,mine``).
PATH_MODES = BUILTIN_RULES


def path_modes() -> tuple[str, ...]:
    """Every clipping rule the Explorer can draw: the registry's, in registration order."""
    return tuple(clip_modes())


#: At most this many rules are overlaid from one start (more would not stay apart on the map).
MAX_PATHS = 5


def own_threshold(mode: str) -> bool:
    """Whether rule ``mode``'s threshold means something other than the norm c (a percentile, a
    z limit, a ratio to the parameters): the Explorer gives it its own setting, not the c slider."""
    spec = CLIP_SPECS[mode]
    return spec.uses_threshold and spec.threshold_meaning != "the norm c"


#: How a rule's own threshold is written in a sentence or on an axis ("p = 10", "z = 2.5").
OWN_THRESHOLD_SYMBOLS = {"autoclip": "p", "zclip": "z", "agc": "λ"}


def threshold_symbol(mode: str) -> str:
    """The letter for rule ``mode``'s threshold: ``c`` for the c slider, else its own symbol."""
    if mode in CLIP_SPECS and own_threshold(mode):
        return OWN_THRESHOLD_SYMBOLS.get(mode, "threshold")
    return "c"


def with_threshold(config: ExplorerConfig, mode: str, value: float) -> ExplorerConfig:
    """``config`` with rule ``mode`` shown (if there is room) and running at threshold ``value``:
    the c slider for a rule that uses it, else the rule's own setting."""
    kept = config.paths if mode in config.paths else (*config.paths[: MAX_PATHS - 1], mode)
    paths = tuple(m for m in path_modes() if m in kept)  # registry order, as a link reads them
    if not own_threshold(mode):
        return replace(config, paths=paths, threshold=value)
    options = {name: dict(values) for name, values in config.rule_options}
    options[mode] = {**options.get(mode, {}), "threshold": value}
    return replace(config, paths=paths, rule_options=options)


def rule_settings(mode: str) -> tuple[ClipOption, ...]:
    """The settings the Explorer offers for rule ``mode`` besides c: its own threshold (as an
    option named ``threshold``, when it has one) and its registered options."""
    spec = CLIP_SPECS[mode]
    own = (
        (
            ClipOption(
                "threshold",
                spec.default_threshold,
                spec.threshold_meaning,
                low=0.0,
                low_open=True,
                high=spec.threshold_max,
            ),
        )
        if own_threshold(mode)
        else ()
    )
    return own + spec.options


def _canonical_options(paths: tuple[str, ...], options: Any) -> tuple[tuple[str, Params], ...]:
    """Rule options in one canonical form: only shown, registered rules and known settings whose
    value differs from the default, in the order of ``paths`` (so equal views compare equal)."""
    given: dict[str, Any] = dict(options)  # a mapping, or (rule, settings) pairs
    canonical: list[tuple[str, Params]] = []
    for mode in paths:
        if mode not in given or mode not in CLIP_SPECS:
            continue
        known = {o.name: o for o in rule_settings(mode)}
        kept: dict[str, float] = {}
        for name, value in dict(given[mode]).items():
            if name in known and value is not None and float(value) != known[name].default:
                kept[str(name)] = float(value)
        if kept:
            canonical.append((mode, Params(kept)))
    return tuple(canonical)


#: The number formats the Explorer offers: float64 (the default, exact enough near a wall) and float32
#: (a teaching toggle: what most training runs use, and where a cliff can overflow).
Dtype = Literal["float64", "float32"]
DTYPES: tuple[Dtype, ...] = ("float64", "float32")
#: Gradient noise settings, in the order a link writes them (``noise=sigma:0.1,spike_prob:0.05,...``).
NOISE_SETTINGS: tuple[str, ...] = NOISE_KEYS
#: What the noise controls show when noise is switched on from off (a spike now and then).
NOISE_WIDGET_DEFAULTS: dict[str, float] = {"sigma": 0.0, "spike_prob": 0.05, "spike_scale": 20.0, "seed": 0}


def canonical_noise(noise: Any) -> Params | None:
    """Noise settings in one canonical form: None when off (no noise given, or sigma 0 and spike
    probability 0, which is exactly the noiseless run), else all four settings, defaults filled in.

    Raises:
      ValueError: for an unknown setting or a bad value (``check_noise``).
    """
    checked = check_noise(None if noise is None else dict(noise))
    if checked is None or (checked["sigma"] == 0 and checked["spike_prob"] == 0):
        return None
    return Params(checked)


#: Which value the Explorer's in-figure slider sweeps: none, the threshold c or the learning rate.
Scrub = Literal["", "c", "lr"]
SCRUB_CHOICES: tuple[Scrub, ...] = ("", "c", "lr")

Choice = TypeVar("Choice", bound=str)


def optimizer_name(name: object) -> OptimizerName:
    """A validated optimizer name (a URL's or a widget's) as the core's ``OptimizerName``.

    The registry may hold optimizers added at run time (``register_optimizer``),
    which the Literal cannot list; the core accepts every registered name.
    """
    return cast("OptimizerName", str(name))


_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)


def log_choices(low: float, high: float) -> tuple[float, ...]:
    """Round values spaced about evenly on a log scale (1, 1.2, 1.5, 2, ... per decade)."""
    values = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in _NICE:
            value = float(f"{mantissa * 10.0**exponent:.3g}")
            if low * (1 - 1e-9) <= value <= high * (1 + 1e-9):
                values.append(value)
    return tuple(values)


#: What the log sliders offer; a URL value between two of them snaps to the nearer.
LR_CHOICES = log_choices(*LR_RANGE)
THRESHOLD_CHOICES = log_choices(*THRESHOLD_RANGE)


def nearest_choice(value: float, choices: tuple[float, ...]) -> float:
    """The choice nearest to ``value`` on a log scale."""
    return min(choices, key=lambda choice: abs(math.log(choice) - math.log(value)))


class Params(Mapping[str, float]):
    """A landscape's parameter values: a read-only, hashable mapping (so a settings value can key a cache).

    >>> Params({"T": 50}) == {"T": 50.0}, hash(Params({"T": 50})) == hash(Params({"T": 50.0}))
    (True, True)
    """

    __slots__ = ("_items",)

    def __init__(self, values: Mapping[str, float] | None = None):
        self._items = tuple(sorted((str(k), float(v)) for k, v in (values or {}).items()))

    def __getitem__(self, key: str) -> float:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self):
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == {k: float(v) for k, v in other.items()}
        return NotImplemented

    def __repr__(self) -> str:
        return f"Params({dict(self._items)!r})"


@dataclass(frozen=True)
class ExplorerConfig:
    """Everything that defines one Explorer view (hashable: caches key on the value itself)."""

    landscape: str = "pascanu"
    # Float values (always a Params); typed Any-valued because they are splatted into the core's
    # calls (``**config.params``), whose other keyword arguments are not floats.
    params: Mapping[str, Any] = field(default_factory=lambda: Params({"T": 50}))
    start: tuple[float, float] = (4.7, -2.2)
    lr: float = 0.5
    threshold: float = 1.0
    steps: int = 60
    optimizer: OptimizerName = "sgd"
    paths: tuple[str, ...] = PATH_MODES
    view3d: bool = False
    present: bool = False
    scrub: Scrub = ""  # which value the in-figure slider sweeps
    predict: bool = False  # classroom mode: hide the unclipped path until a guess is placed
    # Each shown rule's settings that differ from its defaults: ((rule, Params), ...), e.g.
    # (("zclip", {"alpha": 0.9}),); a mapping {rule: {name: value}} is accepted too.
    rule_options: Any = ()
    dtype: Dtype = "float64"  # float32 is a teaching toggle
    # Gradient noise: None (exact gradients) or {sigma, spike_prob, spike_scale, seed} (a Params).
    noise: Any = None
    # AdamW's decoupled weight decay (only AdamW has one: for any other optimizer it stays the default).
    weight_decay: float = DEFAULT_WEIGHT_DECAY

    def __post_init__(self) -> None:
        # Whatever mapping or sequence a caller passes, the value holds hashable, canonical forms.
        object.__setattr__(self, "params", Params(self.params))
        object.__setattr__(self, "start", (float(self.start[0]), float(self.start[1])))
        object.__setattr__(self, "paths", tuple(self.paths))
        object.__setattr__(self, "rule_options", _canonical_options(self.paths, self.rule_options))
        object.__setattr__(self, "noise", canonical_noise(self.noise))
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        decay = float(self.weight_decay) if self.optimizer == "adamw" else DEFAULT_WEIGHT_DECAY
        if not (math.isfinite(decay) and decay >= 0):
            raise ValueError(f"weight_decay must be finite and at least 0, got {self.weight_decay!r}")
        object.__setattr__(self, "weight_decay", decay)

    @property
    def optimizer_options(self) -> dict[str, float]:
        """The optimizer's options as the engine's ``optimizer_options=`` argument: AdamW's decay."""
        return {"weight_decay": self.weight_decay} if self.optimizer == "adamw" else {}

    @property
    def noise_settings(self) -> dict[str, float] | None:
        """The noise as the engine's ``noise=`` argument (None for exact gradients)."""
        return None if self.noise is None else dict(self.noise)

    def settings_of(self, mode: str) -> dict[str, float]:
        """Rule ``mode``'s settings besides c, defaults filled in (``threshold`` for its own one)."""
        chosen: dict[str, float] = dict(dict(self.rule_options).get(mode, {}))
        settings: dict[str, float] = {}
        for option in rule_settings(mode):
            value = chosen.get(option.name, option.default)
            if value is not None:  # None: the option's "no cap", left to the engine's default
                settings[option.name] = float(value)
        return settings

    def threshold_of(self, mode: str) -> float:
        """The threshold rule ``mode`` runs with: its own setting, or the c slider."""
        if own_threshold(mode):
            return float(self.settings_of(mode)["threshold"])
        return self.threshold

    def clip_options_of(self, mode: str) -> dict[str, float]:
        """Rule ``mode``'s ``clip_options`` for the engine (its own threshold left out)."""
        return {k: v for k, v in self.settings_of(mode).items() if k != "threshold"}

    @property
    def scape(self) -> Landscape:
        return get_landscape(self.landscape)

    def with_landscape(self, name: str) -> ExplorerConfig:
        """Another landscape at the settings that tell its story (``story_config``).

        The view settings (which paths, 3-D, presentation, predict, the
        in-figure sweep) and the teaching toggles (number format, gradient
        noise) are kept; the descent settings are the landscape's.
        """
        story = story_config(name)
        return replace(
            story,
            paths=self.paths,
            rule_options=self.rule_options,
            view3d=self.view3d,
            present=self.present,
            scrub=self.scrub,
            predict=self.predict,
            dtype=self.dtype,
            noise=self.noise,
        )


#: The settings each landscape opens with: chosen so that a newcomer who changes
#: nothing sees its cliff act and clipping change the outcome (tests/test_presets.py
#: checks that for every landscape). A landscape registered without one opens at its
#: default start with the Explorer's default descent settings.
LANDSCAPE_STORIES: dict[str, dict[str, Any]] = {
    "pascanu": {},
    # Plain descent's first step lands on the wall and is thrown; both clipped paths train.
    "ravine": {"lr": 1.2, "threshold": 1.0, "steps": 100},
    # The start sits inside the thin band where the output changes: |g| is about 57 there.
    "deep_product": {"start": (1.4, 0.0), "lr": 0.03, "threshold": 2.5, "steps": 100},
    # The last edge hurls the unclipped path off the map; the clipped ones walk down the stairs.
    "staircase": {"lr": 2.0, "threshold": 0.7, "steps": 60},
}


def story_config(name: str) -> ExplorerConfig:
    """The settings that show landscape ``name``'s cliff and what clipping does to it."""
    scape = get_landscape(name)
    base = ExplorerConfig(landscape=name, params=scape.defaults(), start=scape.default_start)
    return replace(base, **LANDSCAPE_STORIES.get(name, {}))


def _number(raw: object) -> float | None:
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    """A number for a sentence (six significant digits)."""
    return f"{value:.6g}"


def url_number(value: float) -> str:
    """A number for a URL: the shortest text that reads back as the same float.

    A link must open the very run it was made from: near a wall a start
    rounded to six digits is another run (see the science notes on chaos).

    >>> url_number(50.0), url_number(0.1), url_number(-2.3920000000000003)
    ('50', '0.1', '-2.3920000000000003')
    >>> float(url_number(1 / 3)) == 1 / 3
    True
    """
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class QueryReader:
    """Reads typed values from URL query parameters, never raising.

    Each malformed or out-of-range value is replaced by the nearest valid one
    (or a fallback) and a sentence saying so is added to ``notices``.
    """

    def __init__(self, query: Mapping[str, object]):
        self.query = query
        self.notices: list[str] = []

    def get(self, key: str) -> str | None:
        value = self.query.get(key)
        if isinstance(value, list):
            value = value[-1] if value else None
        return None if value is None else str(value)

    def number(
        self, key: str, label: str, low: float, high: float, fallback: float, integer: bool = False
    ) -> float:
        raw = self.get(key)
        if raw is None:
            return fallback
        value = _number(raw)
        if value is None:
            self.notices.append(f"{label} {raw!r} is not a number; using {_fmt(fallback)}.")
            return fallback
        clamped = min(max(value, low), high)
        if integer:
            clamped = float(round(clamped))
        if clamped != value:
            problem = (
                "is not a whole number" if low <= value <= high else f"is outside [{_fmt(low)}, {_fmt(high)}]"
            )
            self.notices.append(f"{label} {raw} {problem}; using {_fmt(clamped)}.")
        return clamped

    def on_grid(self, key: str, label: str, choices: tuple[float, ...], fallback: float) -> float:
        value = self.number(key, label, choices[0], choices[-1], fallback)
        snapped = nearest_choice(value, choices)
        if abs(snapped - value) > 1e-9 * value:
            self.notices.append(
                f"{label} {_fmt(value)} lies between the slider's steps; using {_fmt(snapped)}."
            )
        return snapped

    def param(self, spec: ParamSpec) -> float:
        if spec.log:
            return self.on_grid(spec.name, spec.label, log_choices(spec.low, spec.high), spec.default)
        return self.number(spec.name, spec.label, spec.low, spec.high, spec.default, spec.integer)

    def choice(self, key: str, label: str, choices: tuple[Choice, ...], fallback: Choice) -> Choice:
        """One of ``choices`` (so a Literal's choices give that Literal), else ``fallback``."""
        raw = self.get(key)
        if raw is None:
            return fallback
        for choice in choices:
            if raw == choice:
                return choice
        instead = f"using {fallback!r}" if fallback else "ignoring it"
        self.notices.append(f"Unknown {label} {raw!r}; {instead}.")
        return fallback

    def flag(self, key: str) -> bool:
        raw = self.get(key)
        if raw is None:
            return False
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() not in ("0", "false", "no", "off", ""):
            self.notices.append(f"{key}={raw!r} is not on/off; treating it as off.")
        return False

    def point(
        self, key: str, label: str, window: Window, fallback: tuple[float, float]
    ) -> tuple[float, float]:
        raw = self.get(key)
        if raw is None:
            return fallback
        parts = [_number(p) for p in raw.split(",")]
        px, py = parts if len(parts) == 2 else (None, None)
        if px is None or py is None:
            self.notices.append(f"{label} {raw!r} is not two numbers 'p1,p2'; using the default.")
            return fallback
        (x0, x1), (y0, y1) = window
        cx, cy = min(max(px, x0), x1), min(max(py, y0), y1)
        if (cx, cy) != (px, py):
            self.notices.append(
                f"{label} ({raw}) lies outside the window; moved to ({_fmt(cx)}, {_fmt(cy)})."
            )
        return (cx, cy)


def read_rule_options(read: QueryReader, paths: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Each shown rule's settings from ``opt_<rule>=name:value,...`` (bad ones become notices)."""
    chosen: dict[str, dict[str, float]] = {}
    for key in sorted(k for k in read.query if str(k).startswith("opt_")):
        mode = str(key)[4:]
        raw = read.get(str(key)) or ""
        if mode not in paths:
            read.notices.append(f"Settings {key}={raw!r} ignored: {mode!r} is not among the shown paths.")
            continue
        known = {o.name: o for o in rule_settings(mode)}
        values: dict[str, float] = {}
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            name, sep, text = item.partition(":")
            name = name.strip()
            if not sep or name not in known:
                has = ", ".join(known) or "none"
                read.notices.append(
                    f"{mode}: {item!r} is not 'name:value' for a setting it has ({has}); ignored."
                )
                continue
            number = _number(text)
            try:
                if number is None:
                    raise ValueError(f"{name} must be a number, got {text.strip()!r}")
                value = known[name].check(mode, number)
                if name == "threshold":
                    value = check_clip(mode, value)
            except ValueError as error:
                read.notices.append(f"{str(error)[0].upper()}{str(error)[1:]}; using the default.")
                continue
            values[name] = value
        chosen[mode] = values
    return chosen


def read_noise(read: QueryReader) -> Params | None:
    """The gradient noise from ``noise=sigma:0.1,spike_prob:0.05,spike_scale:20,seed:0`` (None when
    absent or off); a bad setting becomes a notice and keeps its default."""
    raw = read.get("noise")
    if raw is None or not raw.strip():
        return None
    values: dict[str, float] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name, sep, text = item.partition(":")
        name = name.strip()
        if not sep or name not in NOISE_SETTINGS:
            read.notices.append(
                f"noise: {item!r} is not 'name:value' for one of {', '.join(NOISE_SETTINGS)}; ignored."
            )
            continue
        number = _number(text)
        try:
            if number is None:
                raise ValueError(f"noise {name} must be a number, got {text.strip()!r}")
            check_noise({name: number})
        except ValueError as error:
            fallback = NOISE_DEFAULTS[name]
            read.notices.append(f"{str(error)[0].upper()}{str(error)[1:]}; using {_fmt(fallback)}.")
            continue
        values[name] = number
    return canonical_noise(values)


def read_weight_decay(read: QueryReader, optimizer: str) -> float:
    """AdamW's weight decay from ``wd=`` (the default when absent; ignored, with a notice, for an
    optimizer that has none; clamped to WEIGHT_DECAY_RANGE with a notice)."""
    raw = read.get("wd")
    if raw is None:
        return DEFAULT_WEIGHT_DECAY
    if optimizer != "adamw":
        read.notices.append(f"Weight decay wd={raw!r} ignored: only AdamW has one.")
        return DEFAULT_WEIGHT_DECAY
    return read.number("wd", "Weight decay", *WEIGHT_DECAY_RANGE, DEFAULT_WEIGHT_DECAY)


def from_query(query: Mapping[str, object]) -> tuple[ExplorerConfig, list[str]]:
    """Reads an ExplorerConfig from URL query parameters.

    Unknown keys are ignored; a malformed or out-of-range value is replaced by
    the nearest valid one (or the default when nothing is near), and each such
    replacement adds a sentence to the returned notices. Never raises.
    """
    read = QueryReader(query)
    default = ExplorerConfig()
    names = tuple(s.name for s in list_landscapes())
    name = read.choice("landscape", "landscape", names, default.landscape)
    scape = get_landscape(name)
    base = story_config(name)
    params = {spec.name: read.param(spec) for spec in scape.params}
    start = read.point("start", "Start", scape.window, base.start)
    optimizer = optimizer_name(read.choice("opt", "optimizer", tuple(OPTIMIZERS), base.optimizer))

    paths = base.paths
    raw_paths = read.get("paths")
    if raw_paths is not None:
        wanted = [p.strip() for p in raw_paths.split(",") if p.strip()]
        bad = [p for p in wanted if p not in clip_modes()]
        if bad:
            read.notices.append(f"Unknown clipping mode(s) {', '.join(map(repr, bad))} ignored.")
        paths = tuple(p for p in path_modes() if p in wanted)
        if len(paths) > MAX_PATHS:
            read.notices.append(
                f"At most {MAX_PATHS} paths are drawn at once; showing {', '.join(paths[:MAX_PATHS])}."
            )
            paths = paths[:MAX_PATHS]
    rule_options = read_rule_options(read, paths)
    weight_decay = read_weight_decay(read, optimizer)

    config = ExplorerConfig(
        landscape=name,
        params=params,
        start=start,
        lr=read.on_grid("lr", "Learning rate", LR_CHOICES, base.lr),
        threshold=read.on_grid("c", "Threshold c", THRESHOLD_CHOICES, base.threshold),
        steps=int(read.number("steps", "Steps", *STEPS_RANGE, base.steps, integer=True)),
        optimizer=optimizer,
        paths=paths,
        rule_options=rule_options,
        view3d=read.flag("view3d"),
        present=read.flag("present"),
        scrub=read.choice("scrub", "sweep setting", SCRUB_CHOICES, ""),
        predict=read.flag("predict"),
        dtype=read.choice("dtype", "number format", DTYPES, "float64"),
        noise=read_noise(read),
        weight_decay=weight_decay,
    )
    return config, read.notices


def to_query(config: ExplorerConfig) -> dict[str, str]:
    """The query parameters that reproduce ``config`` exactly (every float in its shortest exact form)."""
    query = {
        "landscape": config.landscape,
        **{k: url_number(v) for k, v in config.params.items()},
        "start": f"{url_number(config.start[0])},{url_number(config.start[1])}",
        "lr": url_number(config.lr),
        "c": url_number(config.threshold),
        "steps": str(config.steps),
        "opt": config.optimizer,
        "paths": ",".join(config.paths),
    }
    if config.optimizer == "adamw" and config.weight_decay != DEFAULT_WEIGHT_DECAY:
        query["wd"] = url_number(config.weight_decay)
    for mode, values in config.rule_options:
        query[f"opt_{mode}"] = ",".join(f"{name}:{url_number(value)}" for name, value in values.items())
    if config.view3d:
        query["view3d"] = "1"
    if config.present:
        query["present"] = "1"
    if config.scrub:
        query["scrub"] = config.scrub
    if config.predict:
        query["predict"] = "1"
    if config.dtype != "float64":
        query["dtype"] = config.dtype
    if config.noise is not None:
        query["noise"] = ",".join(
            f"{name}:{str(int(config.noise[name])) if name == 'seed' else url_number(config.noise[name])}"
            for name in NOISE_SETTINGS
        )
    return query


@dataclass(frozen=True)
class Preset:
    """A named configuration with a one-line caption for the learner."""

    key: str
    label: str
    caption: str
    config: ExplorerConfig
    #: A label of two or three words for a row of buttons (presentation mode); the label if empty.
    short: str = ""

    @property
    def button_label(self) -> str:
        return self.short or self.label


#: The "noisy data" preset's gradient noise: no Gaussian part, a spike (x 100) on one step in twenty.
NOISY_DATA_NOISE = {"sigma": 0.0, "spike_prob": 0.05, "spike_scale": 100.0, "seed": 0}

#: The AdamW preset: the catapult start, a learning rate Adam can walk with, and a decay strong enough to
#: move every end point visibly while the paths stay on the map.
ADAMW_PRESET = Preset(
    "adamw",
    "AdamW: the decay is not clipped",
    "The catapult start with AdamW (lr = 0.05, weight decay 0.02). On every step the decay pulls the "
    "parameters towards (0, 0) by lr·wd·θ, 0.004 to 0.005 here, whatever the gradient: every path "
    "slides along the ravine towards the origin and ends 0.79 to 0.95 away from where the same run ends "
    "without decay (plain Adam), all on the map. Norm clipping fires on 3 steps: it cuts the gradient "
    "there, yet the decay's pull is applied in full. Clipping acts on the gradient, never on the decay.",
    ExplorerConfig(optimizer="adamw", lr=0.05, steps=200, weight_decay=0.02),
    short="AdamW's decay",
)

PRESETS: tuple[Preset, ...] = (
    Preset(
        "catapult",
        "The catapult (Pascanu 2013 / Deep Learning Fig. 10.17)",
        "Plain descent walks down to the ravine, steps onto the wall and is hurled off the map; "
        "norm clipping takes the same step at length lr·c and stays.",
        ExplorerConfig(),
        short="The catapult",
    ),
    Preset(
        "tenfold",
        "Clipping lets a 10× larger learning rate train",
        "Plain descent trains here only up to lr = 1 (on the slider's steps): at lr = 10 its first step "
        "already leaves the map, and the wall hurls it further until it overflows. With c = 0.05 both "
        "clipped paths train even at lr = 10, because no step is longer than lr·c = 0.5 (value "
        "clipping: √2 times that). The price: they never settle, and end chattering at that step length.",
        ExplorerConfig(
            landscape="ravine",
            params={"steepness": 100.0},
            start=(2.9, 2.6),
            lr=10.0,
            threshold=0.05,
            steps=200,
        ),
        short="10× learning rate",
    ),
    Preset(
        "crawl",
        "A threshold so small that training crawls",
        "With c = 0.01 no norm-clipped step is longer than lr·c = 0.005, so 200 steps move it at most "
        "one unit. Small steps do not keep it off the wall: both clipped paths reach it within 40 steps "
        "and then zig-zag across it at every step. Norm clipping creeps along the wall to a low loss; "
        "value clipping gets stuck hopping between two points, ending higher than it started.",
        ExplorerConfig(threshold=0.01, steps=200),
        short="A tiny threshold",
    ),
    Preset(
        "bend",
        "Value clipping bends the direction, norm clipping keeps it",
        "Capping each component separately turns these steps by up to 31°, so the value-clipped "
        "path heads somewhere else than the norm-clipped one.",
        ExplorerConfig(
            landscape="deep_product",
            params={"depth": 12},
            start=(1.12, -0.38),
            lr=0.1,
            threshold=0.3,
            steps=100,
        ),
        short="Value vs norm",
    ),
    Preset(
        "noisy",
        "Noisy data: clipping against gradient spikes",
        "Without noise every path here trains. Now one step in twenty, on average, has its gradient "
        "multiplied by 100, as a bad batch would. The spike at step 20 throws plain descent off the map "
        "for good. Norm and value clipping cap each spiked step at lr·c (value clipping: √2 times that) "
        "and train; skipping the long steps trains too. ZClip is still in its 25-step warm-up when the "
        "spikes at steps 14 and 20 arrive, so it is thrown exactly like plain descent.",
        ExplorerConfig(
            start=(6.0, -1.5),
            lr=1.0,
            steps=200,
            paths=("none", "value", "norm", "zclip", "skip"),
            noise=NOISY_DATA_NOISE,
        ),
        short="Noisy data",
    ),
    ADAMW_PRESET,
)


def preset(key: str) -> Preset:
    for item in PRESETS:
        if item.key == key:
            return item
    raise ValueError(f"unknown preset {key!r}; choose one of {', '.join(p.key for p in PRESETS)}")


#: Ranges of the "Inside the RNN" page (wider than the Explorer's window on purpose).
RNN_W_RANGE = (0.5, 8.0)
RNN_B_RANGE = (-6.0, 3.0)


@dataclass(frozen=True)
class RnnView:
    """The settings of the "Inside the RNN" page: one (w, b) and the length T."""

    w: float = 5.0
    b: float = -2.6
    T: int = 50


def rnn_from_query(query: Mapping[str, object]) -> tuple[RnnView, list[str]]:
    """Reads an RnnView from URL query parameters (never raises; notices as from_query)."""
    read = QueryReader(query)
    default = RnnView()
    spec = get_landscape("pascanu").param("T")
    view = RnnView(
        w=read.number("w", "w", *RNN_W_RANGE, default.w),
        b=read.number("b", "b", *RNN_B_RANGE, default.b),
        T=int(read.number("T", spec.label, spec.low, spec.high, default.T, integer=True)),
    )
    return view, read.notices


def rnn_to_query(view: RnnView) -> dict[str, str]:
    return {"w": url_number(view.w), "b": url_number(view.b), "T": str(view.T)}


#: Resolutions the Sweeps page offers (cells per side of a start map).
SWEEP_RESOLUTIONS = (64, 96, 128, 192, 256)
#: What the start maps paint: the words of ``figures.sweeps.Quantity`` (views may not import
#: figures; pyright checks the two agree where the Sweeps page passes one to the other).
Paint = Literal["loss", "outcome", "clipped"]
SWEEP_PAINTS: tuple[Paint, ...] = ("loss", "outcome", "clipped")


#: The rules the learning rate x threshold diagram offers: every registered rule (norm first).
def diagram_clips() -> tuple[ClipMode, ...]:
    modes = ("norm", *(m for m in path_modes() if m != "norm"))
    return cast("tuple[ClipMode, ...]", modes)


@dataclass(frozen=True)
class SweepView:
    """The Sweeps page: the Explorer's descent settings, plus how to draw the maps.

    The start maps are drawn for the Explorer's ``paths`` (up to five rules, each with its
    settings); the (lr, threshold) diagram for ``diagram_clip``, any registered rule."""

    explorer: ExplorerConfig = field(default_factory=ExplorerConfig)
    resolution: int = 96
    paint: Paint = "outcome"
    diagram_clip: ClipMode = "norm"


def sweep_from_query(query: Mapping[str, object]) -> tuple[SweepView, list[str]]:
    """Reads a SweepView from URL query parameters (never raises; notices as from_query).

    The Sweeps page maps exact float64 descents: the Explorer's teaching toggles
    (float32, gradient noise) are not carried over, nor AdamW's decay (the maps run
    AdamW at its default decay)."""
    explorer, notices = from_query(query)
    explorer = replace(explorer, dtype="float64", noise=None, weight_decay=DEFAULT_WEIGHT_DECAY)
    read = QueryReader(query)
    raw_res = read.get("res")
    resolution = SweepView.resolution
    if raw_res is not None:
        value = read.number("res", "Resolution", SWEEP_RESOLUTIONS[0], SWEEP_RESOLUTIONS[-1], resolution)
        resolution = min(SWEEP_RESOLUTIONS, key=lambda r: abs(r - value))
        if resolution != value and not read.notices:
            read.notices.append(f"Resolution {raw_res} is not offered; using {resolution}.")
    view = SweepView(
        explorer=explorer,
        resolution=resolution,
        paint=read.choice("paint", "quantity to paint", SWEEP_PAINTS, SweepView.paint),
        diagram_clip=read.choice("dclip", "diagram clipping mode", diagram_clips(), "norm"),
    )
    return view, notices + read.notices


def sweep_to_query(view: SweepView) -> dict[str, str]:
    query = {k: v for k, v in to_query(view.explorer).items() if k not in ("scrub", "dtype", "noise", "wd")}
    query.update(res=str(view.resolution), paint=view.paint, dclip=view.diagram_clip)
    return query


# ---------------------------------------------------------------------------
# Settings <-> widget values (pure: the pages' ui.PageState lays these into prefixed keys).

#: A widget's value by name: whatever Streamlit's session state holds (typed Any there too).
WidgetGet = Callable[[str], Any]


def widget_choice(value: object, choices: tuple[Choice, ...], fallback: Choice) -> Choice:
    """A choice widget's value as one of its ``choices`` (the widget offers nothing else)."""
    for choice in choices:
        if value == choice:
            return choice
    return fallback


def explorer_widget_values(config: ExplorerConfig) -> dict[str, object]:
    """The Explorer's widgets showing ``config``, by widget name."""
    values: dict[str, object] = {
        "landscape": config.landscape,
        "start_x": float(config.start[0]),
        "start_y": float(config.start[1]),
        "lr": config.lr,
        "c": config.threshold,
        "steps": config.steps,
        "opt": config.optimizer,
        "view3d": config.view3d,
        "present": config.present,
        "scrub": config.scrub or None,
        "predict": config.predict,
        "float32": config.dtype == "float32",
        "noise_on": config.noise is not None,
        "wd": config.weight_decay,
    }
    noise = dict(config.noise) if config.noise is not None else NOISE_WIDGET_DEFAULTS
    for name in NOISE_SETTINGS:
        values[f"noise_{name}"] = int(noise[name]) if name == "seed" else float(noise[name])
    values.update({f"p_{config.landscape}_{name}": value for name, value in config.params.items()})
    values["paths"] = list(config.paths)
    for mode in config.paths:
        settings = config.settings_of(mode)
        for option in rule_settings(mode):
            value = settings.get(option.name)
            # Whole-number options are int widgets (a number input refuses mixed int and float).
            values[f"o_{mode}_{option.name}"] = (
                None if value is None else int(value) if option.integer else float(value)
            )
    return values


def rule_widget_options(get: WidgetGet, paths: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """The rule settings the option widgets show (a widget not drawn yet keeps the default)."""
    chosen: dict[str, dict[str, float]] = {}
    for mode in paths:
        values = {}
        for option in rule_settings(mode):
            value = get(f"o_{mode}_{option.name}")
            if value is not None:
                values[option.name] = float(value)
        chosen[mode] = values
    return chosen


def explorer_from_widget_values(get: WidgetGet) -> ExplorerConfig:
    """The ExplorerConfig the widgets show (``get(name)`` is a widget's value)."""
    name = str(get("landscape"))
    scape = get_landscape(name)
    wanted = set(get("paths") or ())
    paths = tuple(mode for mode in path_modes() if mode in wanted)[:MAX_PATHS]
    return ExplorerConfig(
        landscape=name,
        params={spec.name: float(get(f"p_{name}_{spec.name}")) for spec in scape.params},
        start=(float(get("start_x")), float(get("start_y"))),
        lr=float(get("lr")),
        threshold=float(get("c")),
        steps=int(get("steps")),
        optimizer=optimizer_name(get("opt")),
        paths=paths,
        rule_options=rule_widget_options(get, paths),
        view3d=bool(get("view3d")),
        present=bool(get("present")),
        scrub=widget_choice(get("scrub") or "", SCRUB_CHOICES, ""),
        predict=bool(get("predict")),
        dtype="float32" if get("float32") else "float64",
        noise=noise_from_widget_values(get),
        weight_decay=weight_decay_from_widget(get("wd")),
    )


def weight_decay_from_widget(value: object) -> float:
    """The decay widget's value (the default while it is not drawn, or if it holds a bad value)."""
    try:
        decay = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_WEIGHT_DECAY
    low, high = WEIGHT_DECAY_RANGE
    return decay if low <= decay <= high else DEFAULT_WEIGHT_DECAY


def noise_from_widget_values(get: WidgetGet) -> Params | None:
    """The noise the noise controls show (None while they are switched off)."""
    if not get("noise_on"):
        return None
    values = {}
    for name in NOISE_SETTINGS:
        value = get(f"noise_{name}")
        values[name] = float(NOISE_WIDGET_DEFAULTS[name] if value is None else value)
    try:
        return canonical_noise(values)
    except ValueError:  # the widgets' bounds keep values valid; never let one break the page
        return canonical_noise(NOISE_WIDGET_DEFAULTS)


def sweep_widget_values(view: SweepView) -> dict[str, object]:
    """The Sweeps page's widgets showing ``view`` (the descent widgets as the Explorer names them)."""
    e = view.explorer
    values: dict[str, object] = {
        "landscape": e.landscape,
        "lr": e.lr,
        "c": e.threshold,
        "steps": e.steps,
        "opt": e.optimizer,
        "res": view.resolution,
        "paint": view.paint,
        "dclip": view.diagram_clip,
        "paths": list(e.paths),
    }
    values.update({f"p_{e.landscape}_{name}": value for name, value in e.params.items()})
    return values


def sweep_from_widget_values(get: WidgetGet, base: ExplorerConfig) -> SweepView:
    """The SweepView the widgets show; settings the page has no widget for come from ``base``."""
    name = str(get("landscape"))
    scape = get_landscape(name)
    explorer = replace(
        base.with_landscape(name) if base.landscape != name else base,
        dtype="float64",  # the Sweeps page maps exact descents (see sweep_from_query)
        noise=None,
        weight_decay=DEFAULT_WEIGHT_DECAY,
        params={spec.name: float(get(f"p_{name}_{spec.name}")) for spec in scape.params},
        lr=float(get("lr")),
        threshold=float(get("c")),
        steps=int(get("steps")),
        optimizer=optimizer_name(get("opt")),
    )
    wanted = set(get("paths") or ())
    paths = tuple(mode for mode in path_modes() if mode in wanted)[:MAX_PATHS]
    # A rule keeps the settings it has (from the link or the Explorer); one just added, its defaults.
    explorer = replace(explorer, paths=paths, rule_options=dict(explorer.rule_options))
    return SweepView(
        explorer=explorer,
        resolution=int(get("res")),
        paint=widget_choice(get("paint"), SWEEP_PAINTS, SweepView.paint),
        diagram_clip=widget_choice(get("dclip") or "norm", diagram_clips(), "norm"),
    )


def rnn_widget_values(view: RnnView) -> dict[str, object]:
    return {"w": view.w, "b": view.b, "T": view.T}


def rnn_from_widget_values(get: WidgetGet) -> RnnView:
    return RnnView(w=float(get("w")), b=float(get("b")), T=int(get("T")))


def presentation_from_query(query: Mapping[str, object]) -> tuple[bool, list[str]]:
    """Whether a page without its own settings (Learn) opens in presentation mode (``present=1``).

    >>> presentation_from_query({"present": "1"})
    (True, [])
    >>> presentation_from_query({"present": "maybe"})
    (False, ["present='maybe' is not on/off; treating it as off."])
    """
    read = QueryReader(query)
    return read.flag("present"), read.notices
