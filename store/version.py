"""The data version: what every cache key includes, so an import shows at the next refresh.

Our own writers call `bump_data_version` inside their transaction. Other systems
write into the store directly and do not know about it, so the version also
folds in cheap, index-backed fingerprints of the tables they write (max ids and
timestamps). A deletion by another system is not seen by these: such a system
runs `python -m loaders refresh` afterwards (documented in the README).

Beside it, the accounts epoch: a value that moves with every change to accounts,
sign-in sessions and screen tokens, so that open sessions, which watch it as they
watch the data version, re-check their viewer when (and only when) it moves.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, Engine, func, select, update

from store.schema import activity, appointment, meta, participation, person, stage_event

ACCOUNTS_EPOCH = "accounts_epoch"


def bump_data_version(conn: Connection) -> None:
    """Increase the stored version by one; call inside the writing transaction."""
    current = conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar()
    if current is None:
        conn.execute(meta.insert().values(key="data_version", value="1"))
    else:
        conn.execute(update(meta).where(meta.c.key == "data_version").values(value=str(int(current) + 1)))


def bump_accounts_epoch(conn: Connection) -> None:
    """Move the accounts epoch; call inside the transaction that changes an account, session or token.

    A fresh random value rather than a counter: two concurrent changes can never
    write the same value a watcher has already seen.
    """
    value = secrets.token_hex(8)
    if conn.execute(update(meta).where(meta.c.key == ACCOUNTS_EPOCH).values(value=value)).rowcount == 0:
        conn.execute(meta.insert().values(key=ACCOUNTS_EPOCH, value=value))


def _version_columns() -> list:
    return [
        select(meta.c.value).where(meta.c.key == "data_version").scalar_subquery(),
        select(func.max(person.c.id)).scalar_subquery(),
        select(func.max(person.c.updated_at)).scalar_subquery(),
        select(func.max(activity.c.id)).scalar_subquery(),
        select(func.max(participation.c.registered_at)).scalar_subquery(),
        select(func.max(participation.c.checked_in_at)).scalar_subquery(),
        select(func.max(stage_event.c.id)).scalar_subquery(),
        select(func.max(appointment.c.id)).scalar_subquery(),
    ]


def _joined(values) -> str:
    return "|".join("" if v is None else str(v) for v in values)


def data_version(engine: Engine) -> str:
    """A string that changes whenever the data does (one round trip, all lookups indexed)."""
    with engine.connect() as conn:
        return version_on(conn)


def version_on(conn: Connection) -> str:
    """The data version as `conn` sees it (inside its transaction's snapshot)."""
    return _joined(conn.execute(select(*_version_columns())).one())


def watched_versions(engine: Engine) -> tuple[str, str]:
    """(data version, accounts epoch) in the one round trip a watcher makes per interval."""
    epoch = select(meta.c.value).where(meta.c.key == ACCOUNTS_EPOCH).scalar_subquery()
    with engine.connect() as conn:
        *row, accounts = conn.execute(select(*_version_columns(), epoch)).one()
    return _joined(row), accounts or ""
