"""What the Explorer's map component (ui/cliffs_map.js) is sent for one view: pure data, no Streamlit.

The map lets the learner drag the learning rate and the threshold c with no
server round trip. For that it gets, besides the runs of the view itself, a
*cross* of runs around the current point: every value of the learning-rate
slider at the current c, and every value of the c slider at the current
learning rate, for each visible rule. Each rule's cross is one batched call
(``simulate_many`` broadcasts the two value lists against each other), and the
paths travel as float32 bytes in base64 (only the steps shown), so a view at
the default settings costs about 0.2 MB and one at 1000 steps under 3 MB.

Layout of one rule's entry (``payload["paths"][i]``):

- ``points``: base64 of float32 ``(runs, steps + 1, 2)``, C order: run r's point k is
  ``(x, y)`` at offset ``(r * (steps + 1) + k) * 2``; a run that stopped early
  (diverged) is padded with NaN after its last point;
- ``lengths``: each run's number of points;
- ``clipped``: base64 of ``numpy.packbits`` of the bool ``(runs, steps)`` array (bit
  ``r * steps + k`` set when clipping changed step k of run r; big-endian bit order),
  or "" for a rule that never clips;
- ``lr_runs[i]``: the run at learning rate ``lr_values[i]`` and the current c;
  ``c_runs[j]``: the run at the current learning rate and ``c_values[j]`` (a rule that
  c does not touch has the same run for every j).
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from ..core.clipping import CLIP_SPECS
from ..core.engine import ClipMode, Trajectory, simulate_many
from ..core.registry import Window
from ..core.validation import MAX_STEPS
from .config import LR_CHOICES, THRESHOLD_CHOICES, ExplorerConfig, own_threshold

#: Where the sizes the issue allows are checked (tests/test_map_payload.py).
MAX_BYTES_DEFAULT = 1_000_000
MAX_BYTES_LONG = 3_000_000


def uses_c(mode: str) -> bool:
    """Whether the c slider changes rule ``mode``'s path."""
    return CLIP_SPECS[mode].uses_threshold and not own_threshold(mode)


def slider_values(grid: Sequence[float], current: float) -> tuple[tuple[float, ...], int]:
    """The slider's values and the index of the current one: the grid, with the grid
    value nearest the current one replaced by it when it is off the grid (a cross
    always passes through the view's own run)."""
    values = list(grid)
    index = min(range(len(values)), key=lambda i: abs(math.log(values[i]) - math.log(current)))
    values[index] = float(current)
    return tuple(values), index


@dataclass(frozen=True)
class MapCross:
    """The cross of runs around one view, per visible rule."""

    config: ExplorerConfig
    lr_values: tuple[float, ...]
    lr_index: int
    c_values: tuple[float, ...]
    c_index: int
    runs: dict[str, list[Trajectory]]  # mode -> its runs (see lr_runs / c_runs), >= config.steps long
    lr_runs: dict[str, list[int]]
    c_runs: dict[str, list[int]]

    def run_at(self, mode: str, lr_index: int | None = None, c_index: int | None = None) -> Trajectory:
        """Rule ``mode``'s run at slider positions (None: the current one; one of them must be)."""
        if lr_index is not None and lr_index != self.lr_index:
            return self.runs[mode][self.lr_runs[mode][lr_index]]
        j = self.c_index if c_index is None else c_index
        return self.runs[mode][self.c_runs[mode][j]]


#: Computes one arm of a cross: ``(config, mode, arm, values) -> runs`` (a page may cache it).
ArmRunner = Callable[[ExplorerConfig, str, str, tuple[float, ...]], list[Trajectory]]


#: Arms are computed for the first of these step counts that is at least the view's: a run of
#: fewer steps is a prefix of a longer one, so every step count up to it reuses the runs already
#: computed (the default 60 and every count up to 100 share one cross). An arm of 100 steps costs
#: what one of 60 does (measured: about 12 ms for 45 runs at either count).
ARM_STEPS = (100, 200, 300, 500, MAX_STEPS)
#: Pixels per side of the map's background loss image (every page that draws the map).
IMAGE_RESOLUTION = 200


def arm_steps(steps: int) -> int:
    """The step count an arm is computed for: the first of ARM_STEPS that is at least ``steps``."""
    return next((n for n in ARM_STEPS if n >= steps), int(steps))


def arm_config(config: ExplorerConfig, mode: str, arm: str) -> ExplorerConfig:
    """The settings one arm depends on: ``config`` with the swept setting (``arm``: "lr" or "c")
    set to a placeholder, the threshold too for a rule c does not touch, the steps rounded up
    (``arm_steps``) and the view-only fields at their defaults. Two views with the same arm
    config share that arm's runs (after a c commit, the new view's c arm is the old one)."""
    settings = replace(
        config,
        paths=(mode,),
        steps=arm_steps(config.steps),
        present=False,
        predict=False,
        view3d=False,
        scrub="",
    )
    if arm == "lr":
        settings = replace(settings, lr=1.0)
    if arm == "c" or not uses_c(mode):
        settings = replace(settings, threshold=1.0)
    return settings


def arm_runs(config: ExplorerConfig, mode: str, arm: str, values: tuple[float, ...]) -> list[Trajectory]:
    """Rule ``mode``'s runs at every value of one slider (``arm``: "lr" or "c"), the other
    settings from ``config``: one batched ``simulate_many``."""
    lrs = np.asarray(values if arm == "lr" else [config.lr] * len(values), dtype=float)
    cs = np.asarray(values if arm == "c" else [config.threshold_of(mode)] * len(values), dtype=float)
    return simulate_many(
        config.landscape,
        np.asarray(config.start),
        lrs,
        cs,
        config.steps,
        clip=cast(ClipMode, mode),
        optimizer=config.optimizer,
        clip_options=config.clip_options_of(mode),
        optimizer_options=config.optimizer_options,
        dtype=config.dtype,
        noise=config.noise_settings,
        **config.params,
    )


def shared_arm_runs(
    config: ExplorerConfig, mode: str, arm: str, values: tuple[float, ...]
) -> list[Trajectory]:
    """``arm_runs`` from the arm's own settings (``arm_config``): what a cache keyed on them holds.
    Its runs may be longer than ``config.steps``; the payload sends only the steps shown."""
    return arm_runs(arm_config(config, mode, arm), mode, arm, values)


#: How many arms ``cached_arm_runs`` keeps (each a few hundred kB at most): a view has up to
#: ten, and going back and forth between a few views finds them all.
ARM_CACHE_SIZE = 96


@functools.lru_cache(maxsize=ARM_CACHE_SIZE)
def _cached_arm(
    settings: ExplorerConfig, mode: str, arm: str, values: tuple[float, ...]
) -> tuple[Trajectory, ...]:
    return tuple(arm_runs(settings, mode, arm, values))


def cached_arm_runs(
    config: ExplorerConfig, mode: str, arm: str, values: tuple[float, ...]
) -> list[Trajectory]:
    """``shared_arm_runs``, cached in this process on the arm's own settings: after a commit of
    c the new view's c arm is the old view's, and only the learning-rate arm is computed.

    A plain LRU cache keyed on the (hashable, frozen) settings: a hit costs about 25 µs. Streamlit's
    ``st.cache_resource`` hashes its arguments its own way, about 0.9 ms a call in the server, and
    a view reads up to ten arms on every rerun. The runs are shared, not copied, as
    ``st.cache_resource`` shared them (a ``Trajectory`` is frozen and nothing writes to its arrays)."""
    return list(_cached_arm(arm_config(config, mode, arm), mode, arm, values))


def compute_cross(
    config: ExplorerConfig, modes: Sequence[str] | None = None, arm: ArmRunner = arm_runs
) -> MapCross:
    """Every learning rate at the current c and every c at the current learning rate, for
    each rule in ``modes`` (default: the visible ones): one batched call per rule and arm
    (a rule c does not touch has only the learning-rate arm)."""
    lr_values, i0 = slider_values(LR_CHOICES, config.lr)
    c_values, j0 = slider_values(THRESHOLD_CHOICES, config.threshold)
    runs: dict[str, list[Trajectory]] = {}
    lr_runs: dict[str, list[int]] = {}
    c_runs: dict[str, list[int]] = {}
    n = len(lr_values)
    for mode in config.paths if modes is None else modes:
        runs[mode] = list(arm(config, mode, "lr", lr_values))
        lr_runs[mode] = list(range(n))
        if uses_c(mode):
            runs[mode] += arm(config, mode, "c", c_values)
            c_runs[mode] = [n + j for j in range(len(c_values))]
        else:
            c_runs[mode] = [i0] * len(c_values)
    return MapCross(config, lr_values, i0, c_values, j0, runs, lr_runs, c_runs)


def view_runs(
    config: ExplorerConfig, modes: Sequence[str], arm: ArmRunner = arm_runs, first: str = "c"
) -> dict[str, Trajectory]:
    """Each rule's run at the view's own point, read from the arms of its cross and cut to
    ``config.steps``: the very runs the map draws at the sliders' positions, so the table, the
    narration and the map show the same numbers (a separately compiled program agrees only to
    the last bit, and near a wall a long run magnifies that). With a cache as ``arm``, no run
    is computed twice.

    ``first`` is the arm read for a rule the c slider moves: after a commit of one slider, that
    slider's arm is the one the cache holds ("c" after a c commit, "lr" after a learning-rate
    one), so the view's runs are ready before the cross's other arm is computed.
    """
    if first not in ("c", "lr"):
        raise ValueError(f"first must be 'c' or 'lr', got {first!r}")
    lr_values, i0 = slider_values(LR_CHOICES, config.lr)
    c_values, j0 = slider_values(THRESHOLD_CHOICES, config.threshold)
    out = {}
    for mode in modes:
        if first == "c" and uses_c(mode):
            run = arm(config, mode, "c", c_values)[j0]
        else:
            run = arm(config, mode, "lr", lr_values)[i0]
        # An arm runs for arm_steps(steps), its threshold a placeholder where c does not touch the rule.
        out[mode] = replace(run.prefix(config.steps), threshold=config.threshold_of(mode))
    return out


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def pack_points(runs: Sequence[Trajectory], steps: int) -> tuple[str, list[int]]:
    """The runs' points as base64 float32 ``(runs, steps + 1, 2)``, NaN after each run's end."""
    block = np.full((len(runs), steps + 1, 2), np.nan, dtype=np.float32)
    lengths = []
    with np.errstate(over="ignore"):  # a huge float64 becomes inf: the map shows it as off the map
        for r, run in enumerate(runs):
            k = min(len(run.params), steps + 1)
            block[r, :k] = run.params[:k]  # float64 -> float32 on assignment
            lengths.append(k)
    return _b64(block.tobytes()), lengths


def pack_clipped(runs: Sequence[Trajectory], steps: int) -> str:
    """Which steps were clipped, one bit each (``numpy.packbits`` of ``(runs, steps)``)."""
    flags = np.zeros((len(runs), steps), dtype=bool)
    for r, run in enumerate(runs):
        k = min(len(run.clipped), steps)
        flags[r, :k] = np.asarray(run.clipped[:k], dtype=bool)
    return _b64(np.packbits(flags.ravel()).tobytes()) if flags.any() else ""


def unpack_points(entry: Mapping[str, Any], steps: int) -> np.ndarray:
    """The inverse of ``pack_points`` (for tests and notebooks): float32 ``(runs, steps + 1, 2)``."""
    raw = base64.b64decode(entry["points"])
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, steps + 1, 2)


def unpack_clipped(entry: Mapping[str, Any], steps: int) -> np.ndarray:
    """The inverse of ``pack_clipped``: bool ``(runs, steps)``."""
    runs = len(entry["lengths"])
    if not entry["clipped"]:
        return np.zeros((runs, steps), dtype=bool)
    bits = np.unpackbits(np.frombuffer(base64.b64decode(entry["clipped"]), dtype=np.uint8))
    return bits[: runs * steps].astype(bool).reshape(runs, steps)


def decade_ticks(zmin: float, zmax: float) -> list[tuple[float, str]]:
    """Colour-bar ticks at whole decades of log10(loss) inside [zmin, zmax], in loss units."""
    low, high = math.ceil(zmin), math.floor(zmax)
    step = max(1, math.ceil((high - low) / 6))
    names = {0: "1", 1: "10", -1: "0.1", 2: "100"}
    return [(float(v), names.get(v, f"1e{v}")) for v in range(low, high + 1, step)]


def _fmt(value: float) -> str:
    return f"{value:g}"


def map_payload(
    cross: MapCross,
    *,
    window: Window,
    axis_labels: tuple[str, str],
    walls: Sequence[np.ndarray],
    image: tuple[str, float, float],
    guess: tuple[float, float] | None = None,
    present: bool = False,
    hidden: Sequence[str] = (),
    wall_color: str = "#CC79A7",
    colour_scale: Sequence[Sequence[Any]] = ((0.0, "#ffffff"), (1.0, "#857b69")),
    height: int = 620,
) -> dict[str, Any]:
    """The JSON the map component draws: the view's settings, the background, the walls and
    each rule's cross of runs (see the module docstring for the layout).

    ``hidden`` rules (the predict game's unclipped path before the guess) are not sent at all.
    """
    config = cross.config
    steps = int(config.steps)
    uri, zmin, zmax = image
    (x0, x1), (y0, y1) = window
    paths = []
    for mode, runs in cross.runs.items():
        if mode in hidden:
            continue
        spec = CLIP_SPECS[mode]
        points, lengths = pack_points(runs, steps)
        paths.append(
            {
                "mode": mode,
                "label": spec.label,
                "color": spec.color,
                "dash": spec.dash,
                "marker": spec.marker,
                "uses_c": uses_c(mode),
                "points": points,
                "lengths": lengths,
                "clipped": pack_clipped(runs, steps) if mode != "none" else "",
                "lr_runs": cross.lr_runs[mode],
                "c_runs": cross.c_runs[mode],
            }
        )
    return {
        "version": 1,
        "steps": steps,
        "window": [[float(x0), float(x1)], [float(y0), float(y1)]],
        "axis_labels": list(axis_labels),
        "start": [float(config.start[0]), float(config.start[1])],
        "image": uri,
        "colour_range": [float(zmin), float(zmax)],
        "colour_scale": [[float(stop), str(colour)] for stop, colour in colour_scale],
        "colour_ticks": [[v, t] for v, t in decade_ticks(zmin, zmax)],
        "wall_color": wall_color,
        "walls": [
            [[float(x), float(y)] for x, y in np.asarray(wall)[:: max(1, len(wall) // 200)]] for wall in walls
        ],
        "lr_values": list(cross.lr_values),
        "lr_labels": [_fmt(v) for v in cross.lr_values],
        "lr_index": cross.lr_index,
        "c_values": list(cross.c_values),
        "c_labels": [_fmt(v) for v in cross.c_values],
        "c_index": cross.c_index,
        "paths": paths,
        "guess": None if guess is None else [float(guess[0]), float(guess[1])],
        "present": bool(present),
        "height": int(height),
        # Changes with every view: the component draws a new view once, and only once.
        "view": "|".join(
            (
                config.landscape,
                repr(tuple(config.params.items())),
                repr(config.start),
                repr(config.lr),
                repr(config.threshold),
                str(steps),
                str(config.optimizer),
                repr(config.weight_decay),
                config.dtype,
                repr(config.noise),
                ",".join(p["mode"] for p in paths),
                repr(config.rule_options),
                repr(guess),
            )
        ),
    }


def payload_bytes(payload: Mapping[str, Any]) -> int:
    """The size of the payload as sent (its JSON), in bytes."""
    import json

    return len(json.dumps(payload).encode("utf-8"))


def take_away(result: Any) -> str:
    """One sentence for presentation mode: how each shown path ends, from the runs themselves
    (the summary table's outcome phrases), e.g. "At learning rate 0.5 and c = 1: no clipping is
    thrown off the map at step 4, value clipping is stuck or crawling, norm clipping trains."."""
    from .explorer import outcome, tolerance_of

    config = result.config
    tolerance = tolerance_of(config)
    parts = [
        f"{CLIP_SPECS[mode].label} {_verb(outcome(run, result.window, tolerance))}"
        for mode, run in result.visible().items()
    ]
    if not parts:
        return "All paths are switched off."
    head = f"At learning rate {config.lr:g} and c = {config.threshold:g}, after {config.steps} steps: "
    return head + ", ".join(parts) + "."


def _verb(phrase: str) -> str:
    """ "trains" / "diverged at step 3" / "thrown off the map at step 4" as a predicate."""
    if phrase.startswith(("trains", "diverged")):
        return phrase
    return f"is {phrase}"


def view_points(payload: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Each rule's run of the view itself (the cross's centre), float32 ``(points, 2)``: what the
    map draws before a slider is moved."""
    steps = int(payload["steps"])
    out = {}
    for e in payload["paths"]:
        r = e["c_runs"][payload["c_index"]]
        out[e["mode"]] = unpack_points(e, steps)[r, : e["lengths"][r]]
    return out
