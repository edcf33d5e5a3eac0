"""Sign-in sessions, the accounts epoch and the sign-in's refusals, in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from store import accounts
from store.schema import account_session, audit_log
from store.scope import Scope
from store.version import watched_versions

T0 = datetime(2026, 3, 1, 9, 0, 0)
IDLE = timedelta(minutes=30)
PASSWORD = "a-long-password"


def epoch(engine) -> str:
    return watched_versions(engine)[1]


def signed_in(engine, username: str, *, now: datetime = T0) -> tuple[int, str]:
    """(session id, cookie) of a new session of `username`, as the browser holds it after the handoff."""
    acc = accounts.get_account(engine, username)
    start = accounts.start_session(engine, acc.id, "password", now=now)
    cookie = accounts.redeem_handoff(engine, start.handoff, accounts.session_key(engine), now=now)
    assert cookie is not None
    return start.session_id, cookie


def check(engine, cookie: str, now: datetime = T0) -> accounts.SessionCheck:
    return accounts.check_session(engine, cookie=cookie, key=accounts.session_key(engine), idle=IDLE, now=now)


def logouts(engine) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                            .where(audit_log.c.action == "logout").order_by(audit_log.c.id)).all()
    return [(actor, json.loads(detail) if detail else {}) for actor, detail in rows]


def test_a_session_cookie_opens_its_session_only(engine):
    accounts.create_account(engine, "wang", PASSWORD, "staff", scope=Scope(districts=("330106",)))
    session_id, cookie = signed_in(engine, "wang")
    held = check(engine, cookie)
    assert held.failure is None and held.session_id == session_id
    assert held.account.username == "wang" and held.account.scope == Scope(districts=("330106",))
    # Only the token's hash is stored.
    with engine.connect() as conn:
        stored = conn.execute(select(account_session.c.token_sha256)).scalar_one()
    token = cookie.rsplit(".", 1)[0]
    assert token not in stored and len(stored) == 64
    # A cookie not signed by this store, or altered, or another store's: refused before any lookup.
    for forged in (token, token + ".x", cookie[:-1] + ("A" if cookie[-1] != "A" else "B"), "", "a" * 5000):
        assert check(engine, forged).failure == "invalid"
    assert accounts.check_session(engine, cookie=cookie, key=b"another store", idle=IDLE, now=T0).failure == "invalid"


def test_the_handoff_code_opens_once_and_for_a_minute_only(engine):
    acc = accounts.create_account(engine, "li", PASSWORD, "staff")
    key = accounts.session_key(engine)
    start = accounts.start_session(engine, acc.id, "password", now=T0)
    assert accounts.redeem_handoff(engine, start.handoff, key, now=T0 + timedelta(seconds=5)) is not None
    assert accounts.redeem_handoff(engine, start.handoff, key, now=T0 + timedelta(seconds=6)) is None
    late = accounts.start_session(engine, acc.id, "password", now=T0)
    assert accounts.redeem_handoff(engine, late.handoff, key, now=T0 + accounts.HANDOFF + timedelta(seconds=1)) is None


def test_sign_out_ends_the_session_for_good(engine):
    accounts.create_account(engine, "zhao", PASSWORD, "staff")
    session_id, cookie = signed_in(engine, "zhao")
    before = epoch(engine)
    assert accounts.end_session(engine, session_id) is True
    assert epoch(engine) != before  # the other tabs of this session notice
    assert check(engine, cookie).failure == "ended"
    assert accounts.end_session(engine, session_id) is False  # once
    assert logouts(engine) == [("zhao", {})]


@pytest.mark.parametrize("change", ["disable", "password"])
def test_disable_and_password_reset_end_every_session_of_the_account(engine, change):
    accounts.create_account(engine, "qian", PASSWORD, "staff")
    accounts.create_account(engine, "sun", PASSWORD, "staff")
    sessions = [signed_in(engine, "qian") for _ in range(2)]
    _, other = signed_in(engine, "sun")
    if change == "disable":
        accounts.set_disabled(engine, "qian", True)
        accounts.set_disabled(engine, "qian", False)  # enabling again does not bring a session back
    else:
        accounts.set_password(engine, "qian", "another-long-password")
    for _, cookie in sessions:
        assert check(engine, cookie).failure == "ended"
    assert check(engine, other).failure is None
    with engine.connect() as conn:
        reasons = set(conn.execute(select(account_session.c.revoked_reason)
                                   .where(account_session.c.revoked_at.is_not(None))).scalars())
    assert reasons == {"disabled" if change == "disable" else "password"}


def test_an_idle_session_ends_once_and_activity_keeps_it(engine):
    accounts.create_account(engine, "zhou", PASSWORD, "leader")
    busy_id, busy = signed_in(engine, "zhou")
    _, idle = signed_in(engine, "zhou")
    accounts.touch_session(engine, busy_id, now=T0 + timedelta(minutes=20))
    later = T0 + timedelta(minutes=31)
    assert check(engine, busy, later).failure is None
    assert check(engine, idle, later).failure == "idle"
    assert check(engine, idle, later).failure == "ended"
    assert logouts(engine) == [("zhou", {"reason": "idle"})]


def test_every_change_to_accounts_moves_the_epoch(engine):
    """What open sessions watch: each of these must reach them."""
    accounts.create_account(engine, "wu", PASSWORD, "staff")
    token_id = accounts.check_screen_token(engine, accounts.create_screen_token(engine, "大厅"))
    changes = [
        lambda: accounts.set_role(engine, "wu", "screen"),
        lambda: accounts.set_scope(engine, "wu", Scope(districts=("330102",))),
        lambda: accounts.set_disabled(engine, "wu", True),
        lambda: accounts.set_disabled(engine, "wu", False),
        lambda: accounts.set_password(engine, "wu", "another-long-password"),
        lambda: accounts.revoke_screen_token(engine, token_id),
    ]
    seen = {epoch(engine)}
    for change in changes:
        change()
        now = epoch(engine)
        assert now not in seen
        seen.add(now)
    # Reading, signing in and noting activity move nothing: no open session needs to look again.
    session_id, cookie = signed_in(engine, "wu")
    accounts.sign_in(engine, "wu", "another-long-password", now=T0)
    accounts.touch_session(engine, session_id, now=T0)
    check(engine, cookie)
    assert epoch(engine) == now


def test_the_session_key_is_one_per_store(engine):
    assert accounts.session_key(engine) == accounts.session_key(engine)
    assert len(accounts.session_key(engine)) == 32


class CountingHasher:
    def __init__(self, real):
        self.real = real
        self.verified = 0

    def verify(self, *args):
        self.verified += 1
        return self.real.verify(*args)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_every_refusal_costs_one_password_check(engine, monkeypatch):
    """A refusal that skipped the check would answer faster, and tell that the username exists."""
    accounts.create_account(engine, "locked", PASSWORD, "staff")
    accounts.create_account(engine, "off", PASSWORD, "staff")
    accounts.set_disabled(engine, "off", True)
    for _ in range(5):
        accounts.sign_in(engine, "locked", "wrong-password", now=T0)
    hasher = CountingHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    for username, reason in (("nobody", "unknown"), ("off", "disabled"), ("locked", "locked"),
                             ("off", "disabled")):
        before = hasher.verified
        assert accounts.sign_in(engine, username, "wrong-password", now=T0).failure == reason
        assert hasher.verified == before + 1, reason


def test_a_huge_username_is_bounded_in_the_audit_log(engine):
    huge = "管" * 50_000
    result = accounts.sign_in(engine, huge, "whatever-password", now=T0)
    assert result.account is None
    with engine.connect() as conn:
        actor, detail = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                                     .where(audit_log.c.action == "login_failure")).one()
    assert len(actor) == 64 and actor.startswith("管" * 63)
    assert json.loads(detail) == {"reason": "unknown"}
