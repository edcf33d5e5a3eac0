"""Queries for the import page. The batch history itself is `store.queries.health.recent_batches`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Engine, exists, func, or_, select

from store.schema import import_batch, import_change, person
from store.scope import Scope

SAME_FILE_COLUMNS = ("id", "imported_at", "imported_by", "status")


def visible_batches(scope: Scope, viewer: str | None = None) -> ColumnElement[bool] | None:
    """The batches a viewer of `scope` is shown (None: all of them).

    A scoped viewer sees the batches that inserted or updated someone in their scope
    (a file's other rows are none of their business; its totals are not personal data),
    and their own batches, whatever they touched: one that changed nobody, or whose
    persons have moved away since, is still theirs to see.
    """
    clause = scope.person_clause(person)
    if clause is None:
        return None
    touched = (exists().where(import_change.c.batch_id == import_batch.c.id)
               .where(person.c.id == import_change.c.person_id).where(clause))
    return or_(import_batch.c.imported_by == viewer, touched) if viewer else touched


def same_file_batches(engine: Engine, scope: Scope, sha256: str, limit: int = 5, *,
                      viewer: str | None = None) -> pd.DataFrame:
    """Earlier batches of a byte-identical file, newest first (at most `limit`), those `visible_batches` shows."""
    b = import_batch.c
    stmt = (select(b.id, b.imported_at, b.imported_by, b.status).where(b.sha256 == sha256)
            .order_by(b.imported_at.desc(), b.id.desc()).limit(max(1, int(limit))))
    visible = visible_batches(scope, viewer)
    if visible is not None:
        stmt = stmt.where(visible)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=list(SAME_FILE_COLUMNS))


@dataclass(frozen=True)
class BatchEffect:
    """What undoing a batch would take back, told by the changes it recorded."""

    kind: str  # persons | participations (a sign-up / check-in sheet)
    inserted: int  # persons, or participations, the batch added
    updated: int  # persons, or participations, the batch changed
    activities: int = 0  # activities the batch created (participations only)


def batch_effect(engine: Engine, batch_id: int) -> BatchEffect:
    """The batch's recorded changes by action (one GROUP BY on the batch's index)."""
    c = import_change.c
    with engine.connect() as conn:
        by_action = dict(conn.execute(select(c.action, func.count()).where(c.batch_id == int(batch_id))
                                      .group_by(c.action)).all())
    if {"attend_insert", "attend_update", "activity_insert"} & set(by_action):
        return BatchEffect("participations", by_action.get("attend_insert", 0), by_action.get("attend_update", 0),
                           by_action.get("activity_insert", 0))
    return BatchEffect("persons", by_action.get("insert", 0), by_action.get("update", 0))
