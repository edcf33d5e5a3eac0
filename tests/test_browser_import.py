"""The import page in a real browser: upload, dry run, error report, commit, history, undo."""

from __future__ import annotations

import io
import re
from contextlib import contextmanager

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.schema import import_batch, person
from tests.browser_support import browser_page, is_local, wait_for_app
from tests.data.staff_files import ID_LI, ID_WANG

pytestmark = pytest.mark.browser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fixture_file() -> bytes:
    """Two persons and one row with an unknown category (rejected)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "身份证号", "手机号码", "统战对象类别"])
    ws.append([1, "王伟", ID_WANG, "13812345678", "非公经济人士"])
    ws.append([2, "李娜", ID_LI, "", "党外知识分子"])
    ws.append([3, "吴刚", "", "13600001111", "外星人"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def names(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(person.c.name)).scalars())


def statuses(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(import_batch.c.status).order_by(import_batch.c.id)).scalars())


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label)
    return box.get_by_test_id("stMetricValue").inner_text().strip()


@contextmanager
def import_page(tmp_path, streamlit_app, chromium):
    """The import page on a fresh store, in the browser: yields (page, requests, engine)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    base = streamlit_app(url)
    try:
        with browser_page(chromium, width=1440, height=1000) as (page, requests):
            page.goto(f"{base}/data_import")
            wait_for_app(page)
            yield page, requests, engine
    finally:
        engine.dispose()


def upload(page, name: str, data: bytes) -> None:
    page.locator('input[type="file"]').set_input_files(files=[{"name": name, "mimeType": XLSX, "buffer": data}])


def test_upload_dry_run_commit_undo(tmp_path, streamlit_app, chromium):
    with import_page(tmp_path, streamlit_app, chromium) as (page, requests, engine):
        page.get_by_text("还没有导入记录").wait_for()

        upload(page, "名单.xlsx", fixture_file())
        page.get_by_text("试运行结果").wait_for(timeout=60_000)
        wait_for_app(page)
        assert [metric(page, k) for k in ("读取行数", "将新增", "将拒绝")] == ["3", "2", "1"]
        assert names(engine) == [] and statuses(engine) == []

        # The error report is the rejected row as it was, plus 错误原因.
        with page.expect_download() as info:
            page.get_by_test_id("stDownloadButton").get_by_role("button").click()
        rows = list(load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active.values)
        assert rows[0][-1] == "错误原因" and rows[1][1] == "吴刚" and "第 4 行" in rows[1][-1]

        page.get_by_role("button", name=re.compile("确认导入")).click()
        page.get_by_text(re.compile("已导入「名单.xlsx」（第 1 批）")).wait_for(timeout=60_000)
        wait_for_app(page)
        assert names(engine) == ["李娜", "王伟"] and statuses(engine) == ["done"]
        # The history holds the batch, and it is offered for undo.
        page.get_by_text("共 1 批").wait_for()
        # By its label: the mapping form's selectboxes of the run before may still be fading out.
        choice = page.get_by_test_id("stSelectbox").filter(has_text="撤销一批导入").evaluate(
            "e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")
        assert "第 1 批 · 名单.xlsx" in choice

        page.get_by_role("button", name="撤销…").click()
        page.get_by_text("确定撤销第 1 批").wait_for()
        page.get_by_role("button", name="确认撤销").click()
        page.get_by_text("已撤销第 1 批").wait_for(timeout=60_000)
        wait_for_app(page)
        assert names(engine) == [] and statuses(engine) == ["undone"]
        assert all(is_local(u) for u in requests)


@pytest.mark.slow
def test_hostile_names_render_as_text(tmp_path, streamlit_app, chromium):
    """A header, sheet name and file name full of markdown show as typed: nothing fetched, no link, no formula."""
    from tests.test_data_import_page import HOSTILE_FILE, HOSTILE_HEADER, HOSTILE_SHEET, hostile_workbook

    with import_page(tmp_path, streamlit_app, chromium) as (page, requests, _engine):
        upload(page, HOSTILE_FILE, hostile_workbook())
        page.get_by_text("试运行结果").wait_for(timeout=60_000)
        wait_for_app(page)
        unmapped = shown(page.get_by_test_id("stCaptionContainer").filter(has_text="未识别的列"))
        assert HOSTILE_HEADER in unmapped and "\\" not in unmapped
        summary = shown(page.get_by_test_id("stMarkdown").filter(has_text="表头在第").first)
        assert f"工作表「{HOSTILE_SHEET}」" in summary and "\\" not in summary
        assert_no_markup(page)

        page.get_by_role("button", name=re.compile("确认导入")).click()
        page.get_by_text("已导入「").wait_for(timeout=60_000)
        wait_for_app(page)
        flash = shown(page.get_by_test_id("stAlert").filter(has_text="已导入「"))
        assert f"已导入「{HOSTILE_FILE}」" in flash  # :smile: too stays as typed
        assert_no_markup(page)
        assert not [u for u in requests if "header.png" in u or "evil" in u]
        assert all(is_local(u) for u in requests)


def shown(locator) -> str:
    """What a person reads (the word joiners that keep text from autolinking are invisible)."""
    return locator.inner_text().replace("\u2060", "")


def assert_no_markup(page) -> None:
    main = page.get_by_test_id("stMain")
    assert main.locator("img").count() == 0  # the header's image is text
    links = main.locator("a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert [href for href in links if not href.startswith("#")] == []  # no link, no autolink (#: heading anchors)
    assert main.locator(".katex").count() == 0  # $x$ is no formula
    assert main.locator("h1, h2, h3").filter(has_text="斜").count() == 0  # # is no heading
