"""Taking an import plan to the store: identity cascade, merge rules, one transaction per file.

Matching is set-based: the store's candidates for the file's ID numbers, mobiles and
names are loaded in a few IN-queries, then rows are applied in file order against
in-memory indexes (so a later row can match a person inserted earlier in the file).
Writes are bulk executemany statements in chunks, recorded as one change set of the
write path (store.changes: field-level change rows, audit, version bump; `undo_batch`
undoes it); `import_change` links the batch to the persons it inserted or updated.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from operator import and_, is_not, ne

from sqlalchemy import Connection, Engine, func, insert, select, update

from store import clock
from loaders.matching import (  # noqa: F401  (re-exported: the import's public names stay here)
    _BIRTH,
    _CATEGORY,
    _DISTRICT,
    _ID,
    _STAGE,
    _STREET,
    AMBIGUOUS,
    BOOKKEEPING,
    CHUNK,
    PERSON_COLUMNS,
    ImportResult,
    Progress,
    StoreView,
    _db_date,
    _db_datetime,
    _is_sqlite,
    _label,
    _reject,
    _select_in,
    add_warning,
    bulk_execute,
    bulk_insert,
    load_candidates,
    match_person,
    record_warnings,
    where_in_file,
)
from loaders.gcpause import gc_paused
from loaders.plan import PARTICIPATIONS, PERSON_FIELDS, ImportPlan, RowPlan
from loaders.attendance import apply_participations
from store.changes import ChangeSet, allocate_ids, encode, open_change_set
from store.engine import writing
from store.schema import import_batch, person
from store.scope import EVERYTHING, Scope, write_refusal

@dataclass
class Outcome:
    inserted: dict[int, list] = field(default_factory=dict)  # temp id (<0) -> values
    updated: dict[int, list] = field(default_factory=dict)  # person id -> values before the batch
    added_tags: dict[int, list[str]] = field(default_factory=dict)
    first_stage: dict[int, str] = field(default_factory=dict)  # temp id -> stage when inserted


NO_CATEGORY = ("新增人员缺少统战对象类别：请填写类别 · "
               "a new person needs a category: fill in 统战对象类别")
# Only a commit says this: a dry run must not tell whether an ID number exists outside the scope.
ID_OUTSIDE_SCOPE = ("此身份证号已登记在您的管辖范围之外，不能由您导入：请联系管辖全部区域的管理员 · "
                    "this ID number is registered outside your scope, so you cannot import it: "
                    "ask an administrator for the whole area")
DRY_RUN_SCOPE_NOTICE = ("演练不检查身份证号是否已在您的管辖范围之外登记（以免透露范围外的人员）；"
                        "提交时这样的行会被拒绝 · the dry run does not check whether an ID number is registered "
                        "outside your scope (that would reveal persons outside it); such rows are rejected at commit")
NEW_TAG = ("标签「{tag}」库中原来没有，导入时新建（请确认不是已有标签的另一种写法） · "
           "tag {tag!r} is new: this import creates it (check it is not another spelling of an existing tag)")


def same_person_warning(earlier: RowPlan, row: RowPlan) -> str:
    zh, en = where_in_file(earlier, row)
    return (f"与本文件{zh}是同一人：两行已合并，本行的非空值覆盖前面的值 · the same person as {en} of this file: "
            f"merged in file order, this row's non-empty cells win")


def _merge(current: list, values: list) -> bool:
    changed = False
    for i, v in enumerate(values):
        if v is not None and current[i] != v:
            current[i] = v
            changed = True
    return changed


def run_rows(plan: ImportPlan, view: StoreView, result: ImportResult, progress: Progress | None,
             scope: Scope = EVERYTHING, conflicts: set[str] | frozenset = frozenset(),
             known_tags: set[str] | None = None) -> Outcome:
    """Match and merge the rows in file order. A scoped importer's rows must keep their persons
    inside `scope`; rows carrying an ID number of `conflicts` are rejected. `known_tags`: the
    file's tags the store has already (a tag not among them is reported once, on the first
    accepted row that brings it)."""
    outcome = Outcome()
    scoped = not scope.is_everything
    first_row: dict[int, RowPlan] = {}  # person id (temporary for new persons) -> the first row that named them
    known_tags = set() if known_tags is None else known_tags
    next_temp = -1
    persons = view.persons
    by_id = view.by_id
    n_fields = len(PERSON_FIELDS)
    nones = (None,) * n_fields
    total = len(plan.rows) or 1
    for i, row in enumerate(plan.rows):
        if progress and i % 20_000 == 0 and i:
            progress(0.2 + 0.5 * i / total, f"匹配 {i}/{total} · matching")
        if row.problems:
            _reject(result, row, row.problems)
            continue
        # The common case inline (a re-import is 100k of these): the ID number finds the person.
        pid = by_id.get(row.values[_ID]) if row.values[_ID] else None
        ambiguous = False
        if pid is None:
            pid, ambiguous = match_person(row, view)
        if ambiguous:
            _reject(result, row, [(None, AMBIGUOUS)])
            continue
        values = row.values
        if scoped and _refused(plan, row, result, scope, None if pid is None else persons[pid]):
            continue
        if pid is None and values[_CATEGORY] is None:
            column = _label(plan, row, "category")
            _reject(result, row, [(column, NO_CATEGORY if column else
                                   plan.sheets[row.sheet_index].missing_column("category"))])
            continue
        # Last of all: a commit reveals an ID number outside the scope only for a row it would take.
        if conflicts and values[_ID] in conflicts:
            _reject(result, row, [(_label(plan, row, "id_number"), ID_OUTSIDE_SCOPE)])
            continue
        if pid is None:
            new = list(values) + [None] * len(BOOKKEEPING)
            if new[_STAGE] is None:
                new[_STAGE] = "discover"
            pid = next_temp
            next_temp -= 1
            outcome.inserted[pid] = new
            outcome.first_stage[pid] = new[_STAGE]
            view.add(pid, new)
            if row.tags:
                view.tags[pid] = set(row.tags)
                outcome.added_tags[pid] = list(row.tags)
            result.inserted += 1
        else:
            current = persons[pid]
            changed = False
            # Re-imports are mostly unchanged rows: one C-level pass says "no non-empty cell
            # differs" before any per-field Python work.
            differs = values != current[:n_fields] and \
                any(map(and_, map(ne, values, current), map(is_not, values, nones)))
            before = current[:n_fields] if differs else None
            for j in (range(n_fields) if differs else ()):
                v = values[j]
                if v is not None and current[j] != v:
                    if not changed:
                        if pid > 0 and pid not in outcome.updated:
                            outcome.updated[pid] = list(current)
                        changed = True
                    current[j] = v
            if changed:
                view.reindex(pid, before, current)
            if row.tags:
                have = view.tags.setdefault(pid, set())
                new_tags = () if have.issuperset(row.tags) else [t for t in row.tags if t not in have]
                if new_tags:
                    have.update(new_tags)
                    outcome.added_tags.setdefault(pid, []).extend(new_tags)
                    if pid > 0 and pid not in outcome.updated:
                        outcome.updated[pid] = list(current) if not changed else outcome.updated[pid]
                    changed = True
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
        if row.warnings:
            record_warnings(result, row)
        earlier = first_row.setdefault(pid, row)
        if earlier is not row:
            add_warning(result, row, None, same_person_warning(earlier, row))
        if row.tags and not known_tags.issuperset(row.tags):
            for name in row.tags:
                if name not in known_tags:
                    known_tags.add(name)
                    add_warning(result, row, _label(plan, row, "tags"), NEW_TAG.format(tag=name))
    return outcome


def _refused(plan: ImportPlan, row: RowPlan, result: ImportResult, scope: Scope, current: list | None) -> bool:
    """Reject (and say True for) a row that would not keep its person inside `scope`.

    `current` is the matched person (None: the row inserts one); empty cells never
    overwrite, so the person ends where the row's non-empty place cells put them.
    """
    placed = (row.values[_DISTRICT], row.values[_STREET])
    if current is None:
        before, after = None, placed
    else:
        before = (current[_DISTRICT], current[_STREET])
        after = tuple(new if new is not None else old for new, old in zip(placed, before))
    refusal = write_refusal(scope, before, after)
    if refusal is None:
        return False
    _reject(result, row, [(_label(plan, row, "district") or _label(plan, row, "street"), refusal.message)])
    return True


# ---------------------------------------------------------------- writing

SQLITE_IMPORT_CACHE_KIB = 256 * 1024


def _lock(conn: Connection) -> None:
    # SQLite: our first write takes the database's write lock for the whole transaction.
    # PostgreSQL: serialise imports so two files cannot insert the same ID number at once.
    if _is_sqlite(conn):
        # The default 2 MB page cache makes 100k index inserts spill to the WAL over and
        # over; a larger cache (allocated only as used) keeps a big import in memory.
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
    else:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4201101)")


def _json_row(values: dict) -> str:
    """A row's values as a change row stores them (dates as ISO text)."""
    return json.dumps(values, ensure_ascii=False, default=_iso)


def _iso(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    raise TypeError(f"not JSON: {type(v).__name__}")


def write_outcome(conn: Connection, outcome: Outcome, cs: ChangeSet, view: StoreView) -> None:
    """Write the batch's persons, tags and stage events in bulk, and record each change in `cs`.

    The statements are the importer's own (executemany in chunks, a bulk load's index
    rebuild); the change rows are the write path's, so history and undo treat an import like
    any other change set.
    """
    batch_id = cs.import_batch_id
    to_db_date = _db_date(conn)
    stamp = _db_datetime(conn, cs.now)
    stamp_iso = cs.now.isoformat()
    n = len(PERSON_FIELDS)
    real_ids = dict(zip(outcome.inserted, allocate_ids(conn, "person", len(outcome.inserted))))
    record = []

    cols = ", ".join(PERSON_COLUMNS)
    insert_rows = []
    for temp, values in outcome.inserted.items():
        row = list(values[:n])
        pid = real_ids[temp]
        made = dict(zip(PERSON_COLUMNS, row), id=pid, created_at=stamp_iso, updated_at=stamp_iso,
                    updated_via="import", import_batch_id=batch_id)
        record.append(("person", str(pid), pid, "insert", None, None, _json_row(made)))
        row[_BIRTH] = to_db_date(row[_BIRTH])
        insert_rows.append((pid, *row, stamp, stamp, "import", batch_id))
    bulk_insert(conn, "person", f"INSERT INTO person (id, {cols}, created_at, updated_at, updated_via, import_batch_id) "
                       f"VALUES ({', '.join('?' * (n + 5))})", insert_rows)
    # Each section's change rows go as soon as they are made: a 100k batch never holds them all.
    del insert_rows
    cs.record_many(record)
    record = []

    sets = ", ".join(f"{c} = ?" for c in PERSON_COLUMNS)
    update_rows = []
    for pid, before in outcome.updated.items():
        row = list(view.persons[pid][:n])
        key = str(pid)
        after = (*row, cs.now, "import", batch_id)
        for column, old, new in zip(PERSON_COLUMNS + BOOKKEEPING, before, after):
            if old != new:
                record.append(("person", key, pid, "update", column, encode(old), encode(new)))
        row[_BIRTH] = to_db_date(row[_BIRTH])
        update_rows.append((*row, stamp, "import", batch_id, pid))
    bulk_execute(conn, f"UPDATE person SET {sets}, updated_at = ?, updated_via = ?, import_batch_id = ? "
                       f"WHERE id = ?", update_rows)

    def real(pid: int) -> int:
        return real_ids[pid] if pid < 0 else pid

    cs.record_many(record)
    cs.record_many(_write_tags(conn, {real(pid): tags for pid, tags in outcome.added_tags.items()}))

    note = f"import batch {batch_id}"
    events = [(real_ids[t], outcome.first_stage[t]) for t in outcome.inserted]
    events += [(real_ids[t], v[_STAGE]) for t, v in outcome.inserted.items() if v[_STAGE] != outcome.first_stage[t]]
    events += [(pid, view.persons[pid][_STAGE]) for pid, before in outcome.updated.items()
               if before[_STAGE] != view.persons[pid][_STAGE]]
    event_ids = allocate_ids(conn, "stage_event", len(events))
    bulk_insert(conn, "stage_event", "INSERT INTO stage_event (id, person_id, stage, entered_at, note) "
                                     "VALUES (?, ?, ?, ?, ?)",
                [(eid, pid, stage, stamp, note) for eid, (pid, stage) in zip(event_ids, events)])
    cs.record_many(("stage_event", str(eid), pid, "insert", None, None, _json_row(
        {"id": eid, "person_id": pid, "stage": stage, "entered_at": stamp_iso, "note": note}))
        for eid, (pid, stage) in zip(event_ids, events))

    # The batch's persons, by action: what the import pages count and scope by.
    links = [(batch_id, real_ids[temp], "insert") for temp in outcome.inserted]
    links += [(batch_id, pid, "update") for pid in outcome.updated]
    bulk_insert(conn, "import_change", "INSERT INTO import_change (batch_id, person_id, action) VALUES (?, ?, ?)",
                links)


def _known_tags(conn: Connection, plan: ImportPlan) -> set[str]:
    """The file's tag names that the store has already (one IN-query per few thousand names)."""
    names = sorted({name for r in plan.rows if r.tags and not r.problems for name in r.tags})
    return {name for _tid, name in _select_in(conn, "SELECT id, name FROM tag WHERE", "name", names)}


def _write_tags(conn: Connection, added: dict[int, list[str]]) -> list[tuple]:
    """Add the tags (creating new names); returns their change rows."""
    if not added:
        return []
    names = sorted({t for tags in added.values() for t in tags})
    known = dict((name, tid) for tid, name in _select_in(conn, "SELECT id, name FROM tag WHERE", "name", names))
    missing = [name for name in names if name not in known]
    made = dict(zip(missing, allocate_ids(conn, "tag", len(missing))))
    bulk_execute(conn, "INSERT INTO tag (id, name) VALUES (?, ?)", [(tid, name) for name, tid in made.items()])
    known.update(made)
    pairs = [(pid, known[t]) for pid, tags in added.items() for t in tags]
    bulk_insert(conn, "person_tag", "INSERT INTO person_tag (person_id, tag_id) VALUES (?, ?)", pairs)
    rows = [("tag", str(tid), None, "insert", None, None, _json_row({"id": tid, "name": name}))
            for name, tid in made.items()]
    rows += [("person_tag", f"{pid}:{tid}", pid, "insert", None, None, f'{{"person_id": {pid}, "tag_id": {tid}}}')
             for pid, tid in pairs]
    return rows


# ---------------------------------------------------------------- entry point

def apply_import(engine: Engine, plan: ImportPlan, *, dry_run: bool = False, imported_by: str | None = None,
                 progress: Progress | None = None, scope: Scope = EVERYTHING) -> ImportResult:
    """Apply a plan in one transaction (all accepted rows land, or none); dry_run writes nothing.

    A person list merges persons; an attendance plan (`plan.content == "participations"`)
    records participations (loaders.attendance). Both share the batch, audit and version.
    `scope` is the importer's: persons outside it are neither matched nor written, and a
    row that would put a person outside it is rejected (see store.scope.write_refusal).
    """
    with gc_paused():
        return _apply(engine, plan, dry_run, imported_by, progress, scope)


def _apply(engine: Engine, plan: ImportPlan, dry_run: bool, imported_by: str | None,
           progress: Progress | None, scope: Scope) -> ImportResult:
    result = ImportResult(file=plan.file_name, rows_read=plan.rows_read, dry_run=dry_run,
                          sheets=plan.sheets, notices=list(plan.notices), content=plan.content)
    if dry_run and not scope.is_everything and plan.content != PARTICIPATIONS \
            and any(r.values[_ID] for r in plan.rows):
        result.notices.append(DRY_RUN_SCOPE_NOTICE)
    now = clock.now()
    with writing(engine) as conn:
        _lock(conn)
        earlier = conn.execute(
            select(import_batch.c.id, import_batch.c.imported_at, import_batch.c.status)
            .where(import_batch.c.sha256 == plan.sha256).order_by(import_batch.c.id)).all()
        batch_id = cs = None
        if not dry_run:
            batch_id = conn.execute(insert(import_batch).values(
                file_name=plan.file_name[-255:], sha256=plan.sha256, imported_at=now, imported_by=imported_by,
                rows_read=plan.rows_read, status="running").returning(import_batch.c.id)).scalar_one()
            cs = open_change_set(conn, "import", imported_by, None, scope=scope, import_batch_id=batch_id, now=now)
        if plan.content == PARTICIPATIONS:
            pending_persons = apply_participations(conn, plan, result, cs, progress, scope)
        else:
            pending_persons = _apply_persons(conn, plan, result, cs, progress, scope)
        if not dry_run:
            conn.execute(update(import_batch).where(import_batch.c.id == batch_id).values(
                inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
                rejected=result.rejected, status="done"))
            detail = {"batch_id": batch_id, "file": plan.file_name, "sha256": plan.sha256, "kind": plan.content,
                      **{k: getattr(result, k) for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")}}
            # Each such row told the importer an ID number exists outside its scope: on the record.
            outside = sum(e["message"] == ID_OUTSIDE_SCOPE for e in result.errors)
            if outside:
                detail["id_outside_scope"] = outside
            cs.close(action="import", detail=detail)
        # A scoped importer learns nothing of the store beyond its scope, not even its size.
        clause = scope.person_clause(person)
        total = conn.execute(select(func.count()).select_from(person)
                             .where(*([] if clause is None else [clause]))).scalar_one()
        result.persons_total = total + (pending_persons if dry_run else 0)
        result.batch_id = batch_id
    if earlier:
        result.earlier_batches = [b.id for b in earlier]
        first = earlier[-1]
        result.notices.append(
            f"此文件与第 {first.id} 批（{first.imported_at:%Y-%m-%d %H:%M}）导入的文件完全相同，已照常处理 · "
            f"this file is byte-identical to batch {first.id} imported {first.imported_at:%Y-%m-%d %H:%M}; processed anyway")
    if progress:
        progress(1.0, "完成 · done")
    return result


def _apply_persons(conn: Connection, plan: ImportPlan, result: ImportResult, cs: ChangeSet | None,
                   progress: Progress | None, scope: Scope) -> int:
    """Merge a person list; writes nothing when `cs` is None (dry run). Returns persons to insert.

    A dry run treats an ID number held outside the importer's scope as unknown, exactly
    as if nobody held it; the commit must refuse it (the number is unique in the store).
    """
    has_tags = any(c.field == "tags" for s in plan.sheets for c in s.columns)
    if progress:
        progress(0.1, "读取已有人员 · loading candidates")
    view = load_candidates(conn, [r for r in plan.rows if not r.problems], has_tags, scope)
    known_tags = _known_tags(conn, plan) if has_tags else set()
    outcome = run_rows(plan, view, result, progress, scope, frozenset() if cs is None else view.hidden_ids,
                       known_tags)
    if cs is not None:
        if progress:
            progress(0.75, "写入 · writing")
        write_outcome(conn, outcome, cs, view)
    return len(outcome.inserted)
