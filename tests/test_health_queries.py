"""Data-health queries against a small hand-built store, on SQLite and PostgreSQL.

Ten persons with chosen update times, fields, phones and check-ins. The key
numbers are written out by hand below; the rest (every group, every field, every
scope) is re-derived by brute force from the same fixture table, so a wrong
query and a wrong fixture cannot agree by accident.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import insert

from store.queries import health as q
from store.schema import activity, import_batch, import_change, participation, person, person_tag, tag
from store.scope import EVERYTHING, Scope

TODAY = date(2025, 6, 15)
# Window starts: 3 months = 91 days, 6 = 183, 12 = 365 before TODAY, at midnight.
CUT = {3: datetime(2025, 3, 16), 6: datetime(2024, 12, 14), 12: datetime(2024, 6, 15)}
WEST, UPTOWN = "330106", "330102"

FULL = dict(gender="M", ethnicity="汉", party="cdl", street="西溪街道", organization="浙江大学", position="教授",
            education="博士", title="正高", source="referral")
EMPTY = {k: None for k in FULL}

# id -> fields (anything not given is None)
PERSONS = {
    1: dict(FULL, name="张三", birth_date=date(1970, 1, 1), id_number="330106197001010011", phone="13800000001",
            category_code="intellectual", district_code=WEST, updated_at=datetime(2025, 6, 1), updated_via="import"),
    # Same name and birth date as 1, no ID number: a suspected duplicate (in another district).
    2: dict(FULL, name="张三", birth_date=date(1970, 1, 1), id_number=None, phone="13800000002",
            category_code="intellectual", district_code=UPTOWN, updated_at=datetime(2025, 1, 10), updated_via="staff"),
    # Same name, different birth date: NOT a duplicate.
    3: dict(EMPTY, name="张三", birth_date=date(1971, 2, 2), id_number="330106197102020022", phone=None,
            gender="M", organization="  ", category_code="intellectual", district_code=WEST,
            updated_at=datetime(2024, 8, 1), updated_via="staff"),
    # Same mobile as 1 under another name.
    4: dict(FULL, name="李四", birth_date=date(1980, 5, 5), id_number="330106198005050033", phone="13800000001",
            category_code="religious", district_code=WEST, updated_at=datetime(2023, 1, 1), updated_via="self"),
    # A shared landline under two names (5 and 6) is no evidence of a duplicate.
    5: dict(EMPTY, name="王五", birth_date=date(1980, 5, 5), id_number="330106198005050044", phone="057188888888",
            category_code="religious", district_code=WEST, updated_at=datetime(2022, 3, 1), updated_via="sync"),
    6: dict(EMPTY, name="赵六", birth_date=None, phone="057188888888", gender="F", party="",
            category_code="religious", district_code=UPTOWN, updated_at=datetime(2025, 3, 20), updated_via="import"),
    # A second's difference either side of the 12-month start: 7 is stale, 9 is fresh.
    7: dict(EMPTY, name="钱七", birth_date=None, category_code="religious", district_code=UPTOWN,
            updated_at=datetime(2024, 6, 14, 23, 59, 59), updated_via=None),
    # Same name as 7 and both without a birth date: not grouped.
    8: dict(EMPTY, name="钱七", birth_date=None, category_code="non_party", district_code=UPTOWN,
            updated_at=datetime(2025, 5, 1), updated_via="staff"),
    9: dict(FULL, name="孙八", birth_date=date(1985, 3, 3), id_number="330106198503030055", phone="13900000009",
            category_code="non_party", district_code=None, updated_at=datetime(2024, 6, 15), updated_via="import"),
    # Same mobile as 9 under another name; a third holder with 9's name adds no name.
    10: dict(FULL, name="孙九", birth_date=date(1986, 3, 3), id_number=None, phone="13900000009",
             category_code="non_party", district_code=WEST, updated_at=datetime(2024, 12, 14), updated_via="staff"),
}
TAGGED = {1, 4, 6}
# person -> [(status, checked_in_at)]: active within 12 months = {1, 2, 9}
PARTICIPATIONS = {
    1: [("checked_in", datetime(2025, 1, 1))],
    2: [("checked_in", datetime(2025, 2, 1)), ("checked_in", datetime(2025, 4, 1))],
    4: [("checked_in", datetime(2024, 1, 1))],
    6: [("registered", None)],
    9: [("checked_in", datetime(2024, 6, 15))],
}
# batch id -> (file, imported_at, rows_read, inserted, updated, unchanged, rejected, persons changed)
BATCHES = {
    1: ("a.xlsx", datetime(2025, 1, 1, 9), 10, 8, 0, 0, 2, []),
    2: ("b.xlsx", datetime(2025, 2, 1, 9), 4, 1, 1, 1, 1, [4]),
    3: ("c.csv", datetime(2025, 3, 1, 9), 0, 0, 0, 0, 0, [6]),
}


def build(engine) -> None:
    rows = []
    for pid, f in PERSONS.items():
        row = {c.name: None for c in person.columns if c.name not in ("id", "stage")}
        row.update(f, id=pid, created_at=datetime(2020, 1, 1), stage="discover")
        rows.append(row)
    with engine.begin() as conn:
        conn.execute(insert(person), rows)
        conn.execute(insert(tag), [dict(id=1, name="青年"), dict(id=2, name="专家")])
        conn.execute(insert(person_tag), [dict(person_id=p, tag_id=t) for p in TAGGED for t in (1, 2)])
        acts = [dict(id=i, title=f"活动{i}", kind="lecture", starts_at=datetime(2024, 1, 1)) for i in range(1, 4)]
        conn.execute(insert(activity), acts)
        conn.execute(insert(participation), [
            dict(activity_id=i + 1, person_id=pid, status=s, checked_in_at=at)
            for pid, items in PARTICIPATIONS.items() for i, (s, at) in enumerate(items)
        ])
        conn.execute(insert(import_batch), [
            dict(id=b, file_name=f, sha256=f"{b:064d}", imported_at=at, imported_by="staff1", rows_read=r,
                 inserted=i, updated=u, unchanged=n, rejected=x, status="done")
            for b, (f, at, r, i, u, n, x, _) in BATCHES.items()
        ])
        conn.execute(insert(import_change), [
            dict(batch_id=b, person_id=p, action="update") for b, v in BATCHES.items() for p in v[-1]
        ])


@pytest.fixture
def store(engine):
    build(engine)
    return engine


# ---- brute force, straight from the definitions ----
def in_scope(scope: Scope) -> dict[int, dict]:
    if scope.is_everything:
        return PERSONS
    return {pid: f for pid, f in PERSONS.items()
            if f["district_code"] in scope.districts
            or any(f["district_code"] == d and f.get("street") == s for d, s in scope.streets)}


def filled(f: dict, pid: int, field: str) -> bool:
    if field == "tags":
        return pid in TAGGED
    value = f.get("district_code" if field == "district" else field)
    return value is not None and str(value).strip() != ""


def fresh(f: dict, months: int) -> bool:
    return f["updated_at"] >= CUT[months]


def active(pid: int) -> bool:
    return any(s == "checked_in" and at >= CUT[12] for s, at in PARTICIPATIONS.get(pid, []))


SCOPES = [EVERYTHING, Scope(districts=(WEST,)), Scope(districts=(UPTOWN,)), Scope(streets=((WEST, "西溪街道"),))]


# ---- freshness ----
def test_freshness_overall_by_hand(store):
    df = q.freshness(store, EVERYTHING, TODAY)
    row = df.iloc[0]
    assert int(row["persons"]) == 10
    # 3 months: 1 (Jun 1), 6 (Mar 20), 8 (May 1). 6 months adds 2 (Jan 10) and 10 (Dec 14, the first day).
    # 12 months adds 3 (Aug 2024) and 9 (exactly the first second); 7 misses by one second.
    assert (int(row["fresh_3"]), int(row["fresh_6"]), int(row["fresh_12"])) == (3, 5, 7)
    assert row["share_12"] == pytest.approx(0.7)


def test_freshness_groups_match_brute_force(store):
    for scope in SCOPES:
        check_freshness(store, scope)


def check_freshness(store, scope):
    persons = in_scope(scope)
    key_of = {"category": "category_code", "district": "district_code", "updated_via": "updated_via"}
    for by, column in key_of.items():
        df = q.freshness(store, scope, TODAY, by)
        got = {(None if k != k else k): (int(n), int(a), int(b), int(c))
               for k, n, a, b, c in df[["key", "persons", "fresh_3", "fresh_6", "fresh_12"]].itertuples(index=False)}
        expected: dict = {}
        for f in persons.values():
            n, *w = expected.get(f[column], (0, 0, 0, 0))
            expected[f[column]] = (n + 1, *[x + fresh(f, m) for x, m in zip(w, (3, 6, 12))])
        assert got == expected, by
    overall = q.freshness(store, scope, TODAY).iloc[0]
    assert int(overall["persons"]) == len(persons)
    assert int(overall["fresh_12"]) == sum(fresh(f, 12) for f in persons.values())


def test_freshness_names_and_order(store):
    by_category = q.freshness(store, EVERYTHING, TODAY, "category")
    assert set(by_category["key"]) == {"intellectual", "religious", "non_party"}
    assert by_category.set_index("key").loc["religious", "name_zh"] == "宗教界人士"
    by_district = q.freshness(store, EVERYTHING, TODAY, "district")
    assert by_district.set_index("key").loc[WEST, "name_zh"] == "西湖区"
    assert by_district["key"].iloc[-1] is None  # persons without a district come last
    by_via = q.freshness(store, EVERYTHING, TODAY, "updated_via")
    assert by_via["key"].tolist() == ["import", "staff", "self", "sync", None]


def test_freshness_rejects_unknown_dimension(store):
    with pytest.raises(ValueError, match="allowed"):
        q.freshness(store, EVERYTHING, TODAY, "stage")


# ---- completeness ----
def test_completeness_by_hand(store):
    df = q.completeness(store, EVERYTHING).set_index("key")
    assert df.loc["intellectual", "persons"] == 3
    # Person 3's organization is blanks: not filled. 1 and 2 have it.
    assert df.loc["intellectual", "organization"] == 2
    # Religious: 4 has a party; 6's party is an empty string.
    assert df.loc["religious", "party"] == 1
    assert df.loc["religious", "tags"] == 2
    assert df.loc["non_party", "district"] == 2  # 8 and 10; 9 has no district


def test_completeness_matches_brute_force(store):
    for scope in SCOPES:
        df = q.completeness(store, scope)
        got = {row["key"]: {f: int(row[f]) for f in ("persons", *q.FIELDS)} for _, row in df.iterrows()}
        expected: dict = {}
        for pid, f in in_scope(scope).items():
            e = expected.setdefault(f["category_code"], {k: 0 for k in ("persons", *q.FIELDS)})
            e["persons"] += 1
            for field in q.FIELDS:
                e[field] += filled(f, pid, field)
        assert got == expected, scope


# ---- liveness ----
def test_liveness_by_hand(store):
    live = q.liveness(store, EVERYTHING, TODAY)
    assert (live.persons, live.fresh, live.active) == (10, 7, 3)
    filled_counts = dict(live.key_filled)
    assert filled_counts["id_number"] == 5  # 1, 3, 4, 5, 9
    assert filled_counts["phone"] == 7
    # Key fields filled, person by person (gender birth id phone party district org position):
    # 1:8 2:7 3:4 4:8 5:4 6:3 7:1 8:1 9:7 10:7 -> 50 of 80 (3's blank organization and 6's
    # empty party do not count).
    assert sum(filled_counts.values()) == 50
    assert live.completeness == pytest.approx(50 / 80)
    # 40 × 0.7 + 30 × 0.625 + 30 × 0.3 = 28 + 18.75 + 9 = 55.75
    assert live.score == 56


def test_liveness_matches_brute_force(store):
    for scope in SCOPES:
        check_liveness(store, scope)


def check_liveness(store, scope):
    persons = in_scope(scope)
    live = q.liveness(store, scope, TODAY)
    n = len(persons)
    assert live.persons == n
    assert live.fresh == sum(fresh(f, 12) for f in persons.values())
    assert live.active == sum(active(pid) for pid in persons)
    filled_total = sum(filled(f, pid, k) for pid, f in persons.items() for k in q.KEY_FIELDS)
    assert sum(v for _, v in live.key_filled) == filled_total
    expected = 40 * live.fresh / n + 30 * filled_total / (8 * n) + 30 * live.active / n
    assert live.score == round(expected)
    assert 0 <= live.score <= 100


def test_liveness_of_empty_scope(store):
    live = q.liveness(store, Scope(districts=("999999",)), TODAY)
    assert live.persons == 0 and live.score is None and live.completeness is None


# ---- duplicates ----
def test_name_birth_duplicates(store):
    page = q.name_birth_duplicates(store, EVERYTHING)
    # Only 张三 1970-01-01 (1 and 2). Not 张三 1971 (other birth date), not 钱七 (no birth dates),
    # not 李四/王五 (same birth date, different names).
    assert (page.groups, page.persons) == (1, 2)
    row = page.rows.iloc[0]
    assert (row["name"], row["birth_date"], int(row["persons"]), int(row["missing_id"])) == (
        "张三", date(1970, 1, 1), 2, 1)
    assert (int(row["first_id"]), int(row["last_id"])) == (1, 2)  # the pair a merge starts from


def test_name_birth_duplicates_within_scope_only(store):
    # 1 is in West, 2 in Uptown: neither district alone holds the pair.
    assert q.name_birth_duplicates(store, Scope(districts=(WEST,))).groups == 0
    assert q.name_birth_duplicates(store, Scope(districts=(WEST, UPTOWN))).groups == 1


def test_phone_duplicates(store):
    page = q.phone_duplicates(store, EVERYTHING)
    got = {r["phone"]: (int(r["persons"]), r["names"]) for _, r in page.rows.iterrows()}
    # The landline shared by 王五 and 赵六 is left out: only mobiles count.
    assert got == {"13800000001": (2, ("张三", "李四")), "13900000009": (2, ("孙九", "孙八"))}
    assert (page.groups, page.persons) == (2, 4)
    # West holds 1, 4 and 10 but not 9: only the first mobile is shared within it.
    west = q.phone_duplicates(store, Scope(districts=(WEST,)))
    assert west.rows["phone"].tolist() == ["13800000001"]


def test_same_mobile_same_name_is_not_a_phone_duplicate(engine):
    with engine.begin() as conn:
        conn.execute(insert(person), [
            dict(id=i, name="周十", phone="13700000000", category_code="other", created_at=datetime(2025, 1, 1),
                 updated_at=datetime(2025, 1, 1)) for i in (1, 2)
        ])
    assert q.phone_duplicates(engine, EVERYTHING).groups == 0


def test_duplicate_pages(engine):
    # Five groups of sizes 2..6 (name i, same birth date): ordered by size, paged in SQL.
    rows, pid = [], 0
    for size in range(2, 7):
        for _ in range(size):
            pid += 1
            rows.append(dict(id=pid, name=f"同名{size}", birth_date=date(1990, 1, 1), category_code="other",
                             created_at=datetime(2025, 1, 1), updated_at=datetime(2025, 1, 1)))
    with engine.begin() as conn:
        conn.execute(insert(person), rows)
    first = q.name_birth_duplicates(engine, EVERYTHING, offset=0, limit=2)
    assert first.rows["persons"].tolist() == [6, 5]
    assert (first.groups, first.persons) == (5, 20)
    last = q.name_birth_duplicates(engine, EVERYTHING, offset=4, limit=2)
    assert last.rows["name"].tolist() == ["同名2"]
    beyond = q.name_birth_duplicates(engine, EVERYTHING, offset=10, limit=2)
    assert beyond.rows.empty and (beyond.groups, beyond.persons) == (5, 20)


# ---- import batches ----
def test_recent_batches(store):
    page = q.recent_batches(store, EVERYTHING)
    assert page.total == 3
    assert page.rows["file_name"].tolist() == ["c.csv", "b.xlsx", "a.xlsx"]
    rates = page.rows.set_index("file_name")["reject_rate"]
    assert rates["a.xlsx"] == pytest.approx(0.2) and rates["b.xlsx"] == pytest.approx(0.25)
    assert rates.isna()["c.csv"]  # nothing read: no rate rather than a division by zero
    second = q.recent_batches(store, EVERYTHING, offset=1, limit=1)
    assert second.total == 3 and second.rows["file_name"].tolist() == ["b.xlsx"]


def test_recent_batches_scoped(store):
    # Batch 2 changed person 4 (West), batch 3 person 6 (Uptown); batch 1 changed nobody still here.
    assert q.recent_batches(store, Scope(districts=(WEST,))).rows["file_name"].tolist() == ["b.xlsx"]
    assert q.recent_batches(store, Scope(districts=(UPTOWN,))).total == 1


def test_empty_store(engine):
    assert int(q.freshness(engine, EVERYTHING, TODAY).iloc[0]["persons"]) == 0
    for by in q.FRESHNESS_DIMENSIONS:
        assert q.freshness(engine, EVERYTHING, TODAY, by).empty
    assert q.completeness(engine, EVERYTHING).empty
    assert q.liveness(engine, EVERYTHING, TODAY).score is None
    assert q.name_birth_duplicates(engine, EVERYTHING).groups == 0
    assert q.phone_duplicates(engine, EVERYTHING).rows.empty
    assert q.recent_batches(engine, EVERYTHING).total == 0
