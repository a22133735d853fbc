"""Every clipping rule in the real app: five rules from one link, and a rule's own control moves its path."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from landscapes.core.clipping import CLIP_SPECS

from .map_helpers import map_state
from .streamlit_helpers import expect_rerun, goto, has_exception

pytestmark = pytest.mark.browser

FIVE = ("none", "norm", "agc", "autoclip", "zclip")


def test_a_link_with_five_rules_draws_five_paths_in_their_styles(page, app_url, console_errors):
    goto(page, app_url, f"/explorer?paths={','.join(FIVE)}&opt_autoclip=threshold:50")
    state = map_state(page)
    for mode in FIVE:
        spec = CLIP_SPECS[mode]
        style = state["styles"][mode]
        assert style["color"] == spec.color and style["dash"] == spec.dash and style["label"] == spec.label
        assert len(state["paths"][mode]) >= 2  # a drawn path, not an empty one
    assert set(state["paths"]) == set(FIVE)
    query = parse_qs(urlparse(page.url).query)
    assert query["paths"] == [",".join(FIVE)] and query["opt_autoclip"] == ["threshold:50"]
    assert not has_exception(page) and console_errors == []


def test_a_rules_own_control_changes_its_path_and_the_link(page, app_url, console_errors):
    goto(page, app_url, "/explorer?paths=none,zclip")
    before = map_state(page)["paths"]["zclip"]
    expander = page.locator("[data-testid='stSidebar'] [data-testid='stExpander'] summary")
    expander.filter(has_text="ZClip (z-score)").first.click()  # open its settings
    box = page.get_by_label("warmup", exact=True)
    box.wait_for(state="visible")
    with expect_rerun(page):
        box.fill("3")
        box.press("Enter")
    after = map_state(page)["paths"]["zclip"]
    assert before != after
    assert parse_qs(urlparse(page.url).query)["opt_zclip"] == ["warmup:3"]
    assert not has_exception(page) and console_errors == []
