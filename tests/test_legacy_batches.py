"""Batches imported before change sets: migration 0006 makes them change sets, and undo works on them.

The store is built at revision 0005 with what the earlier importer left (import_change
rows holding the previous values and added tags), then migrated to head.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text

from loaders.api import UndoRefused, undo_batch
from store.engine import create_store_engine
from store.migrate import upgrade_to, upgrade_to_head
from store.schema import activity, change, change_set, participation, person, person_tag, stage_event

AT1 = dt.datetime(2026, 11, 1, 9, 0, 0)
AT2 = dt.datetime(2026, 11, 2, 9, 0, 0)
AT3 = dt.datetime(2026, 11, 3, 9, 0, 0)


def _person_values(**over):
    values = dict(name="王伟", gender="M", ethnicity=None, birth_date=dt.date(1980, 1, 1), id_number="33010619800101001X",
                  phone=None, party="non_party", category_code="non_party", district_code="330106", street=None,
                  organization="甲公司", position=None, education=None, title=None, stage="discover", source=None)
    values.update(over)
    return values


def _previous(values: dict, updated_at, batch_id) -> str:
    """What the earlier importer wrote into import_change.previous: every column, dates as ISO text."""
    plain = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}
    return json.dumps({**plain, "updated_at": updated_at.isoformat(), "updated_via": "import",
                       "import_batch_id": batch_id}, ensure_ascii=False)


@pytest.fixture
def legacy(store_url_factory, backend):
    """A store at 0005 holding three batches of the earlier importer, then migrated to head."""
    url = store_url_factory(backend)
    engine = create_store_engine(url, create=True)
    upgrade_to(engine, "0005")
    a = _person_values()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO category (code, name_zh, name_en, sort_order) "
                          "VALUES ('non_party', '无党派人士', 'non-party', 1)"))
        for bid, at in ((1, AT1), (2, AT2), (3, AT3)):
            conn.execute(text("INSERT INTO import_batch (id, file_name, sha256, imported_at, imported_by, rows_read, "
                              "inserted, updated, unchanged, rejected, status) VALUES "
                              "(:id, :f, :s, :at, 'clerk', 1, 1, 0, 0, 0, 'done')"),
                         {"id": bid, "f": f"{bid}.xlsx", "s": f"{bid:064d}", "at": at})
        # Batch 1 inserted 王伟 with the tag 青年 and a first stage event.
        conn.execute(person.insert().values(id=1, **{**a, "organization": "乙公司"}, created_at=AT1, updated_at=AT2,
                                            updated_via="import", import_batch_id=2))
        conn.execute(text("INSERT INTO tag (id, name) VALUES (1, '青年')"))
        conn.execute(person_tag.insert().values(person_id=1, tag_id=1))
        conn.execute(stage_event.insert().values(id=1, person_id=1, stage="discover", entered_at=AT1,
                                                 note="import batch 1"))
        conn.execute(text("INSERT INTO import_change (batch_id, person_id, action, previous, added_tags) "
                          "VALUES (1, 1, 'insert', NULL, '[\"青年\"]')"))
        # Batch 2 moved 王伟 from 甲公司 to 乙公司 and inserted 李娜.
        conn.execute(person.insert().values(id=2, **_person_values(name="李娜", id_number="330106198202020023",
                                                                    gender="F", organization="丙"),
                                            created_at=AT2, updated_at=AT2, updated_via="import", import_batch_id=2))
        conn.execute(stage_event.insert().values(id=2, person_id=2, stage="discover", entered_at=AT2,
                                                 note="import batch 2"))
        conn.execute(text("INSERT INTO import_change (batch_id, person_id, action, previous, added_tags) "
                          "VALUES (2, 1, 'update', :p, NULL), (2, 2, 'insert', NULL, NULL)"),
                     {"p": _previous(a, AT1, 1)})
        # Batch 3, an attendance sheet: a new activity, 王伟 signed in.
        conn.execute(activity.insert().values(id=1, title="培训", kind="training", starts_at=AT3))
        conn.execute(participation.insert().values(activity_id=1, person_id=1, status="checked_in",
                                                   registered_at=AT3, checked_in_at=AT3))
        conn.execute(text("INSERT INTO import_change (batch_id, person_id, action, previous) VALUES "
                          "(3, 0, 'activity_insert', '{\"activity_id\": 1}'), "
                          "(3, 1, 'attend_insert', '{\"activity_id\": 1}')"))
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def _rows(engine, table):
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(table)).all())


def test_every_done_batch_becomes_a_change_set(legacy):
    with legacy.connect() as conn:
        sets = conn.execute(select(change_set.c.import_batch_id, change_set.c.source, change_set.c.actor)
                            .order_by(change_set.c.id)).all()
        rows = conn.execute(select(change.c.entity, change.c.op, change.c.field, change.c.old_value,
                                   change.c.new_value).order_by(change.c.id)).all()
    assert [tuple(s) for s in sets] == [(1, "import", "clerk"), (2, "import", "clerk"), (3, "import", "clerk")]
    assert ("person", "update", "organization", '"甲公司"', '"乙公司"') in [tuple(r) for r in rows]
    assert {(r.entity, r.op) for r in rows} >= {("person", "insert"), ("person_tag", "insert"),
                                                ("stage_event", "insert"), ("activity", "insert"),
                                                ("participation", "insert")}


def test_undo_of_legacy_batches_in_reverse_order(legacy):
    # Batch 2 changed 王伟 after batch 1: batch 1 waits for it.
    with pytest.raises(UndoRefused) as refused:
        undo_batch(legacy, 1)
    assert "2" in refused.value.message and "later" in refused.value.message
    done = undo_batch(legacy, 3)
    assert (done.kind, done.removed) == ("participations", 1)
    assert _rows(legacy, participation) == [] and _rows(legacy, activity) == []
    done = undo_batch(legacy, 2)
    assert (done.removed, done.restored) == (1, 1)
    with legacy.connect() as conn:
        assert conn.execute(select(person.c.name, person.c.organization)).all() == [("王伟", "甲公司")]
    undo_batch(legacy, 1)
    for table in (person, person_tag, stage_event):
        assert _rows(legacy, table) == [], table.name
