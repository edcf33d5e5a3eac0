"""The explorer in a real browser: charts draw, a click on a bar narrows the filter and the URL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from store import clock
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.browser_support import browser_page, streamlit_server, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def demo_url(tmp_path):
    demo = pytest.importorskip("loaders.demo")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    demo.generate_demo(engine, persons=2000, seed=3, today=clock.today())
    engine.dispose()
    return url


def wait_for_plots(page, count: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot g.point').length > 0 && "
                           f"document.querySelectorAll('.js-plotly-plot').length >= {count}", timeout=90_000)


def headcount(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').first
    return int(re.sub(r"\D", "", metric.locator('[data-testid="stMetricValue"]').inner_text()))


def test_click_a_bar_to_filter(demo_url, tmp_path, chromium):
    with streamlit_server(demo_url) as base, browser_page(chromium, width=1600, height=1400) as (page, requests):
        page.goto(f"{base}/explorer")
        wait_for_app(page)
        wait_for_plots(page, 3)
        before = headcount(page)
        assert before == 2000
        # The district chart is the second plot; its first bar is the largest district.
        # Plotly's drag layer lies over the bars and turns a click there into a point click.
        # A click that lands while the chart is still being laid out selects nothing: click again.
        for attempt in range(3):
            box = page.locator(".js-plotly-plot").nth(1).locator("g.point path").first.bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7)
            try:
                page.wait_for_function("() => window.location.search.includes('districts=')", timeout=20_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        wait_for_app(page)
        page.wait_for_function(
            """() => !document.querySelector('[data-testid="stMetricValue"]').innerText.includes('2,000')""",
            timeout=30_000)
        after = headcount(page)
        districts = parse_qs(urlparse(page.url).query)["districts"]
        assert len(districts) == 1 and 0 < after < before
        page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
