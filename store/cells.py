"""Text written into files that people open in a spreadsheet program (exports, error reports).

One rule for every file we write: a text cell that a spreadsheet would run as a formula
(`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading `'`, and characters
that XML 1.0 forbids (C0 controls other than tab, newline and carriage return) are
dropped, so an .xlsx can always be written. The importer reads a `'` before a formula
character as the text marker it is (loaders.normalise.clean_text), so a report written
here imports again as the original did.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The characters openpyxl refuses in a cell (its ILLEGAL_CHARACTERS_RE), without importing it.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value):
    """A text cell made safe to open: illegal characters dropped, a would-be formula quoted."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS.sub("", value)
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
