"""What other departments' systems read through the JSON API: changes since a time, in keyset pages.

Persons are read by `updated_at` (which other systems writing directly also move), ordered
by (updated_at, id); appointments and activities by the change log (store/changes.py), in
change order, deletions included. A cursor names the last row (or change) a page gave, so
paging is stable while others write: a row changed meanwhile moves behind the cursor and
comes again, with its new values, on a later page; nothing is skipped, nothing repeats
within one pass. Rows newer than `until` (now minus a few seconds) wait for the next call,
so a transaction that committed late with an earlier time is not passed over.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Engine, and_, or_, select

from store.privacy import mask_id_number, mask_phone, shown_birth
from store.schema import activity, appointment, change, change_set, person, person_tag, tag
from store.scope import Scope

MAX_LIMIT = 500
PERSON_FIELDS = ("id", "name", "gender", "birth_date", "id_number", "phone", "party", "category_code",
                 "district_code", "street", "organization", "position", "education", "title", "stage", "source",
                 "updated_at", "updated_via")


class BadCursor(ValueError):
    """A cursor this API did not make."""


@dataclass(frozen=True)
class Page:
    data: list[dict]
    next_cursor: str | None
    has_more: bool

    def to_json(self) -> dict:
        return {"data": self.data, "next_cursor": self.next_cursor, "has_more": self.has_more}


def encode_cursor(values: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None, kind: str) -> dict | None:
    if not text:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(text) from None
    if not isinstance(values, dict) or values.get("k") != kind:
        raise BadCursor(text)
    return values


def _plain(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def persons_changed(engine: Engine, scope: Scope, *, unmasked: bool, since: dt.datetime, until: dt.datetime,
                    cursor: str | None = None, limit: int = 100) -> Page:
    """Persons in `scope` updated from `since` up to `until`, oldest change first; masked unless `unmasked`."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    p = person.c
    where = [p.updated_at >= since, p.updated_at <= until]
    after = decode_cursor(cursor, "p")
    if after is not None:
        try:
            t, last = dt.datetime.fromisoformat(after["t"]), int(after["id"])
        except (KeyError, TypeError, ValueError):
            raise BadCursor(cursor) from None
        where.append(or_(p.updated_at > t, and_(p.updated_at == t, p.id > last)))
    clause = scope.person_clause(person)
    if clause is not None:
        where.append(clause)
    stmt = select(*[p[f] for f in PERSON_FIELDS]).where(*where).order_by(p.updated_at, p.id).limit(limit + 1)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
        more = len(rows) > limit
        rows = rows[:limit]
        tags: dict[int, list[str]] = {}
        if rows:
            for pid, name in conn.execute(select(person_tag.c.person_id, tag.c.name)
                                          .join(tag, tag.c.id == person_tag.c.tag_id)
                                          .where(person_tag.c.person_id.in_([r["id"] for r in rows]))
                                          .order_by(tag.c.name)):
                tags.setdefault(pid, []).append(name)
    data = []
    for r in rows:
        if not unmasked:
            r.update(id_number=mask_id_number(r["id_number"]), phone=mask_phone(r["phone"]))
            r["birth_year"] = shown_birth(r.pop("birth_date"), False)
        r["tags"] = tags.get(r["id"], [])
        data.append({k: _plain(v) for k, v in r.items()})
    next_cursor = (encode_cursor({"k": "p", "t": rows[-1]["updated_at"].isoformat(), "id": rows[-1]["id"]})
                   if rows else cursor)
    return Page(data, next_cursor, more)


def _changed(engine: Engine, entity: str, table, since, until, cursor, limit, visible) -> Page:
    """Rows of `entity` the change log shows changed from `since` up to `until`, in change order."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    after = decode_cursor(cursor, entity[:2])
    try:
        last = int(after["c"]) if after is not None else 0
    except (KeyError, TypeError, ValueError):
        raise BadCursor(cursor) from None
    stmt = (select(change.c.id, change.c.row_key)
            .join(change_set, change_set.c.id == change.c.change_set_id)
            .where(change.c.entity == entity, change_set.c.at >= since, change_set.c.at <= until, change.c.id > last)
            .order_by(change.c.id).limit(limit + 1))
    with engine.connect() as conn:
        found = conn.execute(stmt).all()
        more = len(found) > limit
        found = found[:limit]
        keys = list(dict.fromkeys(int(r.row_key) for r in found))
        current = {r.id: dict(r._mapping) for r in conn.execute(select(table).where(table.c.id.in_(keys)))} \
            if keys else {}
        allowed = visible(conn, current) if current else set()
    data = []
    for key in keys:
        row = current.get(key)
        if row is None:
            data.append({"id": key, "deleted": True})
        elif key in allowed:
            data.append({k: _plain(v) for k, v in row.items()} | {"deleted": False})
    next_cursor = encode_cursor({"k": entity[:2], "c": found[-1].id}) if found else cursor
    return Page(data, next_cursor, more)


def appointments_changed(engine: Engine, scope: Scope, *, since: dt.datetime, until: dt.datetime,
                         cursor: str | None = None, limit: int = 100) -> Page:
    """Posts (appointment rows) changed since a time, of persons in `scope`; deletions as {id, deleted}."""
    def visible(conn, rows):
        clause = scope.person_clause(person)
        if clause is None:
            return set(rows)
        inside = set(conn.execute(select(person.c.id).where(
            person.c.id.in_({r["person_id"] for r in rows.values()}), clause)).scalars())
        return {k for k, r in rows.items() if r["person_id"] in inside}

    return _changed(engine, "appointment", appointment, since, until, cursor, limit, visible)


def activities_changed(engine: Engine, scope: Scope, *, since: dt.datetime, until: dt.datetime,
                       cursor: str | None = None, limit: int = 100) -> Page:
    """Activities changed since a time: of the scope's districts, and those of no district (city-wide)."""
    def visible(conn, rows):
        if not scope.districts and not scope.streets:
            return set(rows)
        districts = set(scope.districts) | {d for d, _ in scope.streets}
        return {k for k, r in rows.items() if r["district_code"] is None or r["district_code"] in districts}

    return _changed(engine, "activity", activity, since, until, cursor, limit, visible)
