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


# While Streamlit reruns, it marks each element awaiting the rerun with data-stale="true". Read in
# the page at every such mutation: the main area's transition and every stale element's own.
STALE_PROBE = """() => {
  const seen = (window.__stale = []);
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  new MutationObserver(() => {
    const stale = Array.from(main.querySelectorAll('[data-stale="true"]'));
    if (!stale.length) return;
    const mainStyle = getComputedStyle(main);
    seen.push({
      count: stale.length,
      mainDelay: mainStyle.transitionDelay,
      mainDuration: mainStyle.transitionDuration,
      own: Array.from(new Set(stale.map((e) => {
        const style = getComputedStyle(e);
        return style.transitionDuration + ' ' + style.opacity;
      }))),
    });
  }).observe(main, { subtree: true, attributes: true, attributeFilter: ['data-stale'] });
}"""


def test_a_rerun_fades_the_main_area_once_instead_of_each_element(page, app_url):
    """BASE_CSS replaces Streamlit's fade of each stale element (a transition per element) by one
    fade of the main area after the same delay. This fails if Streamlit stops marking stale
    elements with data-stale, or if its own per-element fade comes back through the CSS."""
    from ui.fences import MAIN_FADE

    from .streamlit_helpers import goto, slider, wait_for_rerun

    goto(page, app_url, "/explorer")
    page.evaluate(STALE_PROBE)
    thumb = slider(page, "steps")
    thumb.focus()
    thumb.press("ArrowRight")
    wait_for_rerun(page)
    seen = page.evaluate("window.__stale")
    assert seen, "no element was marked stale during the rerun"
    opacity, duration, delay = MAIN_FADE
    assert {(s["mainDuration"], s["mainDelay"]) for s in seen} == {(duration, delay)}
    assert {own for s in seen for own in s["own"]} == {"0s 1"}, "no element fades on its own"
    # After the rerun nothing is stale, and the main area is not faded.
    main = page.locator("[data-testid='stMainBlockContainer']")
    assert page.locator("[data-stale='true']").count() == 0
    assert main.evaluate("(e) => getComputedStyle(e).opacity") == "1"
    assert opacity != "1"
