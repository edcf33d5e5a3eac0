"""In a real browser: the profile's enterprise card (shareholders, risk records, the warning) and the
lifecycle candidates' risk warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import changes as ch
from store import enterprises as ent
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.browser_support import browser_page, streamlit_server, wait_for_app
from tests.test_enterprise_warnings import CODE, cultivated_with_checkins, dishonest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "enterprises"
WAIT_MS = 90_000


@pytest.fixture
def seeded(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    risky = cultivated_with_checkins(engine, "王老板")
    cultivated_with_checkins(engine, "李经理")
    dishonest(engine, risky)
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid = ent.enterprise_id_for(cs, CODE)
        ent.save_shareholder(cs, eid, dict(name="杭州丁投资合伙企业（有限合伙）", kind="enterprise", share=40.0))
    engine.dispose()
    return url, risky


CELL_SHOWN_JS = """(text) => [...document.querySelectorAll('[data-testid="stDataFrame"] [role="gridcell"], '
                                      + '[data-testid="stDataFrame"] td')].some(c => c.textContent.includes(text))"""


def wait_for_cell(page, text: str) -> None:
    """Until a table shows a cell holding `text` (the grids draw on a canvas and keep an accessible copy of
    the cells they have drawn: each table is brought into view first)."""
    for grid in page.locator('[data-testid="stDataFrame"]').all():
        grid.scroll_into_view_if_needed()
        if page.evaluate(CELL_SHOWN_JS, text):
            return
    page.wait_for_function(CELL_SHOWN_JS, arg=text, timeout=WAIT_MS)


def test_the_enterprise_card_and_the_candidates_warning(seeded, chromium):
    url, risky = seeded
    SHOTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server(url) as base, browser_page(chromium, width=1600, height=1400) as (page, _):
        page.goto(f"{base}/explorer?person={risky}")
        wait_for_app(page, timeout_ms=WAIT_MS)
        card = page.locator('[class*="st-key-enterprise_card_"]').first
        card.wait_for(timeout=WAIT_MS)
        card.scroll_into_view_if_needed()
        text = card.inner_text()
        assert "杭州甲科技有限公司" in text and CODE in text and "法定代表人" in text
        assert "1 条风险记录" in text
        # Shareholders and risk records: two tables drawn inside the card.
        page.wait_for_function(
            """() => { const gs = [...document.querySelectorAll(
                           '[class*="st-key-enterprise_card_"] [data-testid="stDataFrame"]')];
                       return gs.length === 2 && gs.every(g => g.getBoundingClientRect().height > 0); }""",
            timeout=WAIT_MS)
        wait_for_cell(page, "失信被执行人")
        wait_for_cell(page, "杭州丁投资合伙企业（有限合伙）")
        card.scroll_into_view_if_needed()
        card.screenshot(path=str(SHOTS / "profile-card.png"))

        page.goto(f"{base}/lifecycle")
        wait_for_app(page, timeout_ms=WAIT_MS)
        heading = page.get_by_text("可推荐使用的人员").first
        heading.wait_for(timeout=WAIT_MS)
        heading.scroll_into_view_if_needed()
        wait_for_cell(page, "风险记录 1 条")
        warned = page.locator('[data-testid="stDataFrame"]',
                              has=page.locator('[role="gridcell"]:has-text("风险记录 1 条"), td:has-text("风险记录 1 条")'))
        warned.first.screenshot(path=str(SHOTS / "candidates.png"))


def test_an_admin_imports_enterprise_data_on_the_page(tmp_path, chromium):
    from tests.test_enterprise_import import MERGES, MESSY, xlsx

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    engine.dispose()
    data = xlsx(MESSY, MERGES)
    with streamlit_server(url) as base, browser_page(chromium, width=1600, height=1400) as (page, _):
        page.goto(f"{base}/enterprises")
        wait_for_app(page, timeout_ms=WAIT_MS)
        page.locator('input[type="file"]').set_input_files(files=[{
            "name": "企业数据.xlsx", "buffer": data,
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
        commit = page.get_by_role("button", name="写入 7 行")
        commit.wait_for(timeout=WAIT_MS)
        metrics = page.get_by_test_id("stMetricValue").all_inner_texts()
        assert metrics == ["10", "6", "1", "3"], metrics  # read, new, updated, rejected — as the CLI counts them
        commit.click()
        page.get_by_text("已写入第 1 批").wait_for(timeout=WAIT_MS)
        page.screenshot(path=str(SHOTS / "import.png"), full_page=True)


def test_the_cockpit_fits_its_cards_in_two_rows(tmp_path, chromium):
    """With enterprise figures the second row of cards holds five (the representatives' three and two):
    two rows, nothing cut off, at 1920×1080, and two abreast on a phone, the panels below them
    either way (the stylesheet is told of the extra cards)."""
    from loaders.demo import generate_demo
    from store import clock

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=300, seed=7, today=clock.today())
    risky = cultivated_with_checkins(engine, "王老板", checkins=0)
    dishonest(engine, risky)
    engine.dispose()
    cards_js = """() => [...document.querySelectorAll('.cockpit-kpi')].map(c => {
        const r = c.getBoundingClientRect();
        return {top: Math.round(r.top), bottom: r.bottom, right: r.right,
                overflow: c.scrollWidth > c.clientWidth + 1, text: c.innerText}; })"""
    first_panel_js = """() => Math.min(...[...document.querySelectorAll('[class*="st-key-cockpit_panel_"]')]
        .filter(p => getComputedStyle(p).visibility === 'visible').map(p => p.getBoundingClientRect().top))"""
    with streamlit_server(url) as base:
        for width, height in ((1920, 1080), (390, 844)):
            with browser_page(chromium, width=width, height=height) as (page, _):
                page.goto(f"{base}/cockpit?kiosk=1")
                wait_for_app(page, timeout_ms=WAIT_MS)
                page.locator('.cockpit-kpi[data-kpi="risk_alerts"]').wait_for(timeout=WAIT_MS)
                page.locator(".echarts-container").first.wait_for(timeout=WAIT_MS)
                cards, panels_from = page.evaluate(cards_js), page.evaluate(first_panel_js)
                if width == 1920:
                    page.screenshot(path=str(SHOTS / "cockpit-kpis.png"))
            assert len(cards) == 11, cards
            # Two rows (six cards abreast, then five); on a phone two abreast: three rows of each.
            rows = len({c["top"] for c in cards})
            assert rows == (2 if width == 1920 else 6), (width, cards)
            assert not [c["text"] for c in cards if c["overflow"]] and max(c["right"] for c in cards) <= width
            # The panels begin below the cards: the stylesheet counted the extra row.
            assert max(c["bottom"] for c in cards) <= panels_from, (width, panels_from)
