"""Queries for the import page. The batch history itself is `store.queries.health.recent_batches`."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import ColumnElement, Engine, exists, or_, select

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
