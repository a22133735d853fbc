"""Home: what a cliff is, why clipping helps, and where to go next."""

import streamlit as st

import ui
from landscapes import figures
from landscapes.views import config as cf
from landscapes.views.explorer import run_modes

ui.init_page()

#: Every other page, with one line on what to look for in its figure (pinned in tests/test_pages.py).
LINKS = (
    (
        "pages/explorer.py",
        "Cliff Explorer",
        ":material/explore:",
        "one start, three paths: watch the unclipped path leave the map at the wall while the "
        "clipped ones stay in view.",
    ),
    (
        "pages/sweeps.py",
        "Sweeps",
        ":material/grid_on:",
        "thousands of runs at once, one per start (or per learning rate and threshold): compare the "
        "three maps cell by cell to see which starts each rule keeps on the map.",
    ),
    (
        "pages/rnn.py",
        "Inside the RNN",
        ":material/memory:",
        "the hidden state step by step: on the wall (for w above 4.26) every per-step factor "
        "w·σ′(x) is above 1, so their product, and with it the gradient, grows with the number of "
        "steps T.",
    ),
    (
        "pages/network.py",
        "A real network",
        ":material/hub:",
        "a small RNN trained live on Pascanu's adding problem with up to four clipping rules side by "
        "side: watch its gradient norm spike, then look at the cliff in a slice of its own loss.",
    ),
    (
        "pages/learn.py",
        "Learn",
        ":material/school:",
        "value against norm clipping on one vector: norm clipping keeps its direction, value "
        "clipping turns it; then where clipping goes in a training loop and how to choose c.",
    ),
    (
        "pages/class.py",
        "Class",
        ":material/groups:",
        "predict, then reveal with a whole class: students click their guess on their phones, the "
        "projector shows every guess as a cloud, then the real paths appear with how close each came.",
    ),
)


def render() -> None:
    st.title("Cliffs in loss landscapes")
    st.markdown(
        "Some loss surfaces are mostly gentle but hide **cliffs**: thin walls where the loss changes "
        "abruptly and the gradient is thousands of times larger than anywhere nearby. Recurrent networks "
        "grow them naturally, because the gradient is a product of many per-step factors. A plain "
        "gradient step taken on a cliff face is as long as the gradient is large, so one step can undo "
        "all the progress so far and fling the parameters far away.\n\n"
        "**Gradient clipping** caps the gradient before the optimizer uses it. Norm clipping shortens "
        "any gradient longer than a threshold *c* to length *c* and keeps its direction, so with plain "
        "gradient descent no step is longer than learning rate × *c*. Momentum and Adam build each "
        "step from several clipped gradients, so that cap does not carry over as it is: with momentum "
        "0.9 a step can reach about ten times learning rate × *c*. Value clipping caps each component "
        "separately, which also bends the direction. Below, the same start on the "
        "single-unit RNN of Pascanu, Mikolov & Bengio (2013), descended three ways."
    )
    result = run_modes(cf.ExplorerConfig(steps=40))
    surface = ui.surface("pascanu", (("T", 50.0),), 200)
    image = ui.surface_image("pascanu", (("T", 50.0),), 200)
    ui.plot(figures.map_figure(surface, result, height=520, image=image), key="map")
    st.subheader("Where next")
    for path, title, icon, notice in LINKS:
        st.page_link(path, label=title, icon=icon)
        st.caption(notice)


ui.guarded(render)
