"""Survey chart builders: zero bars kept, missing counts read as zero, labels stay text."""

from __future__ import annotations

import pandas as pd

from charts.surveys import choice_bars, crosstab_heatmap


def test_bars_keep_zero_choices_and_their_order():
    fig = choice_bars(pd.DataFrame({"value": ["满意", "一般", "不满意"], "n": [3, 0, None]}))
    bar = fig.data[0]
    assert list(bar.y) == ["满意", "一般", "不满意"] and list(bar.x) == [3, 0, 0]
    assert list(bar.text) == ["3 (100%)", "0 (0%)", "0 (0%)"]


def test_no_answers_yet_is_an_empty_chart():
    fig = choice_bars(pd.DataFrame({"value": [], "n": []}))
    assert list(fig.data[0].x) == []


def test_labels_are_text_not_markup():
    fig = choice_bars(pd.DataFrame({"value": ["<b>x</b><a href='javascript:1'>y</a>"], "n": [1]}))
    assert fig.data[0].y[0].startswith("&lt;b&gt;")


def test_crosstab_fills_missing_cells():
    table = pd.DataFrame({"是": [1, None], "否": [None, 2]}, index=["无党派", "民革"])
    heat = crosstab_heatmap(table).data[0]
    assert heat.z.tolist() == [[1, 0], [0, 2]] and list(heat.y) == ["无党派", "民革"]
    assert crosstab_heatmap(pd.DataFrame()).data == ()
