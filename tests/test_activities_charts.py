"""Activity chart builders on a few inline rows: partial assertions on the figures' inputs."""

from __future__ import annotations

import math

import pandas as pd

from charts import activities as charts

KINDS = {"training": "培训班", "lecture": "网络讲座", "onsite": "现场会"}


def test_monthly_trend_stacks_kinds_and_fills_missing_months():
    df = pd.DataFrame({
        "month": ["2025-03", "2025-04", "2025-04", "2025-05"],
        "kind": ["onsite", "training", "lecture", "lecture"],
        "activities": [1, 2, 1, 1],
        "registrations": [5, 30, 9, 7],
        "checked_in": [4, 20, 8, 3],
    })
    fig = charts.monthly_trend(df, "checked_in", KINDS)
    assert fig.layout.barmode == "stack"
    by_name = {tr.name: (list(tr.x), list(tr.y)) for tr in fig.data}
    # Fixed kind order (training, lecture, onsite), every trace over all months, zeros filled in.
    assert [tr.name for tr in fig.data] == ["培训班", "网络讲座", "现场会"]
    assert by_name["网络讲座"] == (["2025-03", "2025-04", "2025-05"], [0, 8, 3])
    assert by_name["现场会"][1] == [4, 0, 0]


def test_monthly_trend_of_nothing_is_an_empty_figure():
    empty = pd.DataFrame(columns=["month", "kind", "activities", "registrations", "checked_in"])
    assert len(charts.monthly_trend(empty, "activities", KINDS).data) == 0


def test_participation_funnel_and_no_show_note():
    df = pd.DataFrame([{"registrations": 10756, "approved": 9000, "checked_in": 8400, "absent": 100,
                        "approval_rate": 9000 / 10756, "checkin_rate": 8400 / 9000, "no_show_rate": 100 / 9000}])
    texts = charts.FunnelTexts(registered="报名", approved="通过", checked_in="签到", no_show="缺席率 {rate}",
                               layer="{n}（{rate}）")
    fig = charts.participation_funnel(df, texts)
    assert list(fig.data[0].x) == [10756, 9000, 8400]
    assert list(fig.data[0].y) == ["报名", "通过", "签到"]
    # Counts in full (plotly would print "10.756k" beside "8400"); each layer's rate is the
    # headline's: approved of registered, checked in of approved (not of registered).
    assert fig.data[0].textinfo == "text"
    assert list(fig.data[0].text) == ["10,756", "9,000（83.7%）", "8,400（93.3%）"]
    assert fig.layout.annotations[0].text == "缺席率 1.1%"
    none_approved = pd.DataFrame([{"registrations": 3, "approved": 0, "checked_in": 0, "absent": 0,
                                   "approval_rate": 0.0, "checkin_rate": None, "no_show_rate": None}])
    fig = charts.participation_funnel(none_approved, texts)
    assert fig.layout.annotations[0].text == "缺席率 —" and fig.data[0].text[2] == "0（—）"


REACH = pd.DataFrame({
    "code": ["330106", "330102", None],
    "name_zh": ["西湖区", "上城区", None],
    "name_en": ["Xihu", "Shangcheng", None],
    "persons": [4, 0, 2],
    "reached": [3, 0, 1],
    "dormant": [1, 0, 1],
    "rate": [0.75, math.nan, 0.5],
})


def test_reach_rate_bars_names_by_language_and_no_rate_as_zero():
    fig = charts.reach_rate_bars(REACH, charts.BarTexts(lang="en", missing="n/a"))
    bar = fig.data[0]
    assert list(bar.y) == ["Xihu", "Shangcheng", "n/a"]
    assert list(bar.x) == [0.75, 0.0, 0.5]
    assert list(bar.text) == ["75%", "0%", "50%"]
    assert fig.layout.xaxis.tickformat == ".0%"


def test_dormant_bars():
    fig = charts.dormant_bars(REACH, charts.BarTexts(lang="zh", missing="未填"))
    assert list(fig.data[0].y) == ["西湖区", "上城区", "未填"]
    assert list(fig.data[0].x) == [1, 0, 1]


def test_activity_table_translates_kinds_and_headers():
    rows = pd.DataFrame([{
        "id": 1, "title": "培训一期", "kind": "training", "starts_at": pd.Timestamp("2025-04-10 09:00"),
        "district_code": "330106", "district_zh": "西湖区", "district_en": "Xihu", "online": 0,
        "registrations": 6, "approved": 4, "rejected": 1, "checked_in": 2, "absent": 1, "no_show_rate": 0.25,
    }])
    headers = {c: c.upper() for c in charts.ACTIVITY_TABLE_COLUMNS}
    table = charts.activity_table(rows, KINDS, headers, lang="en")
    assert list(table.columns) == [c.upper() for c in charts.ACTIVITY_TABLE_COLUMNS]
    first = table.iloc[0]
    assert (first.KIND, first.DISTRICT, bool(first.ONLINE), first.NO_SHOW_RATE) == ("培训班", "Xihu", False, 0.25)
    assert "ID" not in table.columns
