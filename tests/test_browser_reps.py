"""A representative's phone in a real browser (390×844): open the personal link, confirm, propose a
change, add an honour with a photo, send a suggestion, answer a survey; staff, clicking on the desk
in a real browser too, accept part of the change and reject the rest with a reason, adopt the
suggestion with a reply, accept the record, read the survey's charts and download another
person's link; the representative sees the outcome. Every request stays local and carries nothing
personal."""

from __future__ import annotations

import io
import urllib.request
import zipfile

import pytest
from PIL import Image

from store import changes as ch
from store import reps
from store import surveys as sv
from store.engine import create_store_engine
from store.scope import Scope
from tests.browser_support import browser_page, is_local, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME, PHONE = "陈代表", "13955558888"
# The grid is a canvas: rows are found by position (header and rows 35 px; the tick box first).
ROW_PX = 35


def tick_first_row(page, key: str) -> None:
    grid = page.locator(f".st-key-{key} [data-testid='stDataFrame']")
    grid.wait_for(timeout=60_000)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + ROW_PX + ROW_PX / 2)


def staff_on_the_desk(desk, base: str, engine, other: int) -> None:
    desk.goto(f"{base}/reps")
    wait_for_app(desk)
    desk.wait_for_selector("text=保存审核结果", timeout=60_000)
    fields = reps.pending_fields(engine, Scope()).set_index("field")["field_id"]
    org, pos = int(fields["organization"]), int(fields["position"])
    desk.locator(f".st-key-reps_decide_{org}").get_by_text("采纳", exact=True).click()
    desk.locator(f".st-key-reps_decide_{pos}").get_by_text("拒绝", exact=True).click()
    desk.locator(f".st-key-reps_reason_{pos} input").fill("请提供任职文件")
    desk.get_by_role("button", name="保存审核结果").click()
    desk.get_by_text("已采纳 1 项，拒绝 1 项。").wait_for(timeout=60_000)
    desk.get_by_text("没有待审核的更正。").wait_for(timeout=60_000)

    desk.get_by_role("tab", name="建言献策").click()
    tick_first_row(desk, "reps_sugg_list")
    form = desk.locator("[data-testid='stForm']", has=desk.get_by_label("答复（代表可见）"))
    form.wait_for(timeout=60_000)
    form.locator("[data-testid='stSelectbox']").click()
    desk.get_by_role("option", name="已采纳").click()
    form.get_by_label("答复（代表可见）").fill("已列入明年计划")
    form.get_by_role("button", name="保存").click()
    # Saved (the phone shows the outcome and the reply below).
    desk.get_by_text("已保存。").wait_for(timeout=60_000)

    desk.get_by_role("tab", name="履职记录").click()
    tick_first_row(desk, "reps_records_list")
    desk.get_by_role("button", name="采纳", exact=True).click()
    desk.get_by_role("tabpanel", name="履职记录").get_by_text("没有待审核的记录。").wait_for(timeout=60_000)

    # The survey's results: a chart per choice question.
    desk.get_by_role("tab", name="问卷").click()
    desk.wait_for_selector("text=回复率", timeout=60_000)
    desk.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
    assert "100%" in desk.inner_text("body") or "100.0%" in desk.inner_text("body")

    # Another person's link: made when the one-time download is fetched.
    desk.get_by_role("tab", name="个人链接").click()
    desk.locator(".st-key-reps_one input").fill(str(other))
    desk.locator(".st-key-reps_one input").press("Enter")  # the button waits for a number
    with desk.expect_download(timeout=60_000) as info:
        desk.get_by_role("button", name="发放并下载", exact=True).click()
    with zipfile.ZipFile(info.value.path()) as zf:
        assert set(zf.namelist()) == {"links.xlsx", f"qr/{other}.png"}


def test_a_representative_on_a_phone(sqlite_engine, streamlit_app, chromium, tmp_path):
    with ch.change_set_of(sqlite_engine, "staff", "setup") as cs:
        pid = cs.add_person(dict(name=NAME, gender="F", category_code="non_party", district_code="330106",
                                 phone=PHONE, organization="旧单位", position="科员", stage="discover"))
        other = cs.add_person(dict(name="李代表", gender="M", category_code="non_party", district_code="330106",
                                   phone="13700001111", stage="discover"))
    token = reps.issue_links(sqlite_engine, [pid], actor="staff1")[0].token
    sid = sv.create_survey(sqlite_engine, "年度满意度调查", [sv.Question("single", "对活动满意吗", ("满意", "一般")),
                                                         sv.Question("multiple", "关心的领域", ("教育", "医疗", "交通")),
                                                         sv.Question("rating", "组织评分"),
                                                         sv.Question("text", "其他意见")], actor="staff1")
    sv.send_survey(sqlite_engine, sid, [pid], actor="staff1")
    url = sqlite_engine.url.render_as_string(hide_password=False)
    base = streamlit_app(url)
    photo = tmp_path / "honour.jpg"
    Image.new("RGB", (800, 600), "orange").save(photo, "JPEG")
    sizes: dict[str, int] = {}

    with browser_page(chromium, width=390, height=844, device_scale_factor=2) as (page, requests):
        page.on("response", lambda r: sizes.__setitem__(r.url, int(r.headers.get("content-length") or 0))
                if "/m/" in r.url and r.request.method == "GET" and r.status == 200
                and r.headers.get("content-type", "").startswith("text/html") else None)

        def go(selector: str) -> None:
            with page.expect_navigation():
                page.click(selector)

        def fits() -> None:
            # Readable on the phone: nothing wider than the screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.goto(f"{base}/m/{token}")
        assert NAME not in page.content()
        fits()
        page.fill("#digits", "0000")
        go("button[type=submit]")
        assert "还可尝试 4 次" in page.content()
        page.fill("#digits", PHONE[-4:])
        go("button[type=submit]")
        page.wait_for_url(f"{base}/m/home")
        assert NAME in page.content()
        fits()

        go("text=更正信息")
        page.fill("#f-organization", "新单位")
        page.fill("#f-position", "处长")
        go("text=提交更正")
        page.wait_for_selector("text=已提交")

        go("nav >> text=履职记录")
        page.select_option("#kind", "honour")
        page.fill("#day", "2026-11-20")
        page.fill("#body", "获评优秀政协委员")
        page.set_input_files("#photo", str(photo))
        go("text=提交")
        page.wait_for_selector("text=已提交")
        fits()

        go("nav >> text=建言献策")
        page.fill("#title", "关于老旧小区加装电梯")
        page.fill("#topic", "城建")
        page.fill("#body", "建议简化审批流程。")
        go("button:has-text('提交')")
        page.wait_for_selector("text=已提交")

        go("nav >> text=我的信息")
        go("text=年度满意度调查")
        fits()
        page.check("label:has-text('满意') >> input")
        page.check("label:has-text('教育') >> input")
        page.check("label:has-text('交通') >> input")
        page.check(".rate label:has-text('4') >> input")
        page.fill("textarea", "希望多组织调研")
        go("text=提交问卷")
        page.wait_for_selector("text=问卷已提交")
        assert "年度满意度调查" not in page.content()

        # Staff, by clicking on the desk: accept one field of the correction, reject the other with a
        # reason, adopt the suggestion with a reply, accept the record, read the survey, download a link.
        with browser_page(chromium, width=1440, height=900) as (desk, _):
            staff_on_the_desk(desk, base, sqlite_engine, other)

        go("nav >> text=我的信息")
        assert "新单位" in page.content() and "处长" not in page.content()
        go("nav >> text=更正信息")
        assert "请提供任职文件" in page.content() and "未采纳" in page.content()
        go("nav >> text=建言献策")
        assert "已列入明年计划" in page.content() and "已采纳" in page.content()
        go("nav >> text=履职记录")
        assert "已采纳" in page.content()
        go("text=查看照片")
        assert page.evaluate("document.images.length") == 1
        page.go_back()
        page.goto(f"{base}/m/home?lang=en")
        assert "My data is correct" in page.content()
        go("text=My data is correct")
        page.wait_for_selector("text=Recorded")

    assert requests and all(is_local(u) for u in requests)
    personal = (NAME, PHONE, "新单位", "处长")
    assert not [u for u in requests if "/m/" in u and any(p in urllib.request.unquote(u) for p in personal)]
    print("phone page bytes:", sorted(set(sizes.values())))
    assert sizes and max(sizes.values()) <= 60 * 1024, sizes
    engine = create_store_engine(url)
    try:
        assert reps.last_confirmed(engine, pid) is not None
    finally:
        engine.dispose()
