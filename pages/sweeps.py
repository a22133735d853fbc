"""Sweeps: maps of where clipping saves training, thousands of descents at once."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

import landscapes as ls
import ui
from landscapes.core import sweeps as sw
from landscapes.core.engine import ClipMode
from landscapes.figures import sweeps as sf
from landscapes.views import config as cf

ui.init_page()
ss = st.session_state
MODES: tuple[ClipMode, ...] = ("none", "value", "norm")
PAINT_LABELS = {"loss": "final loss", "outcome": "outcome", "clipped": "clipped steps"}
DIAGRAM_LABELS = {"norm": "norm clipping", "value": "value clipping", "none": "no clipping"}


@st.cache_data(max_entries=24, show_spinner=False)
def start_maps(query: tuple[tuple[str, str], ...]) -> list[ls.Sweep]:
    view, _ = cf.sweep_from_query(dict(query))
    e = view.explorer
    return [
        ls.sweep_starts(
            e.landscape, e.lr, e.steps, mode, e.threshold, e.optimizer, view.resolution, **e.params
        )
        for mode in MODES
    ]


@st.cache_data(max_entries=24, show_spinner=False)
def sensitivities(query: tuple[tuple[str, str], ...]) -> list[sw.Sensitivity]:
    """The same start maps with every start nudged by a relative 1e-12: how fragile single pixels are."""
    return [sw.sweep_sensitivity(sweep) for sweep in start_maps(query)]


@st.cache_data(max_entries=24, show_spinner=False)
def diagram(query: tuple[tuple[str, str], ...]) -> ls.Sweep:
    view, _ = cf.sweep_from_query(dict(query))
    e = view.explorer
    return ls.sweep_hparams(
        e.landscape,
        np.asarray(e.start),
        cf.LR_CHOICES,
        cf.THRESHOLD_CHOICES,
        e.steps,
        view.diagram_clip,
        e.optimizer,
        **e.params,
    )


# Streamlit stacks nothing inside one Plotly figure, so the page sends two
# layouts of the start maps and shows the one that fits the screen.
LAYOUT_CSS = """<style>
.st-key-maps_stacked { display: none; }
@media (max-width: 640px) {
  .st-key-maps_wide { display: none; }
  .st-key-maps_stacked { display: block; }
}
</style>"""


def from_explorer() -> cf.SweepView | None:
    """Arriving from the Explorer with no link of its own, the page starts from the Explorer's settings."""
    explorer = ss.get("ex_settings")  # the Explorer's ui.PageState slot
    return cf.SweepView(explorer=explorer) if explorer is not None else None


STATE = ui.PageState(
    "sw_",
    cf.sweep_from_query,
    cf.sweep_to_query,
    cf.sweep_widget_values,
    lambda get: cf.sweep_from_widget_values(get, STATE.value.explorer),
    arrive=from_explorer,
)


def on_landscape_change() -> None:
    STATE.seed(replace(STATE.value, explorer=STATE.value.explorer.with_landscape(ss.sw_landscape)))


def open_in_explorer(config: cf.ExplorerConfig) -> None:
    st.switch_page("pages/explorer.py", query_params=cf.to_query(replace(config, paths=cf.PATH_MODES)))


def picked(key: str) -> tuple[float, float] | None:
    """The (x, y) of a clicked pick cell, read from its exact customdata."""
    event = ss.get(key)
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points:
        return None
    data = points[0].get("customdata")
    if isinstance(data, list) and len(data) >= 2:
        return float(data[0]), float(data[1])
    return float(points[0]["x"]), float(points[0]["y"])


def controls() -> None:
    with st.sidebar:
        ui.descent_controls("sw_", on_landscape_change)
        st.subheader("Maps")
        st.select_slider(
            "resolution (cells per side)",
            cf.SWEEP_RESOLUTIONS,
            key="sw_res",
            help="More cells show finer detail and take longer; results are kept, so coming "
            "back to a map is instant.",
        )
        st.segmented_control(
            "paint",
            list(cf.SWEEP_PAINTS),
            key="sw_paint",
            required=True,
            format_func=lambda paint: PAINT_LABELS[paint],
        )


def render() -> None:
    STATE.sync()
    # A click on a map cell opens that exact configuration in the Explorer.
    view = STATE.value
    for layout in ("wide", "stacked"):
        start_click = picked(f"start_maps_{layout}")
        if start_click is not None and start_click != ss.get(f"sweep_consumed_{layout}"):
            ss[f"sweep_consumed_{layout}"] = start_click
            open_in_explorer(replace(view.explorer, start=start_click))
    lr_c_click = picked("diagram")
    if lr_c_click is not None and lr_c_click != ss.get("sweep_consumed_diagram"):
        ss.sweep_consumed_diagram = lr_c_click
        open_in_explorer(replace(view.explorer, lr=lr_c_click[0], threshold=lr_c_click[1]))

    controls()
    view = STATE.commit()
    written = cf.sweep_to_query(view)
    e = view.explorer

    st.html(LAYOUT_CSS)
    if e.present:
        ui.presentation_style()
    st.title("Sweeps: where clipping saves training")
    ui.show_notices(STATE.notices())
    st.markdown(
        f"Every cell is a full descent of {e.steps} steps (learning rate {e.lr:g}, threshold c = "
        f"{e.threshold:g}, {ls.OPTIMIZER_LABELS[e.optimizer]}) started from that point, run thousands "
        "at a time. Click any cell to open that exact run in the Cliff Explorer."
    )
    query = tuple(sorted(written.items()))
    cells = 3 * view.resolution**2
    with st.spinner(f"Running {cells:,} descents of {e.steps} steps…"):
        sweeps = start_maps(query)
    font = 18 if e.present else 12
    # Side by side on a wide screen; one above the other on a phone (the
    # CSS below shows the one that fits; both open the clicked run).
    for layout, height in (("wide", 460 + 10 * (font - 12)), ("stacked", 1250)):
        with st.container(key=f"maps_{layout}"):
            st.plotly_chart(
                ls.start_maps_figure(
                    sweeps,
                    view.paint,
                    current=e.start,
                    height=height,
                    stacked=layout == "stacked",
                    font_size=font,
                ),
                key=f"start_maps_{layout}",
                on_select="rerun",
                selection_mode="points",
                theme=None,
                config=ui.plotly_config("start-maps"),
            )
    st.markdown(ls.start_maps_caption(sweeps))
    with st.expander("What the outcome classes mean", expanded=view.paint == "outcome"):
        st.markdown(sf.outcome_legend_markdown(sweeps[0]))
    with st.spinner("Running every start again, nudged by one part in a trillion…"):
        nudged = sensitivities(query)
    st.markdown(sf.sensitivity_caption(sweeps, nudged))

    st.subheader("Learning rate × threshold, from one start")
    st.segmented_control(
        "clipping rule in the diagram",
        list(cf.DIAGRAM_CLIPS),
        key="sw_dclip",
        required=True,
        format_func=lambda rule: DIAGRAM_LABELS[rule],
    )
    with st.spinner("Running every (learning rate, threshold) pair…"):
        lr_c = diagram(query)
    fig2 = ls.hparams_figure(
        lr_c, "outcome", current=(e.lr, e.threshold), height=520 + 25 * (font - 12), font_size=font
    )
    st.plotly_chart(
        fig2,
        key="diagram",
        on_select="rerun",
        selection_mode="points",
        theme=None,
        config=ui.plotly_config("lr-threshold"),
    )
    st.markdown(ls.hparams_caption(lr_c, current=(e.lr, e.threshold)))


ui.guarded(render)
