"""Queries every page shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from store.schema import counted, person
from store.scope import Scope


@dataclass(frozen=True)
class StoreSummary:
    persons: int
    last_change: datetime | None


def store_summary(engine: Engine, scope: Scope) -> StoreSummary:
    """How many persons the scope holds and when any of them last changed."""
    stmt = select(func.count(), func.max(person.c.updated_at)).select_from(person).where(counted(person))
    clause = scope.person_clause(person)
    if clause is not None:
        stmt = stmt.where(clause)
    with engine.connect() as conn:
        count, last = conn.execute(stmt).one()
    return StoreSummary(persons=int(count), last_change=last)
