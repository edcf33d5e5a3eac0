"""Lifecycle chart builders on a few inline rows: partial assertions on the figures' inputs."""

from __future__ import annotations

import math

import pandas as pd

from charts import lifecycle as charts

STAGES = {"discover": "发现", "cultivate": "培养", "use": "使用", "manage": "管理"}


def funnel_table():
    return pd.DataFrame({
        "stage": ["discover", "cultivate", "use", "manage"],
        "in_order": [6, 4, 2, 1],
        "in_order_next": [math.nan, 4 / 6, 0.5, 0.5],
        "in_order_cum": [1.0, 4 / 6, 2 / 6, 1 / 6],
        "any_stage": [6, 5, 4, 1],
        "any_next": [math.nan, 5 / 6, 0.8, 0.25],
        "any_cum": [1.0, 5 / 6, 4 / 6, 1 / 6],
    })


def test_stage_funnel_two_readings_with_conversion_texts():
    fig = charts.stage_funnel(funnel_table(), STAGES, {"in_order": "按顺序", "any_stage": "到达即计"})
    assert [tr.name for tr in fig.data] == ["按顺序", "到达即计"]
    assert list(fig.data[0].x) == [6, 4, 2, 1] and list(fig.data[1].x) == [6, 5, 4, 1]
    assert list(fig.data[0].y) == ["发现", "培养", "使用", "管理"]
    # count · next-step · cumulative; the first stage has no previous one.
    assert list(fig.data[0].text) == ["6", "4 · 67% · 67%", "2 · 50% · 33%", "1 · 50% · 17%"]
    assert fig.layout.funnelmode == "group"


def test_stage_time_bars_show_missing_median_as_dash():
    df = pd.DataFrame({"stage": ["discover", "manage"], "stays": [5, 0], "median_days": [60.0, math.nan]})
    fig = charts.stage_time_bars(df, STAGES, "天")
    assert list(fig.data[0].x) == ["发现", "管理"]
    assert list(fig.data[0].y) == [60.0, 0]
    assert list(fig.data[0].text) == ["60", "—"]
    assert list(fig.data[0].customdata) == [5, 0]


def test_cohort_heatmap_shares():
    df = pd.DataFrame({"cohort": [2020, 2021], "discover": [4, 0], "cultivate": [2, 0], "use": [1, 0], "manage": [0, 0],
                       "days_to_cultivate": [30.0, math.nan], "days_to_use": [400.0, math.nan]})
    fig = charts.cohort_heatmap(df, STAGES)
    heat = fig.data[0]
    assert [list(r) for r in heat.z] == [[0.5, 0.25, 0.0], [0.0, 0.0, 0.0]]
    assert heat.text[0][0] == "2 (50%)"
    assert list(heat.x) == ["培养", "使用", "管理"]
    assert list(heat.y) == ["2020 (n=4)", "2021 (n=0)"]


def test_source_bars_best_converting_first():
    df = pd.DataFrame({"source": ["街道推荐", "", "自荐"], "persons": [10, 4, 5], "cultivate": [5, 1, 4],
                       "use": [2, 0, 3]})
    df["cultivate_rate"] = df["cultivate"] / df["persons"]
    df["use_rate"] = df["use"] / df["persons"]
    fig = charts.source_bars(df, charts.SourceTexts(missing="未填来源", cultivate="培养", use="使用"))
    assert list(fig.data[1].y) == ["自荐 (n=5)", "街道推荐 (n=10)", "未填来源 (n=4)"]
    assert list(fig.data[1].x) == [0.6, 0.2, 0.0]
    assert fig.data[0].name == "培养"


def test_term_watch_bars():
    df = pd.DataFrame({"body": ["cppcc", "npc"], "soon": [3, 1], "overdue": [0, 2]})
    fig = charts.term_watch_bars(df, {"npc": "人大代表", "cppcc": "政协委员"})
    assert list(fig.data[0].x) == ["政协委员", "人大代表"]
    assert list(fig.data[0].y) == [3, 1] and list(fig.data[1].y) == [0, 2]


def test_tables_show_only_listed_fields():
    rows = pd.DataFrame([{"id": 7, "name": "张三", "category_code": "other", "category_zh": "其他需要联系和团结的人员",
                          "category_en": "Others", "district_code": "330106", "district_zh": "西湖区",
                          "district_en": "Xihu", "organization": "某单位", "check_ins": 4, "risks": 2}])
    headers = {c: c for c in charts.CANDIDATE_TABLE_COLUMNS}
    table = charts.candidate_table(rows, headers, lang="en")
    assert list(table.columns) == list(charts.CANDIDATE_TABLE_COLUMNS)
    assert table.iloc[0].to_dict() == {"name": "张三", "category": "Others", "district": "Xihu",
                                       "organization": "某单位", "check_ins": 4, "risks": "risks: 2"}
    funnel = charts.funnel_table(funnel_table(), STAGES, {c: c.upper() for c in charts.FUNNEL_TABLE_COLUMNS})
    assert funnel["STAGE"].tolist() == ["发现", "培养", "使用", "管理"]
    assert funnel["IN_ORDER"].tolist() == [6, 4, 2, 1]
