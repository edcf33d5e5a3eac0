"""Cockpit queries against a small hand-made store, on SQLite and PostgreSQL.

Expected numbers come from brute force over the same Python rows the store is
filled with (and a few by hand), never from the queries' own output.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from store.engine import create_store_engine
from tests.conftest import BACKENDS, module_store

from store.queries import cockpit as q
from store.schema import activity, participation, person, person_tag, tag
from store.scope import EVERYTHING, Scope

TODAY = date(2025, 6, 15)
D = datetime

# id, category, district, stage, gender, birth, created, updated, education, tags
PERSONS = [
    (1, "democratic_party", "330106", "discover", "M", date(1990, 1, 1), D(2025, 2, 1), D(2025, 3, 1), "本科", ["甲", "乙"]),
    (2, "democratic_party", "330106", "cultivate", "F", date(1995, 7, 1), D(2024, 5, 1), D(2024, 1, 1), "本科", ["甲"]),
    # Exactly 65 today: the oldest band. Updated exactly 365 days ago: still fresh.
    (3, "non_party", "330102", "use", "M", date(1960, 6, 15), D(2023, 1, 1), D(2024, 6, 15), "硕士", ["乙"]),
    # One day short of 55: still 45–54. Created at the first moment of the year: new this year.
    (4, "religious", "330102", "manage", "F", date(1970, 6, 16), D(2025, 1, 1), D(2025, 6, 1), None, []),
    (5, "religious", None, "discover", None, None, D(2024, 12, 31, 23, 59), D(2020, 1, 1), "", ["甲"]),
]
# id, title, kind, district, starts
ACTIVITIES = [
    (1, "春季培训班", "training", "330106", D(2025, 3, 1, 9)),
    (2, "冬季讲座", "lecture", "330102", D(2024, 12, 1, 14)),
    (3, "夏季调研", "survey", "330102", D(2025, 7, 1, 9)),
]
# activity, person, status, registered, checked in
PARTICIPATIONS = [
    (1, 1, "checked_in", D(2025, 2, 20), D(2025, 3, 1, 9)),
    (1, 2, "checked_in", D(2025, 2, 21), D(2025, 4, 1, 9)),
    (1, 3, "absent", D(2025, 2, 22), None),
    (2, 3, "checked_in", D(2024, 11, 20), D(2024, 12, 1, 14)),
    (3, 4, "registered", D(2025, 6, 10), None),
    (3, 1, "registered", D(2025, 6, 11), None),
]
WEST_LAKE = Scope(districts=("330106",))


def fill_store(engine, persons=PERSONS, activities=ACTIVITIES, participations=PARTICIPATIONS, extra=None) -> None:
    """Insert the given rows; `extra` is a dict of person column overrides by person id."""
    extra = extra or {}
    # executemany needs the same columns in every row.
    blank = {column: None for overrides in extra.values() for column in overrides
             if column not in ("name", "category_code", "district_code", "stage", "gender", "birth_date",
                               "created_at", "updated_at", "education")}
    tag_names = sorted({t for p in persons for t in p[9]})
    with engine.begin() as conn:
        conn.execute(insert(person), [
            {"id": pid, "name": f"测试{pid}", "category_code": cat, "district_code": dist, "stage": stage,
             "gender": g, "birth_date": birth, "created_at": created, "updated_at": updated,
             "education": edu, **blank, **extra.get(pid, {})}
            for pid, cat, dist, stage, g, birth, created, updated, edu, _ in persons
        ])
        if tag_names:
            conn.execute(insert(tag), [{"id": i + 1, "name": n} for i, n in enumerate(tag_names)])
            links = [{"person_id": p[0], "tag_id": tag_names.index(t) + 1} for p in persons for t in p[9]]
            if links:
                conn.execute(insert(person_tag), links)
        if activities:
            conn.execute(insert(activity), [
                {"id": aid, "title": title, "kind": kind, "district_code": dist, "starts_at": starts, "online": False}
                for aid, title, kind, dist, starts in activities
            ])
        if participations:
            conn.execute(insert(participation), [
                {"activity_id": a, "person_id": p, "status": s, "registered_at": r, "checked_in_at": c}
                for a, p, s, r, c in participations
            ])


@pytest.fixture(scope="module", params=BACKENDS)
def store(request, tmp_path_factory):
    """One filled store per backend for the whole module: these tests only read."""
    with module_store(request.param, tmp_path_factory) as url:
        eng = create_store_engine(url)
        fill_store(eng)
        yield eng
        eng.dispose()


class Statements(list):
    """Collects every SQL statement a target (an engine, or the Engine class) runs, until detached."""

    def __init__(self, target):
        super().__init__()
        self.target = target
        event.listen(target, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *rest):
        # Transaction control is not a query.
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            self.append(statement)

    def detach(self) -> None:
        event.remove(self.target, "before_cursor_execute", self._record)


def count_statements(engine) -> Statements:
    return Statements(engine)


def in_scope(scope: Scope) -> set[int]:
    return {p[0] for p in PERSONS if scope.is_everything or p[2] in scope.districts}


def brute_headline(scope: Scope, today: date) -> q.Headline:
    ids = in_scope(scope)
    year = today.year
    active_since = datetime.combine(today - timedelta(days=q.ACTIVE_DAYS), datetime.min.time())
    fresh_since = datetime.combine(today - timedelta(days=365), datetime.min.time())
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time())
    ours = [p for p in PERSONS if p[0] in ids]
    parts = [x for x in PARTICIPATIONS if x[1] in ids]
    acts = {a[0] for a in ACTIVITIES if scope.is_everything or a[3] in scope.districts or
            any(x[0] == a[0] for x in parts)}
    changes = [p[7] for p in ours] + [x[4] for x in parts if x[4]]
    return q.Headline(
        persons=len(ours),
        new_this_year=sum(p[6].year == year for p in ours),
        active_90d=len({x[1] for x in parts if x[4] and x[4] >= active_since}),
        # Held this year so far: an upcoming activity of the year is not counted yet.
        activities_this_year=sum(a[4].year == year and a[4] < tomorrow for a in ACTIVITIES if a[0] in acts),
        checkins_this_year=sum(1 for x in parts if x[4] and x[4].year == year),
        fresh_12m=sum(p[7] >= fresh_since for p in ours),
        last_change=max(changes) if changes else None,
    )


@pytest.mark.parametrize("scope", [EVERYTHING, WEST_LAKE], ids=["all", "xihu"])
def test_headline_matches_brute_force(store, scope):
    assert q.headline(store, scope, TODAY) == brute_headline(scope, TODAY)


def test_headline_by_hand(store):
    h = q.headline(store, EVERYTHING, TODAY)
    assert (h.persons, h.new_this_year, h.active_90d, h.activities_this_year, h.checkins_this_year,
            h.fresh_12m) == (5, 2, 1, 1, 2, 3)
    assert h.last_change == D(2025, 6, 1)


def test_headline_is_one_statement(store):
    statements = count_statements(store)
    q.headline(store, EVERYTHING, TODAY)
    statements.detach()
    assert len(statements) == 1


def test_headline_on_an_empty_store(engine):
    assert q.headline(engine, EVERYTHING, TODAY) == q.Headline(0, 0, 0, 0, 0, 0, None)


@pytest.mark.parametrize("scope", [EVERYTHING, WEST_LAKE], ids=["all", "xihu"])
def test_by_category_lists_all_twelve_in_order(store, scope):
    df = q.by_category(store, scope)
    assert len(df) == 12 and df["code"].iloc[0] == "democratic_party" and df["code"].iloc[-1] == "other"
    expected = Counter(p[1] for p in PERSONS if p[0] in in_scope(scope))
    assert dict(zip(df["code"], df["n"])) == {c: expected.get(c, 0) for c in df["code"]}


def test_by_district_counts_every_district_largest_first(store):
    df = q.by_district(store, EVERYTHING)
    assert len(df) == 13
    assert list(df["code"][:2]) == ["330102", "330106"]  # 2 each: ties by code
    assert list(df["n"][:3]) == [2, 2, 0]
    assert df["n"].sum() == 4  # person 5 has no district


def test_by_district_tells_districts_outside_the_scope(store):
    everything = q.by_district(store, EVERYTHING)
    assert everything["in_scope"].all()
    scoped = q.by_district(store, WEST_LAKE).set_index("code")
    assert len(scoped) == 13
    assert scoped.loc["330106", "n"] == 2 and scoped.loc["330106", "in_scope"]
    # 上城区 holds 2 persons, none of them visible here: a 0 that is not the viewer's to read.
    assert scoped.loc["330102", "n"] == 0 and not scoped.loc["330102", "in_scope"]
    assert list(scoped.index[scoped["in_scope"]]) == ["330106"]
    # A street scope reaches its street's district, and no other.
    street = q.by_district(store, Scope(streets=(("330102", "湖滨街道"),)))
    assert list(street.loc[street["in_scope"], "code"]) == ["330102"]


@pytest.mark.parametrize("scope", [EVERYTHING, WEST_LAKE], ids=["all", "xihu"])
def test_top_tags(store, scope):
    expected = Counter(t for p in PERSONS if p[0] in in_scope(scope) for t in p[9])
    df = q.top_tags(store, scope, 20)
    assert dict(zip(df["tag"], df["n"])) == dict(expected)
    assert list(df["n"]) == sorted(df["n"], reverse=True)
    assert len(q.top_tags(store, scope, 1)) == 1


def test_by_stage_all_stages_in_order(store):
    df = q.by_stage(store, EVERYTHING)
    assert list(df["stage"]) == ["discover", "cultivate", "use", "manage"]
    assert list(df["n"]) == [2, 1, 1, 1]
    assert list(q.by_stage(store, WEST_LAKE)["n"]) == [1, 1, 0, 0]


@pytest.mark.parametrize("scope", [EVERYTHING, WEST_LAKE], ids=["all", "xihu"])
def test_monthly_participation(store, scope):
    df = q.monthly_participation(store, scope, TODAY)
    assert len(df) == 24 and df["month"].iloc[0] == "2023-07" and df["month"].iloc[-1] == "2025-06"
    ids = in_scope(scope)
    regs = Counter(x[3].strftime("%Y-%m") for x in PARTICIPATIONS if x[1] in ids)
    chks = Counter(x[4].strftime("%Y-%m") for x in PARTICIPATIONS if x[1] in ids and x[4])
    assert dict(zip(df["month"], df["registrations"])) == {m: regs.get(m, 0) for m in df["month"]}
    assert dict(zip(df["month"], df["checkins"])) == {m: chks.get(m, 0) for m in df["month"]}


def test_monthly_participation_by_hand(store):
    df = q.monthly_participation(store, EVERYTHING, TODAY).set_index("month")
    assert df.loc["2025-02", "registrations"] == 3 and df.loc["2025-06", "registrations"] == 2
    assert df.loc["2024-12", "checkins"] == 1 and df["checkins"].sum() == 3


@pytest.mark.parametrize("today", [date(2025, 1, 31), date(2024, 12, 31), date(2025, 3, 1)])
def test_monthly_participation_at_month_and_year_ends(store, today):
    df = q.monthly_participation(store, EVERYTHING, today, months=3)
    month = lambda d: d.strftime("%Y-%m")  # noqa: E731
    assert df["month"].iloc[-1] == month(today)
    regs = Counter(month(x[3]) for x in PARTICIPATIONS)
    assert list(df["registrations"]) == [regs.get(m, 0) for m in df["month"]]


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def test_age_gender_bands(store):
    df = q.age_gender(store, EVERYTHING, TODAY).set_index("band")
    assert list(df.index) == ["u35", "35_44", "45_54", "55_64", "65p"]
    expected = Counter()
    for p in PERSONS:
        if p[4] in ("M", "F") and p[5]:
            age = _age(p[5], TODAY)
            band = next(label for label, upper in q.AGE_BANDS if upper is None or age < upper)
            expected[(band, p[4])] += 1
    got = {(b, g): int(df.loc[b, col]) for b in df.index for g, col in (("M", "male"), ("F", "female"))}
    assert got == {k: expected.get(k, 0) for k in got}
    # By hand: 65 today is 65+, one day short of 55 is 45–54.
    assert df.loc["65p", "male"] == 1 and df.loc["45_54", "female"] == 1 and df.loc["55_64"].sum() == 0


def test_education_skips_unrecorded(store):
    df = q.by_education(store, EVERYTHING)
    assert list(df["education"]) == ["本科", "硕士"] and list(df["n"]) == [2, 1]


def test_activity_feed_splits_at_today_with_counts(store):
    df = q.activity_feed(store, EVERYTHING, TODAY)
    assert list(df["id"]) == [2, 1, 3]
    assert list(df["upcoming"]) == [False, False, True]
    assert list(df["registered"]) == [1, 3, 2] and list(df["checked_in"]) == [1, 2, 0]
    assert df.set_index("id").loc[1, "district_zh"] == "西湖区"


def test_activity_feed_in_scope(store):
    df = q.activity_feed(store, WEST_LAKE, TODAY)
    # Activity 2 is elsewhere and nobody from 西湖区 took part; 3 is elsewhere but person 1 registered.
    assert list(df["id"]) == [1, 3]
    assert list(df["registered"]) == [2, 1]


def test_activity_feed_limits_each_side(store):
    df = q.activity_feed(store, EVERYTHING, TODAY, each=1)
    assert list(df["id"]) == [1, 3]


@pytest.mark.parametrize("fn,args", [
    (q.by_category, ()), (q.by_district, ()), (q.top_tags, (20,)), (q.by_stage, ()),
    (q.monthly_participation, (TODAY,)), (q.age_gender, (TODAY,)), (q.by_education, ()),
    (q.activity_feed, (TODAY,)),
])
def test_each_chart_is_one_statement(store, fn, args):
    statements = count_statements(store)
    fn(store, WEST_LAKE, *args)
    statements.detach()
    assert len(statements) == 1
