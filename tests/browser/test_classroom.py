"""The Class page in a real browser: a teacher context and three student contexts on one server
(its own SQLite data folder). Students join by code, click the map and submit; the teacher's view
counts the guesses by itself; the reveal reaches every student without a click; a student's page
has no teacher controls and never holds the teacher's secret."""

from __future__ import annotations

import tempfile
from urllib.parse import parse_qs, urlparse

import pytest

from .map_helpers import MAP, click_map_at, map_state
from .streamlit_helpers import expect_rerun, goto, has_exception, new_context

pytestmark = pytest.mark.browser

TEACHER_BUTTONS = ("Ask", "Reveal", "Next question", "Close the room", "Start a room")
GUESSES = [(5.0, -2.0), (5.6, -1.3), (4.4, -1.5)]


@pytest.fixture(scope="module")
def class_url(streamlit_server) -> str:
    return streamlit_server("app.py", CLIFFS_DATA=tempfile.mkdtemp(prefix="cliffs-class-")).url


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=False)


def class_count(page) -> str:
    return page.locator("[data-testid='class-count']").inner_text().strip()


def test_a_class_joins_guesses_and_sees_the_reveal(browser, class_url, page, console_errors):
    # the teacher opens a room and asks the first preset (the first visit of this fresh server is
    # to /class: goto fails if Streamlit answers "Page not found" to it)
    goto(page, class_url, "/class")
    with expect_rerun(page):
        button(page, "Start a room").click()
    code = page.locator("[data-testid='class-code']").inner_text().strip()
    secret = query(page)["teacher"]
    assert len(code) == 6 and query(page)["code"] == code and len(secret) >= 22
    assert page.locator("img").count() >= 1  # the QR code
    with expect_rerun(page):
        button(page, "Ask").click()
    page.wait_for_function("() => document.querySelector(\"[data-testid='class-count']\")")
    assert class_count(page) == "0"

    students = []
    try:
        for i, (x, y) in enumerate(GUESSES):
            context = new_context(browser, viewport={"width": 390, "height": 844})
            student = context.new_page()
            students.append((context, student))
            goto(student, class_url, "/class")
            student.get_by_role("textbox", name="Room code").fill(code.lower())
            student.get_by_role("textbox", name="Your name", exact=False).fill(f"Student {i}")
            with expect_rerun(student):
                button(student, "Join").click()
            student.locator(MAP).wait_for()
            # a student's page: no teacher controls, no secret in its address or its HTML
            assert "me" in query(student) and "teacher" not in query(student)
            for name in TEACHER_BUTTONS:
                assert button(student, name).count() == 0, name
            assert secret not in student.url and secret not in student.content()
            # the unclipped path is not on the student's map before the reveal
            assert "none" not in map_state(student)["paths"]
            # the question is fixed: its map has no learning-rate or c slider to move
            assert student.locator(f"{MAP} .cm-sliders").count() == 1
            assert not student.locator(f"{MAP} .cm-sliders").is_visible()
            with expect_rerun(student):
                click_map_at(student, x, y)
            assert map_state(student)["guess"] == pytest.approx([x, y], abs=0.02)
            with expect_rerun(student):
                button(student, "Submit my guess").click()
            assert student.get_by_text("is in.", exact=False).count() == 1
            assert not has_exception(student)

        # the teacher's view counts them by itself (its fragment reads the store every 1.5 s)
        page.wait_for_function(
            "(n) => document.querySelector(\"[data-testid='class-count']\")?.textContent.trim() === n",
            arg=str(len(GUESSES)),
            timeout=15_000,
        )
        with expect_rerun(page):
            button(page, "Reveal").click()
        assert page.get_by_text("leaves the map at step", exact=False).count() >= 1

        # the reveal reaches every student without them touching anything (their page polls)
        for _, student in students:
            student.get_by_text("leaves the map at step", exact=False).first.wait_for(timeout=15_000)
            student.wait_for_function(
                "(sel) => 'none' in JSON.parse(document.querySelector(sel).dataset.paths)", arg=MAP
            )
            assert student.get_by_text("away:", exact=False).count() >= 1  # their own distance
            assert button(student, "Submit my guess").count() == 0
            assert secret not in student.content()
            assert not has_exception(student)
        with expect_rerun(page):
            button(page, "Next question").click()
        assert button(page, "Ask").count() == 1 and query(page)["code"] == code
    finally:
        for context, _ in students:
            context.close()
    assert not has_exception(page)
    assert not console_errors, console_errors
