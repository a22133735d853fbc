"""Every page of the app in one table: app.py routes them; a page links to another by its
``url_path`` with ``page`` (an ``st.Page`` object, which also works from a fragment rerun,
where a link by file name finds no pages to look it up in)."""

from __future__ import annotations

import streamlit as st

#: (script, title, icon, url_path), in the navigation's order; the first is the default page.
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("pages/home.py", "Home", ":material/landscape:", "home"),
    ("pages/explorer.py", "Cliff Explorer", ":material/explore:", "explorer"),
    ("pages/sweeps.py", "Sweeps", ":material/grid_on:", "sweeps"),
    ("pages/rnn.py", "Inside the RNN", ":material/memory:", "rnn"),
    ("pages/network.py", "A real network", ":material/hub:", "network"),
    ("pages/learn.py", "Learn", ":material/school:", "learn"),
    ("pages/class.py", "Class", ":material/groups:", "class"),
)


def page(url_path: str) -> st.Page:
    """The app's page at ``url_path`` (e.g. "rnn")."""
    for script, title, icon, path in PAGES:
        if path == url_path:
            return st.Page(script, title=title, icon=icon, url_path=path, default=path == PAGES[0][3])
    raise ValueError(f"no page at {url_path!r}; the pages: {', '.join(p[3] for p in PAGES)}")


def app_pages() -> list[st.Page]:
    """Every page, for ``st.navigation``."""
    return [page(path) for *_, path in PAGES]
