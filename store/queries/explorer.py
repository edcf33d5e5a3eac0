"""The explorer's queries: one PersonFilter drives the headcount, the charts, the list and the export.

Every function takes (engine, scope, filter, ...) and hands the filter's own
conditions to SQL, so the numbers agree by construction. Aggregates return only
the rows their chart needs; the list is one page (LIMIT/OFFSET) at a time.
Display names come from the reference tables (category, region) and from
data/parties.csv, in the language asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Iterator

import pandas as pd
from sqlalchemy import Engine, and_, case, func, select, tuple_
from sqlalchemy.sql import ColumnElement

from store import clock
from store.filters import PersonFilter, _years_before
from store.migrate import DATA_DIR, read_csv_rows
from store.privacy import mask_id_number, mask_phone, shown_birth
from store.queries.enterprises import risk_count
from store.schema import (
    APPOINTMENT_BODIES,
    GENDERS,
    STAGES,
    activity,
    appointment,
    category,
    counted,
    participation,
    person,
    person_tag,
    region,
    stage_event,
    tag,
)
from store.scope import Scope
from store.sql import LastCheckIn

LANGS = ("zh", "en")

# Code labels that have no reference table: (zh, en).
STAGE_LABELS = {"discover": ("发现", "Discover"), "cultivate": ("培养", "Cultivate"),
                "use": ("使用", "Use"), "manage": ("管理", "Manage")}
GENDER_LABELS = {"M": ("男", "Male"), "F": ("女", "Female")}
BODY_LABELS = {"npc": ("人大", "NPC"), "cppcc": ("政协", "CPPCC"),
               "association": ("社团组织", "Association"), "other": ("其他", "Other")}
KIND_LABELS = {"training": ("培训", "Training"), "lecture": ("讲座", "Lecture"), "onsite": ("实地考察", "On-site visit"),
               "survey": ("调研", "Survey"), "other": ("其他", "Other")}
STATUS_LABELS = {"registered": ("已报名", "Registered"), "approved": ("已通过", "Approved"),
                 "rejected": ("未通过", "Rejected"), "checked_in": ("已签到", "Checked in"), "absent": ("缺席", "Absent"),
                 "waitlisted": ("候补", "Wait-listed"), "declined": ("已婉拒", "Declined"),
                 "withdrawn": ("已退出", "Withdrawn")}
TERM_LABELS = {"current": ("在任", "Current"), "ended": ("已届满", "Ended"), "upcoming": ("未开始", "Upcoming")}
UNKNOWN = ("未填写", "Not given")

# Age bands of the pyramid, inclusive (lo, hi); None = open. They map one-to-one onto
# PersonFilter(age_min=lo, age_max=hi), so clicking a band filters exactly that band.
AGE_BANDS: tuple[tuple[int | None, int | None], ...] = (
    (None, 24), (25, 29), (30, 34), (35, 39), (40, 44), (45, 49), (50, 54),
    (55, 59), (60, 64), (65, 69), (70, None),
)

SORTS = ("name", "age", "updated_at", "last_activity")
PAGE_SIZES = (20, 50, 100)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(lang) if lang in LANGS else 0]


def code_label(labels: dict[str, tuple[str, str]], code: str | None, lang: str) -> str:
    if code is None or code == "":
        return _pick(UNKNOWN, lang)
    pair = labels.get(code)
    return _pick(pair, lang) if pair else code


@lru_cache(maxsize=1)
def party_labels() -> dict[str, tuple[str, str]]:
    """Party display names from data/parties.csv (replaceable per deployment)."""
    return {r["code"]: (r["name_zh"], r["name_en"]) for r in read_csv_rows(DATA_DIR / "parties.csv")}


def band_label(band: tuple[int | None, int | None], lang: str) -> str:
    lo, hi = band
    if lo is None:
        return f"<{hi + 1}"
    if hi is None:
        return f"{lo}+"
    return f"{lo}–{hi}"


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class FilterOptions:
    """What the filter widgets offer: (code, label) pairs in display order."""

    categories: tuple[tuple[str, str], ...] = ()
    districts: tuple[tuple[str, str], ...] = ()
    # (district code, street name): person.street stores names, unique only within a district.
    streets: tuple[tuple[str, str], ...] = ()
    stages: tuple[tuple[str, str], ...] = ()
    parties: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    genders: tuple[tuple[str, str], ...] = ()
    educations: tuple[str, ...] = ()
    bodies: tuple[tuple[str, str], ...] = ()

    def streets_of(self, districts: tuple[str, ...]) -> tuple[str, ...]:
        """Street names of the chosen districts (all streets when none is chosen), de-duplicated."""
        chosen = set(districts)
        seen: dict[str, None] = {}
        for d, name in self.streets:
            if not chosen or d in chosen:
                seen.setdefault(name, None)
        return tuple(seen)


def filter_options(engine: Engine, scope: Scope, lang: str = "zh") -> FilterOptions:
    name = category.c.name_en if lang == "en" else category.c.name_zh
    rname = func.coalesce(region.c.name_en, region.c.name_zh) if lang == "en" else region.c.name_zh
    with engine.connect() as conn:
        cats = conn.execute(select(category.c.code, name).order_by(category.c.sort_order, category.c.code)).all()
        districts = conn.execute(
            select(region.c.code, rname).where(region.c.level == "district").order_by(region.c.code)
        ).all()
        streets = conn.execute(
            select(region.c.parent_code, region.c.name_zh).where(region.c.level == "street").order_by(region.c.code)
        ).all()
        tags = conn.execute(select(tag.c.name).order_by(tag.c.name)).scalars().all()
        edu_stmt = select(person.c.education).where(person.c.education.is_not(None)).group_by(person.c.education)
        clause = scope.person_clause(person)
        if clause is not None:
            edu_stmt = edu_stmt.where(clause)
        educations = conn.execute(edu_stmt.order_by(person.c.education)).scalars().all()
    return FilterOptions(
        categories=tuple((c, n) for c, n in cats),
        districts=tuple((c, n) for c, n in districts if scope.allows_district(c)),
        streets=tuple((d, n) for d, n in streets if scope.allows_street(d, n)),
        stages=tuple((s, code_label(STAGE_LABELS, s, lang)) for s in STAGES),
        parties=tuple((c, _pick(p, lang)) for c, p in party_labels().items()),
        tags=tuple(tags),
        genders=tuple((g, code_label(GENDER_LABELS, g, lang)) for g in GENDERS),
        educations=tuple(e for e in educations if e),
        bodies=tuple((b, code_label(BODY_LABELS, b, lang)) for b in APPOINTMENT_BODIES),
    )


# ---------------------------------------------------------------- counts


@dataclass(frozen=True)
class Headcount:
    matched: int
    total: int

    @property
    def share(self) -> float:
        return self.matched / self.total if self.total else 0.0


def _conds(scope: Scope, flt: PersonFilter, today: date | None) -> list[ColumnElement[bool]]:
    return flt.conditions(scope, today or clock.today())


def headcount(engine: Engine, scope: Scope, flt: PersonFilter, today: date | None = None) -> Headcount:
    """Persons matching the filter, and all persons in the scope (the share's denominator)."""
    matched = select(func.count()).select_from(person).where(*_conds(scope, flt, today))
    total = select(func.count()).select_from(person).where(counted(person))
    clause = scope.person_clause(person)
    if clause is not None:
        total = total.where(clause)
    with engine.connect() as conn:
        m = conn.execute(matched).scalar_one()
        n = m if flt.is_empty() else conn.execute(total).scalar_one()
    return Headcount(matched=int(m), total=int(n))


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def count_by_category(engine: Engine, scope: Scope, flt: PersonFilter, lang: str = "zh",
                      today: date | None = None) -> pd.DataFrame:
    """code, label, n — every category with at least one match, in the reference order."""
    name = category.c.name_en if lang == "en" else category.c.name_zh
    stmt = (
        select(category.c.code, name, func.count())
        .select_from(person.join(category, category.c.code == person.c.category_code))
        .where(*_conds(scope, flt, today))
        .group_by(category.c.code, name, category.c.sort_order)
        .order_by(category.c.sort_order)
    )
    with engine.connect() as conn:
        return _frame(conn.execute(stmt), ["code", "label", "n"])


def count_by_district(engine: Engine, scope: Scope, flt: PersonFilter, lang: str = "zh",
                      today: date | None = None) -> pd.DataFrame:
    """code, label, n — by district, largest first; persons without a district last (code "")."""
    stmt = (
        select(person.c.district_code, func.count().label("n"))
        .where(*_conds(scope, flt, today))
        .group_by(person.c.district_code)
    )
    with engine.connect() as conn:
        return _district_frame(conn.execute(stmt).all(), _district_names(conn), lang)


def _district_names(conn) -> dict[str, tuple[str, str]]:
    return {c: (zh, en or zh) for c, zh, en in conn.execute(
        select(region.c.code, region.c.name_zh, region.c.name_en).where(region.c.level == "district"))}


def _district_frame(rows, names: dict, lang: str) -> pd.DataFrame:
    rows = sorted(rows, key=lambda r: (r[0] is None, -r[1], r[0] or ""))
    # pandas 3 would turn a None code into NaN: "" stands for "not given" (not clickable).
    return pd.DataFrame(
        [(c or "", code_label(names, c, lang), int(n)) for c, n in rows], columns=["code", "label", "n"]
    )


def count_by_stage(engine: Engine, scope: Scope, flt: PersonFilter, lang: str = "zh",
                   today: date | None = None) -> pd.DataFrame:
    """code, label, n — the four stages in lifecycle order (zeros included)."""
    stmt = (
        select(person.c.stage, func.count())
        .where(*_conds(scope, flt, today))
        .group_by(person.c.stage)
    )
    with engine.connect() as conn:
        return _stage_frame(dict(conn.execute(stmt).all()), lang)


def _stage_frame(counts: dict, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, code_label(STAGE_LABELS, s, lang), int(counts.get(s, 0))) for s in STAGES],
        columns=["code", "label", "n"],
    )


def top_tags(engine: Engine, scope: Scope, flt: PersonFilter, limit: int = 15,
             today: date | None = None) -> pd.DataFrame:
    """code (= tag name), label, n — the most frequent tags among the matches.

    Counted by tag id on person_tag's (tag_id, person_id) index, names joined to the
    top rows only; with no condition at all the person table is not read (10x faster
    at a million persons).
    """
    conds = _conds(scope, flt, today)
    n = func.count().label("n")
    counted = select(person_tag.c.tag_id, n).group_by(person_tag.c.tag_id)
    if conds:
        counted = counted.where(person_tag.c.person_id.in_(select(person.c.id).where(*conds)))
    top = counted.order_by(n.desc(), person_tag.c.tag_id).limit(limit).subquery()
    stmt = (
        select(tag.c.name, top.c.n)
        .join(top, top.c.tag_id == tag.c.id)
        .order_by(top.c.n.desc(), tag.c.name)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame([(name, name, int(c)) for name, c in rows], columns=["code", "label", "n"])


def age_gender(engine: Engine, scope: Scope, flt: PersonFilter, lang: str = "zh",
               today: date | None = None) -> pd.DataFrame:
    """band, label, gender, gender_label, n — the pyramid's cells (zeros included); band indexes AGE_BANDS.

    Bands are computed in SQL from birth-date cut-offs, so they agree with the
    filter's own age conditions on every backend. Persons without a birth date or
    a gender are not in the pyramid.
    """
    today = today or clock.today()
    band = _age_band(today).label("band")
    stmt = (
        select(band, person.c.gender, func.count())
        .where(*_conds(scope, flt, today), person.c.birth_date.is_not(None), person.c.gender.in_(GENDERS))
        .group_by(band, person.c.gender)
    )
    with engine.connect() as conn:
        counts = {(int(b), g): int(n) for b, g, n in conn.execute(stmt)}
    return _pyramid_frame(counts, lang)


def _age_band(today: date):
    """The AGE_BANDS index of a person's age today, NULL without a birth date."""
    whens = [(person.c.birth_date.is_(None), None)]
    for i, (lo, hi) in enumerate(AGE_BANDS):
        if hi is not None:
            # Aged at most hi  <=>  born after today minus hi+1 years.
            whens.append((person.c.birth_date > _years_before(today, hi + 1), i))
    return case(*whens, else_=len(AGE_BANDS) - 1)


def _pyramid_frame(counts: dict, lang: str) -> pd.DataFrame:
    rows = []
    for i, b in enumerate(AGE_BANDS):
        for g in GENDERS:
            rows.append((i, band_label(b, lang), g, code_label(GENDER_LABELS, g, lang), counts.get((i, g), 0)))
    return pd.DataFrame(rows, columns=["band", "label", "gender", "gender_label", "n"])


@dataclass(frozen=True)
class Overview:
    """The explorer's headline and four charts for one filter."""

    headcount: Headcount
    by_category: pd.DataFrame
    by_district: pd.DataFrame
    by_stage: pd.DataFrame
    age_gender: pd.DataFrame


def overview(engine: Engine, scope: Scope, flt: PersonFilter, lang: str = "zh",
             today: date | None = None) -> Overview:
    """Headcount and the category, district, stage and age × gender counts of the matches.

    On the store these are the plain GROUP BYs of the functions above, one each
    (each can use its own index). On the analytic copy one scan answers all five:
    GROUP BY GROUPING SETS, which DuckDB evaluates in a single pass.
    """
    today = today or clock.today()
    if engine.dialect.name != "duckdb":
        return Overview(headcount(engine, scope, flt, today), count_by_category(engine, scope, flt, lang, today),
                        count_by_district(engine, scope, flt, lang, today),
                        count_by_stage(engine, scope, flt, lang, today), age_gender(engine, scope, flt, lang, today))
    p = person.c
    matches = (select(p.category_code, p.district_code, p.stage, _age_band(today).label("band"), p.gender)
               .where(*_conds(scope, flt, today)).subquery())
    m = matches.c
    keys = (m.category_code, m.district_code, m.stage, m.band, m.gender)
    stmt = select(func.grouping(*keys), *keys, func.count()).group_by(func.grouping_sets(
        tuple_(m.category_code), tuple_(m.district_code), tuple_(m.stage), tuple_(m.band, m.gender), tuple_()))
    # GROUPING(...) sets a bit per key left out, first key highest: 0b01111 = by category only.
    by_category: dict = {}
    by_district: list = []
    by_stage: dict = {}
    pyramid: dict = {}
    matched = 0
    with engine.connect() as conn:
        for g, cat, district, stage, b, gender, n in conn.execute(stmt):
            if g == 0b01111:
                by_category[cat] = n
            elif g == 0b10111:
                by_district.append((district, n))
            elif g == 0b11011:
                by_stage[stage] = n
            elif g == 0b11100:
                if b is not None and gender in GENDERS:
                    pyramid[(int(b), gender)] = int(n)
            else:
                matched = int(n)
        total = matched
        if not flt.is_empty():
            total_stmt = select(func.count()).select_from(person).where(counted(person))
            clause = scope.person_clause(person)
            total = conn.execute(total_stmt.where(clause) if clause is not None else total_stmt).scalar_one()
        name = category.c.name_en if lang == "en" else category.c.name_zh
        categories = conn.execute(select(category.c.code, name).order_by(category.c.sort_order)).all()
        districts = _district_names(conn)
    return Overview(
        Headcount(matched=matched, total=int(total)),
        _frame([(c, label, int(by_category[c])) for c, label in categories if c in by_category], ["code", "label", "n"]),
        _district_frame(by_district, districts, lang),
        _stage_frame(by_stage, lang),
        _pyramid_frame(pyramid, lang),
    )


# ---------------------------------------------------------------- the list


def _last_activity():
    """The person's latest check-in: a column of the analytic copy, a correlated subquery on the store."""
    return LastCheckIn(person)


def _order_by(sort: str, descending: bool):
    if sort not in SORTS:
        sort = "updated_at"
    column = {
        "name": person.c.name,
        "age": person.c.birth_date,
        "updated_at": person.c.updated_at,
        "last_activity": _last_activity(),
    }[sort]
    # Older means an earlier birth date: "age ascending" is "birth date descending".
    down = (not descending) if sort == "age" else descending
    primary = column.desc() if down else column.asc()
    # Rows without a value go last either way; id breaks ties so pages never overlap.
    return [primary.nulls_last(), person.c.id.desc() if down else person.c.id.asc()]


LIST_COLUMNS = ["id", "name", "gender", "age", "category", "party", "district", "street",
                "organization", "position", "education", "stage", "id_number", "phone",
                "updated_at", "last_activity"]


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    if isinstance(birth, datetime):
        birth = birth.date()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _list_select(lang: str):
    cname = category.c.name_en if lang == "en" else category.c.name_zh
    rname = func.coalesce(region.c.name_en, region.c.name_zh) if lang == "en" else region.c.name_zh
    p = person.c
    return (
        select(p.id, p.name, p.gender, p.birth_date, cname, p.party, rname, p.street, p.organization,
               p.position, p.education, p.stage, p.id_number, p.phone, p.updated_at,
               _last_activity().label("last_activity"))
        .select_from(
            person.join(category, category.c.code == p.category_code)
            .outerjoin(region, and_(region.c.code == p.district_code, region.c.level == "district"))
        )
    )


def _shape_row(r, lang: str, today: date, unmasked: bool) -> tuple:
    (pid, name, gender, birth, cname, party, rname, street, org, position, education, stage,
     id_number, phone, updated_at, last_activity) = r
    return (
        pid, name, code_label(GENDER_LABELS, gender, lang) if gender else None, _age(birth, today), cname,
        code_label(party_labels(), party, lang) if party else None,
        rname, street, org, position, education, code_label(STAGE_LABELS, stage, lang),
        id_number if unmasked else mask_id_number(id_number),
        phone if unmasked else mask_phone(phone),
        updated_at, _as_datetime(last_activity),
    )


def _as_datetime(value):
    # SQLite hands a MAX() over a DateTime column back as text.
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def person_page(engine: Engine, scope: Scope, flt: PersonFilter, sort: str = "updated_at",
                descending: bool = True, page: int = 1, page_size: int = 50, lang: str = "zh",
                today: date | None = None) -> pd.DataFrame:
    """One page of matching persons, personal fields masked, labels in `lang`.

    The page's ids are chosen first (ORDER BY … LIMIT/OFFSET on person alone),
    then joined to their labels and last check-in, so the per-row subquery runs
    for one page rather than for every match (unless the sort needs it).
    """
    today = today or clock.today()
    page = max(int(page), 1)
    page_size = max(min(int(page_size), 500), 1)
    order = _order_by(sort, descending)
    offset = (page - 1) * page_size
    ids = select(person.c.id).where(*_conds(scope, flt, today)).order_by(*order).limit(page_size).offset(offset)
    p = person.c
    with engine.connect() as conn:
        page_ids = conn.execute(ids).scalars().all()
        if not page_ids:
            return pd.DataFrame(columns=LIST_COLUMNS + ["risks"])
        # The page's rows from person alone, by primary key (a join here would make the
        # analytic copy scan the table); category and district names from their small tables.
        rows = conn.execute(
            select(p.id, p.name, p.gender, p.birth_date, p.category_code, p.party, p.district_code, p.street,
                   p.organization, p.position, p.education, p.stage, p.id_number, p.phone, p.updated_at,
                   _last_activity().label("last_activity"))
            .where(p.id.in_(page_ids))
        ).all()
        categories, districts = _label_maps(conn, lang)
        # A warning column: risk records of the enterprises each person on the page is linked to.
        risks = dict(conn.execute(select(p.id, risk_count().label("risks")).where(p.id.in_(page_ids))).all())
    position = {pid: i for i, pid in enumerate(page_ids)}
    rows = sorted(rows, key=lambda r: position[r[0]])
    labelled = [(*r[:4], categories.get(r[4]), r[5], districts.get(r[6]), *r[7:]) for r in rows]
    frame = pd.DataFrame([_shape_row(r, lang, today, unmasked=False) for r in labelled], columns=LIST_COLUMNS)
    frame["risks"] = [int(risks.get(pid) or 0) for pid in frame["id"]]
    return frame


def _label_maps(conn, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """code -> name of categories and districts, as _list_select's joins give them."""
    cname = category.c.name_en if lang == "en" else category.c.name_zh
    categories = dict(conn.execute(select(category.c.code, cname)).all())
    names = _district_names(conn)
    districts = {code: code_label(names, code, lang) for code in names}
    return categories, districts


def iter_matches(engine: Engine, scope: Scope, flt: PersonFilter, *, sort: str = "name",
                 descending: bool = False, lang: str = "zh", unmasked: bool = False,
                 today: date | None = None, chunk_size: int = 2000,
                 limit: int | None = None) -> Iterator[list[tuple]]:
    """Every match in list order, in chunks of rows shaped like LIST_COLUMNS plus a `tags` string.

    Rows stream from the database (server-side cursor on PostgreSQL), so an
    export of many thousand rows never holds them all in memory.
    """
    today = today or clock.today()
    stmt = _list_select(lang).where(*_conds(scope, flt, today)).order_by(*_order_by(sort, descending))
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=chunk_size).execute(stmt)
        for part in result.partitions():
            ids = [r[0] for r in part]
            tags_of: dict[int, list[str]] = {}
            tag_rows = conn.execute(
                select(person_tag.c.person_id, tag.c.name)
                .join(tag, tag.c.id == person_tag.c.tag_id)
                .where(person_tag.c.person_id.in_(ids))
                .order_by(person_tag.c.person_id, tag.c.name)
            )
            for pid, name in tag_rows:
                tags_of.setdefault(pid, []).append(name)
            yield [_shape_row(r, lang, today, unmasked) + ("、".join(tags_of.get(r[0], [])),) for r in part]


# ---------------------------------------------------------------- one person


@dataclass(frozen=True)
class PersonProfile:
    facts: dict = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)
    appointments: pd.DataFrame = field(default_factory=pd.DataFrame)
    participations: pd.DataFrame = field(default_factory=pd.DataFrame)
    participation_total: int = 0


PROFILE_PARTICIPATIONS = 50


def person_profile(engine: Engine, scope: Scope, person_id: int, lang: str = "zh",
                   unmasked: bool = False, today: date | None = None) -> PersonProfile | None:
    """Everything about one person in the scope, or None (unknown id or outside the scope)."""
    today = today or clock.today()
    clause = scope.person_clause(person)
    stmt = _list_select(lang).add_columns(
        person.c.ethnicity, person.c.title, person.c.birth_date, person.c.source, person.c.created_at,
        person.c.updated_via, person.c.status, person.c.status_on,
    ).where(person.c.id == int(person_id))
    if clause is not None:
        stmt = stmt.where(clause)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
        if row is None:
            return None
        base = dict(zip(LIST_COLUMNS, _shape_row(row[:16], lang, today, unmasked)))
        ethnicity, title, birth, source, created_at, updated_via, status, status_on = row[16:]
        # `birth_date` is the year alone when the ID number is masked (store.privacy.shown_birth).
        base.update(ethnicity=ethnicity, title=title, birth_date=shown_birth(birth, unmasked), source=source,
                    created_at=created_at, updated_via=updated_via, status=status, status_on=status_on)
        tags = conn.execute(
            select(tag.c.name).join(person_tag, person_tag.c.tag_id == tag.c.id)
            .where(person_tag.c.person_id == int(person_id)).order_by(tag.c.name)
        ).scalars().all()
        stages = conn.execute(
            select(stage_event.c.stage, stage_event.c.entered_at, stage_event.c.note)
            .where(stage_event.c.person_id == int(person_id)).order_by(stage_event.c.entered_at, stage_event.c.id)
        ).all()
        appts = conn.execute(
            select(appointment.c.body, appointment.c.title, appointment.c.level,
                   appointment.c.term_start, appointment.c.term_end)
            .where(appointment.c.person_id == int(person_id))
            .order_by(appointment.c.term_start.desc().nulls_last(), appointment.c.id)
        ).all()
        total = conn.execute(
            select(func.count()).select_from(participation).where(participation.c.person_id == int(person_id))
        ).scalar_one()
        parts = conn.execute(
            select(activity.c.title, activity.c.kind, activity.c.starts_at, participation.c.status,
                   participation.c.checked_in_at)
            .join(activity, activity.c.id == participation.c.activity_id)
            .where(participation.c.person_id == int(person_id))
            .order_by(activity.c.starts_at.desc(), activity.c.id.desc())
            .limit(PROFILE_PARTICIPATIONS)
        ).all()
    return PersonProfile(
        facts=base,
        tags=tuple(tags),
        stages=pd.DataFrame(
            [(s, code_label(STAGE_LABELS, s, lang), at, note) for s, at, note in stages],
            columns=["stage", "label", "entered_at", "note"],
        ),
        appointments=pd.DataFrame(
            [(code_label(BODY_LABELS, b, lang), t, lv, ts, te, _term_state(ts, te, today),
              code_label(TERM_LABELS, _term_state(ts, te, today), lang))
             for b, t, lv, ts, te in appts],
            columns=["body", "title", "level", "term_start", "term_end", "state", "state_label"],
        ),
        participations=pd.DataFrame(
            [(t, code_label(KIND_LABELS, k, lang), s, code_label(STATUS_LABELS, st, lang), c)
             for t, k, s, st, c in parts],
            columns=["title", "kind", "starts_at", "status", "checked_in_at"],
        ),
        participation_total=int(total),
    )


def _term_state(start: date | None, end: date | None, today: date) -> str:
    """current | ended | upcoming — whether a post is held today."""
    if start is not None and start > today:
        return "upcoming"
    if end is not None and end < today:
        return "ended"
    return "current"


def matching_ids(engine: Engine, scope: Scope, flt: PersonFilter, today: date | None = None) -> list[int]:
    """The ids of every person the filter matches in the scope (a bulk action's targets)."""
    stmt = select(person.c.id).where(*_conds(scope, flt, today)).order_by(person.c.id)
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars())

