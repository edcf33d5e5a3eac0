"""Issue 16's walk-through in a real browser, as far as this side goes: staff plan an invited activity of
capacity 3 with a conditional question on the activity desk, invite with the explorer's filters, publish it and
give it a steward; four invitees sign up; staff approve all (three places, the fourth waits); one withdraws and
the fourth is promoted; on a phone's viewport (390×844) the steward scans two passes (the second twice: red, with
who and when) and checks one person in by name; the hall screen shows 3 of 3; staff finish the activity and the
activities page's figures read 3 approved, 3 checked in.

The sign-ups and the withdrawal are the domain calls the representatives' phone pages (/m/, built beside this)
make; their pages are tested there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from store import accounts, clock
from store import activities as act
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.queries.activities import activity_funnel
from store.scope import Scope
from tests.browser_support import browser_page, streamlit_server, wait_for_app
from tests.test_online_activities import people

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "door-pass-2026"
PHONE = dict(width=390, height=844, device_scale_factor=2)


@pytest.fixture
def venue(tmp_path):
    """Four representatives, a staff admin and a steward account, and the server."""
    url = f"sqlite:///{tmp_path / 'venue.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    ids = people(engine, 4)
    accounts.create_account(engine, "door1", PASSWORD, "steward", actor="test")
    accounts.create_account(engine, "boss", PASSWORD, "admin", actor="test")
    env = {"BRAIN_REQUIRE_LOGIN": "1", "BRAIN_ANALYTIC_COPY": "0", "BRAIN_VERSION_CHECK_SECONDS": "1"}
    with streamlit_server(url, env=env) as base:
        yield base, engine, ids
    engine.dispose()


def choose(page, within, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` inside `within` (a click during a re-run of
    the page can land on the box being replaced: then the list never opens, and the click is made again)."""
    box = within.get_by_role("combobox", name=label)
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        box.click()
        try:
            wanted.wait_for(timeout=3000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    wanted.click()
    page.wait_for_function("([box, value]) => box.value === value", arg=[box.element_handle(), option])


def plan_in_the_browser(page) -> None:
    """On the activity desk: an invited activity of capacity 3 with a conditional question, invited, published,
    with a steward."""
    page.get_by_label("活动名称").fill("新春座谈会")
    page.get_by_label("地点").fill("市民中心 201")
    page.get_by_label("名额（0 = 不限）").fill("3")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存。").wait_for()
    question = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="添加问题"))
    choose(page, question, "类型", "选择")
    page.get_by_label("题目").fill("是否用餐")
    page.get_by_label("选项").fill("是,否")
    page.get_by_text("必答").click()
    page.get_by_role("button", name="添加问题").click()
    page.get_by_text("是否用餐（").wait_for()
    choose(page, question, "类型", "文字")
    page.get_by_label("题目").fill("饮食禁忌")
    choose(page, question, "仅当这道题", "q1")
    page.get_by_label("答了（答案）").fill("是")
    page.get_by_role("button", name="添加问题").click()
    page.get_by_text("仅当 q1 答「是」时询问").wait_for()
    page.get_by_role("tab", name="邀请").click()
    page.get_by_role("button", name="邀请筛选出的 4 人").click()
    page.get_by_text("新邀请 4 人。").wait_for()
    page.get_by_role("tab", name="签到与状态").click()
    page.get_by_role("button", name="发布").click()
    page.get_by_text("状态：已发布 · published").wait_for()
    page.get_by_role("tab", name="签到与状态").click()
    page.get_by_label("引导员账号").fill("door1")
    page.get_by_role("button", name="指派").click()
    page.get_by_text("当前引导员：door1").wait_for()


def sign_in(page, base: str, path: str, username: str) -> None:
    page.goto(f"{base}/{path}")
    wait_for_app(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"当前用户：{username}").wait_for()
    for _ in range(50):  # the page fetches its HttpOnly cookie just after signing in
        if any(c["name"] == "brain_session" for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    raise AssertionError("no session cookie")


def test_the_issue_walk_through(venue, chromium):
    base, engine, (first, gone, third, promoted) = venue
    with browser_page(chromium) as (page, _requests):
        sign_in(page, base, "activity_desk", "boss")
        plan_in_the_browser(page)
        (aid,) = act.planned_activities(engine)["id"].tolist()
        plan = act.activity_plan(engine, aid)
        assert (plan["state"], plan["capacity"], plan["audience"]) == ("published", 3, "invited")
        assert act.questions_of(engine, aid)[1].when == ("q1", "是")
        for pid in (first, gone, third, promoted):  # the four invitees, on their phones (the /m/ pages)
            act.sign_up(engine, aid, pid, {"q1": "是", "q2": "清真"})
        approve_all = page.get_by_role("button", name="按报名先后通过全部待审核（4）")
        for _ in range(10):  # the page learns of writes beside it within its version watch's second
            page.reload()
            wait_for_app(page)
            page.get_by_role("tab", name="审核").click()
            if approve_all.count():
                break
            page.wait_for_timeout(1000)
        approve_all.click()
        page.get_by_text("通过 3，候补 1").wait_for()
    assert act.sign_ups(engine, aid, statuses=("waitlisted",))["person_id"].tolist() == [promoted]
    assert act.withdraw(engine, aid, gone) == [promoted]  # the representative's withdrawal (phone pages)
    with browser_page(chromium, **PHONE) as (page, _requests):
        sign_in(page, base, "checkin", "door1")
        page.get_by_text("新春座谈会").wait_for()
        href = page.get_by_role("link", name="打开签到台").get_attribute("href")  # it opens a tab of its own
        assert href == f"/_brain/door/{aid}"
        page.goto(base + href)
        page.locator("#scan").wait_for()
        for token_holder in (first, third):
            page.goto(f"{base}/_brain/pass/{act.pass_token(engine, aid, token_holder)}")
            page.get_by_role("button", name="签到 · Check in").click()
            assert "签到成功" in page.locator("#result").inner_text()
        page.goto(f"{base}/_brain/pass/{act.pass_token(engine, aid, third)}")
        red = page.locator("#result.bad")
        assert "already checked in by door1 at" in red.inner_text()
        assert red.evaluate("e => getComputedStyle(e).color") == "rgb(165, 14, 14)"
        page.goto(f"{base}/_brain/door/{aid}")
        page.locator("#q").fill("代表3")
        page.get_by_role("button", name="查找 · Find").click()
        page.get_by_role("button", name="签到 · Check in").last.click()
        assert "代表3" in page.locator("#result.ok").inner_text()
        # Another activity's door is closed to this steward, and the phone never scrolls sideways.
        page.goto(f"{base}/_brain/door/{aid + 1}")
        assert "not a steward of this activity" in page.inner_text("body")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with browser_page(chromium) as (page, _requests):
        sign_in(page, base, f"hall?activity={aid}", "boss")
        metrics = page.locator('[data-testid="stMetricValue"]')
        metrics.first.wait_for()
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].slice(0, 2)"
            ".map(e => e.innerText).join('/') === '3/3'", timeout=30_000)
        # No names on a public screen: none of the invitees (代表1…代表4) anywhere in the page's content.
        shown = page.get_by_test_id("stMain").inner_text()
        assert not any(f"代表{i}" in shown for i in range(1, 5)) and "代表" not in shown
        page.goto(f"{base}/activity_desk")
        wait_for_app(page)
        page.get_by_role("tab", name="签到与状态").click()
        page.get_by_role("button", name="结束活动（未签到者记为缺席）").click()
        page.get_by_text("状态：已结束 · finished").wait_for(state="attached")  # its tab closes on the re-run
    assert act.activity_plan(engine, aid)["state"] == "finished"
    funnel = activity_funnel(engine, Scope(), clock.today(), clock.today(), aid).iloc[0]
    assert (funnel["approved"], funnel["checked_in"]) == (3, 3)
    assert act.status_counts(engine, aid)["withdrawn"] == 1 and gone not in (first, third, promoted)

