"""Cliffs in loss landscapes: the entry point and router."""

import streamlit as st

from ui.site import app_pages

st.set_page_config(page_title="Cliffs in loss landscapes", page_icon="assets/favicon.png", layout="wide")

page = st.navigation(app_pages())
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
