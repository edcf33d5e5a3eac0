"""Cockpit chart builders on a few inline rows: partial assertions on the ECharts options."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

from charts import cockpit as c
from charts.echarts_theme import THEME, Style, options_of
from store.queries.cockpit import Headline


@pytest.mark.parametrize("n,threshold,expected", [
    (0, 5, None), (4, 5, None), (5, 5, 5), (1234, 5, 1234), (None, 5, None), (float("nan"), 5, None),
    (9, 10, None), (10, 10, 10),
])
def test_suppress(n, threshold, expected):
    assert c.suppress(n, threshold) == expected


def test_format_count_and_share():
    assert c.format_count(12345) == "12,345" and c.format_count(3) == "<5" and c.format_count(7, 10) == "<10"
    assert c.format_share(50, 200) == "25.0%"
    # A share of a suppressed count would give the count away.
    assert c.format_share(3, 200) == "—" and c.format_share(4, 4) == "—"


def test_options_are_plain_json():
    chart = c.ranked_bar(pd.DataFrame({"label": ["a"], "n": [10]}))
    assert options_of(chart) == json.loads(chart.dump_options())
    json.dumps(THEME)


def test_headline_cards_suppress_and_share():
    h = Headline(persons=200, new_this_year=3, active_90d=50, activities_this_year=12, checkins_this_year=0,
                 fresh_12m=150, last_change=None)
    labels = {k: k for k in ("persons", "new", "active", "activities", "checkins", "fresh")}
    labels |= {"share_of": "share {share}", "fresh_note": "n {n}"}
    cards = {card.key: card for card in c.headline_cards(h, labels)}
    assert cards["persons"].value == "200"
    assert cards["new"].value == "<5" and cards["checkins"].value == "<5"
    assert cards["active"].note == "share 25.0%"
    assert cards["fresh"].value == "75.0%" and cards["fresh"].note == "n 150"


def test_ranked_bar_sorts_suppresses_and_labels_counts():
    df = pd.DataFrame({"label": ["甲", "乙", "丙"], "n": [100, 3, 1500]})
    o = options_of(c.ranked_bar(df))
    assert o["yAxis"][0]["data"] == ["丙", "甲", "乙"]
    assert o["series"][0]["data"] == [1500, 100, None]
    assert o["yAxis"][1]["data"] == ["1,500", "100", "<5"]
    assert 3 not in o["series"][0]["data"]


def test_ranked_bar_scales_fonts_and_limits_rows():
    df = pd.DataFrame({"label": list("abcd"), "n": [40, 30, 20, 10]})
    o = options_of(c.ranked_bar(df, style=Style(scale=2), max_rows=2))
    assert o["yAxis"][0]["data"] == ["a", "b"]
    assert o["yAxis"][0]["axisLabel"]["fontSize"] == 26


def test_district_map_matches_by_code_and_suppresses():
    df = pd.DataFrame({"code": ["330102", "330106"], "label": ["上城区", "西湖区"], "n": [120, 2]})
    names = {"330102": "上城", "330106": "西湖", "330182": "建德市"}
    o = options_of(c.district_map(df, names, unit=" 人"))
    series = o["series"][0]
    assert series["map"] == "area" and series["nameProperty"] == "code"
    # The store's names win; a district of the map that the store lacks keeps the map's name.
    assert series["nameMap"] == {"330102": "上城区", "330106": "西湖区", "330182": "建德市"}
    items = {i["name"]: i for i in series["data"]}
    assert items["上城区"]["value"] == 120 and items["上城区"]["label"]["formatter"] == "上城区\n120"
    assert items["西湖区"].get("value") is None
    assert items["西湖区"]["label"]["formatter"] == "西湖区\n<5"
    assert items["西湖区"]["tooltip"]["formatter"] == "西湖区：<5 人"
    assert o["visualMap"]["max"] == 120 and o["visualMap"]["min"] == 5


def test_district_map_leaves_districts_outside_the_scope_without_a_value():
    # A scoped viewer: 西湖区 is theirs and holds 2 (a small count), 上城区 holds 0 of theirs
    # because it is not theirs at all; 余杭区 is theirs and large.
    df = pd.DataFrame({"code": ["330106", "330102", "330110"], "label": ["西湖区", "上城区", "余杭区"],
                       "n": [2, 0, 40], "in_scope": [True, False, True]})
    names = {"330106": "西湖", "330102": "上城", "330110": "余杭", "330182": "建德市"}
    o = options_of(c.district_map(df, names, unit=" 人"))
    items = {i["name"]: i for i in o["series"][0]["data"]}
    # The small count of the viewer's own district keeps its "<5" ...
    assert items["西湖区"]["label"]["formatter"] == "西湖区\n<5"
    assert items["西湖区"]["tooltip"]["formatter"] == "西湖区：<5 人"
    assert items["余杭区"]["value"] == 40
    # ... the district outside the scope, and one the store does not know, carry nothing.
    for name in ("上城区", "建德市"):
        outside = items[name]
        assert outside.get("value") is None
        assert outside["label"]["formatter"] == name and outside["tooltip"]["formatter"] == name
        assert "<" not in json.dumps(outside, ensure_ascii=False)
        # Drawn apart from an in-scope district whose count is suppressed.
        assert outside["itemStyle"]["areaColor"] == c.OUTSIDE_SCOPE
    assert "itemStyle" not in items["西湖区"]
    assert o["visualMap"]["max"] == 40


def test_area_names_from_geojson():
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "330102", "name": "上城区"}, "geometry": None},
        {"type": "Feature", "properties": {"name": "无编码"}, "geometry": None},
    ]}
    assert c.area_names(geo) == {"330102": "上城区"}


def test_funnel_counts_everyone_who_reached_a_stage():
    df = pd.DataFrame({"stage": ["discover", "cultivate", "use", "manage"], "n": [50, 30, 17, 3]})
    names = {"discover": "发现", "cultivate": "培养", "use": "使用", "manage": "管理"}
    o = options_of(c.funnel_chart(df, names, conversion_label="转化"))
    data = o["series"][0]["data"]
    assert [d["name"] for d in data] == ["发现", "培养", "使用", "管理"]
    # Reached: 100, 50, 20, 3 -> conversions 50.0%, 40.0%; the last is suppressed.
    assert [d.get("value") for d in data] == [100, 50, 20, None]
    assert data[1]["label"]["formatter"] == "培养  50  转化 50.0%"
    assert data[3]["label"]["formatter"] == "管理  <5"
    assert o["series"][0]["sort"] == "none" and o["series"][0]["max"] == 100


def test_funnel_scale_does_not_leak_a_suppressed_total():
    df = pd.DataFrame({"stage": ["discover", "cultivate", "use", "manage"], "n": [2, 1, 0, 0]})
    o = options_of(c.funnel_chart(df, {}, conversion_label="x"))
    assert o["series"][0]["max"] == 5
    assert all(d.get("value") is None for d in o["series"][0]["data"])


def test_monthly_lines_gaps_for_suppressed_months():
    df = pd.DataFrame({"month": ["2025-01", "2025-02"], "registrations": [10, 2], "checkins": [0, 8]})
    o = options_of(c.monthly_lines(df, registrations_name="报名", checkins_name="签到"))
    assert o["xAxis"][0]["data"] == ["2025-01", "2025-02"]
    assert [s["name"] for s in o["series"]] == ["报名", "签到"]
    assert [p[1] for p in o["series"][0]["data"]] == [10, None]
    assert [p[1] for p in o["series"][1]["data"]] == [None, 8]


def test_age_gender_bars():
    df = pd.DataFrame({"band": ["u35", "35_44"], "male": [10, 2], "female": [6, 9]})
    o = options_of(c.age_gender_bars(df, {"u35": "35岁以下"}, male_name="男", female_name="女"))
    assert o["xAxis"][0]["data"] == ["35岁以下", "35_44"]
    assert o["series"][0]["data"] == [10, None] and o["series"][1]["data"] == [6, 9]


def test_education_ring_lumps_the_tail_before_suppressing():
    df = pd.DataFrame({"education": ["本科", "硕士", "博士", "大专"], "n": [50, 20, 3, 2]})
    o = options_of(c.education_ring(df, other_name="其他", top=2))
    data = o["series"][0]["data"]
    assert [d["name"] for d in data] == ["本科", "硕士", "其他"]
    assert [d.get("value") for d in data] == [50, 20, 5]
    df2 = pd.DataFrame({"education": ["本科", "博士"], "n": [50, 3]})
    data2 = options_of(c.education_ring(df2, other_name="其他"))["series"][0]["data"]
    assert data2[1] == {"name": "博士"}


FEED_TEXTS = {"upcoming": "即将", "past": "已办", "online": "线上", "registered": "报名", "checked_in": "签到",
              "none": "暂无活动", "kind.training": "培训"}


def test_activity_feed_html_escapes_and_suppresses():
    df = pd.DataFrame([
        {"id": 1, "title": "<b>培训班</b>", "kind": "training", "starts_at": datetime(2025, 3, 1, 9), "online": False,
         "district_zh": "西湖区", "district_en": "Xihu", "registered": 40, "checked_in": 3, "upcoming": False},
        {"id": 2, "title": "调研", "kind": "survey", "starts_at": datetime(2025, 7, 1, 14), "online": True,
         "district_zh": None, "district_en": None, "registered": 12, "checked_in": 0, "upcoming": True},
    ])
    out = c.activity_feed_html(df, FEED_TEXTS, height_px=200)
    assert "&lt;b&gt;培训班&lt;/b&gt;" in out and "<b>" not in out
    assert "签到 &lt;5" in out and "报名 40" in out
    assert "03-01 09:00" in out and "线上" in out and "即将" in out
    assert out.count("<li") == 4  # the rows twice, for a seamless loop
    assert "height:200px" in out


def test_activity_feed_html_empty():
    out = c.activity_feed_html(pd.DataFrame(), FEED_TEXTS)
    assert "暂无活动" in out and "<li" not in out
