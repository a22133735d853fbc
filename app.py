"""Cliffs in loss landscapes: the app's entry point (placeholder until the Explorer lands)."""

import streamlit as st

import landscapes as ls

st.set_page_config(page_title="Cliffs in loss landscapes", page_icon="🧗")
st.title("Cliffs in loss landscapes")
run = ls.simulate("pascanu", None, lr=0.5, steps=10)
st.write(f"Unclipped descent on the Pascanu RNN: {run.reason}; final loss {run.final_loss:.3g}.")
