"""The one write path: every change to people, tags, stages, posts and attendance is a change set.

A change set has a source (import, staff, self, sync, checkin, merge), an actor and a
reason; it holds field-level change rows (entity, row, field, old value, new value) and
is written in one transaction with its audit entry and the data-version bump. Any
change set can be undone as a whole, and one change of it on its own, unless a later
change touched the same fields (or, for a row the set inserted, the same row).

Writers open one with `change_set(engine, ...)` (its own transaction) or, inside a
transaction they already hold, `open_change_set(conn, ...)` and `ChangeSet.close()`.
Nothing else inserts into audit_log for a data change or bumps the data version.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from store import audit, clock
from store.engine import writing
from store.schema import (
    CHANGE_SOURCES,
    PERSON_STATUSES,
    activity,
    appointment,
    change,
    change_set,
    import_batch,
    enterprise,
    enterprise_link,
    invitation,
    participation,
    person,
    person_tag,
    risk_record,
    shareholder,
    stage_event,
    tag,
)
from store.scope import EVERYTHING, Place, Scope, write_refusal
from store.sql import among
from store.version import bump_data_version

# entity -> (table, key columns, the column naming the row's person)
ENTITIES: dict[str, tuple[Table, tuple[str, ...], str | None]] = {
    "person": (person, ("id",), "id"),
    "person_tag": (person_tag, ("person_id", "tag_id"), "person_id"),
    "tag": (tag, ("id",), None),
    "stage_event": (stage_event, ("id",), "person_id"),
    "appointment": (appointment, ("id",), "person_id"),
    "activity": (activity, ("id",), None),
    "participation": (participation, ("activity_id", "person_id"), "person_id"),
    "enterprise": (enterprise, ("id",), None),
    "shareholder": (shareholder, ("id",), None),
    "risk_record": (risk_record, ("id",), None),
    "enterprise_link": (enterprise_link, ("id",), "person_id"),
    "invitation": (invitation, ("activity_id", "person_id"), "person_id"),
}
# Person fields every write moves: recorded so an undo can put them back, but two
# changes that share only these do not conflict.
BOOKKEEPING = frozenset({"updated_at", "updated_via", "import_batch_id"})
# How far an attendance got: a merge keeps the further of two participations in one activity.
STATUS_RANK = {"declined": 0, "withdrawn": 0, "registered": 0, "waitlisted": 0, "approved": 1, "rejected": 1,
               "absent": 2, "checked_in": 3}
CHUNK = 5000


class WriteRefused(ValueError):
    """A write the store refuses; the message says why, in Chinese and English."""


class OutOfScope(WriteRefused):
    """The write touches a person outside the writer's scope."""


class EditConflict(WriteRefused):
    """Someone saved the row after the form was opened; `changed` maps field -> (seen, now)."""

    def __init__(self, message: str, changed: dict[str, tuple[object, object]]):
        super().__init__(message)
        self.changed = changed


class UndoRefused(WriteRefused):
    """An undo that would overwrite later work, or that is not allowed.

    `kind` says which rule refused (later, scope, moved, used, state) so a caller can say it
    in its own terms (the import undo speaks of batches); `blocking` lists the later change
    sets for `later`, `names` the persons for `moved` and `used`.
    """

    def __init__(self, message: str, kind: str = "state", *, blocking: Sequence[int] = (),
                 names: Sequence[str] = ()):
        super().__init__(message)
        self.kind = kind
        self.blocking = list(blocking)
        self.names = list(names)


# ---------------------------------------------------------------- values as JSON

def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def encode(value) -> str | None:
    """A value as stored in change rows: JSON, None for SQL NULL."""
    return None if value is None else json.dumps(_plain(value), ensure_ascii=False)


def encode_row(values: Mapping) -> str:
    return json.dumps({k: _plain(v) for k, v in values.items()}, ensure_ascii=False, sort_keys=True)


def decode(table: Table, column: str, text: str | None):
    """A change row's value back as the column's Python type."""
    if text is None:
        return None
    return _typed(table, column, json.loads(text))


def _typed(table: Table, column: str, value):
    if value is None:
        return None
    kind = table.c[column].type
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(kind, Date):
        return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, Integer):
        return int(value)
    return value


def decode_row(table: Table, text: str | None) -> dict | None:
    if text is None:
        return None
    return {k: _typed(table, k, v) for k, v in json.loads(text).items()}


def same_value(a, b) -> bool:
    """Equal as stored values (timestamps to the millisecond: drivers differ below it)."""
    return _same(a, b)


def _same(a, b) -> bool:
    # Timestamps come back from the drivers with differing sub-millisecond precision.
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return abs(a - b) < dt.timedelta(milliseconds=1)
    return a == b


def row_key(entity: str, values: Mapping) -> str:
    return ":".join(str(values[k]) for k in ENTITIES[entity][1])


def _key_values(entity: str, key: str | int | Sequence) -> dict:
    columns = ENTITIES[entity][1]
    if isinstance(key, str):
        parts = key.split(":")
    elif isinstance(key, (tuple, list)):
        parts = list(key)
    else:
        parts = [key]
    return {c: int(p) for c, p in zip(columns, parts)}


def _where(entity: str, key) -> list:
    table = ENTITIES[entity][0]
    return [table.c[c] == v for c, v in _key_values(entity, key).items()]


# ---------------------------------------------------------------- the change set

@dataclass
class ChangeSet:
    """An open change set on a connection inside a transaction; write through its methods, then close()."""

    conn: Connection
    id: int
    source: str
    actor: str | None
    reason: str | None
    scope: Scope = EVERYTHING
    now: dt.datetime = field(default_factory=clock.now)
    # Moving a person out of the writer's own scope is for admins: they pass True.
    may_leave_scope: bool = False
    # The import batch this set records (source import), else None.
    import_batch_id: int | None = None
    _rows: list[tuple] = field(default_factory=list)
    _persons: set[int] = field(default_factory=set)
    closed: bool = False

    # ---- recording

    def record(self, entity: str, key: str, person_id: int | None, op: str, field_name: str | None = None,
               old: str | None = None, new: str | None = None) -> None:
        """One change row, values already encoded (bulk writers that do their own statements call this)."""
        self._rows.append((self.id, entity, key, person_id, op, field_name, old, new))
        if person_id is not None:
            self._persons.add(person_id)

    def record_many(self, rows: Iterable[tuple]) -> None:
        """Change rows as (entity, key, person_id, op, field, old, new) tuples, values encoded."""
        cid = self.id
        for entity, key, pid, op, fname, old, new in rows:
            self._rows.append((cid, entity, key, pid, op, fname, old, new))
            if pid is not None:
                self._persons.add(pid)
            if len(self._rows) >= 20_000:
                self._flush()

    def _flush(self) -> None:
        if self._rows:
            write_change_rows(self.conn, self._rows)
            self._rows = []

    # ---- scope

    def _check_scope(self, before: Place | None, after: Place | None, name: str | None = None) -> None:
        refusal = write_refusal(self.scope, before, after)
        if refusal is not None:
            raise OutOfScope(f"{name}：{refusal.message}" if name else refusal.message)

    def _person_row(self, person_id: int):
        row = self.conn.execute(select(person).where(person.c.id == person_id)).first()
        if row is None:
            raise WriteRefused(f"没有编号为 {person_id} 的人员（已被删除或合并？） · there is no person {person_id}")
        return row

    def _check_person(self, person_id: int | None) -> None:
        if person_id is None or self.scope.is_everything:
            return
        row = self._person_row(person_id)
        place = (row.district_code, row.street)
        self._check_scope(place, place, row.name)

    # ---- generic row operations

    def insert(self, entity: str, values: Mapping) -> str:
        """Insert one row; returns its key (`id`, or `a:b` for two-column keys)."""
        table, keys, person_column = ENTITIES[entity]
        values = dict(values)
        if entity == "person":
            self._check_scope(None, (values.get("district_code"), values.get("street")), values.get("name"))
            values.setdefault("created_at", self.now)
            values.setdefault("updated_at", self.now)
            values.setdefault("updated_via", _via(self.source))
        elif person_column:
            self._check_person(values.get(person_column))
        if entity == "person" and "id" not in values and self.conn.dialect.name == "sqlite":
            values["id"] = allocate_ids(self.conn, "person", 1)[0]
        if keys == ("id",) and "id" not in values:
            values["id"] = self.conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
        else:
            self.conn.execute(insert(table).values(**values))
        key = row_key(entity, values)
        stored = {c.name: values.get(c.name) for c in table.c if c.name in values}
        self.record(entity, key, values.get(person_column) if person_column else None, "insert", None, None,
                    encode_row(stored))
        return key

    def update(self, entity: str, key, values: Mapping, *, seen: Mapping | None = None) -> dict[str, tuple]:
        """Set fields of one row; only fields that really change are written and recorded.

        `seen`: the row's values when the form was opened; when a field differs now, someone
        saved in between and EditConflict is raised, nothing written.
        """
        table, _keys, person_column = ENTITIES[entity]
        current = self.conn.execute(select(table).where(*_where(entity, key))).first()
        if current is None:
            raise WriteRefused(f"要修改的记录不存在（已被删除？） · the {entity} {key} to change does not exist")
        cur = current._mapping
        pid = cur[person_column] if person_column else None
        if entity == "person":
            after = (values.get("district_code", cur["district_code"]), values.get("street", cur["street"]))
            # Moving a person out of one's scope is for admins (may_leave_scope).
            self._check_scope((cur["district_code"], cur["street"]), None if self.may_leave_scope else after,
                              cur["name"])
        elif person_column:
            self._check_person(pid)
        if seen is not None:
            changed = {f: (v, cur[f]) for f, v in seen.items()
                       if f in cur and not _same(_typed(table, f, v), cur[f])}
            if changed:
                raise EditConflict(
                    "保存前，其他人已修改了此记录：" + "；".join(f"{f}：{a!r} → {b!r}" for f, (a, b) in changed.items())
                    + " · someone else saved this record after you opened it; nothing was saved", changed)
        diff = {f: v for f, v in values.items() if not _same(_typed(table, f, v), cur[f])}
        if not diff:
            return {}
        if entity == "person":
            diff.setdefault("updated_at", self.now)
            diff.setdefault("updated_via", _via(self.source))
            if "import_batch_id" not in values and cur["import_batch_id"] is not None:
                diff["import_batch_id"] = None
        self.conn.execute(update(table).where(*_where(entity, key)).values(**diff))
        k = row_key(entity, cur)
        out = {}
        for f, v in diff.items():
            if _same(_typed(table, f, v), cur[f]):
                continue
            self.record(entity, k, pid, "update", f, encode(cur[f]), encode(v))
            out[f] = (cur[f], v)
        return out

    def update_where(self, entity: str, key, values: Mapping, expect: Mapping) -> bool:
        """Set fields of one row only while it still holds `expect` (field -> value): one conditional
        UPDATE, so of concurrent writers exactly one wins. False when the row has moved (nothing written).

        Every field of `values` must be in `expect`: the old values recorded are the expected ones.
        """
        table, _keys, person_column = ENTITIES[entity]
        missing = set(values) - set(expect)
        if missing:
            raise ValueError(f"update_where needs the expected value of {sorted(missing)}")
        conds = [table.c[f] == v if v is not None else table.c[f].is_(None) for f, v in expect.items()]
        if person_column:
            self._check_person(_key_values(entity, key).get(person_column))
        if self.conn.execute(update(table).where(*_where(entity, key), *conds).values(**values)).rowcount != 1:
            return False
        k = row_key(entity, _key_values(entity, key))
        pid = _key_values(entity, key).get(person_column) if person_column else None
        for f, v in values.items():
            if not _same(_typed(table, f, v), _typed(table, f, expect[f])):
                self.record(entity, k, pid, "update", f, encode(expect[f]), encode(v))
        return True

    def delete(self, entity: str, key) -> None:
        """Delete one row, recording it whole so an undo can put it back."""
        table, _keys, person_column = ENTITIES[entity]
        current = self.conn.execute(select(table).where(*_where(entity, key))).first()
        if current is None:
            return
        cur = dict(current._mapping)
        pid = cur[person_column] if person_column else None
        if entity == "person":
            self._check_scope((cur["district_code"], cur["street"]), None, cur["name"])
        elif person_column:
            self._check_person(pid)
        self.conn.execute(delete(table).where(*_where(entity, key)))
        self.record(entity, row_key(entity, cur), pid, "delete", None, encode_row(cur), None)

    # ---- the office's verbs

    def add_person(self, values: Mapping) -> int:
        """A new person; a stage event for their first stage comes with it."""
        values = dict(values)
        values.setdefault("stage", "discover")
        pid = int(self.insert("person", values))
        self.insert("stage_event", dict(person_id=pid, stage=values["stage"], entered_at=self.now,
                                        note=self.reason))
        return pid

    def edit_person(self, person_id: int, values: Mapping, *, seen: Mapping | None = None) -> dict[str, tuple]:
        return self.update("person", person_id, values, seen=seen)

    def tag_ids(self, names: Iterable[str], *, create: bool) -> dict[str, int]:
        names = sorted({n.strip() for n in names if n and n.strip()})
        known = dict(self.conn.execute(select(tag.c.name, tag.c.id).where(tag.c.name.in_(names))).all())
        missing = [n for n in names if n not in known]
        if missing and not create:
            raise WriteRefused(f"标签「{'、'.join(missing)}」不存在，新标签只能由管理员创建 · "
                               f"tag(s) {', '.join(missing)} do not exist; only admins create new tags")
        for name in missing:
            known[name] = int(self.insert("tag", dict(name=name)))
        return known

    def add_tags(self, person_id: int, names: Iterable[str], *, create: bool = False) -> int:
        ids = self.tag_ids(names, create=create)
        have = set(self.conn.execute(select(person_tag.c.tag_id).where(person_tag.c.person_id == person_id)).scalars())
        added = 0
        for tid in sorted(set(ids.values()) - have):
            self.insert("person_tag", dict(person_id=person_id, tag_id=tid))
            added += 1
        if added:
            self._touch(person_id)
        return added

    def remove_tags(self, person_id: int, names: Iterable[str]) -> int:
        ids = self.tag_ids(names, create=False) if names else {}
        have = set(self.conn.execute(select(person_tag.c.tag_id).where(person_tag.c.person_id == person_id)).scalars())
        removed = 0
        for tid in sorted(set(ids.values()) & have):
            self.delete("person_tag", (person_id, tid))
            removed += 1
        if removed:
            self._touch(person_id)
        return removed

    def move_stage(self, person_id: int, stage: str, *, at: dt.datetime | None = None, note: str | None = None) -> None:
        """A stage event, and the person's stage follows it."""
        self.insert("stage_event", dict(person_id=person_id, stage=stage, entered_at=at or self.now, note=note))
        self.update("person", person_id, {"stage": stage})

    def add_appointment(self, person_id: int, values: Mapping) -> int:
        aid = int(self.insert("appointment", dict(values, person_id=person_id)))
        self._touch(person_id)
        return aid

    def set_status(self, person_id: int, status: str, on: dt.date | None = None) -> dict:
        """Follow a person again, or mark them no longer followed (left, transferred, deceased) since
        `on`: they leave every headcount and keep their history."""
        if status not in PERSON_STATUSES:
            raise WriteRefused(f"未知的联系状态 {status!r} · unknown status; allowed: {', '.join(PERSON_STATUSES)}")
        if status != "followed" and on is None:
            raise WriteRefused("请填写离任、调离或去世的日期 · enter the date they left, moved or died")
        return self.update("person", person_id, {"status": status, "status_on": on if status != "followed" else None})

    def edit_appointment(self, appointment_id: int, values: Mapping, *, seen: Mapping | None = None) -> dict:
        """Correct or end a post (`seen`: as the form showed it; see update)."""
        changed = self.update("appointment", appointment_id, values, seen=seen)
        if changed:
            holder = self.conn.execute(select(appointment.c.person_id)
                                       .where(appointment.c.id == appointment_id)).scalar_one()
            self._touch(holder)
        return changed

    # ---- bulk verbs: one statement per chunk, change rows recorded in bulk

    def in_scope(self, person_ids: Iterable[int]) -> list[int]:
        """The given persons that exist and lie in the writer's scope (a bulk action touches only these)."""
        ids = sorted(set(int(i) for i in person_ids))
        clause = self.scope.person_clause(person)
        out: list[int] = []
        for i in range(0, len(ids), CHUNK):
            stmt = select(person.c.id).where(among(person.c.id, ids[i:i + CHUNK]))
            out += self.conn.execute(stmt if clause is None else stmt.where(clause)).scalars().all()
        return out

    def tag_many(self, person_ids: Iterable[int], name: str, *, add: bool, create: bool = False) -> int:
        """Add (or remove) one tag for many persons; returns how many persons changed."""
        ids = self.in_scope(person_ids)
        if not add and not self.conn.execute(select(tag.c.id).where(tag.c.name == name.strip())).first():
            return 0
        tid = self.tag_ids([name], create=create)[name.strip()]
        having = set()
        for i in range(0, len(ids), CHUNK):
            having.update(self.conn.execute(select(person_tag.c.person_id).where(
                person_tag.c.tag_id == tid, among(person_tag.c.person_id, ids[i:i + CHUNK]))).scalars())
        changed = [p for p in ids if (p not in having) == add]
        if not changed:
            return 0
        rows = [dict(person_id=p, tag_id=tid) for p in changed]
        if add:
            self.conn.execute(insert(person_tag), rows)
        else:
            for i in range(0, len(changed), CHUNK):
                self.conn.execute(delete(person_tag).where(person_tag.c.tag_id == tid,
                                                           among(person_tag.c.person_id, changed[i:i + CHUNK])))
        op = "insert" if add else "delete"
        for p in changed:
            whole = encode_row({"person_id": p, "tag_id": tid})
            self.record("person_tag", f"{p}:{tid}", p, op, None, None if add else whole, whole if add else None)
        self._touch_many(changed)
        return len(changed)

    def move_stage_many(self, person_ids: Iterable[int], stage: str, *, note: str | None = None) -> int:
        """Move many persons to `stage` (those already there are left alone); returns how many moved."""
        ids = self.in_scope(person_ids)
        current: dict[int, str] = {}
        for i in range(0, len(ids), CHUNK):
            current.update(self.conn.execute(select(person.c.id, person.c.stage)
                                             .where(among(person.c.id, ids[i:i + CHUNK]))).all())
        moving = [p for p in ids if current[p] != stage]
        for p in moving:
            self.insert("stage_event", dict(person_id=p, stage=stage, entered_at=self.now, note=note))
        for i in range(0, len(moving), CHUNK):
            self.conn.execute(update(person).where(among(person.c.id, moving[i:i + CHUNK])).values(stage=stage))
        self.record_many(("person", str(p), p, "update", "stage", encode(current[p]), encode(stage)) for p in moving)
        self._touch_many(moving)
        return len(moving)

    def _touch_many(self, person_ids: list[int]) -> None:
        via = _via(self.source)
        for i in range(0, len(person_ids), CHUNK):
            chunk = person_ids[i:i + CHUNK]
            before = self.conn.execute(select(person.c.id, person.c.updated_at, person.c.updated_via,
                                              person.c.import_batch_id).where(among(person.c.id, chunk))).all()
            self.conn.execute(update(person).where(among(person.c.id, chunk)).values(
                updated_at=self.now, updated_via=via, import_batch_id=None))
            rows = []
            for r in before:
                key = str(r.id)
                if not _same(r.updated_at, self.now):
                    rows.append(("person", key, r.id, "update", "updated_at", encode(r.updated_at), encode(self.now)))
                if r.updated_via != via:
                    rows.append(("person", key, r.id, "update", "updated_via", encode(r.updated_via), encode(via)))
                if r.import_batch_id is not None:
                    rows.append(("person", key, r.id, "update", "import_batch_id", encode(r.import_batch_id), None))
            self.record_many(rows)

    def merge_persons(self, survivor: int, duplicate: int, chosen: Mapping[str, object] | None = None) -> None:
        """Merge `duplicate` into `survivor`: the survivor takes the `chosen` field values; tags, stage
        events, posts and attendance move to it (in an activity both attended, the more advanced
        status stays); the duplicate goes. Its old row is recorded, so an undo brings it back."""
        if survivor == duplicate:
            raise WriteRefused("不能把人员与其本人合并 · a person cannot be merged with itself")
        chosen = dict(chosen or {})
        dup = self._person_row(duplicate)._mapping
        if chosen.get("id_number") and chosen["id_number"] == dup["id_number"]:
            # id_number is unique: the duplicate lets go of it before the survivor takes it.
            self.update("person", duplicate, {"id_number": None})
        if chosen:
            self.update("person", survivor, chosen)
        have = set(self.conn.execute(select(person_tag.c.tag_id).where(person_tag.c.person_id == survivor)).scalars())
        for tid in self.conn.execute(select(person_tag.c.tag_id).where(person_tag.c.person_id == duplicate)
                                     .order_by(person_tag.c.tag_id)).scalars().all():
            if tid not in have:
                self.insert("person_tag", dict(person_id=survivor, tag_id=tid))
            self.delete("person_tag", (duplicate, tid))
        for table, entity in ((stage_event, "stage_event"), (appointment, "appointment")):
            for rid in self.conn.execute(select(table.c.id).where(table.c.person_id == duplicate)
                                         .order_by(table.c.id)).scalars().all():
                self.update(entity, rid, {"person_id": survivor})
        theirs = {r.activity_id: r._mapping for r in self.conn.execute(
            select(participation).where(participation.c.person_id == duplicate))}
        mine = {r.activity_id: r._mapping for r in self.conn.execute(
            select(participation).where(participation.c.person_id == survivor, participation.c.activity_id.in_(
                sorted(theirs))))}
        for aid in sorted(theirs):
            other = theirs[aid]
            self.delete("participation", (aid, duplicate))
            if aid not in mine:
                self.insert("participation", dict(other, person_id=survivor))
            elif STATUS_RANK.get(other["status"], 0) > STATUS_RANK.get(mine[aid]["status"], 0):
                self.update("participation", (aid, survivor), {
                    "status": other["status"], "checked_in_at": other["checked_in_at"] or mine[aid]["checked_in_at"]})
        self.delete("person", duplicate)
        self._touch(survivor)

    def _touch(self, person_id: int) -> None:
        # The person's own row says it was updated, and through which channel.
        self.update("person", person_id, {"updated_at": self.now, "updated_via": _via(self.source)})

    # ---- closing

    def close(self, *, action: str | None = None, detail: Mapping | None = None) -> None:
        """Write the change rows, the audit entry and the version bump (inside the caller's transaction)."""
        if self.closed:
            return
        self._flush()
        # The writer's own detail first: the audit page reads it in this order.
        entry = {**(detail or {})}
        entry.setdefault("change_set", self.id)
        entry.setdefault("source", self.source)
        entry.setdefault("persons", len(self._persons))
        if self.reason:
            entry.setdefault("reason", self.reason)
        audit.record(self.conn, self.actor, action or f"change.{self.source}",
                     json.dumps(entry, ensure_ascii=False, default=str), at=self.now)
        bump_data_version(self.conn)
        self.closed = True


def allocate_ids(conn: Connection, entity: str, count: int) -> list[int]:
    """Ids for rows a bulk writer inserts itself (its change rows name them before the insert).

    SQLite hands out max(id) + 1, so the id of a person removed by an undo would come back,
    and the old person's history with it: new persons start past every id a change row names.
    """
    if count == 0:
        return []
    table = ENTITIES[entity][0]
    if conn.dialect.name == "sqlite":
        top = conn.execute(select(func.max(table.c.id))).scalar() or 0
        if entity == "person":
            top = max(top, conn.execute(select(func.max(change.c.person_id))).scalar() or 0)
        return list(range(top + 1, top + 1 + count))
    rows = conn.exec_driver_sql("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                                (table.name, count))
    return [r[0] for r in rows]


CHANGE_COLUMNS = ("change_set_id", "entity", "row_key", "person_id", "op", "field", "old_value", "new_value")


def write_change_rows(conn: Connection, rows: list[tuple]) -> None:
    """Insert change rows (tuples in CHANGE_COLUMNS order) the fastest way each driver has.

    A 100k-person import records some 300k rows: PostgreSQL's COPY takes them in about a
    second where executemany takes eight; SQLite's executemany on the raw cursor skips
    SQLAlchemy's per-row parameter processing.
    """
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cursor, \
                cursor.copy(f"COPY change ({', '.join(CHANGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = f"INSERT INTO change ({', '.join(CHANGE_COLUMNS)}) VALUES ({', '.join('?' * len(CHANGE_COLUMNS))})"
    for start in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(statement, rows[start:start + CHUNK])


def _via(source: str) -> str:
    # person.updated_via keeps the contract's four channels.
    return source if source in ("import", "staff", "self", "sync") else "staff"


def open_change_set(conn: Connection, source: str, actor: str | None, reason: str | None = None, *,
                    scope: Scope = EVERYTHING, may_leave_scope: bool = False, import_batch_id: int | None = None,
                    undoes: int | None = None, now: dt.datetime | None = None) -> ChangeSet:
    """A change set inside the caller's transaction; call close() before the transaction ends."""
    if source not in CHANGE_SOURCES:
        raise ValueError(f"unknown change source {source!r}; allowed: {', '.join(CHANGE_SOURCES)}")
    now = now or clock.now()
    actor = actor[:64] if actor else actor
    set_id = conn.execute(insert(change_set).values(
        at=now, source=source, actor=actor, reason=reason, status="done", import_batch_id=import_batch_id,
        undoes=undoes).returning(change_set.c.id)).scalar_one()
    return ChangeSet(conn, set_id, source, actor, reason, scope, now, may_leave_scope, import_batch_id)


@contextmanager
def change_set_of(engine: Engine, source: str, actor: str | None, reason: str | None = None, *,
                  scope: Scope = EVERYTHING, may_leave_scope: bool = False, action: str | None = None,
                  detail: Mapping | None = None) -> Iterator[ChangeSet]:
    """One change set in its own transaction: everything inside lands together, or nothing does."""
    with writing(engine) as conn:
        cs = open_change_set(conn, source, actor, reason, scope=scope, may_leave_scope=may_leave_scope)
        yield cs
        cs.close(action=action, detail=detail)


# ---------------------------------------------------------------- undo

@dataclass(frozen=True)
class UndoOutcome:
    undone: int          # the change set undone (or whose change was reverted)
    change_set_id: int   # the new change set holding the inverse changes
    changes: int


def undo_change_set(engine: Engine, set_id: int, actor: str | None, *, scope: Scope = EVERYTHING,
                    reason: str | None = None) -> UndoOutcome:
    """Undo a whole change set in one transaction; raises UndoRefused with the reason."""
    with writing(engine) as conn:
        return undo_in(conn, set_id, actor, scope=scope, reason=reason)


def undo_in(conn: Connection, set_id: int, actor: str | None, *, scope: Scope = EVERYTHING,
            reason: str | None = None, action: str = "undo", detail: Mapping | None = None,
            before_close=None) -> UndoOutcome:
    """undo_change_set inside the caller's transaction (the import undo adds its batch bookkeeping)."""
    head = conn.execute(select(change_set).where(change_set.c.id == set_id)).first()
    if head is None:
        raise UndoRefused(f"没有第 {set_id} 号变更 · there is no change set {set_id}")
    if head.status != "done":
        raise UndoRefused(f"第 {set_id} 号变更已撤销过 · change set {set_id} was undone already")
    if head.undoes is not None:
        raise UndoRefused(f"第 {set_id} 号变更本身是一次撤销，不能再撤销；请重新修改 · "
                          f"change set {set_id} is itself an undo; make the change again instead")
    rows = conn.execute(select(change).where(change.c.change_set_id == set_id).order_by(change.c.id)).all()
    out = _invert(conn, head, rows, actor, scope, reason or f"撤销第 {set_id} 号变更 · undo of change set {set_id}",
                  action, detail, before_close)
    conn.execute(update(change_set).where(change_set.c.id == set_id).values(status="undone",
                                                                             undone_by=out.change_set_id))
    if head.import_batch_id is not None:
        # An import undone from a person's history is undone as a batch too (the import page agrees).
        conn.execute(update(import_batch).where(import_batch.c.id == head.import_batch_id).values(status="undone"))
    return out


def revert_change(engine: Engine, change_id: int, actor: str | None, *, scope: Scope = EVERYTHING) -> UndoOutcome:
    """Put back one change of a change set (one field, one tag …), as a staff change set of its own."""
    with writing(engine) as conn:
        row = conn.execute(select(change).where(change.c.id == change_id)).first()
        if row is None:
            raise UndoRefused(f"没有第 {change_id} 条修改记录 · there is no change {change_id}")
        head = conn.execute(select(change_set).where(change_set.c.id == row.change_set_id)).one()
        if head.status != "done":
            raise UndoRefused(f"这条修改所在的第 {head.id} 号变更已撤销 · its change set {head.id} was undone already")
        rows = [row]
        if row.op == "update" and row.entity == "person":
            # The bookkeeping of the same set goes back with the field when nothing later moved it.
            rows += conn.execute(select(change).where(
                change.c.change_set_id == head.id, change.c.entity == "person", change.c.row_key == row.row_key,
                change.c.field.in_(sorted(BOOKKEEPING)))).all()
        return _invert(conn, head, rows, actor, scope,
                       f"撤销第 {head.id} 号变更中的一项 · revert one change of change set {head.id}",
                       "revert", {"change": change_id}, None)


def _later_changes(conn: Connection, head, rows) -> list:
    """Changes of later, not undone, change sets on the rows (and, for inserted persons, the persons) of `rows`."""
    by_entity: dict[str, set[str]] = defaultdict(set)
    inserted_persons: set[int] = set()
    for r in rows:
        by_entity[r.entity].add(r.row_key)
        if r.entity == "person" and r.op == "insert":
            inserted_persons.add(int(r.row_key))
    later = []
    base = (select(change.c.change_set_id, change.c.entity, change.c.row_key, change.c.field, change.c.op,
                   change.c.person_id)
            .join(change_set, change_set.c.id == change.c.change_set_id)
            .where(change.c.change_set_id > head.id, change_set.c.status == "done",
                   # A later set and its own undo cancel out: the undo does not block.
                   or_(change_set.c.undoes.is_(None), change_set.c.undoes < head.id)))
    for entity, keys in by_entity.items():
        keys = sorted(keys)
        for i in range(0, len(keys), CHUNK):
            later += conn.execute(base.where(change.c.entity == entity,
                                             among(change.c.row_key, keys[i:i + CHUNK]))).all()
    pids = sorted(inserted_persons)
    for i in range(0, len(pids), CHUNK):
        later += conn.execute(base.where(among(change.c.person_id, pids[i:i + CHUNK]))).all()
    return later


def _conflicts(rows, later) -> list[int]:
    """The later change sets that changed what `rows` changed: the same field, or the same row as a whole."""
    fields = {(r.entity, r.row_key, r.field) for r in rows if r.op == "update" and r.field not in BOOKKEEPING}
    touched_rows = {(r.entity, r.row_key) for r in rows}
    whole_rows = {(r.entity, r.row_key) for r in rows if r.op != "update"}
    inserted_persons = {int(r.row_key) for r in rows if r.entity == "person" and r.op == "insert"}
    sets = set()
    for c in later:
        if c.op == "update" and c.field in BOOKKEEPING:
            continue
        here = (c.entity, c.row_key)
        if ((c.entity, c.row_key, c.field) in fields          # the same field again
                or here in whole_rows                          # a row this set inserted or deleted
                or (c.op != "update" and here in touched_rows)  # a row this set edited, since deleted/re-made
                or c.person_id in inserted_persons):           # anything recorded for a person this set added
            sets.add(c.change_set_id)
    return sorted(sets)


def _invert(conn: Connection, head, rows, actor, scope: Scope, reason: str, action: str,
            detail: Mapping | None, before_close) -> UndoOutcome:
    # Scope first: the refusals after it name persons, which a scoped account may not learn of.
    _check_rows_in_scope(conn, rows, scope, head.id)
    later = _later_changes(conn, head, rows)
    blocking = _conflicts(rows, later)
    if blocking:
        shown = "、".join(map(str, blocking[:8])) + (" 等" if len(blocking) > 8 else "")
        raise UndoRefused(f"无法撤销第 {head.id} 号变更：之后的第 {shown} 号变更又修改了相同的内容，请先撤销它们 · "
                          f"cannot undo change set {head.id}: later change set(s) {', '.join(map(str, blocking))} "
                          f"changed the same fields; undo those first", "later", blocking=blocking)
    moved_later = {(c.entity, c.row_key) for c in later}  # bookkeeping that later work moved stays
    _check_current(conn, head, rows)
    kept = _check_used(conn, head, rows)
    inverse = open_change_set(conn, head.source, actor, reason, undoes=head.id)
    todo = [r for r in reversed(rows)
            if not (r.op == "update" and r.field in BOOKKEEPING and (r.entity, r.row_key) in moved_later)
            and not (r.op == "insert" and (r.entity, r.row_key) in kept)]
    _apply_inverse(conn, todo)
    inverse.record_many((r.entity, r.row_key, r.person_id, *_inverse_of(r)) for r in todo)
    if before_close:
        before_close(inverse)
    inverse.close(action=action, detail={"undoes": head.id, **(detail or {})})
    return UndoOutcome(head.id, inverse.id, len(todo))


def _inverse_of(r) -> tuple:
    """(op, field, old, new) of the change that undoes change row `r`."""
    if r.op == "update":
        return "update", r.field, r.new_value, r.old_value
    if r.op == "insert":
        return "delete", None, r.new_value, None
    return "insert", None, None, r.old_value


def _apply_inverse(conn: Connection, rows: list) -> None:
    """Undo `rows` (already in reverse order) with one statement per run of like changes.

    A big import undone one row at a time would take minutes; runs keep the order that
    foreign keys need (a person's tags and stage events go before the person).
    """
    i = 0
    while i < len(rows):
        first = rows[i]
        j = i
        while j < len(rows) and (rows[j].entity, rows[j].op, rows[j].field) == (first.entity, first.op, first.field):
            j += 1
        run = rows[i:j]
        i = j
        table, keys, _ = ENTITIES[first.entity]
        key_params = [{f"k_{c}": v for c, v in _key_values(first.entity, r.row_key).items()} for r in run]
        where = [table.c[c] == bindparam(f"k_{c}") for c in keys]
        if first.op == "update":
            values = [dict(k, v_new=decode(table, first.field, r.old_value)) for k, r in zip(key_params, run)]
            _chunked(conn, update(table).where(*where).values({first.field: bindparam("v_new")}), values)
        elif first.op == "insert":
            if len(keys) == 1:
                ids = [int(r.row_key) for r in run]
                for c in range(0, len(ids), CHUNK):
                    conn.execute(delete(table).where(among(table.c[keys[0]], ids[c:c + CHUNK])))
            else:
                _chunked(conn, delete(table).where(*where), key_params)
        else:
            _chunked(conn, insert(table), [decode_row(table, r.old_value) for r in run])


def _chunked(conn: Connection, statement, params: list[dict]) -> None:
    for c in range(0, len(params), CHUNK):
        conn.execute(statement, params[c:c + CHUNK])


def _check_rows_in_scope(conn: Connection, rows, scope: Scope, set_id: int) -> None:
    """Every person the set touched lies in `scope`: where they are now, and where the set found them."""
    if scope.is_everything:
        return
    pids = sorted({r.person_id for r in rows if r.person_id is not None})
    outside = 0
    found_ids: set[int] = set()
    for i in range(0, len(pids), CHUNK):
        found = conn.execute(select(person.c.id, person.c.district_code, person.c.street)
                             .where(among(person.c.id, pids[i:i + CHUNK]))).all()
        found_ids.update(p.id for p in found)
        outside += sum(not scope.allows_street(p.district_code, p.street) for p in found)
    deleted = {int(r.row_key) for r in rows if r.entity == "person" and r.op == "delete"}
    # A person no longer there to place (deleted by someone else) cannot be shown to be inside.
    outside += len(set(pids) - found_ids - deleted)
    for r in rows:
        if r.entity == "person" and r.op == "delete":
            old = json.loads(r.old_value)
            outside += not scope.allows_street(old.get("district_code"), old.get("street"))
        elif r.entity == "person" and r.op == "update" and r.field == "district_code":
            outside += not scope.allows_district(decode(person, "district_code", r.old_value))
        elif r.entity == "person" and r.op == "update" and r.field == "street":
            district = conn.execute(select(person.c.district_code).where(person.c.id == int(r.row_key))).scalar()
            outside += not scope.allows_street(district, decode(person, "street", r.old_value))
    if outside:
        raise UndoRefused(f"第 {set_id} 号变更涉及您管辖范围以外的人员，不能由您撤销 · "
                          f"change set {set_id} touches persons outside your scope; you cannot undo it", "scope")


def _check_current(conn: Connection, head, rows) -> None:
    """Other systems write directly, leaving no change rows: compare what is there with what the set left."""
    by_row: dict[tuple[str, str], list] = defaultdict(list)
    for r in rows:
        by_row[(r.entity, r.row_key)].append(r)
    moved: list[str] = []
    names: list[str] = []
    for entity in {e for e, _ in by_row}:
        table, keys, _ = ENTITIES[entity]
        wanted = [k for e, k in by_row if e == entity]
        for i in range(0, len(wanted), CHUNK):
            chunk = wanted[i:i + CHUNK]
            wanted_here = set(chunk)
            present = {k: r._mapping for r in conn.execute(select(table).where(_keys_in(entity, chunk)))
                       if (k := row_key(entity, r._mapping)) in wanted_here}
            for k in chunk:
                # What the set left: the row's last insert/delete says whether it exists (and, for
                # an insert, every value), the last update of each field its value.
                ops = by_row[(entity, k)]
                made = next((r for r in reversed(ops) if r.op != "update"), None)
                exists = made is None or made.op == "insert"
                now = present.get(k)
                if exists != (now is not None):
                    moved.append(f"{entity} {k}")
                    continue
                if not exists:
                    continue
                # Values as recorded (JSON): most compare equal as they are, without typing them.
                left = {}
                if made is not None and made.new_value is not None:
                    left = json.loads(made.new_value)
                left.update({r.field: json.loads(r.new_value) if r.new_value is not None else None for r in ops
                             if r.op == "update"})
                fields = [f for f, v in left.items() if f not in BOOKKEEPING and f in now
                          and now[f] != v and _plain(now[f]) != v and not _same(now[f], _typed(table, f, v))]
                moved += [f"{entity} {k} {f}" for f in fields]
                if fields and entity == "person":
                    names.append(now["name"])
    if moved:
        who = f"（{'、'.join(names[:5])}{' 等' if len(names) > 5 else ''}）" if names else ""
        raise UndoRefused(f"无法撤销第 {head.id} 号变更：其中 {len(moved)} 项之后被其他系统或直接写入改动过{who} · "
                          f"cannot undo change set {head.id}: {len(moved)} of its changes were changed since "
                          f"outside the app ({', '.join(moved[:5])})", "moved", names=names)


# Rows that other rows refer to: (entity, the referring tables and their column). A person the
# set added must not be removed from under later records; a tag or an activity is shared, so an
# undo keeps one that others have come to use.
_DEPENDENTS = {
    "person": ((person_tag, "person_id"), (stage_event, "person_id"), (appointment, "person_id"),
               (participation, "person_id")),
    "tag": ((person_tag, "tag_id"),),
    "activity": ((participation, "activity_id"),),
}
_DEPENDENT_ENTITY = {person_tag: "person_tag", stage_event: "stage_event", appointment: "appointment",
                     participation: "participation"}


def _check_used(conn: Connection, head, rows) -> set[tuple[str, str]]:
    """Rows the set inserted that rows it did not insert now refer to.

    Refuses for persons (what was recorded for them since would be lost); returns the shared
    rows (tags, activities) in use, which the undo then keeps.
    """
    own = {(r.entity, r.row_key) for r in rows if r.op == "insert"}
    kept: set[tuple[str, str]] = set()
    used_persons: set[int] = set()
    for entity, refs in _DEPENDENTS.items():
        ids = sorted(int(k) for e, k in own if e == entity)
        for table, column in refs:
            dep = _DEPENDENT_ENTITY[table]
            for i in range(0, len(ids), CHUNK):
                for r in conn.execute(select(table).where(among(table.c[column], ids[i:i + CHUNK]))):
                    if (dep, row_key(dep, r._mapping)) in own:
                        continue
                    if entity == "person":
                        used_persons.add(r._mapping[column])
                    else:
                        kept.add((entity, str(r._mapping[column])))
    if used_persons:
        names = list(conn.execute(select(person.c.name).where(person.c.id.in_(sorted(used_persons)[:CHUNK]))
                                  .order_by(person.c.id)).scalars())
        shown = "、".join(names[:5]) + (f" 等 {len(names)} 人" if len(names) > 5 else "")
        raise UndoRefused(f"无法撤销第 {head.id} 号变更：其中新增的人员（{shown}）之后已有活动、任职、标签或阶段记录 · "
                          f"cannot undo change set {head.id}: {len(used_persons)} persons it added have activities, "
                          f"posts, tags or stages recorded since", "used", names=names)
    return kept


def _keys_in(entity: str, keys: Sequence[str]):
    """A condition for the rows of `keys`; for two-column keys, a superset by the first column
    (PostgreSQL plans a long row-value IN list poorly: a minute for 100k tags), filtered after."""
    table, columns, _ = ENTITIES[entity]
    return among(table.c[columns[0]], sorted({int(k.split(":")[0]) for k in keys}))


# ---------------------------------------------------------------- history

HISTORY_COLUMNS = ["change_id", "change_set_id", "at", "source", "actor", "reason", "status", "entity", "op",
                   "field", "old_value", "new_value", "undoes", "file_name"]


def person_history(engine: Engine, person_id: int, *, limit: int = 500) -> pd.DataFrame:
    """Every change row that touched one person, newest first (undone ones too, marked by status);
    `file_name` names the file of an import's changes."""
    stmt = (select(change.c.id.label("change_id"), change.c.change_set_id, change_set.c.at, change_set.c.source,
                   change_set.c.actor, change_set.c.reason, change_set.c.status, change.c.entity, change.c.op,
                   change.c.field, change.c.old_value, change.c.new_value, change_set.c.undoes,
                   import_batch.c.file_name)
            .join(change_set, change_set.c.id == change.c.change_set_id)
            .outerjoin(import_batch, import_batch.c.id == change_set.c.import_batch_id)
            .where(change.c.person_id == person_id)
            .order_by(change.c.change_set_id.desc(), change.c.id.desc()).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame([dict(r._mapping) for r in rows], columns=HISTORY_COLUMNS)
