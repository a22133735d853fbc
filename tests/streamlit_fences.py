"""The one place the AppTests lean on Streamlit internals (each use is exercised by a test, so an
upgrade that breaks one fails loudly here rather than silently elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def captured_downloads() -> Iterator[dict[str, bytes]]:
    """The bytes behind every ``st.download_button`` drawn while the block runs, by the button's URL.

    Internal: AppTest stores download payloads in a ``MemoryMediaFileStorage`` that it drops after
    each run, so the payload is recorded as it is stored.
    """
    from streamlit.runtime import memory_media_file_storage as storage

    original = storage.MemoryMediaFileStorage.load_and_get_id
    captured: dict[str, bytes] = {}

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        captured[self.get_url(file_id)] = self.get_file(file_id).content
        return file_id

    storage.MemoryMediaFileStorage.load_and_get_id = record
    try:
        yield captured
    finally:
        storage.MemoryMediaFileStorage.load_and_get_id = original
