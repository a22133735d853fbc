"""Streamlit's floor: one slider and one two-point Plotly chart that depends on it.

The browser benchmark (`benchmarks/bench_app.py`) measures this app beside the
real one in the same run, so a noisy machine slows both and the ratio stays
meaningful. Keep it minimal: anything added here raises the floor.

    streamlit run benchmarks/reference_app.py
"""

import plotly.graph_objects as go
import streamlit as st

value = st.slider("Value", min_value=0, max_value=1000, value=0)

figure = go.Figure(go.Scatter(x=[0, 1], y=[0, value], mode="lines+markers"))
# Fixed axes: the chart's data changes on every rerun, its frame does not.
figure.update_layout(height=300, xaxis_range=[-0.1, 1.1], yaxis_range=[-10, 1010])
st.plotly_chart(figure)
