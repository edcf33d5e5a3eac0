"""An uploaded photo cleaned where a hostile image cannot take the server down.

A representative's photo is decoded by Pillow's C decoders. A 120 KB PNG may declare
6,300 × 6,300 pixels of 16-bit colour and cost the decoding process half a gigabyte; a
damaged file may crash a decoder outright. So, as a workbook is read (loaders/workbook.py),
the photo is decoded in a child process (`python -m store.photo`) under an address-space
limit and a time limit, at most `CONCURRENT_CLEANS` at a time: the child checks the declared
size before decoding anything, re-encodes the picture (no metadata survives) at most
`MAX_SIDE` pixels on its longer side, and sends back only the new image's bytes. A crash, a
memory failure or a timeout of the child is a refusal; the server carries on.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from store.isolation import limit_memory

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
OUTPUT_TYPES = (b"image/jpeg", b"image/png")
# Address space of the child: a 40-megapixel photo of 8-bit colour decodes well within it.
CHILD_MEMORY_BYTES = 1 << 30
CHILD_TIMEOUT_SECONDS = 30
# Children decoding at once in one process: the others wait their turn.
CONCURRENT_CLEANS = 2
_slots = threading.BoundedSemaphore(CONCURRENT_CLEANS)
_ROOT = Path(__file__).resolve().parent.parent


class PhotoRefused(ValueError):
    """Why a photo was not taken: `code` is one of pixels, unreadable, memory, time."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def clean(data: bytes) -> tuple[bytes, str]:
    """The photo re-encoded as JPEG (PNG when it has transparency) and its content type; raises PhotoRefused."""
    with _slots:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "store.photo", str(CHILD_MEMORY_BYTES)], input=data, capture_output=True,
                cwd=_ROOT, timeout=CHILD_TIMEOUT_SECONDS, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        except subprocess.TimeoutExpired:
            raise PhotoRefused("time") from None
    head, _, body = done.stdout.partition(b"\n")
    word, _, detail = head.partition(b" ")
    if done.returncode == 0 and word == b"ok" and detail in OUTPUT_TYPES and body:
        return body, detail.decode()
    if done.returncode == 0 and word == b"refuse" and detail in (b"pixels", b"unreadable", b"memory"):
        return _refuse(detail.decode())
    log.warning("photo cleaner stopped (status %s): %s", done.returncode,
                done.stderr[-2000:].decode("utf-8", "replace").strip())
    return _refuse("memory" if b"MemoryError" in done.stderr else "unreadable")


def _refuse(code: str):
    raise PhotoRefused(code)


# ---------------------------------------------------------------- child side

def _clean_here(data: bytes) -> tuple[bytes, bytes]:
    from PIL import Image, ImageOps

    # Pillow's own guard at our limit: past twice it, opening the file refuses it.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        probe = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise PhotoRefused("pixels") from None
    with probe:
        if probe.format not in FORMATS:
            raise PhotoRefused("unreadable")
        if probe.width * probe.height > MAX_PIXELS:
            raise PhotoRefused("pixels")
        probe.verify()
    with Image.open(io.BytesIO(data)) as img:
        if img.format == "JPEG":
            img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decoded at 1/2, 1/4 or 1/8 of its size where that suffices
        img = ImageOps.exif_transpose(img)
        img.thumbnail((MAX_SIDE, MAX_SIDE))
        out = io.BytesIO()
        if img.mode in ("RGBA", "LA", "P") and "transparency" in img.info or img.mode in ("RGBA", "LA"):
            img.convert("RGBA").save(out, "PNG", optimize=True)
            return out.getvalue(), b"image/png"
        img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        return out.getvalue(), b"image/jpeg"


def _child_main(argv: list[str]) -> int:
    limit_memory(int(argv[0]))
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        body, kind = _clean_here(data)
        out.write(b"ok " + kind + b"\n" + body)
    except PhotoRefused as refused:
        out.write(b"refuse " + refused.code.encode() + b"\n")
    except MemoryError:
        out.write(b"refuse memory\n")
    except Exception:  # noqa: BLE001 - whatever Pillow makes of a non-image, the answer is one word
        out.write(b"refuse unreadable\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
