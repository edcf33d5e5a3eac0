"""Real-browser helpers: a Streamlit server on a free port and an offline Chromium page.

Reusable by any page's browser test:

    from tests.browser_support import streamlit_server, browser_page, wait_for_app

    with streamlit_server(store_url) as base_url, browser_page() as (page, requests):
        page.goto(f"{base_url}/?kiosk=1")
        wait_for_app(page)
        assert all(is_local(u) for u in requests)

or through the fixtures `streamlit_app` (a function store URL -> base URL; servers
stop at the end of the test) and `chromium` (one browser per test session).
Debian's chromium is used as installed; Playwright never downloads a browser.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("BRAIN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# No background traffic of the browser's own: every request a test sees comes from the page.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (data: and blob: URLs never leave it)."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


@contextmanager
def streamlit_server(store_url: str, *, env: dict[str, str] | None = None, timeout: float = 60):
    """Serve app.py against `store_url` on a free port; yields the base URL, stops the server after."""
    port = free_port()
    server_env = {**os.environ, "DATABASE_URL": store_url, "BRAIN_REQUIRE_LOGIN": "0", **(env or {})}
    # The project's launcher when there is one (it keeps Streamlit from serving pages/ on its own).
    launcher = ["-m", "ui.serve"] if (ROOT / "ui" / "serve.py").exists() else ["-m", "streamlit", "run", "app.py"]
    cmd = [sys.executable, *launcher, "--server.port", str(port),
           "--server.headless", "true", "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{out[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("streamlit did not become healthy")
            time.sleep(0.3)
        yield base
    finally:
        # Only the group this helper started (its own session).
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        if proc.stdout:
            proc.stdout.close()


@contextmanager
def launch_chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make browser-deps)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(browser=None, *, width: int = 1920, height: int = 1080, device_scale_factor: float = 1):
    """A fresh page of the given viewport; yields (page, requests) where `requests` collects every URL asked for."""
    with (launch_chromium() if browser is None else _as_is(browser)) as b:
        context = b.new_context(viewport={"width": width, "height": height},
                                device_scale_factor=device_scale_factor, locale="zh-CN",
                                timezone_id="Asia/Shanghai")
        requests: list[str] = []
        context.on("request", lambda req: requests.append(req.url))
        page = context.new_page()
        try:
            yield page, requests
        finally:
            context.close()


@contextmanager
def _as_is(value):
    yield value


def wait_for_app(page, *, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has rendered: the app is there and no script run is in progress."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const w = document.querySelector('[data-testid="stStatusWidget"]');
            return !w || w.offsetParent === null || !/running|运行/i.test(w.innerText || '');
        }""",
        timeout=timeout_ms,
    )
    page.wait_for_selector('[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"]',
                           timeout=timeout_ms)


CHARTS_DRAWN_JS = """(n) => {
    const cs = [...document.querySelectorAll('.echarts-container')];
    return cs.length >= n && cs.every(c => {
        const svg = c.querySelector('svg');
        if (svg) return svg.getBoundingClientRect().width > 0 && svg.querySelector('path') !== null;
        const canvas = c.querySelector('canvas');
        return canvas !== null && canvas.width > 0 && canvas.height > 0;
    });
}"""


def wait_for_charts(page, count: int, *, timeout_ms: int = 60_000) -> None:
    """Wait until at least `count` ECharts charts exist and every one has drawn (SVG or canvas)."""
    page.wait_for_function(CHARTS_DRAWN_JS, arg=count, timeout=timeout_ms)
    # Let entry animations finish before anybody inspects pixels.
    page.wait_for_timeout(1500)


CHART_PAINT_JS = """() => [...document.querySelectorAll('.echarts-container')].map((c, i) => {
    const key = c.closest('[class*="st-key-"]');
    const name = key ? [...key.classList].find(x => x.startsWith('st-key-')) : null;
    const svg = c.querySelector('svg');
    if (svg) return { index: i, painted: svg.querySelectorAll('path').length, key: name };
    const canvas = c.querySelector('canvas');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let k = 3; k < data.length; k += 4 * 7) { if (data[k] > 0) painted++; }
    return { index: i, painted, key: name };
})"""


def chart_paint(page) -> list[dict]:
    """For each ECharts chart: how much it drew (SVG paths, or sampled canvas pixels; 0 = blank)."""
    return page.evaluate(CHART_PAINT_JS)


SCROLL_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const doc = document.documentElement;
    return { innerHeight: window.innerHeight, docScroll: doc.scrollHeight,
             mainScroll: main ? main.scrollHeight : 0, mainClient: main ? main.clientHeight : 0 };
}"""


def scroll_metrics(page) -> dict:
    """The document's and Streamlit's main scroll container's content and visible heights."""
    return page.evaluate(SCROLL_JS)


# Every piece of text on the cockpit a reader must be able to read, as boxes: DOM text by line
# (a Range's rectangles) and chart labels (SVG <text>). A box is the line's em box (the font
# size tall, centred on the line): line boxes of CJK fonts are taller than the glyphs, and two
# rows of a ranking may sit closer than their line boxes without touching. Each box has an
# `owner`, the box it must not leave: its number card, panel, title bar or chart.
TEXT_BOXES_JS = """() => {
    const shown = (el) => {
        for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
            const cs = getComputedStyle(e);
            if (cs.display === 'none' || parseFloat(cs.opacity) === 0) return false;
        }
        return getComputedStyle(el).visibility === 'visible';
    };
    const box = (r, fontSize) => {
        const h = Math.min(r.height, fontSize), mid = r.top + r.height / 2;
        return { left: r.left, right: r.right, top: mid - h / 2, bottom: mid + h / 2 };
    };
    const rect = (el) => { const r = el.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
    const owners = '.cockpit-kpi, [class*="st-key-cockpit_panel_"], .st-key-cockpit_titlebar_box';
    const out = [];
    const dom = document.querySelectorAll('.cockpit-titlebar .t-left, .cockpit-titlebar h1, .cockpit-titlebar .sub, '
        + '.brain-clock, .cockpit-kpi .label, .cockpit-kpi .value, .cockpit-kpi .note, .panel-title');
    for (const el of dom) {
        if (!shown(el)) continue;
        const owner = el.closest(owners) || el.closest('.st-key-cockpit_titlebar_box');
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent.trim();
            if (!text) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            const size = parseFloat(getComputedStyle(node.parentElement).fontSize);
            for (const r of range.getClientRects()) {
                if (r.width > 0) out.push({ kind: 'dom', text, size, ...box(r, size), owner: owner ? rect(owner) : null });
            }
        }
    }
    for (const t of document.querySelectorAll('.echarts-container svg text')) {
        const text = (t.textContent || '').trim();
        if (!text || !shown(t)) continue;
        const r = t.getBoundingClientRect();
        if (r.width === 0) continue;
        const key = t.closest('[class*="st-key-cockpit_chart_"]');
        const size = parseFloat(getComputedStyle(t).fontSize);
        out.push({ kind: 'chart', chart: key ? [...key.classList].find(x => x.startsWith('st-key-')) : '',
                   text, size, ...box(r, size),
                   owner: rect(t.closest('.echarts-container')) });
    }
    return out;
}"""


def text_boxes(page) -> list[dict]:
    """Every visible label of the cockpit with its font size (CSS px), its em box and the box it must
    stay in (see TEXT_BOXES_JS)."""
    return page.evaluate(TEXT_BOXES_JS)


# The bars of each visible ranking (horizontal bars drawn with the ranking's gradient): their
# thickness in CSS px. A ranking squeezed into too low a box draws hairlines, or no bars at all.
RANKING_BARS_JS = """(keys) => Object.fromEntries(keys.map(key => {
    const chart = document.querySelector('.' + key + ' .echarts-container');
    if (!chart || getComputedStyle(chart).visibility !== 'visible') return [key, null];
    const bars = [...chart.querySelectorAll('svg path')]
        .filter(p => (p.getAttribute('fill') || '').startsWith('url('))
        .map(p => p.getBoundingClientRect().height);
    return [key, bars];
}))"""


def ranking_bars(page, keys: list[str]) -> dict[str, list[float] | None]:
    """For each ranking chart (by its st-key- class): its bars' thickness, or None when it is not shown."""
    return page.evaluate(RANKING_BARS_JS, keys)


def overlapping(boxes: list[dict], slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes intersect by more than `slack` px both ways."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a["right"], b["right"]) - max(a["left"], b["left"]) > slack
                    and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > slack):
                pairs.append((a["text"], b["text"]))
    return pairs


def cut_off(boxes: list[dict], width: float, height: float | None, slack: float = 1.0) -> list[str]:
    """Labels that leave their owner's box, or the window (its height only when given)."""
    out = []
    for b in boxes:
        frames = [b["owner"]] if b["owner"] else []
        frames.append({"left": 0, "top": 0, "right": width, "bottom": height if height is not None else 1e9})
        for f in frames:
            if (b["left"] < f["left"] - slack or b["right"] > f["right"] + slack
                    or b["top"] < f["top"] - slack or b["bottom"] > f["bottom"] + slack):
                out.append(b["text"])
                break
    return out
