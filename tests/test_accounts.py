"""Accounts, sign-in, lockout, screen tokens and their audit trail (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from store import accounts
from store.cli import main as store_cli
from store.schema import account, audit_log
from store.scope import Scope

T0 = datetime(2026, 3, 1, 9, 0, 0)


def audit_actions(engine):
    with engine.connect() as conn:
        return [(r.actor, r.action, json.loads(r.detail or "{}")) for r in conn.execute(
            select(audit_log).order_by(audit_log.c.id))]


def test_password_is_hashed_and_sign_in_works(engine):
    accounts.create_account(engine, "xihu", "correct horse battery", "staff", scope=Scope(districts=("330106",)))
    with engine.connect() as conn:
        stored = conn.execute(select(account.c.password_hash)).scalar_one()
    assert "correct horse" not in stored and stored.startswith("$argon2id$")
    ok = accounts.sign_in(engine, "xihu", "correct horse battery", now=T0)
    assert ok.failure is None and ok.account.role == "staff"
    assert ok.account.scope == Scope(districts=("330106",))
    assert accounts.sign_in(engine, "xihu", "wrong password!", now=T0).failure == "wrong_password"
    assert accounts.sign_in(engine, "nobody", "whatever12345", now=T0).failure == "unknown"
    actions = [a[1] for a in audit_actions(engine)]
    assert actions == ["account_create", "login", "login_failure", "login_failure"]


def test_lockout_after_repeated_failures_then_expires(engine):
    accounts.create_account(engine, "u1", "a-long-password", "leader")
    for i in range(4):
        assert accounts.sign_in(engine, "u1", "bad", max_failures=5, now=T0).failure == "wrong_password"
    fifth = accounts.sign_in(engine, "u1", "bad", max_failures=5, now=T0)
    assert fifth.failure == "locked" and fifth.locked_until == T0 + accounts.LOCKOUT
    # Even the right password is refused while locked ...
    assert accounts.sign_in(engine, "u1", "a-long-password", now=T0 + timedelta(minutes=5)).failure == "locked"
    # ... and accepted once the lock has expired.
    assert accounts.sign_in(engine, "u1", "a-long-password", now=T0 + timedelta(minutes=16)).failure is None


def test_disabled_account_cannot_sign_in(engine):
    accounts.create_account(engine, "u2", "a-long-password", "staff")
    accounts.set_disabled(engine, "u2", True)
    assert accounts.sign_in(engine, "u2", "a-long-password", now=T0).failure == "disabled"
    accounts.set_disabled(engine, "u2", False)
    assert accounts.sign_in(engine, "u2", "a-long-password", now=T0).failure is None


@pytest.mark.parametrize("role, password, fragment", [
    ("boss", "a-long-password", "未知角色"),
    ("staff", "short", "密码至少"),
])
def test_bad_account_requests_are_refused_clearly(engine, role, password, fragment):
    with pytest.raises(accounts.AccountError, match=fragment):
        accounts.create_account(engine, "x", password, role)


def test_bootstrap_creates_admin_once(engine):
    password = accounts.bootstrap_admin(engine)
    assert password and len(password) >= 12
    assert accounts.sign_in(engine, "admin", password, now=T0).account.role == "admin"
    assert accounts.bootstrap_admin(engine) is None


def test_screen_tokens_grant_until_revoked(engine):
    token = accounts.create_screen_token(engine, "一楼大厅")
    assert len(token) >= 40
    token_id = accounts.check_screen_token(engine, token)
    assert token_id is not None
    assert accounts.check_screen_token(engine, token + "x") is None
    listed = accounts.list_screen_tokens(engine)
    assert listed[0]["label"] == "一楼大厅" and "token_sha256" not in listed[0]
    accounts.revoke_screen_token(engine, token_id)
    assert accounts.check_screen_token(engine, token) is None
    with pytest.raises(accounts.AccountError):
        accounts.revoke_screen_token(engine, token_id)
    assert [a[1] for a in audit_actions(engine)] == ["screen_token_create", "screen_token_revoke"]


def test_cli_manages_accounts(store_url, capsys):
    assert store_cli(["--db", store_url, "account", "add", "lin", "--role", "staff",
                      "--districts", "330113", "--streets", "330106:西溪街道"]) == 0
    assert "lin (staff)" in capsys.readouterr().out
    assert store_cli(["--db", store_url, "account", "set-role", "lin", "leader"]) == 0
    assert store_cli(["--db", store_url, "account", "add", "lin", "--role", "staff"]) == 1
    assert "已存在" in capsys.readouterr().err
    assert store_cli(["--db", store_url, "account", "list"]) == 0
    out = capsys.readouterr().out
    assert "lin\tleader\t330113" in out
