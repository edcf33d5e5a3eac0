"""The shared cache: keyed by data version, warmed in the background after a change."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, event, insert

from store.queries import cockpit, common
from store.schema import person
from store.scope import Scope
from store.version import bump_data_version
from ui import cache


@pytest.fixture
def statements():
    seen: list[str] = []

    def listen(conn, cursor, statement, *args):
        if statement.strip().upper() != "BEGIN":
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", listen)
    yield seen
    event.remove(Engine, "before_cursor_execute", listen)


def add_person(engine, name):
    now = datetime(2026, 5, 1)
    with engine.begin() as conn:
        conn.execute(insert(person).values(name=name, category_code="other", created_at=now, updated_at=now))
        bump_data_version(conn)


def test_warm_view_issues_no_sql_and_a_change_is_seen_then_warmed(sqlite_engine, monkeypatch, statements):
    url = sqlite_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "0")
    cache.data_changed()

    assert cache.query(common.store_summary, Scope()).persons == 0
    assert cache.query(cockpit.by_category, Scope())["n"].sum() == 0  # all 12 categories, no persons yet
    statements.clear()
    assert cache.query(common.store_summary, Scope()).persons == 0
    assert statements == []  # warm: the cache answers, the store is not asked

    add_person(sqlite_engine, "新人")
    cache.data_changed()  # as an import in this process does
    # The first call under the new version sees the change ...
    assert cache.query(cockpit.by_stage, Scope()) is not None
    warmer = cache._warmer_for(url)
    assert warmer.thread is not None
    warmer.thread.join(timeout=60)
    # ... and the warmer has already re-asked what viewers were looking at.
    statements.clear()
    assert cache.query(common.store_summary, Scope()).persons == 1
    assert statements == []
