"""import batches recorded before change sets become change sets, so one undo serves them all

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:00:00.000000

Before the write path, a batch kept what its undo needed in `import_change`: the
person's previous values and the tags added (a person list), or the participation's
previous status (an attendance sheet). Each batch still `done` becomes a change set
(source import, its importer and time) with field-level change rows built from that:
an update's old value is the recorded one; its new value, and an inserted person's
row, are what the batch left: the previous values recorded by the next batch that
updated the person, else what the store holds now. Batches are taken in order, so a later batch is a
later change set and blocks an earlier one's undo where they changed the same thing.

What the record never held cannot be rebuilt: a direct write by another system made
before this migration is taken as the batch's own value (the old undo refused then).
`import_change.previous` stays as it was, for the record; new batches leave it empty.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PERSON_FIELDS = ("name", "gender", "ethnicity", "birth_date", "id_number", "phone", "party", "category_code",
                 "district_code", "street", "organization", "position", "education", "title", "stage", "source",
                 "updated_at", "updated_via", "import_batch_id")
PARTICIPATION_FIELDS = ("status", "registered_at", "checked_in_at")


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _encode(value):
    return None if value is None else json.dumps(_plain(value), ensure_ascii=False)


def _row(mapping) -> str:
    return json.dumps({k: _plain(v) for k, v in mapping.items()}, ensure_ascii=False, sort_keys=True)


def _same(stored, recorded) -> bool:
    """A stored value against one recorded as JSON (dates as ISO text, or SQLite's; times to the second)."""
    if stored is None or recorded is None:
        return stored is None and recorded is None
    return _comparable(stored) == _comparable(recorded)


def _comparable(value) -> str:
    text = str(_plain(value))
    if len(text) >= 10 and text[4:5] == "-" and text[7:8] == "-":
        return text.replace("T", " ")[:19]
    return text


def upgrade() -> None:
    conn = op.get_bind()
    done = conn.execute(sa.text(
        "SELECT b.id, b.imported_at, b.imported_by FROM import_batch b WHERE b.status = 'done' "
        "AND NOT EXISTS (SELECT 1 FROM change_set s WHERE s.import_batch_id = b.id) ORDER BY b.id")).all()
    tag_ids = dict(conn.execute(sa.text("SELECT name, id FROM tag")).all())
    # person -> [(batch, the values it found)] of every done batch that updated them, in order
    updates: dict[int, list] = {}
    for b, pid, previous in conn.execute(sa.text(
            "SELECT c.batch_id, c.person_id, c.previous FROM import_change c JOIN import_batch b ON b.id = c.batch_id "
            "WHERE c.action = 'update' AND b.status = 'done' ORDER BY c.batch_id, c.id")):
        updates.setdefault(pid, []).append((b, json.loads(previous)))
    for batch in done:
        links = conn.execute(sa.text(
            "SELECT person_id, action, previous, added_tags FROM import_change WHERE batch_id = :b ORDER BY id"),
            {"b": batch.id}).all()
        set_id = conn.execute(sa.text(
            "INSERT INTO change_set (at, source, actor, status, import_batch_id) "
            "VALUES (:at, 'import', :actor, 'done', :b) RETURNING id"),
            {"at": batch.imported_at, "actor": batch.imported_by, "b": batch.id}).scalar_one()
        rows = []
        for link in links:
            rows += _batch_rows(conn, batch.id, link, tag_ids, updates)
        # Rows a person or an activity owns after it: an undo, going backwards, removes them first.
        order = {"activity": 0, "person": 1, "participation": 2, "person_tag": 3, "stage_event": 4}
        rows.sort(key=lambda r: order[r["entity"]])
        for r in rows:
            r["change_set_id"] = set_id
        for start in range(0, len(rows), 5000):
            conn.execute(sa.text(
                "INSERT INTO change (change_set_id, entity, row_key, person_id, op, field, old_value, new_value) "
                "VALUES (:change_set_id, :entity, :row_key, :person_id, :op, :field, :old_value, :new_value)"),
                rows[start:start + 5000])


def _change(entity, key, person_id, op_, field=None, old=None, new=None) -> dict:
    return {"entity": entity, "row_key": str(key), "person_id": person_id, "op": op_, "field": field,
            "old_value": old, "new_value": new}


def _batch_rows(conn, batch_id: int, link, tag_ids: dict, updates: dict) -> list[dict]:
    pid = link.person_id
    previous = json.loads(link.previous) if link.previous else {}
    if link.action == "activity_insert":
        row = conn.execute(sa.text("SELECT * FROM activity WHERE id = :a"), {"a": previous["activity_id"]}).first()
        return [] if row is None else [_change("activity", row.id, None, "insert", new=_row(row._mapping))]
    if link.action in ("attend_insert", "attend_update"):
        aid = previous["activity_id"]
        row = conn.execute(sa.text("SELECT * FROM participation WHERE activity_id = :a AND person_id = :p"),
                           {"a": aid, "p": pid}).first()
        if row is None:
            return []
        key = f"{aid}:{pid}"
        if link.action == "attend_insert":
            return [_change("participation", key, pid, "insert", new=_row(row._mapping))]
        now = row._mapping
        return [_change("participation", key, pid, "update", f, _encode(previous.get(f)), _encode(now[f]))
                for f in PARTICIPATION_FIELDS if not _same(now[f], previous.get(f))]
    row = conn.execute(sa.text("SELECT * FROM person WHERE id = :p"), {"p": pid}).first()
    if row is None:
        return []
    # What this batch left: what the next batch to update the person found, else what is there now.
    found_next = next((values for b, values in updates.get(pid, []) if b > batch_id), {})
    now = {k: found_next.get(k, v) for k, v in row._mapping.items()}
    if link.action == "insert":
        out = [_change("person", pid, pid, "insert", new=_row(now))]
    else:
        out = [_change("person", pid, pid, "update", f, _encode(previous.get(f)), _encode(now[f]))
               for f in PERSON_FIELDS if f in previous and not _same(now[f], previous.get(f))]
    for name in json.loads(link.added_tags) if link.added_tags else []:
        tid = tag_ids.get(name)
        if tid is not None and conn.execute(sa.text(
                "SELECT 1 FROM person_tag WHERE person_id = :p AND tag_id = :t"), {"p": pid, "t": tid}).first():
            out.append(_change("person_tag", f"{pid}:{tid}", pid, "insert",
                               new=json.dumps({"person_id": pid, "tag_id": tid})))
    for event in conn.execute(sa.text("SELECT * FROM stage_event WHERE person_id = :p AND note = :n ORDER BY id"),
                              {"p": pid, "n": f"import batch {batch_id}"}):
        out.append(_change("stage_event", event.id, pid, "insert", new=_row(event._mapping)))
    return out


def downgrade() -> None:
    conn = op.get_bind()
    sets = "SELECT id FROM change_set WHERE source = 'import' AND import_batch_id IS NOT NULL"
    conn.execute(sa.text(f"DELETE FROM change WHERE change_set_id IN ({sets})"))
    conn.execute(sa.text("DELETE FROM change_set WHERE source = 'import' AND import_batch_id IS NOT NULL"))
