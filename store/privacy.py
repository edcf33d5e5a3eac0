"""Masking of personal fields: what a list, a profile or an export shows to whom.

Pure functions, no database: the same masks serve the screen and the Excel export.

A mask only protects if nothing shown beside it fills it in. The eight digits an
18-digit ID number's mask hides (`330106********1234`) are the holder's birth date
(YYYYMMDD), so a role that sees masked ID numbers sees a birth year or an age,
never the birth date — in a list, a profile, an export or a duplicate report.
"""

from __future__ import annotations

from datetime import date

# Roles that may see ID numbers and phones in full (on screen and in exports).
UNMASKED_ROLES = frozenset({"admin"})


def may_see_personal(role: str | None) -> bool:
    return role in UNMASKED_ROLES


def shown_birth(birth: date | None, unmasked: bool) -> date | int | None:
    """The birth date for a role that sees ID numbers in full; only its year for one that sees them masked."""
    if birth is None or unmasked:
        return birth
    return birth.year


def mask_id_number(value: str | None) -> str | None:
    """`330106197503121234` -> `330106********1234`: region prefix and last four stay."""
    if value is None:
        return None
    s = str(value).strip()
    n = len(s)
    if n >= 11:
        return s[:6] + "*" * (n - 10) + s[-4:]
    # Too short to be a real ID number: reveal as little as possible.
    return "*" * max(n - 2, 0) + s[max(n - 2, 0):] if n > 4 else "*" * n


def mask_phone(value: str | None) -> str | None:
    """`13812345678` -> `138****5678`; landlines keep their first three and last four too."""
    if value is None:
        return None
    s = str(value).strip()
    n = len(s)
    if n >= 8:
        return s[:3] + "*" * (n - 7) + s[-4:]
    return "*" * max(n - 2, 0) + s[max(n - 2, 0):] if n > 4 else "*" * n
