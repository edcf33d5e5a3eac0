"""Where enterprise risks show: lifecycle candidates and term watch, the explorer's filter and column."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert

from charts import lifecycle as charts
from store import changes as ch
from store import clock
from store import enterprises as ent
from store.filters import PersonFilter
from store.queries import explorer
from store.queries import lifecycle as q
from store.schema import activity, participation
from store.scope import EVERYTHING, Scope
from ui.filters import filter_from_widgets, widget_state

# Reads the project's clock: tests/test_calendar.py runs it again at every day of conftest.DATES.
pytestmark = pytest.mark.calendar

CODE = "91350100M000100Y43"
WEST, UPTOWN = "330106", "330102"


def cultivated_with_checkins(engine, name: str, district: str = WEST, checkins: int = 3) -> int:
    today = clock.today()
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        pid = cs.add_person(dict(name=name, category_code="private_economy", district_code=district,
                                 stage="cultivate", organization="杭州甲科技有限公司"))
    with engine.begin() as conn:
        for i in range(checkins):
            at = dt.datetime.combine(today - dt.timedelta(days=30 * (i + 1)), dt.time(9))
            aid = conn.execute(insert(activity).values(title=f"{name}的活动{i}", kind="training", starts_at=at,
                                                       online=False).returning(activity.c.id)).scalar_one()
            conn.execute(insert(participation).values(activity_id=aid, person_id=pid, status="checked_in",
                                                      registered_at=at, checked_in_at=at))
    return pid


def dishonest(engine, pid: int, *, method: str = "credit_code", confirmed: bool = False) -> int:
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid, _ = ent.save_enterprise(cs, dict(credit_code=CODE, name="杭州甲科技有限公司"))
        ent.save_risk(cs, eid, dict(kind="dishonest", case_number="(2025)浙0106执1号", authority="西湖区人民法院",
                                    published_on=dt.date(2025, 6, 1), performance="全部未履行"))
        lid, _ = ent.link_person(cs, pid, eid, "legal_representative", method=method,
                                 confidence=1.0 if method != "name" else 0.9, confirmed=confirmed)
    return lid


def candidates(engine) -> pd.DataFrame:
    return q.promote_candidates(engine, EVERYTHING, clock.today(), min_checkins=3).rows


def test_a_cultivated_person_with_a_dishonest_record_is_a_candidate_with_the_warning(engine):
    risky = cultivated_with_checkins(engine, "王老板")
    clean = cultivated_with_checkins(engine, "李经理")
    dishonest(engine, risky)
    rows = candidates(engine).set_index("id")
    assert rows.loc[risky, "risks"] == 1 and rows.loc[clean, "risks"] == 0
    shown = charts.candidate_table(candidates(engine), {c: c for c in charts.CANDIDATE_TABLE_COLUMNS})
    assert marks(shown) == {"王老板": "risks: 1", "李经理": None}


def marks(shown: pd.DataFrame) -> dict:
    # A text column shows a gap as NaN (pandas 3): no warning.
    return {n: (r if isinstance(r, str) else None) for n, r in zip(shown["name"], shown["risks"])}


def test_without_the_record_there_is_no_warning(engine):
    pid = cultivated_with_checkins(engine, "王老板")
    rows = candidates(engine)
    assert rows["id"].tolist() == [pid] and rows["risks"].tolist() == [0]


def test_an_unconfirmed_name_match_warns_only_once_confirmed(engine):
    pid = cultivated_with_checkins(engine, "王老板")
    link = dishonest(engine, pid, method="name")
    assert candidates(engine)["risks"].tolist() == [0]
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        ent.confirm_link(cs, link)
    assert candidates(engine)["risks"].tolist() == [1]


def test_term_watch_carries_the_warning(engine):
    today = clock.today()
    pid = cultivated_with_checkins(engine, "王老板", checkins=0)
    other = cultivated_with_checkins(engine, "李经理", checkins=0)
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        for who in (pid, other):
            cs.insert("appointment", dict(person_id=who, body="cppcc", title="委员", term_start=dt.date(2022, 1, 1),
                                          term_end=today + dt.timedelta(days=30)))
    dishonest(engine, pid)
    page = q.term_watch_page(engine, EVERYTHING, today, "soon")
    assert dict(zip(page.rows["name"], page.rows["risks"])) == {"王老板": 1, "李经理": 0}
    shown = charts.term_table(page.rows, {}, {c: c for c in charts.TERM_TABLE_COLUMNS})
    assert marks(shown) == {"王老板": "risks: 1", "李经理": None}


def test_the_explorer_filter_column_and_scope_agree(engine):
    risky = cultivated_with_checkins(engine, "王老板", checkins=0)
    clean = cultivated_with_checkins(engine, "李经理", checkins=0)
    east = cultivated_with_checkins(engine, "赵董", district=UPTOWN, checkins=0)
    dishonest(engine, risky)
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid = ent.enterprise_id_for(cs, CODE)
        ent.link_person(cs, east, eid, "shareholder", method="staff")

    def ids(flt, scope=EVERYTHING):
        return sorted(explorer.person_page(engine, scope, flt, page_size=50)["id"])

    assert ids(PersonFilter(has_risk=True)) == sorted([risky, east])
    assert ids(PersonFilter(has_risk=False)) == [clean]
    assert ids(PersonFilter(has_risk=True), Scope(districts=(WEST,))) == [risky]
    assert explorer.headcount(engine, EVERYTHING, PersonFilter(has_risk=True)).matched == 2
    page = explorer.person_page(engine, EVERYTHING, PersonFilter(), page_size=50).set_index("id")
    assert page.loc[[risky, clean, east], "risks"].tolist() == [1, 0, 1]


@pytest.mark.parametrize("value, text", [(True, "1"), (False, "0"), (None, None)])
def test_the_filter_travels_in_urls_and_widgets(value, text):
    flt = PersonFilter(has_risk=value)
    params = flt.to_query_params()
    assert params.get("has_risk") == text
    assert PersonFilter.from_query_params(params) == flt
    assert filter_from_widgets(widget_state(flt)) == flt


def test_a_bad_url_value_is_ignored():
    flt, ignored = PersonFilter.parse_query_params({"has_risk": "maybe"})
    assert flt.has_risk is None and ignored == ("has_risk",)


def test_risk_warnings_survive_missing_values():
    rows = pd.DataFrame({"risks": [None, float("nan"), 0, 2]})
    assert charts.risk_warnings(rows) == [None, None, None, "risks: 2"]
    assert charts.risk_warnings(pd.DataFrame({"x": [1]})) == [None]
