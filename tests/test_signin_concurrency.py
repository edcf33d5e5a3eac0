"""Sign-in while something writes (issue 19, item 7), on SQLite and PostgreSQL.

During a 100,000-row import 8 of 15 sign-ins failed at once with "database is locked";
of 30 simultaneous failed sign-ins only 2 reached the audit log. A sign-in waits its turn
behind a writer (bounded by the store's busy timeout) and succeeds, and every attempt is
recorded, its failure counted, however many arrive at once.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update

from store import accounts
from store.engine import SQLITE_BUSY_TIMEOUT_MS, writing
from store.schema import account, audit_log, meta

PASSWORD = "a-long-password"
HOLD_SECONDS = 2.0


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Thirty Argon2 checks of 64 MiB each would measure the machine, not the locking."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not-a-real-password"))


def logins(engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        return [(r.actor, r.action, json.loads(r.detail or "{}"))
                for r in conn.execute(select(audit_log).where(audit_log.c.action.in_(("login", "login_failure")))
                                      .order_by(audit_log.c.id))]


def at_once(n: int, attempt) -> list:
    """Run `attempt(i)` in n threads released together; their results in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return attempt(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def hold_the_store(engine, started: threading.Event, seconds: float) -> None:
    """What an import does to sign-ins: a write transaction that lasts.

    SQLite: the database's one write lock. PostgreSQL: the rows an account change locks.
    """
    with writing(engine) as conn:
        conn.execute(update(meta).where(meta.c.key == "data_version").values(value="held"))
        conn.execute(update(account).values(display_name=account.c.display_name))
        started.set()
        time.sleep(seconds)


def test_sign_ins_wait_for_a_long_write_and_succeed(engine):
    n = 15
    for i in range(n):
        accounts.create_account(engine, f"user{i}", PASSWORD, "staff")
    started = threading.Event()
    holder = threading.Thread(target=hold_the_store, args=(engine, started, HOLD_SECONDS))
    holder.start()
    assert started.wait(10)
    t0 = time.monotonic()
    try:
        results = at_once(n, lambda i: accounts.sign_in(engine, f"user{i}", PASSWORD))
    finally:
        holder.join()
    elapsed = time.monotonic() - t0
    assert [r.failure for r in results] == [None] * n
    assert sorted(r.account.username for r in results) == sorted(f"user{i}" for i in range(n))
    # They waited for the writer, and no longer than the bound.
    assert HOLD_SECONDS * 0.8 <= elapsed < HOLD_SECONDS + SQLITE_BUSY_TIMEOUT_MS / 1000
    assert sorted(actor for actor, action, _ in logins(engine) if action == "login") == \
        sorted(f"user{i}" for i in range(n))


def test_simultaneous_wrong_passwords_are_all_counted_and_recorded(engine):
    n = 30
    accounts.create_account(engine, "target", PASSWORD, "staff")
    results = at_once(n, lambda i: accounts.sign_in(engine, "target", f"wrong-{i:02d}-password", max_failures=100))
    assert [r.failure for r in results] == ["wrong_password"] * n
    recorded = logins(engine)
    assert len(recorded) == n
    assert all((actor, action, detail["reason"]) == ("target", "login_failure", "wrong_password")
               for actor, action, detail in recorded)
    with engine.connect() as conn:
        assert conn.execute(select(account.c.failed_logins).where(account.c.username == "target")).scalar_one() == n


def test_simultaneous_wrong_passwords_lock_after_exactly_the_limit(engine):
    """30 at once against a limit of 5: five are counted as wrong, the fifth locks, 25 find it locked."""
    n, limit = 30, 5
    accounts.create_account(engine, "target", PASSWORD, "staff")
    results = at_once(n, lambda i: accounts.sign_in(engine, "target", f"wrong-{i:02d}-password",
                                                    max_failures=limit))
    assert sorted(r.failure for r in results).count("locked") == n - limit + 1
    assert sum(r.failure == "wrong_password" for r in results) == limit - 1
    reasons = [detail["reason"] for _actor, _action, detail in logins(engine)]
    assert len(reasons) == n
    assert reasons.count("wrong_password") == limit and reasons.count("locked") == n - limit
    assert sum(detail.get("locked", False) for *_, detail in logins(engine)) == 1
    with engine.connect() as conn:
        row = conn.execute(select(account.c.failed_logins, account.c.locked_until)
                           .where(account.c.username == "target")).one()
    assert row.failed_logins == 0 and row.locked_until is not None
    # The right password is refused while locked: the lock really holds.
    assert accounts.sign_in(engine, "target", PASSWORD).failure == "locked"


def test_unknown_usernames_during_a_write_are_recorded_too(engine):
    n = 10
    started = threading.Event()
    holder = threading.Thread(target=hold_the_store, args=(engine, started, 1.0))
    holder.start()
    assert started.wait(10)
    try:
        results = at_once(n, lambda i: accounts.sign_in(engine, f"nobody{i}", "whatever-password"))
    finally:
        holder.join()
    assert [r.failure for r in results] == ["unknown"] * n
    assert sorted(actor for actor, _action, _detail in logins(engine)) == sorted(f"nobody{i}" for i in range(n))


def test_screen_token_check_waits_for_a_long_write(engine):
    token = accounts.create_screen_token(engine, "一楼大厅")
    started = threading.Event()
    holder = threading.Thread(target=hold_the_store, args=(engine, started, 1.0))
    holder.start()
    assert started.wait(10)
    try:
        ids = at_once(5, lambda i: accounts.check_screen_token(engine, token))
    finally:
        holder.join()
    assert len(set(ids)) == 1 and ids[0] is not None
