"""Home: what a cliff is, why clipping helps, and where to go next."""

import streamlit as st

import ui
from landscapes import figures
from landscapes.views import config as cf
from landscapes.views.explorer import run_modes

ui.init_page()


def render() -> None:
    st.title("Cliffs in loss landscapes")
    st.markdown(
        "Some loss surfaces are mostly gentle but hide **cliffs**: thin walls where the loss changes "
        "abruptly and the gradient is thousands of times larger than anywhere nearby. Recurrent networks "
        "grow them naturally, because the gradient is a product of many per-step factors. A plain "
        "gradient step taken on a cliff face is as long as the gradient is large, so one step can undo "
        "all the progress so far and fling the parameters far away.\n\n"
        "**Gradient clipping** caps the step. Norm clipping shortens any gradient longer than a "
        "threshold *c* to length *c* and keeps its direction, so no update is longer than "
        "learning rate × *c*; value clipping caps each component separately, which also bends the "
        "direction. Below, the same start on the single-unit RNN of Pascanu, Mikolov & Bengio (2013), "
        "descended three ways."
    )
    result = run_modes(cf.ExplorerConfig(steps=40))
    surface = ui.surface("pascanu", (("T", 50.0),), 200)
    image = ui.surface_image("pascanu", (("T", 50.0),), 200)
    ui.chart(figures.map_figure(surface, result, height=460, image=image), key="home_map")
    st.subheader("Where next")
    links = [
        ("pages/explorer.py", "Cliff Explorer: one cliff, three ways down it", ":material/explore:"),
        (
            "pages/rnn.py",
            "Inside the RNN: why the wall is there, step by step through time",
            ":material/memory:",
        ),
        (
            "pages/learn.py",
            "Learn: the two clipping rules, where clipping goes, choosing c",
            ":material/school:",
        ),
    ]
    for path, label, icon in links:
        st.page_link(path, label=label, icon=icon)


ui.guarded(render)
