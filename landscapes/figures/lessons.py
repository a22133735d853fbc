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
        margin={"t": 110, "r": 20, "b": 50, "l": 60},
        **extra,
    )
    return fig


def _hline(
    fig: go.Figure,
    y: float,
    text: str,
    color: str,
    dash: str = "dot",
    log_axis: bool = False,
    below: bool = False,
) -> None:
    """A labelled horizontal line (its label placed right on a log axis too)."""
    fig.add_hline(y=y, line={"color": color, "dash": dash, "width": 1.5})
    fig.add_annotation(
        x=1,
        xref="x domain",
        xanchor="right",
        y=math.log10(y) if log_axis else y,
        yref="y",
        yanchor="top" if below else "bottom",
        text=text,
        showarrow=False,
        font={"color": color, "size": 12},
    )


def _positive_or_none(values: np.ndarray) -> list[float | None]:
    """Values for a log axis: zeros and non-finite values become gaps."""
    return [float(v) if v > 0 and math.isfinite(v) else None for v in values]


# ---------------------------------------------------------------------------
# The RNN taken apart.


def rnn_states_figure(unroll: RnnUnroll) -> go.Figure:
    """The hidden state x_t for t = 0..T, with the wall's fixed point and the target marked."""
    t = np.arange(unroll.T + 1)
    fig = go.Figure(
        go.Scatter(
            x=t,
            y=unroll.states,
            mode="lines+markers",
            name="hidden state x_t",
            line={"color": STATE_COLOR, "width": 2},
            marker={"size": 5},
            hovertemplate="t = %{x}<br>x_t = %{y:.6g}<extra></extra>",
        )
    )
    _hline(fig, PASCANU_X0, "x = 0.5: the start, a fixed point on the wall", WALL_COLOR, below=True)
    target = math.log(PASCANU_TARGET / (1 - PASCANU_TARGET))
    _hline(fig, target, f"x = {target:.3f}: where σ(x) = 0.7, the target", MODE_COLORS["norm"], "dash")
    return _layout(
        fig,
        f"Hidden state over time (w = {unroll.w:.4g}, b = {unroll.b:.4g}, T = {unroll.T})",
        "time step t",
        "hidden state x_t",
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
                name="one step: |∂x_t/∂x_{t−1}| = |w σ′(x_{t−1})|",
                marker={"color": W_TERM_COLOR, "size": 7, "symbol": "circle"},
                customdata=unroll.factors,
                hovertemplate="t = %{x}<br>factor = %{customdata:.6g}<extra></extra>",
            ),
            go.Scatter(
                x=steps,
                y=_positive_or_none(np.abs(unroll.running_product)),
                mode="lines",
                name="product of the first t: |∂x_t/∂x_0|",
                line={"color": STATE_COLOR, "width": 2},
                customdata=unroll.running_product,
                hovertemplate="t = %{x}<br>product = %{customdata:.6g}<extra></extra>",
            ),
        ]
    )
    _hline(
        fig,
        1.0,
        "|factor| = 1: above it products grow, below it they shrink",
        ACCENT,
        dash="dash",
        log_axis=True,
        below=True,
    )
    fig = _layout(
        fig,
        f"Jacobians multiply up (w = {unroll.w:.4g}, b = {unroll.b:.4g}, T = {unroll.T})",
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
        f"Where the gradient comes from: dE/dw = {grad[0]:.4g}, dE/db = {grad[1]:.4g} "
        f"(sums over {unroll.T} steps)",
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
                    name=f"∝ {p.fixed_point_factor:.3f}^T",
                    legendgroup=f"w{i}",
                    showlegend=False,
                    line={"color": color, "dash": "dash", "width": 1},
                    hoverinfo="skip",
                )
            )
    fig = go.Figure(traces)
    fig = _layout(
        fig,
        "The cliff grows exponentially with the number of unrolled steps<br>"
        "<sup>peak |∇E| across the wall; dashed: growth like (w σ′(0.5))^T</sup>",
        "unrolled steps T",
        "peak gradient norm across the wall (log scale)",
    )
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


# ---------------------------------------------------------------------------
# Learn page figures.


def _arrow(x: float, y: float, name: str, color: str, dash: str, width: float = 3) -> go.Scatter:
    return go.Scatter(
        x=[0.0, x],
        y=[0.0, y],
        mode="lines+markers",
        name=name,
        line={"color": color, "dash": dash, "width": width},
        # An arrowhead at the tip only, pointing along the segment.
        marker={"symbol": "arrow", "angleref": "previous", "size": [0, 16], "color": color},
        hovertemplate=f"{name}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
    )


def clip_vector_figure(grad: ArrayLike, threshold: float) -> go.Figure:
    """A 2-D gradient, its value-clipped and norm-clipped versions, and the thresholds.

    The box [-c, c]^2 is where value clipping sends every vector; the circle
    of radius c is where norm clipping does. An arc and a label show the angle
    by which value clipping turns the gradient.
    """
    cmp = clip_comparison(grad, threshold)
    g, c = cmp.grad, cmp.threshold
    fig = go.Figure(
        [
            _arrow(
                *g, f"raw gradient g (|g| = {np.hypot(*g):.3g})", MODE_COLORS["none"], MODE_DASHES["none"]
            ),
            _arrow(
                *cmp.value_clipped,
                f"{MODE_LABELS['value']} (|g| = {np.hypot(*cmp.value_clipped):.3g})",
                MODE_COLORS["value"],
                MODE_DASHES["value"],
            ),
            _arrow(
                *cmp.norm_clipped,
                f"{MODE_LABELS['norm']} (|g| = {np.hypot(*cmp.norm_clipped):.3g})",
                MODE_COLORS["norm"],
                MODE_DASHES["norm"],
            ),
        ]
    )
    # The angle value clipping turns g by, as an arc near the origin.
    a0 = math.atan2(g[1], g[0])
    a1 = math.atan2(cmp.value_clipped[1], cmp.value_clipped[0])
    if a1 - a0 > math.pi:
        a1 -= 2 * math.pi
    elif a0 - a1 > math.pi:
        a1 += 2 * math.pi
    radius = 0.45 * min(np.hypot(*g), np.hypot(*cmp.value_clipped)) if cmp.value_angle > 0 else 0.0
    arc = np.linspace(a0, a1, 40)
    fig.add_trace(
        go.Scatter(
            x=radius * np.cos(arc),
            y=radius * np.sin(arc),
            mode="lines",
            name=f"turned by {cmp.value_angle:.1f}°",
            line={"color": MODE_COLORS["value"], "width": 1.5},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    line = {"color": ACCENT, "width": 1.5}
    fig.add_shape(type="rect", x0=-c, y0=-c, x1=c, y1=c, line={**line, "dash": "dash"}, name="value box")
    fig.add_shape(type="circle", x0=-c, y0=-c, x1=c, y1=c, line={**line, "dash": "dot"}, name="norm circle")
    mid = 0.5 * (a0 + a1)
    fig.add_annotation(
        x=1.05 * radius * math.cos(mid) if radius else 0,
        y=1.05 * radius * math.sin(mid) if radius else 0,
        text=f"{cmp.value_angle:.1f}°",
        showarrow=False,
        xanchor="left",
        font={"color": MODE_COLORS["value"], "size": 13},
    )
    fig.add_annotation(
        x=0,
        xref="paper",
        y=-0.16,
        yref="paper",
        showarrow=False,
        align="left",
        xanchor="left",
        text=(
            f"Value clipping turns g by {cmp.value_angle:.1f}°; norm clipping keeps its direction "
            f"(turn {cmp.norm_angle:.1f}°). Box: |g_i| ≤ c, circle: |g| ≤ c, c = {c:g}."
        ),
    )
    reach = 1.15 * max(np.abs(g).max(), c)
    fig = _layout(
        fig,
        "Value clipping vs norm clipping on one gradient",
        "g₁ (∂E/∂θ₁)",
        "g₂ (∂E/∂θ₂)",
    )
    fig.update_layout(margin={"b": 90})
    fig.update_xaxes(range=[-reach, reach], zeroline=True)
    fig.update_yaxes(range=[-reach, reach], zeroline=True, scaleanchor="x", scaleratio=1)
    return fig


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
            name="steps",
            marker={"color": _NEUTRAL},
            customdata=np.column_stack([10 ** edges[:-1], 10 ** edges[1:]]),
            hovertemplate="|g| from %{customdata[0]:.3g} to %{customdata[1]:.3g}: %{y} steps<extra></extra>",
        )
    )
    if has_band:
        fig.add_vrect(
            x0=math.log10(advice.low),
            x1=math.log10(advice.high),
            fillcolor=ACCENT,
            opacity=0.2,
            line_width=0,
            layer="below",
        )
        fig.add_annotation(
            x=math.log10(advice.low),
            y=1,
            yref="y domain",
            xanchor="left",
            yanchor="top",
            showarrow=False,
            text=f"Pascanu et al.: c from {advice.low:.3g} to {advice.high:.3g} (0.5× to 10× the average)",
            font={"size": 12},
        )
        fig.add_vline(x=math.log10(advice.mean_norm), line={"color": STATE_COLOR, "dash": "dash", "width": 2})
        fig.add_annotation(
            x=math.log10(advice.mean_norm),
            y=0.88,
            yref="y domain",
            xanchor="left",
            showarrow=False,
            text=f"average |g| = {advice.mean_norm:.3g}",
        )
    if threshold is not None and threshold > 0:
        fig.add_vline(x=math.log10(threshold), line={"color": MODE_COLORS["norm"], "width": 2})
        fig.add_annotation(
            x=math.log10(threshold),
            y=0.76,
            yref="y domain",
            xanchor="left",
            showarrow=False,
            text=f"your c = {threshold:g} (clips {advice.clip_fraction(threshold):.0%} of steps)",
            font={"color": MODE_COLORS["norm"]},
        )
    title = f"Gradient norms over {advice.n_steps} steps"
    if zeros:
        title += f" ({zeros} with a zero gradient are not shown)"
    fig = _layout(fig, title, "gradient norm |g| (log scale)", "number of steps", bargap=0.05)
    ticks = list(range(lo, hi + 1))
    fig.update_xaxes(tickvals=ticks, ticktext=[_format_power(k) for k in ticks], range=[lo, hi])
    fig.update_layout(showlegend=False)
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
    fig = _layout(fig, "Loss per step, by where the clip call sits", "training step", "loss (log scale)")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig
