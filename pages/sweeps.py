"""Sweeps: maps of where clipping saves training, thousands of descents at once."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

import landscapes as ls
import ui
from landscapes.core import sweeps as sw
from landscapes.figures import sweeps as sf
from landscapes.views import config as cf

ui.init_page()
ss = st.session_state
MODES = ("none", "value", "norm")


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
        e.start,
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


def seed(view: cf.SweepView) -> None:
    ss.sweep_view = view
    ss.sw_landscape, ss.sw_res, ss.sw_paint, ss.sw_dclip = (
        view.explorer.landscape,
        view.resolution,
        view.paint,
        view.diagram_clip,
    )
    ss.sw_lr, ss.sw_c, ss.sw_steps, ss.sw_opt = (
        view.explorer.lr,
        view.explorer.threshold,
        view.explorer.steps,
        view.explorer.optimizer,
    )
    for name, value in view.explorer.params.items():
        ss[f"sw_p_{view.explorer.landscape}_{name}"] = value


def sync_from_url() -> None:
    query = st.query_params.to_dict()
    if "sweep_view" not in ss or (query and query != ss.get("sweep_written")):
        if not query and "explorer_cfg" in ss:  # arriving from the Explorer: start from its settings
            view, notices = cf.SweepView(explorer=ss.explorer_cfg), []
        else:
            view, notices = cf.sweep_from_query(query)
        seed(view)
        ss.sweep_notices = notices
    elif any(
        k not in ss for k in ("sw_landscape", "sw_res", "sw_paint", "sw_lr", "sw_c", "sw_steps", "sw_opt")
    ):
        seed(ss.sweep_view)


def on_landscape_change() -> None:
    base = ss.sweep_view.explorer.with_landscape(ss.sw_landscape)
    seed(replace(ss.sweep_view, explorer=base))


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


def controls() -> cf.SweepView:
    with st.sidebar:
        ui.descent_controls("sw_", on_landscape_change)
        scape = cf.get_landscape(ss.sw_landscape)
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
            format_func={"loss": "final loss", "outcome": "outcome", "clipped": "clipped steps"}.get,
        )
    base = ss.sweep_view.explorer
    explorer = replace(
        base.with_landscape(ss.sw_landscape) if base.landscape != ss.sw_landscape else base,
        params={spec.name: float(ss[f"sw_p_{scape.name}_{spec.name}"]) for spec in scape.params},
        lr=float(ss.sw_lr),
        threshold=float(ss.sw_c),
        steps=int(ss.sw_steps),
        optimizer=ss.sw_opt,
    )
    return cf.SweepView(
        explorer=explorer,
        resolution=int(ss.sw_res),
        paint=ss.sw_paint,
        diagram_clip=ss.get("sw_dclip") or "norm",
    )


def render() -> None:
    sync_from_url()
    # A click on a map cell opens that exact configuration in the Explorer.
    view = ss.sweep_view
    for layout in ("wide", "stacked"):
        start_click = picked(f"start_maps_{layout}")
        if start_click is not None and start_click != ss.get(f"sweep_consumed_{layout}"):
            ss[f"sweep_consumed_{layout}"] = start_click
            open_in_explorer(replace(view.explorer, start=start_click))
    lr_c_click = picked("diagram")
    if lr_c_click is not None and lr_c_click != ss.get("sweep_consumed_diagram"):
        ss.sweep_consumed_diagram = lr_c_click
        open_in_explorer(replace(view.explorer, lr=lr_c_click[0], threshold=lr_c_click[1]))

    view = controls()
    ss.sweep_view = view
    written = cf.sweep_to_query(view)
    ss.sweep_written = written
    st.query_params.from_dict(written)
    e = view.explorer

    st.html(LAYOUT_CSS)
    if e.present:
        ui.presentation_style()
    st.title("Sweeps: where clipping saves training")
    ui.show_notices(ss.get("sweep_notices", []))
    ss.sweep_notices = []
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
        ["norm", "value", "none"],
        key="sw_dclip",
        required=True,
        format_func={"norm": "norm clipping", "value": "value clipping", "none": "no clipping"}.get,
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
