"""The demo generator: counts, shapes, consistency and determinism, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from loaders.cli import main
from loaders.demo import generate_demo
from store.engine import create_store_engine
from store.migrate import DATA_DIR, read_csv_rows, upgrade_to_head
from store.schema import (
    activity,
    appointment,
    audit_log,
    category,
    meta,
    participation,
    person,
    person_tag,
    stage_event,
    tag,
)

TODAY = date(2025, 6, 30)
NOW = datetime(2025, 6, 30)
N = 2000
EIGHT = {"rcck", "cdl", "cndca", "capd", "cpwdp", "zhigong", "jiusan", "tdsl"}
STAGE_ORDER = ["discover", "cultivate", "use", "manage"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@pytest.fixture
def demo(engine):
    counts = generate_demo(engine, persons=N, seed=7, today=TODAY)
    return engine, counts


def _rows(engine, stmt):
    with engine.connect() as conn:
        return conn.execute(stmt).all()


def _scalar(engine, stmt):
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def _count(engine, table):
    return _scalar(engine, select(func.count()).select_from(table))


def test_counts_match_the_store(demo):
    engine, counts = demo
    assert counts["persons"] == _count(engine, person) == N
    assert counts["activities"] == _count(engine, activity) == N // 10
    assert counts["participations"] == _count(engine, participation)
    assert counts["appointments"] == _count(engine, appointment) > 0
    assert counts["stage_events"] == _count(engine, stage_event)
    assert counts["person_tags"] == _count(engine, person_tag)
    # 5-60 participants per activity, 0-6 tags per person.
    per_activity = [n for (n,) in _rows(engine, select(func.count()).select_from(participation)
                                        .group_by(participation.c.activity_id))]
    assert len(per_activity) == N // 10 and min(per_activity) >= 1 and max(per_activity) <= 60
    assert sum(per_activity) / len(per_activity) > 25
    per_person = [n for (n,) in _rows(engine, select(func.count()).select_from(person_tag)
                                      .group_by(person_tag.c.person_id))]
    assert max(per_person) <= 6
    assert 2.0 < counts["person_tags"] / N < 4.0
    assert sum(counts[s] for s in STAGE_ORDER) == N


def test_tags_from_csv_are_loaded(demo):
    engine, _ = demo
    names = {r["name"] for r in read_csv_rows(DATA_DIR / "tags.csv")}
    assert {n for (n,) in _rows(engine, select(tag.c.name))} == names
    used = _scalar(engine, select(func.count(func.distinct(person_tag.c.tag_id))))
    assert used > len(names) * 0.8


def test_every_category_and_district_present_and_sizes_believable(demo):
    engine, _ = demo
    by_cat = dict(_rows(engine, select(person.c.category_code, func.count()).group_by(person.c.category_code)))
    assert set(by_cat) == {c for (c,) in _rows(engine, select(category.c.code))}
    assert len(by_cat) == 12
    largest = {c for c, _ in Counter(by_cat).most_common(3)}
    assert largest == {"private_economy", "intellectual", "democratic_party"}
    smallest = {c for c, _ in Counter(by_cat).most_common()[-2:]}
    assert smallest == {"taiwan", "religious"}
    districts = {r["code"] for r in read_csv_rows(DATA_DIR / "regions.csv") if r["level"] == "district"}
    by_district = dict(_rows(engine, select(person.c.district_code, func.count()).group_by(person.c.district_code)))
    assert set(by_district) == districts
    assert max(by_district.values()) > 3 * min(by_district.values())      # weighted, not uniform


def test_persons_look_real(demo):
    engine, _ = demo
    streets = defaultdict(set)
    for r in read_csv_rows(DATA_DIR / "regions.csv"):
        if r["level"] == "street":
            streets[r["parent_code"]].add(r["name_zh"])
    parties = {r["code"] for r in read_csv_rows(DATA_DIR / "parties.csv")}
    rows = _rows(engine, select(person))
    genders, ethnic = Counter(), Counter()
    for p in rows:
        age = (TODAY - p.birth_date).days / 365.25
        assert 25 <= age < 86, p
        assert p.gender in ("M", "F")
        assert p.street is None or p.street in streets[p.district_code]
        assert p.phone is None or (len(p.phone) == 11 and p.phone[0] == "1" and p.phone[1] in "3456789"
                                   and p.phone.isdigit())
        assert p.party in parties
        assert p.created_at <= p.updated_at < NOW
        genders[p.gender] += 1
        ethnic[(p.category_code == "ethnic_minority", p.ethnicity == "汉族")] += 1
    assert 0.5 < genders["M"] / len(rows) < 0.8
    assert ethnic[(True, True)] == 0                           # the minority category is all minorities
    assert ethnic[(False, False)] < 0.03 * len(rows)           # elsewhere mostly 汉族
    # Freshness means something: a real share is stale, a real share is recent.
    stale = sum(1 for p in rows if (NOW - p.updated_at).days > 365)
    recent = sum(1 for p in rows if (NOW - p.updated_at).days <= 90)
    assert 0.15 < stale / len(rows) < 0.5 and recent / len(rows) > 0.1
    assert {p.updated_via for p in rows} == {"import", "staff", "self", "sync"}
    assert len({p.source for p in rows}) >= 8
    assert len({p.organization for p in rows}) > len(rows) / 3
    assert {p.education for p in rows} >= {"博士研究生", "硕士研究生", "大学本科", "大学专科", "高中及以下"}
    assert {p.title for p in rows} >= {"正高级", "副高级", "中级"}
    # Common surnames dominate, as in a real city.
    surnames = Counter(p.name[0] for p in rows)
    assert surnames.most_common(1)[0][1] > 0.04 * len(rows)


def test_party_consistent_with_category(demo):
    engine, _ = demo
    for cat, party in _rows(engine, select(person.c.category_code, person.c.party)):
        if cat == "democratic_party":
            assert party in EIGHT
        assert (cat == "non_party") == (party == "non_party")
        if cat in ("religious", "intellectual", "private_economy", "new_social_stratum", "non_party"):
            assert party != "cpc"


def _check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def test_id_numbers_valid_unique_and_consistent(demo):
    engine, _ = demo
    rows = _rows(engine, select(person.c.id_number, person.c.birth_date, person.c.gender, person.c.district_code))
    numbers = [r.id_number for r in rows if r.id_number]
    assert len(numbers) > 0.95 * len(rows)
    assert len(numbers) == len(set(numbers))
    for r in rows:
        if not r.id_number:
            continue
        n = r.id_number
        assert len(n) == 18 and n[:17].isdigit()
        assert n[17] == _check_digit(n[:17])
        assert n[:6] == r.district_code
        assert n[6:14] == r.birth_date.strftime("%Y%m%d")
        assert int(n[16]) % 2 == (1 if r.gender == "M" else 0)


def test_funnel_narrows_and_histories_increase(demo):
    engine, _ = demo
    reached = dict(_rows(engine, select(stage_event.c.stage, func.count(func.distinct(stage_event.c.person_id)))
                         .group_by(stage_event.c.stage)))
    assert reached["discover"] == N
    assert reached["discover"] > reached["cultivate"] > reached["use"] > reached["manage"] > 0
    stage_of = dict(_rows(engine, select(person.c.id, person.c.stage)))
    created = dict(_rows(engine, select(person.c.id, person.c.created_at)))
    history = defaultdict(list)
    for pid, stage, at in _rows(engine, select(stage_event.c.person_id, stage_event.c.stage, stage_event.c.entered_at)
                                .order_by(stage_event.c.person_id, stage_event.c.id)):
        history[pid].append((stage, at))
    assert set(history) == set(stage_of)
    for pid, events in history.items():
        stages = [s for s, _ in events]
        assert stages == STAGE_ORDER[: len(stages)], events
        dates = [at for _, at in events]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        assert dates[-1] < NOW
        assert stages[-1] == stage_of[pid]
        assert dates[0] == created[pid]


def test_appointments_for_used_and_managed(demo):
    engine, _ = demo
    rows = _rows(engine, select(appointment, person.c.stage).join(person, person.c.id == appointment.c.person_id))
    assert {r.stage for r in rows} == {"use", "manage"}
    assert {r.body for r in rows} == {"npc", "cppcc", "association", "other"}
    for r in rows:
        assert r.term_start <= TODAY
        assert r.term_end > r.term_start
        assert (r.term_end - r.term_start).days <= 5 * 366
    current = [r for r in rows if r.term_end > TODAY]
    ending_soon = [r for r in current if r.term_end <= TODAY + timedelta(days=365)]
    assert len(current) > 0.7 * len(rows) and ending_soon
    used = _scalar(engine, select(func.count()).select_from(person).where(person.c.stage.in_(["use", "manage"])))
    assert _scalar(engine, select(func.count(func.distinct(appointment.c.person_id)))) == used


def test_activities_and_participations_consistent(demo):
    engine, _ = demo
    # Every participation points at an existing person and activity (FKs are on; check anyway).
    orphans = _scalar(engine, select(func.count()).select_from(
        participation.outerjoin(person, person.c.id == participation.c.person_id)
        .outerjoin(activity, activity.c.id == participation.c.activity_id))
        .where((person.c.id.is_(None)) | (activity.c.id.is_(None))))
    assert orphans == 0
    acts = {a.id: a for a in _rows(engine, select(activity))}
    assert {a.kind for a in acts.values()} == {"training", "lecture", "onsite", "survey", "other"}
    starts = [a.starts_at for a in acts.values()]
    upcoming = {i for i, a in acts.items() if a.starts_at > NOW}
    assert 0 < len(upcoming) < 0.15 * len(acts)
    assert min(starts) >= NOW - timedelta(days=3 * 366)
    for a in acts.values():
        assert a.ends_at > a.starts_at and a.capacity >= 5
    created = dict(_rows(engine, select(person.c.id, person.c.created_at)))
    statuses = Counter()
    for p in _rows(engine, select(participation)):
        a = acts[p.activity_id]
        statuses[p.status] += 1
        assert p.registered_at < a.starts_at and p.registered_at <= NOW
        assert p.registered_at > created[p.person_id]
        if p.activity_id in upcoming:
            assert p.status in ("registered", "approved") and p.checked_in_at is None
        elif p.status == "checked_in":
            assert abs((p.checked_in_at - a.starts_at).total_seconds()) <= 3600
        else:
            assert p.status in ("rejected", "absent") and p.checked_in_at is None
    assert set(statuses) == {"registered", "approved", "rejected", "checked_in", "absent"}
    assert statuses["checked_in"] > statuses["absent"] > statuses["rejected"]


def test_audit_log_and_data_version(demo):
    engine, counts = demo
    (row,) = _rows(engine, select(audit_log).where(audit_log.c.action == "demo"))
    assert f'"persons": {N}' in row.detail
    assert _scalar(engine, select(meta.c.value).where(meta.c.key == "data_version")) == "2"


def _digest(engine) -> str:
    h = hashlib.sha256()
    for table, order in ((person, [person.c.id]),
                         (participation, [participation.c.activity_id, participation.c.person_id]),
                         (appointment, [appointment.c.id]), (person_tag, [person_tag.c.person_id, person_tag.c.tag_id]),
                         (activity, [activity.c.id]), (stage_event, [stage_event.c.id])):
        for row in _rows(engine, select(table).order_by(*order)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def _fresh(store_url_factory, backend):
    engine = create_store_engine(store_url_factory(backend), create=True)
    upgrade_to_head(engine)
    return engine


def test_same_seed_same_store_other_seed_other_store(store_url_factory, backend):
    stores = [_fresh(store_url_factory, backend) for _ in range(3)]
    try:
        for eng, seed in zip(stores, (11, 11, 12)):
            generate_demo(eng, persons=500, seed=seed, today=TODAY)
        a, b, c = (_digest(eng) for eng in stores)
        assert a == b
        assert a != c
    finally:
        for eng in stores:
            eng.dispose()


def test_second_run_appends_without_collisions(engine):
    generate_demo(engine, persons=300, seed=3, today=TODAY)
    generate_demo(engine, persons=300, seed=3, today=TODAY)      # same seed: same draws, new ids
    assert _count(engine, person) == 600
    numbers = [n for (n,) in _rows(engine, select(person.c.id_number)) if n]
    assert len(numbers) == len(set(numbers))
    # Later inserts without explicit ids still work (PostgreSQL sequences caught up).
    with engine.begin() as conn:
        conn.execute(person.insert().values(name="测试", category_code="other", created_at=NOW, updated_at=NOW))
    assert _scalar(engine, select(func.max(person.c.id))) == 601


def test_zero_persons(engine):
    counts = generate_demo(engine, persons=0, seed=1, today=TODAY)
    assert counts["persons"] == counts["activities"] == counts["participations"] == 0


def test_cli_runs_and_if_empty_skips(store_url, capsys):
    assert main(["demo", "--db", store_url, "--persons", "200", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "persons=200" in out and "participations=" in out and " s" in out
    engine = create_store_engine(store_url)
    try:
        before = _digest(engine)
        assert main(["demo", "--db", store_url, "--persons", "200", "--if-empty"]) == 0
        assert "跳过" in capsys.readouterr().out
        assert _digest(engine) == before
        assert _count(engine, person) == 200
    finally:
        engine.dispose()


def test_cli_if_empty_fills_an_empty_store(store_url, capsys):
    assert main(["demo", "--db", store_url, "--persons", "100", "--if-empty"]) == 0
    engine = create_store_engine(store_url)
    try:
        assert _count(engine, person) == 100
    finally:
        engine.dispose()
