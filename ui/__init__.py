"""Shared Streamlit pieces for the pages: setup, cached computation, charts, notices, the sidebar's
descent widgets. ``ui.state`` owns each page's round trip widgets <-> settings <-> URL;
``ui.fences`` holds every use of a Streamlit or Plotly internal, each with a test.

Pages stay thin: read widgets, call ``landscapes``, render with these helpers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import plotly.graph_objects as go
import streamlit as st
from streamlit.logger import get_logger

import landscapes as ls

from .fences import (
    BASE_CSS,
    PRESENTATION_CSS,
    PrebuiltFigure,
    click_relay,
    component_data,
    ensure_router,
    plotly_view,
)
from .state import PageState as PageState

IMAGE_FORMATS = ("png", "svg")
APP_DIR = Path(__file__).resolve().parent.parent
# For the maintainer, not the learner: Streamlit's logger (`--logger.level info` shows it).
LOG = get_logger(__name__)


def plotly_config(filename: str = "cliffs-chart") -> dict[str, Any]:
    """Plotly's options: the camera button saves the chart in the format the learner chose."""
    fmt = st.session_state.get("image_format", "png")
    return {
        "displaylogo": False,
        "scrollZoom": False,
        "modeBarButtonsToRemove": ["select2d", "lasso2d"],
        "toImageButtonOptions": {
            "format": fmt if fmt in IMAGE_FORMATS else "png",
            "filename": filename,
            "scale": 2,
        },
    }


@functools.cache
def _cache_enabled() -> str:
    return str(ls.enable_compilation_cache())


def init_page() -> None:
    """Per-run setup every page calls first (cheap after the first call)."""
    ensure_router()
    _cache_enabled()
    st.html(BASE_CSS)


@functools.cache
def plotly_script_url() -> str | None:
    """Where the browser loads Plotly.js for `plot`: the copy inside the Python plotly
    package, put once into the app's static folder (served at /app/static/). None if
    that folder cannot be written or is not served: `plot` then uses st.plotly_chart.

    The folder itself is in git (static/README.md), so Streamlit finds it at start-up and
    says nothing; a copy that cannot be written is logged for the maintainer only."""
    import plotly
    from plotly.offline import get_plotlyjs

    if not st.get_option("server.enableStaticServing"):
        LOG.info("static serving is off: charts are drawn with st.plotly_chart")
        return None
    name = f"plotly-{plotly.__version__}.min.js"
    target = APP_DIR / "static" / name
    try:
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.part")
            partial.write_text(get_plotlyjs(), encoding="utf-8")
            partial.replace(target)  # atomic: a browser never loads half a file
            LOG.info("copied Plotly.js to %s", target)
    except OSError as error:
        LOG.info("cannot write %s (%s): charts are drawn with st.plotly_chart", target, error)
        return None
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/{name}" if base else f"/app/static/{name}"


def plot(spec: Mapping[str, Any], *, key: str, defer: bool = False) -> None:
    """Draws a figure spec that is updated in place on every rerun (see assets/plotly_view.js):
    one draw per change instead of a remount, and the learner's zoom survives."""
    script = plotly_script_url()
    if script is None:
        chart(spec, key=key)
        return
    plotly_view(
        key=key,
        data=component_data(
            {
                "figure": dict(spec),
                "config": plotly_config(key),
                "plotly": script,
                "defer": defer,
            }
        ),
        height="content",
    )


def chart_clicks(chart_key: str, on_click: Callable[[float, float], None]) -> None:
    """Calls ``on_click(x, y)`` (data coordinates) when the learner clicks anywhere
    in the plot area of the chart drawn with ``key=chart_key`` (before the rerun)."""

    def relay() -> None:
        point = (st.session_state.get(f"{chart_key}_click") or {}).get("click") or {}
        x, y = point.get("x"), point.get("y")
        if isinstance(x, int | float) and isinstance(y, int | float):
            on_click(float(x), float(y))

    click_relay(
        key=f"{chart_key}_click", data=component_data({"target": chart_key}), on_click_change=relay, height=0
    )


def chart(
    spec: Mapping[str, Any],
    *,
    key: str | None = None,
    on_select: Literal["ignore", "rerun"] = "ignore",
    **kwargs,
):
    """Draws a figure spec from landscapes.figures."""
    return st.plotly_chart(
        PrebuiltFigure(spec),
        key=key,
        on_select=on_select,
        config=plotly_config(key or "chart"),
        theme=None,
        **kwargs,
    )


def figure(fig: go.Figure, *, key: str) -> None:
    """Draws a validated go.Figure (the lesson builders) with the same options."""
    st.plotly_chart(fig, key=key, config=plotly_config(key), theme=None)


@st.cache_data(max_entries=48, show_spinner=False)
def surface(landscape: str, params: tuple[tuple[str, float], ...], resolution: int) -> ls.Surface:
    """The landscape's loss surface, cached per landscape, parameters and resolution."""
    values: dict[str, Any] = dict(params)  # floats; Any so they splat past the keyword `window`
    return ls.loss_surface(landscape, resolution, **values)


@st.cache_data(max_entries=16, show_spinner="Running every value of the slider in one batch…")
def sweep(query: tuple[tuple[str, str], ...], setting: str):
    """The batched sweep of one setting, cached per configuration (given as its URL query)."""
    from landscapes.views.config import from_query
    from landscapes.views.explorer import sweep_setting

    config, _ = from_query(dict(query))
    return sweep_setting(config, setting)


@st.cache_data(max_entries=48, show_spinner=False)
def surface_image(landscape: str, params: tuple[tuple[str, float], ...], resolution: int):
    """The map's background image (PNG data URI and colour range), cached like the surface."""
    from landscapes.figures import surface_image as render

    return render(surface(landscape, params, resolution))


def show_notices(notices: list[str]) -> None:
    """Visible notices for settings that were corrected (never a traceback)."""
    if notices:
        st.warning("Some settings in the link were corrected:\n\n" + "\n".join(f"- {n}" for n in notices))


def guarded(render: Callable[[], None]) -> None:
    """Runs a page body; an unexpected error becomes a friendly message, not a traceback."""
    # Streamlit's rerun/stop signals derive from BaseException and pass through.
    try:
        render()
    except ValueError as err:
        LOG.warning("settings refused by the engine: %s", err)
        st.error(f"That combination of settings can't be computed: {err}", icon=":material/warning:")
    except Exception as err:
        # The maintainer gets the traceback in the log; the learner a sentence.
        LOG.exception("unexpected error while rendering a page")
        st.error(
            "Something went wrong while computing this view. Try another setting or reset the page. "
            f"({type(err).__name__}: {err})",
            icon=":material/warning:",
        )


def presentation_style() -> None:
    st.html(PRESENTATION_CSS)


#: Short button labels; any other registered optimizer shows its registry name.
OPTIMIZER_NAMES = {"sgd": "plain", "momentum": "momentum", "adam": "Adam", "adamw": "AdamW"}


def descent_controls(
    prefix: str,
    on_landscape_change: Callable[[], None],
    on_view_change: Callable[[], None] | None = None,
    on_optimizer_change: Callable[[], None] | None = None,
    step_sizes: Callable[[], None] | None = None,
) -> None:
    """The sidebar widgets every page with a descent shares: the landscape and its own
    parameters, learning rate, threshold, steps and optimizer.

    Keys are ``{prefix}landscape``, ``{prefix}p_{landscape}_{param}``, ``{prefix}lr``,
    ``{prefix}c``, ``{prefix}steps`` and ``{prefix}opt``; the page seeds them.
    ``on_view_change`` is called when a parameter, the learning rate, c or the steps change
    (the Explorer reruns only its view then: nothing else in the sidebar depends on them);
    ``on_optimizer_change`` when the optimizer does. ``step_sizes``, if given, draws the
    learning rate and c sliders in their place instead of ``step_size_sliders`` (the Explorer
    wraps them in a fragment of their own).
    """
    from landscapes.views import config as cf

    ss = st.session_state
    st.subheader("Landscape")
    st.selectbox(
        "Landscape",
        [s.name for s in cf.list_landscapes()],
        key=f"{prefix}landscape",
        format_func=lambda n: cf.get_landscape(n).title,
        on_change=on_landscape_change,
        label_visibility="collapsed",
    )
    scape = cf.get_landscape(ss[f"{prefix}landscape"])
    for spec in scape.params:
        key = f"{prefix}p_{scape.name}_{spec.name}"
        if key not in ss:
            ss[key] = spec.default
        if spec.log:
            st.select_slider(
                spec.label,
                cf.log_choices(spec.low, spec.high),
                key=key,
                help=spec.help,
                format_func=lambda v: f"{v:g}",
                on_change=on_view_change,
            )
        else:
            st.slider(
                spec.label,
                int(spec.low),
                int(spec.high),
                key=key,
                help=spec.help,
                step=1,
                on_change=on_view_change,
            )

    st.subheader("Descent")
    if step_sizes is None:
        step_size_sliders(prefix, on_view_change)
    else:
        step_sizes()
    st.slider("steps", *cf.STEPS_RANGE, key=f"{prefix}steps", on_change=on_view_change)
    st.segmented_control(
        "optimizer",
        list(ls.OPTIMIZERS),  # the optimizer registry: every optimizer a link can name has a button
        key=f"{prefix}opt",
        on_change=on_optimizer_change,
        required=True,
        format_func=lambda name: OPTIMIZER_NAMES.get(str(name), str(name)),
    )


def step_size_sliders(prefix: str, on_change: Callable[[], None] | None = None) -> None:
    """The learning rate and threshold c sliders (log scales), keys ``{prefix}lr`` and ``{prefix}c``."""
    from landscapes.views import config as cf

    st.select_slider(
        "learning rate (log scale)",
        cf.LR_CHOICES,
        key=f"{prefix}lr",
        format_func=lambda v: f"{v:g}",
        on_change=on_change,
    )
    st.select_slider(
        "threshold c (log scale)",
        cf.THRESHOLD_CHOICES,
        key=f"{prefix}c",
        format_func=lambda v: f"{v:g}",
        help="Norm clipping shortens any gradient longer than c to length c; value clipping "
        "caps each component at ±c.",
        on_change=on_change,
    )
