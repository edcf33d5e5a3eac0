"""Staying up: the database stopping mid-session gives a clear message, and the app recovers."""

from __future__ import annotations


import pytest
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from store import clock
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.schema import person
from tcp_proxy import TcpProxy
import ui.cache
from ui.cache import data_changed
from ui.i18n import translate

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar


@pytest.fixture
def proxied_pg_url(store_url_factory):
    url = store_url_factory("postgresql")
    parsed = make_url(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    yield proxy, parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.cut()


def messages(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.postgresql
def test_database_outage_shows_message_and_recovers(proxied_pg_url, make_app):
    proxy, url = proxied_pg_url
    # A fresh AppTest per visit: a first run always goes through app.py.
    at = make_app(url).run()
    assert not at.exception and not at.error

    proxy.cut()
    data_changed()  # as if the version check's time-to-live had run out
    at = make_app(url).run()
    assert not at.exception, "a traceback reached the screen"
    assert "数据库暂时无法连接" in messages(at)

    proxy.restore()
    at = make_app(url).run()
    assert not at.exception and not at.error
    assert "PostgreSQL" in " ".join(c.value for c in at.sidebar.caption)


def _footer(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_sqlite_store_going_away_shows_message_and_recovers(tmp_path, make_app):
    db = tmp_path / "store" / "brain.db"
    url = f"sqlite:///{db}"
    seed = create_store_engine(url, create=True)
    upgrade_to_head(seed)
    now = clock.now()
    with seed.begin() as conn:
        conn.execute(insert(person), [dict(name=f"人{i}", category_code="other", created_at=now, updated_at=now)
                                      for i in range(7)])
    seed.dispose()
    at = make_app(url).run()
    assert not at.exception and not at.error
    assert "人员总数：7" in _footer(at)

    # The file is moved away (a volume unmounted, a restore half done) and a directory
    # stands in its place: opening it fails, where a merely missing file would be
    # created afresh, empty.
    away = tmp_path / "away"
    away.mkdir()
    # An open SQLite connection keeps reading the file it opened, whatever happens to the
    # path: only connections opened after the outage see it. A restarted worker or a pool
    # that has to grow opens new ones; closing the pooled ones stands in for that.
    ui.cache._engine_for(url).dispose()
    moved = list(db.parent.iterdir())  # the database with its -wal and -shm, if any
    for p in moved:
        p.rename(away / p.name)
    db.mkdir()
    try:
        data_changed()  # as if the version check's time-to-live had run out
        at = make_app(url).run()
        assert not at.exception, "a traceback reached the screen"
        assert translate("error.database_unavailable", "zh") in messages(at)
        at = make_app(url, lang="en").run()
        assert not at.exception
        assert translate("error.database_unavailable", "en") in messages(at)
    finally:
        db.rmdir()
        for p in moved:
            (away / p.name).rename(p)

    at = make_app(url).run()
    assert not at.exception and not at.error
    assert "SQLite" in _footer(at) and "人员总数：7" in _footer(at)


def test_unreadable_sqlite_store_shows_message_not_traceback(tmp_path, make_app, caplog):
    # Not a lost connection: the file is there but is no database (a bad restore, a
    # disk fault). Retrying cannot help, so the message asks for the administrator.
    db = tmp_path / "brain.db"
    db.write_bytes(bytes(range(256)) * 64)
    url = f"sqlite:///{db}"
    with caplog.at_level("ERROR", logger="brain"):
        at = make_app(url).run()
    assert not at.exception, "a traceback reached the screen"
    shown = messages(at)
    assert translate("error.database_unreadable", "zh") in shown
    assert "管理员" in shown
    assert "not a database" not in shown, "the driver's error belongs in the server log"
    assert any(r.exc_info and "not a database" in str(r.exc_info[1]) for r in caplog.records), \
        "the details were not logged"

    at = make_app(url, lang="en").run()
    assert not at.exception
    assert translate("error.database_unreadable", "en") in messages(at)
    assert "administrator" in messages(at)
