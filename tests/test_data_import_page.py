"""The import page under AppTest: upload, mapping, dry run, commit, history and undo, with the store checked."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, insert, select

from store import accounts
from store.schema import column_mapping, import_batch, person
from tests.data.staff_files import ID_LI, ID_WANG

PAGE = "pages/data_import.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ID_BAD = "330106197503120010"  # wrong check digit
NOW = dt.datetime(2025, 1, 2, 3, 4, 5)


def workbook_bytes(header: list, rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEADER = ["姓名", "性别", "身份证号", "手机号码", "统战对象类别", "所属区县"]
# Into a store holding only 李娜 (西湖区): 王伟 inserted, 李娜 updated (district -> 拱墅区),
# 吴刚 rejected (unknown category), 赵六 rejected (invalid ID number).
ROWS = [
    ["王伟", "男", ID_WANG, "13812345678", "非公经济人士", "西湖区"],
    ["李娜", "女", ID_LI, "", "党外知识分子", "拱墅区"],
    ["吴刚", "男", "", "13600001111", "外星人", ""],
    ["赵六", "", ID_BAD, "", "其他", ""],
]


def seed_li(engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(person).values(name="李娜", id_number=ID_LI, category_code="intellectual",
                                           district_code="330106", created_at=NOW, updated_at=NOW))


def persons(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(person.c.name, person.c.district_code)).all())


def batches(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(select(import_batch.c.id, import_batch.c.status, import_batch.c.imported_by,
                                   import_batch.c.inserted, import_batch.c.updated, import_batch.c.rejected)
                            .order_by(import_batch.c.id)).all()


def open_page(make_app, engine):
    at = make_app(engine.url.render_as_string(hide_password=False))
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def upload(at, name: str, data: bytes, mime: str = XLSX):
    at.file_uploader[0].set_value((name, data, mime)).run()
    assert not at.exception
    return at


def frame(at, column: str):
    """The first table holding `column` (plain st.dataframe elements carry no key under AppTest)."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with a {column!r} column")


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_dry_run_commit_undo(engine, make_app):
    seed_li(engine)
    at = upload(open_page(make_app, engine), "名单.xlsx", workbook_bytes(HEADER, ROWS))
    # Dry run: the counts and the rejected rows with their reasons, nothing written.
    assert metrics(at) == {"读取行数": "4", "将新增": "1", "将更新": "1", "无变化": "0", "将拒绝": "2", "警告": "0"}
    rejected = frame(at, "message")
    assert list(rejected["row"]) == [4, 5]
    assert list(rejected["column"]) == ["统战对象类别", "身份证号"]
    assert rejected["sheet"].iloc[0] == "Sheet"
    assert "类别" in rejected["message"].iloc[0] and "身份证" in rejected["message"].iloc[1]
    assert persons(engine) == {"李娜": "330106"}
    assert batches(engine) == []

    at.button(key="imp_commit").click().run()
    assert not at.exception
    assert persons(engine) == {"李娜": "330105", "王伟": "330106"}
    assert batches(engine) == [(1, "done", "admin", 1, 1, 2)]
    assert "第 1 批" in texts(at.success) and "新增 1" in texts(at.success)
    assert not at.file_uploader[0].value  # a fresh uploader after the commit
    history = frame(at, "batch")
    assert list(history["batch"]) == [1] and list(history["status"]) == ["完成"]

    # Undo asks first; cancelling changes nothing.
    at.button(key="imp_undo").click().run()
    assert "确定撤销第 1 批" in texts(at.warning)
    at.button(key="imp_undo_no").click().run()
    assert batches(engine)[0][1] == "done"
    at.button(key="imp_undo").click().run()
    at.button(key="imp_undo_yes").click().run()
    assert not at.exception
    assert "已撤销第 1 批" in texts(at.success)
    assert persons(engine) == {"李娜": "330106"}
    assert batches(engine)[0][1] == "undone"
    assert list(frame(at, "batch")["status"]) == ["已撤销"]
    assert not any(b.key == "imp_undo" for b in at.button)  # nothing left to undo


def test_a_cause_without_a_column_shows_a_dash_not_none(engine, make_app):
    """A message about the whole row (an unrecognised category column) has no column: its cell shows
    a dash, as every table's gap does, not Streamlit's "None"."""
    at = upload(open_page(make_app, engine), "名单.xlsx",
                workbook_bytes(["姓名", "手机", "对象分组"], [["王伟", "13812345678", "无党派人士"]]))
    rejected = frame(at, "message")
    assert rejected["column"].tolist() == [None]
    assert [d.proto.placeholder for d in at.dataframe] == ["—"] * len(at.dataframe)


def test_same_file_warns_with_when_and_who(engine, make_app):
    data = workbook_bytes(HEADER, ROWS[:2])
    at = upload(open_page(make_app, engine), "a.xlsx", data)
    assert not at.warning
    at.button(key="imp_commit").click().run()
    upload(at, "renamed.xlsx", data)
    warning = texts(at.warning)
    assert "第 1 批" in warning and "admin" in warning
    assert metrics(at)["无变化"] == "2" and metrics(at)["将新增"] == "0"
    # A different file gives no warning.
    upload(at, "b.xlsx", workbook_bytes(HEADER, ROWS[:1]))
    assert not at.warning


def test_same_file_after_an_undo_says_it_writes_again(engine, make_app):
    data = workbook_bytes(HEADER, ROWS[:2])
    at = upload(open_page(make_app, engine), "a.xlsx", data)
    at.button(key="imp_commit").click().run()
    at.button(key="imp_undo").click().run()
    at.button(key="imp_undo_yes").click().run()
    assert batches(engine)[0][1] == "undone"
    upload(at, "a.xlsx", data)
    warning = texts(at.warning)
    assert "第 1 批" in warning and "已撤销" in warning
    assert "不会改变数据" not in warning and "仍会改变数据：新增 2" in warning
    assert metrics(at)["将新增"] == "2"  # what the notice says is what the dry run says


def test_undo_refused_shows_the_reason(engine, make_app):
    at = upload(open_page(make_app, engine), "a.xlsx", workbook_bytes(HEADER, ROWS[:1]))
    at.button(key="imp_commit").click().run()
    changed = [["王伟", "男", ID_WANG, "13812345678", "非公经济人士", "上城区"]]
    upload(at, "b.xlsx", workbook_bytes(HEADER, changed))
    at.button(key="imp_commit").click().run()
    assert [b[1] for b in batches(engine)] == ["done", "done"]
    at.selectbox(key="imp_undo_choice").set_value(1).run()
    at.button(key="imp_undo").click().run()
    at.button(key="imp_undo_yes").click().run()
    assert not at.exception
    assert "无法撤销" in texts(at.error) and "第 2 批" in texts(at.error)
    assert [b[1] for b in batches(engine)] == ["done", "done"]
    assert persons(engine) == {"王伟": "330102"}


UNUSUAL = ["姓名", "移动电话号", "统战对象类别"]  # 移动电话号 is no known synonym


def test_mapping_override_is_saved_and_reused(engine, make_app):
    rows = [["王伟", "13812345678", "非公经济人士"], ["李娜", "13912345678", "党外知识分子"]]
    at = upload(open_page(make_app, engine), "unit1.xlsx", workbook_bytes(UNUSUAL, rows))
    # Unmapped, the rows have nothing that identifies the person.
    assert metrics(at)["将拒绝"] == "2"
    assert "移动电话号" in texts(at.caption)
    at.selectbox(key="imp_map_0_0_1").set_value("phone")
    at.button(key="FormSubmitter:imp_mapping_0-应用并保存映射").click().run()
    assert not at.exception
    assert "已保存列映射" in texts(at.success)
    assert metrics(at)["将新增"] == "2" and metrics(at)["将拒绝"] == "0"
    with engine.connect() as conn:
        saved = conn.execute(select(column_mapping.c.mapping, column_mapping.c.saved_by)).all()
    assert [(json.loads(m), by) for m, by in saved] == [({"移动电话号": "phone"}, "admin")]

    # Next month's file from the same unit: same labels (another order, other spacing) map themselves.
    header = ["统战对象类别", "姓　名", "移动电话号"]
    at = upload(open_page(make_app, engine), "unit1-next.xlsx",
                workbook_bytes(header, [["非公经济人士", "孙悦", "13700001111"]]))
    assert "已自动套用保存的列映射" in texts(at.success) and "admin" in texts(at.success)
    assert metrics(at)["将新增"] == "1" and metrics(at)["将拒绝"] == "0"
    at.button(key="imp_commit").click().run()
    with engine.connect() as conn:
        assert conn.execute(select(person.c.phone).where(person.c.name == "孙悦")).scalar_one() == "13700001111"


def test_corrected_error_report_maps_as_the_original_did(engine, make_app):
    """The report adds 错误原因 to the header: the mapping saved for the original still applies."""
    from openpyxl import load_workbook

    from loaders.api import apply_import, prepare_import, write_error_report

    rows = [["王伟", "13812345678", "非公经济人士"], ["吴刚", "13600001111", "外星人"]]
    original = workbook_bytes(UNUSUAL, rows)
    at = upload(open_page(make_app, engine), "unit1.xlsx", original)
    at.selectbox(key="imp_map_0_0_1").set_value("phone")
    at.button(key="FormSubmitter:imp_mapping_0-应用并保存映射").click().run()
    assert metrics(at)["将新增"] == "1" and metrics(at)["将拒绝"] == "1"
    at.button(key="imp_commit").click().run()

    # The clerk downloads the report (the page's download is this call), fixes the category, uploads it.
    report = io.BytesIO()
    write_error_report(apply_import(engine, prepare_import(original, "unit1.xlsx", {"移动电话号": "phone"}),
                                    dry_run=True), report)
    wb = load_workbook(io.BytesIO(report.getvalue()))
    ws = wb.active
    assert [c.value for c in ws[1]] == [*UNUSUAL, "错误原因"]
    ws["C2"] = "无党派人士"
    fixed = io.BytesIO()
    wb.save(fixed)
    at = upload(open_page(make_app, engine), "unit1-错误报告.xlsx", fixed.getvalue())
    assert "已自动套用保存的列映射" in texts(at.success)
    mapped = frame(at, "field")
    assert dict(zip(mapped["label"], mapped["field"])) == {
        "姓名": "姓名", "移动电话号": "手机", "统战对象类别": "统战对象类别", "错误原因": "（不导入）"}
    assert metrics(at)["将新增"] == "1" and metrics(at)["将拒绝"] == "0"
    assert "错误原因" not in texts(at.caption)  # not listed as an unrecognised column either


def test_mapping_back_to_automatic_forgets_it(engine, make_app):
    at = upload(open_page(make_app, engine), "u.xlsx", workbook_bytes(UNUSUAL, [["王伟", "13812345678", "非公经济人士"]]))
    at.selectbox(key="imp_map_0_0_1").set_value("phone")
    at.button(key="FormSubmitter:imp_mapping_0-应用并保存映射").click().run()
    at.selectbox(key="imp_map_1_0_1").set_value("")
    at.button(key="FormSubmitter:imp_mapping_1-应用并保存映射").click().run()
    assert not at.exception
    assert "已恢复自动识别" in texts(at.success)
    assert metrics(at)["将拒绝"] == "1"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(column_mapping)).scalar_one() == 0


@pytest.mark.parametrize("name, data, expected", [
    ("broken.xlsx", b"this is not a workbook at all", "无法读取这个文件"),
    ("empty.csv", b"", "无法读取这个文件"),
    ("noheader.csv", "甲,乙\n1,2\n".encode("utf-8"), "没有找到表头"),
    ("renamed.xlsx", "姓名,手机\n王伟,13812345678\n".encode("utf-8"), "无法读取这个文件"),
])
def test_broken_file_gets_a_friendly_message(sqlite_engine, make_app, name, data, expected):
    at = upload(open_page(make_app, sqlite_engine), name, data)
    assert expected in texts(at.error)
    assert not at.metric and not any(b.key == "imp_commit" for b in at.button)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(import_batch)).scalar_one() == 0


def test_file_over_the_limit_is_refused(sqlite_engine, make_app, monkeypatch):
    at = make_app(sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BRAIN_UPLOAD_LIMIT_MB", "1")
    at.run()
    at.switch_page(PAGE).run()
    big = "姓名,手机\n".encode() + b"x" * (1024 * 1024 + 10)
    upload(at, "big.csv", big, "text/csv")
    assert "文件太大" in texts(at.error) and "1 MB" in texts(at.error)
    assert not at.metric


def test_empty_store_shows_no_history(sqlite_engine, make_app):
    at = open_page(make_app, sqlite_engine)
    assert "还没有导入记录" in texts(at.info)
    assert at.title[0].value == "数据导入"


def test_staff_cannot_reach_the_page(sqlite_engine, make_app, monkeypatch):
    accounts.create_account(sqlite_engine, "clerk", "a-long-password", "staff")
    at = make_app(sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at.run()
    at.text_input[0].input("clerk")
    at.text_input[1].input("a-long-password")
    at.button[0].click().run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE).run()


def test_page_guard_refuses_staff_when_run_on_its_own(sqlite_engine, monkeypatch):
    """The guard holds even without app.py's navigation in front of the page."""
    from streamlit.testing.v1 import AppTest

    from store.scope import EVERYTHING
    from ui.auth import Viewer

    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / PAGE), default_timeout=60)
    at.session_state["viewer"] = Viewer(name="clerk", role="staff", scope=EVERYTHING)
    at.session_state["last_seen"] = dt.datetime.now().timestamp()
    at.run()
    assert not at.exception
    assert at.error and not at.file_uploader


def test_error_report_in_memory_imports_the_same_way(sqlite_engine):
    """The page's download is write_error_report into a BytesIO: an xlsx that maps the same way."""
    from openpyxl import load_workbook

    from loaders.api import apply_import, prepare_import, write_error_report

    result = apply_import(sqlite_engine, prepare_import(workbook_bytes(HEADER, ROWS), "名单.xlsx"), dry_run=True)
    buf = io.BytesIO()
    assert write_error_report(result, buf) == 2
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    rows = list(ws.values)
    assert rows[0] == (*HEADER, "错误原因")
    assert [r[0] for r in rows[1:]] == ["吴刚", "赵六"]
    assert rows[2][-1].startswith("第 5 行：")
    again = prepare_import(buf.getvalue(), "report.xlsx")
    assert again.sheets[0].mapping == {label: f for label, f in zip(HEADER, (
        "name", "gender", "id_number", "phone", "category", "district"))}
    assert again.rows_read == 2


@pytest.mark.slow
def test_demo_store_smoke(sqlite_engine, make_app):
    """On a realistic store: a file naming existing persons by ID updates them, and undo restores them."""
    from loaders.demo import generate_demo

    generate_demo(sqlite_engine, persons=2000, seed=7)
    with sqlite_engine.connect() as conn:
        known = conn.execute(select(person.c.name, person.c.id_number, person.c.organization)
                             .where(person.c.id_number.is_not(None)).order_by(person.c.id).limit(3)).all()
        total = conn.execute(select(func.count()).select_from(person)).scalar_one()
    assert len(known) == 3
    rows = [[name, id_number, f"新单位{k}"] for k, (name, id_number, _org) in enumerate(known)]
    at = upload(open_page(make_app, sqlite_engine), "更新.xlsx", workbook_bytes(["姓名", "身份证号", "工作单位"], rows))
    assert metrics(at)["将更新"] == "3" and metrics(at)["将新增"] == "0"
    at.button(key="imp_commit").click().run()
    assert not at.exception
    with sqlite_engine.connect() as conn:
        orgs = dict(conn.execute(select(person.c.id_number, person.c.organization)
                                 .where(person.c.id_number.in_([k[1] for k in known]))).all())
    assert orgs == {i: f"新单位{k}" for k, (_n, i, _o) in enumerate(known)}
    at.button(key="imp_undo").click().run()
    at.button(key="imp_undo_yes").click().run()
    assert not at.exception and "恢复 3 人" in texts(at.success)
    with sqlite_engine.connect() as conn:
        orgs = dict(conn.execute(select(person.c.id_number, person.c.organization)
                                 .where(person.c.id_number.in_([k[1] for k in known]))).all())
        assert conn.execute(select(func.count()).select_from(person)).scalar_one() == total
    assert orgs == {i: o for _n, i, o in known}


# ---- attendance sheets

def test_every_field_has_a_text_in_both_languages():
    from loaders.reference import ALL_FIELDS
    from ui.i18n import all_texts

    texts = all_texts()
    for fld in (*ALL_FIELDS, "none"):
        zh, en = texts[f"import.field.{fld}"]
        assert zh.strip() and en.strip() and fld not in zh, fld


def test_attendance_sheet_shows_and_keeps_its_fields(engine, make_app):
    seed_li(engine)
    header = ["姓名", "身份证号", "活动名称", "活动日期", "状态", "签到时间"]
    at = upload(open_page(make_app, engine), "签到.xlsx",
                workbook_bytes(header, [["李娜", ID_LI, "新年座谈会", "2025-01-10", "签到", "2025-01-10 14:05"]]))
    mapped = frame(at, "field")
    assert list(mapped["field"]) == ["姓名", "身份证号", "活动名称", "活动日期", "状态（报名/签到）", "签到时间"]
    assert not [v for v in mapped["field"] if "import.field" in v]
    assert metrics(at)["将新增"] == "1"
    # The mapping form offers the attendance fields and keeps them when applied unchanged.
    assert at.selectbox(key="imp_map_0_0_2").value == "activity_title"
    assert at.selectbox(key="imp_map_0_0_5").options == [
        "（不导入）", "姓名", "出生日期", "身份证号", "手机", "活动名称", "活动日期", "状态（报名/签到）", "活动类型",
        "主办单位", "报名时间", "签到时间"]
    at.button(key="FormSubmitter:imp_mapping_0-应用并保存映射").click().run()
    assert not at.exception and not at.error
    assert metrics(at)["将新增"] == "1"


def test_undoing_an_attendance_batch_describes_sign_ups_not_persons(engine, make_app):
    seed_li(engine)
    with engine.begin() as conn:
        conn.execute(insert(person).values(name="王伟", id_number=ID_WANG, category_code="other", created_at=NOW,
                                           updated_at=NOW))
    header = ["姓名", "身份证号", "活动名称", "活动日期", "状态"]
    rows = [[name, id_number, title, "2025-01-10", "签到"] for title in ("新年座谈会", "读书会")
            for name, id_number in (("李娜", ID_LI), ("王伟", ID_WANG))]
    at = upload(open_page(make_app, engine), "签到.xlsx", workbook_bytes(header, rows))
    at.button(key="imp_commit").click().run()
    assert batches(engine) == [(1, "done", "admin", 4, 0, 0)]
    at.button(key="imp_undo").click().run()
    question = texts(at.warning)
    assert "4 条报名/签到记录将被删除" in question and "新建的 2 个活动" in question
    assert "人将被删除" not in question and "人员信息不受影响" in question
    at.button(key="imp_undo_yes").click().run()
    assert not at.exception
    assert "删除报名/签到记录 4 条" in texts(at.success)
    assert persons(engine) == {"李娜": "330106", "王伟": None}  # no person deleted


# ---- user text shown through markdown stays literal

HOSTILE_HEADER = "![x](http://127.0.0.1:9/header.png)"
HOSTILE_SHEET = "# _斜_ `码` $x$ www.evil.example"  # a sheet name cannot hold * [ ] : / \
HOSTILE_SKIPPED = "说明 ~~删~~ $y$ www.evil2.cn"
HOSTILE_FILE = "[链接](http://evil.example/):smile:名单.xlsx"


def hostile_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = HOSTILE_SHEET
    ws.append(["姓名", "手机", "统战对象类别", HOSTILE_HEADER])
    ws.append(["王伟", "13812345678", "非公经济人士", "x"])
    notes = wb.create_sheet(HOSTILE_SKIPPED)
    notes.append(["填表说明"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def markdown_texts(at) -> list[str]:
    """Every text AppTest sees that Streamlit renders as markdown (bodies and widget labels)."""
    bodies = [e.value for kind in (at.markdown, at.caption, at.info, at.warning, at.error, at.success, at.title,
                                   at.subheader) for e in kind]
    return bodies + [w.label for w in at.selectbox] + [b.label for b in at.button]


def assert_literal(at, *raw: str) -> None:
    from ui.markdown import escape_markdown

    shown = markdown_texts(at)
    for text in raw:
        assert not [s for s in shown if text in s], text  # never as markup
        assert any(escape_markdown(text) in s for s in shown), text  # always escaped


def test_user_text_on_the_page_is_escaped_markdown(engine, make_app):
    at = upload(open_page(make_app, engine), HOSTILE_FILE, hostile_workbook())
    assert metrics(at)["将新增"] == "1"
    assert_literal(at, HOSTILE_HEADER, HOSTILE_SHEET, HOSTILE_SKIPPED)
    at.button(key="imp_commit").click().run()
    assert not at.exception
    assert_literal(at, HOSTILE_FILE)  # the flash naming the imported file
    at.button(key="imp_undo").click().run()
    assert_literal(at, HOSTILE_FILE)  # the undo question naming it
