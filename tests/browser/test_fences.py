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
# the page at every such mutation: the main area's animation and every stale element's own
# transition and opacity; once, the fade is also seeked to its end, to read the faded opacities.
STALE_PROBE = """() => {
  const seen = (window.__stale = []);
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  new MutationObserver(() => {
    const stale = Array.from(main.querySelectorAll('[data-stale="true"]'));
    if (!stale.length) return;
    const mainStyle = getComputedStyle(main);
    const own = (els) => Array.from(new Set(els.map((e) => {
      const style = getComputedStyle(e);
      return style.transitionDuration + ' ' + style.opacity;
    })));
    const record = {
      fade: [mainStyle.animationName, mainStyle.animationDuration, mainStyle.animationDelay].join(' '),
      own: own(stale),
    };
    const fresh = Array.from(main.querySelectorAll('[data-testid="stElementContainer"]'))
      .filter((e) => e.dataset.stale !== 'true');
    if (!window.__seeked && fresh.length) {  // some elements already redrawn, some awaited
      const fade = document.getAnimations().find((a) => a.effect && a.effect.target === main);
      if (fade) {
        window.__seeked = true;
        const now = fade.currentTime;
        fade.currentTime = 5000;  // long after the delay and the fade
        record.faded = own(stale);
        record.fresh = own(fresh);
        fade.currentTime = now;
      }
    }
    seen.push(record);
  }).observe(main, { subtree: true, attributes: true, attributeFilter: ['data-stale'] });
}"""


def test_a_rerun_fades_its_stale_elements_with_one_animation(page, app_url):
    """BASE_CSS replaces Streamlit's fade of each stale element (a transition per element) by one
    animation of the main area that the stale elements take their opacity from. This fails if
    Streamlit stops marking stale elements with data-stale, if its own per-element transitions
    come back through the CSS, or if the fade no longer reaches the stale elements alone."""
    from ui.fences import STALE_FADE

    from .streamlit_helpers import goto, slider, wait_for_rerun

    goto(page, app_url, "/explorer")
    page.evaluate(STALE_PROBE)
    thumb = slider(page, "steps")
    thumb.focus()
    thumb.press("ArrowRight")
    wait_for_rerun(page)
    seen = page.evaluate("window.__stale")
    assert seen, "no element was marked stale during the rerun"
    opacity, duration, delay = STALE_FADE
    assert {s["fade"] for s in seen} == {f"cliffs-stale-fade {duration} {delay}"}
    # A quick rerun: no element has a transition of its own, and none has started to fade.
    assert {own for s in seen for own in s["own"]} == {"0s 1"}
    # Seeked to its end, the fade dims the stale elements to Streamlit's opacity, and no other.
    seeked = [s for s in seen if "faded" in s]
    assert len(seeked) == 1
    assert seeked[0]["faded"] == [f"0s {opacity}"] and seeked[0]["fresh"] == ["0s 1"]
    # After the rerun nothing is stale, and the main area runs no animation.
    main = page.locator("[data-testid='stMainBlockContainer']")
    assert page.locator("[data-stale='true']").count() == 0
    assert main.evaluate("(e) => getComputedStyle(e).animationName") == "none"
