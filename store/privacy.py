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
from dataclasses import dataclass
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
# worked out from the total and what each mark says: "<5" is 0 to 4, "*" is withheld to
# cover another and claims no size.


class Hidden(str):
    """A withheld count. Its text is what the screen shows instead; it has no number."""


COMPLEMENT = Hidden("*")


def is_withheld(value) -> bool:
    """Whether a count is a mark. Any text in a count's place is one: a DataFrame built from
    marks may hold them as plain strings."""
    return isinstance(value, str)


def small_mark(threshold: int) -> Hidden:
    return Hidden(f"<{threshold}")


def counts_suppressed(role: str | None) -> bool:
    """Whether a role sees aggregates only (small counts withheld) on the staff pages too.

    The cockpit withholds them for everyone: it is the big screen.
    """
    return role not in ("staff", "admin")


def shown_number(value):
    """The number to draw: None for a withheld or missing count (None, NaN, NaT or pd.NA)."""
    if value is None or is_withheld(value):
        return None
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value


def shown_text(value, missing: str = "—") -> str:
    """`1,234`, a withheld count's mark, or `missing`."""
    if is_withheld(value):
        return str(value)
    number = shown_number(value)
    return missing if number is None else f"{int(number):,}"


def count_column(values) -> list:
    """A table column of counts: numbers, or all texts when one is withheld (a column holds one type)."""
    values = list(values)
    if any(is_withheld(v) for v in values):
        return [shown_text(v) for v in values]
    return [None if shown_number(v) is None else int(v) for v in values]


def _bounds(mark: Hidden, threshold: int) -> tuple[float, float]:
    """What a withheld count's mark tells a reader about it."""
    return (0, threshold - 1) if mark != COMPLEMENT else (0, math.inf)


def derivable(counts: Mapping, withheld: Mapping, threshold: int, zeros_public: bool = False) -> list:
    """The withheld cells of a breakdown with a known total whose value that total pins down.

    `withheld` maps each withheld cell to its mark. Each lies within what its mark says and
    together they add up to the total minus the shown cells; a cell is pinned when that
    leaves it one possible value. `zeros_public`: an empty group discloses nobody, so a
    pinned zero is no finding (it still covers the others: the reader cannot tell it empty).
    """
    secret = list(withheld)
    bounds = {k: _bounds(withheld[k], threshold) for k in secret}
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
        if least >= most and not (zeros_public and int(counts[k]) == 0):
            pinned.append(k)
    return pinned


def withhold(counts: Mapping, threshold: int, *, total_known: bool = True, forced: Iterable = (),
             zeros_public: bool = False) -> dict:
    """The cells of one breakdown to withhold, each with its mark: {key: Hidden}.

    Every count under `threshold` is withheld ("<5"), and so is every key in `forced`
    (a row withheld in another column). When the total is known, the smallest shown cells
    are withheld too ("*") until `derivable` finds nothing. When every cell is withheld and
    the total still pins them (two "<5" adding up to 8 are 4 and 4), the largest small ones
    are marked "*" instead, which claims no size. `zeros_public`: see `derivable`.
    """
    small = small_mark(threshold)
    forced = set(forced)
    hidden = {k: (small if int(n) < threshold else COMPLEMENT)
              for k, n in counts.items() if int(n) < threshold or k in forced}
    if not total_known:
        return hidden
    # Smallest first; ties broken by key so that every page withholds the same cells.
    candidates = sorted((k for k in counts if k not in hidden), key=lambda k: (int(counts[k]), repr(k)))
    while candidates and derivable(counts, hidden, threshold, zeros_public):
        hidden[candidates.pop(0)] = COMPLEMENT
    # A lone withheld cell is its total's, whatever its mark: re-marking helps two or more.
    smalls = sorted((k for k, mark in hidden.items() if mark == small and int(counts[k]) > 0),
                    key=lambda k: (-int(counts[k]), repr(k))) if len(hidden) > 1 else []
    while smalls and derivable(counts, hidden, threshold, zeros_public):
        hidden[smalls.pop(0)] = COMPLEMENT
    return hidden


def _marked(values, keys: list, hidden: Mapping) -> list:
    return [hidden[k] if k in hidden else v for k, v in zip(keys, values)]


def withhold_rows(df: pd.DataFrame, counts: Sequence[str], threshold: int, *, key: str, base: str | None = None,
                  rates: Mapping[str, tuple[str, str]] | None = None, total_known: bool = True,
                  drop_small: bool = False) -> pd.DataFrame:
    """A copy of a breakdown (one row per group) with its withheld counts replaced by their marks.

    `base` is the column of group sizes: a group withheld there is withheld in every column
    (a group too small to show shows nothing), and an empty group is no secret. Each column
    of `counts` is a breakdown of its own, its total known unless `total_known` is False.
    `rates` maps a rate column to its (numerator, denominator): NaN where either is withheld,
    since a rate and one of its counts give the other away. `drop_small`: the breakdown lists
    only groups that have persons, so its small groups are left out rather than shown as "<5"
    — listed, they would tell that they are not empty, and the reader could count them.
    """
    keys = list(df[key])
    out = df.copy()
    forced: dict = {}
    if base is not None:
        # Groups adding up to fewer than the threshold: their total is withheld too, nothing to cover.
        known = total_known and int(df[base].sum()) >= threshold
        forced = withhold(dict(zip(keys, df[base])), threshold, total_known=known, zeros_public=True)
        out[base] = pd.Series(_marked(df[base], keys, forced), index=df.index, dtype=object)
    for column in counts:
        if column == base:
            continue
        hidden = withhold(dict(zip(keys, df[column])), threshold, total_known=total_known, forced=forced)
        out[column] = pd.Series(_marked(df[column], keys, hidden), index=df.index, dtype=object)
    for rate, (numerator, denominator) in (rates or {}).items():
        gone = [is_withheld(a) or is_withheld(b) for a, b in zip(out[numerator], out[denominator])]
        out[rate] = pd.Series([math.nan if g else v for g, v in zip(gone, df[rate])], index=df.index, dtype="float64")
    if drop_small and base is not None:
        small = small_mark(threshold)
        keep = pd.Series([not (is_withheld(v) and v == small) for v in out[base]], index=out.index, dtype=bool)
        out = out.loc[keep].reset_index(drop=True)
    return out


def withhold_grid(df: pd.DataFrame, columns: Sequence[str], threshold: int, *, key: str,
                  total_known: bool = True, zeros_public: bool = True) -> pd.DataFrame:
    """A two-way table (rows × `columns`, e.g. age band × gender) withheld as one breakdown of its cells."""
    cells = {(k, c): n for k, row in zip(df[key], df[list(columns)].itertuples(index=False)) for c, n in zip(columns, row)}
    hidden = withhold(cells, threshold, total_known=total_known, zeros_public=zeros_public)
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
    hidden = withhold(cells, threshold, total_known=int(persons) >= threshold, zeros_public=True)
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
    hidden = withhold(dict(enumerate(current)), threshold, total_known=sum(current) >= threshold, zeros_public=True)
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
                    zeros_public=True)
    out["checkins"] = pd.Series([year.get(m, v) for m, v in zip(df["month"], out["checkins"])],
                                index=df.index, dtype=object)
    return out


# ---- the staff pages, for a viewer of aggregates ---------------------------------------------
#
# Leaders open the activities, lifecycle and data-health pages too, aggregates only. Each
# page passes its numbers through the functions below with `threshold_for(role, setting)`:
# the setting for a leader, 0 for staff and admins (who list the persons themselves, and
# to whom nothing is withheld).


def threshold_for(role: str | None, setting: int) -> int:
    return int(setting) if counts_suppressed(role) else 0


def shown_count(n: int, threshold: int) -> int | Hidden:
    """A count that stands alone: itself, or "<5"."""
    return int(n) if int(n) >= threshold else small_mark(threshold)


def shown_rate(numerator, denominator, threshold: int) -> float | None:
    """numerator / denominator, or None when there is none or either count is withheld
    (a rate and one of its counts give the other away)."""
    if is_withheld(numerator) or is_withheld(denominator) or not denominator:
        return None
    if int(numerator) < threshold or int(denominator) < threshold:
        return None
    return int(numerator) / int(denominator)


# ---- activities: an activity's counts, its month × kind cell, its month, the period ---------
#
# An activity's counts add up, with the others of its month and kind, to a cell of the
# activities page's trend; the cells of a month to the month's check-ins on the cockpit; the
# months to the period's totals. Withheld month by month — a month's kinds as a breakdown of
# the month, a cell's activities as one of the cell — every decision depends on that month
# alone: the cockpit's feed, the trend and the list withhold the same cells whatever period a
# page shows (a viewer of aggregates gets whole months).

ACTIVITY_COUNTS = ("registrations", "approved", "rejected", "checked_in", "absent")


def month_of(moment) -> str:
    return f"{pd.Timestamp(moment):%Y-%m}"


def checkin_months_withheld(monthly: pd.DataFrame, today: date, threshold: int) -> dict:
    """{month: mark} of the months whose check-ins the cockpit withholds."""
    shown = cockpit_monthly(monthly, today, threshold)
    return {m: v for m, v in zip(shown["month"], shown["checkins"]) if is_withheld(v)}


@dataclass(frozen=True)
class ActivityCounts:
    """Withheld cells, per count column: `cells` {(month, kind): mark}, `activities` {id: mark}."""

    cells: dict
    activities: dict


def _withhold_each(breakdowns: Mapping, threshold: int, forced: Iterable = (), zeros_public: bool = False,
                   all_of: Iterable = ()) -> dict:
    """Withhold each of several breakdowns (group -> {key: count}), each with a known total.
    Keys in `forced` are withheld; so is every key of a group in `all_of`."""
    forced, all_of = set(forced), set(all_of)
    hidden: dict = {}
    for group, cells in breakdowns.items():
        inner = set(cells) if group in all_of else forced & set(cells)
        hidden |= withhold(cells, threshold, forced=inner, zeros_public=zeros_public)
    return hidden


def _grouped(keys, groups, values) -> dict:
    out: dict = {}
    for key, group, n in zip(keys, groups, values):
        out.setdefault(group, {})[key] = int(n)
    return out


def activity_counts(rows: pd.DataFrame, months_withheld: Mapping, threshold: int) -> ActivityCounts:
    """Withhold the counts of activities (rows as store.queries.activities.activity_page gives
    them, every activity of whole months) and of the month × kind cells they add up to.

    Registrations and check-ins: a month's cells are a breakdown of the month (one of them
    withheld when the cockpit withholds the month, or the cells would add up to it), and a
    cell's activities a breakdown of the cell (all withheld in a withheld cell). Approvals,
    rejections and absences: a month's activities are a breakdown of the month. A count
    is withheld with its activity's registrations.
    """
    months = [month_of(s) for s in rows["starts_at"]]
    groups = list(zip(months, rows["kind"]))
    keys = list(rows["id"])
    cells: dict = {}
    activities: dict = {}
    for column in ("registrations", "checked_in"):
        sums: dict = {}
        for group, n in zip(groups, rows[column]):
            sums.setdefault(group[0], {}).setdefault(group, 0)
            sums[group[0]][group] += int(n)
        forced = set(cells.get("registrations", {}))
        if column == "checked_in":
            forced |= {min(sums[m], key=lambda c: (sums[m][c], repr(c))) for m in sums if m in months_withheld}
        cells[column] = _withhold_each(sums, threshold, forced, zeros_public=column == "registrations")
        activities[column] = _withhold_each(_grouped(keys, groups, rows[column]), threshold,
                                            activities.get("registrations", {}), all_of=cells[column])
    for column in ("approved", "rejected", "absent"):
        activities[column] = _withhold_each(_grouped(keys, months, rows[column]), threshold,
                                            activities["registrations"])
    return ActivityCounts(cells=cells, activities=activities)


def pinned_by_total(rows: pd.DataFrame, counts: ActivityCounts, column: str, threshold: int) -> bool:
    """Whether the period's total of `column` would pin a withheld count: a month that only
    its own total could protect (one small cell) is protected by nothing else, as month
    totals are not shown — unless the period's total, minus the other months, gives it."""
    if column in counts.cells:
        cells: dict = {}
        for group, n in zip(zip((month_of(s) for s in rows["starts_at"]), rows["kind"]), rows[column]):
            cells[group] = cells.get(group, 0) + int(n)
        return bool(derivable(cells, counts.cells[column], threshold, zeros_public=column == "registrations"))
    return bool(derivable(dict(zip(rows["id"], rows[column])), counts.activities[column], threshold))


def activities_trend(trend: pd.DataFrame, counts: ActivityCounts) -> pd.DataFrame:
    """The trend's registrations and check-ins per month and kind, withheld as `counts` says."""
    out = trend.copy()
    keys = list(zip(trend["month"], trend["kind"]))
    for column in ("registrations", "checked_in"):
        out[column] = pd.Series(_marked(trend[column], keys, counts.cells[column]), index=trend.index, dtype=object)
    return out


def activities_list(rows: pd.DataFrame, counts: ActivityCounts) -> pd.DataFrame:
    """Activities with their counts withheld as `counts` says; a no-show rate goes with its counts."""
    out = rows.copy()
    keys = list(rows["id"])
    for column in ACTIVITY_COUNTS:
        out[column] = pd.Series(_marked(rows[column], keys, counts.activities[column]), index=rows.index,
                                dtype=object)
    gone = [is_withheld(a) or is_withheld(b) for a, b in zip(out["absent"], out["approved"])]
    out["no_show_rate"] = pd.Series([math.nan if g else r for g, r in zip(gone, rows["no_show_rate"])],
                                    index=rows.index, dtype="float64")
    return out


def period_totals(values: Mapping[str, int], threshold: int, *, monthly: pd.DataFrame | None = None,
                  months: Iterable[str] = (), today: date | None = None, pinning: Iterable = ()) -> dict:
    """The period's registrations, approvals, check-ins and absences: each "<5" when small,
    "*" for the columns in `pinning` (see `pinned_by_total`).

    Check-ins add up the period's months, which the cockpit shows: the total is withheld
    ("*") when, with the cockpit's months, it would pin a month the cockpit withholds — inside
    the period (the total minus the shown months) or outside it in this year (the year's
    total minus the period's).
    """
    out = {k: shown_count(v, threshold) for k, v in values.items()}
    for column in pinning:
        # A total already "<5" pins nothing: the reader knows it only as 0 to 4.
        if column in out and not is_withheld(out[column]):
            out[column] = COMPLEMENT
    checkins = out.get("checked_in")
    if monthly is None or not threshold or is_withheld(checkins):
        return out
    months = set(months)
    counts = dict(zip(monthly["month"], (int(n) for n in monthly["checkins"])))
    withheld = checkin_months_withheld(monthly, today, threshold)
    inside = {m: v for m, v in withheld.items() if m in months}
    this_year = f"{today.year}-"
    outside = {m: v for m, v in withheld.items() if m.startswith(this_year) and m not in months}
    last_year_known = not any(m in withheld for m in months if not m.startswith(this_year))
    if derivable(counts, inside, threshold, zeros_public=True) or (
            last_year_known and derivable(counts, outside, threshold, zeros_public=True)):
        out["checked_in"] = COMPLEMENT
    return out


def whole_months(start: date, end: date, threshold: int) -> tuple[date, date]:
    """A viewer of aggregates sees periods of whole months (the last one up to the end day),
    so the months it shows are the same months every page and period shows."""
    return (start.replace(day=1), end) if threshold else (start, end)


def months_between(start: date, end: date) -> list[str]:
    return [f"{p:%Y-%m}" for p in pd.period_range(start, end, freq="M")]


@dataclass(frozen=True)
class ActivitiesView:
    """The activities page's numbers as a viewer sees them: the period's totals, the trend,
    and (for a viewer of aggregates) every activity of the period."""

    totals: dict
    trend: pd.DataFrame
    rows: pd.DataFrame | None


def activities_view(totals: Mapping[str, int], trend: pd.DataFrame, rows: pd.DataFrame | None,
                    monthly: pd.DataFrame | None, start: date, end: date, today: date,
                    threshold: int) -> ActivitiesView:
    """`totals`: registrations, approved, checked_in, absent of the period; `rows`: every activity
    of the period (activity_page); `monthly`: the cockpit's monthly_participation."""
    if not threshold:
        return ActivitiesView(dict(totals), trend, rows)
    counts = activity_counts(rows, checkin_months_withheld(monthly, today, threshold), threshold)
    pinning = [c for c in totals if pinned_by_total(rows, counts, c, threshold)]
    shown = period_totals(totals, threshold, monthly=monthly, months=months_between(start, end), today=today,
                          pinning=pinning)
    return ActivitiesView(shown, activities_trend(trend, counts), activities_list(rows, counts))


ALL_ACTIVITIES = 1_000_000


def feed_months_from(feed: pd.DataFrame, today: date) -> date | None:
    """The first day of the earliest month of the feed's activities held by today (None: none are)."""
    held = [pd.Timestamp(s).date() for s in feed["starts_at"] if s is not None and pd.Timestamp(s).date() <= today]
    return min(held).replace(day=1) if held else None


def cockpit_feed(feed: pd.DataFrame, threshold: int, rows: pd.DataFrame | None = None,
                 monthly: pd.DataFrame | None = None, today: date | None = None) -> pd.DataFrame:
    """Each activity's sign-ups and check-ins. One held by today is withheld as the activities
    page withholds it (`rows`: every activity of its months, activity_page; `monthly`: the
    cockpit's monthly_participation); one to come stands alone. A check-in count goes with
    its activity's sign-ups."""
    out = withhold_rows(feed, ["registered", "checked_in"], threshold, key="id", base="registered",
                        total_known=False)
    if rows is None or not threshold:
        return out
    counts = activity_counts(rows, checkin_months_withheld(monthly, today, threshold), threshold)
    listed = set(rows["id"])
    for column, source in (("registered", "registrations"), ("checked_in", "checked_in")):
        values = [counts.activities[source].get(i, n) if i in listed else shown
                  for i, n, shown in zip(feed["id"], feed[column], out[column])]
        out[column] = pd.Series(values, index=feed.index, dtype=object)
    return out


def held_activity_counts(rows: pd.DataFrame, activity_id: int, monthly: pd.DataFrame, today: date,
                         threshold: int) -> dict:
    """One held activity's counts (ACTIVITY_COUNTS) as the activities page lists them: numbers or marks.
    `rows`: every activity of its month (activity_page), `monthly`: the cockpit's monthly_participation.
    Another page showing the activity's counts (the hall) shows these, or subtraction across the pages
    would recover what the activities page withholds."""
    counts = activity_counts(rows, checkin_months_withheld(monthly, today, threshold), threshold)
    row = rows.loc[rows["id"] == activity_id]
    return {c: counts.activities[c].get(activity_id, shown_count(int(row[c].iloc[0]) if not row.empty else 0,
                                                                 threshold))
            for c in ACTIVITY_COUNTS}


def reach_rows(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Persons reached and dormant per category or district (persons: the same breakdown as the cockpit's)."""
    return withhold_rows(frame, ["persons", "reached", "dormant"], threshold, key="code", base="persons",
                         rates={"rate": ("reached", "persons")}, drop_small=True)


# ---- lifecycle


def lifecycle_funnel(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Both readings of the funnel. In order, each layer holds the next (stopping at a stage is
    a breakdown of those who started): layered as the cockpit's funnel. Any stage: the first
    layer is the same group as in order's, the others stand alone. A conversion goes with its counts."""
    ordered = [int(v) for v in table["in_order"]]
    stops = pd.DataFrame({"n": [a - b for a, b in zip(ordered, ordered[1:] + [0])]})
    out = table.copy()
    layers = list(funnel_layers(stops, threshold)["reached"])
    out["in_order"] = pd.Series(layers, index=table.index, dtype=object)
    any_stage = [layers[0]] + [shown_count(v, threshold) for v in table["any_stage"][1:]]
    out["any_stage"] = pd.Series(any_stage, index=table.index, dtype=object)
    for counts, step, cumulative in (("in_order", "in_order_next", "in_order_cum"),
                                     ("any_stage", "any_next", "any_cum")):
        shown = list(out[counts])
        out[step] = pd.Series([None] + [shown_rate(shown[i], shown[i - 1], threshold) for i in range(1, len(shown))],
                              index=table.index, dtype="float64")
        out[cumulative] = pd.Series([shown_rate(v, shown[0], threshold) for v in shown], index=table.index,
                                    dtype="float64")
    return out


def cohort_rows(cohorts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Per year of discovery: its finds (a breakdown of the funnel's first layer) and how many
    reached each later stage; a median of days goes with the count it is the median of."""
    return withhold_rows(cohorts, ["discover", "cultivate", "use", "manage"], threshold, key="cohort",
                         base="discover", rates={"days_to_cultivate": ("cultivate", "discover"),
                                                 "days_to_use": ("use", "discover")}, drop_small=True)


def source_rows(sources: pd.DataFrame, threshold: int) -> pd.DataFrame:
    return withhold_rows(sources, ["persons", "cultivate", "use"], threshold, key="source", base="persons",
                         rates={"cultivate_rate": ("cultivate", "persons"), "use_rate": ("use", "persons")},
                         drop_small=True)


def stay_rows(stays: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Completed stays per stage: a median of a few stays would tell one person's."""
    return withhold_rows(stays, ["stays"], threshold, key="stage", base="stays", total_known=False,
                         rates={"median_days": ("stays", "stays")})


def term_rows(by_body: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Posts ending soon and overdue per body: each column adds up to the total in the caption."""
    return withhold_rows(by_body, ["soon", "overdue"], threshold, key="body")


# ---- data health


def liveness_parts(live, threshold: int) -> tuple[int | None, float | None, float | None, float | None]:
    """(score, fresh share, key fields filled, active share) of store.queries.health.Liveness.

    A share of the persons gives its count away, and the score (whole points of a weighted sum
    of the three) gives a withheld share back: each goes when its count is withheld, the score
    with any of them.
    """
    fresh = shown_rate(live.fresh, live.persons, threshold)
    active = shown_rate(live.active, live.persons, threshold)
    complete = live.completeness
    if any(int(n) < threshold for _, n in live.key_filled) or int(live.persons) < threshold:
        complete = None
    withheld = threshold and (fresh is None or active is None or complete is None)
    return (None if withheld else live.score), fresh, complete, active


def freshness_rows(df: pd.DataFrame, months: Sequence[int], threshold: int) -> pd.DataFrame:
    """Persons per group (as the cockpit's breakdowns) and those updated within each window,
    which add up to the overall figures above them."""
    return withhold_rows(df, ["persons", *(f"fresh_{m}" for m in months)], threshold, key="key", base="persons",
                         rates={f"share_{m}": (f"fresh_{m}", "persons") for m in months}, drop_small=True)


def completeness_rows(df: pd.DataFrame, fields: Sequence[str], threshold: int) -> pd.DataFrame:
    """Per category: persons, and per field those who have it filled (adding up to the overall row)."""
    return withhold_rows(df, ["persons", *fields], threshold, key="key", base="persons", drop_small=True)


# ---- the representatives' responses (cockpit and data health)


@dataclass(frozen=True)
class RepsShown:
    """store.reps.Liveness as a viewer of aggregates may see it: each count a number or a mark,
    each share or age a number or None."""

    responded: int | Hidden
    responded_share: float | None
    open_requests: int | Hidden
    oldest_open_days: int | None
    median_open_days: float | None
    suggestions: int | Hidden
    adopted: int | Hidden


def reps_liveness(live, threshold: int) -> RepsShown:
    """The responses withheld as the cockpit withholds: a count under the threshold is "<5"; those
    who responded and those who did not add up to the persons (a known total), as adopted and other
    suggestions add up to those received, so a part that subtraction would give away is withheld
    too ("*"), and a share goes with its count. The queue's ages go with its count: the ages of
    two or three requests say too much about them."""
    responded = withhold({"responded": live.responded_12m, "silent": live.persons - live.responded_12m}, threshold,
                         total_known=int(live.persons) >= threshold, zeros_public=True).get("responded",
                                                                                          int(live.responded_12m))
    adopted = withhold({"adopted": live.adopted_this_year,
                        "other": live.suggestions_this_year - live.adopted_this_year}, threshold,
                       total_known=int(live.suggestions_this_year) >= threshold,
                       zeros_public=True).get("adopted", int(live.adopted_this_year))
    open_requests = shown_count(live.open_requests, threshold)
    queue_shown = not is_withheld(open_requests)
    return RepsShown(
        responded=responded,
        responded_share=None if is_withheld(responded) else shown_rate(responded, live.persons, threshold),
        open_requests=open_requests,
        oldest_open_days=live.oldest_open_days if queue_shown else None,
        median_open_days=live.median_open_days if queue_shown else None,
        suggestions=shown_count(live.suggestions_this_year, threshold),
        adopted=adopted,
    )
