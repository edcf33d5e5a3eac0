"""The data version: what every cache key includes, so an import shows at the next refresh.

Our own writers call `bump_data_version` inside their transaction. Other systems
write into the store directly and do not know about it, so the version also
folds in cheap, index-backed fingerprints of the tables they write (max ids and
timestamps). A deletion by another system is not seen by these: such a system
runs `python -m loaders refresh` afterwards (documented in the README).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, select, update

from store.schema import activity, appointment, meta, participation, person, stage_event


def bump_data_version(conn: Connection) -> None:
    """Increase the stored version by one; call inside the writing transaction."""
    current = conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar()
    if current is None:
        conn.execute(meta.insert().values(key="data_version", value="1"))
    else:
        conn.execute(update(meta).where(meta.c.key == "data_version").values(value=str(int(current) + 1)))


def data_version(engine: Engine) -> str:
    """A string that changes whenever the data does (one round trip, all lookups indexed)."""
    stmt = select(
        select(meta.c.value).where(meta.c.key == "data_version").scalar_subquery(),
        select(func.max(person.c.id)).scalar_subquery(),
        select(func.max(person.c.updated_at)).scalar_subquery(),
        select(func.max(activity.c.id)).scalar_subquery(),
        select(func.max(participation.c.registered_at)).scalar_subquery(),
        select(func.max(participation.c.checked_in_at)).scalar_subquery(),
        select(func.max(stage_event.c.id)).scalar_subquery(),
        select(func.max(appointment.c.id)).scalar_subquery(),
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return "|".join("" if v is None else str(v) for v in row)
