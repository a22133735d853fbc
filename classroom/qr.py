"""The join link and its QR code (segno), for the projector."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno

from .text import normalize_code

#: The Class page's path in the app (``app.py`` routes it).
CLASS_PATH = "/class"


def join_link(base_url: str, code: str) -> str:
    """The link a student opens to join room ``code``, e.g. ``https://host/class?code=KPX3A9``.

    >>> join_link("http://localhost:8501/", "kpx3a9")
    'http://localhost:8501/class?code=KPX3A9'
    """
    return f"{base_url.rstrip('/')}{CLASS_PATH}?{urlencode({'code': normalize_code(code)})}"


def join_qr(link: str) -> segno.QRCode:
    """The QR code of ``link`` (error correction at least M; raised while the size allows)."""
    return segno.make_qr(link, error="m")


def join_qr_svg(link: str, scale: int = 8) -> bytes:
    """The QR code of ``link`` as an SVG document (dark modules on white, 4-module quiet zone)."""
    out = io.BytesIO()
    join_qr(link).save(out, kind="svg", scale=scale, border=4, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue()


def join_qr_png(link: str, scale: int = 8) -> bytes:
    """The QR code of ``link`` as a PNG image, ``scale`` pixels per module, 4-module quiet zone."""
    out = io.BytesIO()
    join_qr(link).save(out, kind="png", scale=scale, border=4, dark="#000", light="#fff")
    return out.getvalue()
