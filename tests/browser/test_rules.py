"""Every clipping rule in the real app: five rules from one link, and a rule's own control moves its path."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from landscapes.core.clipping import CLIP_SPECS

from .streamlit_helpers import expect_rerun, goto, has_exception, plotly_chart

pytestmark = pytest.mark.browser

FIVE = ("none", "norm", "agc", "autoclip", "zclip")


def path_trace(chart: dict, mode: str) -> dict:
    """The line of rule ``mode``'s path on the Explorer map (its label, drawn as lines)."""
    label = CLIP_SPECS[mode].label
    return next(t for t in chart["data"] if t.get("name") == label and "lines" in t.get("mode", ""))


def test_a_link_with_five_rules_draws_five_paths_in_their_styles(page, app_url, console_errors):
    goto(page, app_url, f"/explorer?paths={','.join(FIVE)}&opt_autoclip=threshold:50")
    chart = plotly_chart(page, 0)
    for mode in FIVE:
        trace = path_trace(chart, mode)
        spec = CLIP_SPECS[mode]
        assert trace["line"]["color"] == spec.color and trace["line"]["dash"] == spec.dash
        assert len(trace["x"]) >= 2  # a drawn path, not an empty trace
    paths = {t.get("name") for t in chart["data"] if "lines" in t.get("mode", "")}
    assert {CLIP_SPECS[m].label for m in FIVE} <= paths
    assert "value clipping" not in paths
    query = parse_qs(urlparse(page.url).query)
    assert query["paths"] == [",".join(FIVE)] and query["opt_autoclip"] == ["threshold:50"]
    assert not has_exception(page) and console_errors == []


def test_a_rules_own_control_changes_its_path_and_the_link(page, app_url, console_errors):
    goto(page, app_url, "/explorer?paths=none,zclip")
    before = path_trace(plotly_chart(page, 0), "zclip")
    expander = page.locator("[data-testid='stSidebar'] [data-testid='stExpander'] summary")
    expander.filter(has_text="ZClip (z-score)").first.click()  # open its settings
    box = page.get_by_label("warmup", exact=True)
    box.wait_for(state="visible")
    with expect_rerun(page):
        box.fill("3")
        box.press("Enter")
    after = path_trace(plotly_chart(page, 0), "zclip")
    assert (before["x"], before["y"]) != (after["x"], after["y"])
    assert parse_qs(urlparse(page.url).query)["opt_zclip"] == ["warmup:3"]
    assert not has_exception(page) and console_errors == []
