"""On ~2000 demo persons: every bar's count equals the headcount after clicking it, and the page runs."""

from __future__ import annotations

from datetime import date

import pytest

from store.export import export_persons
from store.filters import PersonFilter
from store.queries import explorer as q
from store.scope import EVERYTHING
from ui.filters import add_selection

demo = pytest.importorskip("loaders.demo")
TODAY = date(2025, 6, 15)


@pytest.fixture
def demo_engine(engine):
    demo.generate_demo(engine, persons=2000, seed=11, today=TODAY)
    return engine


def test_every_bar_count_equals_the_headcount_after_clicking_it(demo_engine):
    engine = demo_engine
    base = PersonFilter(stages=("cultivate", "use", "manage"))
    n = q.headcount(engine, EVERYTHING, base, today=TODAY).matched
    assert n > 0
    charts = {
        "categories": q.count_by_category(engine, EVERYTHING, base, today=TODAY),
        "districts": q.count_by_district(engine, EVERYTHING, base, today=TODAY),
        "stages": q.count_by_stage(engine, EVERYTHING, base, today=TODAY),
        "tags": q.top_tags(engine, EVERYTHING, base, 15, today=TODAY),
    }
    for field, df in charts.items():
        if field != "tags":
            assert df["n"].sum() == n, field
        for code, count in zip(df["code"], df["n"]):
            if not code:
                continue  # "not given" is not clickable
            clicked = add_selection(base, field, [{"customdata": code}])
            if count == 0:
                assert clicked == base  # a zero bar outside the filter narrows nothing
                continue
            assert q.headcount(engine, EVERYTHING, clicked, today=TODAY).matched == count, (field, code)
    pyramid = q.age_gender(engine, EVERYTHING, base, today=TODAY)
    for band, gender, count in zip(pyramid["band"], pyramid["gender"], pyramid["n"]):
        clicked = add_selection(base, "age_gender", [{"customdata": [int(band), gender]}])
        assert q.headcount(engine, EVERYTHING, clicked, today=TODAY).matched == count, (band, gender)


def test_export_list_and_count_agree_on_demo_data(demo_engine):
    engine = demo_engine
    f = PersonFilter(categories=("democratic_party",), age_max=44, active_months=12, active=False)
    n = q.headcount(engine, EVERYTHING, f, today=TODAY).matched
    result = export_persons(engine, EVERYTHING, f, actor="t", today=TODAY)
    pages = q.person_page(engine, EVERYTHING, f, page_size=500, today=TODAY)
    assert result.rows == n == len(pages) or (n > 500 and len(pages) == 500)


def test_page_runs_on_demo_data(demo_engine, make_app):
    at = make_app(demo_engine.url.render_as_string(hide_password=False))
    at.run()
    at.query_params["tags"] = ["海归", "青年"]
    at.switch_page("pages/explorer.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 5
    assert not at.dataframe[0].value.empty
