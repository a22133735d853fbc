"""The "A real network" page in Chromium: live training with a progress bar, the charts, the slice."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .streamlit_helpers import has_exception, plotly_charts, wait_for_app

pytestmark = pytest.mark.browser

#: Small enough to train in seconds once compiled, long enough to see the progress bar.
QUERY = "/network?T=8&H=6&steps=3000&lr=0.15&opt=momentum&rule1=none&rule2=norm&c2=1"


def test_the_network_trains_live_then_shows_its_charts_and_the_slice(page, app_url, console_errors):
    page.goto(app_url.rstrip("/") + QUERY, wait_until="domcontentloaded", timeout=300_000)
    # While it trains: a progress bar, first while compiling, then counting the steps.
    progress = page.locator("[data-testid='stProgress']")
    progress.wait_for(state="visible", timeout=300_000)
    page.get_by_text("Training: step", exact=False).first.wait_for(state="visible", timeout=300_000)
    assert not has_exception(page)
    # Charts are drawn as it goes: the loss chart is on the page before the training ends.
    page.locator(".js-plotly-plot").first.wait_for(state="attached", timeout=300_000)
    wait_for_app(page, timeout=600, charts=6)
    assert progress.count() == 0, "the progress bar is gone at the end"
    charts = plotly_charts(page)
    assert len(charts) == 6
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert titles[0] == "Loss" and titles[1].startswith("Global gradient norm")
    assert titles[-1].startswith("Loss around step")
    heat = charts[-1]["data"][0]
    assert heat["type"] == "heatmap" and len(heat["z"]) == 65 and len(heat["z"][0]) == 65
    loss_names = {t.get("name") for t in charts[0]["data"]}
    assert {"no clipping: held-out", "norm clipping (c = 1): held-out"} <= loss_names
    assert page.get_by_text("The cliff in this network").count() == 1
    query = parse_qs(urlparse(page.url).query)
    assert query["steps"] == ["3000"] and query["rule2"] == ["norm"]
    assert not has_exception(page) and console_errors == []
