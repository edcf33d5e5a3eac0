"""Saved column mappings and the import page's queries, on a hand-built store."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select

from store import mappings
from store.migrate import current_revision
from store.queries.imports import same_file_batches
from store.schema import column_mapping, import_batch, import_change, person
from store.scope import EVERYTHING, Scope

T0 = dt.datetime(2025, 3, 1, 9, 30)


@pytest.mark.parametrize("a, b, same", [
    (["姓名", "移动电话号", "类别"], ["类别", "姓名", "移动电话号"], True),  # order does not matter
    (["姓　　名", "手机"], ["姓名", " 手机 "], True),  # nor spacing
    (["ＩＤ", "Name"], ["id", "name"], True),  # full-width and case
    (["姓名", "手机", ""], ["姓名", "手机"], True),  # empty header cells are not labels
    (["姓名", "手机"], ["姓名", "手机", "标签"], False),
    (["姓名", "手机"], ["姓名", "电话"], False),
])
def test_header_signature(a, b, same):
    assert (mappings.header_signature(a) == mappings.header_signature(b)) is same
    assert len(mappings.header_signature(a)) == 64


def test_save_load_update_forget(engine):
    labels = ["姓名", "移动电话号", "统战对象类别"]
    assert int(current_revision(engine)) >= 3  # the migration that adds column_mapping
    assert mappings.load_mapping(engine, labels) is None
    sig = mappings.save_mapping(engine, labels, {"移动电话号": "phone"}, "clerk", now=T0)
    saved = mappings.load_mapping(engine, ["统战对象类别", "姓　名", "移动电话号"])
    assert saved.signature == sig
    assert saved.mapping == {"移动电话号": "phone"} and saved.saved_by == "clerk" and saved.saved_at == T0
    # Saving again replaces, never duplicates.
    mappings.save_mapping(engine, labels, {"移动电话号": "phone", "统战对象类别": None}, "boss", now=T0)
    saved = mappings.load_mapping(engine, labels)
    assert saved.mapping == {"移动电话号": "phone", "统战对象类别": None} and saved.saved_by == "boss"
    other = mappings.save_mapping(engine, ["姓名", "座机"], {"座机": "phone"}, "clerk", now=T0)
    found = mappings.load_mappings(engine, [sig, other, mappings.header_signature(["nothing"])])
    assert set(found) == {sig, other}
    # An empty mapping forgets.
    assert mappings.save_mapping(engine, labels, {}, "clerk") is None
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(column_mapping)).scalar_one() == 1
    assert mappings.load_mappings(engine, []) == {}


def _batch(conn, sha, at, by, status="done"):
    return conn.execute(insert(import_batch).values(
        file_name="f.xlsx", sha256=sha, imported_at=at, imported_by=by, status=status)
        .returning(import_batch.c.id)).scalar_one()


def test_same_file_batches_newest_first_and_scoped(engine):
    with engine.begin() as conn:
        pid = conn.execute(insert(person).values(name="甲", category_code="other", district_code="330106",
                                                 created_at=T0, updated_at=T0).returning(person.c.id)).scalar_one()
        first = _batch(conn, "a" * 64, T0, "clerk")
        second = _batch(conn, "a" * 64, T0 + dt.timedelta(days=1), "boss", "undone")
        _batch(conn, "b" * 64, T0 + dt.timedelta(days=2), "other")
        conn.execute(insert(import_change).values(batch_id=first, person_id=pid, action="insert"))

    df = same_file_batches(engine, EVERYTHING, "a" * 64)
    assert list(df["id"]) == [second, first]
    assert list(df["imported_by"]) == ["boss", "clerk"] and list(df["status"]) == ["undone", "done"]
    assert same_file_batches(engine, EVERYTHING, "c" * 64).empty
    assert len(same_file_batches(engine, EVERYTHING, "a" * 64, limit=1)) == 1
    # A scoped viewer sees the batches that touched someone in their scope.
    assert list(same_file_batches(engine, Scope(districts=("330106",)), "a" * 64)["id"]) == [first]
    assert same_file_batches(engine, Scope(districts=("330102",)), "a" * 64).empty
