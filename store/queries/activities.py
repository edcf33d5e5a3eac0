"""Activities: who takes part, how registrations turn into check-ins, who is not reached.

An activity belongs to a period by its start time. Every count of participations
or persons is restricted to persons in the caller's scope; for a scoped account
an activity counts when it is held in one of its districts or has at least one
participant in scope. Rates are None when their denominator is zero, so a page
shows "—" rather than a made-up 0 %.

Status semantics: registered → approved | rejected → checked_in | absent; a
checked_in or absent row was approved, so "approved" counts all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    Double,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)

from store.schema import activity, category, participation, person, region
from store.scope import Scope
from store.sql import month_key

PERIODS = ("30d", "90d", "12m", "ytd", "custom")
APPROVED_STATUSES = ("approved", "checked_in", "absent")
# Same window as PersonFilter(active_months=12): the dormant counts here must
# equal the number of persons the explorer lists when it follows our link.
DORMANT_MONTHS = 12
REACH_DIMENSIONS = ("category", "district")
ACTIVITY_SORTS = ("starts_at", "title", "registrations", "approved", "checked_in", "no_show_rate")


class InvalidPeriod(ValueError):
    """A custom period without both ends, or ending before it starts."""


def period_bounds(choice: str, today: date, start: date | None = None, end: date | None = None) -> tuple[date, date]:
    """The inclusive first and last day of a period choice (see PERIODS)."""
    if choice == "30d":
        return today - timedelta(days=29), today
    if choice == "90d":
        return today - timedelta(days=89), today
    if choice == "12m":
        return today - timedelta(days=364), today
    if choice == "ytd":
        return date(today.year, 1, 1), today
    if choice == "custom":
        if start is None or end is None:
            raise InvalidPeriod("a custom period needs a first and a last day")
        if end < start:
            raise InvalidPeriod("the last day is before the first day")
        return start, end
    raise InvalidPeriod(f"unknown period {choice!r}; allowed: {', '.join(PERIODS)}")


def dormant_since(today: date) -> date:
    return today - timedelta(days=round(DORMANT_MONTHS * 30.44))


def _range(start: date, end: date) -> tuple[datetime, datetime]:
    # Half-open [first day 00:00, day after the last 00:00): no time-of-day edge is lost.
    return datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())


def _in_scope_persons(scope: Scope):
    clause = scope.person_clause(person)
    return None if clause is None else select(person.c.id).where(clause)


def _participation_scope(scope: Scope) -> ColumnElement[bool] | None:
    persons = _in_scope_persons(scope)
    return None if persons is None else participation.c.person_id.in_(persons)


def held() -> ColumnElement[bool]:
    """Activities that take place: recorded offline (no state), or run online and published or finished.
    A draft or a cancelled activity is no activity held, on any page."""
    return or_(activity.c.state.is_(None), activity.c.state.in_(("published", "finished")))


def _activity_scope(scope: Scope) -> ColumnElement[bool] | None:
    """Held, and held in one of the scope's districts, or reached at least one person in scope.

    An activity records its district only, so for a street scope "held there" cannot be
    told: only the persons it reached bring it in (as on the cockpit), never the whole district.
    """
    persons = _in_scope_persons(scope)
    if persons is None:
        return held()
    # An alias, correlated to activity only: the outer query may join participation itself.
    reached = participation.alias("reached")
    reached_here = exists().where(reached.c.activity_id == activity.c.id,
                                  reached.c.person_id.in_(persons)).correlate(activity)
    if not scope.districts:
        return and_(held(), reached_here)
    return and_(held(), or_(activity.c.district_code.in_(scope.districts), reached_here))


def _status_counts():
    s = participation.c.status
    return [
        # An invitee who declined never registered.
        func.coalesce(func.sum(case((s != "declined", 1), else_=0)), 0).label("registrations"),
        func.coalesce(func.sum(case((s.in_(APPROVED_STATUSES), 1), else_=0)), 0).label("approved"),
        func.coalesce(func.sum(case((s == "rejected", 1), else_=0)), 0).label("rejected"),
        func.coalesce(func.sum(case((s == "checked_in", 1), else_=0)), 0).label("checked_in"),
        func.coalesce(func.sum(case((s == "absent", 1), else_=0)), 0).label("absent"),
    ]


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class ActivitySummary:
    activities: int
    registrations: int
    approved: int
    rejected: int
    checked_in: int
    absent: int

    @property
    def approval_rate(self) -> float | None:
        """Share of registrations that were approved."""
        return _ratio(self.approved, self.registrations)

    @property
    def checkin_rate(self) -> float | None:
        """Share of approved registrations that checked in."""
        return _ratio(self.checked_in, self.approved)

    @property
    def no_show_rate(self) -> float | None:
        """Share of approved registrations marked absent (not yet recorded ones are neither)."""
        return _ratio(self.absent, self.approved)


def activity_summary(engine: Engine, scope: Scope, start: date, end: date) -> ActivitySummary:
    """Headline numbers for activities starting in [start, end]."""
    lo, hi = _range(start, end)
    in_period = and_(activity.c.starts_at >= lo, activity.c.starts_at < hi)
    activities = select(func.count()).select_from(activity).where(in_period)
    act_scope = _activity_scope(scope)
    if act_scope is not None:
        activities = activities.where(act_scope)
    counts = select(*_status_counts()).select_from(
        participation.join(activity, activity.c.id == participation.c.activity_id)
    ).where(in_period, held())
    part_scope = _participation_scope(scope)
    if part_scope is not None:
        counts = counts.where(part_scope)
    with engine.connect() as conn:
        n_activities = conn.execute(activities).scalar_one()
        row = conn.execute(counts).one()
    return ActivitySummary(int(n_activities), *(int(v or 0) for v in row))


def activity_funnel(engine: Engine, scope: Scope, start: date, end: date, activity_id: int | None = None) -> pd.DataFrame:
    """One row — of one activity, or of the period: registrations, approved, checked_in, absent and
    the rates ActivitySummary defines (approval_rate, checkin_rate, no_show_rate; None without a
    denominator), so the funnel shows the same rates as the headline numbers."""
    if activity_id is None:
        s = activity_summary(engine, scope, start, end)
    else:
        stmt = select(*_status_counts()).where(participation.c.activity_id == activity_id)
        part_scope = _participation_scope(scope)
        if part_scope is not None:
            stmt = stmt.where(part_scope)
        with engine.connect() as conn:
            row = conn.execute(stmt).one()
        s = ActivitySummary(1, *(int(v or 0) for v in row))
    return pd.DataFrame([{
        "registrations": s.registrations, "approved": s.approved, "checked_in": s.checked_in, "absent": s.absent,
        "approval_rate": s.approval_rate, "checkin_rate": s.checkin_rate, "no_show_rate": s.no_show_rate,
    }])


def monthly_by_kind(engine: Engine, scope: Scope, start: date, end: date) -> pd.DataFrame:
    """Per month and activity kind: activities, registrations and check-ins (months without activities are absent)."""
    lo, hi = _range(start, end)
    month = month_key(activity.c.starts_at, engine.dialect.name).label("month")
    on = participation.c.activity_id == activity.c.id
    part_scope = _participation_scope(scope)
    if part_scope is not None:
        on = and_(on, part_scope)
    stmt = (
        select(
            month,
            activity.c.kind,
            func.count(func.distinct(activity.c.id)).label("activities"),
            # An invitee who declined never registered (a NULL status, no participation, counts 0 too).
            func.coalesce(func.sum(case((participation.c.status != "declined", 1), else_=0)), 0)
            .label("registrations"),
            func.coalesce(func.sum(case((participation.c.status == "checked_in", 1), else_=0)), 0).label("checked_in"),
        )
        .select_from(activity.outerjoin(participation, on))
        .where(activity.c.starts_at >= lo, activity.c.starts_at < hi)
        .group_by(month, activity.c.kind)
        .order_by(month, activity.c.kind)
    )
    act_scope = _activity_scope(scope)
    if act_scope is not None:
        stmt = stmt.where(act_scope)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame(rows, columns=["month", "kind", "activities", "registrations", "checked_in"])
    return df.astype({"activities": "int64", "registrations": "int64", "checked_in": "int64"})


@dataclass(frozen=True)
class ActivityPage:
    total: int
    rows: pd.DataFrame


def activity_page(
    engine: Engine,
    scope: Scope,
    start: date,
    end: date,
    sort: str = "starts_at",
    descending: bool = True,
    offset: int = 0,
    limit: int = 20,
) -> ActivityPage:
    """One page of the period's activities with their funnel counts, sorted in SQL."""
    if sort not in ACTIVITY_SORTS:
        raise ValueError(f"unknown sort {sort!r}; allowed: {', '.join(ACTIVITY_SORTS)}")
    lo, hi = _range(start, end)
    in_period = and_(activity.c.starts_at >= lo, activity.c.starts_at < hi)
    counts = (
        select(participation.c.activity_id, *_status_counts())
        .select_from(participation.join(activity, activity.c.id == participation.c.activity_id))
        .where(in_period)
        .group_by(participation.c.activity_id)
    )
    part_scope = _participation_scope(scope)
    if part_scope is not None:
        counts = counts.where(part_scope)
    counts = counts.subquery()
    numbers = {
        name: func.coalesce(counts.c[name], 0).label(name)
        for name in ("registrations", "approved", "rejected", "checked_in", "absent")
    }
    no_show = (
        cast(func.coalesce(counts.c.absent, 0), Double) / func.nullif(func.coalesce(counts.c.approved, 0), 0)
    ).label("no_show_rate")
    where = [in_period]
    act_scope = _activity_scope(scope)
    if act_scope is not None:
        where.append(act_scope)
    sort_column = {
        "starts_at": activity.c.starts_at,
        "title": activity.c.title,
        "no_show_rate": no_show,
        **numbers,
    }[sort]
    order = sort_column.desc() if descending else sort_column.asc()
    stmt = (
        select(
            activity.c.id,
            activity.c.title,
            activity.c.kind,
            activity.c.starts_at,
            activity.c.district_code,
            region.c.name_zh.label("district_zh"),
            func.coalesce(region.c.name_en, region.c.name_zh).label("district_en"),
            activity.c.online,
            *numbers.values(),
            no_show,
        )
        .select_from(
            activity.outerjoin(counts, counts.c.activity_id == activity.c.id).outerjoin(
                region, region.c.code == activity.c.district_code
            )
        )
        .where(*where)
        # NULLS LAST on both dialects (their defaults differ); id makes pages stable.
        .order_by(order.nulls_last(), activity.c.id.desc() if descending else activity.c.id)
        .offset(max(0, int(offset)))
        .limit(max(1, int(limit)))
    )
    total = select(func.count()).select_from(activity).where(*where)
    with engine.connect() as conn:
        n = conn.execute(total).scalar_one()
        rows = conn.execute(stmt).all()
    columns = [
        "id", "title", "kind", "starts_at", "district_code", "district_zh", "district_en", "online",
        "registrations", "approved", "rejected", "checked_in", "absent", "no_show_rate",
    ]
    df = pd.DataFrame(rows, columns=columns)
    df["no_show_rate"] = df["no_show_rate"].astype("float64")
    return ActivityPage(total=int(n), rows=df)


@dataclass(frozen=True)
class Reach:
    """Participation rate and dormant persons, per category and per district (columns: see reach_by)."""

    by_category: pd.DataFrame
    by_district: pd.DataFrame

    def by(self, dimension: str) -> pd.DataFrame:
        if dimension not in REACH_DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}; allowed: {', '.join(REACH_DIMENSIONS)}")
        return self.by_category if dimension == "category" else self.by_district


def reach(engine: Engine, scope: Scope, start: date, end: date, today: date) -> Reach:
    """Per category and per district: persons, persons with a check-in in [start, end], dormant persons.

    Dormant = no check-in since `dormant_since(today)`, exactly as
    PersonFilter(active_months=12, active=False) counts it. Two statements grouped
    by (category, district) — at most categories × districts rows each — serve both
    breakdowns, so the check-ins are scanned once.
    """
    lo, hi = _range(start, end)
    since = datetime.combine(dormant_since(today), time())
    pc = participation.c
    # One pass over the check-ins of both windows, collapsed to one row per person.
    checkins = (
        select(
            pc.person_id,
            func.max(case((and_(pc.checked_in_at >= lo, pc.checked_in_at < hi), 1), else_=0)).label("in_period"),
            func.max(case((pc.checked_in_at >= since, 1), else_=0)).label("recent"),
        )
        .where(pc.status == "checked_in", pc.checked_in_at >= min(lo, since))
        .group_by(pc.person_id)
        .subquery()
    )
    # Persons per cell from the person table alone; the reached ones through a join from
    # the (fewer) persons who checked in, by primary key: no scan of person against a
    # materialised check-in set.
    totals = select(person.c.category_code, person.c.district_code, func.count()).group_by(
        person.c.category_code, person.c.district_code
    )
    active = (
        select(
            person.c.category_code,
            person.c.district_code,
            func.sum(checkins.c.in_period),
            func.sum(checkins.c.recent),
        )
        .select_from(checkins.join(person, person.c.id == checkins.c.person_id))
        .group_by(person.c.category_code, person.c.district_code)
    )
    clause = scope.person_clause(person)
    if clause is not None:
        totals, active = totals.where(clause), active.where(clause)
    categories = select(category.c.code, category.c.name_zh, category.c.name_en).order_by(category.c.sort_order)
    districts = (
        select(region.c.code, region.c.name_zh, func.coalesce(region.c.name_en, region.c.name_zh))
        .where(region.c.level == "district")
        .order_by(region.c.code)
    )
    with engine.connect() as conn:
        counted = {(c, d): [int(n), 0, 0] for c, d, n in conn.execute(totals)}
        for c, d, reached, recent in conn.execute(active):
            counted.setdefault((c, d), [0, 0, 0])[1:] = [int(reached or 0), int(recent or 0)]
        names = {
            "category": conn.execute(categories).all(),
            "district": conn.execute(districts).all(),
        }
    cells = pd.DataFrame(
        [(c, d, *v) for (c, d), v in counted.items()], columns=["category", "district", "persons", "reached", "recent"]
    ).astype({"persons": "int64", "reached": "int64", "recent": "int64"})
    return Reach(by_category=_rollup(cells, "category", names["category"]),
                 by_district=_rollup(cells, "district", names["district"]))


def _rollup(cells: pd.DataFrame, dimension: str, names: list) -> pd.DataFrame:
    """Sum the cells over the other dimension; order by the reference table, unknown codes last."""
    sums = cells.groupby(cells[dimension].fillna("\x00"), sort=False)[["persons", "reached", "recent"]].sum()
    known = {code: (zh, en) for code, zh, en in names}
    order = [c for c, _, _ in names if c in sums.index] + sorted(
        (c for c in sums.index if c not in known), key=lambda c: (c == "\x00", c)
    )
    rows = []
    for code in order:
        persons, reached, recent = (int(v) for v in sums.loc[code])
        zh, en = known.get(code, (None, None))
        rows.append((None if code == "\x00" else code, zh, en, persons, reached, persons - recent))
    df = pd.DataFrame(rows, columns=["code", "name_zh", "name_en", "persons", "reached", "dormant"])
    df = df.astype({"persons": "int64", "reached": "int64", "dormant": "int64"})
    df["rate"] = (df["reached"] / df["persons"].where(df["persons"] > 0)).astype("float64")
    return df


def reach_by(engine: Engine, scope: Scope, dimension: str, start: date, end: date, today: date) -> pd.DataFrame:
    """One breakdown of `reach`: code, name_zh, name_en, persons, reached, dormant, rate."""
    if dimension not in REACH_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; allowed: {', '.join(REACH_DIMENSIONS)}")
    return reach(engine, scope, start, end, today).by(dimension)
