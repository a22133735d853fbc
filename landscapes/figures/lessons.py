"""Plotly figures for the RNN and Learn pages: pure functions of computed data.

Each builder takes the dataclasses of ``landscapes.rnn`` and
``landscapes.lessons`` (or a Trajectory) and returns a ``go.Figure``; none
computes anything heavy or touches Streamlit, so pages stay thin and tests
inspect the figures as data.

On a log axis Plotly places *annotations* at log10 coordinates but *shapes*
at data values; the helpers below take care of that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from jax.typing import ArrayLike

from ..core.engine import Trajectory
from ..core.objectives import PASCANU_TARGET, PASCANU_X0
from ..core.rnn import PeakGradients, RnnUnroll
from ..lessons.demos import PlacementDemo, clip_comparison, threshold_advice
from ..lessons.learn_text import plural
from .palette import ACCENT, MODE_COLORS, MODE_DASHES, MODE_LABELS, MODE_MARKERS, WALL_COLOR

# Okabe & Ito colours the mode palette leaves free: quantities that are not
# clipping modes (the state, the dE/dw and dE/db terms) get these.
STATE_COLOR = "#000000"
W_TERM_COLOR = "#56B4E9"  # sky blue
B_TERM_COLOR = "#6B6B6B"  # dark grey: apart from sky blue in greyscale too
_SERIES_COLORS = (WALL_COLOR, "#0072B2", "#009E73", "#D55E00", "#E69F00", "#56B4E9", "#000000")
_NEUTRAL = "#6B6B6B"
_TEMPLATE = "plotly_white"


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, **extra) -> go.Figure:
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": title, "y": 0.96, "yanchor": "top"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"t": 130, "r": 20, "b": 50, "l": 60},
        **extra,
    )
    return fig


def _guide(x: Sequence[float] | np.ndarray, y: float, name: str, color: str, dash: str = "dot") -> go.Scatter:
    """A horizontal reference line named in the legend.

    A legend entry instead of a label on the plot: a label on the line would
    sit on the data whenever the data runs along the line (the state resting
    at 0.5, factors just above 1).
    """
    return go.Scatter(
        x=[float(x[0]), float(x[-1])],
        y=[y, y],
        mode="lines",
        name=name,
        line={"color": color, "dash": dash, "width": 1.5},
        hoverinfo="skip",
    )


def _positive_or_none(values: np.ndarray) -> list[float | None]:
    """Values for a log axis: zeros and non-finite values become gaps."""
    return [float(v) if v > 0 and math.isfinite(v) else None for v in values]


# ---------------------------------------------------------------------------
# The RNN taken apart.


def rnn_states_figure(unroll: RnnUnroll) -> go.Figure:
    """The hidden state x_t for t = 0..T, with the wall's fixed point and the target marked."""
    t = np.arange(unroll.T + 1)
    target = math.log(PASCANU_TARGET / (1 - PASCANU_TARGET))
    fig = go.Figure(
        [
            go.Scatter(
                x=t,
                y=unroll.states,
                mode="lines+markers",
                name="hidden state xₜ",
                line={"color": STATE_COLOR, "width": 2},
                marker={"size": 5},
                hovertemplate="t = %{x}<br>state = %{y:.6g}<extra></extra>",
            ),
            _guide(t, PASCANU_X0, "x = 0.5: the start (the wall's fixed point)", WALL_COLOR),
            _guide(t, target, f"x = {target:.3f}: σ(x) = 0.7, the target", MODE_COLORS["norm"], "dash"),
        ]
    )
    return _layout(
        fig,
        f"Hidden state over time<br><sup>w = {unroll.w:.4g}, b = {unroll.b:.4g}, T = {unroll.T}</sup>",
        "time step t",
        "hidden state xₜ",
    )


def rnn_jacobians_figure(unroll: RnnUnroll) -> go.Figure:
    """Each step's Jacobian |w σ'(x_{t-1})| and their running product, on a log axis."""
    steps = unroll.steps
    fig = go.Figure(
        [
            go.Scatter(
                x=steps,
                y=_positive_or_none(np.abs(unroll.factors)),
                mode="markers",
                name="one step: |w σ′(xₜ₋₁)|",
                marker={"color": W_TERM_COLOR, "size": 7, "symbol": "circle"},
                customdata=unroll.factors,
                hovertemplate="t = %{x}<br>factor = %{customdata:.6g}<extra></extra>",
            ),
            go.Scatter(
                x=steps,
                y=_positive_or_none(np.abs(unroll.running_product)),
                mode="lines",
                name="product of the first t steps",
                line={"color": STATE_COLOR, "width": 2},
                customdata=unroll.running_product,
                hovertemplate="t = %{x}<br>product = %{customdata:.6g}<extra></extra>",
            ),
            _guide(steps, 1.0, "size 1: products grow above it, shrink below", ACCENT, "dash"),
        ]
    )
    fig = _layout(
        fig,
        f"Jacobians multiply up<br><sup>w = {unroll.w:.4g}, b = {unroll.b:.4g}, T = {unroll.T}</sup>",
        "time step t",
        "size (log scale)",
    )
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def rnn_contributions_figure(unroll: RnnUnroll, log_scale: bool = False) -> go.Figure:
    """Each time step's term of dE/dw and dE/db, as bars.

    Args:
      unroll: the unrolled RNN.
      log_scale: plot the terms' sizes on a log axis (hover shows the signed
        value); useful because the terms span many orders of magnitude.
    """
    steps = unroll.steps
    grad = unroll.grad
    traces = []
    for name, values, color in (
        ("step t's term of dE/dw", unroll.contrib_w, W_TERM_COLOR),
        ("step t's term of dE/db", unroll.contrib_b, B_TERM_COLOR),
    ):
        traces.append(
            go.Bar(
                x=steps,
                y=_positive_or_none(np.abs(values)) if log_scale else values,
                name=f"|{name}|" if log_scale else name,
                marker={"color": color},
                customdata=values,
                hovertemplate="t = %{x}<br>term = %{customdata:.6g}<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig = _layout(
        fig,
        f"Where the gradient comes from<br><sup>dE/dw = {grad[0]:.4g}, dE/db = {grad[1]:.4g}:"
        f"<br>each the sum of {plural(unroll.T, 'term')}, one per time step</sup>",
        "time step t",
        "size of the term (log scale)" if log_scale else "term of the gradient",
        barmode="group",
    )
    if log_scale:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


def peak_gradient_figure(peaks: PeakGradients | Sequence[PeakGradients]) -> go.Figure:
    """The cliff's height (peak |grad E| across the wall) against T, on a log axis.

    Each PeakGradients gets its measured curve and a dashed guide growing like
    (w σ'(0.5))^T through its last point.
    """
    series = [peaks] if isinstance(peaks, PeakGradients) else list(peaks)
    if not series:
        raise ValueError("peaks must hold at least one PeakGradients")
    traces = []
    for i, p in enumerate(series):
        color = _SERIES_COLORS[i % len(_SERIES_COLORS)]
        traces.append(
            go.Scatter(
                x=p.T,
                y=_positive_or_none(p.peak_norm),
                mode="lines+markers",
                name=(
                    f"w = {p.w:.4g}: ×{p.growth_per_step:.3f} per step "
                    f"(w σ′(0.5) = {p.fixed_point_factor:.3f})"
                ),
                legendgroup=f"w{i}",
                line={"color": color, "width": 2},
                marker={"size": 7},
                customdata=np.column_stack([p.peak_offset, p.band_width]),
                hovertemplate=(
                    "T = %{x}<br>peak |∇E| = %{y:.4g}<br>at b − wall = %{customdata[0]:.3g}"
                    "<br>band width = %{customdata[1]:.3g}<extra></extra>"
                ),
            )
        )
        if p.T.size >= 2:
            grid = np.linspace(p.T.min(), p.T.max(), 50)
            guide = p.peak_norm[-1] * p.fixed_point_factor ** (grid - p.T[-1])
            traces.append(
                go.Scatter(
                    x=grid,
                    y=_positive_or_none(guide),
                    mode="lines",
                    name=f"∝ {p.fixed_point_factor:.3f}ᵀ",
                    legendgroup=f"w{i}",
                    showlegend=False,
                    line={"color": color, "dash": "dash", "width": 1},
                    hoverinfo="skip",
                )
            )
    fig = go.Figure(traces)
    fig = _layout(
        fig,
        "The cliff's height for each T<br>"
        "<sup>peak |∇E| across the wall b = 0.5 − σ(0.5) w<br>dashed: growth like (w σ′(0.5))ᵀ</sup>",
        "unrolled steps T",
        "peak gradient norm across the wall (log scale)",
    )
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


# ---------------------------------------------------------------------------
# Learn page figures.


def _arrow(tip: np.ndarray, name: str, color: str, dash: str, width: float = 3) -> go.Scatter:
    """An arrow from the origin to ``tip`` (a 2-vector)."""
    return go.Scatter(
        x=[0.0, float(tip[0])],
        y=[0.0, float(tip[1])],
        mode="lines+markers",
        name=name,
        line={"color": color, "dash": dash, "width": width},
        # An arrowhead at the tip only, pointing along the segment.
        marker={"symbol": "arrow", "angleref": "previous", "size": [0, 16], "color": color},
        hoverinfo="skip",
    )


#: The vector diagram shows at most this many thresholds c from the origin; a
#: longer raw gradient is drawn cut at that distance (its legend entry gives
#: its true length), so the box, the circle and the clipped vectors stay large.
VECTOR_VIEW_C = 3.0


def vector_view_reach(grad: ArrayLike, threshold: float) -> float:
    """Half the width of the vector diagram's square view: 1.2 x min(|g|_inf, 3c), at least 1.2c."""
    g = np.asarray(grad, dtype=np.float64)
    c = float(threshold)
    return 1.2 * min(max(float(np.abs(g).max()), c), VECTOR_VIEW_C * c)


def clip_vector_figure(grad: ArrayLike, threshold: float) -> go.Figure:
    """A 2-D gradient, its value-clipped and norm-clipped versions, and the thresholds.

    The view is zoomed to a few times c, where the clipping happens: the box
    [-c, c]^2 (where value clipping sends every vector) and the circle of
    radius c (where norm clipping does). A raw gradient reaching beyond
    ``VECTOR_VIEW_C`` c is drawn cut at that distance. An arc shows the angle
    by which value clipping turns g; the angle is named in the legend, not
    written on the plot, where it would sit on the arrows.
    """
    cmp = clip_comparison(grad, threshold)
    g, c = cmp.grad, cmp.threshold
    length = float(np.hypot(*g))
    reach = vector_view_reach(g, c)
    longest = float(np.abs(g).max())
    cut = longest > VECTOR_VIEW_C * c
    drawn = g * (VECTOR_VIEW_C * c / longest) if cut else g
    raw_name = f"raw g, |g| = {length:.3g}" + (" (cut at the edge)" if cut else "")
    vc, nc = cmp.value_clipped, cmp.norm_clipped
    angles = np.linspace(0.0, 2.0 * math.pi, 121)
    box = np.array([[-c, -c], [c, -c], [c, c], [-c, c], [-c, -c]])
    line = {"color": ACCENT, "width": 1.5}
    traces = [
        go.Scatter(
            x=box[:, 0],
            y=box[:, 1],
            mode="lines",
            name="box |gᵢ| ≤ c",
            line={**line, "dash": "dash"},
            hoverinfo="skip",
        ),
        go.Scatter(
            x=c * np.cos(angles),
            y=c * np.sin(angles),
            mode="lines",
            name="circle |g| ≤ c",
            line={**line, "dash": "dot"},
            hoverinfo="skip",
        ),
        _arrow(drawn, raw_name, MODE_COLORS["none"], MODE_DASHES["none"], width=2),
        _arrow(
            vc,
            f"{MODE_LABELS['value']}, |g| = {np.hypot(*vc):.3g}",
            MODE_COLORS["value"],
            MODE_DASHES["value"],
        ),
        _arrow(
            nc,
            f"{MODE_LABELS['norm']}, |g| = {np.hypot(*nc):.3g}",
            MODE_COLORS["norm"],
            MODE_DASHES["norm"],
            width=4,
        ),
    ]
    # The angle value clipping turns g by, as an arc near the origin.
    a0 = math.atan2(g[1], g[0])
    a1 = math.atan2(vc[1], vc[0])
    if a1 - a0 > math.pi:
        a1 -= 2 * math.pi
    elif a0 - a1 > math.pi:
        a1 += 2 * math.pi
    radius = 0.55 * min(float(np.hypot(*drawn)), float(np.hypot(*vc))) if cmp.value_angle > 0 else 0.0
    arc = np.linspace(a0, a1, 40)
    traces.append(
        go.Scatter(
            x=radius * np.cos(arc),
            y=radius * np.sin(arc),
            mode="lines",
            name=f"value clipping turns g by {cmp.value_angle:.1f}°",
            line={"color": MODE_COLORS["value"], "width": 2},
            hoverinfo="skip",
        )
    )
    fig = go.Figure(traces)
    fig = _layout(fig, f"Clipping one gradient at c = {c:g}", "g₁ (∂E/∂θ₁)", "g₂ (∂E/∂θ₂)")
    # The legend goes under the plot: six entries wrap into six rows on a
    # phone, which above the plot would run into the title.
    fig.update_layout(
        height=600,
        margin={"t": 60, "r": 20, "b": 40, "l": 60},
        legend={"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0, "font": {"size": 12}},
    )
    # constrain="domain": keep the square view and shrink the plot area to it,
    # instead of widening the x range to fill a wide container.
    fig.update_xaxes(range=[-reach, reach], zeroline=True, constrain="domain")
    fig.update_yaxes(range=[-reach, reach], zeroline=True, scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def _transparent(color: str, alpha: float) -> str:
    """``#RRGGBB`` as an ``rgba(...)`` string with this opacity."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _vertical(x: float, top: float, name: str, color: str, dash: str) -> go.Scatter:
    """A vertical line from 0 to ``top``, named in the legend."""
    return go.Scatter(
        x=[x, x],
        y=[0, top],
        mode="lines",
        name=name,
        line={"color": color, "dash": dash, "width": 2},
        hoverinfo="skip",
    )


def _format_power(k: int) -> str:
    value = 10.0**k
    return f"{value:g}"


def grad_norm_histogram(
    run: Trajectory | Sequence[float] | np.ndarray, threshold: float | None = None, bins: int = 30
) -> go.Figure:
    """A histogram of a run's gradient norms on a log axis, with Pascanu's threshold band.

    The bars count steps per logarithmic bin; a line marks the average norm and
    a shaded band runs from half to ten times it. Steps with an exactly zero
    gradient cannot sit on a log axis; the title counts them.

    Args:
      run: a Trajectory or its gradient norms.
      threshold: the learner's current c, drawn as a line if given.
      bins: the number of bins.
    """
    advice = threshold_advice(run)
    norms = advice.norms
    positive = norms[norms > 0]
    zeros = int(norms.size - positive.size)
    logs = np.log10(positive)
    # With every gradient exactly zero there is no average to draw a band around.
    has_band = advice.mean_norm > 0
    marks = [math.log10(advice.low), math.log10(advice.high)] if has_band else []
    if threshold is not None and threshold > 0:
        marks.append(math.log10(threshold))
    everything = [*logs.tolist(), *marks] or [0.0]
    lo, hi = math.floor(min(everything)), math.ceil(max(everything))
    if hi <= lo:
        hi = lo + 1
    edges = np.linspace(lo, hi, int(bins) + 1)
    counts, _ = np.histogram(logs, bins=edges)
    centers = 0.5 * (edges[:-1] + edges[1:])
    fig = go.Figure(
        go.Bar(
            x=centers,
            y=counts,
            width=np.diff(edges),
            name="steps per bin",
            marker={"color": _NEUTRAL},
            customdata=np.column_stack([10 ** edges[:-1], 10 ** edges[1:]]),
            hovertemplate="|g| from %{customdata[0]:.3g} to %{customdata[1]:.3g}: %{text}<extra></extra>",
            text=[plural(int(n), "step") for n in counts],
            textposition="none",
        )
    )
    # The band and the lines are legend entries, not labels on the plot: with
    # the band, the average and c often a few pixels apart, labels collide.
    top = 1.08 * max(int(counts.max()) if counts.size else 0, 1)
    if has_band:
        x0, x1 = math.log10(advice.low), math.log10(advice.high)
        band_color = _transparent(ACCENT, 0.25)
        # The band is a shape under the bars; a marker-only trace names it in the legend.
        fig.add_vrect(x0=x0, x1=x1, fillcolor=band_color, line_width=0, layer="below")
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 14, "color": band_color},
                name=f"Pascanu's band: c from {advice.low:.3g} to {advice.high:.3g} (0.5× to 10× average)",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            _vertical(
                math.log10(advice.mean_norm),
                top,
                f"average |g| = {advice.mean_norm:.3g}",
                STATE_COLOR,
                "dash",
            )
        )
    if threshold is not None and threshold > 0:
        fig.add_trace(
            _vertical(
                math.log10(threshold),
                top,
                f"your c = {threshold:g} (clips {advice.clip_fraction(threshold):.0%} of steps)",
                MODE_COLORS["norm"],
                "solid",
            )
        )
    title = f"Gradient norms over {plural(advice.n_steps, 'step')}"
    if zeros:
        title += f"<br><sup>{zeros} with a zero gradient {'is' if zeros == 1 else 'are'} not shown</sup>"
    fig = _layout(fig, title, "gradient norm |g| (log scale)", "number of steps", bargap=0.05)
    ticks = list(range(lo, hi + 1))
    fig.update_xaxes(tickvals=ticks, ticktext=[_format_power(k) for k in ticks], range=[lo, hi])
    fig.update_yaxes(range=[0, top])
    fig.update_layout(margin={"t": 130})
    return fig


#: How each training-loop order is drawn: the misplaced clips sit exactly on
#: top of the unclipped curve, so they get open markers and their own dashes.
_ORDER_STYLES = {
    "unclipped": (MODE_COLORS["none"], "solid", MODE_MARKERS["none"], 4),
    "correct": (MODE_COLORS["norm"], "solid", MODE_MARKERS["norm"], 3),
    "after_step": ("#000000", "dash", "x-thin-open", 2),
    "after_zero_grad": (WALL_COLOR, "dot", "circle-open", 2),
}


def placement_figure(demos: Mapping[str, PlacementDemo]) -> go.Figure:
    """The loss per training step for each placement of the clip call, on a log axis."""
    traces = []
    for name, demo in demos.items():
        color, dash, symbol, width = _ORDER_STYLES.get(name, (_NEUTRAL, "solid", "circle", 2))
        run = demo.trajectory
        traces.append(
            go.Scatter(
                x=np.arange(run.loss.size),
                y=_positive_or_none(run.loss),
                mode="lines+markers",
                name=demo.order.title,
                line={"color": color, "dash": dash, "width": width},
                marker={"symbol": symbol, "size": 8, "color": color},
                hovertemplate=f"{demo.order.title}<br>step %{{x}}: loss %{{y:.4g}}<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig = _layout(
        fig, "Loss per step<br><sup>by where the clip call sits</sup>", "training step", "loss (log scale)"
    )
    fig.update_yaxes(type="log", exponentformat="power")
    return fig
