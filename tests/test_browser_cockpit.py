"""The cockpit in a real browser: every chart drawn, nothing fetched from outside, and a layout
that fits the window it is in — a laptop, a full-HD or a 4K screen, a phone — in both languages.

Saves the screenshots the README shows (docs/screenshots/) on request, every other one under
test-artifacts/.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.browser_support import (
    browser_page,
    chart_paint,
    cut_off,
    is_local,
    overlapping,
    ranking_bars,
    scroll_metrics,
    streamlit_server,
    text_boxes,
    wait_for_app,
    wait_for_charts,
)
from ui.theme import CAROUSEL, TURN_SECONDS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
# The README's screenshots are refreshed on request (BRAIN_UPDATE_SCREENSHOTS=1 make test);
# an ordinary run saves its shots under test-artifacts/ and leaves the tree clean.
README_SHOTS = os.environ.get("BRAIN_UPDATE_SCREENSHOTS")
SHOTS = ROOT / ("docs/screenshots" if README_SHOTS else "test-artifacts")
ARTIFACTS = ROOT / "test-artifacts"
CHARTS = 7  # ECharts charts of the full grid; the activity list is HTML
PANELS = '[class*="st-key-cockpit_panel_"]'
with open(ROOT / "data" / "regions.csv", encoding="utf-8") as fh:
    _districts = [row for row in csv.DictReader(fh) if row["level"] == "district"]
DISTRICTS = {"zh": {r["name_zh"] for r in _districts}, "en": {r["name_en"] for r in _districts}}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=2000, seed=42)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def demo_server(demo_store):
    with streamlit_server(demo_store) as base:
        yield base


def check_kiosk(page, requests) -> None:
    wait_for_app(page)
    wait_for_charts(page, CHARTS)
    paint = chart_paint(page)
    assert len(paint) == CHARTS
    blank = [p["key"] for p in paint if p["painted"] == 0]
    assert not blank, f"blank charts: {blank}"
    m = scroll_metrics(page)
    assert m["docScroll"] <= m["innerHeight"], m
    assert m["mainScroll"] <= m["mainClient"], m
    # Every panel lies inside the screen.
    bottoms = page.evaluate(f"""() => [...document.querySelectorAll('{PANELS}')]
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
    # A 4K browser at 100% zoom with the old ?scale=2: accepted and ignored (the layout follows the window).
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
        page.wait_for_selector(PANELS)
        assert page.locator(PANELS).count() == 1
        assert all(is_local(u) for u in requests)


# ---- the layout at every window size ---------------------------------------------------------

# (width, height, kiosk, languages): the big screens and laptops in kiosk mode, the laptop a member
# of staff has (the sidebar open), and a phone either way.
WINDOWS = [
    (1366, 768, True, ("zh", "en")),
    (1440, 900, True, ("zh", "en")),
    (1920, 1080, True, ("zh", "en")),
    (3840, 2160, True, ("zh", "en")),
    (390, 844, True, ("zh", "en")),
    (1440, 900, False, ("zh", "en")),
    (1366, 768, False, ("en",)),
    (390, 844, False, ("en",)),
]

TURN_JS = """(at) => {
    for (const a of document.getAnimations()) {
        if (a.animationName === 'cockpit-turn' || a.animationName === 'cockpit-scroll') {
            a.pause();
            a.currentTime = a.animationName === 'cockpit-turn' ? at : 0;
        }
    }
}"""


# The smallest type a reader can read, in CSS px: 10 on a laptop or a phone, more on a screen read
# from across a hall (a 4K wall: its design pixels doubled).
def smallest_type(width: int, height: int) -> float:
    return max(10.0, 10.0 * min(width / 1920, height / 1080))


RANKINGS = ["st-key-cockpit_chart_category", "st-key-cockpit_chart_tags"]
THINNEST_BAR = 4  # px: a thinner ranking bar has collapsed into a line


def layout_problems(page, width: int, height: int, kiosk: bool, lang: str) -> list[str]:
    """What is wrong with the cockpit as drawn now: labels that overlap, leave their box or are too
    small to read, ranking bars collapsed into lines, scrolling in kiosk mode, panels that leave
    the screen."""
    problems = []
    boxes = text_boxes(page)
    floor = smallest_type(width, height)
    if tiny := sorted({(b["text"], b["size"]) for b in boxes if b["size"] < floor - 0.5}):
        problems.append(f"labels smaller than {floor:g} px: {tiny[:8]}")
    for key, bars in ranking_bars(page, RANKINGS).items():
        if bars is not None and (not bars or min(bars) < THINNEST_BAR):
            problems.append(f"collapsed bars in {key}: {sorted(bars)[:5]}")
    charts_shown = page.evaluate("""() => [...document.querySelectorAll('.echarts-container')]
        .some(c => getComputedStyle(c).visibility === 'visible')""")
    if charts_shown and not any(b["kind"] == "chart" for b in boxes):
        problems.append("no chart labels measured")
    if pairs := overlapping(boxes):
        problems.append(f"overlapping labels: {pairs[:8]}")
    if cut := cut_off(boxes, width, height if kiosk else None):
        problems.append(f"labels cut off: {cut[:8]}")
    # The map names every district (small ones used to be dropped where labels met).
    on_map = {b["text"] for b in boxes if b.get("chart") == "st-key-cockpit_chart_map"}
    if on_map and (missing := DISTRICTS[lang] - on_map):
        problems.append(f"districts without a label: {sorted(missing)}")
    if kiosk:
        m = page.evaluate("""() => ({ docH: document.documentElement.scrollHeight, innerH: innerHeight,
            docW: document.documentElement.scrollWidth, innerW: innerWidth,
            mainH: document.querySelector('[data-testid="stMain"]').scrollHeight,
            mainClient: document.querySelector('[data-testid="stMain"]').clientHeight })""")
        if m["docH"] > m["innerH"] or m["docW"] > m["innerW"] or m["mainH"] > m["mainClient"]:
            problems.append(f"scrolls: {m}")
        # And the grid fills the screen (a 4K screen once got a 1080-pixel cockpit in its top half).
        reach = page.evaluate(f"""() => [...document.querySelectorAll('{PANELS}')].map(p => p.getBoundingClientRect())
            .reduce((r, b) => [Math.max(r[0], b.right), Math.max(r[1], b.bottom)], [0, 0])""")
        if reach[0] < 0.97 * width or reach[1] < 0.97 * height:
            problems.append(f"panels reach only {reach} of {width}x{height}")
    return problems


@pytest.mark.slow
def test_the_cockpit_fits_every_window_in_both_languages(chromium, demo_server):
    """No URL parameter: the window alone decides the layout. At each size and in each language,
    no two labels overlap and none leaves its box; in kiosk mode nothing scrolls. On a phone in
    kiosk mode the panels take turns: each is checked in its turn."""
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}
    for width, height, kiosk, languages in WINDOWS:
        for lang in languages:
            name = f"cockpit-{width}x{height}-{'kiosk' if kiosk else 'sidebar'}-{lang}"
            query = "&".join((["kiosk=1"] if kiosk else []) + [f"lang={lang}"])
            with browser_page(chromium, width=width, height=height) as (page, requests):
                page.goto(f"{demo_server}/cockpit?{query}")
                wait_for_app(page)
                wait_for_charts(page, CHARTS)
                turns = page.evaluate(f"""() => [...document.querySelectorAll('{PANELS}')]
                    .filter(p => getComputedStyle(p).animationName === 'cockpit-turn').length""")
                found = []
                if turns:
                    assert kiosk and turns == len(CAROUSEL), (name, turns)
                    for i, panel in enumerate(CAROUSEL):
                        page.evaluate(TURN_JS, (i + 0.5) * TURN_SECONDS * 1000)
                        shown = page.evaluate(f"""() => [...document.querySelectorAll('{PANELS}')]
                            .filter(p => getComputedStyle(p).visibility === 'visible')
                            .map(p => [...p.classList].find(c => c.startsWith('st-key-')))""")
                        assert shown == [f"st-key-cockpit_panel_{panel}"], (name, i, shown)
                        found += [f"{panel}: {p}" for p in layout_problems(page, width, height, kiosk, lang)]
                    page.evaluate(TURN_JS, 0.5 * TURN_SECONDS * 1000)
                else:
                    page.evaluate(TURN_JS, 0)
                    found = layout_problems(page, width, height, kiosk, lang)
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
                assert all(is_local(u) for u in requests)
            if found:
                problems[name] = found
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_the_clock_follows_a_language_switch(chromium, demo_server):
    """Switching to English changes the weekday for good (it used to alternate with the Chinese one)."""
    with browser_page(chromium, width=1440, height=900) as (page, _):
        page.goto(f"{demo_server}/cockpit")
        wait_for_app(page)
        page.wait_for_selector(".brain-clock .wd")
        assert "星期" in page.locator(".brain-clock").inner_text()
        page.get_by_text("English", exact=True).click()
        page.wait_for_selector("text=United-Front Brain")
        page.wait_for_timeout(1500)
        seen = set()
        for _ in range(8):
            seen.add(page.locator(".brain-clock .wd").inner_text())
            page.wait_for_timeout(400)
        assert not [s for s in seen if "星期" in s], seen
        assert all(re.search(r"\b(Sun|Mon|Tue|Wed|Thu|Fri|Sat)\b", s) for s in seen), seen


@pytest.mark.parametrize("day, zh, en", [("2028-02-29", "星期二", "Tue"), ("2027-01-01", "星期五", "Fri")])
def test_the_clock_shows_the_pinned_day(chromium, demo_store, day, zh, en):
    """One clock: a server whose day is pinned (BRAIN_TODAY) shows that day on the big screen's clock
    too, with its weekday in the page's language; the time of day runs on."""
    with streamlit_server(demo_store, env={"BRAIN_TODAY": day}) as base:
        for lang, weekday in (("zh", zh), ("en", en)):
            with browser_page(chromium, width=1920, height=1080) as (page, _):
                page.goto(f"{base}/cockpit?kiosk=1&lang={lang}")
                wait_for_app(page)
                page.wait_for_selector(".brain-clock .wd")
                date_part = page.locator(".brain-clock .wd").inner_text()
                assert date_part.split() == [day, weekday], date_part
                time_part = page.locator(".brain-clock").inner_text().replace(date_part, "").strip()
                assert re.fullmatch(r"\d\d:\d\d:\d\d", time_part), time_part


@pytest.mark.slow
def test_a_resized_window_lays_itself_out_again(chromium, demo_server):
    """Charts re-read their size rules when the window changes: nothing of the old size stays."""
    with browser_page(chromium, width=1920, height=1080) as (page, _):
        page.goto(f"{demo_server}/cockpit?kiosk=1&lang=en")
        wait_for_app(page)
        wait_for_charts(page, CHARTS)
        for width, height in ((1366, 768), (3840, 2160), (1440, 900)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(1500)
            page.evaluate(TURN_JS, 0)
            assert not layout_problems(page, width, height, True, "en"), (width, height)
