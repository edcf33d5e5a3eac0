"""PersonFilter <-> URL query string <-> filter widgets, and chart clicks -> filter. No database."""

from __future__ import annotations

import random
from datetime import date
from urllib.parse import parse_qs, urlencode

import pytest

from store.filters import PersonFilter
from store.queries.explorer import AGE_BANDS, FilterOptions
from ui.filters import (
    AGE_LIMITS,
    add_selection,
    escape_markdown,
    filter_from_widgets,
    sanitize,
    widget_state,
)

FULL = PersonFilter(
    categories=("democratic_party", "intellectual"), districts=("330106",), streets=("北山街道",),
    stages=("use",), parties=("cdl", "jiusan"), tags=("海归", "50%股东"), tags_mode="all", genders=("F",),
    age_min=30, age_max=44, educations=("博士",), bodies=("npc", "cppcc"), active_months=6, active=False,
    updated_since=date(2025, 1, 31), keyword="%' OR 1=1 --",
)


def random_filters(n: int, seed: int = 7) -> list[PersonFilter]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append(PersonFilter(
            categories=tuple(rng.sample(["a", "b", "c"], rng.randrange(0, 3))),
            tags=tuple(rng.sample(["海归", "青年", "a&b=c", "x y", "100%"], rng.randrange(0, 3))),
            tags_mode=rng.choice(["any", "all"]),
            age_min=rng.choice([None, 18, 45]),
            age_max=rng.choice([None, 60, 99]),
            active_months=rng.choice([None, 3, 12]),
            active=rng.choice([None, True, False]),
            updated_since=rng.choice([None, date(2024, 2, 29)]),
            keyword=rng.choice(["", "张", "&", "a=b", "#", "<script>", "'"]),
        ))
    return out


@pytest.mark.parametrize("flt", [PersonFilter(), FULL] + random_filters(30), ids=lambda f: str(f.to_query_params()))
def test_url_round_trip(flt):
    # Through a real query string, as a copied link would carry it.
    qs = urlencode(flt.to_query_params(), doseq=True)
    parsed = parse_qs(qs, keep_blank_values=True)
    assert PersonFilter.from_query_params(parsed) == flt


def test_default_filter_is_an_empty_query_string():
    assert PersonFilter().to_query_params() == {}


@pytest.mark.parametrize("params", [
    {"age_min": ["abc"]}, {"updated_since": ["2025-13-45"]}, {"tags_mode": ["both"]}, {"active": ["maybe"]},
    {"nonsense": ["1"]}, {"age_max": [""]},
])
def test_malformed_params_are_ignored(params):
    flt = PersonFilter.from_query_params(params)
    assert flt.age_min is None and flt.updated_since is None and flt.tags_mode == "any" and not flt.active


@pytest.mark.parametrize("flt", [PersonFilter(), FULL, PersonFilter(age_min=30), PersonFilter(age_max=44),
                                 PersonFilter(active_months=3, active=True)], ids=str)
def test_widgets_round_trip(flt):
    assert filter_from_widgets(widget_state(flt)) == flt


def test_widget_ends_mean_no_limit_and_any_activity_means_none():
    state = widget_state(PersonFilter())
    assert state["pf_age"] == AGE_LIMITS and state["pf_active"] == "any"
    state["pf_active_months"] = 6
    assert filter_from_widgets(state) == PersonFilter()


def test_keyword_is_capped():
    assert len(filter_from_widgets({"pf_keyword": "x" * 500}).keyword) == 100


OPTS = FilterOptions(
    categories=(("democratic_party", "民主党派成员"), ("intellectual", "党外知识分子")),
    districts=(("330106", "西湖区"), ("330102", "上城区")),
    streets=(("330106", "北山街道"), ("330102", "湖滨街道")),
    stages=(("use", "使用"),), parties=(("cdl", "民盟"),), tags=("海归",), genders=(("F", "女"),),
    educations=("博士",), bodies=(("npc", "人大"),),
)


def test_sanitize_drops_values_the_widgets_cannot_show():
    flt = PersonFilter(categories=("democratic_party", "nope"), districts=("330106",),
                       streets=("北山街道", "湖滨街道"), tags=("海归", "gone"), keyword="x")
    clean = sanitize(flt, OPTS)
    assert clean.categories == ("democratic_party",)
    # 湖滨街道 is in 上城区, which is not chosen.
    assert clean.streets == ("北山街道",)
    assert clean.tags == ("海归",) and clean.keyword == "x"
    assert sanitize(clean, OPTS) is clean


def test_streets_follow_districts():
    assert OPTS.streets_of(("330102",)) == ("湖滨街道",)
    assert set(OPTS.streets_of(())) == {"北山街道", "湖滨街道"}


@pytest.mark.parametrize("field,points,expected", [
    ("categories", [{"customdata": "intellectual"}], PersonFilter(categories=("intellectual",))),
    ("categories", [{"customdata": ["intellectual"]}, {"customdata": ["non_party"]}],
     PersonFilter(categories=("intellectual", "non_party"))),
    ("districts", [{"customdata": ""}], PersonFilter()),  # "not given" is not clickable
    ("stages", [], PersonFilter()),
    ("tags", [{"customdata": "海归"}], PersonFilter(tags=("海归",))),
    ("age_gender", [{"customdata": [1, "F"]}], PersonFilter(age_min=AGE_BANDS[1][0], age_max=AGE_BANDS[1][1],
                                                            genders=("F",))),
    ("age_gender", [{"customdata": [0, "M"]}, {"customdata": [len(AGE_BANDS) - 1, "F"]}],
     PersonFilter(genders=("F", "M"))),
    ("age_gender", [{"customdata": [2, "M"]}, {"customdata": [4, "M"]}],
     PersonFilter(age_min=AGE_BANDS[2][0], age_max=AGE_BANDS[4][1], genders=("M",))),
])
def test_chart_selection_narrows_the_filter(field, points, expected):
    assert add_selection(PersonFilter(), field, points) == expected


def test_click_replaces_within_a_field_and_keeps_the_others():
    flt = PersonFilter(categories=("a", "b"), keyword="张")
    assert add_selection(flt, "categories", [{"customdata": "b"}]) == PersonFilter(categories=("b",), keyword="张")


def test_a_click_never_widens():
    flt = PersonFilter(stages=("use", "manage"))
    assert add_selection(flt, "stages", [{"customdata": "discover"}]) == flt
    assert add_selection(flt, "stages", [{"customdata": "use"}, {"customdata": "discover"}]) == \
        PersonFilter(stages=("use",))


def test_a_second_tag_narrows_to_all_of():
    flt = add_selection(PersonFilter(tags=("海归",)), "tags", [{"customdata": "青年"}])
    assert flt.tags == ("海归", "青年") and flt.tags_mode == "all"
    # Clicking a tag already chosen changes nothing.
    assert add_selection(PersonFilter(tags=("海归",)), "tags", [{"customdata": "海归"}]) == PersonFilter(tags=("海归",))


def test_escape_markdown_keeps_text_literal():
    assert escape_markdown("*王*[x](y)") == "\\*王\\*\\[x\\]\\(y\\)"
    assert escape_markdown(None) == "—"
