"""Fuzzing /api/predict with pictures: hand-made hostile ones (decompression bombs, PNGs claiming
50000×50000 pixels, truncated files, data URLs that are not PNG) must be refused naming the
``image`` field, random bytes in a data URL of any image type get 422, and PNGs claiming any size
are refused before decoding (413 past the side limit)."""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tests.fuzzing import FUZZ, client, data_url, fuzz_settings, png_claiming, post, tally  # noqa: F401


def encoded(picture: Image.Image, form: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, form)
    return buffer.getvalue()


DIGIT = Image.new("L", (40, 40), 0)
DIGIT.paste(255, (15, 5, 25, 35))  # a stroke: a "1"
HOSTILE_PICTURES = {
    "PNG claiming 50000×50000": (data_url(png_claiming(50000, 50000, rows=8)), 413),
    "PNG claiming 2^31-1 wide": (data_url(png_claiming(2**31 - 1, 1, rows=0)), 413),
    "PNG claiming 1×100000": (data_url(png_claiming(1, 100000, rows=100)), 413),
    "bomb at the side limit, no ink": (data_url(png_claiming(2048, 2048)), 422),
    "zTXt text bomb": (data_url(png_claiming(28, 28, text_bomb=50 << 20)), 422),
    "truncated PNG": (data_url(encoded(DIGIT, "PNG")[:60]), 422),
    "PNG of width 0": (data_url(png_claiming(0, 10, rows=0)), 422),
    "PNG signature only": (data_url(b"\x89PNG\r\n\x1a\n"), 422),
    "text as image/png": (data_url(b"hello, world"), 422),
    "SVG": (data_url(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"), 422),
    "text/plain data URL": (data_url(b"1", "text/plain"), 422),
    "application/pdf data URL": (data_url(b"%PDF-1.4", "application/pdf"), 422),
    "no base64 marker": ("data:image/png," + "A" * 100, 422),
    "bad base64": ("data:image/png;base64,@@@@", 422),
    "not a data URL": ("https://example.com/digit.png", 422),
    "file URL": ("file:///etc/passwd", 422),
    "empty picture": (data_url(encoded(Image.new("L", (28, 28), 255), "PNG")), 422),
    "a real digit as GIF": (data_url(encoded(DIGIT, "GIF"), "image/gif"), 200),
    "a real digit as PNG": (data_url(encoded(DIGIT, "PNG")), 200),
}


@pytest.mark.parametrize("name", HOSTILE_PICTURES)
def test_predict_refuses_hostile_pictures_naming_the_problem(client, tally, name):
    url, status = HOSTILE_PICTURES[name]
    response = post(client, tally, "hostile pictures", json.dumps({"image": url}).encode())
    assert response.status_code == status, response.text[:300]
    if status != 200:
        assert response.json()["detail"]["field"] == "image"


@FUZZ
@given(raw=st.binary(min_size=1, max_size=600), mime=st.sampled_from(["image/png", "image/gif", "image/jpeg",
                                                                       "image/webp", "image/bmp", "image/x-icon"]))
def test_predict_refuses_random_bytes_in_a_data_url(client, tally, raw, mime):
    response = post(client, tally, "predict data URLs", json.dumps({"image": data_url(raw, mime)}).encode())
    assert response.status_code == 422


@FUZZ
@given(width=st.integers(1, 2**31 - 1), height=st.integers(1, 2**31 - 1))
def test_pngs_claiming_any_size_are_refused_before_decoding(client, tally, width, height):
    raw = png_claiming(width, height, rows=min(height, 4) if width < 10**5 else 0)
    response = post(client, tally, "claimed PNG sizes", json.dumps({"image": data_url(raw)}).encode())
    assert response.status_code == (413 if max(width, height) > 2048 else 422)
