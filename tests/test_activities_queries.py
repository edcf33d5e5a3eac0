"""Activity queries against a small hand-computed store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, insert, select

from store.filters import PersonFilter
from store.queries import activities as q
from store.schema import activity, participation, person
from store.scope import EVERYTHING, Scope

TODAY = date(2025, 6, 15)
WEST, UPTOWN = "330106", "330102"
START, END = q.period_bounds("90d", TODAY)  # 2025-03-18 .. 2025-06-15

PERSONS = {  # id -> (district, category)
    1: (WEST, "intellectual"), 2: (WEST, "intellectual"), 3: (WEST, "religious"),
    4: (UPTOWN, "intellectual"), 5: (UPTOWN, "religious"), 6: (UPTOWN, "non_party"),
}
ACTIVITIES = {  # id -> (kind, starts_at, district)
    1: ("training", datetime(2025, 4, 10, 9), WEST),
    2: ("lecture", datetime(2025, 5, 20, 14), None),
    3: ("onsite", datetime(2025, 3, 18, 0, 0), UPTOWN),   # first moment of the period
    4: ("training", datetime(2025, 3, 17, 23, 59), WEST),  # last minute before it
    5: ("training", datetime(2025, 6, 15, 20), None),      # last day
    6: ("training", datetime(2025, 6, 16, 0, 0), WEST),    # the day after
    7: ("lecture", datetime(2024, 1, 1, 9), WEST),
}
PARTICIPATIONS = [  # (activity, person, status, checked_in_at)
    (1, 1, "checked_in", datetime(2025, 4, 10, 9, 5)), (1, 2, "absent", None), (1, 3, "rejected", None),
    (1, 4, "registered", None), (1, 5, "approved", None), (1, 6, "checked_in", datetime(2025, 4, 10, 9, 1)),
    (2, 1, "checked_in", datetime(2025, 5, 20, 14)), (2, 4, "checked_in", datetime(2025, 5, 20, 14)),
    (2, 5, "absent", None),
    (3, 2, "registered", None),
    (4, 3, "checked_in", datetime(2025, 3, 17, 23, 59)),
    (6, 6, "registered", None),
    (7, 5, "checked_in", datetime(2024, 1, 1, 9)),
]


def build(engine) -> None:
    now = datetime(2025, 1, 1)
    with engine.begin() as conn:
        conn.execute(insert(person), [
            dict(id=pid, name=f"人员{pid}", category_code=cat, district_code=d, stage="cultivate",
                 created_at=now, updated_at=now)
            for pid, (d, cat) in PERSONS.items()
        ])
        conn.execute(insert(activity), [
            dict(id=aid, title=f"活动{aid}", kind=kind, starts_at=at, district_code=d, online=aid == 2)
            for aid, (kind, at, d) in ACTIVITIES.items()
        ])
        conn.execute(insert(participation), [
            dict(activity_id=a, person_id=p, status=s, registered_at=datetime(2024, 1, 1), checked_in_at=c)
            for a, p, s, c in PARTICIPATIONS
        ])


@pytest.fixture
def store(engine):
    build(engine)
    return engine


def test_period_bounds():
    assert q.period_bounds("30d", TODAY) == (date(2025, 5, 17), TODAY)
    assert q.period_bounds("90d", TODAY) == (date(2025, 3, 18), TODAY)
    assert q.period_bounds("12m", TODAY) == (date(2024, 6, 16), TODAY)
    assert q.period_bounds("ytd", TODAY) == (date(2025, 1, 1), TODAY)
    assert q.period_bounds("custom", TODAY, date(2025, 1, 2), date(2025, 1, 2)) == (date(2025, 1, 2),) * 2
    for bad in [("custom", TODAY, None, TODAY), ("custom", TODAY, TODAY, date(2025, 1, 1)), ("week", TODAY)]:
        with pytest.raises(q.InvalidPeriod):
            q.period_bounds(*bad)


def test_summary_counts_and_rates(store):
    s = q.activity_summary(store, EVERYTHING, START, END)
    # Activities 1, 2, 3, 5 start in the period (4 is a minute early, 6 a day late).
    assert s.activities == 4
    assert (s.registrations, s.approved, s.rejected, s.checked_in, s.absent) == (10, 7, 1, 4, 2)
    assert s.approval_rate == pytest.approx(0.7)
    assert s.checkin_rate == pytest.approx(4 / 7)
    assert s.no_show_rate == pytest.approx(2 / 7)


def test_summary_brute_force_over_periods(store):
    for choice in ("30d", "90d", "12m", "ytd"):
        start, end = q.period_bounds(choice, TODAY)
        inside = {a for a, (_, at, _) in ACTIVITIES.items() if start <= at.date() <= end}
        rows = [r for r in PARTICIPATIONS if r[0] in inside]
        s = q.activity_summary(store, EVERYTHING, start, end)
        assert s.activities == len(inside), choice
        assert s.registrations == len(rows)
        assert s.approved == sum(r[2] in ("approved", "checked_in", "absent") for r in rows)
        assert s.checked_in == sum(r[2] == "checked_in" for r in rows)


def test_summary_in_scope(store):
    s = q.activity_summary(store, Scope(districts=(WEST,)), START, END)
    # Persons 1-3 only; activity 5 is held nowhere in scope and reached nobody in it.
    assert s.activities == 3
    assert (s.registrations, s.approved, s.rejected, s.checked_in, s.absent) == (5, 3, 1, 2, 1)


def test_empty_period_has_no_rates(store):
    s = q.activity_summary(store, EVERYTHING, date(2030, 1, 1), date(2030, 2, 1))
    assert s.activities == 0 and s.approval_rate is None and s.no_show_rate is None


def test_funnel_of_one_activity_and_of_the_period(store):
    def funnel(*args, **kwargs):
        return q.activity_funnel(store, *args, **kwargs).iloc[0].to_dict()

    one = funnel(EVERYTHING, START, END, activity_id=1)
    assert one == {"registrations": 6, "approved": 4, "checked_in": 2, "absent": 1,
                   "approval_rate": 4 / 6, "checkin_rate": 2 / 4, "no_show_rate": 1 / 4}
    period = funnel(EVERYTHING, START, END)
    assert period == {"registrations": 10, "approved": 7, "checked_in": 4, "absent": 2,
                      "approval_rate": 7 / 10, "checkin_rate": 4 / 7, "no_show_rate": 2 / 7}
    # The period's rates are the headline's: one definition.
    s = q.activity_summary(store, EVERYTHING, START, END)
    assert (period["approval_rate"], period["checkin_rate"], period["no_show_rate"]) == (
        s.approval_rate, s.checkin_rate, s.no_show_rate)
    scoped = funnel(Scope(districts=(UPTOWN,)), START, END, activity_id=1)
    assert scoped == {"registrations": 3, "approved": 2, "checked_in": 1, "absent": 0,
                      "approval_rate": 2 / 3, "checkin_rate": 1 / 2, "no_show_rate": 0.0}


def test_monthly_by_kind(store):
    df = q.monthly_by_kind(store, EVERYTHING, START, END)
    got = {(r.month, r.kind): (r.activities, r.registrations, r.checked_in) for r in df.itertuples()}
    assert got == {
        ("2025-03", "onsite"): (1, 1, 0),
        ("2025-04", "training"): (1, 6, 2),
        ("2025-05", "lecture"): (1, 3, 2),
        ("2025-06", "training"): (1, 0, 0),
    }


def test_activity_page_sorting_and_paging(store):
    page = q.activity_page(store, EVERYTHING, START, END, sort="registrations", descending=True)
    assert page.total == 4
    assert page.rows["id"].tolist() == [1, 2, 3, 5]
    first = page.rows.iloc[0]
    assert (first.registrations, first.approved, first.checked_in, first.absent) == (6, 4, 2, 1)
    assert first.no_show_rate == pytest.approx(1 / 4)
    assert first.district_zh == "西湖区"
    # No approved registrations: no rate, and such rows sort last both ways.
    by_rate = q.activity_page(store, EVERYTHING, START, END, sort="no_show_rate", descending=True)
    assert by_rate.rows["id"].tolist() == [2, 1, 5, 3]
    by_rate_asc = q.activity_page(store, EVERYTHING, START, END, sort="no_show_rate", descending=False)
    assert by_rate_asc.rows["id"].tolist() == [1, 2, 3, 5]
    second = q.activity_page(store, EVERYTHING, START, END, sort="starts_at", descending=False, offset=2, limit=2)
    assert second.total == 4 and second.rows["id"].tolist() == [2, 5]
    with pytest.raises(ValueError):
        q.activity_page(store, EVERYTHING, START, END, sort="name; drop table person")


def _explorer_count(engine, flt: PersonFilter) -> int:
    with engine.connect() as conn:
        return conn.execute(flt.where(select(func.count()).select_from(person), EVERYTHING, TODAY)).scalar_one()


def test_reach_by_category(store):
    df = q.reach_by(store, EVERYTHING, "category", START, END, TODAY).set_index("code")
    # Check-ins in the period: persons 1, 4 (intellectual), 6 (non-party). Person 3's is a minute
    # early but within 12 months; person 5's is from 2024: dormant. Person 2 never checked in.
    assert df.loc["intellectual", ["persons", "reached", "dormant"]].tolist() == [3, 2, 1]
    assert df.loc["religious", ["persons", "reached", "dormant"]].tolist() == [2, 0, 1]
    assert df.loc["non_party", ["persons", "reached", "dormant"]].tolist() == [1, 1, 0]
    assert df.loc["intellectual", "rate"] == pytest.approx(2 / 3)
    assert df.loc["intellectual", "name_zh"] == "党外知识分子"
    # The explorer link lists exactly the dormant persons counted here.
    for code, row in df.iterrows():
        flt = PersonFilter(active_months=12, active=False, categories=(code,))
        assert _explorer_count(store, flt) == row.dormant


def test_reach_by_district_and_scope(store):
    df = q.reach_by(store, EVERYTHING, "district", START, END, TODAY).set_index("code")
    assert df.loc[WEST, ["persons", "reached", "dormant"]].tolist() == [3, 1, 1]
    assert df.loc[UPTOWN, ["persons", "reached", "dormant"]].tolist() == [3, 2, 1]
    for code, row in df.iterrows():
        assert _explorer_count(store, PersonFilter(active_months=12, active=False, districts=(code,))) == row.dormant
    scoped = q.reach_by(store, Scope(districts=(WEST,)), "district", START, END, TODAY)
    assert scoped["code"].tolist() == [WEST]
    with pytest.raises(ValueError):
        q.reach_by(store, EVERYTHING, "party", START, END, TODAY)


def test_empty_store(engine):
    s = q.activity_summary(engine, EVERYTHING, START, END)
    assert s.activities == 0 and s.registrations == 0
    assert q.monthly_by_kind(engine, EVERYTHING, START, END).empty
    assert q.activity_page(engine, EVERYTHING, START, END).total == 0
    assert q.reach_by(engine, EVERYTHING, "category", START, END, TODAY).empty
