"""Sign-in sessions in a real browser: links survive the sign-in and a reload, revocation reaches open pages.

One server with sign-in on for the module; each test signs its own accounts in,
each in a fresh browser context (its own cookies). The accounts epoch is watched
every second here, so "within seconds" is a few seconds.
"""

from __future__ import annotations

import io
import json
import re
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from store import accounts, clock
from store.engine import create_store_engine
from store.filters import PersonFilter
from store.migrate import upgrade_to_head
from store.queries.explorer import headcount, person_page
from store.schema import account_session, audit_log
from store.scope import EVERYTHING
from tests.browser_support import browser_page, streamlit_server, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long-password"
LINK = "/explorer?categories=private_economy&districts=330106"
EXPECTED_PARAMS = {"categories": ["private_economy"], "districts": ["330106"]}
SIGNED_OUT_TEXT = "登录已失效"
WATCH_SECONDS = 1
SETTLE = 15_000  # ms: a change seen by the watch (1 s) and by the page's own watch (1 s), with room to spare


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=300, seed=7, today=clock.today())
    yield url, engine
    engine.dispose()


def server_env(**extra) -> dict[str, str]:
    return {"BRAIN_REQUIRE_LOGIN": "1", "BRAIN_ANALYTIC_COPY": "0",
            "BRAIN_VERSION_CHECK_SECONDS": str(WATCH_SECONDS), **extra}


@pytest.fixture(scope="module")
def server(store):
    url, engine = store
    with streamlit_server(url, env=server_env()) as base:
        yield base, engine


def add_account(engine, username: str, role: str = "staff") -> str:
    accounts.create_account(engine, username, PASSWORD, role)
    return username


def sign_in_form(page) -> None:
    page.get_by_label("用户名").wait_for()
    page.get_by_label("密码").wait_for()


def no_page_not_found(page) -> None:
    page.wait_for_timeout(500)  # the dialog, when it comes, comes with the first render
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("dialog").count() == 0


def sign_in(page, username: str) -> None:
    sign_in_form(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"当前用户：{username}").wait_for()
    wait_for_app(page)


def wait_for_cookie(context, timeout_s: float = 10) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == "brain_session"]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("the session cookie never arrived")


def open_signed_in(page, url: str, username: str) -> dict:
    """Open `url`, sign in there, and return the session cookie the page fetched."""
    page.goto(url)
    wait_for_app(page)
    sign_in(page, username)
    return wait_for_cookie(page.context)


def headcount_shown(page) -> int:
    value = page.locator('[data-testid="stMetric"]').first.locator('[data-testid="stMetricValue"]')
    return int(re.sub(r"\D", "", value.inner_text()))


def audit_count(engine, action: str, actor: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log)
                            .where(audit_log.c.action == action, audit_log.c.actor == actor)).scalar_one()


def one_of(engine, flt: PersonFilter) -> tuple[int, str]:
    """The id and name of the first person the filter finds."""
    row = person_page(engine, EVERYTHING, flt, "updated_at", True, 1, 1, "zh", clock.today()).iloc[0]
    return int(row["id"]), str(row["name"])


def test_a_shared_link_survives_the_sign_in_and_a_reload(server, chromium):
    base, engine = server
    user = add_account(engine, "link.staff")
    flt = PersonFilter(categories=("private_economy",), districts=("330106",))
    expected = headcount(engine, EVERYTHING, flt, today=clock.today()).matched
    assert 0 < expected < 300
    # The link names a person too: the profile opens after the sign-in and after F5.
    person_id, name = one_of(engine, flt)
    profile = f"人员详情：{name}"

    with browser_page(chromium, width=1440, height=1000) as (page, _):
        page.goto(f"{base}{LINK}&person={person_id}")
        wait_for_app(page)
        sign_in_form(page)
        no_page_not_found(page)

        sign_in(page, user)
        # Landed on the page asked for, with its filters, not on the cockpit.
        page.locator('[data-testid="stMetric"]').first.wait_for()
        assert urlparse(page.url).path == "/explorer"
        assert parse_qs(urlparse(page.url).query) == {**EXPECTED_PARAMS, "person": [str(person_id)]}
        assert headcount_shown(page) == expected
        page.get_by_role("heading", name=profile).wait_for()

        cookie = wait_for_cookie(page.context)
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert "brain_session" not in page.evaluate("() => document.cookie")  # out of the scripts' reach

        # F5: still signed in, same page, same filters, and no second sign-in.
        page.reload()
        wait_for_app(page)
        page.locator('[data-testid="stMetric"]').first.wait_for()
        assert page.get_by_label("密码").count() == 0
        assert parse_qs(urlparse(page.url).query) == {**EXPECTED_PARAMS, "person": [str(person_id)]}
        assert headcount_shown(page) == expected
        page.get_by_role("heading", name=profile).wait_for()
        page.get_by_text(f"当前用户：{user}").wait_for()
        assert audit_count(engine, "login", user) == 1

        # A new tab of the same browser is signed in too.
        other = page.context.new_page()
        other.goto(base + "/lifecycle")
        wait_for_app(other)
        other.get_by_text(f"当前用户：{user}").wait_for()
        assert urlparse(other.url).path == "/lifecycle"


def test_a_kiosk_link_without_token_shows_only_the_sign_in_form(server, chromium):
    base, _ = server
    with browser_page(chromium, width=1920, height=1080) as (page, _):
        page.goto(base + "/cockpit?kiosk=1")
        wait_for_app(page)
        sign_in_form(page)
        no_page_not_found(page)


def test_sign_out_revokes_the_cookie(server, chromium):
    base, engine = server
    user = add_account(engine, "leaving.staff")
    with browser_page(chromium, width=1440, height=1000) as (page, _):
        old = open_signed_in(page, base + "/explorer", user)

        page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录").click()
        sign_in_form(page)
        # The page drops its cookie ...
        deadline = time.monotonic() + 10
        while any(c["name"] == "brain_session" for c in page.context.cookies()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(c["name"] == "brain_session" for c in page.context.cookies())
        assert audit_count(engine, "logout", user) == 1

    # ... and the old value, presented again by another browser, opens nothing.
    with browser_page(chromium, width=1440, height=1000) as (page, _):
        page.context.add_cookies([{key: old[key] for key in ("name", "value", "domain", "path", "httpOnly",
                                                             "sameSite")}])
        page.goto(base + "/explorer")
        wait_for_app(page)
        sign_in_form(page)
        assert page.get_by_text("当前用户").count() == 0
    with engine.connect() as conn:
        reasons = conn.execute(select(account_session.c.revoked_reason)
                               .join(accounts.account, accounts.account.c.id == account_session.c.account_id)
                               .where(accounts.account.c.username == user)).scalars().all()
    assert reasons == ["logout"]


@pytest.mark.parametrize("change", ["disable", "password"])
def test_disable_and_password_reset_end_the_cookie_session(server, chromium, change):
    base, engine = server
    user = add_account(engine, f"ended.{change}")
    with browser_page(chromium, width=1440, height=1000) as (page, _):
        cookie = open_signed_in(page, base + "/explorer", user)
        page.locator('[data-testid="stMetric"]').first.wait_for()

        # Another process (the command line) changes the account; nobody touches the page.
        if change == "disable":
            accounts.set_disabled(engine, user, True)
        else:
            accounts.set_password(engine, user, "another-long-password")
        page.get_by_text(SIGNED_OUT_TEXT).wait_for(timeout=SETTLE)
        sign_in_form(page)
        assert page.get_by_text("当前用户").count() == 0
        assert page.locator('[data-testid="stMetric"]').count() == 0

        # A reload with the cookie it still holds does not sign it back in.
        page.context.add_cookies([{key: cookie[key] for key in ("name", "value", "domain", "path")}])
        page.reload()
        wait_for_app(page)
        sign_in_form(page)
        assert page.get_by_text("当前用户").count() == 0


def test_an_open_page_follows_a_role_change(server, chromium):
    base, engine = server
    user = add_account(engine, "demoted.staff")
    with browser_page(chromium, width=1440, height=1000) as (page, _):
        open_signed_in(page, base + "/explorer?person=1", user)
        page.locator('[data-testid="stMetric"]').first.wait_for()

        accounts.set_role(engine, user, "screen")
        page.get_by_text("您的角色无权访问此页面。").wait_for(timeout=SETTLE)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        assert page.get_by_test_id("stSidebarNav").get_by_text("人员查询").count() == 0


def test_a_revoked_screen_token_stops_the_lobby(server, chromium):
    base, engine = server
    token = accounts.create_screen_token(engine, "大厅")
    token_id = accounts.check_screen_token(engine, token)
    refused = "大屏链接无效或已被吊销"
    with browser_page(chromium, width=1920, height=1080) as (page, _):
        page.goto(f"{base}/cockpit?kiosk=1&token={token}")
        wait_for_app(page)
        page.locator(".echarts-container :is(canvas, svg)").first.wait_for()

        accounts.revoke_screen_token(engine, token_id)
        page.get_by_text(refused).wait_for(timeout=SETTLE)
        assert page.locator(".echarts-container :is(canvas, svg)").count() == 0

    # A new screen with the revoked token is refused at once.
    with browser_page(chromium, width=1920, height=1080) as (page, _):
        page.goto(f"{base}/cockpit?kiosk=1&token={token}")
        wait_for_app(page)
        page.get_by_text(refused).wait_for()


def fetch_status(url: str, cookie: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Cookie": f"brain_session={cookie}"} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_unmasked_export_downloads_once_and_only_with_the_cookie(server, chromium):
    base, engine = server
    user = add_account(engine, "export.admin", role="admin")
    with browser_page(chromium, width=1440, height=1200) as (page, _):
        cookie = open_signed_in(page, base + LINK, user)["value"]
        button = page.get_by_role("button", name=re.compile("导出 Excel"))
        button.wait_for()

        # Nothing to download exists before the click.
        assert audit_count(engine, "export", user) == 0

        with page.expect_download() as info:
            button.click()
        data = open(info.value.path(), "rb").read()
        rows = list(load_workbook(io.BytesIO(data), read_only=True).active.values)[1:]
        assert len(rows) == headcount_shown(page) > 0
        assert audit_count(engine, "export", user) == 1

        # A second click, its download held back: the link it made ...
        links: list[str] = []
        page.route("**/_brain/export/**", lambda route: (links.append(route.request.url), route.abort()))
        button.click()
        deadline = time.monotonic() + 20
        while not links and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        [link] = links
        # ... opens nothing without the session's cookie, nor with a forged one ...
        assert fetch_status(link) == 403
        assert fetch_status(link, cookie[:-2] + "xx") == 403
        # ... opens once with it, and never again.
        assert fetch_status(link, cookie) == 200
        assert fetch_status(link, cookie) == 410
        assert audit_count(engine, "export", user) == 2


def test_an_idle_cockpit_stops_refreshing(store, chromium):
    """Idle past the timeout, a cockpit left open (refreshing itself every 2 s) is signed out."""
    url, engine = store
    user = add_account(engine, "idle.leader", role="leader")
    env = server_env(BRAIN_SESSION_IDLE_MINUTES="1", BRAIN_COCKPIT_REFRESH_SECONDS="2")
    with streamlit_server(url, env=env) as base, browser_page(chromium, width=1920, height=1080) as (page, _):
        open_signed_in(page, base + "/cockpit", user)
        page.locator(".echarts-container :is(canvas, svg)").first.wait_for()
        started = time.monotonic()
        page.get_by_text("长时间未操作，请重新登录。").wait_for(timeout=100_000)
        waited = time.monotonic() - started
        assert 50 < waited < 90, waited
        assert page.locator(".echarts-container :is(canvas, svg)").count() == 0
        with engine.connect() as conn:
            details = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "logout",
                                                                   audit_log.c.actor == user)).scalars().all()
        assert [json.loads(d) for d in details] == [{"reason": "idle"}]
