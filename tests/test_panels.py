"""A panel that fails is a quiet gap: the sign-in sheet that broke the big screen, and every page's
panels with their builder made to fail (a placeholder on the kiosk, a short notice elsewhere,
the error in the log, the rest of the page drawn)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

import charts.activities
import charts.audit
import charts.cockpit
import charts.explorer
import charts.health
import charts.lifecycle
from loaders.api import import_file
from loaders.demo import generate_demo
from store import clock
from store.engine import create_store_engine
from store.schema import activity, person
from tests.test_cockpit_page import html_of, open_cockpit

pytestmark = pytest.mark.calendar

MEETING = "社情民意座谈会"


@pytest.fixture
def demo_url(store_url):
    engine = create_store_engine(store_url)
    generate_demo(engine, persons=300, seed=5)
    engine.dispose()
    return store_url


def sign_in_sheet(engine, tmp_path, day) -> None:
    """A sign-in sheet as clerks keep them: no district column, so the activity it creates has none."""
    with engine.connect() as conn:
        name, id_number = conn.execute(
            select(person.c.name, person.c.id_number).where(person.c.id_number.is_not(None)).limit(1)).one()
    path = tmp_path / "签到表.csv"
    path.write_text(f"姓名,身份证号,活动名称,活动日期,状态\n{name},{id_number},{MEETING},{day:%Y-%m-%d},报名\n",
                    encoding="utf-8")
    result = import_file(engine, path, imported_by="clerk")
    assert (result.inserted, result.rejected) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(select(activity.c.district_code).where(activity.c.title == MEETING)).scalar_one() is None


@pytest.mark.parametrize("params", [{"kiosk": "1"}, {}, {"kiosk": "1", "lang": "en"}], ids=["kiosk", "staff", "en"])
def test_a_sign_in_sheet_activity_without_a_district_keeps_the_feed(make_app, demo_url, tmp_path, params):
    engine = create_store_engine(demo_url)
    # Tomorrow: the first of the upcoming activities, so the feed certainly lists it.
    sign_in_sheet(engine, tmp_path, clock.today() + timedelta(days=1))
    engine.dispose()
    at = open_cockpit(make_app, demo_url, **params)  # asserts no exception
    body = html_of(at)
    assert "cockpit-feed" in body and MEETING in body
    assert "panel-placeholder" not in body and not [c for c in at.caption.values if "错误已记录" in c]


def _boom(*args, **kwargs):
    raise AttributeError("'float' object has no attribute 'replace'")


@pytest.fixture(autouse=True)
def fresh_chart_options():
    """The cockpit caches chart options by their arguments: a builder made to fail must be called."""
    from ui.theme import chart_options

    chart_options.clear()
    yield
    chart_options.clear()


# (page, module, builder): one builder per page, made to fail.
BROKEN = [
    ("cockpit", charts.cockpit, "activity_feed_html"),
    ("cockpit", charts.cockpit, "ranked_bar"),
    ("explorer", charts.explorer, "bar_chart"),
    ("explorer", charts.explorer, "stage_timeline"),
    ("activities", charts.activities, "monthly_trend"),
    ("activities", charts.activities, "reach_rate_bars"),
    ("lifecycle", charts.lifecycle, "stage_funnel"),
    ("lifecycle", charts.lifecycle, "term_table"),
    ("data_health", charts.health, "liveness_gauge"),
    ("data_health", charts.health, "batch_table"),
    ("audit", charts.audit, "audit_table"),
]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("page, module, builder", BROKEN, ids=[f"{p}-{b}" for p, _, b in BROKEN])
def test_a_failing_panel_is_a_notice_and_a_log_entry(make_app, demo_url, monkeypatch, caplog, page, module,
                                                     builder, tmp_path):
    monkeypatch.setattr(module, builder, _boom)
    params = {"person": "1"} if builder == "stage_timeline" else {}
    if page == "data_health":  # the batch table needs a batch
        sign_in_sheet(create_store_engine(demo_url), tmp_path, clock.today())
    at = make_app(demo_url, **params)
    at.run()
    with caplog.at_level(logging.ERROR, logger="brain.panels"):
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    notices = [c for c in at.caption.values if "错误已记录" in c]
    assert notices, at.caption.values
    failed = [r for r in caplog.records if r.name == "brain.panels"]
    assert failed and failed[0].exc_info and "replace" in str(failed[0].exc_info[1])
    # The rest of the page is drawn: its title, and more than the failed part.
    assert at.title or html_of(at)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_failing_kiosk_panel_is_a_quiet_gap(make_app, demo_url, monkeypatch, caplog):
    monkeypatch.setattr(charts.cockpit, "education_ring", _boom)
    with caplog.at_level(logging.ERROR, logger="brain.panels"):
        at = open_cockpit(make_app, demo_url, kiosk="1")
    body = html_of(at)
    # No words on a lobby screen: a placeholder in the panel, the other panels drawn.
    assert body.count('class="panel-placeholder"') == 1 and 'data-panel="education"' in body
    assert "cockpit-feed" in body
    assert not [c for c in at.caption.values if "错误已记录" in c]
    assert any(r.name == "brain.panels" and "education" in r.getMessage() for r in caplog.records)
