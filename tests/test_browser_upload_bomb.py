"""A real server is sent used-range bombs through the import page and the enterprise import: each is
refused on screen, and the same server then serves pages (before the fix the first upload aborted the
whole process)."""

from __future__ import annotations

import re
import urllib.request

import pytest

from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.browser_support import browser_page, is_local, wait_for_app
from tests.data.hostile_files import ROSTER, roster_with, xls_bytes, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"


def refusal(page, name: str, mime: str, data: bytes, expected: str, opening: str = "无法读取这个文件") -> str:
    """Upload a file; the text of the refusal naming `expected` (the one of an earlier upload may linger)."""
    page.locator('input[type="file"]').set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
    # The page escapes the message as markdown: an invisible word joiner follows each ':'.
    alert = page.get_by_test_id("stAlert").filter(has_text=opening).filter(
        has_text=re.compile(re.escape(expected).replace(":", ":\u2060?")))
    alert.wait_for(timeout=60_000)
    return alert.inner_text().replace("\u2060", "")


def test_bombs_are_refused_and_the_server_stays_up(tmp_path, streamlit_app, chromium):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    engine.dispose()
    base = streamlit_app(url)
    with browser_page(chromium, width=1440, height=1000) as (page, requests):
        page.goto(f"{base}/data_import")
        wait_for_app(page)
        page.get_by_text("还没有导入记录").wait_for()

        # No declared range: the parse itself asks for ~512 GiB (the crash of the report).
        text = refusal(page, "名单.xlsx", XLSX, xlsx_bytes(roster_with((1_048_576, 16_384)), dimension=None), "内存")
        assert "memory" in text
        # A declared one, on an .xls: refused before any parser runs.
        text = refusal(page, "名单.xls", XLS, xls_bytes(ROSTER, dimension=(1_048_576, 16_384)), "A1:XFD1048576")
        assert "工作表「名单」" in text and "sheet '名单'" in text

        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as resp:
            assert resp.status == 200
        assert all(is_local(u) for u in requests)

    # The enterprise import reads through the same child and limits: refused there too, the server up.
    with browser_page(chromium, width=1440, height=1000) as (page, requests):
        page.goto(f"{base}/enterprises")
        wait_for_app(page)
        text = refusal(page, "工商.xlsx", XLSX, xlsx_bytes(roster_with((1_048_576, 16_384)), dimension=None), "内存",
                       opening="读取该文件")
        assert "memory" in text
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as resp:
            assert resp.status == 200
        assert all(is_local(u) for u in requests)

    # A new session on the same server: the page renders, and a sane file still imports.
    with browser_page(chromium, width=1440, height=1000) as (page, _):
        page.goto(f"{base}/data_import")
        wait_for_app(page)
        page.get_by_text("还没有导入记录").wait_for()
        page.locator('input[type="file"]').set_input_files(
            files=[{"name": "名单.xlsx", "mimeType": XLSX, "buffer": xlsx_bytes(ROSTER, dimension=(2, 3))}])
        page.get_by_text("试运行结果").wait_for(timeout=60_000)
