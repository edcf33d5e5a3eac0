"""The analytic copy: the store's tables in a DuckDB file, built for reading.

Plain GROUP BYs over a million persons and millions of participations take
seconds on SQLite and PostgreSQL. DuckDB (an embedded, columnar, vectorised
engine) answers the same SQLAlchemy queries over a copy of the tables in tens
of milliseconds. The copy is stamped with the data version it was built from;
readers use it only while that stamp equals the store's current version, and
fall back to the store itself otherwise, so an answer is never stale. After any
change (an import, an undo, another system's write) the copy is rebuilt in the
background, in its own process so that its memory never counts against the app.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Boolean, Date, DateTime, Engine, Float, Integer, Table, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from store.schema import (
    activity,
    appointment,
    category,
    enterprise,
    enterprise_link,
    import_batch,
    import_change,
    participation,
    person,
    person_tag,
    region,
    rep_request,
    rep_suggestion,
    risk_record,
    shareholder,
    stage_event,
    tag,
)
from store.sql import SEARCH_SEPARATOR
from store.url import PROJECT_ROOT
from store.version import data_version

TABLES: tuple[Table, ...] = (
    category, region, person, tag, person_tag, stage_event, appointment, activity, participation, import_batch,
    import_change, enterprise, shareholder, risk_record, enterprise_link,
    # The representatives' responses the cockpit and data health count (store.reps.liveness).
    rep_request, rep_suggestion,
)
CHUNK_ROWS = 100_000  # 200k-row chunks took the builder to 1.24 GB at 1M persons; 100k: 0.79 GB
# Per-person values the copy keeps as columns of its `person` table (see store.sql):
# each is one pass over participation at build time instead of one per query.
DERIVED_PERSON_COLUMNS = f"""
    CREATE TABLE person_derived AS
    SELECT p.*,
           last.last_checkin_at,
           lower(coalesce(p.name, '') || '{SEARCH_SEPARATOR}' || coalesce(p.organization, '')) AS search_text
    FROM person p
    LEFT JOIN (SELECT person_id, max(checked_in_at) AS last_checkin_at
               FROM participation WHERE status = 'checked_in' GROUP BY person_id) last
           ON last.person_id = p.id
    ORDER BY p.id;
    DROP TABLE person;
    ALTER TABLE person_derived RENAME TO person;
    -- An index: a page of the list fetches its fifty persons by id without a scan.
    ALTER TABLE person ADD PRIMARY KEY (id);
"""
# Part of every copy's file name: a copy built by an older layout is never used.
COPY_LAYOUT = "5"
# DuckDB's own cap, so the copy never takes the app's memory with it.
MEMORY_LIMIT = os.environ.get("BRAIN_ANALYTIC_MEMORY", "512MB")
ANALYTIC_DIR = PROJECT_ROOT / "data" / "analytic"


def _arrow_type(column) -> pa.DataType:
    kind = column.type
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, DateTime):
        return pa.timestamp("us")
    if isinstance(kind, Date):
        return pa.date32()
    return pa.string()


def _arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([(c.name, _arrow_type(c)) for c in table.columns])


def copy_path_for(url: str, folder: Path | None = None) -> Path:
    """The base name of a store's copies.

    An SQLite store keeps its copies beside its file (they come and go with it);
    a server store's go to data/analytic/, named by a hash (the URL may hold a password).
    """
    parsed = make_url(url)
    if folder is None and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db = Path(parsed.database)
        return db.with_name(f"{db.name}-copy.duckdb")
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return (folder or ANALYTIC_DIR) / f"copy-{digest}.duckdb"


def versioned(base: Path, version: str) -> Path:
    """The file of the copy built from data version `version`.

    The version is in the name, so telling whether a copy is current needs no
    opening of it (DuckDB refuses a second, differently configured connection
    to a file the process already has open).
    """
    digest = hashlib.sha256(f"{COPY_LAYOUT}:{version}".encode("utf-8")).hexdigest()[:16]
    return base.with_name(f"{base.stem}-{digest}.duckdb")


def copy_for(base: Path, version: str) -> Path | None:
    path = versioned(base, version)
    return path if path.exists() else None


def build_copy(engine: Engine, base: Path) -> str:
    """Copy every table that queries read into a new DuckDB file; returns the version it holds.

    The file is written under a temporary name and moved into place, so a
    reader finds a whole copy or none; older copies of the store are removed.
    """
    import duckdb

    base.parent.mkdir(parents=True, exist_ok=True)
    version = data_version(engine)
    fd, tmp_name = tempfile.mkstemp(prefix=base.stem + "-", suffix=".building", dir=base.parent)
    os.close(fd)
    os.unlink(tmp_name)  # DuckDB wants to create the file itself
    con = duckdb.connect(tmp_name)
    try:
        con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
        with engine.connect() as conn:
            # One snapshot for all tables, so the copy is consistent with `version`.
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            for table in TABLES:
                _copy_table(conn, con, table)
        con.execute(DERIVED_PERSON_COLUMNS)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    target = versioned(base, version)
    os.replace(tmp_name, target)
    for old in base.parent.glob(f"{base.stem}-*.duckdb"):
        if old != target:
            # An engine still reading an old copy keeps its open file; new readers get the new one.
            old.unlink(missing_ok=True)
    return version


def _copy_table(conn, duck, table: Table) -> None:
    schema = _arrow_schema(table)
    names = [f.name for f in schema]
    empty = pa.Table.from_batches([], schema=schema)  # noqa: F841 (read by DuckDB by name)
    duck.execute(f'CREATE TABLE "{table.name}" AS SELECT * FROM empty')
    result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(select(table))
    for rows in result.partitions(CHUNK_ROWS):
        columns = list(zip(*rows))
        batch = pa.Table.from_arrays(  # noqa: F841 (read by DuckDB by name)
            [pa.array(col, type=f.type) for col, f in zip(columns, schema)], names=names
        )
        duck.execute(f'INSERT INTO "{table.name}" SELECT * FROM batch')


def open_copy(path: Path) -> Engine:
    """A read-only SQLAlchemy engine on a copy (the duckdb-engine dialect)."""
    # A small pool: opening the file costs more than most of the queries it answers.
    return create_engine(
        f"duckdb:///{path}",
        connect_args={"read_only": True, "config": {"memory_limit": MEMORY_LIMIT}},
        poolclass=QueuePool, pool_size=4, max_overflow=4,
    )


def start_rebuild(url: str, path: Path) -> subprocess.Popen | None:
    """Rebuild the copy in a child process unless one is already running for this store."""
    lock = path.with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if lock.exists() and time.time() - lock.stat().st_mtime < 600:
            return None
        lock.write_text(str(os.getpid()), encoding="utf-8")
    except OSError:
        return None
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.Popen(
        [sys.executable, "-m", "store.analytic", "--path", str(path), "--unlock", str(lock)],
        cwd=str(PROJECT_ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def main(argv: list[str] | None = None) -> int:
    from store.engine import open_store
    from store.url import resolve_database_url

    parser = argparse.ArgumentParser(prog="python -m store.analytic", description="rebuild the analytic copy")
    parser.add_argument("--db", help="database URL")
    parser.add_argument("--path", help="base name of the copies (default: data/analytic/copy-<store>.duckdb)")
    parser.add_argument("--unlock", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = resolve_database_url(args.db)
    path = Path(args.path) if args.path else copy_path_for(url)
    try:
        started = time.perf_counter()
        version = build_copy(open_store(url), path)
        print(f"analytic copy {path.name}: version {version} in {time.perf_counter() - started:.1f}s")
    finally:
        if args.unlock:
            Path(args.unlock).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())


class ReadRouter:
    """Chooses, per data version, between the analytic copy and the store itself.

    The copy is used only when its stamp equals the version asked for; otherwise
    the store answers (correct, slower) and a rebuild starts in the background.
    """

    def __init__(self, url: str, *, folder: Path | None = None):
        self.url = url
        self.path = copy_path_for(url, folder)
        self._engine: Engine | None = None
        self._engine_version: str | None = None
        self._lock = threading.Lock()
        self.rebuild: subprocess.Popen | None = None

    def engine_for(self, version: str, store_engine: Engine, enabled: bool = True) -> Engine:
        if not enabled:
            return store_engine
        with self._lock:
            if self._engine is not None and self._engine_version == version:
                return self._engine
            current = copy_for(self.path, version)
            if current is not None:
                if self._engine is not None:
                    self._engine.dispose()
                self._engine, self._engine_version = open_copy(current), version
                return self._engine
            if self.rebuild is None or self.rebuild.poll() is not None:
                self.rebuild = start_rebuild(self.url, self.path)
            return store_engine
