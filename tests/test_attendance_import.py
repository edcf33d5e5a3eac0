"""Sign-up and check-in sheets (SQLite and PostgreSQL): identity cascade, activities found or
created, forward-only status, one transaction, same file twice, CSV/xlsx, kind detection, error report."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select, text

import loaders.attendance
from loaders.api import (
    NoHeaderFound,
    apply_import,
    import_file,
    next_status,
    prepare_import,
    undo_batch,
    write_error_report,
)
from loaders.attendance import AMBIGUOUS_ACTIVITY, UNKNOWN_PERSON
from loaders.cli import main
from loaders.normalise import normalise_activity_kind, normalise_status
from store.schema import activity, audit_log, import_batch, meta, participation, person
from tests.data.staff_files import ID_LI, ID_WANG, ID_ZHAO, simple_workbook

HEADER = ["姓名", "身份证号", "手机", "出生日期", "活动名称", "活动日期", "状态", "活动类型", "主办单位"]
T0 = dt.datetime(2024, 3, 1, 8, 0)
TRAINING = "党外干部培训班"
TRAINING_AT = dt.datetime(2024, 5, 12, 9, 0)


def counts(result):
    return (result.rows_read, result.inserted, result.updated, result.unchanged, result.rejected)


@pytest.fixture
def store(engine):
    """王伟 (ID and mobile), 李娜 (mobile, no ID), 赵敏 (birth date only), two 张伟 with one mobile
    between them, and the training on 2024-05-12 09:00 where 王伟 already checked in."""
    def p(pid, name, id_number=None, phone=None, birth=None):
        return dict(id=pid, name=name, id_number=id_number, phone=phone, birth_date=birth,
                    category_code="non_party", stage="discover", created_at=T0, updated_at=T0)

    with engine.begin() as conn:
        conn.execute(insert(person), [
            p(1, "王伟", ID_WANG, "13800000001", dt.date(1975, 3, 12)),
            p(2, "李娜", None, "13900000002"),
            p(3, "赵敏", None, None, dt.date(1969, 1, 1)),
            p(4, "张伟", None, "13700000004"),
            p(5, "张伟", None, "13700000004"),
        ])
        conn.execute(insert(activity).values(id=1, title=TRAINING, kind="training", starts_at=TRAINING_AT,
                                              online=False))
        conn.execute(insert(participation).values(activity_id=1, person_id=1, status="checked_in",
                                                  registered_at=dt.datetime(2024, 5, 1),
                                                  checked_in_at=TRAINING_AT))
        if conn.dialect.name == "postgresql":  # explicit ids above: move the sequences past them
            for table in ("person", "activity"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
    return engine


def sheet(tmp_path, rows, name="签到表.xlsx", header=HEADER):
    return simple_workbook(tmp_path / name, header, rows, text_columns=("B", "C"))


def parts(engine):
    """{(activity title, person name): (status, registered_at, checked_in_at)}"""
    with engine.connect() as conn:
        rows = conn.execute(select(activity.c.title, person.c.name, participation.c.status,
                                   participation.c.registered_at, participation.c.checked_in_at)
                            .join(activity, activity.c.id == participation.c.activity_id)
                            .join(person, person.c.id == participation.c.person_id)).all()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def activities(engine):
    with engine.connect() as conn:
        return {r.title: r for r in conn.execute(select(activity).order_by(activity.c.id))}


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# ---------------------------------------------------------------- pure rules

@pytest.mark.parametrize("current, new, expected", [
    (None, "absent", "absent"),
    ("registered", "registered", "registered"),
    ("registered", "approved", "approved"),
    ("registered", "checked_in", "checked_in"),
    ("approved", "registered", "approved"),
    ("approved", "rejected", "rejected"),  # the later review decision wins
    ("rejected", "approved", "approved"),
    ("rejected", "checked_in", "checked_in"),
    ("checked_in", "registered", "checked_in"),  # a check-in is not undone by a later 报名
    ("checked_in", "approved", "checked_in"),
    ("checked_in", "absent", "checked_in"),
    ("absent", "checked_in", "checked_in"),  # a late arrival signed in
    ("absent", "rejected", "absent"),
])
def test_next_status(current, new, expected):
    assert next_status(current, new) == expected


@pytest.mark.parametrize("text, code", [
    ("报名", "registered"), ("审核通过", "approved"), ("未通过", "rejected"), ("签到", "checked_in"),
    ("已签到", "checked_in"), ("缺席", "absent"), ("checked_in", "checked_in"), (" 签　到 ", "checked_in"),
])
def test_status_synonyms(text, code):
    assert normalise_status(text)[0] == code


@pytest.mark.parametrize("text, kind, online", [
    ("培训", "training", False), ("培训班", "training", False), ("讲座", "lecture", False),
    ("线上讲座", "lecture", True), ("考察", "onsite", False), ("现场", "onsite", False),
    ("调研", "survey", False), ("座谈会", "other", False), ("survey", "survey", False),
])
def test_activity_kind_synonyms(text, kind, online):
    assert normalise_activity_kind(text)[0] == (kind, online)


# ---------------------------------------------------------------- the store

def test_identity_cascade_activities_and_counts(store, tmp_path):
    path = sheet(tmp_path, [
        ["王伟", ID_WANG, "", "", TRAINING, "2024-05-12", "报名", "", ""],  # (a) ID; already checked in: unchanged
        ["李娜", "", "139 0000 0002", "", TRAINING, "2024/5/12", "签到", "", ""],  # (b) name + mobile: inserted
        ["赵敏", "", "", "1969.01.01", "民营经济调研", "2024年6月1日", "报名", "调研", "区委统战部"],  # (c): new activity
        ["陌生人", "", "13600000009", "", TRAINING, "2024-05-12", "签到", "", ""],  # unknown person: rejected
        ["张伟", "", "13700000004", "", TRAINING, "2024-05-12", "签到", "", ""],  # two persons match: rejected
        ["李娜", "", "13900000002", "", "民营经济调研", "2024-06-01 14:30", "审核通过", "培训", ""],  # same day: found
    ])
    persons_before = count(store, person)
    result = import_file(store, path, imported_by="tester")
    assert result.content == "participations"
    assert counts(result) == (6, 3, 0, 1, 2)
    assert [(e["row"], e["message"]) for e in result.errors] == [(5, UNKNOWN_PERSON), (6, result.errors[1]["message"])]
    assert "多个" in result.errors[1]["message"]
    assert count(store, person) == persons_before == result.persons_total  # never a new person
    acts = activities(store)
    assert set(acts) == {TRAINING, "民营经济调研"}
    survey = acts["民营经济调研"]
    # Created from its first row: kind and organizer from that row, the date without a time.
    assert (survey.kind, survey.organizer, survey.starts_at, survey.online) == (
        "survey", "区委统战部", dt.datetime(2024, 6, 1), False)
    assert parts(store) == {
        (TRAINING, "王伟"): ("checked_in", dt.datetime(2024, 5, 1), TRAINING_AT),
        (TRAINING, "李娜"): ("checked_in", TRAINING_AT, TRAINING_AT),  # no time on the sheet: the activity's
        ("民营经济调研", "赵敏"): ("registered", dt.datetime(2024, 6, 1), None),
        ("民营经济调研", "李娜"): ("approved", dt.datetime(2024, 6, 1), None),
    }


def test_forward_only_across_files(store, tmp_path):
    def run(status, name):
        return counts(import_file(store, sheet(tmp_path, [["李娜", "", "13900000002", "", TRAINING, "2024-05-12",
                                                          status, "", ""]], name=name)))

    assert run("报名", "1.xlsx") == (1, 1, 0, 0, 0)
    assert run("审核通过", "2.xlsx") == (1, 0, 1, 0, 0)
    assert run("报名", "3.xlsx") == (1, 0, 0, 1, 0)  # lower: never overwrites
    assert parts(store)[(TRAINING, "李娜")][0] == "approved"
    assert run("缺席", "4.xlsx") == (1, 0, 1, 0, 0)
    assert parts(store)[(TRAINING, "李娜")] == ("absent", TRAINING_AT, None)
    assert run("签到", "5.xlsx") == (1, 0, 1, 0, 0)  # absent -> checked_in: a late arrival
    assert parts(store)[(TRAINING, "李娜")] == ("checked_in", TRAINING_AT, TRAINING_AT)
    assert run("缺席", "6.xlsx") == (1, 0, 0, 1, 0)  # a check-in is never undone
    assert run("审核通过", "7.xlsx") == (1, 0, 0, 1, 0)
    assert parts(store)[(TRAINING, "李娜")][0] == "checked_in"


def test_forward_only_within_one_file(store, tmp_path):
    path = sheet(tmp_path, [
        ["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "签到", "", ""],
        ["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "报名", "", ""],
        ["赵敏", "", "", "1969-01-01", TRAINING, "2024-05-12", "未通过", "", ""],
        ["赵敏", "", "", "1969-01-01", TRAINING, "2024-05-12", "审核通过", "", ""],
    ])
    assert counts(import_file(store, path)) == (4, 2, 1, 1, 0)
    got = parts(store)
    assert got[(TRAINING, "李娜")][0] == "checked_in"
    assert got[(TRAINING, "赵敏")][0] == "approved"


def test_times_from_the_sheet(store, tmp_path):
    header = HEADER + ["报名时间", "签到时间"]
    path = sheet(tmp_path, [
        ["李娜", "", "13900000002", "", "夜间讲座", "2024-07-01 19:00", "签到", "线上讲座", "", "2024-06-20 10:15",
         "2024-07-01 18:55"],
    ], header=header)
    assert counts(import_file(store, path)) == (1, 1, 0, 0, 0)
    lecture = activities(store)["夜间讲座"]
    assert (lecture.kind, lecture.online, lecture.starts_at) == ("lecture", True, dt.datetime(2024, 7, 1, 19, 0))
    assert parts(store)[("夜间讲座", "李娜")] == (
        "checked_in", dt.datetime(2024, 6, 20, 10, 15), dt.datetime(2024, 7, 1, 18, 55))


def test_same_title_twice_on_one_day(store, tmp_path):
    with store.begin() as conn:
        afternoon = conn.execute(insert(activity).values(
            title=TRAINING, kind="training", starts_at=dt.datetime(2024, 5, 12, 14, 0), online=False)
            .returning(activity.c.id)).scalar_one()
    path = sheet(tmp_path, [
        ["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "签到", "", ""],  # which one? rejected
        ["李娜", "", "13900000002", "", TRAINING, "2024-05-12 14:00", "签到", "", ""],  # the afternoon one
    ])
    result = import_file(store, path)
    assert counts(result) == (2, 1, 0, 0, 1)
    assert result.errors[0]["message"] == AMBIGUOUS_ACTIVITY
    with store.connect() as conn:
        assert conn.execute(select(participation.c.activity_id).where(participation.c.person_id == 2)).scalar() \
            == afternoon


def test_same_file_twice_changes_nothing(store, tmp_path):
    path = sheet(tmp_path, [
        ["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "签到", "", ""],
        ["赵敏", "", "", "1969.01.01", "新建活动", "2024-08-08", "报名", "考察", ""],
        ["王伟", ID_WANG, "", "", "新建活动", "2024-08-08", "审核通过", "", ""],
    ])
    first = import_file(store, path)
    assert counts(first) == (3, 3, 0, 0, 0)
    before = (parts(store), {t: tuple(r) for t, r in activities(store).items()})
    second = import_file(store, path)
    assert counts(second) == (3, 0, 0, 3, 0)
    assert (parts(store), {t: tuple(r) for t, r in activities(store).items()}) == before
    assert second.earlier_batches == [first.batch_id]
    assert any(str(first.batch_id) in n for n in second.notices)


def test_one_transaction_with_batch_audit_and_version(store, tmp_path):
    path = sheet(tmp_path, [["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "签到", "", ""],
                            ["陌生人", "", "", "1990-01-01", TRAINING, "2024-05-12", "签到", "", ""]])
    with store.connect() as conn:
        version = int(conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar() or 0)
    result = import_file(store, path, imported_by="clerk")
    with store.connect() as conn:
        batch = conn.execute(select(import_batch)).one()
        detail = json.loads(conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "import")).scalar_one())
        new_version = int(conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar())
    assert (batch.id, batch.status, batch.rows_read, batch.inserted, batch.rejected, batch.imported_by) == (
        result.batch_id, "done", 2, 1, 1, "clerk")
    assert detail["kind"] == "participations" and detail["batch_id"] == batch.id
    assert new_version == version + 1


def test_failure_rolls_back_everything(store, tmp_path, monkeypatch):
    path = sheet(tmp_path, [["李娜", "", "13900000002", "", "新活动", "2024-05-12", "签到", "", ""]])
    real_write = loaders.attendance._write

    def write_then_fail(*args):
        real_write(*args)
        raise RuntimeError("disk full")

    monkeypatch.setattr(loaders.attendance, "_write", write_then_fail)
    with pytest.raises(RuntimeError):
        import_file(store, path)
    assert (count(store, import_batch), count(store, activity), count(store, participation)) == (0, 1, 1)


def test_dry_run_writes_nothing(store, tmp_path):
    path = sheet(tmp_path, [["李娜", "", "13900000002", "", "新活动", "2024-05-12", "签到", "", ""]])
    result = apply_import(store, prepare_import(path), dry_run=True)
    assert counts(result) == (1, 1, 0, 0, 0) and result.batch_id is None
    assert (count(store, import_batch), count(store, activity), count(store, participation)) == (0, 1, 1)


def test_undo_puts_participations_back(store, tmp_path):
    path = sheet(tmp_path, [
        ["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "审核通过", "", ""],
        ["赵敏", "", "", "1969.01.01", "新活动", "2024-08-08", "报名", "", ""],
    ])
    import_file(store, path)
    before = parts(store)
    moved = import_file(store, sheet(tmp_path, [
        ["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "签到", "", ""],
        ["王伟", ID_WANG, "", "", "另一个活动", "2024-09-09", "报名", "", ""]], name="2.xlsx"))
    assert counts(moved) == (2, 1, 1, 0, 0)
    undone = undo_batch(store, moved.batch_id, actor="tester")
    assert (undone.kind, undone.removed, undone.restored) == ("participations", 1, 1)
    assert parts(store) == before
    assert "另一个活动" not in activities(store)


# ---------------------------------------------------------------- files, kinds, CLI, error report

ROWS = [["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "签到", "", ""],
        ["赵敏", "", "", "1969-01-01", "新活动", "2024-08-08", "报名", "讲座", "某单位"],
        ["无名氏", "", "", "", "新活动", "2024-08-08", "报名", "", ""]]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_csv_and_xlsx(store, tmp_path, fmt):
    if fmt == "xlsx":
        path = sheet(tmp_path, ROWS)
    else:
        path = tmp_path / "签到表.csv"
        path.write_text("\n".join(",".join(r) for r in [HEADER] + ROWS) + "\n", encoding="utf-8-sig")
    result = import_file(store, path)
    assert counts(result) == (3, 2, 0, 0, 1)
    assert result.errors[0]["sheet"] == (None if fmt == "csv" else "Sheet1")
    assert parts(store)[("新活动", "赵敏")] == ("registered", dt.datetime(2024, 8, 8), None)
    assert activities(store)["新活动"].kind == "lecture"


def test_kind_told_by_headers(store, tmp_path):
    attendance = prepare_import(sheet(tmp_path, ROWS))
    assert attendance.content == "participations"
    mapping = attendance.sheets[0].mapping
    assert mapping["活动名称"] == "activity_title" and mapping["状态"] == "status"
    people = prepare_import(simple_workbook(tmp_path / "名单.xlsx", ["姓名", "身份证号", "统战对象类别"],
                                            [["王伟", ID_WANG, "无党派人士"]]))
    assert people.content == "persons"


def test_attendance_sheet_does_not_edit_persons(store, tmp_path):
    path = sheet(tmp_path, [["李娜", "", "13900000002", "", TRAINING, "2024-05-12", "签到", "", "", "新单位"]],
                 header=HEADER + ["工作单位"])
    plan = prepare_import(path)
    column = [c for c in plan.sheets[0].columns if c.label == "工作单位"][0]
    assert column.field is None and column.note
    import_file(store, path)
    with store.connect() as conn:
        assert conn.execute(select(person.c.organization).where(person.c.id == 2)).scalar() is None


def run_cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_detects_kind_and_prints_the_same_json(store_url, store, tmp_path, capsys):
    path = sheet(tmp_path, ROWS)
    status, out, _err = run_cli(capsys, "import", str(path), "--db", store_url, "--json")
    assert status == 0
    obj = json.loads(out)
    assert list(obj) == ["file", "rows_read", "inserted", "updated", "unchanged", "rejected", "warnings",
                         "persons_total", "batch_id", "errors", "warning_list"]
    assert (obj["rows_read"], obj["inserted"], obj["rejected"], obj["persons_total"]) == (3, 2, 1, 5)
    assert obj["errors"][0]["row"] == 4


def test_cli_kind_override(store_url, store, tmp_path, capsys):
    people = simple_workbook(tmp_path / "名单.xlsx", ["姓名", "身份证号", "统战对象类别"], [["钱七", ID_ZHAO, "无党派人士"]])
    status, out, err = run_cli(capsys, "import", str(people), "--db", store_url, "--kind", "participations")
    assert status == 1 and out == "" and "活动名称" in err
    assert count(store, person) == 5
    # Forced the other way, an attendance sheet is read as a person list: its activity columns are not read.
    forced = sheet(tmp_path, [["李娜", ID_LI, "13900000002", "", TRAINING, "2024-05-12", "签到", "", ""]])
    plan = prepare_import(forced, kind="persons")
    assert plan.content == "persons"
    assert "activity_title" not in plan.sheets[0].mapping.values()
    status, out, _err = run_cli(capsys, "import", str(forced), "--db", store_url, "--kind", "persons", "--json")
    assert status == 0 and json.loads(out)["updated"] == 1  # 李娜 (by mobile) gets her ID number
    assert count(store, participation) == 1


def test_no_attendance_header(tmp_path):
    with pytest.raises(NoHeaderFound):
        prepare_import(simple_workbook(tmp_path / "x.xlsx", ["姓名", "手机"], [["王伟", "13800000001"]]),
                       kind="participations")


def test_error_report(store, tmp_path):
    path = sheet(tmp_path, ROWS + [["李娜", "", "13900000002", "", "", "2024-05-12", "签到", "", ""],
                                   ["李娜", "", "13900000002", "", TRAINING, "明天", "迟到", "", ""]])
    result = import_file(store, path)
    assert counts(result) == (5, 2, 0, 0, 3)
    assert "活动名称" in result.errors[1]["message"] and result.errors[1]["column"] == "活动名称"
    assert result.errors[2]["column"] == "活动日期" and "迟到" in result.errors[2]["message"]
    out = tmp_path / "rejected.xlsx"
    assert write_error_report(result, out) == 3
    ws = load_workbook(out).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == HEADER + ["错误原因"]
    assert [r[0] for r in rows[1:]] == ["无名氏", "李娜", "李娜"]
    assert rows[1][-1].startswith("第 4 行：")
    # The report maps the same way when imported again.
    again = prepare_import(out)
    assert again.content == "participations" and again.rows_read == 3
