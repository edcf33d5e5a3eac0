"""The import as a clerk meets it: recognised headers, messages that name the real cause, and the
decisions the importer takes on its own shown as warnings (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from loaders.api import apply_import, prepare_import
from tests.data.staff_files import ID_LI, ID_WANG, simple_workbook

# Reads the project's clock (birth dates are checked against today).
pytestmark = pytest.mark.calendar


def dry(engine, path, **kwargs):
    return apply_import(engine, prepare_import(path, **kwargs), dry_run=True)


def commit(engine, path):
    return apply_import(engine, prepare_import(path), imported_by="clerk")


# ---------------------------------------------------------------- headers and their messages

def test_a_roster_headed_tongzhan_leibie_imports(engine, tmp_path):
    rows = [[f"人员{i:02d}", f"1380000{i:04d}", "无党派人士"] for i in range(30)]
    result = dry(engine, simple_workbook(tmp_path / "名单.xlsx", ["姓名", "手机", "统战类别"], rows))
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
