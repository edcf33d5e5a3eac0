"""Data health: is the data alive? Freshness, completeness, suspected duplicates, import batches,
and one liveness score.

Windows are "N months before today" as the rest of the store counts them
(round(N × 30.44) days, midnight), so "fresh within 12 months" and "checked in
within 12 months" agree with PersonFilter(updated_since=…) and
PersonFilter(active_months=12, active=True) in the explorer.

Liveness score (0–100), shown beside the number on the page:
    40 × share of persons updated within 12 months
  + 30 × mean share filled of the key fields (KEY_FIELDS)
  + 30 × share of persons with a check-in within 12 months
rounded to a whole number. Each part is a share of the persons in scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, case, distinct, exists, func, literal, null, or_, select

from store.schema import UPDATED_VIA, category, counted, import_batch, participation, person, person_tag, region
from store.queries.imports import visible_batches
from store.scope import Scope

FRESH_MONTHS = (3, 6, 12)
FRESHNESS_DIMENSIONS = ("category", "district", "updated_via")
# The fields whose fill rate the completeness heatmap shows; "district" is district_code,
# "tags" means at least one tag.
FIELDS = (
    "gender", "ethnicity", "birth_date", "id_number", "phone", "party", "district", "street",
    "organization", "position", "education", "title", "source", "tags",
)
# What a worker needs to identify, reach and place a person: these drive the liveness score.
KEY_FIELDS = ("gender", "birth_date", "id_number", "phone", "party", "district", "organization", "position")
LIVENESS_WEIGHTS = {"fresh": 40, "complete": 30, "active": 30}
LIVENESS_MONTHS = 12


def months_before(today: date, months: int) -> datetime:
    return datetime.combine(today - timedelta(days=round(months * 30.44)), time())


def _scoped(stmt, scope: Scope):
    """Persons in scope and still followed (those no longer followed leave every headcount)."""
    stmt = stmt.where(counted(person))
    clause = scope.person_clause(person)
    return stmt if clause is None else stmt.where(clause)


def _sum(condition: ColumnElement[bool]):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _filled(field: str) -> ColumnElement[bool]:
    if field == "tags":
        return exists().where(person_tag.c.person_id == person.c.id)
    column = person.c.district_code if field == "district" else person.c[field]
    if field == "birth_date":
        return column.is_not(None)
    # A blank string is as empty as NULL to the person reading the record.
    return and_(column.is_not(None), func.trim(column) != "")


def _group_key(column, dialect: str):
    """The column to GROUP BY. On SQLite, grouping a bare indexed column makes it walk that index
    and fetch every row by rowid, twice as slow at 1M persons as one table scan; coalesce(x, NULL)
    is x itself but hides the index. PostgreSQL plans a sequential scan and hash aggregate anyway."""
    return func.coalesce(column, null()) if dialect == "sqlite" else column


def _share(numerator, denominator) -> float | None:
    return numerator / denominator if denominator else None


def _grouped(column, values: list, scope: Scope, dialect: str):
    """A subquery: `values` per distinct `column` (as `key`) among the persons in scope."""
    key = _group_key(column, dialect).label("key")
    return _scoped(select(key, *values).select_from(person).group_by(key), scope).subquery("g")


# ---- freshness ----
def freshness(engine: Engine, scope: Scope, today: date, by: str | None = None) -> pd.DataFrame:
    """Persons and how many were updated within 3/6/12 months, overall (`by=None`) or per group.

    Columns: key, name_zh, name_en, persons, fresh_3, fresh_6, fresh_12, share_3, share_6,
    share_12. `key` is None for persons without a district / without updated_via.
    """
    if by is not None and by not in FRESHNESS_DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}; allowed: {', '.join(FRESHNESS_DIMENSIONS)}")
    dialect = engine.dialect.name
    counts = [func.count().label("persons")] + [
        _sum(person.c.updated_at >= months_before(today, m)).label(f"fresh_{m}") for m in FRESH_MONTHS
    ]
    names = [c.name for c in counts]
    if by is None:
        stmt = _scoped(select(literal("all").label("key"), literal(None).label("name_zh"),
                              literal(None).label("name_en"), *counts).select_from(person), scope)
    elif by == "category":
        g = _grouped(person.c.category_code, counts, scope, dialect)
        stmt = (
            select(g.c.key, category.c.name_zh, category.c.name_en, *[g.c[n] for n in names])
            .select_from(g.join(category, category.c.code == g.c.key))
            .order_by(category.c.sort_order)
        )
    elif by == "district":
        g = _grouped(person.c.district_code, counts, scope, dialect)
        stmt = (
            select(g.c.key, region.c.name_zh, func.coalesce(region.c.name_en, region.c.name_zh).label("name_en"),
                   *[g.c[n] for n in names])
            .select_from(g.outerjoin(region, region.c.code == g.c.key))
            .order_by(g.c.key.nulls_last())
        )
    else:
        g = _grouped(person.c.updated_via, counts, scope, dialect)
        stmt = select(g.c.key, literal(None).label("name_zh"), literal(None).label("name_en"), *[g.c[n] for n in names])
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    columns = ["key", "name_zh", "name_en", "persons"] + [f"fresh_{m}" for m in FRESH_MONTHS]
    df = pd.DataFrame(rows, columns=columns).astype({c: "int64" for c in columns[3:]})
    # object, not pandas' str dtype: a missing district or updated_via stays None rather than NaN.
    df["key"] = pd.Series([r[0] for r in rows], dtype=object, index=df.index)
    if by == "updated_via":
        order = {v: i for i, v in enumerate(UPDATED_VIA)}
        df = df.sort_values("key", key=lambda s: s.map(lambda v: order.get(v, len(order))), ignore_index=True)
    df = df[df["persons"] > 0].reset_index(drop=True) if by is not None else df
    for m in FRESH_MONTHS:
        df[f"share_{m}"] = [_share(f, n) for f, n in zip(df[f"fresh_{m}"], df["persons"])]
        df[f"share_{m}"] = df[f"share_{m}"].astype("float64")
    return df


# ---- completeness ----
def completeness(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Per category: persons and, per field of FIELDS, how many have it filled (one GROUP BY).

    Columns: key, name_zh, name_en, sort_order, persons, then one count column per field.
    Categories without persons in scope are absent.
    """
    g = _grouped(person.c.category_code, [func.count().label("persons"), *[_sum(_filled(f)).label(f) for f in FIELDS]],
                 scope, engine.dialect.name)
    stmt = (
        select(g.c.key, category.c.name_zh, category.c.name_en, category.c.sort_order, g.c.persons,
               *[g.c[f] for f in FIELDS])
        .select_from(g.join(category, category.c.code == g.c.key))
        .order_by(category.c.sort_order)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    columns = ["key", "name_zh", "name_en", "sort_order", "persons", *FIELDS]
    return pd.DataFrame(rows, columns=columns).astype({c: "int64" for c in ["persons", *FIELDS]})


# ---- liveness ----
@dataclass(frozen=True)
class Liveness:
    persons: int
    fresh: int
    active: int
    # field -> persons with it filled, for KEY_FIELDS
    key_filled: tuple[tuple[str, int], ...]

    @property
    def fresh_share(self) -> float | None:
        return _share(self.fresh, self.persons)

    @property
    def active_share(self) -> float | None:
        return _share(self.active, self.persons)

    @property
    def completeness(self) -> float | None:
        if not self.persons:
            return None
        return sum(n for _, n in self.key_filled) / (len(self.key_filled) * self.persons)

    @property
    def score(self) -> int | None:
        """The weighted score (see the module docstring); None for an empty scope."""
        if not self.persons:
            return None
        w = LIVENESS_WEIGHTS
        value = w["fresh"] * self.fresh_share + w["complete"] * self.completeness + w["active"] * self.active_share
        return int(round(value))


def liveness(engine: Engine, scope: Scope, today: date) -> Liveness:
    since = months_before(today, LIVENESS_MONTHS)
    stmt = _scoped(
        select(
            func.count(),
            _sum(person.c.updated_at >= since),
            *[_sum(_filled(f)) for f in KEY_FIELDS],
        ).select_from(person),
        scope,
    )
    # A check-in time is only ever recorded with status checked_in, so the time alone is read:
    # participation's covering (checked_in_at, person_id) index answers without touching a row
    # (measured at 3M check-ins: 6 s instead of 30–45 s with the status test).
    active = select(func.count(distinct(participation.c.person_id))).where(participation.c.checked_in_at >= since)
    clause = scope.person_clause(person)
    if clause is not None:
        active = active.join(person, person.c.id == participation.c.person_id).where(clause)
    with engine.connect() as conn:
        n, fresh, *filled = conn.execute(stmt).one()
        n_active = conn.execute(active).scalar_one()
    return Liveness(
        persons=int(n), fresh=int(fresh), active=int(n_active),
        key_filled=tuple((f, int(v)) for f, v in zip(KEY_FIELDS, filled)),
    )


# ---- suspected duplicates ----
@dataclass(frozen=True)
class DuplicatePage:
    groups: int
    persons: int
    rows: pd.DataFrame


def _is_mobile() -> ColumnElement[bool]:
    # Importers store mobiles as 11 bare digits; landlines (shared switchboards) are not evidence.
    return and_(person.c.phone.like("1%"), func.length(person.c.phone) == 11)


def _page_with_totals(conn, grouped, order_by, offset: int, limit: int):
    """A page of a grouped query plus its number of groups and persons, from one scan."""
    sub = grouped.subquery("g")
    page = (
        select(sub, func.count().over().label("groups_total"), func.sum(sub.c.persons).over().label("persons_total"))
        .order_by(*[sub.c[c].desc() if desc else sub.c[c] for c, desc in order_by])
        .offset(max(0, int(offset)))
        .limit(max(1, int(limit)))
    )
    rows = conn.execute(page).mappings().all()
    if rows:
        return rows, int(rows[0]["groups_total"]), int(rows[0]["persons_total"])
    groups, persons = conn.execute(select(func.count(), func.coalesce(func.sum(sub.c.persons), 0))).one()
    return rows, int(groups), int(persons)


def name_birth_duplicates(engine: Engine, scope: Scope, offset: int = 0, limit: int = 20) -> DuplicatePage:
    """Groups of persons sharing name and birth date (ID numbers are unique, so theirs differ or are missing).

    Rows: name, birth_date, persons, missing_id (persons of the group without an ID number),
    first_id and last_id (two of the group, for a merge: the lowest and highest id).
    Persons without a birth date are never grouped: a shared name alone is not evidence.
    """
    # Grouped on (name, birth_date) alone so an unscoped count reads only that index. A scoped
    # one must read each row's district anyway: then the district index should lead.
    name = person.c.name if scope.is_everything else _group_key(person.c.name, engine.dialect.name)
    grouped = _scoped(
        select(name.label("name"), person.c.birth_date, func.count().label("persons"))
        .where(person.c.birth_date.is_not(None))
        .group_by(name, person.c.birth_date)
        .having(func.count() > 1),
        scope,
    )
    with engine.connect() as conn:
        rows, groups, persons = _page_with_totals(
            conn, grouped, [("persons", True), ("name", False), ("birth_date", False)], offset, limit
        )
        missing: dict = {}
        if rows:
            # Only the page's groups go back to the rows for their ID numbers.
            pairs = or_(*[and_(person.c.name == r["name"], person.c.birth_date == r["birth_date"]) for r in rows])
            stmt = _scoped(
                select(person.c.name, person.c.birth_date, func.count() - func.count(person.c.id_number),
                       func.min(person.c.id), func.max(person.c.id))
                .where(pairs).group_by(person.c.name, person.c.birth_date),
                scope,
            )
            missing = {(n, b): (int(m), int(lo), int(hi)) for n, b, m, lo, hi in conn.execute(stmt)}
    df = pd.DataFrame([(r["name"], r["birth_date"], int(r["persons"]),
                        *missing.get((r["name"], r["birth_date"]), (0, 0, 0))) for r in rows],
                      columns=["name", "birth_date", "persons", "missing_id", "first_id", "last_id"])
    return DuplicatePage(groups=groups, persons=persons, rows=df.astype(
        {"persons": "int64", "missing_id": "int64", "first_id": "int64", "last_id": "int64"}))


def phone_duplicates(engine: Engine, scope: Scope, offset: int = 0, limit: int = 20) -> DuplicatePage:
    """Mobiles recorded under two or more different names.

    Rows: phone, persons, names (a tuple of the distinct names, sorted).
    """
    # Shared mobiles first, from the phone index alone; only their few rows are read for names.
    phone = person.c.phone if scope.is_everything else _group_key(person.c.phone, engine.dialect.name)
    shared = _scoped(
        select(phone).where(person.c.phone.is_not(None), _is_mobile())
        .group_by(phone).having(func.count() > 1),
        scope,
    )
    grouped = _scoped(
        select(person.c.phone, func.count().label("persons"), func.count(distinct(person.c.name)).label("names"))
        .where(person.c.phone.in_(shared))
        .group_by(person.c.phone)
        .having(func.count(distinct(person.c.name)) > 1),
        scope,
    )
    with engine.connect() as conn:
        rows, groups, persons = _page_with_totals(conn, grouped, [("names", True), ("phone", False)], offset, limit)
        phones = [r["phone"] for r in rows]
        names: dict[str, list[str]] = {p: [] for p in phones}
        if phones:
            stmt = _scoped(
                select(person.c.phone, person.c.name).where(person.c.phone.in_(phones))
                .group_by(person.c.phone, person.c.name),
                scope,
            )
            for phone, name in conn.execute(stmt):
                names[phone].append(name)
    # Sorted here, not in SQL: PostgreSQL's collation and SQLite's byte order disagree on Chinese.
    names = {p: sorted(n) for p, n in names.items()}
    df = pd.DataFrame([(r["phone"], int(r["persons"]), tuple(names[r["phone"]])) for r in rows],
                      columns=["phone", "persons", "names"])
    return DuplicatePage(groups=groups, persons=persons, rows=df.astype({"persons": "int64"}))


# ---- import batches ----
@dataclass(frozen=True)
class BatchPage:
    total: int
    rows: pd.DataFrame


BATCH_COLUMNS = ("id", "file_name", "imported_at", "imported_by", "rows_read", "inserted", "updated",
                 "unchanged", "rejected", "status", "reject_rate")


def recent_batches(engine: Engine, scope: Scope, offset: int = 0, limit: int = 20, *,
                   viewer: str | None = None) -> BatchPage:
    """Import batches, newest first, those `store.queries.imports.visible_batches` shows.

    A batch's numbers are the whole file's.
    """
    visible = visible_batches(scope, viewer)
    where = [] if visible is None else [visible]
    b = import_batch.c
    stmt = (
        select(b.id, b.file_name, b.imported_at, b.imported_by, b.rows_read, b.inserted, b.updated, b.unchanged,
               b.rejected, b.status)
        .where(*where)
        .order_by(b.imported_at.desc(), b.id.desc())
        .offset(max(0, int(offset)))
        .limit(max(1, int(limit)))
    )
    total = select(func.count()).select_from(import_batch).where(*where)
    with engine.connect() as conn:
        n = conn.execute(total).scalar_one()
        rows = conn.execute(stmt).all()
    df = pd.DataFrame(rows, columns=list(BATCH_COLUMNS[:-1]))
    df["reject_rate"] = pd.Series([_share(r, n_) for r, n_ in zip(df["rejected"], df["rows_read"])],
                                  dtype="float64", index=df.index)
    return BatchPage(total=int(n), rows=df)
