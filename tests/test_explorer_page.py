"""The explorer page under AppTest: URL filters, widget flows, headcount = list = brute force."""

from __future__ import annotations

import json

import pytest

from store import clock
from store.filters import PersonFilter
from store.migrate import DATA_DIR, read_csv_rows
from test_explorer_queries import age_of, brute, store  # noqa: F401  (store is a fixture)

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar

PAGE = "pages/explorer.py"


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def open_page(make_app, engine, **params):
    at = make_app(url_of(engine))
    at.run()
    # Set after the first run: the home page's forward is not what these tests are about.
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def headcount(at) -> int:
    metric = next(m for m in at.metric if m.label in ("符合条件人数", "Matching persons"))
    return int(metric.value.replace(",", ""))


def list_ids(at) -> list[int]:
    return [int(i) for i in at.dataframe[0].value["id"]]


def today_brute(records, f):
    # The page filters by the project's today; brute-force with the same day.
    return brute(records, f, today=clock.today())


def test_url_filters_drive_headcount_and_list(store, make_app):
    engine, records = store
    f = PersonFilter(categories=("democratic_party", "intellectual", "non_party"), genders=("F",), age_min=30)
    expected = {r.id for r in today_brute(records, f)}
    assert 0 < len(expected) < 50
    at = open_page(make_app, engine, **f.to_query_params())
    assert headcount(at) == len(expected)
    assert set(list_ids(at)) == expected
    assert at.sidebar.multiselect(key="pf_genders").value == ["F"]


def test_widget_flow_writes_the_url_and_clear_resets(store, make_app):
    engine, records = store
    at = open_page(make_app, engine)
    assert headcount(at) == len(records)
    at.sidebar.multiselect(key="pf_stages").set_value(["use"]).run()
    at.sidebar.multiselect(key="pf_tags").set_value(["海归"]).run()
    assert not at.exception
    f = PersonFilter(stages=("use",), tags=("海归",))
    assert PersonFilter.from_query_params(dict(at.query_params)) == f
    expected = {r.id for r in today_brute(records, f)}
    assert headcount(at) == len(expected) and set(list_ids(at)) == expected
    # The link reproduces the view in a fresh session.
    again = open_page(make_app, engine, **{k: v for k, v in at.query_params.items()})
    assert headcount(again) == len(expected)
    clear = next(b for b in at.sidebar.button if b.label == "清除全部条件")
    clear.click().run()
    assert not any(k in at.query_params for k in ("stages", "tags"))
    assert headcount(at) == len(records)
    assert at.sidebar.multiselect(key="pf_stages").value == []


@pytest.mark.parametrize("keyword", ["%' OR 1=1 --", "_", "<script>"])
def test_keyword_matches_literally(store, make_app, keyword):
    engine, records = store
    at = open_page(make_app, engine)
    at.sidebar.text_input(key="pf_keyword").set_value(keyword).run()
    assert not at.exception
    expected = {r.id for r in today_brute(records, PersonFilter(keyword=keyword))}
    assert headcount(at) == len(expected) < len(records)
    ids = set(list_ids(at))
    assert ids <= expected and len(ids) == min(len(expected), 50)


def test_pages_do_not_overlap(store, make_app):
    engine, records = store
    at = open_page(make_app, engine, stages=["discover", "cultivate"])
    expected = {r.id for r in today_brute(records, PersonFilter(stages=("discover", "cultivate")))}
    at.selectbox(key="explorer_page_size").set_value(20).run()
    first = list_ids(at)
    at.number_input(key="explorer_page").set_value(2).run()
    second = list_ids(at)
    assert len(first) == len(second) == 20
    assert not set(first) & set(second) and set(first) | set(second) <= expected
    # Sorting by age, youngest first.
    at.selectbox(key="explorer_sort").set_value("age").run()
    at.toggle(key="explorer_descending").set_value(False).run()
    by_id = {r.id: r for r in records}
    ages = [age_of(by_id[i].birth_date) for i in list_ids(at) if by_id[i].birth_date]
    assert ages == sorted(ages)


def test_charts_follow_the_filter_and_carry_codes(store, make_app):
    engine, records = store
    at = open_page(make_app, engine, districts="330106", lang="en")
    specs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    assert len(specs) == 5
    by_title = {s["layout"]["title"]["text"]: s for s in specs}
    district = by_title["By district"]["data"][0]
    assert list(district["customdata"]) == ["330106"]
    category = by_title["By category"]["data"][0]
    english = {row["name_en"] for row in read_csv_rows(DATA_DIR / "categories.csv")}
    in_district = {r.category_code for r in records if r.district_code == "330106"}
    assert set(category["y"]) <= english and len(category["y"]) == len(in_district)


def test_profile_opens_from_the_url(store, make_app):
    engine, records = store
    rec = next(r for r in records if r.tags and r.bodies and "*" not in r.name and "_" not in r.name)
    at = open_page(make_app, engine, person=str(rec.id))
    assert any(rec.name in h.value for h in at.subheader)
    assert any(sorted(rec.tags)[0] in t.value for t in at.text)
    missing = open_page(make_app, engine, person="999999")
    assert any("找不到" in w.value for w in missing.warning)


def test_unmasked_profile_is_audited_once(store, make_app):
    from sqlalchemy import select

    from store.schema import audit_log

    engine, records = store
    rec = records[-1]  # a person no other test opens (the store is shared by the module)

    def unmask_rows():
        with engine.connect() as conn:
            return conn.execute(select(audit_log.c.detail).where(
                audit_log.c.action == "unmask", audit_log.c.detail == f'{{"person_id": {rec.id}}}')).all()

    assert unmask_rows() == []
    at = open_page(make_app, engine, person=str(rec.id))  # tests run as an unscoped admin: unmasked
    at.run()  # a rerun of the same view is not a second unmasking
    assert len(unmask_rows()) == 1


def test_empty_store_is_friendly(sqlite_engine, make_app):
    at = open_page(make_app, sqlite_engine)
    assert any("还没有人员数据" in i.value for i in at.info)


def test_garbage_in_the_url_is_ignored(store, make_app):
    engine, records = store
    at = open_page(make_app, engine, age_min="abc", categories="nope", updated_since="2025-99-99",
                   active="maybe", person="x")
    assert headcount(at) == len(records)
