"""The cockpit's layout without a browser: chart options that follow the size of their box
(ECharts `media` rules, evaluated here as ECharts does), the stylesheet, the map's callouts.

The real-browser proof at every window size is tests/test_browser_cockpit.py.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charts import cockpit as c
from charts.echarts_theme import JS_MARK, Style, js, options_of, responsive
from tests.test_cockpit_page import echarts_options, open_cockpit
from ui import theme

GEOJSON = json.loads(theme.GEOJSON_PATH.read_text(encoding="utf-8"))


# ---- ECharts' media rules, evaluated as the browser does --------------------------------------

def _matches(query: dict, width: float, height: float) -> bool:
    real = {"Width": width, "Height": height}
    for key, expect in query.items():
        side = key[3:]
        if key.startswith("min") and not real[side] >= expect:
            return False
        if key.startswith("max") and not real[side] <= expect:
            return False
    return True


def _merge(target, source):
    """ECharts' merge of an option into the shown one: objects key by key, lists of components
    item by item, any other value replaced."""
    if isinstance(target, dict) and isinstance(source, dict):
        for key, value in source.items():
            target[key] = _merge(target[key], value) if key in target and key != "data" else copy.deepcopy(value)
        return target
    if isinstance(target, list) and isinstance(source, list) and all(isinstance(x, dict) for x in source):
        for i, value in enumerate(source):
            if i < len(target):
                target[i] = _merge(target[i], value)
        return target
    return copy.deepcopy(source)


def drawn(options: dict, width: float, height: float, shown: dict | None = None) -> dict:
    """The options drawn in a width × height box: the matching rules merged, in order, onto what is
    shown (`shown`, from an earlier size) or onto the base. ECharts does not reset between sizes."""
    out = copy.deepcopy(shown if shown is not None else {k: v for k, v in options.items() if k != "media"})
    for rule in options.get("media", []):
        if _matches(rule.get("query", {}), width, height):
            _merge(out, rule["option"])
    return out


# ---- the builders, each in its cockpit box ------------------------------------------------------

TAGS = pd.DataFrame({"tag": [f"标签{i:02d}" for i in range(20)], "n": range(400, 200, -10)})
CATEGORIES = pd.DataFrame({"label": ["台湾同胞及其在大陆的亲属", "非公有制经济人士", "宗教界人士"], "n": [25, 468, 20]})
AGES = pd.DataFrame({"band": ["u35", "35_44", "65p"], "male": [97, 279, 142], "female": [75, 3, 86]})
STAGES = pd.DataFrame({"stage": ["discover", "cultivate", "use", "manage"], "n": [834, 552, 424, 190]})
EDUCATION = pd.DataFrame({"education": ["本科", "硕士", "博士", "大专"], "n": [820, 530, 290, 3]})
MONTHS = pd.DataFrame({"month": [f"2026-{m:02d}" for m in range(1, 13)], "registrations": range(100, 220, 10),
                       "checkins": range(80, 200, 10)})
NAMES = c.area_names(GEOJSON)
DISTRICTS = pd.DataFrame({"code": list(NAMES), "label": list(NAMES.values()), "n": [3] + list(range(100, 112)),
                          "in_scope": True})

BUILDERS = {
    "tags": lambda s: c.ranked_bar(TAGS, label_col="tag", style=s),
    "category": lambda s: c.ranked_bar(CATEGORIES, style=s),
    "age": lambda s: c.age_gender_bars(AGES, {"u35": "35岁以下", "65p": "65岁及以上"}, male_name="男",
                                       female_name="女", style=s),
    "funnel": lambda s: c.funnel_chart(STAGES, {"cultivate": "培养"}, conversion_label="转化", style=s),
    "education": lambda s: c.education_ring(EDUCATION, other_name="其他", style=s),
    "monthly": lambda s: c.monthly_lines(MONTHS, registrations_name="报名", checkins_name="签到", style=s),
    "map": lambda s: c.district_map(DISTRICTS, NAMES, style=s, callouts=c.small_districts(GEOJSON)),
}


@cache
def built(name: str) -> dict:
    return responsive(lambda style: options_of(BUILDERS[name](style)), *theme.LAYOUT.design_box(name))


def _label_size(o: dict) -> int:
    return o["yAxis"][0]["axisLabel"]["fontSize"]


def test_type_follows_the_shorter_side_of_the_box():
    w, h = theme.LAYOUT.design_box("tags")
    o = built("tags")
    assert _label_size(drawn(o, w, h)) == 13
    assert _label_size(drawn(o, 2 * w, 2 * h)) == 26  # a 3840×2160 screen
    assert _label_size(drawn(o, 2 * w, h)) == 13  # wider only: the same type
    assert _label_size(drawn(o, 0.6 * w, 1.5 * h)) == Style().min_font  # a phone: never below the floor


def test_a_ranking_shows_the_rows_that_fit_its_height():
    w, h = theme.LAYOUT.design_box("tags")
    o = built("tags")
    assert drawn(o, w, h)["yAxis"][0].get("max") is None  # all 20 at 1920×1080
    for factor in (0.8, 0.6, 0.45):
        shown = drawn(o, w, factor * h)
        rows = shown["yAxis"][0]["max"] + 1
        assert rows < 20 and rows * _label_size(shown) * 1.3 <= factor * h, (factor, rows)
        assert shown["yAxis"][1]["max"] == rows - 1  # the counts axis is cut alike


def test_long_names_are_cut_to_the_width_and_wrapped_where_they_must():
    w, h = theme.LAYOUT.design_box("category")
    narrow = drawn(built("category"), 0.55 * w, h)
    label = narrow["yAxis"][0]["axisLabel"]
    assert label["overflow"] == "truncate" and label["width"] <= 0.6 * 0.55 * w + 1
    w, h = theme.LAYOUT.design_box("age")
    band = drawn(built("age"), 0.6 * w, h)["xAxis"][0]["axisLabel"]
    assert band["overflow"] == "break" and band["width"] <= (0.6 * w - 44) / 3
    w, h = theme.LAYOUT.design_box("funnel")
    assert drawn(built("funnel"), 0.6 * w, h)["series"][0]["label"]["width"] <= 0.4 * 0.6 * w


SIZES = st.tuples(st.floats(0.3, 3.0), st.floats(0.3, 3.0))


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(BUILDERS)), before=SIZES, after=SIZES)
def test_no_value_of_another_size_stays_behind(name, before, after):
    """A window resized from any size to any other draws what a fresh page of that size draws."""
    o = built(name)
    w, h = theme.LAYOUT.design_box(name)
    moved = drawn(o, after[0] * w, after[1] * h, shown=drawn(o, before[0] * w, before[1] * h))
    assert moved == drawn(o, after[0] * w, after[1] * h)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_sizes_never_repeat_the_counts(name):
    """The rules carry sizes, never data: every count stays where `suppress` put it."""
    for rule in built(name).get("media", []):
        assert '"data"' not in json.dumps(rule["option"]), rule


def test_a_function_in_the_options_reaches_the_browser_marked():
    chart = c.ranked_bar(TAGS, label_col="tag")
    chart.options["tooltip"].opts["formatter"] = js("function (p) { return p.name; }")
    assert options_of(chart)["tooltip"]["formatter"] == f"{JS_MARK}function (p) {{ return p.name; }}{JS_MARK}"


# ---- the map ------------------------------------------------------------------------------------

def test_the_smallest_districts_stand_beside_the_map():
    small = c.small_districts(GEOJSON)
    assert sorted(NAMES[code] for code in small) == sorted(["上城区", "拱墅区", "西湖区", "滨江区", "临平区"])
    series = options_of(c.district_map(DISTRICTS, NAMES, callouts=small))["series"][0]
    layout = series["labelLayout"]
    assert layout.startswith(JS_MARK) and layout.endswith(JS_MARK)
    indices = json.loads(re.search(r"\[[\d, ]*\]", layout).group())
    assert [series["data"][i]["name"] for i in indices] == [NAMES[code] for code in small]
    assert series["labelLine"]["show"] and "width" in series  # a strip on the right is kept free
    # Without callouts the map is as it was: labels on the districts, one dropped where two would meet.
    assert options_of(c.district_map(DISTRICTS, NAMES))["series"][0]["labelLayout"] == {"hideOverlap": True}


# ---- the stylesheet -----------------------------------------------------------------------------

@pytest.mark.parametrize("kiosk", [True, False])
def test_the_stylesheet_survives_the_html_sanitiser_and_sizes_every_chart(kiosk):
    css = theme._css(kiosk)
    body = css.removeprefix("<style>").removesuffix("</style>")
    # st.html drops a <style> whose text holds anything tag-like: the whole cockpit would be unstyled.
    assert not re.search(r"<[/\w!]", body)
    assert "@property --u" in css and "@container cockpit" in css
    for name in [n for column in theme.LAYOUT.columns for n in column] + ["carousel"]:
        assert css.count(f"--h-{name}:") >= (1 if name == "carousel" else 2), name


def test_design_boxes_fill_a_1920x1080_screen():
    m = theme.LAYOUT.metrics
    for column in theme.LAYOUT.columns:
        heights = sum(theme.LAYOUT.design_box(name)[1] for name in column)
        used = (2 * m.pad_y[0] + m.title_h() + m.border + m.kpi_h() + 2 * m.gap[0] + heights
                + len(column) * m.chrome() + (len(column) - 1) * m.gap[0])
        assert used == pytest.approx(theme.DESIGN_HEIGHT)
    widths = [theme.LAYOUT.design_box(column[0])[0] for column in theme.LAYOUT.columns]
    assert widths[1] / widths[0] == pytest.approx(1.42, rel=0.02)


# ---- the page -----------------------------------------------------------------------------------

def test_the_page_needs_no_scale_parameter_and_ignores_the_old_one(make_app, demo_sqlite):
    url = demo_sqlite(2000, 11)
    plain = echarts_options(open_cockpit(make_app, url, kiosk="1"))
    scaled = echarts_options(open_cockpit(make_app, url, kiosk="1", scale="2"))
    assert plain == scaled
    assert {o["renderer"] for o in plain} == {"svg"}
    assert all(re.fullmatch(r"var\(--h-\w+\)", o["height"]) for o in plain)
    assert all(o["options"]["media"] for o in plain)
