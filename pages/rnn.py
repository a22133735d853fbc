"""Inside the RNN: why the Pascanu cliff exists, step by step through time."""

from __future__ import annotations

import numpy as np
import streamlit as st

import landscapes as ls
import ui
from landscapes.core.rnn import nearest_wall_b, wall_offset
from landscapes.lessons import learn_text as words
from landscapes.views import config as cf

ui.init_page()
ss = st.session_state
PEAK_TS = (1, 2, 5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 125, 150, 175, 200)


@st.cache_data(max_entries=32, show_spinner="Measuring the cliff for every T…")
def peaks(w: float) -> ls.PeakGradients:
    return ls.peak_gradient_vs_T(w, PEAK_TS)


STATE = ui.PageState(
    "rnn_", cf.rnn_from_query, cf.rnn_to_query, cf.rnn_widget_values, cf.rnn_from_widget_values
)


def put_on_wall() -> None:
    # The float64 number nearest the wall, unrounded: a rounded b sits ~1e-7
    # off the line, and the unstable fixed point makes that visible within
    # ~50 steps. The number box shows 6 decimals but keeps the whole value.
    ss.rnn_b = nearest_wall_b(float(ss.rnn_w))


def render() -> None:
    STATE.sync()
    with st.sidebar:
        st.subheader("The unit")
        st.slider("recurrent weight w", *cf.RNN_W_RANGE, key="rnn_w", step=0.01)
        st.number_input("bias b", *cf.RNN_B_RANGE, key="rnn_b", step=0.001, format="%.6f")
        st.button(
            "Put b on the wall",
            key="rnn_wall",
            on_click=put_on_wall,
            width="stretch",
            help="Sets b to the float64 number nearest the line b = 0.5 − σ(0.5) w "
            "(the box shows it rounded to 6 decimals).",
        )
        st.slider("unrolled steps T", 1, 200, key="rnn_T")
    view = STATE.commit()

    st.title("Inside the RNN")
    ui.show_notices(STATE.notices())
    st.markdown(
        "The Pascanu landscape is one recurrent unit run for $T$ steps from $x_0 = 0.5$: "
        r"$x_t = w\,\sigma(x_{t-1}) + b$, scored only at the end by $E = (\sigma(x_T) - 0.7)^2$. "
        "Pick a point $(w, b)$ and look at what happens inside."
    )
    unroll = ls.unroll_rnn(view.w, view.b, view.T)
    grad = unroll.grad
    cols = st.columns(4)
    cols[0].metric("loss E", f"{float(unroll.loss):.3g}")
    cols[1].metric("gradient norm |∇E|", f"{float(np.hypot(*grad)):.3g}")
    cols[2].metric("final state $x_T$", f"{float(unroll.states[-1]):.4g}")
    cols[3].metric("b − b_wall", f"{wall_offset(view.w, view.b):+.3g}")

    st.subheader("Why the wall is there")
    st.markdown(words.wall_explanation(unroll))

    left, right = st.columns(2)
    with left:
        ui.figure(ls.rnn_states_figure(unroll), key="states")
        st.caption(words.wall_state_text(unroll))
    with right:
        ui.figure(ls.rnn_jacobians_figure(unroll), key="factors")
        st.caption(words.jacobians_caption(unroll))
    ui.figure(ls.rnn_contributions_figure(unroll), key="contributions")
    st.caption(words.contributions_caption(unroll))

    peak = peaks(round(view.w, 4))
    st.subheader(words.peak_heading(peak))
    ui.figure(ls.peak_gradient_figure(peak), key="peaks")
    st.caption(words.peak_caption(peak))
    explorer_query = {
        "landscape": "pascanu",
        "T": str(view.T),
        "start": f"{cf.url_number(view.w)},{cf.url_number(view.b)}",
    }
    st.page_link(
        "pages/explorer.py",
        label="Start a descent from this (w, b) in the Cliff Explorer",
        icon=":material/explore:",
        query_params=explorer_query,
    )


ui.guarded(render)
