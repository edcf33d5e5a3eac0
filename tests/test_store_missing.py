"""A missing store is an outage, not a new store (issue 19, item 8).

SQLite creates a missing file on connect. Deleting the store while the app ran gave an
empty store at the same path: a valid password was then "wrong", and nothing was logged.
Only bootstrap (`python -m store bootstrap`, `python -m loaders demo`) creates a store.
"""

from __future__ import annotations

import logging
import shutil

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

import ui.cache
from loaders.cli import main as loaders_cli
from store import accounts, clock
from store.cli import main as store_cli
from store.engine import create_store_engine, open_store
from store.migrate import upgrade_to_head
from store.schema import person
from ui.cache import data_changed
from ui.i18n import translate

PASSWORD = "a-long-password"


@pytest.fixture
def store_file(tmp_path):
    """A migrated store of 7 persons and one account, at tmp/store/brain.db."""
    db = tmp_path / "store" / "brain.db"
    engine = create_store_engine(f"sqlite:///{db}", create=True)
    upgrade_to_head(engine)
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(person), [dict(name=f"人{i}", category_code="other", created_at=now, updated_at=now)
                                      for i in range(7)])
    accounts.create_account(engine, "wang", PASSWORD, "admin")
    engine.dispose()
    return db


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


def footer(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def missing_logged(caplog, db) -> bool:
    return any(r.name == "brain.store" and r.levelno >= logging.ERROR and str(db) in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
def test_deleted_store_file_is_an_outage_and_not_recreated(store_file, make_app, tmp_path, caplog, restart):
    """The file goes while the app runs (its pooled connections still open), or before a restart."""
    url = f"sqlite:///{store_file}"
    at = make_app(url).run()
    assert not at.exception and not at.error
    assert "人员总数：7" in footer(at)

    # Deleted, as staff would: the database with its -wal and -shm (kept aside to restore).
    backup = tmp_path / "backup"
    backup.mkdir()
    files = list(store_file.parent.iterdir())
    for f in files:
        f.rename(backup / f.name)
    if restart:
        ui.cache._engine_for.clear()  # a new process: the engine (and its migration) made again
    with caplog.at_level(logging.ERROR):
        data_changed()  # as if the version check's time-to-live had run out
        at = make_app(url).run()
        assert not at.exception, "a traceback reached the screen"
        assert translate("error.database_unavailable", "zh") in errors(at)
        at = make_app(url, lang="en").run()
        assert translate("error.database_unavailable", "en") in errors(at)
    assert not store_file.exists(), "an empty store was created in place of the missing one"
    assert list(store_file.parent.iterdir()) == []
    assert missing_logged(caplog, store_file), "the outage was not logged"

    # Restored (a copy: a new file where the old one was) -> the app recovers by itself.
    for f in files:
        shutil.copy(backup / f.name, f)
    data_changed()
    at = make_app(url).run()
    assert not at.exception and not at.error
    assert "人员总数：7" in footer(at)


def test_sign_in_with_the_store_gone_says_unavailable_not_wrong_password(store_file, make_app, monkeypatch, caplog):
    url = f"sqlite:///{store_file}"
    at = make_app(url)
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at.run()
    for f in list(store_file.parent.iterdir()):
        f.unlink()
    at.text_input[0].input("wang")
    at.text_input[1].input(PASSWORD)
    with caplog.at_level(logging.ERROR):
        at.button[0].click().run()
    assert not at.exception
    assert translate("error.database_unavailable", "zh") in errors(at)
    assert translate("auth.failed", "zh") not in errors(at)
    assert not store_file.exists()
    assert missing_logged(caplog, store_file)


def test_an_open_engine_drops_connections_to_a_replaced_file(store_file, tmp_path):
    """A pooled connection keeps the deleted file open: its writes would be lost without a word."""
    engine = open_store(f"sqlite:///{store_file}")
    with engine.connect() as conn:  # one pooled connection, to the original file
        conn.exec_driver_sql("SELECT 1")
    aside = tmp_path / "aside.db"
    shutil.copy(store_file, aside)
    store_file.unlink()
    with pytest.raises(OperationalError):
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    assert not store_file.exists()
    shutil.copy(aside, store_file)  # a new file (a new inode) at the path
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM person").scalar() == 7
    engine.dispose()


@pytest.mark.parametrize("argv", [
    ["store", "--db", "DB", "account", "list"],
    ["store", "--db", "DB", "screen-token", "list"],
    ["loaders", "import", "x.csv", "--db", "DB"],
    ["loaders", "undo", "1", "--db", "DB"],
    ["loaders", "refresh", "--db", "DB"],
], ids=" ".join)
def test_commands_other_than_bootstrap_do_not_create_a_store(tmp_path, capsys, argv):
    db = tmp_path / "none" / "brain.db"
    cli = {"store": store_cli, "loaders": loaders_cli}[argv[0]]
    assert cli([f"sqlite:///{db}" if a == "DB" else a for a in argv[1:]]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "数据库不可用" in err and "the store is unavailable" in err and "python -m store bootstrap" in err
    assert not db.exists()


def test_bootstrap_and_demo_create_the_store(tmp_path, capsys):
    first = tmp_path / "a" / "brain.db"
    assert store_cli(["--db", f"sqlite:///{first}", "bootstrap"]) == 0
    assert "admin" in capsys.readouterr().out and first.exists()
    assert store_cli(["--db", f"sqlite:///{first}", "account", "list"]) == 0
    second = tmp_path / "b" / "brain.db"
    assert loaders_cli(["demo", "--db", f"sqlite:///{second}", "--persons", "20", "--if-empty"]) == 0
    assert second.exists()


@pytest.mark.parametrize("method, path", [
    ("GET", "/_brain/door/1"), ("GET", "/_brain/poster/1"), ("GET", "/_brain/signup/1"), ("GET", "/_brain/pass/x"),
    ("GET", "/m/a-personal-link"), ("POST", "/_brain/session"), ("GET", "/_brain/export/x"),
])
def test_the_routes_beside_the_pages_say_unavailable_with_the_store_gone(store_file, monkeypatch, caplog, method,
                                                                          path):
    """The door, the poster, a representative's link, the sign-in cookie and a download answer 503 in both
    languages and log it, as the pages do; before, most answered 500 ('something went wrong')."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    import server
    from ui.web import EXCEPTION_HANDLERS, routes

    assert server.app._exception_handlers == EXCEPTION_HANDLERS  # the server answers so too
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store_file}")
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    shutil.rmtree(store_file.parent)
    app = Starlette(routes=routes(""), exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.WARNING):
        answer = client.request(method, path, data={"handoff": "x"}, headers={"origin": "http://testserver"},
                                cookies={"brain_session": "x"})
    assert answer.status_code == 503, answer.text[:200]
    for lang in ("zh", "en"):
        assert translate("error.database_unavailable", lang) in answer.text
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    assert "a-personal-link" not in caplog.text  # the log names the route, not a link's token
    assert not store_file.exists()
