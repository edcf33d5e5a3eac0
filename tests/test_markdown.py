"""escape_markdown: user text put into Streamlit markdown shows as typed."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from ui.markdown import escape_markdown

SPECIALS = "\\`*_{}[]()#+-.!|<>~$:=/"
WJ = "\u2060"


def parsed(escaped: str) -> str:
    """The text CommonMark makes of `escaped`: a backslash before ASCII punctuation is dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped)


@given(st.text(alphabet=SPECIALS + "王伟aZ1w@ /&'\"%^", min_size=1, max_size=30))
def test_every_markup_character_is_escaped_and_nothing_is_lost(text):
    escaped = escape_markdown(text)
    assert parsed(escaped).replace(WJ, "") == text  # what shows is what was typed
    # No markup character is left bare (each follows an escaping backslash) ...
    assert not set(re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)) & set(SPECIALS)
    # ... and the parsed text holds nothing that links to a web address or becomes an emoji afterwards.
    assert not re.search(r"(?i)https?://|www\.|:[\w+-]+:", parsed(escaped))


def test_the_attacks_seen_on_the_import_page():
    assert parsed(escape_markdown("![x](http://h/header.png)")) == f"![x](http:{WJ}//h/header.png)"
    assert parsed(escape_markdown("www.evil.example")) == f"www{WJ}.evil.example"  # no autolink
    assert parsed(escape_markdown("wang.staff@example.org")) == "wang.staff@example.org"  # copies as written
    assert escape_markdown(":red[x] $y$") == f"\\:{WJ}red\\[x\\] \\$y\\$"
    assert escape_markdown("标题\n===") == "标题\n\\=\\=\\="  # no setext heading
    assert escape_markdown(None) == "—" and escape_markdown("") == "—"


def test_the_importer_drops_the_word_joiner_again():
    from loaders.normalise import clean_text

    assert clean_text(parsed(escape_markdown("王伟 wang@x.cn"))) == "王伟 wang@x.cn"
