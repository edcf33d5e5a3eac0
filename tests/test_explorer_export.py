"""The Excel export: same rows as the count and the list, masked by role, formulas neutralised, audited."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from store.export import COLUMNS, EXPORT_MAX_ROWS, ExportTooLarge, export_persons, neutralise
from store.filters import PersonFilter
from store.privacy import mask_id_number, mask_phone, may_see_personal
from store.queries import explorer as q
from store.schema import audit_log, person
from store.scope import EVERYTHING, Scope
from test_explorer_queries import TODAY, brute, store  # noqa: F401  (store is a fixture)

HEADERS = [h for _, h, _ in COLUMNS]


def read_sheet(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return ws, rows[0], rows[1:]


@pytest.mark.parametrize("value,expected", [
    ("330106197503121234", "330106********1234"),
    ("33010619750312123X", "330106********123X"),
    ("330106750312123", "330106*****2123"),  # 15-digit old ID
    ("1234", "****"),
    (None, None),
])
def test_mask_id_number(value, expected):
    assert mask_id_number(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("13812345678", "138****5678"), ("0571-88886666", "057******6666"), ("12345", "***45"), (None, None),
])
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


def test_only_admin_sees_personal_fields():
    assert may_see_personal("admin")
    assert not any(may_see_personal(r) for r in ("staff", "leader", "screen", None, ""))


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("王=1", "王=1"), ("a\x01b", "ab"), (5, 5), (None, None),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_export_agrees_with_count_list_and_brute_force(store):
    engine, records = store
    f = PersonFilter(stages=("use", "manage"), genders=("F",))
    expected = {r.id for r in brute(records, f)}
    result = export_persons(engine, EVERYTHING, f, actor="staff1", today=TODAY, chunk_size=7)
    ws, header, rows = read_sheet(result.data)
    assert list(header) == HEADERS
    ids = [row[HEADERS.index("系统编号")] for row in rows]
    assert set(ids) == expected and len(ids) == len(expected) == result.rows
    assert q.headcount(engine, EVERYTHING, f, today=TODAY).matched == len(ids)
    page = q.person_page(engine, EVERYTHING, f, sort="name", descending=False, page_size=500, today=TODAY)
    assert [int(i) for i in page["id"]] == ids  # same order as the list sorted the same way
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width == COLUMNS[0][2]
    by_id = {r.id: r for r in records}
    for row in rows:
        rec = by_id[row[HEADERS.index("系统编号")]]
        assert row[HEADERS.index("姓名")] in (rec.name, "'" + rec.name)
        assert set((row[HEADERS.index("标签")] or "").split("、")) - {""} == rec.tags
        assert row[HEADERS.index("性别")] == "女"


def test_export_masks_unless_allowed(store):
    engine, records = store
    f = PersonFilter(districts=("330106",))
    _, _, masked = read_sheet(export_persons(engine, EVERYTHING, f, actor="s", today=TODAY).data)
    _, _, full = read_sheet(export_persons(engine, EVERYTHING, f, actor="a", unmasked=True, today=TODAY).data)
    ids = {r.id_number for r in records}
    col = HEADERS.index("身份证号")
    assert not ids & {row[col] for row in masked}
    assert all("********" in row[col] for row in masked)
    assert {row[col] for row in full} == {r.id_number for r in brute(records, f)}


def test_export_neutralises_formulas(engine):
    now = datetime(2025, 1, 1)
    evil = ["=HYPERLINK(\"http://x\")", "+1", "-1", "@A1", "\t=1", "\r=1"]
    with engine.begin() as conn:
        conn.execute(insert(person), [
            {"name": name, "organization": name, "category_code": "other", "created_at": now, "updated_at": now}
            for name in evil
        ])
    result = export_persons(engine, EVERYTHING, PersonFilter(), actor="t", today=TODAY)
    wb = load_workbook(io.BytesIO(result.data))
    cells = [c for row in wb.worksheets[0].iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)
    # Depending on the XML writer a bare CR may come back as LF; what matters is the leading apostrophe.
    names = {c.value.replace("\r", "\n") for c in cells if c.column == 1}
    assert names == {("'" + n).replace("\r", "\n") for n in evil}


def test_export_is_audited(store):
    engine, _ = store
    f = PersonFilter(tags=("海归",), keyword="王")
    result = export_persons(engine, Scope(districts=("330106",)), f, actor="staff7", today=TODAY)
    with engine.connect() as conn:
        row = conn.execute(
            select(audit_log).where(audit_log.c.actor == "staff7").order_by(audit_log.c.id.desc())
        ).first()
    assert row.action == "export"
    detail = json.loads(row.detail)
    assert detail["rows"] == result.rows
    assert PersonFilter.from_query_params(detail["filters"]) == f
    assert detail["masked"] is True and detail["scope"]["districts"] == ["330106"]


def test_export_refuses_past_the_cap(store):
    engine, records = store
    with pytest.raises(ExportTooLarge) as err:
        export_persons(engine, EVERYTHING, PersonFilter(), actor="x", today=TODAY, max_rows=10)
    assert err.value.matched == len(records) and err.value.limit == 10
    assert EXPORT_MAX_ROWS >= 10_000
