"""The cockpit page under AppTest: it runs, it is private, and it does not hammer the store."""

from __future__ import annotations

import json
import re
import traceback
from datetime import date

import pytest
from sqlalchemy import Engine, event, insert

from store import clock
from store.engine import create_store_engine
from store.schema import person
from store.version import bump_data_version
from tests.conftest import BACKENDS
from tests.conftest import module_store
from tests.test_cockpit_queries import fill_store

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar

PAGE = "pages/cockpit.py"
ECHARTS = "streamlit-echarts.streamlit_echarts"
CHART_KEYS = {"category", "age", "education", "map", "monthly", "funnel", "tags"}


def walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


def elements(at) -> list:
    return list(walk(at._tree))


def echarts_options(at) -> list[dict]:
    """The `data` each ECharts element sends to the browser: options, theme, map."""
    return [json.loads(n.proto.json) for n in elements(at)
            if getattr(n, "type", "") == "bidi_component" and n.proto.component_name == ECHARTS]


def page_text(at) -> str:
    """Everything the page sends, as text: every element's protobuf, components' JSON included."""
    return "\n".join(str(getattr(n, "proto", "")) for n in elements(at)) + "\n" + \
        "\n".join(json.dumps(o, ensure_ascii=False) for o in echarts_options(at))


def html_of(at) -> str:
    return "\n".join(n.proto.body for n in elements(at) if getattr(n, "type", "") == "html")


def open_cockpit(make_app, url: str, **params):
    at = make_app(url, **params)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _demo(url: str) -> str:
    from loaders.demo import generate_demo

    engine = create_store_engine(url)
    generate_demo(engine, persons=2000, seed=11)
    engine.dispose()
    return url


@pytest.fixture(scope="module", params=BACKENDS)
def demo_url(request, tmp_path_factory):
    """One demo store per backend, shared by the tests that only read it."""
    with module_store(request.param, tmp_path_factory) as url:
        yield _demo(url)


@pytest.fixture
def own_demo_url(store_url):
    """A demo store of this test's own (for tests that write)."""
    return _demo(store_url)


@pytest.fixture
def cold_cache():
    """Forget every cached query result and data version (AppTest shares the process's caches)."""
    import ui.cache

    ui.cache._cached_call.clear()
    ui.cache._watch_for.clear()


def test_runs_on_a_demo_store_with_every_chart(make_app, demo_url):
    at = open_cockpit(make_app, demo_url, kiosk="1")
    charts = echarts_options(at)
    assert len(charts) == len(CHART_KEYS)
    assert all(o["options"]["series"] for o in charts)
    # The map is registered from the local GeoJSON, not fetched from anywhere.
    maps = [o for o in charts if o.get("map")]
    assert len(maps) == 1 and maps[0]["map"]["mapName"] == "area"
    assert len(maps[0]["map"]["geoJson"]["features"]) == 13
    body = html_of(at)
    assert "统战大脑" in body and "2,000" in body
    assert "cockpit-feed" in body


def test_english(make_app, demo_url):
    at = open_cockpit(make_app, demo_url, kiosk="1", lang="en")
    assert "Representative persons" in html_of(at)
    assert "Xihu" in page_text(at)


def test_empty_store_shows_a_friendly_message(make_app, store_url):
    at = open_cockpit(make_app, store_url, kiosk="1")
    assert any("驾驶舱暂无数据" in i.value for i in at.info)
    assert not echarts_options(at)


def test_carousel_shows_one_panel(make_app, demo_url):
    at = open_cockpit(make_app, demo_url, kiosk="1", carousel="30")
    assert len(echarts_options(at)) + html_of(at).count("<div class=\"cockpit-feed\"") == 1


def test_map_falls_back_to_a_ranking_without_geojson(make_app, demo_url, monkeypatch, tmp_path):
    import ui.theme

    monkeypatch.setattr(ui.theme, "GEOJSON_PATH", tmp_path / "missing.geojson")
    at = open_cockpit(make_app, demo_url, kiosk="1")
    charts = echarts_options(at)
    assert not any(o.get("map") for o in charts)
    # Ranked bars (a counts axis on the right): categories, tags and now the districts.
    assert sum(len(o["options"].get("yAxis", [])) == 2 for o in charts) == 3
    assert any("未找到地图文件" in c.value for c in at.caption)


# ---- privacy -------------------------------------------------------------------------------

SECRET = {"name": "欧阳秘密", "id_number": "33010619800101777X", "phone": "13999887766",
          "organization": "保密测试有限公司", "position": "机要职务甲"}


def _numbers_in_series(options: dict):
    """Every count a chart's series carries (the y of [x, y] pairs, the value of items)."""
    for series in options.get("series", []):
        for item in series.get("data", []):
            if isinstance(item, dict):
                yield item.get("value")
            elif isinstance(item, list):
                yield item[-1]
            else:
                yield item


def test_no_personal_field_and_no_small_count_reaches_the_page(make_app, store_url):
    engine = create_store_engine(store_url)
    # The hand-made store: 5 persons, so every category, district, tag and stage count is below 5,
    # and the one with the secret fields is among them.
    fill_store(engine, extra={1: SECRET})
    engine.dispose()
    at = open_cockpit(make_app, store_url, kiosk="1")
    text = page_text(at)
    for field, value in SECRET.items():
        assert value not in text, f"{field} reached the page"
    assert "测试2" not in text  # the other persons' names neither
    charts = echarts_options(at)
    assert charts
    for o in charts:
        for n in _numbers_in_series(o["options"]):
            assert n is None or abs(n) >= 5, f"count {n} reached the page"
        # Category axes carry the counts as labels: only "<5" or numbers of at least 5.
        for axis in o["options"].get("yAxis", []):
            for label in axis.get("data") or []:
                if re.fullmatch(r"[\d,]+", str(label)):
                    assert int(str(label).replace(",", "")) >= 5
    body = html_of(at)
    values = re.findall(r'<div class="value">([^<]*)</div>', body)
    assert values and "5" in values[0]  # 5 persons in all: shown
    assert all(v in ("&lt;5", "—") or int(v.rstrip("%").replace(",", "").split(".")[0]) >= 5 or v.endswith("%")
               for v in values), values
    assert "&lt;5" in body


def test_map_of_a_district_scoped_viewer_says_nothing_about_other_districts(make_app, store_url, monkeypatch):
    import time

    from store.scope import Scope
    from ui.auth import Viewer

    engine = create_store_engine(store_url)
    fill_store(engine)  # 2 persons in 西湖区 (330106), 2 in 上城区 (330102)
    engine.dispose()
    at = make_app(store_url, kiosk="1")
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at.session_state["viewer"] = Viewer(name="d_leader", role="leader", scope=Scope(districts=("330106",)))
    at.session_state["last_seen"] = time.time()
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    maps = [o for o in echarts_options(at) if o.get("map")]
    assert len(maps) == 1
    items = {i["name"]: i for i in maps[0]["options"]["series"][0]["data"]}
    assert len(items) == 13
    # The viewer's own district: a small count, suppressed as such.
    assert items["西湖区"]["label"]["formatter"] == "西湖区\n<5"
    assert items["西湖区"]["tooltip"]["formatter"].startswith("西湖区：<5")
    # Every other district, 上城区 with its 2 persons too: no value, no "<5", in label or tooltip.
    for name, item in items.items():
        if name == "西湖区":
            continue
        assert item.get("value") is None, name
        assert item["label"]["formatter"] == name and item["tooltip"]["formatter"] == name


def test_threshold_setting_is_honoured(make_app, store_url, monkeypatch):
    engine = create_store_engine(store_url)
    fill_store(engine)
    engine.dispose()
    monkeypatch.setenv("BRAIN_PRIVACY_THRESHOLD", "10")
    at = open_cockpit(make_app, store_url, kiosk="1")
    body = html_of(at)
    assert '<div class="value">&lt;10</div>' in body  # 5 persons in all, now under the threshold


# ---- speed: one statement per chart cold, none warm ---------------------------------------

class QueryLog:
    """Every statement any engine runs, with the store/queries function that issued it (if any)."""

    def __init__(self):
        self.rows: list[tuple[str | None, str]] = []

    def __call__(self, conn, cursor, statement, *rest):
        if statement.strip().upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
            return
        origin = None
        for frame in traceback.extract_stack():
            if frame.filename.endswith(("store/queries/cockpit.py", "store/version.py", "store/reps.py")):
                origin = frame.name  # the outermost frame there: the query function itself
                break
        self.rows.append((origin, statement))

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self)


def test_cold_render_is_one_statement_per_chart_and_a_warm_refresh_none(make_app, demo_url, cold_cache):
    at = make_app(demo_url, kiosk="1")
    with QueryLog() as cold:
        at.run()  # the cockpit is the default page
    assert not at.exception, at.exception
    by_origin: dict[str | None, int] = {}
    for origin, _ in cold.rows:
        by_origin[origin] = by_origin.get(origin, 0) + 1
    cockpit_queries = {k: v for k, v in by_origin.items() if k not in (None, "watched_versions")}
    # headline, the representatives' responses and 8 panels, each exactly one statement.
    assert cockpit_queries == {name: 1 for name in (
        "headline", "liveness", "by_category", "age_gender", "by_education", "by_district", "monthly_participation",
        "by_stage", "top_tags", "activity_feed")}
    # One version check after the cold start (the background watch may add one if the render is slow).
    assert 1 <= by_origin.get("watched_versions", 0) <= 2

    with QueryLog() as warm:
        at.run()
    assert not at.exception
    assert warm.rows == []


def test_an_import_shows_at_the_next_refresh(make_app, own_demo_url):
    import ui.cache

    at = open_cockpit(make_app, own_demo_url, kiosk="1")
    assert "2,000" in html_of(at)
    engine = create_store_engine(own_demo_url)
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(person), [
            {"name": f"新人{i}", "category_code": "other", "stage": "discover", "created_at": now, "updated_at": now,
             "birth_date": date(1990, 1, 1)} for i in range(3)
        ])
        bump_data_version(conn)
    engine.dispose()
    # Another system wrote: the version watch would see it within `version_check_seconds`; look now.
    ui.cache._watch_for.clear()
    with QueryLog() as log:
        at.run()
    assert "2,003" in html_of(at)
    assert sum(origin == "headline" for origin, _ in log.rows) == 1
