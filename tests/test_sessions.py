"""Many screens watching the cockpit cost the database what one does.

AppTest swaps a process-wide runtime on every run, so AppTest sessions cannot
run side by side in threads; the test therefore (1) runs 50 AppTest sessions
one after another and (2) has 50 threads ask the cockpit's cached queries at
the same moment, as 50 live sessions would after a data change.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import streamlit as st
from sqlalchemy import Engine, event

from loaders.demo import generate_demo
from store.queries import cockpit
from store.scope import Scope
from store.settings import get_setting
from ui.cache import data_changed, query

SESSIONS = 50


class Counter:
    """Counts statements; the data-version check (a read of `meta`) is counted apart."""

    def __init__(self):
        self.n = 0
        self.version_checks = 0
        self.database: str | None = None  # only this store's statements (other tests' watchers may poll theirs)
        self._lock = threading.Lock()

    def __call__(self, conn, cursor, statement, *args):
        if statement.strip().upper() == "BEGIN":  # SQLite's explicit transaction start, not a query
            return
        if self.database is not None and conn.engine.url.render_as_string(False) != self.database:
            return
        with self._lock:
            if "FROM meta" in statement:
                self.version_checks += 1
            else:
                self.n += 1

    def reset(self):
        self.n = self.version_checks = 0


@pytest.fixture
def counted():
    counter = Counter()
    event.listen(Engine, "before_cursor_execute", counter)
    yield counter
    event.remove(Engine, "before_cursor_execute", counter)


def cold():
    data_changed()
    st.cache_data.clear()


def test_fifty_cockpit_sessions_cost_one_sessions_queries(engine, store_url, make_app, counted):
    counted.database = engine.url.render_as_string(False)
    generate_demo(engine, persons=300, seed=3, today=date(2026, 11, 1))
    make_app(store_url, kiosk="1").run()  # migrations and engine set-up, not counted

    cold()
    counted.reset()
    assert not make_app(store_url, kiosk="1").run().exception
    one = counted.n
    assert one >= 9  # the cockpit's nine aggregates, at least

    cold()
    counted.reset()
    started = time.monotonic()
    for _ in range(SESSIONS):
        assert not make_app(store_url, kiosk="1").run().exception
    elapsed = time.monotonic() - started
    print(f"\nqueries: 1 session {one}, {SESSIONS} sessions {counted.n} "
          f"(+{counted.version_checks} version checks in {elapsed:.0f}s)")
    assert counted.n == one
    # The version is watched once per process: one check after the change, then one per interval,
    # however many sessions look.
    assert counted.version_checks <= elapsed / get_setting("version_check_seconds") + 2


def test_fifty_simultaneous_askers_share_each_query(engine, store_url, monkeypatch, counted):
    counted.database = engine.url.render_as_string(False)
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "0")
    generate_demo(engine, persons=300, seed=4, today=date(2026, 11, 1))
    today = date(2026, 11, 1)
    calls = [(cockpit.headline, today), (cockpit.by_category,), (cockpit.by_district,), (cockpit.top_tags, 20),
             (cockpit.by_stage,), (cockpit.monthly_participation, today), (cockpit.age_gender, today),
             (cockpit.by_education,), (cockpit.activity_feed, today)]
    query(cockpit.by_stage, Scope())  # engine set-up, not counted

    def session(_):
        for fn, *args in calls:
            query(fn, Scope(), *args)

    cold()
    counted.reset()
    session(0)
    one = counted.n

    cold()
    counted.reset()
    barrier = threading.Barrier(SESSIONS)

    def at_once(i):
        barrier.wait()
        session(i)

    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        list(pool.map(at_once, range(SESSIONS)))
    print(f"\nqueries: 1 asker {one}, {SESSIONS} simultaneous askers {counted.n}")
    assert counted.n == one
