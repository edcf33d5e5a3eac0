"""The lifecycle 发现 → 培养 → 使用 → 管理: funnel, time in stage, cohorts, sources, promotion, terms.

Stage facts come from the stage_event history: a person "reached" a stage when
some event puts them there; the time of reaching is their first such event.
Persons without any event are counted separately, never guessed into a stage.

Durations are whole calendar days (date of leaving minus date of entering), so
SQLite and PostgreSQL agree to the day. Medians follow percentile_cont(0.5)
(the mean of the two middle values for an even count): PostgreSQL computes them
in SQL; SQLite has no percentile, so it returns a per-group histogram of days
(a few thousand rows at most) whose median is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd
from sqlalchemy import (
    Engine,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import Subquery

from store.queries.activities import dormant_since
from store.queries.enterprises import risk_count
from store.schema import STAGES, appointment, category, counted, participation, person, region, stage_event
from store.scope import Scope
from store.sql import days_between, has_percentile, year_of

TERM_WATCH_MONTHS = 6
TERM_KINDS = ("soon", "overdue")


# ---- building blocks ----
def _first_entries(scope: Scope | None) -> Subquery:
    """One row per person with history: the first time they entered each stage (NULL = never)."""
    se = stage_event.c
    stmt = select(
        se.person_id,
        *[func.min(case((se.stage == s, se.entered_at))).label(s) for s in STAGES],
    ).group_by(se.person_id)
    clause = scope.person_clause(person) if scope is not None else None
    if clause is not None:
        stmt = stmt.join(person, person.c.id == se.person_id).where(clause)
    return stmt.subquery("first_entry")


def _median_from_histogram(pairs: list[tuple[int, int]]) -> float | None:
    """Median (percentile_cont 0.5) of values given as sorted (value, count) pairs."""
    n = sum(c for _, c in pairs)
    if n == 0:
        return None
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    seen, lo_value, hi_value = 0, None, None
    for value, count in pairs:
        if lo_value is None and lo_rank < seen + count:
            lo_value = value
        if hi_rank < seen + count:
            hi_value = value
            break
        seen += count
    return (lo_value + hi_value) / 2


def _medians(conn, dialect: str, keyed, columns: tuple[str, ...]) -> dict:
    """{(key, column): (n, median)} over the non-NULL values of each of `columns`, per `key`.

    `keyed` is a CTE or subquery with a `key` column and the value columns. One
    statement either way: PostgreSQL aggregates each column with percentile_cont
    (which ignores NULLs); SQLite gets one histogram per column, UNION ALL'd over
    a CTE it materialises once.
    """
    out: dict = {}
    if has_percentile(dialect):
        parts = []
        for c in columns:
            parts += [func.count(keyed.c[c]), func.percentile_cont(0.5).within_group(keyed.c[c])]
        for row in conn.execute(select(keyed.c.key, *parts).group_by(keyed.c.key)):
            for i, c in enumerate(columns):
                n, median = row[1 + 2 * i], row[2 + 2 * i]
                if n:
                    out[(row[0], c)] = (int(n), float(median))
        return out
    branches = [
        select(keyed.c.key, literal(i).label("col"), keyed.c[c].label("days"), func.count().label("n"))
        .where(keyed.c[c].isnot(None))
        .group_by(keyed.c.key, keyed.c[c])
        for i, c in enumerate(columns)
    ]
    histograms: dict = {}
    for key, i, days, count in conn.execute(union_all(*branches)):
        histograms.setdefault((key, columns[i]), []).append((int(days), int(count)))
    for k, pairs in histograms.items():
        pairs.sort()
        out[k] = (sum(c for _, c in pairs), _median_from_histogram(pairs))
    return out


# ---- funnel, cohorts and sources: one pass over the stage history ----
@dataclass(frozen=True)
class Funnel:
    """`table`: one row per stage with both readings and their conversions."""

    table: pd.DataFrame
    persons: int
    without_history: int


@dataclass(frozen=True)
class Overview:
    funnel: Funnel
    cohorts: pd.DataFrame
    sources: pd.DataFrame


def _conversions(counts: list[int]) -> tuple[list[float | None], list[float | None]]:
    next_step = [None] + [counts[i] / counts[i - 1] if counts[i - 1] else None for i in range(1, len(counts))]
    cumulative = [c / counts[0] if counts[0] else None for c in counts]
    return next_step, cumulative


def _pivot_counts(conn, dialect: str, scope: Scope) -> pd.DataFrame:
    """Per (source, year of discovery): persons, persons with history, reached per stage (any and in order).

    Rows are few (sources × years) and every section below is a sum over them,
    so the funnel, the cohorts and the sources cost one scan of the history.
    """
    f = _first_entries(None)
    cols = [f.c[s] for s in STAGES]
    in_order = []
    for k in range(len(STAGES)):
        conds = [cols[0].isnot(None)] + [cols[i] >= cols[i - 1] for i in range(1, k + 1)]
        in_order.append(func.coalesce(func.sum(case((and_(*conds), 1), else_=0)), 0))
    source = func.coalesce(person.c.source, "")
    year = year_of(f.c.discover, dialect)
    stmt = (
        select(source, year, func.count(), func.count(f.c.person_id), *[func.count(c) for c in cols], *in_order)
        .select_from(person.outerjoin(f, f.c.person_id == person.c.id))
        .where(counted(person))
        .group_by(source, year)
    )
    clause = scope.person_clause(person)
    if clause is not None:
        stmt = stmt.where(clause)
    names = ["source", "cohort", "persons", "with_history", *[f"any_{s}" for s in STAGES], *[f"ord_{s}" for s in STAGES]]
    df = pd.DataFrame(conn.execute(stmt).all(), columns=names)
    return df.astype({c: "int64" for c in names[2:]})


def _funnel_from(pivot: pd.DataFrame) -> Funnel:
    any_stage = [int(pivot[f"any_{s}"].sum()) for s in STAGES]
    ordered = [int(pivot[f"ord_{s}"].sum()) for s in STAGES]
    in_next, in_cum = _conversions(ordered)
    any_next, any_cum = _conversions(any_stage)
    table = pd.DataFrame(
        {
            "stage": list(STAGES),
            "in_order": ordered,
            "in_order_next": pd.array(in_next, dtype="float64"),
            "in_order_cum": pd.array(in_cum, dtype="float64"),
            "any_stage": any_stage,
            "any_next": pd.array(any_next, dtype="float64"),
            "any_cum": pd.array(any_cum, dtype="float64"),
        }
    )
    persons, with_history = int(pivot["persons"].sum()), int(pivot["with_history"].sum())
    return Funnel(table=table, persons=persons, without_history=persons - with_history)


def _sources_from(pivot: pd.DataFrame, limit: int) -> pd.DataFrame:
    grouped = (
        pivot.groupby("source", sort=False)[["persons", "any_cultivate", "any_use"]].sum().reset_index()
        .rename(columns={"any_cultivate": "cultivate", "any_use": "use"})
        .sort_values(["persons", "source"], ascending=[False, True], kind="stable")
    )
    df = grouped.head(limit).reset_index(drop=True).astype({"persons": "int64", "cultivate": "int64", "use": "int64"})
    df["cultivate_rate"] = (df["cultivate"] / df["persons"]).astype("float64")
    df["use_rate"] = (df["use"] / df["persons"]).astype("float64")
    df.attrs["truncated"] = len(grouped) > limit
    return df


def _cohorts_from(conn, dialect: str, scope: Scope, pivot: pd.DataFrame) -> pd.DataFrame:
    found = pivot[pivot["cohort"].notna()]
    counts = found.groupby("cohort")[["any_discover", "any_cultivate", "any_use", "any_manage"]].sum().reset_index()
    counts.columns = ["cohort", "discover", "cultivate", "use", "manage"]
    df = counts.astype({c: "int64" for c in counts.columns}).sort_values("cohort").reset_index(drop=True)
    f = _first_entries(scope)
    d = f.c.discover
    keyed = (
        select(
            year_of(d, dialect).label("key"),
            case((f.c.cultivate >= d, days_between(f.c.cultivate, d, dialect))).label("to_cultivate"),
            case((f.c.use >= d, days_between(f.c.use, d, dialect))).label("to_use"),
        )
        .where(d.isnot(None))
        .cte("cohort_days")
    )
    medians = _medians(conn, dialect, keyed, ("to_cultivate", "to_use"))
    for column, name in (("to_cultivate", "days_to_cultivate"), ("to_use", "days_to_use")):
        df[name] = pd.array([medians.get((y, column), (0, None))[1] for y in df["cohort"]], dtype="float64")
    return df


def lifecycle_overview(engine: Engine, scope: Scope, source_limit: int = 15) -> Overview:
    """Funnel, cohorts and sources together: two statements for the three sections."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        pivot = _pivot_counts(conn, dialect, scope)
        cohort_df = _cohorts_from(conn, dialect, scope, pivot)
    return Overview(funnel=_funnel_from(pivot), cohorts=cohort_df, sources=_sources_from(pivot, source_limit))


def lifecycle_funnel(engine: Engine, scope: Scope) -> Funnel:
    """Persons per stage, read two ways.

    any_stage: reached the stage at some time, whatever came before.
    in_order: reached it after reaching every earlier stage, in that order
    (first entries not decreasing) — a person who skipped 培养 stops at 发现.
    """
    with engine.connect() as conn:
        return _funnel_from(_pivot_counts(conn, engine.dialect.name, scope))


def cohorts(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Per year of first discovery: finds, how many reached each later stage (any time),
    and the median days from discovery to first 培养 and to first 使用."""
    return lifecycle_overview(engine, scope).cohorts


def sources(engine: Engine, scope: Scope, limit: int = 15) -> pd.DataFrame:
    """Where finds come from and how far they get: persons per source, reached 培养 / 使用, rates.

    Sorted by persons; sources beyond `limit` are left out and `attrs["truncated"]`
    says so. A missing source is "".
    """
    return lifecycle_overview(engine, scope, source_limit=limit).sources


def time_in_stage(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Per stage: completed stays (the person has a later event) and their median length in days.

    A stay runs from an event to the same person's next event; the last event
    of each person is an ongoing stay and is not counted.
    """
    se = stage_event.c
    dialect = engine.dialect.name
    next_at = func.lead(se.entered_at).over(partition_by=se.person_id, order_by=(se.entered_at, se.id))
    stays = select(se.stage, se.entered_at, next_at.label("next_at"))
    clause = scope.person_clause(person)
    if clause is not None:
        stays = stays.join(person, person.c.id == se.person_id).where(clause)
    stays = stays.subquery("stay")
    keyed = select(
        stays.c.stage.label("key"), days_between(stays.c.next_at, stays.c.entered_at, dialect).label("days")
    ).subquery("keyed")
    with engine.connect() as conn:
        medians = _medians(conn, dialect, keyed, ("days",))
    return pd.DataFrame(
        {
            "stage": list(STAGES),
            "stays": [medians.get((s, "days"), (0, None))[0] for s in STAGES],
            "median_days": pd.array([medians.get((s, "days"), (0, None))[1] for s in STAGES], dtype="float64"),
        }
    )


# ---- candidates to promote ----
@dataclass(frozen=True)
class CandidatePage:
    total: int
    rows: pd.DataFrame


def promote_candidates(
    engine: Engine, scope: Scope, today: date, min_checkins: int, offset: int = 0, limit: int = 20
) -> CandidatePage:
    """Persons now in 培养 with at least `min_checkins` check-ins in the last 12 months and no post.

    Returns only what may be shown in a list: no ID number, no phone. `risks` counts the risk
    records (失信, court, penalty, abnormal) of enterprises the person is linked to: a warning.
    """
    pc = participation.c
    since = datetime.combine(dormant_since(today), time())
    checkins = (
        select(pc.person_id, func.count().label("check_ins"))
        .where(pc.status == "checked_in", pc.checked_in_at >= since)
        .group_by(pc.person_id)
        .having(func.count() >= max(1, int(min_checkins)))
        .subquery("recent_checkins")
    )
    where = [
        person.c.stage == "cultivate",
        counted(person),
        not_(exists().where(appointment.c.person_id == person.c.id)),
    ]
    clause = scope.person_clause(person)
    if clause is not None:
        where.append(clause)
    joined = person.join(checkins, checkins.c.person_id == person.c.id)
    total = select(func.count()).select_from(joined).where(*where)
    stmt = (
        select(
            person.c.id,
            person.c.name,
            person.c.category_code,
            category.c.name_zh.label("category_zh"),
            category.c.name_en.label("category_en"),
            person.c.district_code,
            region.c.name_zh.label("district_zh"),
            func.coalesce(region.c.name_en, region.c.name_zh).label("district_en"),
            person.c.organization,
            checkins.c.check_ins,
            # A warning beside the name: risk records of the enterprises the person is linked to.
            risk_count().label("risks"),
            # The total rides along with the page: the check-in grouping runs once, not twice.
            func.count().over().label("total"),
        )
        .select_from(
            joined.outerjoin(category, category.c.code == person.c.category_code).outerjoin(
                region, region.c.code == person.c.district_code
            )
        )
        .where(*where)
        .order_by(checkins.c.check_ins.desc(), person.c.id)
        .offset(max(0, int(offset)))
        .limit(max(1, int(limit)))
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        # Past the last page the window has no row to ride on: count separately (rare).
        n = rows[0].total if rows else (conn.execute(total).scalar_one() if offset > 0 else 0)
    columns = ["id", "name", "category_code", "category_zh", "category_en", "district_code", "district_zh",
               "district_en", "organization", "check_ins", "risks"]
    return CandidatePage(total=int(n), rows=pd.DataFrame([r[:-1] for r in rows], columns=columns))


# ---- term watch ----
def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _term_condition(kind: str, today: date):
    a = appointment.c
    if kind == "soon":
        return and_(a.term_end >= today, a.term_end <= add_months(today, TERM_WATCH_MONTHS))
    if kind == "overdue":
        later = appointment.alias("later")
        successor = exists().where(
            later.c.person_id == a.person_id,
            later.c.body == a.body,
            later.c.id != a.id,
            or_(later.c.term_start > a.term_start, later.c.term_end > a.term_end),
        )
        return and_(a.term_end < today, not_(successor))
    raise ValueError(f"unknown term kind {kind!r}; allowed: {', '.join(TERM_KINDS)}")


def _scoped_appointments(stmt, scope: Scope):
    """Posts of persons in scope and still followed (a term watch has no use for the others)."""
    holders = select(person.c.id).where(counted(person))
    clause = scope.person_clause(person)
    if clause is not None:
        holders = holders.where(clause)
    return stmt.where(appointment.c.person_id.in_(holders))


def term_watch_by_body(engine: Engine, scope: Scope, today: date) -> pd.DataFrame:
    """Per body: posts ending within 6 months (today included) and posts past their end with no successor."""
    a = appointment.c
    out = {}
    with engine.connect() as conn:
        for kind in TERM_KINDS:
            stmt = select(a.body, func.count()).where(_term_condition(kind, today)).group_by(a.body)
            out[kind] = dict(conn.execute(_scoped_appointments(stmt, scope)).all())
    bodies = sorted(set(out["soon"]) | set(out["overdue"]))
    return pd.DataFrame(
        {
            "body": bodies,
            "soon": [int(out["soon"].get(b, 0)) for b in bodies],
            "overdue": [int(out["overdue"].get(b, 0)) for b in bodies],
        },
        columns=["body", "soon", "overdue"],
    ).astype({"soon": "int64", "overdue": "int64"})


@dataclass(frozen=True)
class TermPage:
    total: int
    rows: pd.DataFrame


def term_watch_page(
    engine: Engine, scope: Scope, today: date, kind: str, offset: int = 0, limit: int = 20
) -> TermPage:
    """One page of the posts of `kind` (soon: nearest end first; overdue: longest overdue first).

    `risks`: the holder's enterprises' risk records, a warning before a reappointment."""
    a = appointment.c
    cond = _term_condition(kind, today)
    total = _scoped_appointments(select(func.count()).select_from(appointment).where(cond), scope)
    stmt = _scoped_appointments(
        select(
            a.id,
            person.c.name,
            region.c.name_zh.label("district_zh"),
            func.coalesce(region.c.name_en, region.c.name_zh).label("district_en"),
            a.body,
            a.title,
            a.level,
            a.term_start,
            a.term_end,
            risk_count().label("risks"),
        )
        .select_from(
            appointment.join(person, person.c.id == a.person_id).outerjoin(
                region, region.c.code == person.c.district_code
            )
        )
        .where(cond)
        .order_by(a.term_end, a.id)
        .offset(max(0, int(offset)))
        .limit(max(1, int(limit))),
        scope,
    )
    with engine.connect() as conn:
        n = conn.execute(total).scalar_one()
        rows = conn.execute(stmt).all()
    columns = ["id", "name", "district_zh", "district_en", "body", "title", "level", "term_start", "term_end", "risks"]
    df = pd.DataFrame(rows, columns=columns)
    df["days_left"] = pd.array([(d - today).days if d is not None else None for d in df["term_end"]], dtype="Int64")
    return TermPage(total=int(n), rows=df)
