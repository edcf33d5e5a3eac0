"""The store side of IMPORT.md: identity, merging, transactions, undo, error report (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

import loaders.apply
import loaders.matching
from store import clock
from loaders.api import UndoRefused, BatchNotFound, apply_import, import_file, prepare_import, undo_batch, write_error_report
from store.schema import audit_log, import_batch, import_change, meta, person, person_tag, stage_event, tag
from tests.data.staff_files import ID_CHEN, ID_LI, ID_WANG, ID_ZHAO, make_id, simple_workbook, staff_workbook

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar

HEADER = ["姓名", "性别", "出生日期", "身份证号", "手机", "统战对象类别", "工作单位", "标签", "工作阶段"]


def people(engine, *columns):
    cols = [person.c[c] for c in (columns or ("name",))]
    with engine.connect() as conn:
        return [tuple(r) if len(r) > 1 else r[0] for r in conn.execute(select(*cols).order_by(person.c.id))]


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def tags_of(engine, name):
    with engine.connect() as conn:
        return sorted(conn.execute(select(tag.c.name).join(person_tag, person_tag.c.tag_id == tag.c.id)
                                   .join(person, person.c.id == person_tag.c.person_id)
                                   .where(person.c.name == name)).scalars())


def sheet(tmp_path, name, rows, header=HEADER):
    return simple_workbook(tmp_path / name, header, rows, text_columns=("D", "E"))


def counts(result):
    return (result.rows_read, result.inserted, result.updated, result.unchanged, result.rejected)


# ---------------------------------------------------------------- a real staff file

def version(engine):
    with engine.connect() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar()


def test_staff_workbook_counts(engine, tmp_path):
    before = int(version(engine) or 0)
    result = import_file(engine, staff_workbook(tmp_path / "名单.xlsx"), imported_by="tester")
    assert counts(result) == (11, 7, 1, 1, 2)
    assert result.rows_read == result.inserted + result.updated + result.unchanged + result.rejected
    assert result.persons_total == 7 == count(engine, person)
    assert [(e["sheet"], e["row"], e["column"]) for e in result.errors] == [
        ("统战对象名单", 10, "身份证号"), ("统战对象名单", 11, "统战对象类别")]
    # 赵强's gender disagrees with the ID; 下城区 and 江干区 are old names (江干区 + 白杨街道 -> 钱塘区);
    # 企业家, 政协委员, 专家, 青年 are new tags; row 12 is row 5's 王伟 and 第二批 row 2 is row 8's 陈刚.
    assert result.warnings == 9 == len(result.warning_list)
    assert [(w["sheet"], w["row"], w["column"]) for w in result.warning_list] == [
        ("统战对象名单", 5, "标签"), ("统战对象名单", 5, "标签"), ("统战对象名单", 6, "所属区县"),
        ("统战对象名单", 6, "标签"), ("统战对象名单", 9, "标签"), ("统战对象名单", 12, None),
        ("统战对象名单", 13, "性别"), ("统战对象名单", 13, "所属区县"), ("第二批", 2, None)]
    assert sorted(people(engine)) == sorted(["王伟", "李娜", "张敏", "陈刚", "孙悦", "赵强", "钱多"])
    assert tags_of(engine, "王伟") == ["企业家", "政协委员"]
    with engine.connect() as conn:
        batch = conn.execute(select(import_batch)).one()
        assert (batch.rows_read, batch.inserted, batch.updated, batch.unchanged, batch.rejected, batch.status) == \
            (11, 7, 1, 1, 2, "done")
        assert batch.imported_by == "tester" and len(batch.sha256) == 64
        assert conn.execute(select(audit_log.c.action, audit_log.c.actor)).all() == [("import", "tester")]
        assert json.loads(conn.execute(select(audit_log.c.detail)).scalar_one())["batch_id"] == batch.id
        events = conn.execute(select(person.c.name, stage_event.c.stage)
                              .join(person, person.c.id == stage_event.c.person_id)).all()
        assert ("王伟", "discover") in events and ("陈刚", "cultivate") in events and len(events) == 8
        stored = conn.execute(select(person.c.updated_via, person.c.import_batch_id).distinct()).all()
        assert stored == [("import", batch.id)]
    assert int(version(engine)) == before + 1


def test_same_file_twice_changes_nothing_and_names_the_earlier_batch(engine, tmp_path):
    path = staff_workbook(tmp_path / "名单.xlsx")
    first = import_file(engine, path)
    with engine.connect() as conn:
        before = conn.execute(select(person).order_by(person.c.id)).all()
    second = import_file(engine, path)
    assert counts(second) == (11, 0, 0, 9, 2)
    assert second.earlier_batches == [first.batch_id]
    assert any(str(first.batch_id) in n for n in second.notices)
    with engine.connect() as conn:
        assert conn.execute(select(person).order_by(person.c.id)).all() == before
        assert conn.execute(select(func.count()).select_from(import_change)
                            .where(import_change.c.batch_id == second.batch_id)).scalar_one() == 0


def test_update_file_overwrites_non_empty_cells_and_only_adds_tags(engine, tmp_path):
    import_file(engine, sheet(tmp_path, "a.xlsx", [
        ["王伟", "男", "", ID_WANG, "13812345678", "非公经济人士", "甲公司", "企业家、青年", ""]]))
    result = import_file(engine, sheet(tmp_path, "b.xlsx", [
        ["王伟", "", "", ID_WANG, "", "", "乙公司", "政协委员", "使用"],
        ["王伟", "未知", "", ID_WANG, "", "", "", "青年", ""]]))  # warning-emptied gender never overwrites
    assert counts(result) == (2, 0, 1, 1, 0)
    assert people(engine, "name", "gender", "phone", "organization", "stage", "category_code") == [
        ("王伟", "M", "13812345678", "乙公司", "use", "private_economy")]
    assert tags_of(engine, "王伟") == ["企业家", "政协委员", "青年"]
    # 政协委员 is a new tag; row 3 is row 2's 王伟 again; its 未知 gender gave way to the ID's.
    expected = [(2, "标签「政协委员」库中原来没有"), (3, "性别「未知」无法识别，已按身份证号填写为男"), (3, "与本文件第 2 行是同一人")]
    assert len(result.warning_list) == len(expected)
    for warning, (row, start) in zip(result.warning_list, expected):
        assert warning["row"] == row and warning["message"].startswith(start), warning


# ---------------------------------------------------------------- identity cascade

ID_A = make_id("330106", "19800101", "011")
ID_B = make_id("330106", "19800101", "023")


@pytest.mark.parametrize("stored, row, expected", [
    # (a) same ID, whatever the name
    ([["王伟", "", "", ID_A, "", "无党派", "", "", ""]], ["王 伟二", "", "", ID_A, "", "", "新单位", "", ""], "updated"),
    # (b) same name and mobile
    ([["王伟", "", "", "", "13812345678", "无党派", "", "", ""]], ["王伟", "", "", "", "138-1234-5678", "", "新单位", "", ""], "updated"),
    # (c) same name and birth date (the row's birth date comes from its ID)
    ([["王伟", "", "1980-01-01", "", "", "无党派", "", "", ""]], ["王伟", "", "", ID_A, "", "", "新单位", "", ""], "updated"),
    # a row with an ID only matches persons without one at (b)/(c): a different stored ID is a new person
    ([["王伟", "", "", ID_B, "13812345678", "无党派", "", "", ""]], ["王伟", "", "", ID_A, "13812345678", "无党派", "", "", ""], "inserted"),
    # an invalid mobile is never used for matching
    ([["王伟", "", "1980-01-01", "", "0571-8888", "无党派", "", "", ""]], ["王伟", "", "1981-01-01", "", "0571-8888", "无党派", "", "", ""], "inserted"),
    # two persons on the deciding level: ambiguous, rejected
    ([{"birth_date": dt.date(1980, 1, 1)}, {"birth_date": dt.date(1980, 1, 1), "phone": "13900000000"}],
     ["王伟", "", "1980-01-01", "", "", "", "新单位", "", ""], "rejected"),
    # the first level with any hit decides: (b) finds one, (c) would find two
    ([{"birth_date": dt.date(1980, 1, 1), "phone": "13812345678"}, {"birth_date": dt.date(1980, 1, 1)}],
     ["王伟", "", "1980-01-01", "", "13812345678", "", "新单位", "", ""], "updated"),
    # a row with an ID: (c) only among persons without an ID -> the one without decides
    ([{"birth_date": dt.date(1980, 1, 1), "id_number": ID_B}, {"birth_date": dt.date(1980, 1, 1)}],
     ["王伟", "", "", ID_A, "", "", "新单位", "", ""], "updated"),
])
def test_identity_cascade(engine, tmp_path, stored, row, expected):
    if isinstance(stored[0], dict):  # persons another system wrote (the importer would merge these)
        now = clock.now()
        with engine.begin() as conn:
            conn.execute(person.insert(), [{"name": "王伟", "category_code": "non_party", "stage": "discover",
                                            "created_at": now, "updated_at": now, "phone": None, "id_number": None, **p}
                                           for p in stored])
    else:
        import_file(engine, sheet(tmp_path, "stored.xlsx", stored))
    result = import_file(engine, sheet(tmp_path, "row.xlsx", [row]))
    assert getattr(result, expected) == 1, result.errors
    if expected == "rejected":
        assert "多个" in result.errors[0]["message"]


def test_name_and_birth_date_match_exact_pairs_only(engine, tmp_path):
    # The store is asked for names × dates a chunk at a time; only exact pairs may match.
    import_file(engine, sheet(tmp_path, "stored.xlsx", [
        ["王伟", "", "1980-01-01", "", "", "无党派", "甲单位", "", ""],
        ["李娜", "", "1990-02-02", "", "", "无党派", "乙单位", "", ""]]))
    result = import_file(engine, sheet(tmp_path, "rows.xlsx", [
        ["王伟", "", "1990-02-02", "", "", "无党派", "", "", ""],
        ["李娜", "", "1980-01-01", "", "", "无党派", "", "", ""],
        ["李娜", "", "1990-02-02", "", "", "", "丙单位", "", ""]]))
    assert counts(result)[1:] == (2, 1, 0, 0)
    assert ("李娜", "丙单位") in people(engine, "name", "organization")


def test_birth_date_written_with_a_time_by_another_system_still_matches(sqlite_engine, tmp_path):
    now = clock.now()
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO person (name, birth_date, category_code, stage, created_at, updated_at) "
            "VALUES ('王伟', '1980-01-01 00:00:00', 'non_party', 'discover', ?, ?)", (now, now))
    result = import_file(sqlite_engine, sheet(tmp_path, "row.xlsx", [["王伟", "", "1980-01-01", "", "", "", "新单位", "", ""]]))
    assert counts(result)[1:] == (0, 1, 0, 0), result.errors


def test_a_bulk_load_keeps_every_index(sqlite_engine, tmp_path, monkeypatch):
    # A load larger than the table rebuilds its indexes after inserting: all must come back.
    def indexes():
        with sqlite_engine.connect() as conn:
            return sorted(conn.exec_driver_sql("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index'"))

    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_person_added_by_another_system ON person (source)")
    before = indexes()
    monkeypatch.setattr(loaders.matching, "BULK_REBUILD_MIN", 2)
    executed = []
    real = loaders.matching.bulk_execute
    monkeypatch.setattr(loaders.matching, "bulk_execute", lambda conn, sql, rows: (executed.append(sql), real(conn, sql, rows)))
    rows = [[f"王{i}", "", "", make_id("330106", "19800101", f"{i:03d}"), "", "无党派", "", "青年", ""] for i in range(5)]
    result = import_file(sqlite_engine, sheet(tmp_path, "many.xlsx", rows))
    assert result.inserted == 5
    assert indexes() == before
    with sqlite_engine.connect() as conn:
        plan = " ".join(str(r) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM person WHERE source = 'x'"))
    assert "ix_person_added_by_another_system" in plan
    assert any(sql.startswith("INSERT INTO person ") for sql in executed)


def test_later_row_matches_a_person_inserted_earlier_in_the_same_file(engine, tmp_path):
    result = import_file(engine, sheet(tmp_path, "a.xlsx", [
        ["王伟", "", "", "", "13812345678", "无党派", "", "", ""],
        ["王伟", "", "", "", "13812345678", "", "乙公司", "", ""],
        ["王伟", "", "", ID_A, "13812345678", "", "", "", ""]]))
    assert counts(result) == (3, 1, 2, 0, 0)
    assert people(engine, "id_number", "organization") == [(ID_A, "乙公司")]


@pytest.mark.parametrize("row, message", [
    (["", "", "", ID_A, "", "无党派", "", "", ""], "姓名"),
    (["王伟", "", "", ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"), "", "无党派", "", "", ""], "身份证号"),
    (["王伟", "", "", "", "", "无党派", "甲公司", "", ""], "无法确认身份"),
    (["王伟", "", "1980-01-01", "", "", "", "甲公司", "", ""], "类别"),
    (["王伟", "", "1980-01-01", "", "", "火星人", "甲公司", "", ""], "类别"),
])
def test_rejected_rows(engine, tmp_path, row, message):
    result = import_file(engine, sheet(tmp_path, "a.xlsx", [row]))
    assert counts(result) == (1, 0, 0, 0, 1)
    assert message in result.errors[0]["message"] and result.errors[0]["row"] == 2
    assert count(engine, person) == 0


def test_missing_category_is_fine_for_an_update(engine, tmp_path):
    import_file(engine, sheet(tmp_path, "a.xlsx", [["王伟", "", "", ID_A, "", "无党派", "", "", ""]]))
    result = import_file(engine, sheet(tmp_path, "b.xlsx", [["王伟", "", "", ID_A, "", "", "甲公司", "", ""]]))
    assert counts(result) == (1, 0, 1, 0, 0)


# ---------------------------------------------------------------- transactions

def test_a_crash_in_the_middle_lands_nothing(engine, tmp_path, monkeypatch):
    path = staff_workbook(tmp_path / "名单.xlsx")
    before = version(engine)
    calls = []
    real = loaders.matching.bulk_execute

    def failing(conn, sql, rows):
        calls.append(sql)
        if len(calls) == 3:  # persons inserted and updated, then the disk "fails"
            raise OSError("disk full")
        return real(conn, sql, rows)

    monkeypatch.setattr(loaders.matching, "bulk_execute", failing)
    with pytest.raises(OSError):
        import_file(engine, path)
    assert len(calls) == 3
    for table in (person, import_batch, import_change, stage_event, person_tag, audit_log):
        assert count(engine, table) == 0, table.name
    assert version(engine) == before


def test_dry_run_writes_nothing(engine, tmp_path):
    plan = prepare_import(staff_workbook(tmp_path / "名单.xlsx"))
    result = apply_import(engine, plan, dry_run=True)
    before = version(engine)
    assert counts(result) == (11, 7, 1, 1, 2) and result.batch_id is None and result.persons_total == 7
    for table in (person, import_batch, audit_log):
        assert count(engine, table) == 0
    assert version(engine) == before


# ---------------------------------------------------------------- undo

def test_undo_restores_updated_and_removes_inserted(engine, tmp_path):
    first = import_file(engine, sheet(tmp_path, "a.xlsx", [
        ["王伟", "男", "", ID_A, "13812345678", "无党派", "甲公司", "青年", ""]]))
    with engine.connect() as conn:
        before = conn.execute(select(person)).all()
    second = import_file(engine, sheet(tmp_path, "b.xlsx", [
        ["王伟", "", "", ID_A, "", "", "乙公司", "政协委员", "培养"],
        ["李娜", "女", "", ID_LI, "", "知识分子", "", "专家", ""]]))
    assert counts(second) == (2, 1, 1, 0, 0)
    result = undo_batch(engine, second.batch_id, actor="tester")
    assert (result.removed, result.restored) == (1, 1)
    with engine.connect() as conn:
        assert conn.execute(select(person)).all() == before
        assert conn.execute(select(import_batch.c.status).where(import_batch.c.id == second.batch_id)).scalar() == "undone"
        assert conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()[-1] == "undo"
        stages = conn.execute(select(stage_event.c.stage)).scalars().all()
    assert stages == ["discover"]
    assert tags_of(engine, "王伟") == ["青年"]
    with pytest.raises(UndoRefused):
        undo_batch(engine, second.batch_id)
    undo_batch(engine, first.batch_id)
    assert count(engine, person) == 0


def test_undo_refuses_when_a_later_batch_touched_the_same_people(engine, tmp_path):
    first = import_file(engine, sheet(tmp_path, "a.xlsx", [["王伟", "", "", ID_A, "", "无党派", "甲", "", ""]]))
    second = import_file(engine, sheet(tmp_path, "b.xlsx", [["王伟", "", "", ID_A, "", "", "乙", "", ""]]))
    with pytest.raises(UndoRefused) as exc:
        undo_batch(engine, first.batch_id)
    assert str(second.batch_id) in exc.value.message and "later" in exc.value.message
    assert people(engine, "organization") == ["乙"]
    undo_batch(engine, second.batch_id)
    undo_batch(engine, first.batch_id)
    assert count(engine, person) == 0


def test_undo_is_not_blocked_by_a_later_unchanged_import(engine, tmp_path):
    path = sheet(tmp_path, "a.xlsx", [["王伟", "", "", ID_A, "", "无党派", "甲", "", ""]])
    first = import_file(engine, path)
    import_file(engine, path)
    undo_batch(engine, first.batch_id)
    assert count(engine, person) == 0


def test_undo_refuses_after_a_staff_edit(engine, tmp_path):
    first = import_file(engine, sheet(tmp_path, "a.xlsx", [["王伟", "", "", ID_A, "", "无党派", "甲", "", ""]]))
    with engine.begin() as conn:
        conn.execute(update(person).values(organization="丙", updated_via="staff", updated_at=clock.now()))
    with pytest.raises(UndoRefused) as exc:
        undo_batch(engine, first.batch_id)
    assert "王伟" in exc.value.message
    assert people(engine, "organization") == ["丙"]


def test_undo_unknown_batch(engine):
    with pytest.raises(BatchNotFound):
        undo_batch(engine, 999)


# ---------------------------------------------------------------- error report

def test_error_report_can_be_fixed_and_reimported(engine, tmp_path):
    path = staff_workbook(tmp_path / "名单.xlsx")
    result = import_file(engine, path)
    out = tmp_path / "errors.xlsx"
    assert write_error_report(result, out) == 2
    wb = load_workbook(out)
    assert wb.sheetnames == ["统战对象名单"]
    ws = wb["统战对象名单"]
    header = [c.value for c in ws[1]]
    assert header == ["序号", "姓名", "性别", "出生年月(例:1975.03)", "民族", "身份证号", "手机号码", "统战对象类别",
                      "所属区县", "街道", "工作单位", "标签", "错误原因"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[1] for r in rows] == ["周杰", "吴刚"]
    assert rows[1][7] == "外星人"  # as it was
    assert "Excel" in rows[0][-1] and "第 10 行" in rows[0][-1]
    # staff fix the two rows in the report and import that very file
    ws["F2"].value = make_id("330106", "19750312", "035")
    ws["H3"].value = "非公经济人士"
    wb.save(out)
    again = import_file(engine, out)
    assert counts(again) == (2, 2, 0, 0, 0)
