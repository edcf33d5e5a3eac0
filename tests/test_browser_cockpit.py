"""The cockpit in a real browser, kiosk mode: every chart drawn, no scrolling, nothing fetched from outside.

Saves the screenshots the README shows (docs/screenshots/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.browser_support import (
    browser_page,
    canvas_paint,
    is_local,
    scroll_metrics,
    streamlit_server,
    wait_for_app,
    wait_for_canvases,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
# The README's screenshots are refreshed on request (BRAIN_UPDATE_SCREENSHOTS=1 make test);
# an ordinary run saves its shots under test-artifacts/ and leaves the tree clean.
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("BRAIN_UPDATE_SCREENSHOTS") else "test-artifacts")
CHARTS = 7  # ECharts canvases of the full grid; the activity list is HTML


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=2000, seed=42)
    engine.dispose()
    with streamlit_server(url) as base:
        yield base


def check_kiosk(page, requests) -> None:
    wait_for_app(page)
    wait_for_canvases(page, CHARTS)
    paint = canvas_paint(page)
    assert len(paint) == CHARTS
    blank = [p["key"] for p in paint if p["painted"] == 0]
    assert not blank, f"blank charts: {blank}"
    m = scroll_metrics(page)
    assert m["docScroll"] <= m["innerHeight"], m
    assert m["mainScroll"] <= m["mainClient"], m
    # Every panel lies inside the screen.
    bottoms = page.evaluate("""() => [...document.querySelectorAll('[class*="st-key-cockpit_panel_"]')]
        .map(e => e.getBoundingClientRect().bottom)""")
    assert len(bottoms) == 8 and max(bottoms) <= m["innerHeight"], bottoms
    assert page.locator(".cockpit-feed li").count() > 0
    assert page.locator(".brain-clock").inner_text().strip()
    outside = [u for u in requests if not is_local(u)]
    assert not outside, outside


@pytest.mark.parametrize("width,height,scale,dsf,shot", [
    (1920, 1080, None, 1, "cockpit-1920x1080.png"),
    # A 4K wall at 200% zoom: the same layout, every pixel doubled.
    (1920, 1080, None, 2, "cockpit-3840x2160.png"),
    # A 4K browser at 100% zoom: ?scale=2 doubles the layout instead.
    (3840, 2160, 2, 1, None),
])
def test_kiosk_fills_the_screen_offline(chromium, demo_server, width, height, scale, dsf, shot):
    query = "kiosk=1" + (f"&scale={scale}" if scale else "")
    with browser_page(chromium, width=width, height=height, device_scale_factor=dsf) as (page, requests):
        page.goto(f"{demo_server}/?{query}")  # the cockpit is the default page
        check_kiosk(page, requests)
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / shot))


def test_carousel_draws_one_panel(chromium, demo_server):
    with browser_page(chromium) as (page, requests):
        page.goto(f"{demo_server}/?kiosk=1&carousel=30")
        wait_for_app(page)
        page.wait_for_selector('[class*="st-key-cockpit_panel_"]')
        assert page.locator('[class*="st-key-cockpit_panel_"]').count() == 1
        assert all(is_local(u) for u in requests)
