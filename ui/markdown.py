"""User-supplied text shown through Streamlit's markdown, literally.

Streamlit renders markdown in st.markdown, st.caption, st.info/warning/error/success,
titles and headers, metric and widget labels. A file name, a sheet name, a header
label, a person's name or an account name must show as typed there: `![x](http://…)`
must not become an image the browser fetches, `[链接](…)` not a live link, `www.x.cn`
not an autolink, `$x$` not a formula, `:red[x]` not coloured text. Every such string
goes through `escape_markdown` where it is put into a markdown text (the surrounding
texts from ui/texts are ours and may use markdown).
"""

from __future__ import annotations

import re
from typing import Any

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that start
# markup in Streamlit's markdown (links, images, emphasis, code, headings, tables, lists,
# LaTeX `$`, directives `:red[…]`, `:material/…:` (rewritten before parsing), setext `===`).
_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~$:=/")
# Some markup is found after parsing, in the text itself, where escapes are gone: GFM's
# autolinks (`http://…`, `www.…`) and emoji shortcodes (`:smile:`). A word joiner (U+2060:
# invisible, and dropped again by the importer's clean_text) breaks those patterns. An
# e-mail address is left to become a mail link: it fetches nothing, and a joiner inside it
# would spoil copying the address (account names are e-mail addresses).
_WORD_JOINER = "\u2060"
_AFTER_PARSING = re.compile(r"(?i)(:)|(www)(?=\.)")


def _join(match: re.Match) -> str:
    colon, www = match.groups()
    return ":" + _WORD_JOINER if colon else www + _WORD_JOINER


def escape_markdown(value: Any) -> str:
    """`value` as literal markdown text (a name like `*王*` or `[x](y)` stays as typed); empty: —."""
    if value is None or value == "":
        return "—"
    text = _AFTER_PARSING.sub(_join, str(value))
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)
