"""The audit trail: who did what, when. Imports, undos, exports, sign-ins, account changes."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, Engine, Select, func, insert, select

from store import clock
from store.schema import audit_log
from store.scope import Scope


# The width of audit_log.actor. A longer actor (a 50,000-character "username" typed into the
# sign-in form) is cut to it: the log stays readable, and PostgreSQL does not refuse the row.
ACTOR_LENGTH = 64


def bounded_actor(actor: str | None) -> str | None:
    if actor is None or len(actor) <= ACTOR_LENGTH:
        return actor
    return actor[:ACTOR_LENGTH - 1] + "…"


def record(conn: Connection, actor: str | None, action: str, detail: dict | str | None = None,
           at: datetime | None = None) -> None:
    """Write one audit row inside the caller's transaction (so it lands with the change or not at all)."""
    actor = bounded_actor(actor)
    if isinstance(detail, dict):
        detail = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)
    conn.execute(insert(audit_log).values(at=at or clock.now(), actor=actor, action=action, detail=detail))


def record_now(engine: Engine, actor: str | None, action: str, detail: dict | str | None = None) -> None:
    with engine.begin() as conn:
        record(conn, actor, action, detail)


def visible_actors(engine: Engine, scope: Scope, viewer: str | None = None) -> list[str] | None:
    """The actors whose entries a viewer of `scope` may read; None means every actor.

    A scoped viewer reads the accounts whose own scope lies within its scope, and
    itself. Everything else (unscoped accounts, screen tokens, the CLI, batch jobs)
    may have acted on any district, so only an unscoped viewer reads it.
    """
    if scope.is_everything:
        return None
    # Imported here because store.accounts writes its own audit entries through this module.
    from store.accounts import list_accounts

    actors = {acc.username for acc in list_accounts(engine) if scope.contains(acc.scope)}
    if viewer:
        actors.add(viewer)
    return sorted(actors)


def _filtered(stmt: Select, actors: list[str] | None, actions: tuple[str, ...], actor: str,
              since: datetime | None) -> Select:
    if actors is not None:
        stmt = stmt.where(audit_log.c.actor.in_(actors))
    if actions:
        stmt = stmt.where(audit_log.c.action.in_(actions))
    if actor:
        stmt = stmt.where(audit_log.c.actor.contains(actor, autoescape=True))
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= since)
    return stmt


def audit_page(engine: Engine, scope: Scope, actions: tuple[str, ...] = (), actor: str = "",
               since: datetime | None = None, limit: int = 100, offset: int = 0, *,
               viewer: str | None = None) -> tuple[int, list[dict]]:
    """(total matching, one page of rows newest first) of the entries `scope` may read (see visible_actors)."""
    actors = visible_actors(engine, scope, viewer)
    count_stmt = _filtered(select(func.count()).select_from(audit_log), actors, actions, actor, since)
    rows_stmt = _filtered(select(audit_log), actors, actions, actor, since)
    rows_stmt = rows_stmt.order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        total = conn.execute(count_stmt).scalar_one()
        rows = [dict(r._mapping) for r in conn.execute(rows_stmt)]
    return int(total), rows


def audit_actions(engine: Engine, scope: Scope, *, viewer: str | None = None) -> list[str]:
    """The actions `scope` may read entries of: the page's filter offers no action it would show nothing for."""
    stmt = _filtered(select(audit_log.c.action).distinct(), visible_actors(engine, scope, viewer), (), "", None)
    with engine.connect() as conn:
        return list(conn.execute(stmt.order_by(audit_log.c.action)).scalars())
