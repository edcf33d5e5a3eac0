"""No photo can take the server down (issue 19, item 2, for the representatives' photo upload).

A photo is decoded in a child process under a memory and a time limit (store/photo.py), as a
workbook is (loaders/workbook.py). Before, the server's own process decoded it: a 300 KB PNG of
6,300 × 6,300 16-bit pixels took it from 160 MB to 660 MB for each upload at once.
"""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import changes as ch
from store import photo, reps
from tests.data.hostile_files import png_bytes
from tests.test_mobile import add, csrf
from ui import mobile

# Declares 400 million pixels in 48 KB: refused before a single row is decoded.
DECLARED_HUGE = png_bytes(20_000, 20_000, bits=1, color_type=0)
# Within the pixel limit, but half a gigabyte decoded.
HEAVY = png_bytes(6_300, 6_300, bits=16, color_type=6)


def test_the_bombs_are_small_files():
    assert len(DECLARED_HUGE) < 60_000 and len(HEAVY) < 400_000


def test_a_photo_declaring_too_many_pixels_is_refused_in_words():
    with pytest.raises(ch.WriteRefused) as refused:
        reps.clean_photo(DECLARED_HUGE)
    assert "像素过多" in str(refused.value) and "too many pixels" in str(refused.value)


def test_the_server_process_decodes_nothing(monkeypatch):
    """Pillow in this process is out of order; the photo is still cleaned (the child decodes it)."""
    def must_not_decode(*_a, **_k):
        raise AssertionError("the photo was decoded in the server's process")

    monkeypatch.setattr(Image, "open", must_not_decode)
    data, kind = reps.clean_photo(HEAVY)
    assert kind == "image/png" and len(data) < 100_000


def test_the_heavy_photo_is_cleaned_within_the_childs_memory():
    data, kind = photo.clean(HEAVY)
    with Image.open(io.BytesIO(data)) as img:
        assert max(img.size) == reps.PHOTO_MAX_SIDE and kind == "image/png"


def test_a_photo_past_the_childs_memory_is_refused_and_the_next_one_taken(monkeypatch):
    monkeypatch.setattr(photo, "CHILD_MEMORY_BYTES", 200 << 20)
    with pytest.raises(ch.WriteRefused) as refused:
        reps.clean_photo(HEAVY)
    assert "内存" in str(refused.value) and "memory" in str(refused.value)
    small = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(small, "PNG")
    assert reps.clean_photo(small.getvalue())[1] == "image/jpeg"


def test_a_cleaner_that_takes_too_long_is_stopped(monkeypatch):
    def too_slow(*_a, **kwargs):
        raise subprocess.TimeoutExpired("photo", kwargs["timeout"])

    monkeypatch.setattr(photo.subprocess, "run", too_slow)
    with pytest.raises(ch.WriteRefused, match="too long"):
        reps.clean_photo(HEAVY)


def test_a_crashed_cleaner_is_a_refusal(monkeypatch):
    real = subprocess.run

    def crash(args, **kwargs):
        return real([args[0], "-c", "import os; os.abort()"], **kwargs)

    monkeypatch.setattr(photo.subprocess, "run", crash)
    with pytest.raises(ch.WriteRefused, match="cannot be read"):
        reps.clean_photo(HEAVY)


def test_the_phone_route_refuses_a_bomb_and_goes_on(sqlite_engine, monkeypatch):
    monkeypatch.setattr(mobile, "LIMITS", {name: mobile.RateLimit(limit.limit, limit.window)
                                           for name, limit in mobile.LIMITS.items()})
    pid = add(sqlite_engine)
    token = reps.issue_links(sqlite_engine, [pid], actor="s")[0].token
    app = Starlette(routes=mobile.routes("", lambda: sqlite_engine))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        page = client.get(f"/m/{token}")
        client.post(f"/m/{token}", data={"csrf": csrf(page.text), "digits": "5678"})
        form = csrf(client.get("/m/records").text)
        sent = client.post("/m/records", data={"csrf": form, "kind": "honour", "day": "2026-11-30", "body": "先进"},
                           files={"photo": ("huge.png", DECLARED_HUGE, "image/png")})
        assert sent.status_code == 400 and "像素过多" in sent.text
        assert client.get("/m/home").status_code == 200
