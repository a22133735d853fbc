"""The join link and its QR code: the image's modules are segno's encoding of the link."""

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import segno
from PIL import Image

from classroom import InvalidInput, join_link, join_qr, join_qr_png, join_qr_svg

LINK = "https://class.example.org/class?code=KPX3A9"


def modules_of_png(png: bytes, scale: int, border: int = 4) -> np.ndarray:
    """The dark/light module matrix read back from a PNG (the centre pixel of each module)."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    n = image.shape[0] // scale - 2 * border
    centres = (np.arange(n) + border) * scale + scale // 2
    return image[np.ix_(centres, centres)] < 128


def test_the_join_link_names_the_class_page_and_the_code():
    assert join_link("https://class.example.org/", " kpx-3a9") == LINK
    with pytest.raises(InvalidInput):
        join_link("https://class.example.org", "not a code")


def test_the_qr_code_encodes_the_link():
    qr = join_qr(LINK)
    assert qr.error in {"M", "Q", "H"} and qr.mode == "byte" and not qr.is_micro
    assert [list(row) for row in qr.matrix] == [list(row) for row in segno.make_qr(LINK, error="m").matrix]
    assert qr.matrix != join_qr(LINK.replace("KPX3A9", "KPX3A7")).matrix


@pytest.mark.parametrize("scale", [3, 8])
def test_the_png_draws_exactly_those_modules(scale):
    png = join_qr_png(LINK, scale=scale)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    expected = np.array([list(row) for row in join_qr(LINK).matrix], dtype=bool)
    read = modules_of_png(png, scale)
    assert read.shape == expected.shape and (read == expected).all()
    assert Image.open(io.BytesIO(png)).size == join_qr(LINK).symbol_size(scale=scale, border=4)


def test_the_svg_is_a_standalone_document_of_the_right_size():
    svg = join_qr_svg(LINK, scale=5)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    width, height = join_qr(LINK).symbol_size(scale=5, border=4)
    assert (int(root.get("width")), int(root.get("height"))) == (width, height)
    path = next(el for el in root.iter() if el.tag.endswith("path"))
    assert re.match(r"M\d", path.get("d", "").strip())  # the dark modules as one path
    assert b"<script" not in svg
