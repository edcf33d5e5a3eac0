"""One person's record as the edit form needs it: the row itself, tags and posts, within a scope."""

from __future__ import annotations

from sqlalchemy import Engine, select

from store.schema import appointment, person, person_tag, tag
from store.scope import Scope

EDITABLE = ("name", "gender", "ethnicity", "birth_date", "id_number", "phone", "party", "category_code",
            "district_code", "street", "organization", "position", "education", "title", "stage", "source")
# Fields only admins edit: identity, and the birth date a masked ID hides.
ADMIN_ONLY = frozenset({"name", "id_number", "birth_date"})


def person_record(engine: Engine, scope: Scope, person_id: int) -> dict | None:
    """The person's stored values (EDITABLE + updated_at), tags and posts; None outside the scope."""
    stmt = select(person).where(person.c.id == int(person_id))
    clause = scope.person_clause(person)
    if clause is not None:
        stmt = stmt.where(clause)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
        if row is None:
            return None
        tags = list(conn.execute(select(tag.c.name).join(person_tag, person_tag.c.tag_id == tag.c.id)
                                 .where(person_tag.c.person_id == row.id).order_by(tag.c.name)).scalars())
        posts = [dict(r._mapping) for r in conn.execute(
            select(appointment).where(appointment.c.person_id == row.id).order_by(appointment.c.id))]
    values = {k: row._mapping[k] for k in EDITABLE + ("updated_at",)}
    return {"id": row.id, "values": values, "tags": tags, "appointments": posts,
            "status": row.status, "status_on": row.status_on}


def tag_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(tag.c.name).order_by(tag.c.name)).scalars())


def tags_by_id(engine: Engine) -> dict[int, str]:
    """Every tag's name by id (the history names the tags a change added or removed)."""
    with engine.connect() as conn:
        return dict(conn.execute(select(tag.c.id, tag.c.name)).all())
