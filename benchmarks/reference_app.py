"""Streamlit's floor: one slider and one two-point Plotly chart that depends on it.

The browser benchmark (`benchmarks/bench_app.py`) measures this app beside the
real one in the same run, so a noisy machine slows both and the ratio stays
meaningful. Keep it minimal: anything added here raises the floor.

    streamlit run benchmarks/reference_app.py

With `?frames=N` in the URL the figure also carries N Plotly frames and a
Plotly slider over them: the floor for scrubbing inside a figure (no rerun).
"""

import plotly.graph_objects as go
import streamlit as st

value = st.slider("Value", min_value=0, max_value=1000, value=0)

figure = go.Figure(go.Scatter(x=[0, 1], y=[0, value], mode="lines+markers"))
# Fixed axes: the chart's data changes on every rerun, its frame does not.
figure.update_layout(height=300, xaxis_range=[-0.1, 1.1], yaxis_range=[-10, 1010])

frames = int(st.query_params.get("frames", 0))
if frames:
    names = [str(k) for k in range(frames)]
    figure.frames = [
        go.Frame(data=[go.Scatter(x=[0, 1], y=[0, 1000 * k / frames])], name=n) for k, n in enumerate(names)
    ]
    animate = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    figure.update_layout(
        sliders=[{"steps": [{"method": "animate", "label": n, "args": [[n], animate]} for n in names]}]
    )

st.plotly_chart(figure)
