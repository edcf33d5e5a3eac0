"""The explorer's person list in a real browser: a closed profile can be reopened from its row,
a new search closes the open profile, and the table offers no CSV download beside the
audited export."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from store import clock
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.browser_support import browser_page, streamlit_server, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The grid is a canvas: rows are found by position. Header and rows are 35 px tall;
# the row marker (the selection checkbox) is the first ~30 px of a row.
ROW_PX = 35


@pytest.fixture
def demo_url(tmp_path):
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=300, seed=3, today=clock.today())
    engine.dispose()
    return url


def opened(page) -> str | None:
    return (parse_qs(urlparse(page.url).query).get("person") or [None])[0]


def profile_heading(page):
    return page.locator("h3", has_text="人员详情")


def tick_first_row(page) -> None:
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + ROW_PX + ROW_PX / 2)


def test_profile_closes_reopens_and_follows_the_search(demo_url, chromium, tmp_path):
    with streamlit_server(demo_url) as base, browser_page(chromium, width=1600, height=1400) as (page, _):
        page.goto(f"{base}/explorer")
        wait_for_app(page)
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)

        # No "Download as CSV" of the visible page: exports go through the audited button only.
        grid = page.locator('[data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        page.mouse.move(box["x"] + 200, box["y"] + 2 * ROW_PX)
        page.wait_for_selector('[data-testid="stElementToolbar"] button', state="attached", timeout=10_000)
        labels = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stElementToolbar"] button')]
                                  .map(b => (b.getAttribute('aria-label') || '') + ' ' + b.innerText)""")
        assert any("Search" in label for label in labels), labels  # the toolbar is there ...
        assert not any("Download" in label or "CSV" in label or "下载" in label for label in labels), labels

        tick_first_row(page)
        page.wait_for_function("() => new URLSearchParams(location.search).has('person')", timeout=30_000)
        profile_heading(page).wait_for(timeout=30_000)
        first = opened(page)

        page.get_by_role("button", name="关闭详情").click()
        page.wait_for_function("() => !new URLSearchParams(location.search).has('person')", timeout=30_000)
        wait_for_app(page)
        profile_heading(page).wait_for(state="detached", timeout=30_000)

        # The row is no longer ticked: ticking it again opens the same person again.
        tick_first_row(page)
        page.wait_for_function("() => new URLSearchParams(location.search).has('person')", timeout=30_000)
        profile_heading(page).wait_for(timeout=30_000)
        assert opened(page) == first

        # A new search is about other persons: the profile closes.
        keyword = page.get_by_role("textbox", name="姓名或单位关键词")
        keyword.fill("张")
        keyword.press("Enter")
        page.wait_for_function("() => new URLSearchParams(location.search).has('keyword')", timeout=30_000)
        wait_for_app(page)
        assert opened(page) is None
        profile_heading(page).wait_for(state="detached", timeout=30_000)
        page.screenshot(path=str(tmp_path / "explorer-rows.png"), full_page=True)
