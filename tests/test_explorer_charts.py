"""The explorer's chart builders on a few inline rows: codes in customdata, shapes, empty states."""

from __future__ import annotations

import base64
from datetime import datetime

import numpy as np
import pandas as pd

from charts.explorer import (
    BarOptions,
    PyramidOptions,
    TimelineOptions,
    age_gender_pyramid,
    bar_chart,
    stage_timeline,
)


def values(v):
    """Plain list from a plotly 7 figure value (typed arrays arrive base64-encoded)."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


BARS = pd.DataFrame({"code": ["330106", "330102", ""], "label": ["西湖区", "上城区", "未填写"], "n": [7, 3, 1]})


def test_bar_chart_carries_codes_for_clicks():
    fig = bar_chart(BARS, BarOptions(title="按区县", selected=("330102",))).to_dict()
    (trace,) = fig["data"]
    assert list(trace["customdata"]) == ["330106", "330102", ""]
    assert list(trace["x"]) == ["西湖区", "上城区", "未填写"]
    assert values(trace["y"]) == [7, 3, 1]
    colors = trace["marker"]["color"]
    assert colors[1] != colors[0] == colors[2]  # the chosen district stands out
    assert fig["layout"]["title"]["text"] == "按区县"
    # Streamlit picks drag and click modes itself; a "select" drag mode would disable point clicks.
    assert "dragmode" not in fig["layout"]


def test_horizontal_bars_put_the_largest_on_top():
    trace = bar_chart(BARS, BarOptions(horizontal=True)).to_dict()["data"][0]
    assert trace["orientation"] == "h"
    assert list(trace["y"])[-1] == "西湖区" and list(trace["customdata"])[-1] == "330106"
    assert values(trace["x"])[-1] == 7


def test_empty_bar_chart_says_so():
    fig = bar_chart(BARS.iloc[0:0], BarOptions(empty_text="暂无数据")).to_dict()
    assert fig["data"] == [] and fig["layout"]["annotations"][0]["text"] == "暂无数据"


PYRAMID = pd.DataFrame({
    "band": [0, 0, 1, 1], "label": ["<25", "<25", "25–29", "25–29"], "gender": ["M", "F", "M", "F"],
    "gender_label": ["男", "女", "男", "女"], "n": [4, 2, 0, 5],
})


def test_pyramid_men_left_women_right_with_band_and_gender():
    data = age_gender_pyramid(PYRAMID, PyramidOptions()).to_dict()["data"]
    men, women = data
    assert men["name"] == "男" and women["name"] == "女"
    assert values(men["x"]) == [-4, 0] and values(women["x"]) == [2, 5]
    assert [list(c) for c in men["customdata"]] == [[0, "M"], [1, "M"]]
    assert list(women["text"]) == ["2", "5"]  # the hover shows counts, not negative bars


def test_pyramid_without_anyone_is_empty():
    fig = age_gender_pyramid(PYRAMID.assign(n=0), PyramidOptions(empty_text="无")).to_dict()
    assert fig["data"] == [] and fig["layout"]["annotations"][0]["text"] == "无"


def test_stage_timeline_one_marker_per_change():
    df = pd.DataFrame({"stage": ["discover", "cultivate"], "label": ["发现", "培养"],
                       "entered_at": [datetime(2023, 1, 5), datetime(2024, 6, 1)]})
    (trace,) = stage_timeline(df, TimelineOptions()).to_dict()["data"]
    assert list(trace["text"]) == ["发现", "培养"] and list(trace["customdata"]) == ["discover", "cultivate"]
    assert len(values(trace["y"])) == 2
    assert stage_timeline(df.iloc[0:0], TimelineOptions(empty_text="暂无")).to_dict()["data"] == []
