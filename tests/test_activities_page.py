"""The activities page under AppTest: a demo store, an empty store, period and sort widgets, roles."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from urllib.parse import parse_qs

import numpy as np
import pytest
from sqlalchemy import func, select

from store import clock
from store import accounts
from store.engine import create_store_engine
from store.filters import PersonFilter
from store.queries import activities as q
from store.schema import person
from store.scope import EVERYTHING

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar

PAGE = "pages/activities.py"


@pytest.fixture(scope="module")
def demo_url(demo_sqlite):
    return demo_sqlite(2000, 11)


@pytest.fixture
def demo_engine(demo_url):
    engine = create_store_engine(demo_url)
    yield engine
    engine.dispose()


def open_page(make_app, url, **params):
    at = make_app(url, **params)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def plotly_specs(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def decode(values):
    """plotly 7 writes numbers as base64 typed arrays."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def expected_metrics(engine, choice, start=None, end=None) -> dict[str, str]:
    s = q.activity_summary(engine, EVERYTHING, *q.period_bounds(choice, clock.today(), start, end))
    rate = lambda r: "—" if r is None else f"{r:.1%}"  # noqa: E731
    return {"活动场次": f"{s.activities:,}", "报名人次": f"{s.registrations:,}", "审核通过率": rate(s.approval_rate),
            "签到率": rate(s.checkin_rate), "缺席率": rate(s.no_show_rate)}


def test_renders_on_demo_store(make_app, demo_url, demo_engine):
    at = open_page(make_app, demo_url)
    assert metrics(at) == expected_metrics(demo_engine, "90d")
    assert [s.value for s in at.subheader] == [
        "月度趋势（按活动类型）", "活动列表", "报名 → 审核 → 签到", "参与率", "12个月未联系到的人员"]
    assert len(at.get("plotly_chart")) == 6
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) > 0


def test_dormant_link_opens_the_explorer_on_exactly_those_persons(make_app, demo_url, demo_engine):
    at = open_page(make_app, demo_url)
    link = at.get("page_link")[0].proto
    assert link.page == "explorer"
    flt = PersonFilter.from_query_params(parse_qs(link.query_string))
    assert flt == PersonFilter(active_months=12, active=False)
    pick = at.selectbox(key="act_dormant_group")
    category_key = next(o for o in pick.options if "党外知识分子" in o)
    pick.select(category_key).run()
    flt = PersonFilter.from_query_params(parse_qs(at.get("page_link")[0].proto.query_string))
    assert flt == PersonFilter(active_months=12, active=False, categories=("intellectual",))
    with demo_engine.connect() as conn:
        n = conn.execute(flt.where(select(func.count()).select_from(person), EVERYTHING)).scalar_one()
    assert f"（{n:,} 人）" in at.get("page_link")[0].proto.label


def test_period_choices(make_app, demo_url, demo_engine):
    at = open_page(make_app, demo_url)
    at.button_group(key="act_period").set_value("12m").run()
    assert metrics(at) == expected_metrics(demo_engine, "12m")
    at.button_group(key="act_period").set_value("custom").run()
    start, end = date(clock.today().year - 1, 3, 1), date(clock.today().year - 1, 5, 31)
    at.date_input(key="act_range").set_value((start, end)).run()
    assert not at.exception
    assert metrics(at) == expected_metrics(demo_engine, "custom", start, end)
    # Half a range (the user has picked the first day only): a hint, no traceback.
    at.date_input(key="act_range").set_value((start,)).run()
    assert not at.exception
    assert any("结束日期" in i.value for i in at.info)


def test_sorting_and_one_activity_funnel(make_app, demo_url, demo_engine):
    at = open_page(make_app, demo_url)
    at.selectbox(key="act_sort").select("registrations").run()
    table = at.dataframe[0].value
    assert table["报名"].tolist() == sorted(table["报名"].tolist(), reverse=True)
    top = q.activity_page(demo_engine, EVERYTHING, *q.period_bounds("90d", clock.today()),
                          "registrations", True, 0, 1).rows.iloc[0]
    assert table["报名"].iloc[0] == top.registrations
    at.selectbox(key="act_funnel_pick").set_value(int(top.id)).run()
    assert not at.exception
    funnel = next(s for s in plotly_specs(at) if s["data"][0]["type"] == "funnel")
    assert decode(funnel["data"][0]["x"]) == [top.registrations, top.approved, top.checked_in]


def test_english(make_app, demo_url):
    at = open_page(make_app, demo_url, lang="en")
    assert list(metrics(at)) == ["Activities", "Registrations", "Approval rate", "Check-in rate", "No-show rate"]
    assert "Monthly trend by kind" in [s.value for s in at.subheader]


def test_empty_store_is_a_message(make_app, sqlite_engine):
    at = open_page(make_app, sqlite_engine.url.render_as_string(hide_password=False))
    assert any("还没有人员数据" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_period_without_activities(make_app, sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(person.insert().values(name="甲", category_code="other", created_at=datetime(2020, 1, 1),
                                            updated_at=datetime(2020, 1, 1)))
    at = open_page(make_app, sqlite_engine.url.render_as_string(hide_password=False))
    assert metrics(at)["活动场次"] == "0" and metrics(at)["缺席率"] == "—"
    assert any("没有活动" in i.value for i in at.info)


def test_leader_gets_no_explorer_link(signed_in_app, demo_url, demo_engine):
    accounts.create_account(demo_engine, "leader_act", "a-long-password", "leader")
    at = signed_in_app(demo_url, "leader_act", "a-long-password")
    at.switch_page(PAGE).run()
    assert not at.exception
    assert metrics(at)  # the numbers are there
    assert not at.get("page_link")  # leaders cannot open the explorer, so no link to it


def test_second_page_of_the_list(make_app, demo_url, demo_engine):
    # Twelve months hold ~70 of the demo's activities on any day; 90 days hold 15-30, by chance.
    bounds = q.period_bounds("12m", clock.today())
    expected = q.activity_page(demo_engine, EVERYTHING, *bounds, "starts_at", True, 20, 20)
    assert expected.total > 40, "the demo should give the 12-month list a second page"
    at = open_page(make_app, demo_url)
    at.segmented_control(key="act_period").set_value("12m").run()
    at.number_input(key="act_page").set_value(2).run()
    assert not at.exception
    assert at.dataframe[0].value["活动名称"].tolist() == expected.rows["title"].tolist()
    assert "第 2/" in " ".join(c.value for c in at.caption)
