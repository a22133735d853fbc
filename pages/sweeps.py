"""Sweeps: maps of where clipping saves training, thousands of descents at once."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import numpy as np
import streamlit as st

import landscapes as ls
import ui
from landscapes.core import sweeps as sw
from landscapes.core.clipping import CLIP_SPECS, MODE_LABELS
from landscapes.core.engine import ClipMode
from landscapes.figures import sweeps as sf
from landscapes.views import config as cf

ui.init_page()
ss = st.session_state
PAINT_LABELS = {"loss": "final loss", "outcome": "outcome", "clipped": "clipped steps"}


@st.cache_data(max_entries=24, show_spinner=False)
def start_maps(query: tuple[tuple[str, str], ...]) -> list[ls.Sweep]:
    view, _ = cf.sweep_from_query(dict(query))
    e = view.explorer
    return [
        ls.sweep_starts(
            e.landscape,
            e.lr,
            e.steps,
            cast(ClipMode, mode),  # any registered rule, not only the core Literal's built-ins
            e.threshold_of(mode),
            e.optimizer,
            view.resolution,
            clip_options=e.clip_options_of(mode),
            **e.params,
        )
        for mode in e.paths
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
        diagram_thresholds(view.diagram_clip),
        e.steps,
        view.diagram_clip,
        e.optimizer,
        clip_options=e.clip_options_of(view.diagram_clip),
        **e.params,
    )


def diagram_thresholds(mode: str) -> tuple[float, ...]:
    """The diagram's threshold axis: the c slider's steps, capped at the rule's largest threshold."""
    top = CLIP_SPECS[mode].threshold_max
    return tuple(c for c in cf.THRESHOLD_CHOICES if c <= top)


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
    st.switch_page("pages/explorer.py", query_params=cf.to_query(config))


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
        st.multiselect(
            "rules to map",
            cf.path_modes(),
            key="sw_paths",
            max_selections=cf.MAX_PATHS,
            format_func=MODE_LABELS.__getitem__,
            help="One start map per rule (up to five). Each runs with the settings it has in the "
            "Cliff Explorer: AutoClip's percentile, ZClip's z limit and options travel in the link.",
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
        clicked = replace(view.explorer, lr=lr_c_click[0])
        open_in_explorer(cf.with_threshold(clicked, view.diagram_clip, lr_c_click[1]))

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
    if e.paths:
        start_map_section(view, query)
    else:
        st.info(
            "No rule is chosen for the start maps: pick up to five in the sidebar.",
            icon=":material/grid_off:",
        )
    diagram_section(view, query)


def start_map_section(view: cf.SweepView, query: tuple[tuple[str, str], ...]) -> None:
    e = view.explorer
    cells = len(e.paths) * view.resolution**2
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


def diagram_section(view: cf.SweepView, query: tuple[tuple[str, str], ...]) -> None:
    e = view.explorer
    font = 18 if e.present else 12
    st.subheader("Learning rate × threshold, from one start")
    st.selectbox(
        "clipping rule in the diagram",
        list(cf.diagram_clips()),
        key="sw_dclip",
        format_func=MODE_LABELS.__getitem__,
    )
    if cf.own_threshold(view.diagram_clip):
        spec = CLIP_SPECS[view.diagram_clip]
        st.caption(f"For {spec.label} the vertical axis is its own threshold: {spec.threshold_meaning}.")
    with st.spinner("Running every (learning rate, threshold) pair…"):
        lr_c = diagram(query)
    current = (e.lr, e.threshold_of(view.diagram_clip))
    fig2 = ls.hparams_figure(lr_c, "outcome", current=current, height=520 + 25 * (font - 12), font_size=font)
    st.plotly_chart(
        fig2,
        key="diagram",
        on_select="rerun",
        selection_mode="points",
        theme=None,
        config=ui.plotly_config("lr-threshold"),
    )
    st.markdown(ls.hparams_caption(lr_c, current=current))


ui.guarded(render)
