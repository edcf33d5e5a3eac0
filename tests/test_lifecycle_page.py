"""The lifecycle page under AppTest: a demo store, an empty store, a store without history, roles."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import numpy as np
import pytest

from store import clock
from store import accounts
from store.engine import create_store_engine
from store.queries import lifecycle as q
from store.schema import person
from store.scope import EVERYTHING
from store.settings import get_setting

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar

PAGE = "pages/lifecycle.py"
SECTIONS = ["全流程漏斗", "各阶段停留时间（中位数）", "按发现年份的批次", "人员来源与转化", "可推荐使用的人员", "任期提醒"]


@pytest.fixture(scope="module")
def demo_url(demo_sqlite):
    return demo_sqlite(2000, 5)


@pytest.fixture
def demo_engine(demo_url):
    engine = create_store_engine(demo_url)
    yield engine
    engine.dispose()


def open_page(at):
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def decode(values):
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_renders_on_demo_store(make_app, demo_url, demo_engine):
    at = open_page(make_app(demo_url))
    assert [s.value for s in at.subheader] == SECTIONS
    funnel = q.lifecycle_funnel(demo_engine, EVERYTHING)
    spec = next(json.loads(el.proto.spec) for el in at.get("plotly_chart")
                if json.loads(el.proto.spec)["data"][0]["type"] == "funnel")
    assert decode(spec["data"][0]["x"]) == funnel.table["in_order"].tolist()
    assert decode(spec["data"][1]["x"]) == funnel.table["any_stage"].tolist()
    n = get_setting("promote_min_checkins")
    total = q.promote_candidates(demo_engine, EVERYTHING, clock.today(), n).total
    assert f"至少 {n} 次" in captions(at) and f"共 {total:,} 人" in captions(at)
    names = set(at.dataframe[-2].value["姓名"]) if total else set()
    assert "身份证号" not in " ".join(df.value.columns.astype(str).str.cat() for df in at.dataframe)
    assert len(names) == min(total, 20)


def test_term_list_switches_kind(make_app, demo_url, demo_engine):
    at = open_page(make_app(demo_url))
    at.button_group(key="lc_term_kind").set_value("soon").run()
    assert not at.exception
    soon = q.term_watch_page(demo_engine, EVERYTHING, clock.today(), "soon", 0, 20)
    assert len(at.dataframe[-1].value) == len(soon.rows)
    assert at.dataframe[-1].value["剩余天数"].tolist() == soon.rows["days_left"].tolist()


def test_english(make_app, demo_url):
    at = open_page(make_app(demo_url, lang="en"))
    assert [s.value for s in at.subheader][0] == "Lifecycle funnel"


@pytest.mark.parametrize("role, sees_list", [("leader", False), ("staff", True)])
def test_candidate_list_only_for_staff(make_app, demo_url, demo_engine, monkeypatch, role, sees_list):
    accounts.create_account(demo_engine, f"lc_{role}", "a-long-password", role)
    at = make_app(demo_url)
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at.run()
    at.text_input[0].input(f"lc_{role}")
    at.text_input[1].input("a-long-password")
    at.button[0].click().run()
    open_page(at)
    hidden = any("您的角色不显示" in i.value for i in at.info)
    assert hidden is not sees_list
    has_names = any("姓名" in df.value.columns for df in at.dataframe)
    assert has_names is sees_list


def test_empty_store_is_a_message(make_app, sqlite_engine):
    at = open_page(make_app(sqlite_engine.url.render_as_string(hide_password=False)))
    assert any("还没有人员数据" in i.value for i in at.info)


def test_persons_without_history(make_app, sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(person.insert().values(name="甲", category_code="other", source="自荐",
                                            created_at=datetime(2020, 1, 1), updated_at=datetime(2020, 1, 1)))
    at = open_page(make_app(sqlite_engine.url.render_as_string(hide_password=False)))
    infos = " ".join(i.value for i in at.info)
    assert "还没有阶段记录" in infos and "没有需要提醒的任期" in infos and "暂无符合条件" in infos


def test_candidate_pages(make_app, demo_url, demo_engine):
    n = get_setting("promote_min_checkins")
    second = q.promote_candidates(demo_engine, EVERYTHING, clock.today(), n, 20, 20)
    assert second.total > 20, "the demo should give the candidate list a second page"
    at = open_page(make_app(demo_url))
    at.number_input(key="lc_cand_page").set_value(2).run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "近12个月签到" in df.value.columns)
    assert table["姓名"].tolist() == second.rows["name"].tolist()
