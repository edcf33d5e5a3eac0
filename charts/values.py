"""Reading one cell of a query's frame, whatever the gap looks like.

A missing value reaches a builder as None, NaN (pandas 3 text and number columns),
NaT or pd.NA, depending on the column's dtype and the engine. `str(nan)` prints
"nan", `bool(nan)` is True and `html.escape(nan)` raises, so builders read cells
through these helpers rather than trusting a column to be complete.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA (a list or array is a value, not a gap)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value)) if pd.api.types.is_scalar(value) else False
    except (TypeError, ValueError):
        return False


def text(value, missing: str = "") -> str:
    """The cell as display text; `missing` for a gap (never "nan" or "None")."""
    return missing if is_missing(value) else str(value)


def count(value, missing: int = 0) -> int:
    """The cell as a whole number; `missing` for a gap or anything that is not a number."""
    if is_missing(value):
        return missing
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return missing


def number(value) -> float | None:
    """The cell as a finite float, or None."""
    if is_missing(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out and out not in (float("inf"), float("-inf")) else None


def flag(value) -> bool:
    """True only for a true value: a gap is False (where `bool(nan)` would say True)."""
    return False if is_missing(value) else bool(value)


def moment(value) -> datetime | None:
    """The cell as a datetime, or None for a gap or an unreadable value."""
    if is_missing(value):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp.to_pydatetime()


def optional_text(value) -> str | None:
    """The cell as text, or None for a gap: a table shows its placeholder there."""
    return None if is_missing(value) else str(value)


def percent(share) -> str:
    """A 0–1 share as "82.9%", or "—" when there is none: every page prints rates this way."""
    value = number(share)
    return "—" if value is None else f"{value:.1%}"
