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
    risk_record,
    shareholder,
    stage_event,
    tag,
)
from store.sql import SEARCH_SEPARATOR
from store.url import PROJECT_ROOT
from store.version import version_on

TABLES: tuple[Table, ...] = (
    category, region, person, tag, person_tag, stage_event, appointment, activity, participation, import_batch,
    import_change, enterprise, shareholder, risk_record, enterprise_link,
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
    a server store's go to data/analytic/ (setting `analytic_dir`), named by a hash (the URL
    may hold a password); app processes on one machine share them and their maintainer.
    """
    parsed = make_url(url)
    if folder is None and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db = Path(parsed.database)
        return db.with_name(f"{db.name}-copy.duckdb")
    from store.settings import get_setting

    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return (folder or Path(get_setting("analytic_dir") or ANALYTIC_DIR)) / f"copy-{digest}.duckdb"


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

    from store.copy_delta import initial_state, write_state

    base.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=base.stem + "-", suffix=".building", dir=base.parent)
    os.close(fd)
    os.unlink(tmp_name)  # DuckDB wants to create the file itself
    con = duckdb.connect(tmp_name)
    try:
        con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
        with engine.connect() as conn:
            # One snapshot for all tables and the version, so the copy holds exactly `version`.
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            snapshot_at = time.time()
            version = version_on(conn)
            state = initial_state(conn, version, snapshot_at)
            for table in TABLES:
                _copy_table(conn, con, table)
        con.execute(DERIVED_PERSON_COLUMNS)
        # What the copy holds, so that the next change can be applied to it (store/copy_delta.py).
        write_state(con, state)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        Path(tmp_name).unlink(missing_ok=True)
        raise
    con.close()
    install_copy(base, tmp_name, version)
    return version


def install_copy(base: Path, built: str, version: str) -> Path:
    """Move a finished copy into place as the one for `version`; older copies of the store go."""
    target = versioned(base, version)
    os.replace(built, target)
    # The one before stays a while: a reader that has just picked it may still open a
    # connection to it (engines connect on demand). Older ones go; an engine still reading
    # one keeps its open file.
    by_age = sorted((p for p in base.parent.glob(f"{base.stem}-*.duckdb") if p != target),
                    key=_mtime, reverse=True)
    for old in by_age[KEEP_PREVIOUS:]:
        old.unlink(missing_ok=True)
    return target


KEEP_PREVIOUS = 1


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


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
    """Start the copy's maintainer in a child process unless one already runs for this store.

    The maintainer (store/copy_delta.maintain) stays, watching the data version, and
    brings the copy forward after every change; it holds an exclusive lock on the
    lock file for its whole life, so app processes sharing the copy's folder share
    one maintainer, and a maintainer that dies releases it.
    """
    lock = path.with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    if lock_held(lock):
        return None
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.Popen(
        [sys.executable, "-m", "store.analytic", "--maintain", "--path", str(path), "--parent", str(os.getpid())],
        cwd=str(PROJECT_ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def version_counter(version: str) -> int:
    """The data-version counter a version string starts with (every writer of ours moves it up)."""
    head = version.split("|", 1)[0]
    return int(head) if head.isdigit() else 0


def lock_held(lock: Path) -> bool:
    """True while some process holds `lock` (the maintainer's)."""
    import fcntl

    try:
        with open(lock, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False
    except OSError:
        return True  # a folder we cannot write: no maintainer can run either


def main(argv: list[str] | None = None) -> int:
    from store.engine import open_store
    from store.url import resolve_database_url

    parser = argparse.ArgumentParser(prog="python -m store.analytic", description="build or maintain the analytic copy")
    parser.add_argument("--db", help="database URL")
    parser.add_argument("--path", help="base name of the copies (default: data/analytic/copy-<store>.duckdb)")
    parser.add_argument("--maintain", action="store_true", help="keep the copy current until idle")
    parser.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = resolve_database_url(args.db)
    path = Path(args.path) if args.path else copy_path_for(url)
    if args.maintain:
        from store.copy_delta import maintain

        return maintain(url, path, parent=args.parent)
    started = time.perf_counter()
    version = build_copy(open_store(url), path)
    print(f"analytic copy {path.name}: version {version} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())


class ReadRouter:
    """Chooses, per data version, between the analytic copy and the store itself.

    A copy answers for exactly the version it holds. Asked for a version no copy
    holds, the router starts the maintainer if none runs and the caller waits a
    moment for it (a delta takes well under a second), then the store answers
    (correct, slower). `recent_version` offers the newest copy's own version when
    it is at most a few seconds behind the store, for callers that accept that.
    """

    def __init__(self, url: str, *, folder: Path | None = None):
        self.url = url
        self.path = copy_path_for(url, folder)
        # One open copy at a time: the file it reads, and the version that file holds once known.
        self._engine: Engine | None = None
        self._engine_path: Path | None = None
        self._engine_version: str | None = None
        self._lock = threading.Lock()
        self.rebuild: subprocess.Popen | None = None
        self._waited: str | None = None

    def recent_version(self, store_version: str, max_lag: float, at_least: int = 0) -> str | None:
        """The newest copy's version when it may answer for `store_version`, else None.

        It may when its snapshot was read at most `max_lag` seconds ago (so no change
        it lacks is older than that) and its data-version counter is at least
        `at_least` (a viewer's own last write is in it). Equal versions need none of
        this: None then too, and the caller asks for its version as usual.
        """
        from store.copy_delta import newest_copy, state_of

        if store_version == self._engine_version:
            return None  # the open copy is current: no look at the folder on a warm page
        path = newest_copy(self.path)
        engine = self._engine_at(path) if path is not None else None
        if engine is None:
            self._ensure_maintainer()
            return None
        try:
            state = state_of(engine)
        except Exception:  # noqa: BLE001 - replaced between listing and opening: no offer this time
            return None
        if state is None:
            return None
        with self._lock:
            if self._engine_path == path:
                self._engine_version = state.version
        if state.version == store_version:
            return None
        self._ensure_maintainer()
        if time.time() - state.snapshot_at > max_lag or version_counter(state.version) < at_least:
            return None
        return state.version

    def _engine_at(self, path: Path, version: str | None = None) -> Engine | None:
        """The read engine on the copy file `path`, opened unless it is the one open (None if it is gone)."""
        with self._lock:
            if self._engine is not None and self._engine_path == path:
                return self._engine
            if not path.exists():
                return None
            if self._engine is not None:
                self._engine.dispose()
            self._engine, self._engine_path, self._engine_version = open_copy(path), path, version
            return self._engine

    def _ensure_maintainer(self) -> None:
        with self._lock:
            if self.rebuild is None or self.rebuild.poll() is not None:
                self.rebuild = start_rebuild(self.url, self.path)

    def engine_for(self, version: str, store_engine: Engine, enabled: bool = True, wait: float = 0.0) -> Engine:
        """The copy for `version` if in place, within `wait` seconds the first time a version is asked for."""
        if not enabled:
            return store_engine
        with self._lock:
            # One wait per version: the queries of a page do not each wait for a copy that is late.
            if self._waited == version:
                wait = 0.0
            self._waited = version
        deadline = time.monotonic() + wait
        while True:
            engine = self._engine_at(versioned(self.path, version), version)
            if engine is not None:
                return engine
            self._ensure_maintainer()
            if time.monotonic() >= deadline:
                return store_engine
            time.sleep(0.05)

    def wait_for(self, version: str, timeout: float) -> bool:
        """Wait until the copy for `version` is in place (True) or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        while copy_for(self.path, version) is None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True
