"""Engines: SQLite tuned for a dashboard next to an importer; PostgreSQL through psycopg 3."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from store.url import resolve_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
BOOTSTRAP_HINT = "python -m store bootstrap"

log = logging.getLogger("brain.store")


def create_store_engine(url: str, *, create: bool = False) -> Engine:
    """An engine for `url`; for SQLite pragmas are set, and the file must already exist.

    SQLite would create a missing file on connect: a store deleted or moved away while
    the app runs would come back empty, and a valid password would be "wrong". So only
    bootstrap (`python -m store bootstrap`, `python -m loaders demo`, a test's fresh
    store) passes `create=True`; anywhere else a missing file is an outage.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:"):
            if create:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            else:
                _existing_file_only(engine, Path(path))
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pool_pre_ping: a restarted server costs one failed ping, not an error on screen.
    # connect_timeout: an unreachable server fails in seconds instead of freezing the page.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"connect_timeout": 5})


def _file_id(path: Path) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_dev, found.st_ino


def _existing_file_only(engine: Engine, path: Path) -> None:
    """Connect to `path` only while it exists, and drop pooled connections to a file gone since."""
    outage = {"logged": False}  # one log line per outage, not one per page view

    def connect(dialect, record, cargs, cparams):
        if not path.exists():
            if not outage["logged"]:
                outage["logged"] = True
                log.error("store unavailable: the SQLite file %s is missing; not creating an empty one "
                          "(only `%s` or `python -m loaders demo` create a store)", path, BOOTSTRAP_HINT)
            raise dialect.loaded_dbapi.OperationalError(f"store file missing: {path}")
        # mode=rw: should the file vanish between the check and the open, fail rather than create.
        conn = dialect.loaded_dbapi.connect(f"file:{quote(str(path))}?mode=rw", *cargs[1:],
                                            **{**cparams, "uri": True})
        record.info["file_id"] = _file_id(path)
        if outage["logged"]:
            outage["logged"] = False
            log.warning("store available again: %s", path)
        return conn

    def checkout(_dbapi_conn, record, _proxy):
        # An open connection keeps reading (and writing!) a deleted or replaced file: every
        # write would be lost. Such a connection is dropped and a new one opened, or refused.
        try:
            same = _file_id(path) == record.info.get("file_id")
        except OSError:
            same = False
        if not same:
            raise DisconnectionError(f"store file {path} was removed or replaced")

    event.listen(engine, "do_connect", connect)
    event.listen(engine, "checkout", checkout)


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


def outage_message(exc: BaseException) -> str:
    """One bilingual line for a command line that cannot reach the store (details in the log)."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    line = f"数据库不可用 · the store is unavailable: {reason}"
    if "store file missing" in reason:
        line += f"（首次使用请运行 {BOOTSTRAP_HINT} · on a first start run `{BOOTSTRAP_HINT}`）"
    return line


def open_store(url: str | None = None, *, migrate: bool = True, create: bool = False) -> Engine:
    """Resolve the URL, create the engine and (by default) upgrade the schema to head.

    `create`: bootstrap only (see create_store_engine); otherwise a missing SQLite file
    raises OperationalError, as any store that cannot be reached does.
    """
    engine = create_store_engine(resolve_database_url(url), create=create)
    if migrate:
        from store.migrate import upgrade_to_head

        upgrade_to_head(engine)
    return engine
