"""Masking of personal fields: what a list, a profile or an export shows to whom.

Pure functions, no database: the same masks serve the screen and the Excel export.

A mask only protects if nothing shown beside it fills it in. The eight digits an
18-digit ID number's mask hides (`330106********1234`) are the holder's birth date
(YYYYMMDD), so a role that sees masked ID numbers sees a birth year or an age,
never the birth date — in a list, a profile, an export or a duplicate report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import pandas as pd

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


# ---- small counts -----------------------------------------------------------------------
#
# A viewer who sees aggregates only (the big screen; leaders on every page) never sees a
# count of fewer than `privacy_threshold` persons, nor one that subtraction recovers. A
# breakdown whose total is known (shown, or shown elsewhere) gives its one hidden cell away:
# 210 persons and eleven categories summing to 208. So when a cell of such a breakdown is
# withheld, more go with it (the smallest shown ones first) until no withheld cell can be
# worked out from the total and what each mark says: "<5" is 0 to 4, "*" is 5 or more.


class Hidden(str):
    """A withheld count. Its text is what the screen shows instead; it has no number."""


COMPLEMENT = Hidden("*")


def small_mark(threshold: int) -> Hidden:
    return Hidden(f"<{threshold}")


def counts_suppressed(role: str | None) -> bool:
    """Whether a role sees aggregates only (small counts withheld) on the staff pages too.

    The cockpit withholds them for everyone: it is the big screen.
    """
    return role not in ("staff", "admin")


def shown_number(value):
    """The number to draw: None for a withheld or missing count."""
    if value is None or isinstance(value, Hidden):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def shown_text(value, missing: str = "—") -> str:
    """`1,234`, a withheld count's mark, or `missing`."""
    if isinstance(value, Hidden):
        return str(value)
    number = shown_number(value)
    return missing if number is None else f"{int(number):,}"


def _bounds(n: int, threshold: int, zeros_known: bool) -> tuple[float, float]:
    """What the mark of a withheld count `n` tells a reader about it."""
    if n == 0 and zeros_known:
        return 0, 0
    if n < threshold:
        return (1 if zeros_known else 0), threshold - 1
    return threshold, math.inf


def derivable(counts: Mapping, withheld: Iterable, threshold: int, zeros_known: bool = False) -> list:
    """The withheld cells of a breakdown with a known total whose value that total pins down.

    Each withheld cell lies within its mark's bounds and all of them add up to the total
    minus the shown cells; a cell is pinned when those leave it one possible value.
    """
    secret = [k for k in withheld if not (zeros_known and counts[k] == 0)]
    bounds = {k: _bounds(int(counts[k]), threshold, zeros_known) for k in secret}
    rest = sum(int(counts[k]) for k in secret)
    low_sum = sum(lo for lo, _ in bounds.values())
    # The highs apart: infinity minus infinity would be no number at all.
    unbounded = sum(1 for _, hi in bounds.values() if hi == math.inf)
    finite_high = sum(hi for _, hi in bounds.values() if hi != math.inf)
    pinned = []
    for k in secret:
        lo, hi = bounds[k]
        others_high = math.inf if unbounded - (hi == math.inf) else finite_high - (0 if hi == math.inf else hi)
        least = max(lo, rest - others_high)
        most = min(hi, rest - (low_sum - lo))
        if least >= most:
            pinned.append(k)
    return pinned


def withhold(counts: Mapping, threshold: int, *, total_known: bool = True, forced: Iterable = (),
             zeros_known: bool = False) -> dict:
    """The cells of one breakdown to withhold, each with its mark: {key: Hidden}.

    Every count under `threshold` is withheld ("<5"), and so is every key in `forced`
    (a row withheld in another column). When the total is known, the smallest shown cells
    are withheld too ("*") until `derivable` finds nothing. `zeros_known`: the breakdown's
    empty groups are public (a page lists only groups that have persons), so a zero is no
    secret and its mark no cover.
    """
    small = small_mark(threshold)
    forced = set(forced)
    hidden = {k: (small if int(n) < threshold else COMPLEMENT)
              for k, n in counts.items() if int(n) < threshold or k in forced}
    if not total_known:
        return hidden
    # Smallest first; ties broken by key so that every page withholds the same cells.
    candidates = sorted((k for k in counts if k not in hidden), key=lambda k: (int(counts[k]), repr(k)))
    while candidates and derivable(counts, hidden, threshold, zeros_known):
        hidden[candidates.pop(0)] = COMPLEMENT
    return hidden


def _marked(values, keys: list, hidden: Mapping) -> list:
    return [hidden[k] if k in hidden else v for k, v in zip(keys, values)]


def withhold_rows(df: pd.DataFrame, counts: Sequence[str], threshold: int, *, key: str, base: str | None = None,
                  rates: Mapping[str, tuple[str, str]] | None = None, total_known: bool = True) -> pd.DataFrame:
    """A copy of a breakdown (one row per group) with its withheld counts replaced by their marks.

    `base` is the column of group sizes: a group withheld there is withheld in every column
    (a group too small to show shows nothing), and its empty groups are public (`zeros_known`).
    Each column of `counts` is a breakdown of its own, its total known unless `total_known`
    is False. `rates` maps a rate column to its (numerator, denominator): NaN where either is
    withheld, since a rate and one of its counts give the other away.
    """
    keys = list(df[key])
    out = df.copy()
    forced: dict = {}
    if base is not None:
        forced = withhold(dict(zip(keys, df[base])), threshold, total_known=total_known, zeros_known=True)
        out[base] = pd.Series(_marked(df[base], keys, forced), index=df.index, dtype=object)
    for column in counts:
        if column == base:
            continue
        hidden = withhold(dict(zip(keys, df[column])), threshold, total_known=total_known, forced=forced)
        out[column] = pd.Series(_marked(df[column], keys, hidden), index=df.index, dtype=object)
    for rate, (numerator, denominator) in (rates or {}).items():
        gone = [isinstance(a, Hidden) or isinstance(b, Hidden) for a, b in zip(out[numerator], out[denominator])]
        out[rate] = pd.Series([math.nan if g else v for g, v in zip(gone, df[rate])], index=df.index, dtype="float64")
    return out


def withhold_grid(df: pd.DataFrame, columns: Sequence[str], threshold: int, *, key: str,
                  total_known: bool = True, zeros_known: bool = True) -> pd.DataFrame:
    """A two-way table (rows × `columns`, e.g. age band × gender) withheld as one breakdown of its cells."""
    cells = {(k, c): n for k, row in zip(df[key], df[list(columns)].itertuples(index=False)) for c, n in zip(columns, row)}
    hidden = withhold(cells, threshold, total_known=total_known, zeros_known=zeros_known)
    out = df.copy()
    for c in columns:
        out[c] = pd.Series([hidden.get((k, c), n) for k, n in zip(df[key], df[c])], index=df.index, dtype=object)
    return out


# ---- the cockpit: what the big screen shows, withheld --------------------------------------
#
# Everything below shares one known total, the headline's persons: categories, districts
# (with those outside any district as an unshown cell, as other pages list them), and
# stages each add up to it, so each is withheld as a breakdown with a known total.


def cockpit_categories(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    return withhold_rows(df, ["n"], threshold, key="code", base="n")


def cockpit_districts(df: pd.DataFrame, persons: int, threshold: int) -> pd.DataFrame:
    """The districts of the scope; persons in none of them (no or an unknown district) are a cell
    of the breakdown that the map does not draw but other pages list."""
    inside = df[df["in_scope"]] if "in_scope" in df else df
    rest = int(persons) - int(inside["n"].sum())
    cells = {**dict(zip(inside["code"], inside["n"])), **({None: rest} if rest > 0 else {})}
    hidden = withhold(cells, threshold, zeros_known=True)
    out = df.copy()
    out["n"] = pd.Series([hidden.get(c, n) if inside_ else n for c, n, inside_ in
                          zip(df["code"], df["n"], df["in_scope"] if "in_scope" in df else [True] * len(df))],
                         index=df.index, dtype=object)
    return out


def funnel_layers(stages: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The lifecycle funnel: `reached` per stage (everyone at that stage or a later one).

    A layer is a sum of current-stage counts, and two shown layers give the stages between
    them away. The stages are withheld as a breakdown of the total; a layer is shown only
    when the withheld stages all lie on one side of it (it then tells only what the total
    minus the shown stages tells) and it is not small itself.
    """
    current = [int(v) for v in stages["n"]]
    hidden = withhold(dict(enumerate(current)), threshold, zeros_known=True)
    secret = {i for i in hidden if current[i] > 0}
    out = stages.copy()
    layers = []
    for i in range(len(current)):
        reached = sum(current[i:])
        straddles = secret and not (all(j >= i for j in secret) or all(j < i for j in secret))
        if reached < threshold:
            layers.append(small_mark(threshold))
        elif straddles:
            layers.append(COMPLEMENT)
        else:
            layers.append(reached)
    out["reached"] = pd.Series(layers, index=stages.index, dtype=object)
    return out


def cockpit_monthly(df: pd.DataFrame, today: date, threshold: int) -> pd.DataFrame:
    """Registrations and check-ins per month. This year's check-ins add up to the headline's
    check-ins of the year: they are a breakdown with a known total; every other month and
    every registration count stands alone."""
    out = withhold_rows(df, ["registrations", "checkins"], threshold, key="month", total_known=False)
    this_year = df["month"].astype(str).str.startswith(f"{today.year}-")
    year = withhold(dict(zip(df.loc[this_year, "month"], df.loc[this_year, "checkins"])), threshold,
                    zeros_known=True)
    out["checkins"] = pd.Series([year.get(m, v) for m, v in zip(df["month"], out["checkins"])],
                                index=df.index, dtype=object)
    return out


def cockpit_feed(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Each activity's sign-ups and check-ins: a check-in count is withheld with its sign-ups."""
    return withhold_rows(df, ["registered", "checked_in"], threshold, key="id", base="registered",
                         total_known=False)
