"""Inside the RNN: why the Pascanu cliff exists, step by step through time."""

from __future__ import annotations

import numpy as np
import streamlit as st

import landscapes as ls
import ui
from landscapes.views import config as cf

ui.init_page()
ss = st.session_state
PEAK_TS = (1, 2, 5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 125, 150, 175, 200)


@st.cache_data(max_entries=32, show_spinner="Measuring the cliff for every T…")
def peaks(w: float) -> ls.PeakGradients:
    return ls.peak_gradient_vs_T(w, PEAK_TS)


def seed(view: cf.RnnView) -> None:
    ss.rnn_w, ss.rnn_b, ss.rnn_T = view.w, view.b, view.T
    ss.rnn_view = view


def sync_from_url() -> None:
    query = st.query_params.to_dict()
    if "rnn_view" not in ss or (query and query != ss.get("rnn_written")):
        view, notices = cf.rnn_from_query(query)
        seed(view)
        ss.rnn_notices = notices
    elif any(key not in ss for key in ("rnn_w", "rnn_b", "rnn_T")):
        seed(ss.rnn_view)


def put_on_wall() -> None:
    ss.rnn_b = round(float(ls.pascanu_wall_b(ss.rnn_w)), 6)


def render() -> None:
    sync_from_url()
    with st.sidebar:
        st.subheader("The unit")
        st.slider("recurrent weight w", *cf.RNN_W_RANGE, key="rnn_w", step=0.01)
        st.number_input("bias b", *cf.RNN_B_RANGE, key="rnn_b", step=0.001, format="%.6f")
        st.button("Put b exactly on the wall", on_click=put_on_wall, width="stretch")
        st.slider("unrolled steps T", 1, 200, key="rnn_T")
    view = cf.RnnView(w=float(ss.rnn_w), b=float(ss.rnn_b), T=int(ss.rnn_T))
    ss.rnn_view = view
    written = cf.rnn_to_query(view)
    ss.rnn_written = written
    st.query_params.from_dict(written)

    st.title("Inside the RNN")
    ui.show_notices(ss.get("rnn_notices", []))
    ss.rnn_notices = []
    st.markdown(
        "The Pascanu landscape is one recurrent unit run for $T$ steps from $x_0 = 0.5$: "
        r"$x_t = w\,\sigma(x_{t-1}) + b$, scored only at the end by $E = (\sigma(x_T) - 0.7)^2$. "
        "Pick a point $(w, b)$ and look at what happens inside."
    )
    unroll = ls.unroll_rnn(view.w, view.b, view.T)
    wall_b = float(ls.pascanu_wall_b(view.w))
    grad = (float(unroll.contrib_w.sum()), float(unroll.contrib_b.sum()))
    cols = st.columns(4)
    cols[0].metric("loss E", f"{float(unroll.loss):.3g}")
    cols[1].metric("gradient norm |∇E|", f"{(grad[0] ** 2 + grad[1] ** 2) ** 0.5:.3g}")
    cols[2].metric("final state x_T", f"{float(unroll.states[-1]):.4g}")
    cols[3].metric("distance to the wall, b − b_wall", f"{view.b - wall_b:+.3g}")

    st.subheader("Why the wall is there")
    unstable = view.w > ls.PASCANU_CRITICAL_W
    slope = view.w * 0.6224593 * (1 - 0.6224593)
    st.markdown(
        f"On the line $b = 0.5 - \\sigma(0.5)\\,w$ (for this $w$: $b = {wall_b:.4f}$) the start state "
        "0.5 maps to itself, so the state never moves. Whether it *stays* there depends on the slope "
        f"of the map at 0.5, $w\\,\\sigma'(0.5) = {slope:.3f}$. "
        + (
            "That is **above 1**, so the fixed point repels: a bias a hair above the line sends the "
            "state running up to one attractor, a hair below sends it down to the other. The loss jumps "
            "between the two outcomes across a band that narrows with every step of the loop: that "
            "jump is the cliff."
            if unstable
            else f"That is **below 1** (it needs $w > {ls.PASCANU_CRITICAL_W:.3f}$ to pass 1), so the "
            "fixed point attracts and nearby states settle back: here there is no wall, only a gentle slope."
        )
    )

    left, right = st.columns(2)
    with left:
        ui.figure(ls.rnn_states_figure(unroll), key="states")
        st.caption("The hidden state over time: near the wall it lingers at 0.5, then breaks away.")
    with right:
        ui.figure(ls.rnn_jacobians_figure(unroll), key="factors")
        st.caption(
            "Each step multiplies the sensitivity by w·σ'(x): while those factors stay above 1 their "
            "running product, the product of Jacobians behind exploding gradients, grows exponentially."
        )
    ui.figure(ls.rnn_contributions_figure(unroll), key="contributions")
    size = np.abs(unroll.contrib_w) + np.abs(unroll.contrib_b)
    top = int(np.argmax(size)) + 1 if size.size else 0
    share_early = float(size[: max(1, len(size) // 3)].sum() / size.sum()) if size.sum() > 0 else 0.0
    st.caption(
        f"How much each time step adds to ∂E/∂w and ∂E/∂b (they sum to the gradient). The largest term "
        f"here comes from step {top} of {view.T}, and the first third of the steps carry "
        f"{100 * share_early:.0f}% of the total. Right on the wall the early steps win, because their "
        "influence passes through the longest product of factors above 1; once the state has broken "
        "away, the later factors shrink and the last steps dominate."
    )

    st.subheader("The cliff sharpens exponentially with T")
    peak = peaks(round(view.w, 4))
    ui.figure(ls.peak_gradient_figure(peak), key="peaks")
    st.caption(
        f"The largest gradient norm across the wall at w = {view.w:.2f}, for each length T (log scale). "
        "A straight line on this plot is exponential growth: each extra step of the loop multiplies "
        "the cliff's steepness by roughly the same factor."
    )
    explorer_query = {"landscape": "pascanu", "T": str(view.T), "start": f"{view.w:.6g},{view.b:.6g}"}
    st.page_link(
        "pages/explorer.py",
        label="Start a descent from this (w, b) in the Cliff Explorer",
        icon=":material/explore:",
        query_params=explorer_query,
    )


ui.guarded(render)
