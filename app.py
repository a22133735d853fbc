"""Cliffs in loss landscapes: the entry point and router."""

import streamlit as st

st.set_page_config(page_title="Cliffs in loss landscapes", page_icon="assets/favicon.png", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/landscape:", url_path="home", default=True),
    st.Page("pages/explorer.py", title="Cliff Explorer", icon=":material/explore:", url_path="explorer"),
    st.Page("pages/sweeps.py", title="Sweeps", icon=":material/grid_on:", url_path="sweeps"),
    st.Page("pages/rnn.py", title="Inside the RNN", icon=":material/memory:", url_path="rnn"),
    st.Page("pages/network.py", title="A real network", icon=":material/hub:", url_path="network"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:", url_path="learn"),
    st.Page("pages/class.py", title="Class", icon=":material/groups:", url_path="class"),
]

page = st.navigation(PAGES)
page.run()
with st.sidebar:
    # Shared by every page: what the camera button on each chart saves.
    st.segmented_control(
        "chart downloads",
        ["png", "svg"],
        key="image_format",
        default="png",
        required=True,
        format_func=str.upper,
        help="The camera button on every chart saves it in this format.",
    )
