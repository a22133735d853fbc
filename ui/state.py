"""One page's settings: the round trip widgets <-> settings value <-> URL, in one place.

A page describes its settings once (how to read them from a URL, write them
to one, lay them into widget keys and read them back), and ``PageState`` runs
the protocol every page shares:

- a new link (the first visit, or a URL the page did not write itself) replaces
  the settings, and the corrections ``parse`` made are shown once;
- widgets that were not drawn on another page lose their state in Streamlit:
  they are put back from the last settings value;
- after the widgets are drawn, ``commit`` reads them into a new settings value
  and writes its URL (so a copied link is always the view on screen).

Every key lives under the page's prefix (``ex_``, ``sw_``, ``rnn_``), so two
pages never share a widget by accident. Settings values are hashable frozen
dataclasses: caches key on the value itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

S = TypeVar("S")


@dataclass(frozen=True)
class PageState(Generic[S]):
    """The settings protocol of one page.

    Attributes:
      prefix: the page's key prefix; widget keys are ``prefix + name``.
      parse: ``query -> (settings, notices)``; never raises (corrections are notices).
      write: ``settings -> query`` (exact: ``parse(write(s)) == (s, [])``).
      to_widgets: ``settings -> {name: widget value}`` for every widget the page draws.
      from_widgets: ``get -> settings``, where ``get(name)`` is the widget's value.
      arrive: optional settings to start from when the URL is empty (e.g. the Sweeps page
        opened from the Explorer starts from the Explorer's settings).
    """

    prefix: str
    parse: Callable[[Mapping[str, str]], tuple[S, list[str]]]
    write: Callable[[S], dict[str, str]]
    to_widgets: Callable[[S], dict[str, Any]]
    from_widgets: Callable[[Callable[[str], Any]], S]
    arrive: Callable[[], S | None] | None = None

    def key(self, name: str) -> str:
        """The session key of widget (or slot) ``name``."""
        return self.prefix + name

    @property
    def value(self) -> S:
        """The settings value of the last run (or the one just parsed from the link)."""
        return st.session_state[self.key("settings")]

    def sync(self) -> S:
        """Call first on every run: takes a new link, or restores widgets lost on another page."""
        ss = st.session_state
        query = st.query_params.to_dict()
        if self.key("settings") not in ss or (query and query != ss.get(self.key("written"))):
            arrived = self.arrive() if (self.arrive is not None and not query) else None
            value, notices = (arrived, []) if arrived is not None else self.parse(query)
            self.seed(value)
            ss[self.key("notices")] = list(notices)
        elif any(self.key(name) not in ss for name in self.to_widgets(self.value)):
            self.seed(self.value)
        return self.value

    def seed(self, value: S) -> None:
        """Puts ``value`` into the widgets (call before they are drawn, or from a callback)."""
        ss = st.session_state
        for name, widget_value in self.to_widgets(value).items():
            ss[self.key(name)] = widget_value
        ss[self.key("settings")] = value

    def commit(self) -> S:
        """After the widgets are drawn: the settings they show, written to the URL."""
        ss = st.session_state
        value = self.from_widgets(lambda name: ss.get(self.key(name)))
        ss[self.key("settings")] = value
        written = self.write(value)
        ss[self.key("written")] = written
        st.query_params.from_dict(written)
        return value

    def notices(self) -> list[str]:
        """The corrections made to the last link, once (later runs get an empty list)."""
        return st.session_state.pop(self.key("notices"), None) or []
