"""Undoing an import batch: restore the persons it updated, remove the ones it inserted.

Refused, with the reason, when later work touched the same persons: a later batch
(not itself undone), a staff edit or another system (`updated_at`/`import_batch_id`
moved on), or activities/appointments recorded for a person the batch inserted.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Engine, and_, delete, func, insert, select, update

from store import clock
from loaders.apply import BOOKKEEPING, PERSON_COLUMNS, _select_in
from loaders.attendance import ACTIONS as ATTENDANCE_ACTIONS
from loaders.attendance import undo_participations
from loaders.errors import BatchNotFound, UndoRefused
from store.engine import writing
from store.scope import EVERYTHING, Scope, write_refusal
from store.schema import (
    appointment,
    audit_log,
    import_batch,
    import_change,
    participation,
    person,
    person_tag,
    stage_event,
    tag,
)
from store.version import bump_data_version


@dataclass
class UndoResult:
    batch_id: int
    removed: int  # persons the batch inserted, now deleted
    restored: int  # persons the batch updated, now as before
    kind: str = "persons"  # or "participations": then the counts are participations


def _same_time(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, str):
        a = dt.datetime.fromisoformat(a)
    if isinstance(b, str):
        b = dt.datetime.fromisoformat(b)
    return abs(a - b) < dt.timedelta(milliseconds=1)


def _names(names: list[str]) -> str:
    shown = "、".join(names[:5])
    return shown + (f" 等 {len(names)} 人" if len(names) > 5 else "")


def undo_batch(engine: Engine, batch_id: int, actor: str | None = None, scope: Scope = EVERYTHING) -> UndoResult:
    """Undo one import batch in one transaction; raises BatchNotFound or UndoRefused.

    An account of `scope` may undo only a batch all of whose persons lie inside it, before
    and after the undo (see store.scope.write_refusal); the refusal names none of them.
    """
    now = clock.now()
    with writing(engine) as conn:
        batch = conn.execute(select(import_batch).where(import_batch.c.id == batch_id)).first()
        if batch is None:
            raise BatchNotFound(f"没有第 {batch_id} 批导入记录 · there is no import batch {batch_id}")
        if batch.status != "done":
            raise UndoRefused(f"第 {batch_id} 批的状态是「{batch.status}」，无法撤销（已撤销过？） · "
                              f"batch {batch_id} is {batch.status!r} and cannot be undone (already undone?)")
        # Take the write lock before reading (SQLite), so nothing changes under us.
        conn.execute(update(import_batch).where(import_batch.c.id == batch_id).values(status="undoing"))
        changes = conn.execute(select(import_change.c.person_id, import_change.c.action, import_change.c.previous,
                                      import_change.c.added_tags)
                               .where(import_change.c.batch_id == batch_id)).all()
        attendance = any(c.action in ATTENDANCE_ACTIONS for c in changes)
        pids = [c.person_id for c in changes if c.action != "activity_insert"]
        current = {r.id: r for r in _select_rows(conn, pids)}
        # First of all: the later checks name persons, and these may not be named to this account.
        _check_scope(scope, batch_id, changes, current)
        if attendance:
            return _undo_attendance(conn, batch, changes, actor, now)

        later: set[int] = set()
        for i in range(0, len(pids), 5000):
            later.update(conn.execute(
                select(import_change.c.batch_id).distinct()
                .join(import_batch, import_batch.c.id == import_change.c.batch_id)
                .where(import_change.c.batch_id > batch_id, import_batch.c.status == "done",
                       import_change.c.person_id.in_(pids[i:i + 5000]))).scalars())
        later = sorted(later)
        if later:
            raise UndoRefused(
                f"无法撤销第 {batch_id} 批：之后的第 {'、'.join(map(str, later))} 批导入又修改了其中的人员，请先撤销后面的批次 · "
                f"cannot undo batch {batch_id}: later batch(es) {', '.join(map(str, later))} changed the same persons; undo those first")
        edited = [current[p].name for p in pids if p in current and (
            current[p].import_batch_id != batch_id or not _same_time(current[p].updated_at, batch.imported_at))]
        missing = [p for c in changes for p in [c.person_id] if c.action == "update" and p not in current]
        if edited or missing:
            who = _names(edited) if edited else f"{len(missing)} 人已被删除"
            raise UndoRefused(
                f"无法撤销第 {batch_id} 批：导入之后有人修改或删除了其中的人员（{who}） · "
                f"cannot undo batch {batch_id}: {len(edited) + len(missing)} of its persons were edited or deleted since")
        inserted = [c.person_id for c in changes if c.action == "insert" and c.person_id in current]
        used = set()
        for table in (participation, appointment):
            used.update(r[0] for r in _select_in(conn, f"SELECT DISTINCT person_id FROM {table.name} WHERE",
                                                 "person_id", inserted))
        note = f"import batch {batch_id}"
        used.update(r[0] for r in _select_in(
            conn, "SELECT DISTINCT person_id FROM stage_event WHERE (note IS NULL OR note <> '" + note + "') AND",
            "person_id", inserted))
        if used:
            raise UndoRefused(
                f"无法撤销第 {batch_id} 批：其中新增的人员（{_names([current[p].name for p in used])}）之后已有活动、任职或阶段记录 · "
                f"cannot undo batch {batch_id}: {len(used)} persons it added have activities, posts or stages recorded since")

        # Restore: updated persons get their previous values back, inserted ones go.
        for c in changes:
            if c.action != "update":
                continue
            previous = json.loads(c.previous)
            values = {k: _from_json(k, previous.get(k)) for k in PERSON_COLUMNS + BOOKKEEPING}
            conn.execute(update(person).where(person.c.id == c.person_id).values(**values))
            tags = json.loads(c.added_tags) if c.added_tags else []
            if tags:
                tag_ids = select(tag.c.id).where(tag.c.name.in_(tags)).scalar_subquery()
                conn.execute(delete(person_tag).where(person_tag.c.person_id == c.person_id,
                                                      person_tag.c.tag_id.in_(tag_ids)))
        updated_ids = [c.person_id for c in changes if c.action == "update"]
        for start in range(0, len(updated_ids), 5000):
            conn.execute(delete(stage_event).where(and_(stage_event.c.person_id.in_(updated_ids[start:start + 5000]),
                                                        stage_event.c.note == note)))
        for start in range(0, len(inserted), 5000):
            chunk = inserted[start:start + 5000]
            conn.execute(delete(person_tag).where(person_tag.c.person_id.in_(chunk)))
            conn.execute(delete(stage_event).where(stage_event.c.person_id.in_(chunk)))
            conn.execute(delete(person).where(person.c.id.in_(chunk)))
        conn.execute(update(import_batch).where(import_batch.c.id == batch_id).values(status="undone"))
        conn.execute(insert(audit_log).values(at=now, actor=actor, action="undo", detail=json.dumps(
            {"batch_id": batch_id, "removed": len(inserted), "restored": len(updated_ids)})))
        bump_data_version(conn)
    return UndoResult(batch_id, len(inserted), len(updated_ids))


def _undo_attendance(conn, batch, changes, actor, now) -> UndoResult:
    """An attendance batch: refused when a later batch (not undone) recorded the same persons' attendance."""
    pids = sorted({c.person_id for c in changes if c.action != "activity_insert"})
    later: set[int] = set()
    for i in range(0, len(pids), 5000):
        later.update(conn.execute(
            select(import_change.c.batch_id).distinct()
            .join(import_batch, import_batch.c.id == import_change.c.batch_id)
            .where(import_change.c.batch_id > batch.id, import_batch.c.status == "done",
                   import_change.c.action.in_(ATTENDANCE_ACTIONS),
                   import_change.c.person_id.in_(pids[i:i + 5000]))).scalars())
    if later:
        later_list = sorted(later)
        raise UndoRefused(
            f"无法撤销第 {batch.id} 批：之后的第 {'、'.join(map(str, later_list))} 批又登记了其中人员的活动，请先撤销后面的批次 · "
            f"cannot undo batch {batch.id}: later batch(es) {', '.join(map(str, later_list))} recorded the same "
            f"persons' attendance; undo those first")
    removed, restored = undo_participations(conn, batch.id, changes)
    conn.execute(update(import_batch).where(import_batch.c.id == batch.id).values(status="undone"))
    conn.execute(insert(audit_log).values(at=now, actor=actor, action="undo", detail=json.dumps(
        {"batch_id": batch.id, "kind": "participations", "removed": removed, "restored": restored})))
    bump_data_version(conn)
    return UndoResult(batch.id, removed, restored, "participations")


def _check_scope(scope: Scope, batch_id: int, changes, current: dict) -> None:
    """Refuse when undoing would touch a person outside `scope` (or one no longer there to place)."""
    if scope.is_everything:
        return
    outside = set()
    for c in changes:
        if c.action == "activity_insert":
            continue
        row = current.get(c.person_id)
        if row is None:
            outside.add(c.person_id)
            continue
        here = (row.district_code, row.street)
        if c.action == "update":
            previous = json.loads(c.previous)
            after = (previous.get("district_code"), previous.get("street"))
        else:
            after = None if c.action == "insert" else here
        if write_refusal(scope, here, after) is not None:
            outside.add(c.person_id)
    if outside:
        raise UndoRefused(
            f"无法撤销第 {batch_id} 批：其中 {len(outside)} 人不在您的管辖范围内，请由管辖全部区域的管理员撤销 · "
            f"cannot undo batch {batch_id}: {len(outside)} of its persons are outside your scope; "
            f"an administrator for the whole area can undo it")


def _select_rows(conn, pids):
    out = []
    for start in range(0, len(pids), 5000):
        out.extend(conn.execute(select(person.c.id, person.c.name, person.c.updated_at, person.c.import_batch_id,
                                       person.c.district_code, person.c.street)
                                .where(person.c.id.in_(pids[start:start + 5000]))).all())
    return out


def _from_json(key: str, value):
    if value is None:
        return None
    if key == "birth_date":
        return dt.date.fromisoformat(value)
    if key == "updated_at":
        return dt.datetime.fromisoformat(value)
    return value
