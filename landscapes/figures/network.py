"""Plotly figures for the "A real network" page: pure functions of ``NetworkRun`` and ``NetworkSlice``.

Every chart takes the runs trained side by side (finished or still
training) and draws one line per run in the run's colour: the rule's
registered colour, or the next free Okabe & Ito colour when two runs share a
rule (global and per tensor); a per-tensor run is dashed. Gradient spikes
(``core.network_slice.gradient_spikes``) are marked with triangles; a run that
diverged ends in a cross at its last step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core.network import PARAM_NAMES, SOLVED_LOSS, NetworkRun
from ..core.network_slice import NetworkSlice, gradient_spikes, spike_step
from .palette import ACCENT, MODE_COLORS

_TEMPLATE = "plotly_white"
#: Okabe & Ito colours for a second run of a rule already drawn.
_SPARE_COLORS = ("#0072B2", "#D55E00", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#009E73")
#: One colour per parameter tensor (the per-tensor norms chart).
TENSOR_COLORS = dict(zip(PARAM_NAMES, ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000"), strict=True))
_NEUTRAL = "#6B6B6B"


def run_colors(runs: Sequence[NetworkRun]) -> list[str]:
    """Each run's colour: its rule's, or a spare one if an earlier run already has that colour."""
    used: list[str] = []
    for run in runs:
        color = MODE_COLORS.get(run.clip, _NEUTRAL)
        if color in used:
            color = next((c for c in _SPARE_COLORS if c not in used), _NEUTRAL)
        used.append(color)
    return used


def _dash(run: NetworkRun) -> str:
    return "dash" if run.scope == "per_tensor" else "solid"


def _layout(
    fig: go.Figure, title: str, x_title: str, y_title: str, *, height: int, font_size: int
) -> go.Figure:
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": title, "y": 0.97, "yanchor": "top", "font": {"size": font_size + 3}},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        font={"size": font_size},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
        margin={"t": 50, "r": 20, "b": 40, "l": 60},
    )
    return fig


def _x_range(runs: Sequence[NetworkRun], steps: int | None) -> list[float]:
    total = steps if steps is not None else max((r.steps_requested for r in runs), default=1)
    return [0, max(1, total)]


def _diverged_marker(
    run: NetworkRun, y: np.ndarray, color: str, label: str, show_legend: bool, cap: float = np.inf
) -> go.Scatter:
    k = int(run.diverged_at or 0)
    last = min(float(y[k - 1]), cap) if 0 < k <= len(y) else float("nan")
    return go.Scatter(
        x=[max(k - 1, 0)],
        y=[last],
        mode="markers",
        marker={"symbol": "x", "size": 13, "color": color, "line": {"width": 2}},
        name="diverged",
        legendgroup="diverged",
        showlegend=show_legend,
        hovertext=[f"{label}: {run.reason}"],
        hoverinfo="text",
    )


def network_loss_figure(
    runs: Sequence[NetworkRun],
    labels: Sequence[str],
    *,
    steps: int | None = None,
    height: int = 380,
    font_size: int = 13,
) -> go.Figure:
    """Training loss (thin) and held-out loss (markers) of every run, log scale, with the solved line.

    The axis stops at ``loss_axis_top`` (a run that blew up would squash the others into a line);
    a diverged run's cross sits at its last loss or at the top of the axis, whichever is lower.
    """
    fig = go.Figure()
    shown_diverged = False
    cap = loss_axis_top(runs)
    for run, label, color in zip(runs, labels, run_colors(runs), strict=True):
        fig.add_trace(
            go.Scatter(
                x=np.arange(run.steps_taken),
                y=run.loss,
                mode="lines",
                name=f"{label}: training",
                line={"color": color, "width": 1, "dash": _dash(run)},
                opacity=0.45,
                legendgroup=label,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=run.heldout_steps,
                y=run.heldout_loss,
                mode="lines+markers",
                name=f"{label}: held-out",
                line={"color": color, "width": 2.5, "dash": _dash(run)},
                marker={"size": 6},
                legendgroup=label,
            )
        )
        if run.diverged:
            fig.add_trace(_diverged_marker(run, run.loss, color, label, not shown_diverged, cap))
            shown_diverged = True
    fig.add_trace(
        go.Scatter(
            x=_x_range(runs, steps),
            y=[SOLVED_LOSS, SOLVED_LOSS],
            mode="lines",
            name=f"solved: below {SOLVED_LOSS:g}",
            line={"color": ACCENT, "dash": "dot", "width": 1.5},
            hoverinfo="skip",
        )
    )
    values = np.concatenate([np.asarray(r.loss, float) for r in runs] + [np.array([SOLVED_LOSS])])
    low = float(np.min(values[np.isfinite(values) & (values > 0)]))
    fig.update_yaxes(type="log", range=[np.log10(low) - 0.2, np.log10(cap) + 0.1])
    fig.update_xaxes(range=_x_range(runs, steps))
    return _layout(fig, "Loss", "step", "mean squared error (log)", height=height, font_size=font_size)


def loss_axis_top(runs: Sequence[NetworkRun]) -> float:
    """The top of the loss axis: 30 times the largest of the runs' median training losses (at least 1)."""
    medians = [float(np.median(r.loss)) for r in runs if r.steps_taken]
    return max([1.0, *(30.0 * m for m in medians if np.isfinite(m))])


def network_grad_norm_figure(
    runs: Sequence[NetworkRun],
    labels: Sequence[str],
    *,
    steps: int | None = None,
    height: int = 380,
    font_size: int = 13,
) -> go.Figure:
    """The global raw gradient norm of every run (log), its rule's threshold, and its spikes."""
    fig = go.Figure()
    shown_spikes = False
    for run, label, color in zip(runs, labels, run_colors(runs), strict=True):
        x = np.arange(run.steps_taken)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=run.grad_norm,
                mode="lines",
                name=label,
                legendgroup=label,
                line={"color": color, "width": 1.5, "dash": _dash(run)},
            )
        )
        level = np.asarray(run.clip_threshold, float)
        if run.scope == "global" and np.isfinite(level).any() and run.clip not in ("agc",):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=np.where(np.isfinite(level), level, np.nan),
                    mode="lines",
                    name=f"{label}: threshold",
                    legendgroup=label,
                    line={"color": color, "width": 1, "dash": "dot"},
                    hoverinfo="skip",
                )
            )
        spikes = gradient_spikes(run.grad_norm)
        if len(spikes):
            fig.add_trace(
                go.Scatter(
                    x=spikes,
                    y=run.grad_norm[spikes],
                    mode="markers",
                    name="spike (> 10× the run's median)",
                    legendgroup="spikes",
                    showlegend=not shown_spikes,
                    marker={
                        "symbol": "triangle-up",
                        "size": 9,
                        "color": color,
                        "line": {"color": "#000000", "width": 1},
                    },
                )
            )
            shown_spikes = True
    fig.update_yaxes(type="log")
    fig.update_xaxes(range=_x_range(runs, steps))
    return _layout(
        fig, "Global gradient norm (before clipping)", "step", "‖g‖ (log)", height=height, font_size=font_size
    )


def network_tensor_norms_figure(
    runs: Sequence[NetworkRun],
    labels: Sequence[str],
    *,
    steps: int | None = None,
    height: int | None = None,
    font_size: int = 13,
) -> go.Figure:
    """Each tensor's raw gradient norm, one panel per run (log), the same tensor colours in every panel."""
    # One column: side by side, the panels' titles run into each other on a phone.
    n = max(1, len(runs))
    cols = 1
    rows = n
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(labels) or [""],
        shared_xaxes=True,
        vertical_spacing=0.3 / rows,
        horizontal_spacing=0.08,
    )
    for r, run in enumerate(runs):
        row, col = r // cols + 1, r % cols + 1
        for name in PARAM_NAMES:
            fig.add_trace(
                go.Scatter(
                    x=np.arange(run.steps_taken),
                    y=run.tensor_norms[name],
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    showlegend=r == 0,
                    line={"color": TENSOR_COLORS[name], "width": 1.3},
                ),
                row=row,
                col=col,
            )
    fig.update_yaxes(type="log")
    fig.update_xaxes(range=_x_range(runs, steps))
    fig.update_annotations(font={"size": font_size})
    return _layout(
        fig,
        "Gradient norm of each tensor (before clipping)",
        "",
        "",
        height=height or 200 * rows + 130,
        font_size=font_size,
    )


def clipped_share(run: NetworkRun, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The share of steps the rule changed in consecutive windows: (window centres, shares)."""
    clipped = np.asarray(run.clipped, float)
    if not len(clipped):
        return np.zeros(0), np.zeros(0)
    starts = np.arange(0, len(clipped), window)
    shares = np.array([clipped[s : s + window].mean() for s in starts])
    centres = starts + (np.minimum(starts + window, len(clipped)) - starts - 1) / 2
    return centres, shares


def network_clipped_figure(
    runs: Sequence[NetworkRun],
    labels: Sequence[str],
    *,
    steps: int | None = None,
    height: int = 340,
    font_size: int = 13,
) -> go.Figure:
    """The share of steps each rule changed per window (~1/20 of the run); the whole run's in the legend."""
    total = steps if steps is not None else max((r.steps_requested for r in runs), default=20)
    window = max(1, total // 20)
    fig = go.Figure()
    for run, label, color in zip(runs, labels, run_colors(runs), strict=True):
        if run.clip == "none":
            continue
        x, y = clipped_share(run, window)
        overall = run.n_clipped / run.steps_taken if run.steps_taken else 0.0
        fig.add_trace(
            go.Scatter(
                x=x,
                y=100 * y,
                mode="lines+markers",
                name=f"{label}: {100 * overall:.0f} % of steps",
                line={"color": color, "width": 2, "dash": _dash(run), "shape": "hvh"},
                marker={"size": 5},
            )
        )
    fig.update_yaxes(range=[-3, 103])
    fig.update_xaxes(range=_x_range(runs, steps))
    return _layout(
        fig,
        f"Share of clipped steps (per {window} steps)",
        "step",
        "% of steps clipped",
        height=height,
        font_size=font_size,
    )


def network_radius_figure(
    runs: Sequence[NetworkRun],
    labels: Sequence[str],
    *,
    steps: int | None = None,
    height: int = 340,
    font_size: int = 13,
) -> go.Figure:
    """The spectral radius of ``W_rec`` over training (where the held-out loss is measured); 1 marked."""
    fig = go.Figure()
    for run, label, color in zip(runs, labels, run_colors(runs), strict=True):
        fig.add_trace(
            go.Scatter(
                x=run.heldout_steps,
                y=run.rec_radius,
                mode="lines+markers",
                name=label,
                line={"color": color, "width": 2, "dash": _dash(run)},
                marker={"size": 5},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=_x_range(runs, steps),
            y=[1.0, 1.0],
            mode="lines",
            name="radius 1",
            hoverinfo="skip",
            line={"color": _NEUTRAL, "dash": "dot", "width": 1},
        )
    )
    fig.update_xaxes(range=_x_range(runs, steps))
    return _layout(
        fig, "Spectral radius of W_rec", "step", "largest |eigenvalue|", height=height, font_size=font_size
    )


def network_slice_figure(
    sl: NetworkSlice, label: str, *, height: int = 520, font_size: int = 13
) -> go.Figure:
    """The slice as a map of log10(loss), with the run's next steps projected on it (numbered)."""
    z = np.log10(np.maximum(np.asarray(sl.loss, float), 1e-12)).astype(np.float32)
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=sl.alphas,
            y=sl.betas,
            z=z,
            colorscale="Viridis",
            name="log10 loss",
            colorbar={"title": {"text": "log10 loss", "side": "right"}, "len": 0.9},
            hovertemplate="α %{x:.3g}<br>β %{y:.3g}<br>log10 loss %{z:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Contour(
            x=sl.alphas,
            y=sl.betas,
            z=z,
            showscale=False,
            contours={"coloring": "none"},
            ncontours=14,
            line={"color": "rgba(255,255,255,0.55)", "width": 1},
            hoverinfo="skip",
            name="contours",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=sl.path[:, 0],
            y=sl.path[:, 1],
            mode="lines+markers+text",
            name=f"{label}: steps {sl.step} onwards",
            # Only the first and last steps are numbered: the ones between can sit close together.
            text=[str(s) if i in (0, len(sl.path_steps) - 1) else "" for i, s in enumerate(sl.path_steps)],
            textposition="top right",
            textfont={"color": "#FFFFFF", "size": font_size},
            line={"color": "#FFFFFF", "width": 2},
            marker={"size": 9, "color": "#E69F00", "line": {"color": "#000", "width": 1}},
            customdata=np.stack([sl.path_loss, sl.path_off_plane, sl.path_steps], axis=1),
            hovertemplate="step %{customdata[2]}<br>loss of step's batch %{customdata[0]:.3g}"
            "<br>off the plane %{customdata[1]:.3g}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[float(sl.alphas[0]), float(sl.alphas[-1])])
    fig.update_yaxes(range=[float(sl.betas[0]), float(sl.betas[-1])])
    return _layout(
        fig,
        f"Loss around step {sl.step} (largest spike)" if sl.step is not None else "",
        "α: along the spike's gradient (distance)",
        "β: filter-normalised random direction",
        height=height,
        font_size=font_size,
    )


def slice_run_index(runs: Sequence[NetworkRun]) -> int | None:
    """The run the slice opens on: of the runs that did not diverge (else of all), the one whose
    largest gradient spike is the largest (None if no run took a step)."""
    pool = [r for r, run in enumerate(runs) if not run.diverged] or list(range(len(runs)))
    best, best_norm = None, -np.inf
    for r in pool:
        k = spike_step(runs[r])
        if k is not None and runs[r].grad_norm[k] > best_norm:
            best, best_norm = r, float(runs[r].grad_norm[k])
    return best
