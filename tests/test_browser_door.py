"""Issue 16's walk-through in a real browser, as far as this side goes: staff approve four sign-ups of a
capacity-3 activity on the activity desk (three places, the fourth waits); one withdraws and the fourth is
promoted; on a phone's viewport (390×844) a steward signs in, scans two passes (the second twice: red, with who
and when) and checks one person in by name; the hall screen shows 3 of 3, and after the activity finishes the
activities page's figures read 3 approved, 3 checked in.

Planning (the invited activity with its conditional question), inviting and the four sign-ups run through the
domain calls the desk and the phone pages make: the desk's question grid is a canvas a browser test cannot type
into reliably, and the representatives' sign-up pages are the phone front end's (/m/).
"""

from __future__ import annotations

import pytest

from store import accounts, clock
from store import activities as act
from store.engine import create_store_engine
from store.filters import PersonFilter
from store.migrate import upgrade_to_head
from store.queries.activities import activity_funnel
from store.scope import Scope
from tests.browser_support import browser_page, streamlit_server, wait_for_app
from tests.test_online_activities import STAFF, a_plan, people

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "door-pass-2026"
PHONE = dict(width=390, height=844, device_scale_factor=2)


@pytest.fixture
def venue(tmp_path):
    url = f"sqlite:///{tmp_path / 'venue.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    ids = people(engine, 4)
    aid = act.plan_activity(engine, a_plan(), actor=STAFF)  # invited, capacity 3, a conditional question
    act.publish_activity(engine, aid, actor=STAFF)
    act.invite(engine, aid, PersonFilter(), actor=STAFF)
    for pid in ids:
        act.sign_up(engine, aid, pid, {"meal": "是", "diet": "清真"})
    accounts.create_account(engine, "door1", PASSWORD, "steward", actor="test")
    accounts.create_account(engine, "boss", PASSWORD, "admin", actor="test")
    act.assign_steward(engine, "door1", aid, actor=STAFF)
    env = {"BRAIN_REQUIRE_LOGIN": "1", "BRAIN_ANALYTIC_COPY": "0", "BRAIN_VERSION_CHECK_SECONDS": "1"}
    with streamlit_server(url, env=env) as base:
        yield base, engine, aid, ids
    engine.dispose()


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


def test_review_then_the_door_on_a_phone(venue, chromium):
    base, engine, aid, (first, gone, third, promoted) = venue
    with browser_page(chromium) as (page, _requests):
        sign_in(page, base, "activity_desk", "boss")
        page.get_by_role("tab", name="审核").click()
        page.get_by_role("button", name="按报名先后通过全部待审核（4）").click()
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
        assert "代表" not in page.inner_text("body")
    assert act.finish_activity(engine, aid, actor=STAFF) == 0
    funnel = activity_funnel(engine, Scope(), clock.today(), clock.today(), aid).iloc[0]
    assert (funnel["approved"], funnel["checked_in"]) == (3, 3)
    assert act.status_counts(engine, aid)["withdrawn"] == 1 and gone not in (first, third, promoted)
