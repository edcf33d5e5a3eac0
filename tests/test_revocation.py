"""The sign-in gate under AppTest: one refusal message, links that wait for the sign-in, open
sessions that follow a revocation within seconds, and one-time export links.

Changes are made as the command line makes them, from "another process": nothing tells
the app but the accounts epoch its version watch reads (every second here).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, event, insert

from store import accounts, clock
from store.filters import PersonFilter
from store.schema import person
from ui import cache, downloads
from ui.auth import idle_timeout
from ui.i18n import translate

PASSWORD = "a-long-password"
ENDED = translate("auth.ended", "zh")
FAILED = translate("auth.failed", "zh")
FORBIDDEN = translate("auth.forbidden", "zh")
BAD_TOKEN = translate("auth.bad_token", "zh")


@pytest.fixture
def gated(sqlite_engine, make_app, monkeypatch):
    """A function (**query_params) -> AppTest of the whole app with sign-in on; the epoch is watched every second."""
    url = sqlite_engine.url.render_as_string(hide_password=False)
    now = clock.now()
    with sqlite_engine.begin() as conn:
        conn.execute(insert(person), [dict(name=f"人{i}", category_code=c, district_code="330106", created_at=now,
                                           updated_at=now)
                                      for i, c in enumerate(["private_economy"] * 3 + ["other"] * 4)])

    def make(**query_params):
        at = make_app(url, **query_params)
        monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
        monkeypatch.setenv("BRAIN_VERSION_CHECK_SECONDS", "1")
        return at

    return make


def sign_in(at, username: str, password: str = PASSWORD):
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def seen_by_the_watch(before: str, timeout: float = 10) -> None:
    """Wait until the version watch has read a new accounts epoch (as every open session will)."""
    deadline = time.monotonic() + timeout
    while cache.accounts_epoch() == before:
        assert time.monotonic() < deadline, "the accounts epoch never moved"
        time.sleep(0.2)


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def viewer_name(at) -> str | None:
    return at.session_state["viewer"].name if "viewer" in at.session_state else None


def test_one_message_for_every_refusal(gated, sqlite_engine):
    accounts.create_account(sqlite_engine, "locked", PASSWORD, "staff")
    accounts.create_account(sqlite_engine, "off", PASSWORD, "staff")
    accounts.set_disabled(sqlite_engine, "off", True)
    for _ in range(5):
        accounts.sign_in(sqlite_engine, "locked", "wrong-password")
    answers = {}
    for username, password in (("nobody", "wrong-password"), ("locked", "wrong-password"),
                               ("locked", PASSWORD), ("off", "wrong-password"), ("off", PASSWORD)):
        at = sign_in(gated(), username, password)
        answers[(username, password)] = errors(at)
    assert set(map(tuple, answers.values())) == {(FAILED,)}, answers


def test_a_link_opened_before_sign_in_lands_on_its_page_with_its_filters(gated, sqlite_engine):
    accounts.create_account(sqlite_engine, "wang", PASSWORD, "staff")
    at = gated(categories="private_economy")
    at.switch_page("pages/explorer.py")  # the URL /explorer?categories=private_economy
    sign_in(at, "wang")
    assert [t.value for t in at.title][:1] == [translate("page.explorer", "zh")]
    assert at.query_params["categories"] in ("private_economy", ["private_economy"])
    assert at.metric[0].value == "3"


@pytest.mark.parametrize("change", ["disable", "password", "screen"])
def test_an_open_session_follows_an_account_change(gated, sqlite_engine, change):
    accounts.create_account(sqlite_engine, "li", PASSWORD, "staff")
    at = sign_in(gated(person="1"), "li")
    at.switch_page("pages/explorer.py").run()
    assert viewer_name(at) == "li" and at.metric

    before = cache.accounts_epoch()
    if change == "disable":
        accounts.set_disabled(sqlite_engine, "li", True)
    elif change == "password":
        accounts.set_password(sqlite_engine, "li", "another-long-password")
    else:
        accounts.set_role(sqlite_engine, "li", "screen")
    seen_by_the_watch(before)
    at.run()  # the next click, or the page's own watch
    assert not at.exception
    assert not at.metric and not at.dataframe  # no list, no profile
    if change == "screen":
        assert errors(at) == [FORBIDDEN]
    else:
        assert ENDED in [w.value for w in at.warning]
        assert [w.label for w in at.text_input] == ["用户名", "密码"]
        assert viewer_name(at) is None


def test_a_revoked_screen_token_reaches_open_and_new_screens_within_seconds(gated, sqlite_engine):
    token = accounts.create_screen_token(sqlite_engine, "大厅")
    lobby = gated(token=token)
    lobby.run()
    assert not lobby.exception and not lobby.error

    before = cache.accounts_epoch()
    accounts.revoke_screen_token(sqlite_engine, accounts.list_screen_tokens(sqlite_engine)[0]["id"])
    seen_by_the_watch(before)
    lobby.run()
    assert errors(lobby) == [BAD_TOKEN]
    fresh = gated(token=token)
    fresh.run()
    assert errors(fresh) == [BAD_TOKEN]


@pytest.fixture
def counted():
    statements: list[str] = []

    def listen(conn, cursor, statement, *args):
        # The version watch's own round trip (a background thread, once a second here) is not the view's.
        watch = statement.startswith("SELECT (SELECT meta.value")
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK") and not watch:
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", listen)
    yield statements
    event.remove(Engine, "before_cursor_execute", listen)


def test_a_signed_in_warm_view_issues_no_sql(gated, sqlite_engine, counted):
    """Checking the viewer costs nothing while no account changes: the epoch comes from the watch."""
    accounts.create_account(sqlite_engine, "zhao", PASSWORD, "leader")
    at = sign_in(gated(), "zhao")
    at.run()
    counted.clear()
    at.run()
    assert not at.exception and viewer_name(at) == "zhao"
    assert counted == []


# ---- one-time export links --------------------------------------------------------------

def order(session_id: int | None, seconds: float = downloads.TICKET_SECONDS) -> downloads.ExportOrder:
    return downloads.ExportOrder(session_id, PersonFilter(), "name", False, clock.today(),
                                 time.monotonic() + seconds)


def test_a_ticket_opens_once_for_its_own_session_and_not_after_a_minute():
    book = downloads.TicketBook()
    ticket = book.issue(order(7))
    assert book.redeem(ticket, 8) is None  # another session
    assert book.redeem(ticket, 7) is not None
    assert book.redeem(ticket, 7) is None  # once
    stale = book.issue(order(7, seconds=-1))
    assert book.redeem(stale, 7) is None
    assert book.redeem("made-up", 7) is None


@pytest.fixture
def download_env(sqlite_engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "0")
    return sqlite_engine


def held_session(engine, username: str, role: str) -> tuple[int, str]:
    acc = accounts.create_account(engine, username, PASSWORD, role)
    start = accounts.start_session(engine, acc.id, "password")
    return start.session_id, accounts.redeem_handoff(engine, start.handoff, cache.cookie_key())


def test_an_export_link_needs_the_cookie_of_its_session(download_env):
    engine = download_env
    session_id, cookie = held_session(engine, "admin1", "admin")
    _, other_cookie = held_session(engine, "admin2", "admin")
    ticket = downloads.ticket_book().issue(order(session_id))
    for wrong in (None, "", other_cookie, cookie[:-2] + "xx"):
        with pytest.raises(downloads.Refused) as refused:
            downloads.open_download(ticket, wrong)
        assert refused.value.status in (403, 410)
    assert downloads.open_download(ticket, cookie).data[:2] == b"PK"  # an .xlsx
    with pytest.raises(downloads.Refused) as refused:
        downloads.open_download(ticket, cookie)
    assert refused.value.status == 410

    # A session that ended (signed out, disabled, reset) opens nothing any more.
    ticket = downloads.ticket_book().issue(order(session_id))
    accounts.set_disabled(engine, "admin1", True)
    with pytest.raises(downloads.Refused) as refused:
        downloads.open_download(ticket, cookie)
    assert refused.value.status == 403


def test_an_export_link_follows_the_accounts_current_role(download_env):
    engine = download_env
    session_id, cookie = held_session(engine, "demoted", "staff")
    ticket = downloads.ticket_book().issue(order(session_id))
    accounts.set_role(engine, "demoted", "leader")  # leaders see no lists of people
    with pytest.raises(downloads.Refused) as refused:
        downloads.open_download(ticket, cookie)
    assert (refused.value.status, refused.value.key) == (403, "auth.forbidden")
    held = accounts.check_session(engine, session_id=session_id, idle=idle_timeout())
    assert held.account.role == "leader"


# ---- the representatives' personal links: the same one-time link, issued when fetched

def links_order(session_id: int | None, ids, seconds: float = downloads.TICKET_SECONDS) -> downloads.LinksOrder:
    return downloads.LinksOrder(session_id, tuple(ids), 30, "https://brain.example.gov.cn",
                                time.monotonic() + seconds)


def persons_in(engine, districts) -> list[int]:
    from store.changes import change_set_of

    with change_set_of(engine, "staff", "setup") as cs:
        return [cs.add_person(dict(name=f"代表{i}", category_code="other", district_code=d, phone=f"1390000{i:04d}"))
                for i, d in enumerate(districts)]


def test_a_links_download_opens_once_for_its_session_and_issues_then(download_env):
    import io
    import zipfile

    from openpyxl import load_workbook

    from store import reps
    from store.scope import Scope

    engine = download_env
    west, up = persons_in(engine, ["330106", "330102"])
    session_id, cookie = held_session(engine, "west.staff", "staff")
    accounts.set_scope(engine, "west.staff", Scope(districts=("330106",)))
    _, other_cookie = held_session(engine, "other.staff", "staff")
    ticket = downloads.ticket_book().issue(links_order(session_id, [west, up]))
    for wrong in (None, "", other_cookie, cookie[:-2] + "xx"):
        with pytest.raises(downloads.Refused) as refused:
            downloads.open_download(ticket, wrong)
        assert refused.value.status in (403, 410)
    assert reps.links(engine, Scope()).empty  # nothing issued by the refusals
    made = downloads.open_download(ticket, cookie)
    with zipfile.ZipFile(io.BytesIO(made.data)) as zf:
        assert set(zf.namelist()) == {"links.xlsx", f"qr/{west}.png"}  # the scope of the account, now
        rows = list(load_workbook(io.BytesIO(zf.read("links.xlsx")), read_only=True).active.values)[1:]
    assert [r[0] for r in rows] == ["代表0"] and rows[0][2].startswith("https://brain.example.gov.cn/m/")
    assert reps.links(engine, Scope())["person_id"].tolist() == [west]
    with pytest.raises(downloads.Refused) as refused:
        downloads.open_download(ticket, cookie)
    assert refused.value.status == 410
    # An expired ticket issues nothing; neither does one for persons all outside the scope.
    stale = downloads.ticket_book().issue(links_order(session_id, [west], seconds=-1))
    with pytest.raises(downloads.Refused) as refused:
        downloads.open_download(stale, cookie)
    assert refused.value.status == 410
    outside = downloads.ticket_book().issue(links_order(session_id, [up]))
    with pytest.raises(downloads.Refused) as refused:
        downloads.open_download(outside, cookie)
    assert (refused.value.status, refused.value.key) == (404, "reps.links.nobody")
    assert reps.links(engine, Scope())["person_id"].tolist() == [west]


def test_a_links_download_follows_the_accounts_current_role(download_env):
    from store import reps
    from store.scope import Scope

    engine = download_env
    [pid] = persons_in(engine, ["330106"])
    session_id, cookie = held_session(engine, "soon.leader", "staff")
    ticket = downloads.ticket_book().issue(links_order(session_id, [pid]))
    accounts.set_role(engine, "soon.leader", "leader")  # leaders do not open the representatives' desk
    with pytest.raises(downloads.Refused) as refused:
        downloads.open_download(ticket, cookie)
    assert (refused.value.status, refused.value.key) == (403, "auth.forbidden")
    assert reps.links(engine, Scope()).empty
