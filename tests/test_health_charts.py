"""Data-health chart builders on a few inline rows (partial assertions, numbers decoded)."""

from __future__ import annotations

import base64
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from charts import health as charts


def values(v):
    """Plotly 7 stores arrays as base64 typed arrays in to_dict(); decode them."""
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return arr.reshape(v["shape"]).tolist() if "shape" in v else arr.tolist()
    if isinstance(v, (list, tuple)):
        return [values(x) for x in v]
    return v


def fresh_df():
    return pd.DataFrame({
        "key": ["intellectual", None], "name_zh": ["党外知识分子", None], "name_en": ["Intellectuals", None],
        "persons": [4, 2], "fresh_3": [1, 0], "fresh_6": [2, 0], "fresh_12": [3, 1],
        "share_3": [0.25, 0.0], "share_6": [0.5, 0.0], "share_12": [0.75, 0.5],
    })


def test_group_labels_pick_language_labels_and_unknown():
    df = fresh_df()
    assert charts.group_labels(df, "zh", unknown="未填") == ["党外知识分子", "未填"]
    assert charts.group_labels(df, "en", unknown="n/a") == ["Intellectuals", "n/a"]
    via = pd.DataFrame({"key": ["import", "sync"], "name_zh": [None, None], "name_en": [None, None]})
    assert charts.group_labels(via, "zh", {"import": "表格导入"}) == ["表格导入", "sync"]


def test_freshness_bars_one_trace_per_window():
    fig = charts.freshness_bars(fresh_df(), ["A", "B"], {3: "3m", 12: "12m"}).to_dict()
    traces = fig["data"]
    assert [t["name"] for t in traces] == ["3m", "12m"]
    assert values(traces[1]["x"]) == [0.75, 0.5]
    assert list(traces[1]["y"]) == ["A (n=4)", "B (n=2)"]
    assert list(traces[1]["text"]) == ["75%", "50%"]
    assert values(traces[0]["customdata"]) == [1, 0]
    assert fig["layout"]["xaxis"]["tickformat"] == ".0%"


def test_completeness_heatmap_adds_overall_row():
    df = pd.DataFrame({"key": ["a", "b"], "name_zh": ["甲", "乙"], "name_en": ["A", "B"], "sort_order": [1, 2],
                       "persons": [4, 1], "phone": [2, 1], "tags": [0, 1]})
    fig = charts.completeness_heatmap(df, ("phone", "tags"), {"phone": "手机"}, ["甲", "乙"], "全部").to_dict()
    heat = fig["data"][0]
    assert list(heat["x"]) == ["手机", "tags"]
    assert list(heat["y"]) == ["全部 (n=5)", "甲 (n=4)", "乙 (n=1)"]
    # overall: phone 3/5, tags 1/5; 甲: 2/4, 0/4; 乙: 1/1, 1/1
    assert values(heat["z"]) == [[pytest.approx(0.6), pytest.approx(0.2)], [0.5, 0.0], [1.0, 1.0]]
    assert heat["text"][0] == ["60%", "20%"]


def test_completeness_of_no_rows_is_an_empty_overall():
    df = pd.DataFrame(columns=["key", "name_zh", "name_en", "sort_order", "persons", "phone"])
    persons, shares, _ = charts.completeness_matrix(df, ("phone",))
    assert persons == [0] and shares == [[0.0]]


def test_liveness_gauge():
    fig = charts.liveness_gauge(56).to_dict()
    ind = fig["data"][0]
    assert ind["value"] == 56 and list(ind["gauge"]["axis"]["range"]) == [0, 100]
    assert charts.liveness_gauge(None).to_dict()["data"][0]["value"] == 0


def test_batch_table():
    batches = pd.DataFrame({
        "file_name": ["a.xlsx"], "imported_at": [datetime(2025, 1, 1)], "imported_by": ["u"], "rows_read": [10],
        "inserted": [8], "updated": [0], "unchanged": [0], "rejected": [2], "reject_rate": [0.2], "status": ["done"],
    })
    headers = {c: c.upper() for c in charts.BATCH_TABLE_COLUMNS}
    out = charts.batch_table(batches, headers, {"done": "完成"})
    assert out["STATUS"].tolist() == ["完成"] and out["REJECT_RATE"].tolist() == [0.2]
    assert list(out.columns) == [c.upper() for c in charts.BATCH_TABLE_COLUMNS]
