"""Undoing an import batch: the batch is a change set of the write path, undone as one.

Refused, with the reason in the batch's terms, when later work touched the same data: a
later batch or an edit in the app (not itself undone) that changed the same fields or
recorded anything for a person the batch added, another system's direct write (the
stored values no longer those the batch left), or persons outside the undoer's scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from loaders.errors import BatchNotFound, UndoRefused
from store import changes as ch
from store.changes import undo_in
from store.engine import writing
from store.schema import change, change_set, import_batch
from store.scope import EVERYTHING, Scope


@dataclass
class UndoResult:
    batch_id: int
    removed: int  # persons the batch inserted, now deleted
    restored: int  # persons the batch updated, now as before
    # persons; participations (then the counts are participations); or changes (an enterprise
    # import or a roster sync: `changes` says how many changes were put back)
    kind: str = "persons"
    changes: int = 0


def _names(names: list[str]) -> str:
    shown = "、".join(names[:5])
    return shown + (f" 等 {len(names)} 人" if len(names) > 5 else "")


def undo_batch(engine: Engine, batch_id: int, actor: str | None = None, scope: Scope = EVERYTHING) -> UndoResult:
    """Undo one import batch in one transaction; raises BatchNotFound or UndoRefused.

    The batch is a change set of the write path, undone as one (store.changes.undo_in):
    refused when a later change set (a later batch, a staff edit …) changed the same fields
    or anything of a person the batch added, when another system changed them directly,
    or, for an account of `scope`, when a person it touched lies outside that scope (the
    refusal then names none of them).
    """
    with writing(engine) as conn:
        batch = conn.execute(select(import_batch).where(import_batch.c.id == batch_id)).first()
        if batch is None:
            raise BatchNotFound(f"没有第 {batch_id} 批导入记录 · there is no import batch {batch_id}")
        if batch.status != "done":
            raise UndoRefused(f"第 {batch_id} 批的状态是「{batch.status}」，无法撤销（已撤销过？） · "
                              f"batch {batch_id} is {batch.status!r} and cannot be undone (already undone?)")
        # Take the write lock before reading (SQLite), so nothing changes under us.
        conn.execute(update(import_batch).where(import_batch.c.id == batch_id).values(status="undoing"))
        set_id = conn.execute(select(change_set.c.id).where(change_set.c.import_batch_id == batch_id,
                                                           change_set.c.undoes.is_(None))).scalar()
        if set_id is None:
            raise UndoRefused(f"第 {batch_id} 批没有变更记录，无法撤销 · batch {batch_id} has no change record to undo")
        effect = _effect(conn, set_id, batch_id)
        try:
            effect.changes = undo_in(conn, set_id, actor, scope=scope, action="undo",
                    reason=f"撤销第 {batch_id} 批导入 · undo of import batch {batch_id}",
                    detail={"batch_id": batch_id, "kind": effect.kind, "removed": effect.removed,
                            "restored": effect.restored}).changes
        except ch.UndoRefused as refused:
            raise _in_batch_terms(conn, batch_id, refused) from None
    return effect


def _effect(conn, set_id: int, batch_id: int) -> UndoResult:
    """What undoing the set does, in the batch's terms: the persons (or, for an attendance
    sheet, participations) it removes and those it restores."""
    mine = change.c.change_set_id == set_id
    entities = set(conn.execute(select(change.c.entity).distinct().where(mine)).scalars())
    kind, entity = ("participations", "participation") if "participation" in entities else \
        ("persons", "person") if "person" in entities or not entities else ("changes", None)
    keys = [] if entity is None else conn.execute(
        select(change.c.op, change.c.row_key).distinct()
        .where(mine, change.c.entity == entity, change.c.op.in_(("insert", "update")))).all()
    inserted = {k for op, k in keys if op == "insert"}
    restored = {k for op, k in keys if op == "update"} - inserted
    return UndoResult(batch_id, len(inserted), len(restored), kind)


def _in_batch_terms(conn, batch_id: int, refused: ch.UndoRefused) -> UndoRefused:
    """The write path's refusal, said of the batch (the clerk thinks in batches, not change sets)."""
    head = f"无法撤销第 {batch_id} 批："
    if refused.kind == "later":
        batches = dict(conn.execute(select(change_set.c.id, change_set.c.import_batch_id)
                                    .where(change_set.c.id.in_(refused.blocking))).all())
        later_batches = sorted({b for b in batches.values() if b is not None})
        others = [s for s in refused.blocking if batches.get(s) is None]
        zh, en = [], []
        if later_batches:
            zh.append(f"之后的第 {'、'.join(map(str, later_batches))} 批导入")
            en.append(f"later batch(es) {', '.join(map(str, later_batches))}")
        if others:
            zh.append(f"之后的第 {'、'.join(map(str, others))} 号变更（人员维护等）")
            en.append(f"later change set(s) {', '.join(map(str, others))} (edits in the app)")
        return UndoRefused(f"{head}{'和'.join(zh)}又修改了其中的人员，请先撤销它们 · cannot undo batch {batch_id}: "
                           f"{' and '.join(en)} changed the same persons; undo those first")
    if refused.kind == "scope":
        return UndoRefused(f"{head}其中有人员不在您的管辖范围内，请由管辖全部区域的管理员撤销 · "
                           f"cannot undo batch {batch_id}: some of its persons are outside your scope; "
                           f"an administrator for the whole area can undo it")
    if refused.kind == "moved":
        who = _names(refused.names) if refused.names else "部分记录"
        return UndoRefused(f"{head}导入之后有人修改或删除了其中的人员（{who}） · "
                           f"cannot undo batch {batch_id}: some of its persons were edited or deleted since")
    if refused.kind == "used":
        return UndoRefused(f"{head}其中新增的人员（{_names(refused.names)}）之后已有活动、任职、标签或阶段记录 · "
                           f"cannot undo batch {batch_id}: persons it added have activities, posts, tags or stages "
                           f"recorded since")
    return UndoRefused(str(refused))
