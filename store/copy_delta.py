"""Keeping the analytic copy current with work proportional to what changed.

A full build reads every table (about 40 s at a million persons). Live data
(sign-ups, check-ins, edits) changes a few rows a second, so after a write the
copy is brought forward instead: the newest copy's file is duplicated, the rows
the change sets since then name are read again from the store and replace their
old selves, and the result is stamped with the store's version like a build.

What a delta reads, all in one snapshot of the store:
- the change sets past the copy's watermark (the write path names every row it
  touches as entity + row key), plus the ids that were missing below it last
  time (a PostgreSQL transaction can commit after a later one: its set appears
  late, inside the watermark);
- rows past the high-water marks of the data version's fingerprints (ids and
  timestamps), so other systems' direct inserts and updates are seen as the
  version sees them;
- the small tables (categories, regions, tags, import batches) whole.

A delta is refused, and a full build runs instead, when the copy cannot prove
it has every change: the store's count of change sets up to the watermark is
not the number the copy applied (a set it never saw), the schema revision or
the refresh epoch (`python -m loaders refresh`, after another system deleted
rows) moved, or the change is so large that a build is as cheap.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, Engine, Table, func, select, text, update

from store import analytic
from store.changes import decode, encode
from store.schema import (
    activity,
    appointment,
    category,
    change,
    change_set,
    enterprise,
    enterprise_link,
    import_batch,
    import_change,
    meta,
    participation,
    person,
    person_tag,
    region,
    risk_record,
    shareholder,
    stage_event,
    tag,
)
from store.sql import among
from store.version import bump_data_version, data_version, version_on

# Past this many persons (or rows) in one delta a full build is about as cheap: rebuild.
MAX_DELTA_ROWS = 50_000
# Ids missing below the watermark are looked for again for this long (a transaction
# that takes longer and then commits is caught by the count check: a full build).
GAP_GRACE_SECONDS = 3600
REFRESH_EPOCH = "copy_refresh_epoch"
# Small tables: read whole at every delta.
WHOLE = (category, region, tag, import_batch)
# Tables whose rows belong to a person: a touched person's rows are read again
# together (a deletion in the store cascades without naming each row).
BY_PERSON = (person_tag, participation, stage_event, appointment, enterprise_link)
# Tables with an id of their own that change rows or id marks name directly.
BY_ID = {"stage_event": stage_event, "appointment": appointment, "activity": activity, "enterprise": enterprise,
         "shareholder": shareholder, "risk_record": risk_record, "enterprise_link": enterprise_link}


class DeltaRefused(Exception):
    """The copy cannot be brought forward exactly; the message says why (a full build follows)."""


@dataclass
class CopyState:
    """What a copy holds, kept in its own `copy_state` table."""

    version: str
    revision: str
    refresh_epoch: str
    change_set_max: int
    applied_sets: int
    # [id, first seen missing (epoch seconds)]
    gaps: list[list[int]] = field(default_factory=list)
    marks: dict[str, str | None] = field(default_factory=dict)
    # When the snapshot it holds was read (epoch seconds): no change it lacks is older.
    snapshot_at: float = 0.0


# The data version's fingerprints (store/version.py), as (name, column): rows past them are re-read.
MARKS = {
    "person_id": person.c.id,
    "person_updated_at": person.c.updated_at,
    "activity_id": activity.c.id,
    "registered_at": participation.c.registered_at,
    "checked_in_at": participation.c.checked_in_at,
    "stage_event_id": stage_event.c.id,
    "appointment_id": appointment.c.id,
}


def _store_facts(conn: Connection) -> tuple[str, str, dict[str, str | None]]:
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
    epoch = conn.execute(select(meta.c.value).where(meta.c.key == REFRESH_EPOCH)).scalar() or ""
    marks = conn.execute(select(*[select(func.max(c)).scalar_subquery() for c in MARKS.values()])).one()
    return revision, epoch, {name: encode(v) for name, v in zip(MARKS, marks)}


def ask_full_refresh(conn: Connection) -> None:
    """After another system deleted rows (which no mark sees): the next refresh builds the copy in full."""
    value = secrets.token_hex(8)
    if conn.execute(update(meta).where(meta.c.key == REFRESH_EPOCH).values(value=value)).rowcount == 0:
        conn.execute(meta.insert().values(key=REFRESH_EPOCH, value=value))
    bump_data_version(conn)


def initial_state(conn: Connection, version: str, snapshot_at: float) -> CopyState:
    """The state of a copy built in full from `conn`'s snapshot (begun at `snapshot_at`)."""
    revision, epoch, marks = _store_facts(conn)
    top = conn.execute(select(func.max(change_set.c.id))).scalar() or 0
    applied = conn.execute(select(func.count()).select_from(change_set)).scalar() or 0
    now = int(time.time())
    # Ids missing near the top may belong to transactions still open: look for them again.
    present = set(conn.execute(select(change_set.c.id).where(change_set.c.id > top - 1000)).scalars())
    gaps = [[i, now] for i in range(max(1, top - 999), top + 1) if i not in present]
    return CopyState(version, revision, epoch, top, applied, gaps, marks, snapshot_at)


def write_state(duck, state: CopyState) -> None:
    duck.execute("CREATE TABLE IF NOT EXISTS copy_state (state VARCHAR)")
    duck.execute("DELETE FROM copy_state")
    duck.execute("INSERT INTO copy_state VALUES (?)", [json.dumps(asdict(state))])


def state_of(engine: Engine) -> CopyState | None:
    """What the copy an engine reads holds."""
    with engine.connect() as conn:
        try:
            row = conn.exec_driver_sql("SELECT state FROM copy_state").first()
        except Exception:  # noqa: BLE001 - no state: a copy of an older layout
            return None
    return CopyState(**json.loads(row[0])) if row else None


def read_state(duck) -> CopyState | None:
    try:
        row = duck.execute("SELECT state FROM copy_state").fetchone()
    except Exception:  # noqa: BLE001 - a copy without a state (older layout) is rebuilt
        return None
    return CopyState(**json.loads(row[0])) if row else None


# ---------------------------------------------------------------- reading what changed


@dataclass
class Delta:
    state: CopyState
    persons: set[int] = field(default_factory=set)
    ids: dict[str, set[int]] = field(default_factory=dict)
    batches: set[int] = field(default_factory=set)

    def size(self) -> int:
        return len(self.persons) + sum(len(v) for v in self.ids.values())


def _ints(values) -> set[int]:
    return {int(v) for v in values if v is not None}


def read_delta(conn: Connection, old: CopyState, version: str, snapshot_at: float = 0.0) -> Delta:
    """What changed since `old`, read in `conn`'s snapshot; raises DeltaRefused when it cannot be exact."""
    revision, epoch, marks = _store_facts(conn)
    if revision != old.revision:
        raise DeltaRefused("schema revision moved")
    if epoch != old.refresh_epoch:
        raise DeltaRefused("refresh asked for")
    waiting = [g[0] for g in old.gaps]
    found = list(conn.execute(
        select(change_set.c.id).where((change_set.c.id > old.change_set_max) | among(change_set.c.id, waiting))
    ).scalars()) if waiting else list(conn.execute(
        select(change_set.c.id).where(change_set.c.id > old.change_set_max)).scalars())
    top = max([old.change_set_max, *found])
    applied = old.applied_sets + len(found)
    count = conn.execute(select(func.count()).select_from(change_set).where(change_set.c.id <= top)).scalar() or 0
    if count != applied:
        raise DeltaRefused(f"{count - applied} change set(s) committed out of sight")
    now = int(time.time())
    seen = set(found)
    gaps = [g for g in old.gaps if g[0] not in seen and now - g[1] < GAP_GRACE_SECONDS]
    gaps += [[i, now] for i in range(old.change_set_max + 1, top) if i not in seen]
    delta = Delta(CopyState(version, revision, epoch, top, applied, gaps, marks, snapshot_at))

    if found:
        rows = conn.execute(select(change.c.entity, change.c.row_key, change.c.person_id)
                            .where(among(change.c.change_set_id, found))).all()
        if len(rows) > MAX_DELTA_ROWS:
            raise DeltaRefused(f"{len(rows)} changed rows: a build is as cheap")
        for entity, key, person_id in rows:
            if person_id is not None:
                delta.persons.add(int(person_id))
            if entity == "person":
                delta.persons.add(int(key))
            elif entity in BY_ID:
                delta.ids.setdefault(entity, set()).add(int(key))
    # Other systems' direct writes, seen through the version's fingerprints.
    _past_marks(conn, old.marks, delta)
    if delta.size() > MAX_DELTA_ROWS:
        raise DeltaRefused(f"{delta.size()} changed rows: a build is as cheap")
    return delta


def _past(column, mark: str | None, inclusive: bool):
    if mark is None:
        return column.is_not(None)
    value = decode(column.table, column.name, mark)
    # Timestamps: two writes can share one; ids only grow.
    return column >= value if inclusive else column > value


def _past_marks(conn: Connection, marks: dict, delta: Delta) -> None:
    limit = MAX_DELTA_ROWS + 1
    persons = conn.execute(select(person.c.id).where(
        _past(person.c.id, marks.get("person_id"), False)
        | _past(person.c.updated_at, marks.get("person_updated_at"), True)).limit(limit)).scalars()
    delta.persons |= _ints(persons)
    attended = conn.execute(select(participation.c.person_id).where(
        _past(participation.c.registered_at, marks.get("registered_at"), True)
        | _past(participation.c.checked_in_at, marks.get("checked_in_at"), True)).limit(limit)).scalars()
    delta.persons |= _ints(attended)
    for entity, name, column in (("activity", "activity_id", activity.c.id),
                                 ("stage_event", "stage_event_id", stage_event.c.id),
                                 ("appointment", "appointment_id", appointment.c.id)):
        ids = conn.execute(select(column).where(_past(column, marks.get(name), False)).limit(limit)).scalars()
        delta.ids.setdefault(entity, set()).update(_ints(ids))


# ---------------------------------------------------------------- applying it to a copy


def _arrow(table: Table, rows) -> pa.Table:
    schema = analytic._arrow_schema(table)
    columns = list(zip(*rows)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(columns, schema)],
                                schema=schema)


def _replace(conn: Connection, duck, table: Table, column: str, keys: set[int]) -> None:
    """The copy's rows of `table` whose `column` is in `keys` become the store's."""
    if not keys:
        return
    ordered = sorted(keys)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start:start + 5000]
        key_table = pa.table({"k": pa.array(chunk, type=pa.int64())})  # noqa: F841 (read by DuckDB by name)
        duck.execute(f'DELETE FROM "{table.name}" WHERE "{column}" IN (SELECT k FROM key_table)')
        rows = conn.execute(select(table).where(among(table.c[column], chunk))).all()
        if rows:
            batch = _arrow(table, rows)  # noqa: F841 (read by DuckDB by name)
            if table is person:
                # The copy's person rows carry two derived columns after the store's own (store/analytic.py).
                duck.execute("INSERT INTO person SELECT *, NULL, NULL FROM batch")
            else:
                duck.execute(f'INSERT INTO "{table.name}" SELECT * FROM batch')


def _replace_whole(conn: Connection, duck, table: Table) -> None:
    batch = _arrow(table, conn.execute(select(table)).all())  # noqa: F841 (read by DuckDB by name)
    duck.execute(f'DELETE FROM "{table.name}"')
    duck.execute(f'INSERT INTO "{table.name}" SELECT * FROM batch')


def _changed_batches(conn: Connection, duck) -> set[int]:
    """Import batches that are new or whose row moved (an import finishing, an undo)."""
    names = ", ".join(f'"{c.name}"' for c in import_batch.c)
    mine = {r[0]: tuple(r) for r in duck.execute(f"SELECT {names} FROM import_batch").fetchall()}
    theirs = {r[0]: tuple(r) for r in conn.execute(select(import_batch)).all()}
    return {i for i in mine.keys() | theirs.keys() if mine.get(i) != theirs.get(i)}


def _derive(conn: Connection, duck, persons: list[int]) -> None:
    """The copy's derived person columns (store/analytic.DERIVED_PERSON_COLUMNS) for `persons`.

    The last check-in comes from the store, where an index on (person_id, status)
    finds it; in the copy it would be a scan of every participation.
    """
    last: dict[int, dt.datetime | None] = {}
    for start in range(0, len(persons), 5000):
        chunk = persons[start:start + 5000]
        last.update(conn.execute(
            select(participation.c.person_id, func.max(participation.c.checked_in_at))
            .where(among(participation.c.person_id, chunk), participation.c.status == "checked_in")
            .group_by(participation.c.person_id)).all())
    derived = pa.table({  # noqa: F841 (read by DuckDB by name)
        "k": pa.array(persons, type=pa.int64()),
        "last": pa.array([last.get(p) for p in persons], type=pa.timestamp("us")),
    })
    duck.execute(f"""
        UPDATE person SET
            last_checkin_at = derived.last,
            search_text = lower(coalesce(person.name, '') || '{analytic.SEARCH_SEPARATOR}'
                                || coalesce(person.organization, ''))
        FROM derived WHERE person.id = derived.k""")


def apply_delta(conn: Connection, duck, delta: Delta) -> None:
    batches = _changed_batches(conn, duck)
    for table in WHOLE:
        _replace_whole(conn, duck, table)
    _replace(conn, duck, import_change, "batch_id", batches)
    _replace(conn, duck, person, "id", delta.persons)
    for table in BY_PERSON:
        _replace(conn, duck, table, "person_id", delta.persons)
    for entity, ids in delta.ids.items():
        _replace(conn, duck, BY_ID[entity], "id", ids)
    if delta.persons:
        _derive(conn, duck, sorted(delta.persons))
    write_state(duck, delta.state)


# ---------------------------------------------------------------- one step


def newest_copy(base: Path) -> Path | None:
    """The store's most recently installed copy (None if there is none)."""
    newest, newest_at = None, -1.0
    for path in base.parent.glob(f"{base.stem}-*.duckdb"):
        try:
            at = path.stat().st_mtime
        except FileNotFoundError:
            continue  # replaced while listing
        if at > newest_at:
            newest, newest_at = path, at
    return newest


def refresh_copy(engine: Engine, base: Path) -> tuple[str, str]:
    """Bring the copy to the store's current version: (version, how) with how = current | delta | build: reason."""
    import duckdb

    source = newest_copy(base)
    if source is None:
        return analytic.build_copy(engine, base), "build: no copy"
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        snapshot_at = time.time()
        version = version_on(conn)
        if analytic.copy_for(base, version) is not None:
            return version, "current"
        fd, tmp_name = tempfile.mkstemp(prefix=base.stem + "-", suffix=".delta", dir=base.parent)
        os.close(fd)
        try:
            # Copies are never written once in place, so the file can be read while others read it.
            shutil.copyfile(source, tmp_name)
            duck = duckdb.connect(tmp_name)
            try:
                duck.execute(f"SET memory_limit='{analytic.MEMORY_LIMIT}'")
                old = read_state(duck)
                if old is None:
                    raise DeltaRefused("copy without a state")
                delta = read_delta(conn, old, version, snapshot_at)
                apply_delta(conn, duck, delta)
                duck.execute("CHECKPOINT")
            finally:
                duck.close()
        except DeltaRefused as refused:
            Path(tmp_name).unlink(missing_ok=True)
            return analytic.build_copy(engine, base), f"build: {refused}"
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    analytic.install_copy(base, tmp_name, version)
    return version, "delta"


# ---------------------------------------------------------------- the maintainer


def maintain(url: str, base: Path, *, parent: int | None = None, interval: float = 0.1,
             idle_seconds: float | None = None) -> int:
    """Keep the copy current until nothing changed for `idle_seconds` or the parent process is gone.

    Runs in a child process of its own (store/analytic.start_rebuild) at a lower
    CPU priority, so that page renders come first on a busy machine, and holds the
    lock that tells app processes a maintainer runs.
    """
    import fcntl
    import logging

    from store.engine import open_store
    from store.settings import get_setting

    log = logging.getLogger("brain.copy")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    idle_seconds = get_setting("analytic_idle_seconds") if idle_seconds is None else idle_seconds
    lock = open(base.with_suffix(".lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another maintainer has it
    try:
        os.nice(10)
    except OSError:
        pass
    engine = open_store(url)
    last_work = time.monotonic()
    try:
        while time.monotonic() - last_work < idle_seconds:
            if parent is not None and os.getppid() != parent:
                break
            try:
                version = data_version(engine)
                if analytic.copy_for(base, version) is None:
                    started = time.perf_counter()
                    version, how = refresh_copy(engine, base)
                    log.info("copy %s: %s in %.2fs", version[:24], how, time.perf_counter() - started)
                    last_work = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - the store is away: try again later, one line each time
                log.warning("copy maintenance failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc))
                time.sleep(5)
            time.sleep(interval)
    finally:
        engine.dispose()
        lock.close()
    return 0
