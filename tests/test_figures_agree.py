"""Pages that show the same figure agree, under one name (README, "Figures").

The cockpit, the explorer, the activities page and the data-health page are opened
on one demo store (with an activity later this year and one earlier today, so an
upcoming activity would make the counts differ), and each figure they share is read
off the screen and compared.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import insert

from charts.cockpit import format_count
from store import clock
from store.schema import activity
from store.settings import get_setting
from tests.test_activities_page import decode
from tests.test_cockpit_page import echarts_options, html_of

pytestmark = pytest.mark.calendar


@pytest.fixture
def store_with_upcoming(store_url):
    from loaders.demo import generate_demo
    from store.engine import create_store_engine

    engine = create_store_engine(store_url)
    generate_demo(engine, persons=600, seed=13)
    today = clock.today()
    rows = [dict(title="今天上午的座谈会", kind="other", starts_at=datetime.combine(today, time(9)), online=False)]
    if (today + timedelta(days=1)).year == today.year:  # on 31 December no day of the year is still ahead
        rows.append(dict(title="明天的培训班", kind="training", starts_at=datetime.combine(today + timedelta(days=1),
                                                                                     time(9)), online=False))
    with engine.begin() as conn:
        conn.execute(insert(activity), rows)
    engine.dispose()
    return store_url


def kpis(at) -> dict[str, tuple[str, str]]:
    """The cockpit's number cards: key -> (label, value)."""
    found = re.findall(r'data-kpi="(\w+)"><div class="label">([^<]*)</div><div class="value">([^<]*)</div>',
                       html_of(at))
    return {key: (html.unescape(label), html.unescape(value)) for key, label, value in found}


def kpi_notes(at) -> dict[str, str]:
    found = re.findall(r'data-kpi="(\w+)">.*?<div class="note">([^<]*)</div>', html_of(at))
    return {key: html.unescape(note) for key, note in found}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def funnel_text(at) -> list[str]:
    for el in at.get("plotly_chart"):
        for trace in json.loads(el.proto.spec)["data"]:
            if trace.get("type") == "funnel":
                return list(trace["text"])
    raise AssertionError("no funnel on the page")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_pages_showing_the_same_figure_agree(open_page, store_with_upcoming):
    url = store_with_upcoming
    at_cockpit = open_page(url, "cockpit")
    cockpit = kpis(at_cockpit)

    explorer = metrics(open_page(url, "explorer"))
    assert cockpit["persons"][1] == explorer["全部人员"]

    at = open_page(url, "activities")
    at.button_group(key="act_period").set_value("ytd").run()
    assert not at.exception, at.exception
    activities = metrics(at)
    # The cockpit shows a small count as "<5" (on 1 January the year has held one activity).
    held = int(activities["活动场次"].replace(",", ""))
    assert cockpit["activities"] == ("今年已办活动", format_count(held, get_setting("privacy_threshold")))
    # One screen, one check-in rate (and one approval rate): the funnel's layers show the headline's.
    registered, approved, checked_in = funnel_text(at)
    assert approved.endswith(f"（{activities['审核通过率']}）") and checked_in.endswith(f"（{activities['签到率']}）")
    assert "k" not in registered + approved + checked_in

    health = metrics(open_page(url, "data_health"))
    label, value = cockpit["fresh"]
    assert label == "12个月内更新率" and health[label] == value == health["12 个月内更新"]
    # The composite score keeps a name of its own.
    assert "数据活力指数" not in cockpit and all("鲜活" not in lbl for lbl, _ in cockpit.values())

    # The representatives' responses: the same three figures under the same names (the cockpit
    # withholds a small count for everyone, the data-health page only for leaders).
    at = open_page(url, "data_health")
    health, captions = metrics(at), {c.value for c in at.caption}
    threshold = get_setting("privacy_threshold")
    assert cockpit["reps_responded"] == ("12个月内信息确认率", health["12个月内信息确认率"])
    assert cockpit["reps_responded"][1].endswith("%")
    for key, label in (("reps_open", "待审核更正"), ("reps_suggestions", "今年收到建议")):
        assert cockpit[key] == (label, format_count(int(health[label].replace(",", "")), threshold)), key
    # ... and the same notes, where the cockpit shows one whole.
    notes = {k: n for k, n in kpi_notes(at_cockpit).items()
             if k.startswith("reps_") and n and "<" not in n and "*" not in n}
    assert "reps_responded" in notes and set(notes.values()) <= captions, (notes, captions)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_monthly_chart_ends_at_the_last_whole_month(open_page, store_with_upcoming):
    at = open_page(store_with_upcoming, "cockpit", kiosk="1")
    today = clock.today()
    last_whole = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    lines = [o["options"] for o in echarts_options(at) if o["options"]["series"][0]["type"] == "line"]
    assert len(lines) == 1
    months = lines[0]["xAxis"][0]["data"]
    assert len(months) == 24 and months[-1] == last_whole
    assert "近24个月活动参与（不含本月）" in html_of(at)


def test_partial_months_of_a_period_say_so():
    from datetime import date

    import pandas as pd

    from charts.activities import PartialMonthTexts, monthly_trend

    df = pd.DataFrame({"month": ["2026-09", "2026-10", "2026-11", "2026-12"], "kind": ["training"] * 4,
                       "checked_in": [30, 80, 75, 9]})
    texts = PartialMonthTexts(starts="{month}（{day}日起）", ends="{month}（截至{day}日）")
    fig = monthly_trend(df, "checked_in", {}, period=(date(2026, 9, 7), date(2026, 12, 5)), partial=texts)
    assert list(fig.layout.xaxis.ticktext) == ["2026-09（7日起）", "2026-10", "2026-11", "2026-12（截至5日）"]
    assert decode(fig.data[0].y) == [30, 80, 75, 9]
    # Whole months are labelled as they are.
    fig = monthly_trend(df, "checked_in", {}, period=(date(2026, 9, 1), date(2026, 12, 31)), partial=texts)
    assert list(fig.layout.xaxis.ticktext) == ["2026-09", "2026-10", "2026-11", "2026-12"]
