"""Engines: SQLite tuned for a dashboard next to an importer; PostgreSQL through psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from store.url import resolve_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite the file's folder is created and pragmas are set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pool_pre_ping: a restarted server costs one failed ping, not an error on screen.
    # connect_timeout: an unreachable server fails in seconds instead of freezing the page.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"connect_timeout": 5})


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # The driver's own transaction handling issues BEGIN lazily and breaks
    # "one file, one transaction"; we issue BEGIN ourselves (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    # WAL lets the cockpit read while an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE takes the write lock up front: a writer that first reads and then
    # writes would otherwise fail at once (no busy wait) if another writer
    # committed in between.
    immediate = conn.get_execution_options().get("sqlite_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction for a read-then-write job (an import, an undo): it waits for other writers.

    SQLite: BEGIN IMMEDIATE (waits up to the busy timeout). PostgreSQL: rows are
    locked as they are written; callers that must serialise whole jobs add an
    advisory lock of their own.
    """
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


def open_store(url: str | None = None, *, migrate: bool = True) -> Engine:
    """Resolve the URL, create the engine and (by default) upgrade the schema to head."""
    engine = create_store_engine(resolve_database_url(url))
    if migrate:
        from store.migrate import upgrade_to_head

        upgrade_to_head(engine)
    return engine
