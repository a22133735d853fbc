"""Learn: the ideas behind the pictures, each with a live figure."""

from __future__ import annotations

import numpy as np
import streamlit as st

import landscapes as ls
import ui
from landscapes.views import config as cf

ui.init_page()
ss = st.session_state


def current_config() -> cf.ExplorerConfig:
    """The Explorer's settings in this session (or the default catapult)."""
    return ss.get("explorer_cfg") or cf.ExplorerConfig()


def section_exploding(section: ls.LearnSection) -> None:
    T = st.slider("unrolled steps T", 1, 200, 50, key="learn_T")
    unroll = ls.unroll_rnn(5.0, float(ls.pascanu_wall_b(5.0)) + 1e-6, T)
    ui.figure(ls.rnn_jacobians_figure(unroll), key="learn_factors")
    st.caption(
        f"At w = 5 on the wall every factor is about {5 * 0.6224593 * 0.3775407:.3f}; after T = {T} steps "
        f"their product is {float(np.abs(unroll.running_product[-1])):.3g}."
    )


def section_value_vs_norm(section: ls.LearnSection) -> None:
    st.markdown("Set a gradient and a threshold, and compare the two rules.")
    a, b, c = st.columns(3)
    g1 = a.slider("g₁", -10.0, 10.0, 6.0, 0.1, key="learn_g1")
    g2 = b.slider("g₂", -10.0, 10.0, 1.5, 0.1, key="learn_g2")
    threshold = c.slider("threshold c", 0.1, 5.0, 1.0, 0.1, key="learn_c")
    comparison = ls.clip_comparison(np.array([g1, g2]), threshold)
    left, right = st.columns([3, 2])
    with left:
        ui.figure(ls.clip_vector_figure(np.array([g1, g2]), threshold), key="learn_vectors")
    with right:
        st.metric("length of g", f"{np.linalg.norm([g1, g2]):.3g}")
        st.metric("value-clipped length", f"{np.linalg.norm(comparison.value_clipped):.3g}")
        st.metric("norm-clipped length", f"{np.linalg.norm(comparison.norm_clipped):.3g}")
        st.metric("value clipping turns g by", f"{comparison.value_angle:.1f}°")


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
            verdict = (
                "Its path is **identical, step for step, to the run with no clipping at all**."
                if same
                else f"Clipping fired on {int(np.sum(demo.clip_fired))} steps and changed the path."
            )
            st.markdown(f"{demo.order.verdict} {verdict}")
    st.caption(
        f"(Your current Explorer settings: {config.landscape}, lr = {config.lr:g}, c = {config.threshold:g}.)"
    )


def section_threshold(section: ls.LearnSection) -> None:
    config = current_config()
    run = ls.simulate(
        config.landscape,
        config.start,
        config.lr,
        max(config.steps, 200),
        "norm",
        config.threshold,
        config.optimizer,
        **config.params,
    )
    if run.steps_taken == 0:
        st.info("The current run took no steps, so there are no gradient norms to show.")
        return
    advice = ls.threshold_advice(run)
    ui.figure(ls.grad_norm_histogram(run, threshold=config.threshold), key="learn_histogram")
    inside = advice.low <= config.threshold <= advice.high
    st.markdown(
        f"Over the {run.steps_taken} steps of the current Explorer run (norm clipping), the average "
        f"gradient norm is **{advice.mean_norm:.3g}**, so Pascanu's rule of thumb suggests a threshold "
        f"between **{advice.low:.3g}** and **{advice.high:.3g}**. Your threshold c = {config.threshold:g} "
        + ("lies inside that band." if inside else "lies outside it.")
    )


def section_limits(section: ls.LearnSection) -> None:
    unroll = ls.unroll_rnn(2.0, -1.0, 50)
    ui.figure(ls.rnn_contributions_figure(unroll), key="learn_vanishing")
    st.caption(
        "Far from the wall (here w = 2, b = -1) the factors are below 1: the early steps contribute almost "
        "nothing to the gradient. Clipping only ever shrinks gradients, so it cannot bring these back."
    )


LIVE = {
    "exploding": section_exploding,
    "value_vs_norm": section_value_vs_norm,
    "placement": section_placement,
    "threshold": section_threshold,
    "limits": section_limits,
}


def render() -> None:
    st.title("Learn: exploding gradients and clipping")
    st.markdown("Five short sections, each with a figure you can play with.")
    for section in ls.LEARN_SECTIONS:
        st.header(section.title)
        st.markdown(section.body)
        live = LIVE.get(section.key)
        if live is not None:
            live(section)
        if section.sources:
            st.caption("Sources: " + "; ".join(section.sources))


ui.guarded(render)
