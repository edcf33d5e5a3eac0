"""escape_markdown: user text put into Streamlit markdown shows as typed."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from ui.markdown import escape_markdown

SPECIALS = "\\`*_{}[]()#+-.!|<>~$:="


@given(st.text(alphabet=SPECIALS + "王伟aZ1 /@&'\"%^", min_size=1, max_size=30))
def test_every_markup_character_is_escaped_and_nothing_is_lost(text):
    escaped = escape_markdown(text)
    # CommonMark drops a backslash before ASCII punctuation: what renders is the original text.
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped) == text
    # No markup character is left bare (each follows an escaping backslash).
    pairs = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)
    assert not set(pairs) & set(SPECIALS)


def test_the_attacks_seen_on_the_import_page():
    assert escape_markdown("![x](http://h/header.png)") == "\\!\\[x\\]\\(http\\://h/header\\.png\\)"
    assert escape_markdown("www.evil.example") == "www\\.evil\\.example"  # no autolink
    assert escape_markdown(":red[x] $y$") == "\\:red\\[x\\] \\$y\\$"
    assert escape_markdown("标题\n===") == "标题\n\\=\\=\\="  # no setext heading
    assert escape_markdown(None) == "—" and escape_markdown("") == "—"
