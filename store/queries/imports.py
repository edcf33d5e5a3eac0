"""Queries for the import page. The batch history itself is `store.queries.health.recent_batches`."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, exists, select

from store.schema import import_batch, import_change, person
from store.scope import Scope

SAME_FILE_COLUMNS = ("id", "imported_at", "imported_by", "status")


def same_file_batches(engine: Engine, scope: Scope, sha256: str, limit: int = 5) -> pd.DataFrame:
    """Earlier batches of a byte-identical file, newest first (at most `limit`).

    Scoped like the batch history: a scoped viewer sees the batches that inserted or
    updated someone in their scope.
    """
    b = import_batch.c
    stmt = (select(b.id, b.imported_at, b.imported_by, b.status).where(b.sha256 == sha256)
            .order_by(b.imported_at.desc(), b.id.desc()).limit(max(1, int(limit))))
    clause = scope.person_clause(person)
    if clause is not None:
        stmt = stmt.where(exists().where(import_change.c.batch_id == b.id)
                          .where(person.c.id == import_change.c.person_id).where(clause))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=list(SAME_FILE_COLUMNS))
