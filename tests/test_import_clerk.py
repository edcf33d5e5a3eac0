"""The import as a clerk meets it: recognised headers, messages that name the real cause, and the
decisions the importer takes on its own shown as warnings (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from loaders.api import apply_import, prepare_import
from loaders.cli import main
from store.schema import person
from tests.data.staff_files import ID_LI, ID_WANG, simple_workbook


def dry(engine, path, **kwargs):
    return apply_import(engine, prepare_import(path, **kwargs), dry_run=True)


def commit(engine, path):
    return apply_import(engine, prepare_import(path), imported_by="clerk")


# ---------------------------------------------------------------- headers and their messages

@pytest.mark.parametrize("header", ["统战类别", "统战对象类别", "人士类别", "类别"])
def test_a_roster_headed_tongzhan_leibie_imports(engine, tmp_path, header):
    rows = [[f"人员{i:02d}", f"1380000{i:04d}", "无党派人士"] for i in range(30)]
    result = dry(engine, simple_workbook(tmp_path / "名单.xlsx", ["姓名", "手机", header], rows))
    assert (result.inserted, result.rejected) == (30, 0)


def test_an_unrecognised_category_column_is_named_as_the_cause(engine, tmp_path):
    path = simple_workbook(tmp_path / "名单.xlsx", ["姓名", "手机", "对象分组"], [["王伟", "13812345678", "无党派人士"]])
    [error] = dry(engine, path).errors
    assert "请填写类别" not in error["message"]
    assert "没有识别出「统战对象类别」列" in error["message"] and "「对象分组」" in error["message"]
    assert "column not recognised" in error["message"] and "对象分组" in error["message"].split(" · ")[1]
    assert error["column"] is None


def test_a_sheet_without_a_category_column_says_so(engine, tmp_path):
    path = simple_workbook(tmp_path / "名单.xlsx", ["姓名", "手机"], [["王伟", "13812345678"]])
    [error] = dry(engine, path).errors
    assert "表中没有「统战对象类别」列" in error["message"] and "has no category column" in error["message"]


def test_an_empty_category_cell_still_asks_to_fill_it_in(engine, tmp_path):
    path = simple_workbook(tmp_path / "名单.xlsx", ["姓名", "手机", "统战类别"], [["王伟", "13812345678", ""]])
    [error] = dry(engine, path).errors
    assert "请填写类别" in error["message"] and error["column"] == "统战类别"


def test_unrecognised_identity_columns_are_named_as_the_cause(engine, tmp_path):
    path = simple_workbook(tmp_path / "名单.xlsx", ["姓名", "移动电话号", "类别"], [["王伟", "13812345678", "无党派人士"]])
    [error] = dry(engine, path).errors
    assert "没有识别出「身份证号、手机、出生日期」列" in error["message"] and "「移动电话号」" in error["message"]
    assert "无法确认身份" not in error["message"]


def test_an_unrecognised_attendance_status_column_is_named(engine, tmp_path):
    commit(engine, simple_workbook(tmp_path / "p.xlsx", ["姓名", "手机", "类别"], [["王伟", "13812345678", "无党派人士"]]))
    path = simple_workbook(tmp_path / "签到.xlsx", ["姓名", "手机", "活动名称", "活动日期", "到会"],
                           [["王伟", "13812345678", "新年座谈会", "2025-01-10", "签到"]])
    [error] = dry(engine, path).errors
    assert "没有识别出「状态」列" in error["message"] and "「到会」" in error["message"]


# ---------------------------------------------------------------- decisions shown as warnings

HEADER = ["姓名", "身份证号", "手机", "类别", "出生日期", "性别", "所属区县", "街道", "工作单位", "标签"]


def row(name="王伟", id_number=ID_WANG, phone="", category="无党派人士", birth="", gender="", district="", street="",
        organization="", tags=""):
    return [name, id_number, phone, category, birth, gender, district, street, organization, tags]


def warnings_of(result) -> list[tuple[int, str | None, str]]:
    return [(w["row"], w["column"], w["message"]) for w in result.warning_list]


def test_an_old_district_name_mapped_to_the_current_one_is_a_warning(engine, tmp_path):
    path = simple_workbook(tmp_path / "a.xlsx", HEADER, [
        row(district="江干区"), row("李娜", ID_LI, district="江干区", street="白杨街道"), row("张敏", "", "13700001111",
                                                                                     district="西湖区")])
    result = dry(engine, path)
    assert warnings_of(result) == [
        (2, "所属区县", "区县「江干区」是旧区划名称，已记为现行的「上城区」 · 江干区 is a former district name: "
                      "recorded as 上城区"),
        (3, "所属区县", "区县「江干区」是旧区划名称，已按街道「白杨街道」记为「钱塘区」 · 江干区 is a former district "
                      "name: recorded as 钱塘区, where street 白杨街道 lies"),
    ]
    assert result.warnings == 2


def test_a_new_tag_is_a_warning_once(engine, tmp_path):
    commit(engine, simple_workbook(tmp_path / "a.xlsx", HEADER, [row(tags="海归")]))
    result = dry(engine, simple_workbook(tmp_path / "b.xlsx", HEADER, [
        row(tags="海归、侨领"), row("李娜", ID_LI, tags="侨领，政协委员"), row("张敏", "", "13700001111", tags="海归")]))
    assert [(r, c, m.split(" · ")[0]) for r, c, m in warnings_of(result)] == [
        (2, "标签", "标签「侨领」库中原来没有，导入时新建（请确认不是已有标签的另一种写法）"),
        (3, "标签", "标签「政协委员」库中原来没有，导入时新建（请确认不是已有标签的另一种写法）"),
    ]


def test_the_same_person_twice_says_which_row_won(engine, tmp_path):
    path = simple_workbook(tmp_path / "a.xlsx", HEADER, [
        row(organization="甲公司"), row("李娜", ID_LI), row("王 伟", ID_WANG.lower(), organization="乙公司")])
    result = commit(engine, path)
    assert (result.inserted, result.updated, result.unchanged) == (2, 1, 0)
    assert warnings_of(result) == [(4, None, "与本文件第 2 行是同一人：两行已合并，本行的非空值覆盖前面的值 · the same "
                                             "person as row 2 of this file: merged in file order, this row's "
                                             "non-empty cells win")]
    with engine.connect() as conn:
        assert conn.execute(select(person.c.organization).where(person.c.id_number == ID_WANG)).scalar_one() == "乙公司"


def test_a_birth_date_taken_from_the_id_number_says_so(engine, tmp_path):
    path = simple_workbook(tmp_path / "a.xlsx", HEADER, [
        row(birth="1975-02-30", gender="未知"), row("张敏", "", "13700001111", birth="1975-02-30")])
    result = dry(engine, path)
    assert warnings_of(result) == [
        (2, "出生日期", "出生日期「1975-02-30」无法识别，已按身份证号填写为 1975-03-12 · birth date '1975-02-30' not "
                      "recognised: the ID number's 1975-03-12 is used"),
        (2, "性别", "性别「未知」无法识别，已按身份证号填写为男 · gender '未知' not recognised: the ID number's male is "
                  "used"),
        (3, "出生日期", "日期「1975-02-30」无法识别，已留空：请写成 1975-03-12 或 1975.03 · date '1975-02-30' not "
                      "recognised, left empty: write it as 1975-03-12 or 1975.03"),  # no ID: empty it stays
    ]


def test_the_same_attendance_twice_is_a_warning(engine, tmp_path):
    commit(engine, simple_workbook(tmp_path / "p.xlsx", ["姓名", "手机", "类别"], [["王伟", "13812345678", "无党派人士"]]))
    header = ["姓名", "手机", "活动名称", "活动日期", "状态"]
    result = dry(engine, simple_workbook(tmp_path / "签到.xlsx", header, [
        ["王伟", "13812345678", "新年座谈会", "2025-01-10", "报名"], ["王伟", "13812345678", "读书会", "2025-01-11", "签到"],
        ["王伟", "13812345678", "新年座谈会", "2025-01-10", "签到"]]))
    assert (result.inserted, result.updated) == (2, 1)
    assert [(r, m.split(" · ")[0]) for r, _c, m in warnings_of(result)] == [
        (4, "本文件第 2 行已登记此人参加同一活动：按文件顺序处理，状态只前进")]


def test_cli_json_lists_the_warnings(capsys, store_url, tmp_path):
    path = simple_workbook(tmp_path / "a.xlsx", HEADER, [row(district="江干区", tags="侨领"), row(organization="甲")])
    assert main(["import", str(path), "--db", store_url, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["warnings"] == len(obj["warning_list"]) == 3
    assert [(w["sheet"], w["row"], w["column"]) for w in obj["warning_list"]] == [
        ("Sheet1", 2, "所属区县"), ("Sheet1", 2, "标签"), ("Sheet1", 3, None)]
    assert main(["import", str(path), "--db", store_url]) == 0
    table = capsys.readouterr().out
    assert "警告 · warnings:" in table and "江干区" in table
