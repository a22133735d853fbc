"""The Cliff Explorer: one cliff, three ways down it."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import streamlit as st

import landscapes as ls
import ui
from landscapes import figures
from landscapes.core.clipping import CLIP_SPECS, MODE_LABELS
from landscapes.figures.explorer import SURFACE_COLORSCALE
from landscapes.figures.palette import WALL_COLOR
from landscapes.lessons.narrate import narrate, number_format_notes, weight_decay_notes
from landscapes.lessons.snippets import snippet_modes
from landscapes.views import config as cf
from landscapes.views.explorer import ExplorerRuns, outcome_note, run_modes, summary_html, view_modes
from landscapes.views.map_payload import (
    IMAGE_RESOLUTION,
    cached_arm_runs,
    compute_cross,
    map_payload,
    take_away,
    view_runs,
)
from ui import site
from ui.cliffs_map import cliffs_map

ui.init_page()
ss = st.session_state

#: Said wherever per-variable clipping is shown: Keras users do not expect it.
PER_VARIABLE_NOTE = (
    "Keras' clipnorm clips each variable on its own. Here w and b are two separate scalar variables, "
    "so each is clipped to |g_i| ≤ c: on this page it is value clipping, and it can turn the direction."
)
SCRUB_LABELS = {"c": "sweep the threshold c", "lr": "sweep the learning rate"}


# --- settings <-> widgets <-> URL (one protocol for every page: ui.PageState) -------

STATE = ui.PageState(
    "ex_", cf.from_query, cf.to_query, cf.explorer_widget_values, cf.explorer_from_widget_values
)


#: The predict game's answer "it leaves the map" (instead of a point on it).
OFF_MAP = "off-map"
#: The page's main view (map, table, narration, history) is a named fragment: a sidebar setting
#: that changes nothing in the sidebar itself reruns the view alone.
VIEW = "ex_view"
#: The sweep inside the figure and the take-home code are fragments of their own, rerun with the
#: view only while they are shown (``view_scope``): every element a rerun sends costs the browser
#: time, and the title above the view is drawn by full runs alone.
SWEEP = "ex_sweep"
TAKE = "ex_take"
#: The runs of the last view, for the take-home code's downloads.
VIEW_RESULT = "ex_view_result"
#: The sidebar's learning rate and c sliders are a fragment too: a commit from the map reruns
#: them and the view, not the whole sidebar.
STEP_SIZES = "ex_step_sizes"
#: The learning rate and c of the last 2-D view: after only the learning rate changed, the
#: view's runs are read from the cached learning-rate arms of the map's cross (see view_runs).
VIEW_POINT = "ex_view_point"
#: Values a map commit set for those sliders, set again in the fragment's own run (below).
PENDING = "ex_step_sizes_pending"
#: Set by a commit from the map: the view's next run sends the narration before the map.
COMMITTED = "ex_committed"


def view_scope() -> list[str]:
    """The fragments that show the view's settings: the view, and the sweep and the take-home
    code when they are on screen."""
    scope = [VIEW]
    if ss.get("ex_scrub"):
        scope.append(SWEEP)
    if ss.get("ex_take_home") and not ss.get("ex_present"):
        scope.append(TAKE)
    return scope


def rerun_view() -> None:
    """A sidebar setting only the view depends on changed: rerun just the view (the sidebar
    already shows the new value)."""
    st.rerun(view_scope())


def rerun_page() -> None:
    """From a callback of a widget in the view that changes what the sidebar shows: the whole page."""
    st.rerun()


def on_optimizer_change() -> None:
    """Only AdamW has a control of its own in the sidebar: other switches rerun the view alone."""
    if ss.get("ex_opt") != "adamw" and ss.get("ex_opt_shown") != "adamw":
        rerun_view()
    else:
        rerun_page()  # the weight decay control comes or goes


def apply_map_click(x: float, y: float) -> None:
    """A click anywhere on the map moves the start there (or places the guess)."""
    if ss.get("ex_predict") and ss.get("ex_guess") is None:
        place_guess((x, y))  # a guess, not a new start: the view alone
        return
    (x0, x1), (y0, y1) = cf.ExplorerConfig(landscape=ss.ex_landscape).scape.window
    ss.ex_start_x = min(max(x, x0), x1)
    ss.ex_start_y = min(max(y, y0), y1)
    rerun_page()  # the sidebar's start boxes show the new start


def place_guess(guess: tuple[float, float] | str | None) -> None:
    """The predict game's answer (a point, OFF_MAP, or None to guess again): the view shows the
    unclipped path once it is placed, and so does the sweep."""
    ss.ex_guess = guess
    rerun_view()


def on_landscape_change() -> None:
    """A new landscape opens at the settings that tell its story (the view toggles stay)."""
    STATE.seed(STATE.value.with_landscape(ss.ex_landscape))
    rerun_page()  # the sidebar shows the new landscape's own parameters


def reset_landscape() -> None:
    """Back to the current landscape's own settings (start, parameters, lr, c, steps, optimizer)."""
    STATE.seed(STATE.value.with_landscape(STATE.value.landscape))
    STATE.notices()  # a correction to an old link no longer applies
    rerun_page()  # the sidebar shows the reset settings (the map's Reset is in the view)


def commit_map(lr: float, c: float) -> None:
    """A slider of the map was released: the value becomes the page's (sidebar, link, narration)."""
    value = STATE.value
    lr = cf.nearest_choice(lr, cf.LR_CHOICES)
    c = cf.nearest_choice(c, cf.THRESHOLD_CHOICES)
    if (lr, c) != (value.lr, value.threshold):
        STATE.seed(replace(value, lr=lr, threshold=c))
        ss[COMMITTED] = True
        if value.present:  # no sidebar
            rerun_view()
            return
        ss[PENDING] = {STATE.key("lr"): lr, STATE.key("c"): c}
        st.rerun([STEP_SIZES, *view_scope()])  # the sidebar's two sliders follow the map, and the view


@st.fragment(key=STEP_SIZES)
def step_size_sliders() -> None:
    # Streamlit 1.67: a value a callback sets before a rerun of fragments reaches the script's
    # state but not the slider on screen (that rerun starts from compacted state, so the widget
    # sees no new value and keeps the browser's). Set in the script, before the widget is drawn,
    # it does reach it. Pinned by test_a_drag_redraws_the_paths_with_no_rerun_and_the_release_commits.
    for key, value in ss.pop(PENDING, {}).items():
        ss[key] = value
    ui.step_size_sliders("ex_", rerun_view)


def leave_presentation() -> None:
    STATE.seed(replace(STATE.value, present=False))
    rerun_page()  # the sidebar comes back


def apply_preset(key: str) -> None:
    STATE.seed(replace(cf.preset(key).config, present=bool(ss.get("ex_present", False))))
    STATE.notices()
    rerun_page()  # presentation mode's preset buttons are in the view


# --- controls ---------------------------------------------------------------------


def rule_controls() -> None:
    """Which rules are drawn (up to five), and each shown rule's own settings in an expander."""
    st.multiselect(
        "Clipping rules to overlay",
        cf.path_modes(),
        key="ex_paths",
        max_selections=cf.MAX_PATHS,
        format_func=MODE_LABELS.__getitem__,
        help=f"Up to {cf.MAX_PATHS} rules, all from the same start with the same learning rate.",
    )
    for mode in ss.get("ex_paths") or ():
        spec = CLIP_SPECS[mode]
        settings = cf.rule_settings(mode)
        with st.expander(spec.label, expanded=False):
            st.caption(spec.description)
            if mode == "per_variable":
                st.caption(PER_VARIABLE_NOTE)
            if spec.uses_threshold and not cf.own_threshold(mode):
                st.caption("Threshold: the c slider above.")
            for option in settings:
                key = f"ex_o_{mode}_{option.name}"
                if key not in ss:
                    # A rule just added starts at its defaults.
                    ss[key] = cf.explorer_widget_values(cf.ExplorerConfig(paths=(mode,)))[key[3:]]
                low = option.low if math.isfinite(option.low) else None
                high = option.high if math.isfinite(option.high) else None
                if option.integer:
                    st.number_input(
                        option.name,
                        min_value=None if low is None else int(low),
                        max_value=None if high is None else int(high),
                        step=1,
                        key=key,
                        help=option.description,
                    )
                    continue
                # An open end is kept out by the smallest step the widget can show.
                if low is not None and option.low_open:
                    low = low + (1e-9 if low == 0 else abs(low) * 1e-9)
                if high is not None and option.high_open:
                    high = high - abs(high) * 1e-9
                st.number_input(
                    option.name if option.name != "threshold" else spec.threshold_meaning,
                    min_value=low,
                    max_value=high,
                    key=key,
                    format="%g",
                    step=None,
                    placeholder="none" if option.none_means is not None else None,
                    help=option.description,
                    on_change=rerun_view,
                )
            st.caption(f"Source: {spec.source}")


def teaching_toggles() -> None:
    """The number format (float32 as a teaching toggle) and gradient noise, with its four settings."""
    st.toggle(
        "Compute in float32",
        key="ex_float32",
        on_change=rerun_view,
        help="Most training runs in float32 (about 7 digits, largest number about 3.4e38); the app "
        "computes in float64 by default. Near a wall float32 gradients are off by a few percent, and a "
        "long throw can overflow: the page then says which path diverged, and at which step.",
    )
    st.toggle(
        "Noisy gradients",
        key="ex_noise_on",
        help="Adds reproducible noise to every gradient, as minibatches do: Gaussian noise of scale σ, "
        "and now and then a spike that multiplies the gradient (a bad batch). The same seed gives the "
        "same noise on every path.",
    )
    if ss.get("ex_noise_on"):
        left, right = st.columns(2)
        left.number_input("σ (Gaussian)", min_value=0.0, key="ex_noise_sigma", format="%g", step=0.01)
        right.number_input(
            "spike probability",
            min_value=0.0,
            max_value=1.0,
            key="ex_noise_spike_prob",
            format="%g",
            step=0.01,
        )
        left.number_input("spike scale", key="ex_noise_spike_scale", format="%g", step=10.0)
        right.number_input("seed", min_value=0, max_value=2**32 - 1, key="ex_noise_seed", step=1)


def weight_decay_control() -> None:
    """AdamW's decoupled weight decay: only AdamW has one, so the control shows only for it."""
    if ss.get("ex_opt") != "adamw":
        return
    low, high = cf.WEIGHT_DECAY_RANGE
    st.number_input(
        "weight decay (AdamW)",
        min_value=low,
        max_value=high,
        key="ex_wd",
        step=0.01,
        on_change=rerun_view,
        format="%g",
        help="AdamW pulls the parameters towards 0 by lr·wd·θ on every step, next to Adam's step for the "
        "(clipped) gradient. Clipping never shortens that pull. 0 is plain Adam.",
    )


def controls() -> None:
    with st.sidebar:
        ui.descent_controls("ex_", on_landscape_change, rerun_view, on_optimizer_change, step_size_sliders)
        ss.ex_opt_shown = ss.get("ex_opt")  # what the sidebar shows (on_optimizer_change)
        weight_decay_control()
        scape = cf.get_landscape(ss.ex_landscape)
        st.caption("Start point: type it, or click anywhere on the map.")
        (x0, x1), (y0, y1) = scape.window
        left, right = st.columns(2)
        for column, name, (low, high), key in (
            (left, scape.param_names[0], (x0, x1), "ex_start_x"),
            (right, scape.param_names[1], (y0, y1), "ex_start_y"),
        ):
            column.number_input(name, low, high, key=key, step=0.01, format="%.4f", on_change=rerun_view)

        st.subheader("Paths")
        rule_controls()
        st.subheader("Numbers")
        teaching_toggles()
        st.toggle("3-D view", key="ex_view3d", on_change=rerun_view)
        st.toggle(
            "Predict, then reveal",
            key="ex_predict",
            on_change=rerun_view,
            help="Classroom mode: the unclipped path stays hidden until you click where you think it ends.",
        )
        st.toggle(
            "Presentation mode (for projectors)",
            key="ex_present",
            help="Hides the controls and enlarges text and the map; kept in the link.",
        )

        st.button(
            "Reset this landscape",
            key="ex_reset",
            on_click=reset_landscape,
            icon=":material/restart_alt:",
            width="stretch",
            help="Back to the start, learning rate, threshold and steps that show this landscape's cliff.",
        )

        st.subheader("Presets")
        for item in cf.PRESETS:
            st.button(
                item.label,
                key=f"ex_preset_{item.key}",
                on_click=apply_preset,
                args=(item.key,),
                width="stretch",
            )
            st.caption(item.caption)


# --- classroom and take-home ----------------------------------------------------


def predict_panel(result, hiding: bool) -> None:
    """Predict, then reveal: ask for a guess (a point, or "it leaves the map"), then score it."""
    if hiding:
        left, right = st.columns([4, 1])
        left.info(
            "**Predict, then reveal.** The unclipped path is hidden. Where will plain gradient descent "
            "end after these steps? Click that spot on the map, or say it leaves the map.",
            icon=":material/psychology:",
        )
        right.button("It leaves the map", key="ex_guess_off", on_click=place_guess, args=(OFF_MAP,))
        return
    guess = ss.get("ex_guess")
    if guess is None or "none" not in result.runs:
        return
    end = result.runs["none"].params[-1]
    (x0, x1), (y0, y1) = result.window
    on_map = bool(x0 <= end[0] <= x1 and y0 <= end[1] <= y1)
    ended = f"The unclipped path ended at ({end[0]:.3g}, {end[1]:.3g})"
    if guess == OFF_MAP:
        text = (
            f"Right: it leaves the map. {ended}, outside the map."
            if not on_map
            else f"Not this time: it stays on the map. {ended}."
        )
    else:
        distance = float(np.hypot(end[0] - guess[0], end[1] - guess[1]))
        yours = f"your guess ({guess[0]:.3g}, {guess[1]:.3g}) was {distance:.3g} away"
        if on_map:
            span = float(np.hypot(x1 - x0, y1 - y0))
            verdict = (
                "Spot on!" if distance < 0.05 * span else "Close." if distance < 0.25 * span else "Far off:"
            )
            text = f"{verdict} {ended}; {yours} ({100 * distance / span:.0f}% of the map's diagonal)."
        else:
            text = f"{ended}, off the map: the answer to give was *it leaves the map*; {yours}."
    left, right = st.columns([4, 1])
    left.success(text, icon=":material/visibility:")
    right.button("Guess again", key="ex_guess_again", on_click=place_guess, args=(None,))


def take_home(result) -> None:
    config = result.config
    with st.container(border=True):
        st.markdown(
            "The same clipping, optimizer and learning rate as this view, for your own training loop. "
            "Clip after `backward()` and before the optimizer's step."
        )
        snippets = ls.code_snippets(config)
        frameworks = list(dict.fromkeys(framework for framework, _ in snippets))
        modes = snippet_modes(config)  # every shown rule
        if ss.get("ex_snippet_mode") not in modes:
            ss.ex_snippet_mode = "norm" if "norm" in modes else modes[-1]
        mode = (
            st.radio(
                "clipping rule",
                modes,
                horizontal=True,
                key="ex_snippet_mode",
                format_func=MODE_LABELS.__getitem__,
            )
            or modes[0]
        )
        tabs = st.tabs([ls.FRAMEWORK_LABELS.get(f, f) for f in frameworks])
        for tab, framework in zip(tabs, frameworks, strict=True):
            snippet = snippets.get((framework, mode)) or ls.code_snippet(config, framework, mode)
            with tab:
                st.code(snippet.code, language=snippet.language)
                for note in snippet.notes:
                    st.caption(note)
        stem = f"cliffs-{config.landscape}-lr{config.lr:g}-c{config.threshold:g}"
        left, middle = st.columns(2)
        left.download_button(
            "Runs as CSV",
            ls.runs_to_csv(result.runs),
            f"{stem}.csv",
            "text/csv",
            key="ex_download_csv",
            width="stretch",
        )
        middle.download_button(
            "Runs and settings as JSON",
            ls.runs_to_json(result.runs, config),
            f"{stem}.json",
            "application/json",
            key="ex_download_json",
            width="stretch",
        )
        st.caption("Every chart's camera button saves it as PNG or SVG: pick the format in the sidebar.")


# --- page -------------------------------------------------------------------------


def render() -> None:
    STATE.sync()
    present = bool(ss.get("ex_present"))
    if not present:
        controls()
    header(present)
    view()
    sweep_section()
    if not present:
        if st.toggle("Take it home: code for your training loop, data and charts", key="ex_take_home"):
            take_home_section()
        st.caption(
            "Every setting is in the address bar: copy the link to share this exact view "
            "(add `present=1` for presentation mode)."
        )


def header(present: bool) -> None:
    """Above the view, drawn by full runs only: the landscape changes only in a full run."""
    if present:
        ui.presentation_style()
        st.button("✕ Leave presentation mode", key="ex_leave_present", on_click=leave_presentation)
    scape = cf.get_landscape(ss.ex_landscape)
    st.title(f"Cliff Explorer: {scape.title}")
    if not present:
        st.caption(scape.description)


def figure_height(present: bool) -> int:
    """The height of the view's map and of the sweep below it (taller on a projector)."""
    return 820 if present else 680


def hides_the_answer(config: cf.ExplorerConfig) -> bool:
    """Predict, then reveal: the unclipped path stays hidden until a guess is placed."""
    return config.predict and ss.get("ex_guess") is None and "none" in config.paths


def shown_config(config: cf.ExplorerConfig) -> cf.ExplorerConfig:
    """The settings of what is drawn: without the unclipped path while it is hidden."""
    if not hides_the_answer(config):
        return config
    return replace(config, paths=tuple(m for m in config.paths if m != "none"))


@st.fragment(key=VIEW)
def view() -> None:
    ui.guarded(render_view)  # a fragment rerun has no page-level guard around it


def render_view() -> None:
    ss[VIEW_RESULT] = None  # until this view's runs are computed
    config = STATE.commit()

    present = config.present
    scape = config.scape
    ui.show_notices(STATE.notices())  # shown once; the corrected settings are in the URL now
    if not config.paths:
        st.info(
            "All paths are switched off: pick up to five clipping rules in the sidebar to see them.",
            icon=":material/visibility_off:",
        )

    if "per_variable" in config.paths and not present:
        st.caption(PER_VARIABLE_NOTE, help="Keras' global_clipnorm is the global norm clipping instead.")
    if config.view3d:
        result = run_modes(config)
    else:
        # The 2-D map draws its cross of runs: the view's own runs are read from it, so the words
        # and the map agree to the bit, and the first map compiles one program, not two.
        point = (config.lr, config.threshold)
        last = ss.get(VIEW_POINT)
        first = "lr" if last is not None and last[1] == point[1] and last[0] != point[0] else "c"
        ss[VIEW_POINT] = point
        runs = view_runs(config, view_modes(config), arm=cached_arm_runs, first=first)
        result = ExplorerRuns(config=config, runs=runs, window=config.scape.window)
    params_key = tuple(sorted(config.params.items()))
    image = ui.surface_image(config.landscape, params_key, IMAGE_RESOLUTION)
    # Predict-then-reveal: a guess belongs to one configuration; any change asks for a new one.
    guess_key = replace(config, scrub="")  # settings values are hashable
    if ss.get("ex_guess_key") != guess_key:
        ss.ex_guess, ss.ex_guess_key = None, guess_key
    ss[VIEW_RESULT] = result
    hiding = hides_the_answer(config)
    shown = ExplorerRuns(shown_config(config), result.runs, result.window) if hiding else result
    if config.predict:
        predict_panel(result, hiding)
    height = figure_height(present)
    if present:
        # The presets without the sidebar: a row of buttons above the map that wraps when narrow.
        with st.container(horizontal=True, wrap=True):
            for item in cf.PRESETS:
                st.button(
                    item.button_label,
                    key=f"ex_present_preset_{item.key}",
                    on_click=apply_preset,
                    args=(item.key,),
                    help=f"{item.label}. {item.caption}",
                    width="content",
                )
    map_col, side_col = st.columns([2, 1], gap="medium")
    with map_col:
        # (a container, not st.empty: an empty placeholder would blank the old map at once).
        map_slot = st.container()

    def draw_map() -> None:
        with map_slot:
            if config.view3d:
                font_size = 18 if present else 13
                surface = ui.surface(config.landscape, params_key, IMAGE_RESOLUTION)
                ui.plot(
                    figures.surface3d_figure(surface, shown, height=height, font_size=font_size), key="map"
                )
                return
            guess = ss.get("ex_guess") if config.predict else None
            cross = compute_cross(shown.config, arm=cached_arm_runs)
            payload = map_payload(
                cross,
                window=shown.window,
                axis_labels=scape.axis_labels,
                walls=scape.walls(dict(config.params), shown.window),
                image=image,
                guess=guess if isinstance(guess, tuple) else None,
                present=present,
                wall_color=WALL_COLOR,
                colour_scale=SURFACE_COLORSCALE,
                height=height - 140,
            )
            cliffs_map(
                payload,
                key="ex_map",
                on_commit=commit_map,
                on_click=apply_map_click,
                on_reset=reset_landscape,
            )

    # After a commit from the map, the map already shows the new paths, and the narration and
    # the table are what changes: they are sent first, before the new cross is computed. After
    # any other change the map is what the learner watches: it is sent first.
    committed = ss.pop(COMMITTED, False)
    if not committed:
        draw_map()
    with map_col:
        # More than three rules do not fit the side column: their table goes under the map.
        table = summary_html(shown)
        wide = len(shown.config.paths) > 3
        if table and wide:
            st.html(table)
            st.caption(outcome_note(config))
    with side_col:
        if table and not wide:
            st.html(table)
            st.caption(outcome_note(config))
        if hiding:
            st.markdown("*The story of this run is told once you have placed your guess.*")
        elif present:
            st.markdown(f"**{take_away(shown)}**")
        else:
            st.markdown("\n\n".join(narrate(result)))
        for line in number_format_notes(shown):  # float32 only: computed from the runs
            st.caption(line)
        for line in weight_decay_notes(shown):  # AdamW only: computed from the shown runs
            st.caption(line)
        if config.landscape == "pascanu" and not present:
            w, b = config.start
            st.page_link(
                site.page("rnn"),  # a page object: a link by file name fails in a fragment rerun
                label=f"Look inside the RNN at the start point (w = {w:.4g}, b = {b:.4g})",
                icon=":material/memory:",
                query_params=cf.rnn_to_query(cf.RnnView(w=w, b=b, T=int(config.params["T"]))),
            )
    if committed:
        draw_map()

    with st.expander("Loss, gradient norm and step length at every step", expanded=not present):
        # Drawn just after the map has been painted: the map shows a change first.
        ui.plot(figures.history_figure(shown, font_size=16 if present else 13), key="history", defer=True)


@st.fragment(key=SWEEP)
def sweep_section() -> None:
    ui.guarded(render_sweep)


def render_sweep() -> None:
    config = STATE.commit()  # its own rerun (the sweep control) changes the link too
    present = config.present
    st.subheader("Sweep inside the figure")
    st.segmented_control(
        "Sweep",
        ["c", "lr"],
        key="ex_scrub",
        label_visibility="collapsed",
        format_func=lambda setting: SCRUB_LABELS[setting],
    )
    st.caption(
        "Every value on the slider is computed at once, in one batched call, and sent to your "
        "browser: drag the slider under the map to watch the paths change with no waiting. "
        "The colours are the loss, as in the map above."
    )
    shown = shown_config(config)
    if config.scrub and shown.paths:
        params_key = tuple(sorted(config.params.items()))
        surface = ui.surface(config.landscape, params_key, IMAGE_RESOLUTION)
        image = ui.surface_image(config.landscape, params_key, IMAGE_RESOLUTION)
        sweep = ui.sweep(tuple(sorted(cf.to_query(shown).items())), config.scrub)
        height = figure_height(present)
        ui.chart(
            figures.sweep_figure(surface, sweep, height=height, font_size=18 if present else 14, image=image),
            key="sweep",
        )


@st.fragment(key=TAKE)
def take_home_section() -> None:
    result = ss.get(VIEW_RESULT)
    if result is not None:  # None: the view could not be computed, and says why
        ui.guarded(lambda: take_home(result))


ui.guarded(render)
