"""PersonFilter → SQL against a brute-force count in Python, on SQLite and PostgreSQL.

`seed_store` writes ~300 varied persons (tags, appointments, check-ins, awkward
names) with random.Random(7) and returns the same rows as Python records, so every
expected number here is computed by brute force, never copied from the output.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import pytest
from conftest import BACKENDS, module_store
from sqlalchemy import insert, select

from store.engine import create_store_engine

from store.filters import PersonFilter
from store.queries import explorer as q
from store.schema import (
    activity,
    appointment,
    category,
    participation,
    person,
    person_tag,
    region,
    stage_event,
    tag,
)
from store.scope import EVERYTHING, Scope

TODAY = date(2025, 6, 15)
DISTRICTS = ("330106", "330102", "330108", "330110")
TAGS = ("海归", "青年", "女性", "专家", "企业家", "50%股东", "a_b", "O'Neil")
BODIES = ("npc", "cppcc", "association", "other")
PARTIES = ("rcck", "cdl", "cndca", "capd", "jiusan", "non_party", "masses", None)
EDUCATIONS = ("博士", "硕士", "本科", "大专", None)
ORGS = ("浙江大学", "西湖%实业", "A_B Co", "Zhejiang University", "杭州银行", None)
# Names that a LIKE built from strings would mis-read, plus ordinary ones.
ODD_NAMES = ("100%纯", "张_三", "O'Brien", 'Say "hi"', "<script>alert(1)</script>", "Abc", "aBC",
             "反斜杠\\名", "%' OR 1=1 --", "__")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


@dataclass
class P:
    id: int
    name: str
    gender: str | None
    birth_date: date | None
    category_code: str
    district_code: str | None
    street: str | None
    party: str | None
    organization: str | None
    education: str | None
    stage: str
    updated_at: datetime
    id_number: str
    phone: str | None
    tags: set[str] = field(default_factory=set)
    bodies: set[str] = field(default_factory=set)
    checkins: list[datetime] = field(default_factory=list)


def seed_store(engine, persons: int = 300, seed: int = 7) -> list[P]:
    rng = random.Random(seed)
    with engine.connect() as conn:
        categories = conn.execute(select(category.c.code).order_by(category.c.code)).scalars().all()
        streets = {
            d: conn.execute(select(region.c.name_zh).where(region.c.parent_code == d).order_by(region.c.code))
            .scalars().all()[:4]
            for d in DISTRICTS
        }
    records: list[P] = []
    for i in range(1, persons + 1):
        district = rng.choice(DISTRICTS + (None,))
        street = rng.choice(streets[district]) if district and rng.random() < 0.8 else None
        name = ODD_NAMES[i % len(ODD_NAMES)] if i % 17 == 0 else rng.choice(SURNAMES) + rng.choice(GIVEN) + (
            rng.choice(GIVEN) if rng.random() < 0.5 else "")
        birth = None if rng.random() < 0.08 else date(1945, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
        records.append(P(
            id=i, name=name, gender=rng.choice(("M", "F", "M", "F", None)), birth_date=birth,
            category_code=rng.choice(categories), district_code=district, street=street,
            party=rng.choice(PARTIES), organization=rng.choice(ORGS), education=rng.choice(EDUCATIONS),
            stage=rng.choice(("discover", "cultivate", "use", "manage")),
            updated_at=datetime(2023, 1, 1) + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)),
            id_number=f"330106{1950 + i % 50}{i:08d}"[:18].ljust(18, "0"),
            phone=None if rng.random() < 0.1 else f"138{i:08d}",
            tags=set(rng.sample(TAGS, rng.randrange(0, 4))),
            bodies=set(rng.sample(BODIES, rng.choice((0, 0, 1, 2)))),
        ))
    activities = [
        {"id": a, "title": f"活动{a}", "kind": rng.choice(("training", "lecture", "survey")),
         "starts_at": datetime(2024, 1, 10) + timedelta(days=45 * a), "online": False}
        for a in range(1, 13)
    ]
    participations = []
    for r in records:
        for a in rng.sample(activities, rng.choice((0, 0, 1, 2, 3))):
            status = rng.choice(("registered", "checked_in", "checked_in", "absent"))
            checked = a["starts_at"] + timedelta(hours=1) if status == "checked_in" else None
            if checked:
                r.checkins.append(checked)
            participations.append({"activity_id": a["id"], "person_id": r.id, "status": status,
                                   "registered_at": a["starts_at"] - timedelta(days=3), "checked_in_at": checked})
    tag_ids = {name: n for n, name in enumerate(TAGS, start=1)}
    now = datetime(2025, 6, 1)
    with engine.begin() as conn:
        conn.execute(insert(tag), [{"id": n, "name": name} for name, n in tag_ids.items()])
        conn.execute(insert(person), [
            {"id": r.id, "name": r.name, "gender": r.gender, "birth_date": r.birth_date,
             "category_code": r.category_code, "district_code": r.district_code, "street": r.street,
             "party": r.party, "organization": r.organization, "education": r.education, "stage": r.stage,
             "id_number": r.id_number, "phone": r.phone, "created_at": now, "updated_at": r.updated_at}
            for r in records
        ])
        conn.execute(insert(person_tag), [{"person_id": r.id, "tag_id": tag_ids[t]} for r in records for t in r.tags])
        conn.execute(insert(appointment), [
            {"person_id": r.id, "body": b, "title": f"{b} 委员", "term_start": date(2022, 1, 1),
             "term_end": date(2027, 1, 1)}
            for r in records for b in sorted(r.bodies)
        ])
        conn.execute(insert(activity), activities)
        conn.execute(insert(participation), participations)
        conn.execute(insert(stage_event), [
            {"person_id": r.id, "stage": r.stage, "entered_at": datetime(2024, 3, 1)} for r in records
        ])
        if conn.dialect.name == "postgresql":
            # Explicit ids were inserted: move the sequences past them.
            for table in ("person", "tag", "activity"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    return records


def age_of(birth: date, today: date = TODAY) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def brute(records: list[P], f: PersonFilter, scope: Scope = EVERYTHING, today: date = TODAY) -> list[P]:
    """The filter's meaning, spelled out in plain Python."""
    out = []
    for r in records:
        if scope.districts and r.district_code not in scope.districts and not any(
                (r.district_code, r.street) == s for s in scope.streets):
            continue
        if scope.streets and not scope.districts and (r.district_code, r.street) not in scope.streets:
            continue
        checks = [
            (f.categories, r.category_code), (f.districts, r.district_code), (f.streets, r.street),
            (f.stages, r.stage), (f.parties, r.party), (f.genders, r.gender), (f.educations, r.education),
        ]
        if any(values and v not in values for values, v in checks):
            continue
        if f.age_min is not None and (r.birth_date is None or age_of(r.birth_date, today) < f.age_min):
            continue
        if f.age_max is not None and (r.birth_date is None or age_of(r.birth_date, today) > f.age_max):
            continue
        if f.tags:
            wanted = set(f.tags)
            if f.tags_mode == "all" and not wanted <= r.tags:
                continue
            if f.tags_mode != "all" and not wanted & r.tags:
                continue
        if f.bodies and not set(f.bodies) & r.bodies:
            continue
        if f.active_months is not None and f.active is not None:
            since = datetime.combine(today - timedelta(days=round(f.active_months * 30.44)), datetime.min.time())
            if any(c >= since for c in r.checkins) != f.active:
                continue
        if f.updated_since is not None and r.updated_at < datetime.combine(f.updated_since, datetime.min.time()):
            continue
        kw = f.keyword.strip().lower()
        if kw and kw not in r.name.lower() and kw not in (r.organization or "").lower():
            continue
        out.append(r)
    return out


def random_filter(rng: random.Random, records: list[P]) -> PersonFilter:
    streets = sorted({r.street for r in records if r.street})
    f = PersonFilter()
    picks = rng.sample(range(12), rng.randrange(1, 4))
    for k in picks:
        if k == 0:
            f = replace(f, categories=tuple(rng.sample(sorted({r.category_code for r in records}), 2)))
        elif k == 1:
            f = replace(f, districts=tuple(rng.sample(DISTRICTS, rng.randrange(1, 3))))
        elif k == 2:
            f = replace(f, streets=tuple(rng.sample(streets, 3)))
        elif k == 3:
            f = replace(f, stages=tuple(rng.sample(("discover", "cultivate", "use", "manage"), 2)))
        elif k == 4:
            f = replace(f, parties=tuple(p for p in rng.sample(PARTIES, 3) if p))
        elif k == 5:
            f = replace(f, tags=tuple(rng.sample(TAGS, rng.randrange(1, 3))), tags_mode=rng.choice(("any", "all")))
        elif k == 6:
            f = replace(f, genders=(rng.choice(("M", "F")),))
        elif k == 7:
            lo = rng.randrange(20, 60)
            f = replace(f, age_min=rng.choice((lo, None)), age_max=lo + rng.randrange(0, 25))
        elif k == 8:
            f = replace(f, educations=tuple(e for e in rng.sample(EDUCATIONS, 2) if e))
        elif k == 9:
            f = replace(f, bodies=tuple(rng.sample(BODIES, rng.randrange(1, 3))))
        elif k == 10:
            f = replace(f, active_months=rng.choice((3, 6, 12, 24)), active=rng.choice((True, False)))
        else:
            f = replace(f, updated_since=date(2023, 1, 1) + timedelta(days=rng.randrange(0, 700)))
    return f


HAND_FILTERS = [
    PersonFilter(),
    PersonFilter(categories=("democratic_party",), age_max=44, tags=("海归",),
                 districts=("330106",), active_months=6, active=False),
    PersonFilter(tags=("海归", "青年"), tags_mode="all"),
    PersonFilter(tags=("海归", "青年"), tags_mode="any"),
    PersonFilter(tags=("海归", "no such tag"), tags_mode="all"),
    PersonFilter(age_min=45, age_max=45),
    PersonFilter(active_months=12, active=True),
    PersonFilter(active_months=12, active=False),
    PersonFilter(bodies=("npc", "cppcc")),
    PersonFilter(keyword="zhejiang"),
    PersonFilter(keyword="ABC"),
    PersonFilter(genders=("F",), stages=("use", "manage"), educations=("博士",)),
]
INJECTIONS = ["%' OR 1=1 --", "%", "_", "__", "'", '"', "<script>", "\\", "50%", "a_b", "A_B", "1=1",
              "'; DROP TABLE person; --", "西湖%", "*", "[a]"]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request, tmp_path_factory):
    """One seeded store per backend for the whole module: the tests here only read."""
    with module_store(request.param, tmp_path_factory, "explorer") as url:
        engine = create_store_engine(url)
        records = seed_store(engine)
        yield engine, records
        engine.dispose()


def test_counts_equal_brute_force_for_many_filters(store):
    engine, records = store
    rng = random.Random(7)
    filters = HAND_FILTERS + [random_filter(rng, records) for _ in range(70)]
    nonzero = 0
    for f in filters:
        expected = len(brute(records, f))
        got = q.headcount(engine, EVERYTHING, f, today=TODAY)
        assert got.matched == expected, f
        assert got.total == len(records)
        nonzero += expected > 0
    # The comparison means something only if most filters match someone and some do not.
    assert nonzero > len(filters) // 2


@pytest.mark.parametrize("keyword", INJECTIONS)
def test_text_filters_match_literally(store, keyword):
    engine, records = store
    f = PersonFilter(keyword=keyword)
    assert q.headcount(engine, EVERYTHING, f, today=TODAY).matched == len(brute(records, f))
    # Tags and streets are bound values too: an odd string matches nothing or itself.
    for g in (PersonFilter(tags=(keyword,)), PersonFilter(streets=(keyword,)), PersonFilter(educations=(keyword,))):
        assert q.headcount(engine, EVERYTHING, g, today=TODAY).matched == len(brute(records, g))


def test_injection_leaves_the_store_intact(store):
    engine, records = store
    q.headcount(engine, EVERYTHING, PersonFilter(keyword="'; DROP TABLE person; --"), today=TODAY)
    assert q.headcount(engine, EVERYTHING, PersonFilter(), today=TODAY).matched == len(records)


def test_keyword_sql_has_no_user_text(store):
    engine, _ = store
    stmt = PersonFilter(keyword="%' OR 1=1 --", tags=("x'y",)).where(select(person.c.id), EVERYTHING, TODAY)
    sql = str(stmt.compile(engine))
    assert "1=1" not in sql and "x'y" not in sql


def test_scope_restricts_everything(store):
    engine, records = store
    scope = Scope(districts=("330106",))
    for f in HAND_FILTERS[:4]:
        got = q.headcount(engine, scope, f, today=TODAY)
        assert got.matched == len(brute(records, f, scope))
        assert got.total == sum(r.district_code == "330106" for r in records)
    # A filter cannot widen the scope.
    outside = PersonFilter(districts=("330102",))
    assert q.headcount(engine, scope, outside, today=TODAY).matched == 0
    street = next(r for r in records if r.district_code == "330102" and r.street)
    s_scope = Scope(streets=(("330102", street.street),))
    assert q.headcount(engine, s_scope, PersonFilter(), today=TODAY).matched == len(
        brute(records, PersonFilter(), s_scope))


@pytest.mark.parametrize("f", HAND_FILTERS[:3] + [PersonFilter(districts=("330106", "330108"), genders=("F",))],
                         ids=lambda f: str(f.to_query_params()))
def test_charts_agree_with_headcount_and_brute_force(store, f):
    engine, records = store
    matches = brute(records, f)
    n = q.headcount(engine, EVERYTHING, f, today=TODAY).matched
    by_cat = q.count_by_category(engine, EVERYTHING, f, today=TODAY)
    assert by_cat["n"].sum() == n
    assert dict(zip(by_cat["code"], by_cat["n"])) == _counter(r.category_code for r in matches)
    by_district = q.count_by_district(engine, EVERYTHING, f, today=TODAY)
    assert by_district["n"].sum() == n
    assert {c: v for c, v in zip(by_district["code"], by_district["n"])} == _counter(r.district_code or "" for r in matches)
    by_stage = q.count_by_stage(engine, EVERYTHING, f, today=TODAY)
    assert list(by_stage["code"]) == ["discover", "cultivate", "use", "manage"]
    assert by_stage["n"].sum() == n
    tags = q.top_tags(engine, EVERYTHING, f, limit=100, today=TODAY)
    expected_tags = _counter(t for r in matches for t in r.tags)
    assert dict(zip(tags["code"], tags["n"])) == expected_tags
    assert list(tags["n"]) == sorted(tags["n"], reverse=True)
    pyramid = q.age_gender(engine, EVERYTHING, f, today=TODAY)
    assert pyramid["n"].sum() == sum(1 for r in matches if r.birth_date and r.gender)


def test_pyramid_bands_match_the_age_filter(store):
    engine, records = store
    pyramid = q.age_gender(engine, EVERYTHING, PersonFilter(), today=TODAY)
    assert len(pyramid) == 2 * len(q.AGE_BANDS)
    for row in pyramid.itertuples():
        lo, hi = q.AGE_BANDS[row.band]
        f = PersonFilter(age_min=lo, age_max=hi, genders=(row.gender,))
        assert row.n == len(brute(records, f)), (lo, hi, row.gender)


def test_labels_come_from_reference_data(store):
    engine, _ = store
    zh = q.count_by_category(engine, EVERYTHING, PersonFilter(), lang="zh", today=TODAY)
    en = q.count_by_category(engine, EVERYTHING, PersonFilter(), lang="en", today=TODAY)
    assert "民主党派成员" in set(zh["label"]) and "Democratic party members" in set(en["label"])
    d = q.count_by_district(engine, EVERYTHING, PersonFilter(), lang="zh", today=TODAY)
    assert "西湖区" in set(d["label"]) and "未填写" in set(d["label"])
    s = q.count_by_stage(engine, EVERYTHING, PersonFilter(), lang="en", today=TODAY)
    assert list(s["label"]) == ["Discover", "Cultivate", "Use", "Manage"]


def _counter(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


@pytest.mark.parametrize("sort,descending", [("age", False), ("age", True), ("updated_at", True),
                                             ("updated_at", False), ("last_activity", True), ("name", False)])
def test_pages_cover_the_matches_in_order(store, sort, descending):
    engine, records = store
    f = PersonFilter(stages=("discover", "cultivate", "use"))
    matches = brute(records, f)
    ids: list[int] = []
    page = 1
    while True:
        df = q.person_page(engine, EVERYTHING, f, sort=sort, descending=descending, page=page,
                           page_size=37, today=TODAY)
        if df.empty:
            break
        assert len(df) <= 37
        ids += [int(i) for i in df["id"]]
        page += 1
    # Every match exactly once: pages never overlap nor skip.
    assert sorted(ids) == sorted(r.id for r in matches)
    by_id = {r.id: r for r in matches}
    if sort == "age":
        ages = [age_of(by_id[i].birth_date) if by_id[i].birth_date else None for i in ids]
        known = [a for a in ages if a is not None]
        assert known == sorted(known, reverse=descending)
        assert all(a is None for a in ages[len(known):])  # unknown ages last
    if sort == "updated_at":
        stamps = [by_id[i].updated_at for i in ids]
        assert stamps == sorted(stamps, reverse=descending)
    if sort == "last_activity":
        last = [max(by_id[i].checkins) if by_id[i].checkins else None for i in ids]
        known = [x for x in last if x is not None]
        assert known == sorted(known, reverse=True) and all(x is None for x in last[len(known):])


def test_list_is_masked_and_labelled(store):
    engine, records = store
    df = q.person_page(engine, EVERYTHING, PersonFilter(), page_size=500, today=TODAY)
    by_id = {r.id: r for r in records}
    row = df.iloc[0]
    rec = by_id[int(row["id"])]
    assert row["id_number"] == rec.id_number[:6] + "********" + rec.id_number[-4:]
    assert all("*" in v for v in df["id_number"])
    assert not any(r.id_number in set(df["id_number"]) for r in records)
    ages = {int(i): a for i, a in zip(df["id"], df["age"])}
    assert all(ages[r.id] == age_of(r.birth_date) for r in records if r.birth_date)
    assert set(df["stage"]) <= {"发现", "培养", "使用", "管理"}


def test_profile_shows_everything_and_respects_scope(store):
    engine, records = store
    rec = next(r for r in records if r.bodies and r.checkins and r.tags)
    prof = q.person_profile(engine, EVERYTHING, rec.id, today=TODAY)
    assert prof.facts["name"] == rec.name
    assert set(prof.tags) == rec.tags
    assert len(prof.appointments) == len(rec.bodies)
    assert (prof.appointments["state"] == "current").all()
    assert prof.participation_total >= len(rec.checkins)
    assert list(prof.stages["stage"]) == [rec.stage]
    assert "*" in prof.facts["id_number"]
    assert q.person_profile(engine, EVERYTHING, rec.id, unmasked=True, today=TODAY).facts["id_number"] == rec.id_number
    other = next(d for d in DISTRICTS if d != rec.district_code)
    assert q.person_profile(engine, Scope(districts=(other,)), rec.id, today=TODAY) is None
    assert q.person_profile(engine, EVERYTHING, 999_999, today=TODAY) is None


def test_filter_options_follow_scope(store):
    engine, _ = store
    opts = q.filter_options(engine, Scope(districts=("330106",)), lang="zh")
    assert [c for c, _ in opts.districts] == ["330106"]
    assert opts.streets_of(("330106",)) and all(d == "330106" for d, _ in opts.streets)
    assert set(opts.tags) == set(TAGS)
    assert set(opts.educations) == {e for e in EDUCATIONS if e}
    assert ("cdl", "中国民主同盟") in opts.parties


def test_empty_store_gives_zeros(engine):
    assert q.headcount(engine, EVERYTHING, PersonFilter()) == q.Headcount(0, 0)
    assert q.count_by_category(engine, EVERYTHING, PersonFilter()).empty
    assert q.person_page(engine, EVERYTHING, PersonFilter()).empty
    assert q.age_gender(engine, EVERYTHING, PersonFilter())["n"].sum() == 0
