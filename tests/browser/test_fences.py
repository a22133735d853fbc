"""Browser checks of the Streamlit internals the app leans on (see ui.fences): each fails on an
upgrade that breaks the internal it fences."""

from __future__ import annotations

import pytest

from .streamlit_helpers import StreamlitServer, exception_texts, has_exception, new_context, wait_for_app

pytestmark = pytest.mark.browser


def test_a_deep_link_as_the_very_first_request_to_a_fresh_server(browser):
    """The router flag (ui's _ensure_router): a fresh server's first request is a deep link to a
    page, and it must still run through app.py (wide layout, the app's menu, the settings of the link)."""
    with StreamlitServer("app.py") as server:  # a server no other test has touched
        context = new_context(browser, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{server.url}/explorer?landscape=ravine&lr=1.2&c=1&steps=100")
        wait_for_app(page)
        assert not has_exception(page), exception_texts(page)
        assert "Ravine under a cliff" in page.locator("h1").first.inner_text()
        # The app's own navigation (app.py's st.navigation) is there, with every page.
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        for title in ("Home", "Cliff Explorer", "Sweeps", "Inside the RNN", "Learn"):
            assert title in nav
        # Wide layout: the main block is wider than Streamlit's centered 736 px column.
        width = page.locator("[data-testid='stMainBlockContainer']").bounding_box()["width"]
        assert width > 900
        context.close()
