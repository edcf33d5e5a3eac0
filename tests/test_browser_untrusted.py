"""Untrusted text is data, never markup: names, organisations, tags and activity titles
holding HTML or template syntax show as text on every page, in tables, labels and tooltips."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from store import clock
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.schema import activity, participation, person, person_tag, tag
from tests.browser_support import browser_page, streamlit_server, wait_for_app, wait_for_charts

pytestmark = pytest.mark.browser

NAME = "<img src=x onerror=window.__xss=1>"
ORG = "{{7*7}}<b>粗体</b>"
TAG = "<img src=x onerror=window.__xss=2>"
TITLE = "<script>window.__xss=3</script><img src=x onerror=window.__xss=4>讲座"

# Any element the payloads would create if they were treated as markup.
INJECTED_JS = """() => ({
    xss: window.__xss === undefined ? null : window.__xss,
    imgs: document.querySelectorAll('img[src="x"]').length,
    bolds: [...document.querySelectorAll('b')].filter(b => b.textContent === '粗体').length,
})"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('untrusted') / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    today = clock.today()
    generate_demo(engine, persons=400, seed=9, today=today)
    now = datetime.combine(today, datetime.min.time())
    with engine.begin() as conn:
        pid = conn.execute(insert(person).values(
            name=NAME, organization=ORG, category_code="other", district_code="330106",
            created_at=now, updated_at=now).returning(person.c.id)).scalar_one()
        tag_id = conn.execute(insert(tag).values(name=TAG).returning(tag.c.id)).scalar_one()
        ids = [pid] + list(conn.execute(select(person.c.id).order_by(person.c.id).limit(80)).scalars())
        conn.execute(insert(person_tag), [{"person_id": i, "tag_id": tag_id} for i in set(ids)])
        next_id = (conn.execute(select(func.max(activity.c.id))).scalar() or 0) + 1
        conn.execute(insert(activity).values(id=next_id, title=TITLE, kind="lecture", district_code="330106",
                                             starts_at=now + timedelta(days=2, hours=9), online=True))
        conn.execute(insert(participation), [{"activity_id": next_id, "person_id": i, "status": "registered",
                                              "registered_at": now} for i in ids[:20]])
    engine.dispose()
    with streamlit_server(url) as base:
        yield base


def assert_inert(page) -> None:
    seen = page.evaluate(INJECTED_JS)
    assert seen == {"xss": None, "imgs": 0, "bolds": 0}, seen


def hover_over_canvases(page) -> None:
    """Move the mouse across every chart so ECharts renders its tooltips."""
    boxes = page.evaluate("""() => [...document.querySelectorAll('.echarts-container')]
        .map(c => { const r = c.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })""")
    for x, y, w, h in boxes:
        for fx in (0.3, 0.5, 0.7):
            for fy in (0.1, 0.2, 0.3, 0.5, 0.7):
                page.mouse.move(x + w * fx, y + h * fy)
                page.wait_for_timeout(20)


def test_cockpit_shows_hostile_text_as_text(chromium, hostile_server):
    with browser_page(chromium) as (page, _):
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{hostile_server}/?kiosk=1")
        wait_for_app(page)
        wait_for_charts(page, 7)
        assert TITLE in page.locator(".cockpit-feed").inner_text()
        hover_over_canvases(page)
        assert_inert(page)
        assert not dialogs


def test_explorer_and_activities_show_hostile_text_as_text(chromium, hostile_server):
    with browser_page(chromium, width=1600, height=1400) as (page, _):
        page.goto(f"{hostile_server}/explorer?keyword=%3Cimg")
        wait_for_app(page)
        page.wait_for_timeout(3000)
        # The keyword matched the hostile name literally (the list itself is a canvas grid).
        assert "共 1 人" in page.inner_text("body")
        assert_inert(page)
        page.goto(f"{hostile_server}/activities")
        wait_for_app(page)
        page.wait_for_timeout(3000)
        assert_inert(page)
