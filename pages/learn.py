"""Learn: the ideas behind the pictures, each with a live figure."""

from __future__ import annotations

import numpy as np
import streamlit as st

import landscapes as ls
import ui
from landscapes import figures
from landscapes.core.rnn import unroll_on_wall
from landscapes.lessons import check_band
from landscapes.lessons import learn_text as words
from landscapes.views import config as cf
from landscapes.views.explorer import run_modes

ui.init_page()
ss = st.session_state


def current_config() -> cf.ExplorerConfig:
    """The Explorer's settings in this session (or the default catapult)."""
    return ss.get("ex_settings") or cf.ExplorerConfig()  # the Explorer's ui.PageState slot


def section_exploding(section: ls.LearnSection) -> None:
    T = st.slider("unrolled steps T", 1, 200, 50, key="learn_T")
    # Exactly on the wall (computed in the distance from the fixed point): a
    # float64 b near it drifts off within ~100 steps, and the picture with it.
    unroll = unroll_on_wall(5.0, T)
    ui.figure(ls.rnn_jacobians_figure(unroll), key="learn_factors")
    st.caption(words.exploding_caption(unroll))


def section_value_vs_norm(section: ls.LearnSection) -> None:
    st.markdown("Set a gradient and a threshold, and compare the two rules.")
    a, b, c = st.columns(3)
    g1 = a.slider("g₁", -10.0, 10.0, 6.0, 0.1, key="learn_g1")
    g2 = b.slider("g₂", -10.0, 10.0, 1.5, 0.1, key="learn_g2")
    threshold = c.slider("threshold c", 0.1, 5.0, 1.0, 0.1, key="learn_c")
    grad = np.array([g1, g2])
    left, right = st.columns([3, 2])
    with left:
        ui.figure(ls.clip_vector_figure(grad, threshold), key="learn_vectors")
    with right:
        st.markdown(words.clip_table(ls.clip_comparison(grad, threshold)))


def section_placement(section: ls.LearnSection) -> None:
    config = current_config()
    demos = ls.placement_demos(start=(4.7, -2.2), lr=0.5, threshold=1.0, steps=30)
    ui.figure(ls.placement_figure(demos), key="learn_placement")
    plain = demos["unclipped"].trajectory
    for name in ("correct", "after_step", "after_zero_grad"):
        demo = demos[name]
        same = np.array_equal(demo.trajectory.params, plain.params)
        with st.expander(demo.order.title, expanded=name == "correct"):
            st.code(demo.order.code, language="python")
            fired = words.plural(int(demo.clip_fired.sum()), "step")
            verdict = (
                "Its path is **identical, step for step, to the run with no clipping at all**."
                if same
                else f"Clipping fired on {fired} and changed the path."
            )
            st.markdown(f"{demo.order.verdict} {verdict}")
    st.caption(
        "The demo always runs the catapult settings (pascanu, start (4.7, −2.2), lr = 0.5, c = 1, "
        f"30 steps); your current Explorer settings are {config.landscape}, lr = {config.lr:g}, "
        f"c = {config.threshold:g}. The next section uses yours."
    )


def section_threshold(section: ls.LearnSection) -> None:
    config = current_config()
    try:
        check = check_band(
            config.landscape,
            config.start,
            config.lr,
            config.steps,
            config.threshold,
            config.optimizer,
            **config.params,
        )
    except ValueError as err:
        st.info(f"The band cannot be read off the current Explorer run: {err}.")
        return
    ui.figure(ls.grad_norm_histogram(check.run, threshold=config.threshold), key="learn_histogram")
    st.markdown(words.band_text(check, config.threshold))


def section_limits(section: ls.LearnSection) -> None:
    unroll = ls.unroll_rnn(2.0, -1.0, 50)
    ui.figure(ls.rnn_contributions_figure(unroll, log_scale=True), key="learn_vanishing")
    st.caption(words.vanishing_caption(unroll))


def section_beyond(section: ls.LearnSection) -> None:
    stories = {story.key: story for story in words.BEYOND_STORIES}
    key = st.segmented_control(
        "story",
        list(stories),
        default="adaptive",
        key="learn_beyond",
        required=True,
        format_func=lambda k: stories[k].label,
        label_visibility="collapsed",
    )
    story = stories[key or "adaptive"]
    config = story.config
    result = run_modes(config)
    params_key = tuple(sorted(config.params.items()))
    surface = ui.surface(config.landscape, params_key, 200)
    image = ui.surface_image(config.landscape, params_key, 200)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        ui.plot(figures.map_figure(surface, result, height=560, image=image), key="learn_beyond_map")
    with right:
        st.markdown(
            f"From ({config.start[0]:g}, {config.start[1]:g}), learning rate {config.lr:g}, "
            f"{ls.OPTIMIZER_LABELS[config.optimizer]}, c = {config.threshold:g}, {config.steps} steps:"
        )
        st.markdown("\n".join(f"- {line}" for line in words.beyond_sentences(result)))
        st.page_link(
            "pages/explorer.py",
            label="Open these runs in the Cliff Explorer",
            icon=":material/explore:",
            query_params=cf.to_query(config),
        )
    if key == "adaptive":
        with st.expander("Each rule's own threshold at every step", expanded=True):
            ui.plot(figures.history_figure(result, height=560), key="learn_beyond_history", defer=True)


LIVE = {
    "beyond": section_beyond,
    "exploding": section_exploding,
    "value_vs_norm": section_value_vs_norm,
    "placement": section_placement,
    "threshold": section_threshold,
    "limits": section_limits,
}


def leave_presentation() -> None:
    st.query_params.pop("present", None)


def render() -> None:
    present, notices = cf.presentation_from_query(st.query_params.to_dict())
    ui.show_notices(notices)
    if present:
        ui.presentation_style()
        st.button("✕ Leave presentation mode", key="learn_leave_present", on_click=leave_presentation)
    st.title("Learn: exploding gradients and clipping")
    st.markdown("Short sections, each with a figure you can play with.")
    for section in ls.LEARN_SECTIONS:
        st.header(section.title)
        st.markdown(section.body)
        live = LIVE.get(section.key)
        if live is not None:
            live(section)
        if section.sources:
            st.caption("Sources: " + "; ".join(section.sources))


ui.guarded(render)
