"""The Learn page's demonstrations, as plain computations.

- ``placement_demos``: one training loop run with the clipping call in three
  places (the right one and two classic mistakes), plus the unclipped loop.
- ``threshold_advice``: Pascanu et al.'s rule of thumb for the threshold,
  read off the gradient norms of a run; ``check_band`` runs the band's edges.
- ``clip_comparison``: what value and norm clipping do to one 2-D gradient,
  including the angle by which value clipping turns it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import numpy as np
from jax.typing import ArrayLike

from ..core import _jaxsetup  # noqa: F401  (float64 on)
from ..core.clipping import CLIP_RULES, check_clip
from ..core.engine import Trajectory, simulate, value_and_grad_fn
from ..core.optimizers import OptimizerName
from ..core.outcomes import OUTCOME_LABELS, OUTCOMES, classify, train_tolerance
from ..core.registry import Landscape, Window, get_landscape

#: A point (p1, p2): a pair of numbers or an array (jax's ArrayLike leaves out tuples and lists).
Point = ArrayLike | Sequence[float]

# ---------------------------------------------------------------------------
# Where clipping belongs in a training loop.


@dataclass(frozen=True)
class LoopOrder:
    """One arrangement of the calls in a PyTorch-style training step.

    Attributes:
      name: a short key (``"correct"``, ``"after_step"``, ...).
      title: a heading for the learner.
      operations: the calls in order, from ``zero_grad``, ``backward``,
        ``clip`` and ``step``.
      code: the loop body as PyTorch code, for display.
      verdict: one or two sentences on what this order does.
    """

    name: str
    title: str
    operations: tuple[str, ...]
    code: str
    verdict: str


_CALLS = {
    "zero_grad": "optimizer.zero_grad()",
    "backward": "loss = loss_fn(model(inputs), targets)\n    loss.backward()",
    "clip": "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=c)",
    "step": "optimizer.step()",
}
_NOTES = {
    ("correct", "clip"): "  # after backward(), before step()",
    ("after_step", "clip"): "  # too late: the step has been taken",
    ("after_zero_grad", "clip"): "  # too early: no gradient yet (None, or zeros)",
}


def _loop_code(name: str, operations: tuple[str, ...]) -> str:
    lines = ["for inputs, targets in loader:"]
    for op in operations:
        lines.append("    " + _CALLS[op] + _NOTES.get((name, op), ""))
    return "\n".join(lines)


def _order(name: str, title: str, operations: tuple[str, ...], verdict: str) -> LoopOrder:
    return LoopOrder(name, title, operations, _loop_code(name, operations), verdict)


#: The four loops the demo runs, in display order.
LOOP_ORDERS: dict[str, LoopOrder] = {
    order.name: order
    for order in (
        _order(
            "unclipped",
            "No clipping",
            ("zero_grad", "backward", "step"),
            "The reference: plain gradient descent, nothing limits the step.",
        ),
        _order(
            "correct",
            "Clip after backward(), before step()",
            ("zero_grad", "backward", "clip", "step"),
            "backward() fills the gradients, clipping shrinks them in place, and step() "
            "uses the shrunken values. This is the only order in which clipping changes "
            "the update.",
        ),
        _order(
            "after_step",
            "Clip after step()",
            ("zero_grad", "backward", "step", "clip"),
            "step() has already moved the weights with the raw gradient. Clipping then "
            "edits gradients that nobody reads: the next zero_grad() wipes them. Every "
            "update equals the unclipped one.",
        ),
        _order(
            "after_zero_grad",
            "Clip right after zero_grad()",
            ("zero_grad", "clip", "backward", "step"),
            "When the clip runs there is no gradient to clip: with zero_grad()'s default "
            "set_to_none=True every .grad is None and clip_grad_norm_ skips it; with "
            "set_to_none=False it is a zero tensor, which is never clipped. backward() "
            "then writes the raw gradient and step() uses it unchanged: again identical "
            "to no clipping.",
        ),
    )
}


@dataclass(frozen=True)
class PlacementDemo:
    """A training loop run in one order.

    Attributes:
      order: the LoopOrder that was run.
      trajectory: the path, as the engine reports paths (``clipped`` says
        whether the update actually used a clipped gradient).
      clip_fired: (k,) whether the clip call changed the gradient buffer at
        that iteration, whatever happened to the result.
    """

    order: LoopOrder
    trajectory: Trajectory
    clip_fired: np.ndarray


@partial(jax.jit, static_argnames=("landscape",))
def _loss_and_grad(theta, p, *, landscape):
    return value_and_grad_fn(get_landscape(landscape))(theta, p)


@partial(jax.jit, static_argnames=("mode",))
def _clip(g, c, *, mode):
    return CLIP_RULES[mode](g, c)


def _run_loop(
    order: LoopOrder,
    scape: Landscape,
    values: dict[str, float],
    start: np.ndarray,
    lr: float,
    threshold: float,
    steps: int,
    clip: str,
) -> PlacementDemo:
    p = scape.param_vector(values)

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = _loss_and_grad(theta, p, landscape=scape.name)
        return float(loss), np.asarray(grad)

    theta = start.copy()
    buffer = np.zeros(2)  # what torch keeps in each parameter's .grad
    first_loss, _ = evaluate(theta)
    points, losses = [theta.copy()], [first_loss]
    grads, updates, used_clipped, fired = [], [], [], []
    reason = f"completed all {steps} steps"
    for i in range(steps):
        raw = None
        changed = False
        update = None
        for op in order.operations:
            if op == "zero_grad":
                buffer = np.zeros(2)
            elif op == "backward":
                _, raw = evaluate(theta)
                buffer = buffer + raw  # torch accumulates into .grad
            elif op == "clip":
                clipped = np.asarray(_clip(buffer, np.float64(threshold), mode=clip))
                changed = bool(np.any(clipped != buffer))
                buffer = clipped
            elif op == "step":
                # optax.sgd's arithmetic: update = g * (-lr), then theta + update.
                update = buffer * -lr
                used = buffer.copy()
                theta = theta + update
        assert raw is not None and update is not None
        if not (np.all(np.isfinite(raw)) and np.all(np.isfinite(theta))):
            reason = f"diverged at step {i}: a gradient or the parameters stopped being finite"
            break
        loss, _ = evaluate(theta)
        if not math.isfinite(loss):
            reason = f"diverged at step {i}: the loss at the point the step reached is not finite"
            break
        grads.append(raw)
        updates.append(update)
        used_clipped.append(bool(np.any(used != raw)))
        fired.append(changed)
        points.append(theta.copy())
        losses.append(loss)
    grad = np.array(grads).reshape(-1, 2)
    k = len(updates)
    trajectory = Trajectory(
        params=np.array(points),
        loss=np.array(losses),
        grad=grad,
        update=np.array(updates).reshape(-1, 2),
        grad_norm=np.sqrt(grad[:, 0] ** 2 + grad[:, 1] ** 2),
        clipped=np.array(used_clipped, dtype=bool),
        diverged_at=None if k == steps else k,
        reason=reason,
        landscape=scape.name,
        lr=lr,
        clip=clip if "clip" in order.operations else "none",
        threshold=threshold,
        optimizer="sgd",
        landscape_params=values,
        steps_requested=steps,
    )
    return PlacementDemo(order=order, trajectory=trajectory, clip_fired=np.array(fired, dtype=bool))


def placement_demos(
    landscape: str | Landscape = "pascanu",
    start: Point = (4.7, -2.2),
    lr: float = 0.5,
    threshold: float = 1.0,
    steps: int = 30,
    clip: str = "norm",
    **params: float,
) -> dict[str, PlacementDemo]:
    """Runs the same training loop with the clip call in each place of ``LOOP_ORDERS``.

    The loop mimics PyTorch: ``zero_grad`` clears a gradient buffer,
    ``backward`` adds the gradient to it, ``clip`` rewrites it in place and
    ``step`` applies plain gradient descent with what is in it. From the
    catapult start on the Pascanu RNN the unclipped step 3 throws the weights
    onto a dead plateau; clipping in the right place prevents that, and the two
    misplaced clips reproduce the unclipped run number for number.

    Args:
      landscape: a registered name or a Landscape.
      start: the starting point.
      lr: the learning rate (plain gradient descent).
      threshold: the clipping threshold c.
      steps: the number of training steps, 1 to 1000.
      clip: ``"norm"`` (what clip_grad_norm_ does) or ``"value"``.
      **params: the landscape's own parameters (e.g. ``T=50``).

    Returns:
      {order name: PlacementDemo}, in the order of ``LOOP_ORDERS``.
    """
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    if clip not in ("norm", "value"):
        raise ValueError(f"clip must be 'norm' or 'value' for this demo, got {clip!r}")
    threshold = check_clip(clip, threshold)
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be finite and positive, got {lr!r}")
    try:
        whole = int(steps)
    except (TypeError, ValueError):
        whole = None
    if isinstance(steps, bool) or whole is None or whole != steps or not 1 <= whole <= 1000:
        raise ValueError(f"steps must be a whole number in [1, 1000], got {steps!r}")
    point = np.asarray(start, dtype=np.float64)
    if point.shape != (2,) or not np.all(np.isfinite(point)):
        raise ValueError(f"start must be two finite numbers, got {start!r}")
    return {
        name: _run_loop(order, scape, values, point, lr, threshold, whole, clip)
        for name, order in LOOP_ORDERS.items()
    }


# ---------------------------------------------------------------------------
# Choosing a threshold.

#: Pascanu et al. (2013): in their experience thresholds from half to ten
#: times the average gradient norm could still converge, though perhaps more
#: slowly. A heuristic, not a guarantee (see ``check_band``).
ADVICE_LOW, ADVICE_HIGH = 0.5, 10.0


@dataclass(frozen=True)
class ThresholdAdvice:
    """The gradient norms of a run and the threshold band they suggest.

    Attributes:
      norms: (k,) the raw gradient norms, one per step.
      mean_norm: their average.
      median_norm: their median (a single spike moves the mean, not this).
      low, high: ``ADVICE_LOW`` and ``ADVICE_HIGH`` times the average: the band
        of thresholds Pascanu et al. report could still converge.
    """

    norms: np.ndarray
    mean_norm: float
    median_norm: float
    low: float
    high: float

    @property
    def n_steps(self) -> int:
        return int(self.norms.size)

    def clip_fraction(self, threshold: float) -> float:
        """The share of this run's steps that norm clipping at ``threshold`` would shorten."""
        return float(np.mean(self.norms > threshold))

    def contains(self, threshold: float) -> bool:
        """Whether ``threshold`` lies inside the suggested band."""
        return self.low <= threshold <= self.high


def threshold_advice(run: Trajectory | Sequence[float] | np.ndarray) -> ThresholdAdvice:
    """Pascanu et al.'s heuristic: a threshold of 0.5 to 10 times the average gradient norm.

    Args:
      run: a Trajectory (its raw ``grad_norm`` is used) or the norms themselves.

    Returns:
      A ThresholdAdvice.

    Raises:
      ValueError: if there are no norms, or some are negative or not finite.

    >>> advice = threshold_advice([1.0, 2.0, 3.0])
    >>> advice.mean_norm, advice.low, advice.high
    (2.0, 1.0, 20.0)
    """
    norms = np.asarray(run.grad_norm if isinstance(run, Trajectory) else run, dtype=np.float64).reshape(-1)
    if norms.size == 0:
        raise ValueError("the run took no steps: there are no gradient norms to average")
    if not np.all(np.isfinite(norms)) or np.any(norms < 0):
        raise ValueError("gradient norms must be finite and non-negative")
    mean = float(norms.mean())
    return ThresholdAdvice(
        norms=norms,
        mean_norm=mean,
        median_norm=float(np.median(norms)),
        low=ADVICE_LOW * mean,
        high=ADVICE_HIGH * mean,
    )


@dataclass(frozen=True)
class BandRun:
    """One norm-clipped run at a threshold from Pascanu's band.

    Attributes:
      threshold: its c.
      trajectory: the run.
      outcome: its class, one of ``sweeps.OUTCOMES``, decided as the Sweeps
        page decides it (``sweeps.classify``, same tolerance and window).
      left_at: the first step outside the window, or None.
    """

    threshold: float
    trajectory: Trajectory
    outcome: str
    left_at: int | None

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


@dataclass(frozen=True)
class BandCheck:
    """Pascanu's band read off one run, and what its edges do on that same run.

    Attributes:
      advice: the band, from the norms of ``run``.
      run: the run the norms come from (norm clipping at the learner's c).
      bottom, top: the same descent, norm-clipped at ``advice.low`` and
        ``advice.high``.
      tolerance: the loss at or below which a run counts as trained.
      window: the box a path must stay in not to count as thrown.
    """

    advice: ThresholdAdvice
    run: Trajectory
    bottom: BandRun
    top: BandRun
    tolerance: float
    window: Window


def _band_run(scape: Landscape, start, lr, steps, threshold, optimizer, values, tolerance, window) -> BandRun:
    run = simulate(scape, start, lr, steps, "norm", threshold, optimizer, **values)
    left = run.left_window_at(window)
    code = classify(
        np.array([run.final_loss]),
        np.array([-1 if run.diverged_at is None else run.diverged_at]),
        np.array([-1 if left is None else left]),
        tolerance,
    )[0]
    return BandRun(threshold=float(threshold), trajectory=run, outcome=OUTCOMES[code], left_at=left)


def check_band(
    landscape: str | Landscape = "pascanu",
    start: Point | None = (4.7, -2.2),
    lr: float = 0.5,
    steps: int = 60,
    threshold: float = 1.0,
    optimizer: OptimizerName = "sgd",
    **params: float,
) -> BandCheck:
    """Pascanu's threshold band for one descent, and whether its edges train there.

    Runs the descent with norm clipping at ``threshold``, reads the band (half
    to ten times the average gradient norm) off that run, and runs it again
    with c at the bottom and at the top of the band. The defaults are the
    Explorer's default run, where the bottom trains and the top is thrown.

    Raises:
      ValueError: for bad settings (as ``simulate``), or a run with no steps.
    """
    scape = get_landscape(landscape)
    values: dict[str, Any] = scape.resolve_params(**params)  # floats; Any so they splat past `dtype`
    window = scape.window
    tolerance = train_tolerance(scape, **values)
    start = None if start is None else np.asarray(start)
    run = simulate(scape, start, lr, steps, "norm", threshold, optimizer, **values)
    advice = threshold_advice(run)
    if advice.mean_norm <= 0:
        raise ValueError("every gradient of the run is zero: there is no average to build a band on")
    edges = (
        _band_run(scape, start, lr, steps, c, optimizer, values, tolerance, window)
        for c in (advice.low, advice.high)
    )
    bottom, top = edges
    return BandCheck(advice=advice, run=run, bottom=bottom, top=top, tolerance=tolerance, window=window)


# ---------------------------------------------------------------------------
# Value vs norm clipping on one vector.


@dataclass(frozen=True)
class ClipComparison:
    """One 2-D gradient and what each clipping rule makes of it.

    Attributes:
      grad: (2,) the raw gradient g.
      threshold: c.
      value_clipped: (2,) g with each component clamped to [-c, c].
      norm_clipped: (2,) g rescaled to length c if it was longer.
      value_angle: the angle in degrees between g and its value-clipped
        version (0 when clipping leaves the direction alone).
      norm_angle: the same for norm clipping: always 0 up to rounding.
    """

    grad: np.ndarray
    threshold: float
    value_clipped: np.ndarray
    norm_clipped: np.ndarray
    value_angle: float
    norm_angle: float


def angle_between(a: ArrayLike, b: ArrayLike) -> float:
    """The angle in degrees between two 2-D vectors (0 if either is zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    cross = a[0] * b[1] - a[1] * b[0]
    dot = a @ b
    if cross == 0 and dot == 0:
        return 0.0
    # atan2 of (|cross|, dot) stays accurate for tiny and near-180 angles, unlike arccos.
    return math.degrees(math.atan2(abs(cross), dot))


def clip_comparison(grad: ArrayLike, threshold: float) -> ClipComparison:
    """Clips one 2-D gradient both ways and measures how far value clipping turns it.

    >>> cmp = clip_comparison([3.0, 1.0], 1.0)
    >>> cmp.value_clipped.tolist(), round(cmp.value_angle, 2)
    ([1.0, 1.0], 26.57)
    """
    g = np.asarray(grad, dtype=np.float64)
    if g.shape != (2,) or not np.all(np.isfinite(g)):
        raise ValueError(f"grad must be two finite numbers, got {grad!r}")
    c = check_clip("norm", threshold)
    by_value = np.asarray(_clip(g, np.float64(c), mode="value"))
    by_norm = np.asarray(_clip(g, np.float64(c), mode="norm"))
    return ClipComparison(
        grad=g,
        threshold=c,
        value_clipped=by_value,
        norm_clipped=by_norm,
        value_angle=angle_between(g, by_value),
        norm_angle=angle_between(g, by_norm),
    )
