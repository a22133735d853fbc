"""Plotly figures and captions for sweeps: start maps and the learning-rate x threshold diagram.

Pure functions from ``Sweep`` values to ``go.Figure`` objects and text; no
Streamlit. Two habits make them fit the app:

- every heatmap has a transparent Scatter grid on top whose ``customdata``
  starts with the cell's coordinates ((x, y) of a start, or (lr, c)), because
  Streamlit's selection events do not fire on Heatmap or Contour traces;
  the customdata holds real grid values, so the run the Explorer opens is
  exactly the cell that was clicked;
- axis ranges are fixed, so a chart keeps its frame when its data changes.

Plotly has no log colour scale, so losses are drawn as log10 and the colour
bar is relabelled in loss units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core.clipping import CLIP_SPECS
from ..core.outcomes import OUTCOME_LABELS, OUTCOMES, outcome_legend, train_tolerance
from ..core.registry import get_landscape
from ..core.sweeps import Sensitivity, Sweep
from ..views.config import threshold_symbol
from .palette import ACCENT, MODE_COLORS, MODE_LABELS, WALL_COLOR

Quantity = Literal["loss", "outcome", "clipped"]

#: One colour per outcome class: Okabe & Ito, like the palette, but none of
#: them a clipping-mode colour or close to one (orange would read as "no
#: clipping" under a vermillion panel title), nor the palette's accent.
OUTCOME_COLORS = {
    "trains": "#88CCEE",  # light cyan (Tol); not a rule colour, since per-variable clipping took sky blue
    "stuck": "#BBBBBB",  # light grey
    "thrown": "#F0E442",  # yellow
    "diverged": "#000000",  # black
}

#: Losses below this are drawn at this level (log10 of 0 is -inf).
LOSS_FLOOR = 1e-12

#: Most transparent pick points per side of one panel (the JSON stays small).
PICK_RESOLUTION = 64

LOSS_COLORSCALE = "Viridis"
CLIPPED_COLORSCALE = "Blues"
BAD_OUTLINE_COLOR = "#000000"


# ---------------------------------------------------------------------------
# Colour scales.


def _decade_label(k: int) -> str:
    return f"{10.0**k:g}" if -3 <= k <= 3 else f"1e{k}"


def log_loss_scale(losses: Sequence[np.ndarray]) -> tuple[float, float, list[float], list[str]]:
    """A shared log10 colour range for loss arrays, with ticks in loss units.

    Returns:
      (cmin, cmax, tickvals, ticktext): the range of log10(loss) over all
      finite values (losses below ``LOSS_FLOOR`` count as the floor), the
      integer decades inside it, and their labels ("0.01", "1e-6", ...; the
      floor's label reads "≤1e-12").

    >>> log_loss_scale([np.array([1e-3, 0.1])])[2:]
    ([-3.0, -2.0, -1.0], ['0.001', '0.01', '0.1'])
    """
    finite = [np.asarray(a, dtype=float)[np.isfinite(a)] for a in losses]
    values = np.concatenate([a.ravel() for a in finite]) if finite else np.array([])
    if values.size == 0:
        values = np.array([1.0])
    lo = math.log10(max(float(values.min()), LOSS_FLOOR))
    hi = math.log10(max(float(values.max()), LOSS_FLOOR))
    if hi - lo < 1e-9:  # a flat map still needs a range
        lo, hi = lo - 0.5, hi + 0.5
    ticks = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if not ticks:
        ticks = [round((lo + hi) / 2)]
    floor_k = round(math.log10(LOSS_FLOOR))
    text = [f"≤{_decade_label(k)}" if k == floor_k else _decade_label(k) for k in ticks]
    return lo, hi, [float(k) for k in ticks], text


def log10_loss(loss: np.ndarray, cmax: float | None = None) -> np.ndarray:
    """log10 of a loss array for colouring: floored at ``LOSS_FLOOR``, inf drawn at ``cmax``."""
    loss = np.asarray(loss, dtype=float)
    out = np.log10(np.maximum(np.where(np.isfinite(loss), loss, 1.0), LOSS_FLOOR))
    if cmax is not None:
        out = np.where(np.isfinite(loss), out, cmax)
    return out


def _outcome_colorscale() -> list[list]:
    n = len(OUTCOMES)
    scale: list[list] = []
    for k, name in enumerate(OUTCOMES):
        scale += [[k / n, OUTCOME_COLORS[name]], [(k + 1) / n, OUTCOME_COLORS[name]]]
    return scale


def _outcome_legend(fig: go.Figure) -> None:
    # Heatmaps have no legend entries; one invisible marker per class makes them.
    for name in OUTCOMES:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker=dict(symbol="square", size=12, color=OUTCOME_COLORS[name]),
                name=OUTCOME_LABELS[name],
                legendgroup=f"outcome-{name}",
                showlegend=True,
                hoverinfo="skip",
            )
        )


def _fmt(value: float) -> str:
    return f"{value:.3g}"


# ---------------------------------------------------------------------------
# Pick grids.


def _pick_indices(n: int, limit: int) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(int))


def _pick_grids(sweep: Sweep, limit: int) -> list[go.Scatter]:
    """Transparent markers on (a subsample of) the cells, one trace per outcome class.

    ``customdata`` rows are (x, y, final loss), x and y being exact grid
    values (float64), so the run opened from a click is the cell itself.
    Splitting by class lets the hover name the class without a string per
    point; each trace's ``meta`` holds the
    clipping mode, the kind of sweep and the class.
    """
    cols, rows = _pick_indices(len(sweep.x), limit), _pick_indices(len(sweep.y), limit)
    jj, ii = np.meshgrid(rows, cols, indexing="ij")
    jj, ii = jj.ravel(), ii.ravel()
    fmt = ".4g" if sweep.kind == "starts" else ".3g"
    traces = []
    for code, outcome in enumerate(OUTCOMES):
        mine = sweep.outcome[jj, ii] == code
        if not mine.any():
            continue
        j, i = jj[mine], ii[mine]
        customdata = np.column_stack([sweep.x[i], sweep.y[j], sweep.final_loss[j, i]])
        traces.append(
            go.Scatter(
                # Positions only place the markers (float32 keeps the JSON small);
                # customdata keeps the exact float64 grid values for the Explorer.
                x=sweep.x[i].astype(np.float32),
                y=sweep.y[j].astype(np.float32),
                customdata=customdata,
                mode="markers",
                marker=dict(size=8, color="rgba(0,0,0,0)"),
                name=f"pick {sweep.clip} {outcome}",
                meta={"pick": True, "clip": sweep.clip, "kind": sweep.kind, "outcome": outcome},
                showlegend=False,
                hovertemplate=(
                    f"{sweep.x_name} = %{{customdata[0]:{fmt}}}, "
                    f"{sweep.y_name} = %{{customdata[1]:{fmt}}}<br>"
                    f"{OUTCOME_LABELS[outcome]}, final loss %{{customdata[2]:.3g}}<br>"
                    "<i>click to open in the Explorer</i><extra></extra>"
                ),
            )
        )
    return traces


def pick_traces(fig: go.Figure) -> list:
    """The transparent pick traces of a sweep figure (their ``meta`` has ``pick``)."""
    # plotly's source is unannotated and pyright infers ``fig.data`` as a Figure (whose iteration
    # yields "data", "layout", "frames"); it is the figure's tuple of traces.
    return [t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("pick")]  # pyright: ignore[reportAttributeAccessIssue]


# ---------------------------------------------------------------------------
# (a) Start maps, one panel per clipping mode.


def _check_start_maps(sweeps: Sequence[Sweep]) -> None:
    if not sweeps:
        raise ValueError("start_maps_figure needs at least one sweep")
    first = sweeps[0]
    for sweep in sweeps:
        if sweep.kind != "starts":
            raise ValueError("start_maps_figure draws start sweeps (sweep_starts), not hparam sweeps")
        same_grid = (
            sweep.landscape == first.landscape
            and sweep.shape == first.shape
            and np.array_equal(sweep.x, first.x)
            and np.array_equal(sweep.y, first.y)
        )
        if not same_grid:
            raise ValueError("all start maps must share one landscape and one grid of starts")
        same_run = (sweep.lr, sweep.steps, sweep.optimizer, dict(sweep.landscape_params)) == (
            first.lr,
            first.steps,
            first.optimizer,
            dict(first.landscape_params),
        )
        if not same_run:
            raise ValueError("all start maps must share the learning rate, steps, optimizer and parameters")


def start_maps_figure(
    sweeps: Sequence[Sweep],
    quantity: Quantity = "loss",
    *,
    show_walls: bool = True,
    current: tuple[float, float] | None = None,
    pick_resolution: int = PICK_RESOLUTION,
    height: int = 420,
    stacked: bool = False,
    font_size: int = 12,
) -> go.Figure:
    """Side-by-side start maps, one per sweep (normally one per clipping mode).

    ``stacked`` puts the panels one above the other (for a phone), sharing
    the x axis; ``font_size`` scales every text (for a projector).

    All panels share one colour scale (one ``coloraxis``), so equal colours
    mean equal values across panels.

    Args:
      sweeps: start sweeps over the same grid, in panel order.
      quantity: ``"loss"`` (log10 of the final loss, bar labelled in loss
        units), ``"outcome"`` (the class of each start, with a legend) or
        ``"clipped"`` (how many steps were clipped).
      show_walls: draw the landscape's analytic wall lines on every panel.
      current: the start open in the Explorer, marked on every panel, or None.
      pick_resolution: at most this many transparent pick points per side of
        a panel; their customdata is (x, y, final loss) and each pick trace's
        ``meta`` names the clipping mode (see ``pick_traces``).
      height: figure height in pixels.
      stacked: one panel per row instead of per column.
      font_size: the base font size in pixels.

    Returns:
      A figure with, per panel: one Heatmap on the shared ``coloraxis``, the
      wall lines, and pick Scatters (one per outcome class present; find
      them with ``pick_traces``); for ``"outcome"`` also legend-only traces
      for the classes. Subplot titles are coloured by clipping mode.
    """
    sweeps = list(sweeps)
    _check_start_maps(sweeps)
    if quantity not in ("loss", "outcome", "clipped"):
        raise ValueError(f"quantity must be 'loss', 'outcome' or 'clipped', got {quantity!r}")
    first = sweeps[0]
    scape = get_landscape(first.landscape)
    titles = [_panel_title(s) for s in sweeps]
    fig = make_subplots(
        rows=len(sweeps) if stacked else 1,
        cols=1 if stacked else len(sweeps),
        shared_yaxes=not stacked,
        shared_xaxes=stacked,
        horizontal_spacing=0.05,
        vertical_spacing=0.12 / max(len(sweeps) - 1, 1) if stacked else None,
        subplot_titles=titles,
    )
    place = [(k, 1) if stacked else (1, k) for k in range(1, len(sweeps) + 1)]
    for annotation, sweep in zip(fig.layout.annotations, sweeps, strict=True):
        annotation.font = dict(color=MODE_COLORS.get(sweep.clip, "#333333"), size=font_size + 2)

    if quantity == "loss":
        cmin, cmax, tickvals, ticktext = log_loss_scale([s.final_loss for s in sweeps])
        coloraxis: dict[str, Any] = dict(
            colorscale=LOSS_COLORSCALE,
            cmin=cmin,
            cmax=cmax,
            colorbar=dict(title=dict(text="final loss"), tickvals=tickvals, ticktext=ticktext),
        )
        z_of = lambda s: log10_loss(s.final_loss, cmax).astype(np.float32)  # noqa: E731
        z_hover = "final loss 10^%{z:.2f}"
    elif quantity == "outcome":
        n = len(OUTCOMES)
        coloraxis = dict(colorscale=_outcome_colorscale(), cmin=-0.5, cmax=n - 0.5, showscale=False)
        z_of = lambda s: s.outcome.astype(np.int8)  # noqa: E731
        z_hover = "(the pick points name the class)"
    else:
        top = max(1, max(int(s.n_clipped.max()) for s in sweeps))
        coloraxis = dict(
            colorscale=CLIPPED_COLORSCALE,
            cmin=0,
            cmax=top,
            colorbar=dict(title=dict(text=f"clipped steps<br>(of {first.steps})")),
        )
        z_of = lambda s: s.n_clipped.astype(np.int32)  # noqa: E731
        z_hover = "clipped %{z} steps"

    (x0, x1), (y0, y1) = first.window
    walls = scape.walls(first.landscape_params, first.window) if show_walls else []
    for col, sweep in enumerate(sweeps, start=1):
        row_at, col_at = place[col - 1]
        fig.add_trace(
            go.Heatmap(
                x=sweep.x,
                y=sweep.y,
                z=z_of(sweep),
                coloraxis="coloraxis",
                name=MODE_LABELS.get(sweep.clip, sweep.clip),
                hovertemplate=f"{sweep.x_name} %{{x:.4g}}, {sweep.y_name} %{{y:.4g}}<br>{z_hover}"
                "<extra></extra>",
            ),
            row=row_at,
            col=col_at,
        )
        for k, line in enumerate(walls):
            fig.add_trace(
                go.Scatter(
                    x=line[:, 0],
                    y=line[:, 1],
                    mode="lines",
                    line=dict(color=WALL_COLOR, width=2, dash="dash"),
                    name="the cliff (analytic wall)",
                    legendgroup="wall",
                    showlegend=col == 1 and k == 0,
                    hoverinfo="skip",
                ),
                row=row_at,
                col=col_at,
            )
        if current is not None:
            fig.add_trace(_current_marker(current, sweep.clip, show=col == 1), row=row_at, col=col_at)
        for trace in _pick_grids(sweep, pick_resolution):
            fig.add_trace(trace, row=row_at, col=col_at)
        last = col == len(sweeps)
        fig.update_xaxes(
            range=[x0, x1],
            title=dict(text=scape.axis_labels[0] if last or not stacked else None, standoff=6),
            automargin=True,
            row=row_at,
            col=col_at,
        )
        fig.update_yaxes(
            range=[y0, y1],
            title_text=scape.axis_labels[1] if stacked or col == 1 else None,
            automargin=True,
            row=row_at,
            col=col_at,
        )
    if quantity == "outcome":
        _outcome_legend(fig)
    if stacked and "colorbar" in coloraxis:
        # Under the panels, not beside them: a phone has no width to spare.
        coloraxis["colorbar"] = dict(
            coloraxis["colorbar"], orientation="h", yref="container", y=0.09, yanchor="bottom", thickness=12
        )
    fig.update_layout(
        coloraxis=coloraxis,
        height=height,
        font=dict(size=font_size),
        # The legend sits in the figure's bottom margin, below the axis
        # titles, wherever the plot's width makes it wrap.
        margin=dict(l=60, r=20, t=40 + 2 * font_size, b=(150 if stacked else 80) + 3 * font_size),
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.01, x=0),
        clickmode="event+select",
        dragmode=False,
        hovermode="closest",
    )
    return fig


def _current_marker(point: tuple[float, float], clip: str, show: bool) -> go.Scatter:
    """A star at the setting open in the Explorer, in the colour of its clipping mode."""
    return go.Scatter(
        x=[float(point[0])],
        y=[float(point[1])],
        mode="markers",
        # The mode's colour ringed in black, so it shows on every map colour.
        marker=dict(
            symbol="star", size=18, color=MODE_COLORS.get(clip, ACCENT), line=dict(color="black", width=2)
        ),
        name="open in the Explorer",
        legendgroup="current",
        showlegend=show,
        hovertemplate="open in the Explorer: %{x:.4g}, %{y:.4g}<extra></extra>",
    )


def _symbol(clip: str) -> str:
    """How the sweep's threshold is written: c, or the rule's own letter (AutoClip's p, ZClip's z)."""
    return threshold_symbol(clip) if clip in CLIP_SPECS else "c"


def _panel_title(sweep: Sweep) -> str:
    label = MODE_LABELS.get(sweep.clip, sweep.clip)
    return label if sweep.clip == "none" else f"{label}, {_symbol(sweep.clip)} = {_fmt(sweep.threshold or 0)}"


# ---------------------------------------------------------------------------
# (b) The learning-rate x threshold diagram.


def _bad(sweep: Sweep) -> np.ndarray:
    thrown, diverged = OUTCOMES.index("thrown"), OUTCOMES.index("diverged")
    return (sweep.outcome == thrown) | (sweep.outcome == diverged)


def _log_range(values: np.ndarray) -> list[float]:
    """Axis range (in log10 units, as Plotly wants for log axes) with half a cell of margin."""
    logs = np.log10(values)
    gaps = np.diff(np.sort(logs))
    half = 0.5 * float(gaps[gaps > 0].min()) if np.any(gaps > 0) else 0.5
    return [float(logs.min()) - half, float(logs.max()) + half]


def hparams_figure(
    sweep: Sweep,
    quantity: Literal["loss", "outcome"] = "loss",
    *,
    current: tuple[float, float] | None = None,
    pick_resolution: int = PICK_RESOLUTION,
    height: int = 440,
    font_size: int = 12,
) -> go.Figure:
    """The learning-rate x threshold diagram of one start, on log axes.

    The region where the path is thrown off the map or diverges is
    outlined by a contour line of the indicator (at level 0.5), and
    ``current`` marks the (lr, c) open in the Explorer.

    Args:
      sweep: a sweep from ``sweep_hparams``.
      quantity: ``"loss"`` (log10 final loss, bar in loss units) or ``"outcome"``.
      current: (lr, threshold) to mark, or None.
      pick_resolution: at most this many pick points per axis; customdata is
        (lr, c, final loss).
      height: figure height in pixels.
      font_size: the base font size in pixels (larger for a projector).

    Returns:
      A figure with a Heatmap, a Contour outline of the thrown/diverged
      region (when the diagram has both kinds of cell), pick Scatters and
      the optional marker.
    """
    if sweep.kind != "hparams":
        raise ValueError("hparams_figure draws a sweep from sweep_hparams")
    if quantity not in ("loss", "outcome"):
        raise ValueError(f"quantity must be 'loss' or 'outcome', got {quantity!r}")
    fig = go.Figure()
    if quantity == "loss":
        cmin, cmax, tickvals, ticktext = log_loss_scale([sweep.final_loss])
        fig.add_trace(
            go.Heatmap(
                x=sweep.x,
                y=sweep.y,
                z=log10_loss(sweep.final_loss, cmax).astype(np.float32),
                coloraxis="coloraxis",
                hovertemplate="lr %{x:.3g}, "
                + _symbol(sweep.clip)
                + " %{y:.3g}<br>final loss 10^%{z:.2f}<extra></extra>",
            )
        )
        coloraxis = dict(
            colorscale=LOSS_COLORSCALE,
            cmin=cmin,
            cmax=cmax,
            colorbar=dict(title=dict(text="final loss"), tickvals=tickvals, ticktext=ticktext),
        )
    else:
        fig.add_trace(
            go.Heatmap(
                x=sweep.x,
                y=sweep.y,
                z=sweep.outcome.astype(np.int8),
                coloraxis="coloraxis",
                hovertemplate="lr %{x:.3g}, " + _symbol(sweep.clip) + " %{y:.3g}<extra></extra>",
            )
        )
        n = len(OUTCOMES)
        coloraxis = dict(colorscale=_outcome_colorscale(), cmin=-0.5, cmax=n - 0.5, showscale=False)
        _outcome_legend(fig)

    bad = _bad(sweep)
    if bad.any() and not bad.all():
        fig.add_trace(
            go.Contour(
                x=sweep.x,
                y=sweep.y,
                z=bad.astype(np.int8),
                # "none": the line takes line.color instead of a colour scale.
                contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                line=dict(color=BAD_OUTLINE_COLOR, width=3),
                showscale=False,
                name="edge of thrown or diverged",
                showlegend=True,
                hoverinfo="skip",
            )
        )
    for trace in _pick_grids(sweep, pick_resolution):
        fig.add_trace(trace)
    if current is not None:
        fig.add_trace(_current_marker(current, sweep.clip, show=True))
    meaning = CLIP_SPECS[sweep.clip].threshold_meaning if sweep.clip in CLIP_SPECS else "c"
    y_title = (
        "clipping threshold c (no effect: clipping is off)"
        if sweep.clip == "none"
        else "clipping threshold c"
        if _symbol(sweep.clip) == "c"
        else f"threshold: {meaning}"
    )
    start = sweep.start or (float("nan"), float("nan"))
    fig.update_layout(
        title=dict(
            text=f"{MODE_LABELS.get(sweep.clip, sweep.clip)} from ({_fmt(start[0])}, {_fmt(start[1])}), "
            f"{sweep.steps} steps",
            font=dict(color=MODE_COLORS.get(sweep.clip, "#333333")),
        ),
        xaxis=dict(
            type="log",
            title=dict(text="learning rate", standoff=6),
            automargin=True,
            range=_log_range(sweep.x),
        ),
        yaxis=dict(type="log", title=dict(text=y_title), automargin=True, range=_log_range(sweep.y)),
        coloraxis=coloraxis,
        height=height,
        font=dict(size=font_size),
        margin=dict(l=70, r=20, t=40 + 2 * font_size, b=150 + 3 * font_size),
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.01, x=0),
        clickmode="event+select",
        dragmode=False,
        hovermode="closest",
    )
    return fig


# ---------------------------------------------------------------------------
# (c) Captions written from the data.


def _pct(share: float) -> str:
    if share == 0:
        return "none"
    if share == 1:
        return "all"
    percent = 100 * share
    if percent < 1:
        return "under 1 %"
    if percent > 99:
        return "over 99 %"
    return f"{percent:.0f} %"


def start_maps_caption(sweeps: Sequence[Sweep]) -> str:
    """A learner-facing paragraph about start maps, computed from the sweeps.

    It gives the share of starts that train, and of those that are thrown
    or diverge, for each clipping mode, and names the mode that trains the
    most starts.
    """
    sweeps = list(sweeps)
    _check_start_maps(sweeps)
    first = sweeps[0]
    scape = get_landscape(first.landscape)
    n = first.final_loss.size
    parts = []
    for sweep in sweeps:
        bad = sweep.share("thrown") + sweep.share("diverged")
        mode = (
            "without clipping" if sweep.clip == "none" else f"with {MODE_LABELS.get(sweep.clip, sweep.clip)}"
        )
        if sweep.clip != "none":
            mode += f" ({_symbol(sweep.clip)} = {_fmt(sweep.threshold or 0)})"
        parts.append(
            f"{mode}, {_pct(sweep.share('trains'))} train and {_pct(bad)} are thrown off the map or diverge"
        )
    summary = "; ".join(parts)
    text = (
        f"Each pixel is one run of {first.steps} steps at learning rate {_fmt(first.lr or 0)} on the "
        f"{scape.title}, started from that point ({n:,} starts). "
        f"A run trains if its final loss is at most {first.tolerance:.2g} (see the outcome classes below). "
        f"{summary[0].upper()}{summary[1:]}."
    )
    by_mode = {s.clip: s.share("trains") for s in sweeps}
    if "none" in by_mode and len(by_mode) > 1:
        best = max((m for m in by_mode if m != "none"), key=lambda m: by_mode[m])
        gain = by_mode[best] - by_mode["none"]
        if gain > 0.005:
            text += (
                f" With {MODE_LABELS[best]} the share of starts that train rises by "
                f"{100 * gain:.0f} percentage points."
            )
        elif gain < -0.005:
            text += (
                f" Here clipping costs starts: with {MODE_LABELS[best]} the share that trains "
                f"falls by {100 * -gain:.0f} percentage points."
            )
        else:
            text += " Here clipping makes almost no difference to how many starts train."
    return text


_SLACK = 1.05  # how far past the last cell a setting still counts as inside the diagram
_VERB = {
    "trains": "trains",
    "stuck": "gets stuck or crawls",
    "thrown": "is thrown off the map",
    "diverged": "diverges",
}


def hparams_caption(sweep: Sweep, current: tuple[float, float] | None = None) -> str:
    """A learner-facing paragraph about an (lr, c) diagram, computed from the sweep.

    It gives the share of pairs that train and that are thrown out or
    diverge, the smallest learning rate that throws the path out at the
    smallest and at the largest threshold (once when clipping is off), and
    what happens at ``current``.
    """
    if sweep.kind != "hparams":
        raise ValueError("hparams_caption describes a sweep from sweep_hparams")
    trains = sweep.outcome == OUTCOMES.index("trains")
    bad = _bad(sweep)
    start = sweep.start or (float("nan"), float("nan"))
    mode = MODE_LABELS.get(sweep.clip, sweep.clip)
    text = (
        f"From ({_fmt(start[0])}, {_fmt(start[1])}) with {mode} and {sweep.steps} steps, "
        f"{_pct(float(trains.mean()))} of the {trains.size:,} (learning rate, threshold) pairs train "
        f"(final loss at or below {sweep.tolerance:.2g}); {_pct(float(bad.mean()))} are thrown "
        "off the map or diverge."
    )

    lr_order = np.argsort(sweep.x)

    def first_thrown(row: int) -> str:
        failing = lr_order[bad[row, lr_order]]
        if not failing.size:
            return "no learning rate here throws the path off the map or makes it diverge"
        first = _fmt(float(sweep.x[failing[0]]))
        return f"the smallest learning rate that throws it off the map or makes it diverge is {first}"

    c_order = np.argsort(sweep.y)
    low, high = int(c_order[0]), int(c_order[-1])
    sym = _symbol(sweep.clip)
    if sweep.clip == "none":
        text += f" Without clipping the threshold does nothing: {first_thrown(low)}."
    else:
        text += f" With {sym} = {_fmt(sweep.y[low])}, {first_thrown(low)}"
        text += "." if low == high else f"; with {sym} = {_fmt(sweep.y[high])}, {first_thrown(high)}."
    if current is not None:
        lr, c = float(current[0]), float(current[1])
        inside = all(
            axis.min() / _SLACK <= value <= axis.max() * _SLACK
            for axis, value in ((sweep.x, lr), (sweep.y, c))
        )
        where = f"The setting open in the Explorer (lr {_fmt(lr)}, {sym} {_fmt(c)})"
        if inside:
            i = int(np.argmin(np.abs(np.log(sweep.x) - math.log(lr))))
            j = int(np.argmin(np.abs(np.log(sweep.y) - math.log(c))))
            text += f" {where} lies in a cell that {_VERB[OUTCOMES[sweep.outcome[j, i]]]}."
        else:
            text += f" {where} lies outside this diagram."
    return text


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _fine_pct(share: float) -> str:
    """A percentage with one decimal below 10 % ("1.3 %"), none above; "none" for 0."""
    if share == 0:
        return "none"
    percent = 100 * share
    if percent < 0.05:
        return "under 0.1 %"
    return f"{percent:.1f} %" if percent < 10 else f"{percent:.0f} %"


def sensitivity_caption(sweeps: Sequence[Sweep], sensitivities: Sequence[Sensitivity]) -> str:
    """What a tiny nudge of every start did to the start maps, computed from the re-runs.

    Args:
      sweeps: the start maps, as drawn.
      sensitivities: ``sweep_sensitivity`` of each, in the same order.

    Returns:
      A paragraph giving the share of cells whose class changed (over all
      maps, and per map), how many of them sat where the map is already
      speckled, and the largest change of any class's share.
    """
    sweeps, sensitivities = list(sweeps), list(sensitivities)
    _check_start_maps(sweeps)
    if len(sweeps) != len(sensitivities) or any(
        s.clip != z.clip or s.shape != z.changed.shape for s, z in zip(sweeps, sensitivities, strict=True)
    ):
        raise ValueError("sensitivity_caption needs one sensitivity per sweep, in the same order")
    nudge = sensitivities[0].nudge
    total = sum(z.changed.size for z in sensitivities)
    changed = sum(int(z.changed.sum()) for z in sensitivities)
    in_speckle = sum(int((z.changed & z.speckled).sum()) for z in sensitivities)
    shift = max(z.share_shift for z in sensitivities)
    nudge_text = f"{nudge:.0e}".replace("e-0", "e-").replace("e+0", "e")
    digit = _ordinal(max(1, round(-math.log10(nudge))))
    start = f"Moving every start by a relative {nudge_text} and running all {total:,} descents again"
    if not changed:
        return (
            f"{start} changed no cell's class: at these settings each pixel of the maps is robust "
            "to a nudge that small."
        )
    per_map = ", ".join(
        f"{MODE_LABELS.get(z.clip, z.clip)} {_fine_pct(z.changed_share)}" for z in sensitivities
    )
    return (
        f"{start} changed the class of {_fine_pct(changed / total)} of the cells ({per_map}); "
        f"{_fine_pct(in_speckle / changed)} of those sat where neighbouring cells already differ in class. "
        f"The share of each class moved by at most {100 * shift:.2g} percentage points. "
        f"Single pixels in the speckled bands are chaotic: a difference in about the {digit} digit of "
        "the start grows until it decides the outcome. The shares are not: read a map for its shares "
        "and its large regions, and a pixel opened in the Explorer as one example, not as a law."
    )


def outcome_legend_markdown(sweep: Sweep) -> str:
    """The outcome classes of a sweep as a markdown list, one line per class, with its cut-off's value."""
    default = train_tolerance(sweep.landscape, **sweep.landscape_params)
    tolerance = None if sweep.tolerance == default else sweep.tolerance
    lines = outcome_legend(sweep.landscape, tolerance=tolerance, **sweep.landscape_params)
    return "\n".join(f"- **{name}**:{rest}" for name, rest in (line.split(":", 1) for line in lines))
