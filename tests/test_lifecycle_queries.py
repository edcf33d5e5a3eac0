"""Lifecycle queries against a small hand-computed store, on SQLite and PostgreSQL.

Eight persons with stage histories chosen to exercise the readings: a full
path, a stop at 培养, a skipped 培养, an out-of-order history, a person with no
发现 event and one with no history at all. Expected numbers are written out by
hand below and, where a formula is easy, re-derived by brute force from the
same fixture so a wrong fixture and a wrong query cannot agree by accident.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime

import pytest
from sqlalchemy import insert

from store.queries import lifecycle as q
from store.schema import STAGES, appointment, participation, activity, person, stage_event
from store.scope import EVERYTHING, Scope

TODAY = date(2025, 6, 15)
WEST, UPTOWN = "330106", "330102"

# person id -> (district, current stage, source, [(stage, entered_at)])
PERSONS = {
    1: (WEST, "manage", "referral", [("discover", datetime(2020, 1, 10, 9)), ("cultivate", datetime(2020, 3, 10, 9)),
                                     ("use", datetime(2021, 1, 10, 9)), ("manage", datetime(2021, 6, 10, 9))]),
    2: (WEST, "cultivate", "referral", [("discover", datetime(2020, 5, 1)), ("cultivate", datetime(2020, 7, 1))]),
    # Skipped 培养.
    3: (WEST, "use", "referral", [("discover", datetime(2021, 2, 1)), ("use", datetime(2021, 8, 1))]),
    # Times of day around midnight: durations are calendar days (31 and 30, not 30 and 29).
    4: (WEST, "cultivate", "import", [("discover", datetime(2021, 3, 1, 23, 30)),
                                      ("cultivate", datetime(2021, 4, 1, 0, 10)),
                                      ("use", datetime(2021, 5, 1, 0, 5))]),
    # No 发现 event: in no cohort, never counted in order.
    5: (UPTOWN, "cultivate", "import", [("cultivate", datetime(2022, 1, 1))]),
    6: (UPTOWN, "discover", None, [("discover", datetime(2022, 7, 1))]),
    7: (UPTOWN, "discover", None, []),
    # Out of order: 使用 before 培养.
    8: (UPTOWN, "cultivate", None, [("discover", datetime(2022, 1, 1)), ("use", datetime(2022, 2, 1)),
                                    ("cultivate", datetime(2022, 3, 1))]),
}


def build(engine, persons=PERSONS) -> None:
    now = datetime(2025, 1, 1)
    with engine.begin() as conn:
        conn.execute(insert(person), [
            dict(id=pid, name=f"人员{pid}", category_code="intellectual", district_code=d, stage=stage,
                 source=src, created_at=now, updated_at=now, organization=f"单位{pid}")
            for pid, (d, stage, src, _) in persons.items()
        ])
        events = [dict(person_id=pid, stage=s, entered_at=at)
                  for pid, (_, _, _, history) in persons.items() for s, at in history]
        if events:
            conn.execute(insert(stage_event), events)


def brute_force_funnel(persons) -> dict[str, tuple[int, int]]:
    """stage -> (in_order, any_stage) straight from the definition."""
    out = {}
    for k, stage in enumerate(STAGES):
        any_n = ordered = 0
        for _, _, _, history in persons.values():
            first = {}
            for s, at in history:
                first[s] = min(first.get(s, at), at)
            any_n += stage in first
            path = [first.get(s) for s in STAGES[: k + 1]]
            ordered += all(path) and all(path[i] >= path[i - 1] for i in range(1, len(path)))
        out[stage] = (ordered, any_n)
    return out


@pytest.fixture
def store(engine):
    build(engine)
    return engine


def test_funnel_both_readings_match_hand_counts(store):
    funnel = q.lifecycle_funnel(store, EVERYTHING)
    table = funnel.table.set_index("stage")
    # Hand counts: any stage = persons with an event there; in order = after all earlier stages.
    assert table["any_stage"].tolist() == [6, 5, 4, 1]
    assert table["in_order"].tolist() == [6, 4, 2, 1]
    assert funnel.persons == 8 and funnel.without_history == 1
    assert table.loc["cultivate", "in_order_next"] == pytest.approx(4 / 6)
    assert table.loc["use", "in_order_next"] == pytest.approx(2 / 4)
    assert table.loc["manage", "in_order_next"] == pytest.approx(1 / 2)
    assert table.loc["manage", "in_order_cum"] == pytest.approx(1 / 6)
    assert table.loc["use", "any_next"] == pytest.approx(4 / 5)
    assert table.loc["use", "any_cum"] == pytest.approx(4 / 6)
    assert pd_isna(table.loc["discover", "in_order_next"])
    expected = brute_force_funnel(PERSONS)
    assert {s: (int(r.in_order), int(r.any_stage)) for s, r in table.iterrows()} == expected


def test_funnel_respects_scope(store):
    funnel = q.lifecycle_funnel(store, Scope(districts=(WEST,)))
    west = {pid: p for pid, p in PERSONS.items() if p[0] == WEST}
    expected = brute_force_funnel(west)
    table = funnel.table.set_index("stage")
    assert {s: (int(r.in_order), int(r.any_stage)) for s, r in table.iterrows()} == expected
    assert funnel.persons == 4 and funnel.without_history == 0


def test_time_in_stage_medians(store):
    df = q.time_in_stage(store, EVERYTHING).set_index("stage")
    # Completed stays in calendar days: 发现 60, 61, 181, 31, 31; 培养 306, 30; 使用 151, 28.
    assert df.loc["discover", "stays"] == 5 and df.loc["discover", "median_days"] == 60
    assert df.loc["cultivate", "stays"] == 2 and df.loc["cultivate", "median_days"] == 168
    assert df.loc["use", "stays"] == 2 and df.loc["use", "median_days"] == pytest.approx(89.5)
    # Persons 8's 培养 and person 1's 管理 are ongoing: nothing completed in 管理.
    assert df.loc["manage", "stays"] == 0 and pd_isna(df.loc["manage", "median_days"])


def test_time_in_stage_agrees_with_statistics_median(store):
    stays: dict[str, list[int]] = {}
    for _, _, _, history in PERSONS.values():
        ordered = sorted(history, key=lambda e: e[1])
        for (s, at), (_, nxt) in zip(ordered, ordered[1:]):
            stays.setdefault(s, []).append((nxt.date() - at.date()).days)
    df = q.time_in_stage(store, EVERYTHING).set_index("stage")
    for stage, values in stays.items():
        assert df.loc[stage, "median_days"] == pytest.approx(statistics.median(values))


def test_cohorts_by_year_of_discovery(store):
    df = q.cohorts(store, EVERYTHING).set_index("cohort")
    assert df.index.tolist() == [2020, 2021, 2022]
    assert df["discover"].tolist() == [2, 2, 2]
    assert df["cultivate"].tolist() == [2, 1, 1]
    assert df["use"].tolist() == [1, 2, 1]
    assert df["manage"].tolist() == [1, 0, 0]
    # 2020: 60 and 61 days to 培养; 2021: person 4, 31; 2022: person 8, 59.
    assert df["days_to_cultivate"].tolist() == [60.5, 31, 59]
    # 2020: 366 (leap year); 2021: 181 and 61; 2022: 31.
    assert df["days_to_use"].tolist() == [366, 121, 31]


def test_sources_and_their_conversion(store):
    df = q.sources(store, EVERYTHING)
    rows = {r.source: (r.persons, r.cultivate, r.use) for r in df.itertuples()}
    assert rows == {"referral": (3, 2, 2), "import": (2, 2, 1), "": (3, 1, 1)}
    assert df["source"].tolist()[:2] == ["", "referral"]  # ties broken by name
    assert df.set_index("source").loc["import", "use_rate"] == pytest.approx(0.5)
    assert not df.attrs["truncated"]
    assert q.sources(store, EVERYTHING, limit=2).attrs["truncated"]


def _activity(conn, aid: int, at: datetime) -> None:
    conn.execute(insert(activity), [dict(id=aid, title=f"活动{aid}", kind="training", starts_at=at, online=False)])


def test_promote_candidates(store):
    since = datetime(2024, 6, 15)  # TODAY minus 365 days: the first moment that counts
    # person -> [(status, checked_in_at)]
    plan = {
        2: [("checked_in", datetime(2024, 9, 1)), ("checked_in", datetime(2025, 1, 1)), ("checked_in", datetime(2025, 6, 1))],
        5: [("checked_in", since), ("checked_in", datetime(2025, 2, 1)), ("absent", None)],
        # Has a post: not a candidate however active.
        8: [("checked_in", datetime(2025, 1, 1)), ("checked_in", datetime(2025, 2, 1)), ("checked_in", datetime(2025, 3, 1))],
        # One check-in inside the window, two just before it.
        4: [("checked_in", datetime(2024, 6, 14, 23, 59)), ("checked_in", datetime(2024, 1, 1)),
            ("checked_in", datetime(2025, 1, 1))],
        # Active but still in 发现.
        6: [("checked_in", datetime(2025, 1, 1)), ("checked_in", datetime(2025, 2, 1))],
    }
    with store.begin() as conn:
        for i in range(1, 4):
            _activity(conn, i, datetime(2025, 1, i))
        conn.execute(insert(participation), [
            dict(activity_id=i + 1, person_id=pid, status=status, registered_at=datetime(2024, 1, 1), checked_in_at=at)
            for pid, rows in plan.items() for i, (status, at) in enumerate(rows)
        ])
        conn.execute(insert(appointment), [dict(person_id=8, body="npc", term_start=date(2024, 1, 1),
                                                term_end=date(2029, 1, 1))])
    page = q.promote_candidates(store, EVERYTHING, TODAY, min_checkins=2)
    assert page.total == 2
    assert page.rows["id"].tolist() == [2, 5]
    assert page.rows["check_ins"].tolist() == [3, 2]
    assert "id_number" not in page.rows and "phone" not in page.rows
    assert page.rows["category_zh"].iloc[0] == "党外知识分子"
    assert q.promote_candidates(store, EVERYTHING, TODAY, min_checkins=3).total == 1
    assert q.promote_candidates(store, Scope(districts=(WEST,)), TODAY, min_checkins=2).rows["id"].tolist() == [2]
    second = q.promote_candidates(store, EVERYTHING, TODAY, min_checkins=2, offset=1, limit=1)
    assert second.total == 2 and second.rows["id"].tolist() == [5]


APPOINTMENTS = [
    # id, person, body, start, end, expected kind (None = neither)
    (1, 1, "npc", date(2020, 6, 15), date(2025, 6, 15), "soon"),        # ends today
    (2, 1, "cppcc", date(2020, 6, 14), date(2025, 6, 14), "overdue"),   # ended yesterday, no successor
    (3, 3, "cppcc", date(2020, 12, 15), date(2025, 12, 15), "soon"),    # exactly six months ahead
    (4, 3, "npc", date(2020, 12, 16), date(2025, 12, 16), None),        # one day beyond
    (5, 4, "association", date(2018, 1, 1), date(2023, 1, 1), None),   # succeeded by 6
    (6, 4, "association", date(2023, 1, 2), date(2028, 1, 1), None),
    (7, 8, "npc", date(2019, 1, 1), date(2024, 1, 1), "overdue"),       # later post is another body
    (8, 8, "cppcc", date(2024, 2, 1), date(2029, 1, 31), None),
    (9, 6, "other", date(2024, 1, 1), None, None),                      # open-ended
]


@pytest.fixture
def terms(store):
    with store.begin() as conn:
        conn.execute(insert(appointment), [
            dict(id=i, person_id=p, body=b, title=f"职务{i}", term_start=s, term_end=e)
            for i, p, b, s, e, _ in APPOINTMENTS
        ])
    return store


def test_term_watch_by_body_around_boundaries(terms):
    df = q.term_watch_by_body(terms, EVERYTHING, TODAY).set_index("body")
    expected: dict[str, dict[str, int]] = {}
    for _, _, body, _, _, kind in APPOINTMENTS:
        if kind:
            expected.setdefault(body, {"soon": 0, "overdue": 0})[kind] += 1
    assert expected == {"npc": {"soon": 1, "overdue": 1}, "cppcc": {"soon": 1, "overdue": 1}}
    assert df.to_dict("index") == expected


def test_term_watch_a_day_later(terms):
    # Tomorrow, post 1 is overdue too and post 4 enters the six-month window.
    df = q.term_watch_by_body(terms, EVERYTHING, date(2025, 6, 16)).set_index("body")
    assert df.loc["npc"].to_dict() == {"soon": 1, "overdue": 2}
    assert df.loc["cppcc"].to_dict() == {"soon": 1, "overdue": 1}


def test_term_watch_scope_and_pages(terms):
    west = q.term_watch_by_body(terms, Scope(districts=(WEST,)), TODAY).set_index("body")
    assert west.to_dict("index") == {"cppcc": {"soon": 1, "overdue": 1}, "npc": {"soon": 1, "overdue": 0}}
    soon = q.term_watch_page(terms, EVERYTHING, TODAY, "soon")
    assert soon.total == 2
    assert soon.rows["id"].tolist() == [1, 3]
    assert soon.rows["days_left"].tolist() == [0, 183]
    overdue = q.term_watch_page(terms, EVERYTHING, TODAY, "overdue", limit=1)
    assert overdue.total == 2 and overdue.rows["id"].tolist() == [7]
    with pytest.raises(ValueError):
        q.term_watch_page(terms, EVERYTHING, TODAY, "later")


@pytest.mark.parametrize(
    "day, months, expected",
    [(date(2025, 6, 15), 6, date(2025, 12, 15)), (date(2025, 8, 31), 6, date(2026, 2, 28)),
     (date(2023, 8, 31), 6, date(2024, 2, 29)), (date(2025, 12, 1), 1, date(2026, 1, 1))],
)
def test_add_months(day, months, expected):
    assert q.add_months(day, months) == expected


@pytest.mark.parametrize(
    "pairs, expected",
    [([], None), ([(5, 1)], 5), ([(1, 1), (3, 1)], 2), ([(1, 2), (9, 1)], 1), ([(1, 1), (2, 2), (7, 1)], 2)],
)
def test_median_from_histogram(pairs, expected):
    assert q._median_from_histogram(pairs) == expected


def test_empty_store(engine):
    funnel = q.lifecycle_funnel(engine, EVERYTHING)
    assert funnel.table["any_stage"].sum() == 0 and funnel.persons == 0
    assert q.time_in_stage(engine, EVERYTHING)["stays"].sum() == 0
    assert q.cohorts(engine, EVERYTHING).empty
    assert q.sources(engine, EVERYTHING).empty
    assert q.promote_candidates(engine, EVERYTHING, TODAY, 3).total == 0
    assert q.term_watch_by_body(engine, EVERYTHING, TODAY).empty
    assert q.term_watch_page(engine, EVERYTHING, TODAY, "overdue").rows.empty


def pd_isna(value) -> bool:
    return value is None or value != value
