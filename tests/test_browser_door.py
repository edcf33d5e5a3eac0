"""Issue 16's walk-through in a real browser: staff plan an invited activity of capacity 3 with a conditional
question on the activity desk, invite with the explorer's filters, publish it and give it a steward; four invitees
sign up on their phones (390×844: the personal link, the last four digits, the activity from the home page, the
questions answered, the conditional one too — the first is told on the server what is missing); staff approve
all on the desk (three places, the fourth waits); one withdraws on the phone (asked first) and the fourth, promoted,
sees the notice on the phone. A week on, on the day (the server's clock moved on; the store the same), the
steward's phone opens two passes by the URLs the representatives' pass pages
carry (the second twice: red, with who and when) and checks one person in by name; the hall screen shows 3 of 3;
staff finish the activity and send the feedback survey, which a phone then lists; the activities page and the
cockpit show the counts. The phones' pages are left as screenshots in test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from store import accounts, clock, reps
from store import activities as act
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.queries.activities import activity_funnel, activity_summary
from store.scope import Scope
from tests.browser_support import browser_page, is_local, streamlit_server, wait_for_app
from tests.test_online_activities import people

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

PASSWORD = "door-pass-2026"
PHONE = dict(width=390, height=844, device_scale_factor=2)


@pytest.fixture
def venue(tmp_path):
    """Four representatives, a staff admin and a steward account, and the server as it runs on a given day."""
    url = f"sqlite:///{tmp_path / 'venue.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    ids = people(engine, 4)
    accounts.create_account(engine, "door1", PASSWORD, "steward", actor="test")
    accounts.create_account(engine, "boss", PASSWORD, "admin", actor="test")
    # A department this small shows its counts: the cockpit withholds none (its default withholds under 5).
    env = {"BRAIN_REQUIRE_LOGIN": "1", "BRAIN_ANALYTIC_COPY": "0", "BRAIN_VERSION_CHECK_SECONDS": "1",
           "BRAIN_PRIVACY_THRESHOLD": "1"}

    def serve(day: dt.date):
        """The server with the project's clock on `day` (the store's data stays)."""
        return streamlit_server(url, env={**env, "BRAIN_TODAY": day.isoformat()})

    yield serve, engine, ids
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


class Phone:
    """A representative's phone (390×844): their own browser context, pages of /m/ only."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base

    def go(self, selector: str) -> None:
        """Click what leads to another page and wait for it (plain links and forms: every click navigates)."""
        with self.page.expect_navigation():
            self.page.click(selector)

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)

    def fits(self, width: int = 390) -> None:
        assert self.page.evaluate("document.documentElement.scrollWidth") <= width

    def enter(self, token: str, digits: str) -> None:
        self.page.goto(f"{self.base}/m/{token}")
        self.page.fill("#digits", digits)
        self.go("button[type=submit]")
        self.page.wait_for_url(f"{self.base}/m/home")

    def open_activity(self, title: str) -> None:
        self.page.goto(f"{self.base}/m/home")
        self.go(f"a:has-text('{title}')")

    def sign_up(self, title: str, *, meal: str, diet: str | None) -> None:
        self.open_activity(title)
        self.fits()
        self.page.check(f"#f-q1 label:has-text('{meal}') >> input")
        if diet is not None:
            self.page.fill("input[name=a_q2]", diet)
        self.go("text=提交报名")
        self.page.wait_for_selector("text=已报名，请等待工作人员审核")

    def pass_url(self, title: str) -> str:
        """The pass URL its pass page carries (the QR code's, as the link for when the code will not scan)."""
        self.open_activity(title)
        self.go("#show-pass")
        self.page.wait_for_selector(".qr svg")
        return self.page.locator("#pass-link").evaluate("a => a.href")


def test_the_issue_walk_through(venue, chromium):
    serve, engine, (first, gone, third, promoted) = venue
    invitees = (first, gone, third, promoted)
    links = {link.person_id: link.token for link in reps.issue_links(engine, invitees, actor="boss")}
    digits = {pid: f"{n:04d}" for n, pid in enumerate(invitees)}  # people(): 代表n's mobile ends in n
    # The desk plans the activity a week ahead by default: sign-ups now, the door on the day.
    today = clock.today()
    the_day = today + dt.timedelta(days=7)
    sizes: dict[str, int] = {}
    requests: list[str] = []
    with ExitStack() as browsers:
        phones = {}
        for pid in invitees:  # each invitee on their own phone
            phone_page, seen = browsers.enter_context(browser_page(chromium, **PHONE))
            phone_page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()))
                          if "/m/" in r.url and r.request.method == "GET" and r.status == 200 else None)
            phones[pid] = Phone(phone_page, "")
            phones[pid].requests = seen

        with serve(today) as base, browser_page(chromium) as (page, seen):
            requests += seen
            sign_in(page, base, "activity_desk", "boss")
            plan_in_the_browser(page)
            (aid,) = act.planned_activities(engine)["id"].tolist()
            plan = act.activity_plan(engine, aid)
            assert (plan["state"], plan["capacity"], plan["audience"]) == ("published", 3, "invited")
            assert plan["starts_at"].date() == the_day
            assert act.questions_of(engine, aid)[1].when == ("q1", "是")
            for pid in invitees:
                phones[pid].base = base
                phones[pid].enter(links[pid], digits[pid])
            me = phones[first]
            me.open_activity("新春座谈会")
            assert "仅当「是否用餐」选「是」时填写" in me.page.content()
            me.go("text=提交报名")  # nothing answered: the server says what is missing, both languages
            problem = me.page.locator("#f-q1 .problem").inner_text()
            me.shot("activity-sign-up-problem")
            assert problem == "请回答「是否用餐」 · please answer '是否用餐'"
            me.page.check("#f-q1 label:has-text('是') >> input")
            me.page.fill("input[name=a_q2]", "清真")
            me.go("text=提交报名")
            me.page.wait_for_selector("text=已报名，请等待工作人员审核")
            phones[gone].sign_up("新春座谈会", meal="否", diet="（不用餐，此项不会保存）")
            phones[third].sign_up("新春座谈会", meal="是", diet="素食")
            phones[promoted].sign_up("新春座谈会", meal="是", diet=None)
            answers = act.sign_ups(engine, aid).set_index("person_id")["answers"]
            assert answers[first] == '{"q1": "是", "q2": "清真"}' and answers[gone] == '{"q1": "否"}'
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

            waiting = phones[promoted]
            waiting.open_activity("新春座谈会")
            assert waiting.page.inner_text("#standing") == "候补第 1 位"
            leaving = phones[gone]
            leaving.open_activity("新春座谈会")
            leaving.go("#withdraw")
            leaving.page.fill("#reason", "临时出差")
            leaving.go("button:has-text('确认退出')")
            leaving.page.wait_for_selector("text=已退出报名")
            assert act.sign_ups(engine, aid, person_ids=[gone])["reason"].tolist() == ["临时出差"]
            waiting.page.goto(f"{base}/m/home")
            assert "新消息" in waiting.page.inner_text("main")
            waiting.go("a:has-text('新春座谈会')")
            assert "您已由候补转为正式参加" in waiting.page.inner_text("#notice")
            assert waiting.page.inner_text("#standing") == "已通过"
            waiting.shot("activity-promoted")

        # The day of the activity: the same store, the server's clock a week on.
        with serve(the_day) as base, browser_page(chromium, **PHONE) as (steward, seen):
            requests += seen
            for phone in phones.values():
                phone.base = base
            passes = {pid: phones[pid].pass_url("新春座谈会") for pid in (first, third, promoted)}
            assert passes[first].startswith(f"{base}/_brain/pass/pass.")
            # Readable on a 360 px phone: the code fills most of the width, nothing scrolls sideways.
            waiting.page.set_viewport_size({"width": 360, "height": 740})
            box = waiting.page.locator(".qr svg").bounding_box()
            assert 250 <= box["width"] <= 360 and abs(box["width"] - box["height"]) < 1
            waiting.fits(360)
            waiting.shot("pass-360")

            sign_in(steward, base, "checkin", "door1")
            steward.get_by_text("新春座谈会").wait_for()
            href = steward.get_by_role("link", name="打开签到台").get_attribute("href")  # it opens a tab of its own
            assert href == f"/_brain/door/{aid}"
            steward.goto(base + href)
            steward.locator("#scan").wait_for()
            for holder in (first, third):  # the URL a camera reads from the representative's phone
                steward.goto(passes[holder])
                steward.get_by_role("button", name="签到 · Check in").click()
                assert "签到成功" in steward.locator("#result").inner_text()
            steward.goto(passes[third])
            red = steward.locator("#result.bad")
            assert "already checked in by door1 at" in red.inner_text()
            assert red.evaluate("e => getComputedStyle(e).color") == "rgb(165, 14, 14)"
            steward.goto(f"{base}/_brain/door/{aid}")
            steward.locator("#q").fill("代表3")
            steward.get_by_role("button", name="查找 · Find").click()
            steward.get_by_role("button", name="签到 · Check in").last.click()
            assert "代表3" in steward.locator("#result.ok").inner_text()
            # Another activity's door is closed to this steward, and the phone never scrolls sideways.
            steward.goto(f"{base}/_brain/door/{aid + 1}")
            assert "not a steward of this activity" in steward.inner_text("body")
            assert steward.evaluate("document.documentElement.scrollWidth") <= 390
            waiting.page.reload()  # the representative's pass page now says so
            assert "您已签到" in waiting.page.inner_text("main")

            with browser_page(chromium) as (page, seen):
                requests += seen
                sign_in(page, base, f"hall?activity={aid}", "boss")
                page.locator('[data-testid="stMetricValue"]').first.wait_for()
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
                page.get_by_role("tab", name="签到与状态").click()
                page.get_by_role("button", name="发送给已签到的 3 人").click()
                page.get_by_text("问卷已发送给 3 人。").wait_for()
                waiting.page.goto(f"{base}/m/home")
                assert "活动反馈：新春座谈会" in waiting.page.inner_text("main")
                assert "已结束（已参加）" in waiting.page.inner_text("main")
                waiting.shot("home-after")

                # The activities page and the cockpit count the activity and its check-ins.
                page.goto(f"{base}/activities")
                wait_for_app(page)
                page.get_by_text("签到率").first.wait_for()
                metrics = dict(zip(page.get_by_test_id("stMetricLabel").all_inner_texts(),
                                   page.get_by_test_id("stMetricValue").all_inner_texts()))
                summary = activity_summary(engine, Scope(), the_day, the_day)
                assert (metrics["活动场次"], metrics["报名人次"], metrics["签到率"]) == (
                    "1", str(summary.registrations), "100.0%")
                page.goto(f"{base}/cockpit")
                wait_for_app(page)
                page.locator('[data-kpi="checkins"] .value').wait_for()
                assert page.inner_text('[data-kpi="checkins"] .value') == "3"
                assert page.inner_text('[data-kpi="activities"] .value') == "1"
        for phone in phones.values():
            requests += phone.requests
    funnel = activity_funnel(engine, Scope(), the_day, the_day, aid).iloc[0]
    assert (funnel["approved"], funnel["checked_in"]) == (3, 3)
    assert act.status_counts(engine, aid)["withdrawn"] == 1
    assert requests and all(is_local(u) for u in requests)
    # Nothing personal in the phones' addresses; every phone page under 60 KB.
    assert not [u for u in sizes if any(f"代表{n}" in u or f"1380000{n:04d}" in u for n in range(4))]
    print("phone pages:", len(sizes), "largest bytes:", max(sizes.values()))
    assert sizes and max(sizes.values()) <= 60 * 1024, sizes
