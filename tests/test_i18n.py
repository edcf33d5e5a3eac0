"""Every user-facing text exists in both languages, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ui.i18n import LANGUAGES, all_texts, translate

ROOT = Path(__file__).resolve().parent.parent
KEY_USE = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def test_every_key_has_both_languages():
    for key, pair in all_texts().items():
        assert isinstance(pair, tuple) and len(pair) == len(LANGUAGES), key
        zh, en = pair
        assert zh.strip() and en.strip(), f"{key} lacks a language"
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: the first text must be Chinese"


def test_placeholders_agree_between_languages():
    for key, (zh, en) in all_texts().items():
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def code_files():
    for folder in ("pages", "ui", "charts"):
        yield from (ROOT / folder).rglob("*.py")
    yield from (ROOT / "ui" / "templates").rglob("*.html")
    yield ROOT / "app.py"


@pytest.mark.parametrize("path", list(code_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_used_key_exists(path):
    texts = all_texts()
    # A key ending in a dot is a prefix a template completes ("m.done." ~ flag).
    missing = [k for k in KEY_USE.findall(path.read_text(encoding="utf-8")) if k not in texts and not k.endswith(".")]
    assert not missing, f"{path.name} uses undefined text keys {missing}"


def test_translate_formats_and_falls_back():
    assert translate("footer.persons", "en", n="12") == "Persons: 12"
    assert translate("footer.persons", "zh", n="12") == "人员总数：12"
    assert translate("no.such.key", "zh") == "no.such.key"
