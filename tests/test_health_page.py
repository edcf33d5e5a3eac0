"""The data-health page under AppTest: empty store, a small demo store, roles, English."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert

from store import clock
from store import accounts
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.schema import import_batch, person

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar

PAGE = "pages/data_health.py"


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [str(x.value) for x in at.title]
    parts += [x.value for x in at.info] + [x.value for x in at.subheader] + [m.label for m in at.metric]
    return " ".join(parts)


def page_links(at) -> list:
    return at.get("page_link")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """A 2,000-person demo store plus one planted duplicate pair and one import batch (built once)."""
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('health') / 'demo.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=2000, seed=7)
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(person), [
            dict(name="重复测试人", birth_date=date(1966, 6, 6), category_code="other", district_code="330106",
                 created_at=now, updated_at=now) for _ in range(2)
        ])
        conn.execute(insert(import_batch), dict(file_name="名单.xlsx", sha256="0" * 64, imported_at=now,
                                                imported_by="staff1", rows_read=10, inserted=7, rejected=3,
                                                status="done"))
    engine.dispose()
    return url


def open_page(at):
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_empty_store(sqlite_engine, make_app):
    at = open_page(make_app(sqlite_engine.url.render_as_string(hide_password=False)))
    body = texts(at)
    assert "数据健康" in body and "还没有人员数据" in body and "还没有导入记录" in body


def test_demo_store(demo_url, make_app):
    at = open_page(make_app(demo_url))
    body = texts(at)
    for heading in ("数据活力指数", "更新及时性", "字段完整度", "疑似重复", "最近导入批次"):
        assert heading in body
    assert "12 个月内更新" in body and "40 分" in body
    # gauge, freshness bars, completeness heatmap
    assert len(at.get("plotly_chart")) == 3
    labels = [link.proto.label for link in page_links(at)]
    assert any(label.startswith("重复测试人 · 1966-06-06 · 2") for label in labels)
    assert len(at.dataframe) == 1 and at.dataframe[0].value.iloc[0, 0] == "名单.xlsx"


def test_demo_store_in_english_and_other_grouping(demo_url, make_app):
    at = open_page(make_app(demo_url, lang="en"))
    assert "Liveness score" in texts(at)
    at.segmented_control(key="health_fresh_by").set_value("updated_via").run()
    assert not at.exception
    at.segmented_control(key="health_fresh_by").set_value("district").run()
    assert not at.exception


def test_leader_sees_aggregates_but_no_names(demo_url, make_app, monkeypatch):
    engine = create_store_engine(demo_url)
    if accounts.get_account(engine, "boss") is None:
        accounts.create_account(engine, "boss", "a-long-password", "leader")
    engine.dispose()
    at = make_app(demo_url)
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at.run()
    at.text_input[0].input("boss")
    at.text_input[1].input("a-long-password")
    at.button[0].click().run()
    open_page(at)
    body = texts(at)
    assert "数据活力指数" in body and "仅对工作人员和管理员显示" in body
    assert not [link for link in page_links(at) if "重复测试人" in link.proto.label]


def test_names_in_the_duplicate_lists_stay_literal(sqlite_engine, make_app):
    """A stored name is the importer's text: shown as written in the link labels, never as markdown."""
    from ui.markdown import escape_markdown

    name, other = "[点我](http://evil.example/)", "![p](http://127.0.0.1:9/p.png)"
    now = clock.now()
    with sqlite_engine.begin() as conn:
        conn.execute(insert(person), [dict(name=n, birth_date=date(1966, 6, 6), phone="13812345678",
                                           category_code="other", created_at=now, updated_at=now)
                                      for n in (name, name, other)])
    at = open_page(make_app(sqlite_engine.url.render_as_string(hide_password=False)))
    labels = [link.proto.label for link in page_links(at)]
    assert not [s for s in labels if name in s or other in s]
    assert any(s.startswith(escape_markdown(name) + " · 1966-06-06") for s in labels)  # same name and birth date
    assert {escape_markdown(name), escape_markdown(other)} <= set(labels)  # same mobile, two names


def test_a_suspected_duplicate_opens_side_by_side_on_the_merge(sqlite_engine, make_app):
    """Staff go from a group of the same name and birth date to the people page's merge of its two."""
    now = clock.now()
    with sqlite_engine.begin() as conn:
        conn.execute(insert(person), [dict(name="周文博", birth_date=date(1975, 3, 3), category_code="other",
                                           district_code="330106", created_at=now, updated_at=now) for _ in range(2)])
        ids = sorted(conn.execute(person.select().with_only_columns(person.c.id)).scalars())
    at = open_page(make_app(sqlite_engine.url.render_as_string(hide_password=False)))
    merges = [link for link in page_links(at) if link.proto.label == "并排比较、合并"]
    assert len(merges) == 1
    assert merges[0].proto.page.endswith("people") or "people" in merges[0].proto.page
    assert f"person={ids[0]}" in merges[0].proto.query_string and f"merge={ids[1]}" in merges[0].proto.query_string
