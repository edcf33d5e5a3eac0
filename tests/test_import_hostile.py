"""Used-range bombs and other files that would take the reading process down (issue: no upload
can take the server down). Every read here goes through the same child process and the same
limits as the server and the CLI (`loaders.workbook`'s defaults) unless a test says otherwise;
before the fix, several of these files aborted the test process itself."""

from __future__ import annotations

import datetime as dt
import io
import json
import pickle

import pytest
from openpyxl import Workbook

import loaders.read
import loaders.workbook
from loaders.api import SheetTooLarge, prepare_import, read_sheets
from loaders.cli import main
from loaders.plan import F
from tests.data.hostile_files import ROSTER, roster_with, xls_bytes, xlsx_bytes

XFD, EXCEL_ROWS = 16_384, 1_048_576  # Excel's last column and row
IV, BIFF_ROWS = 256, 65_536  # an .xls sheet's
MEMORY = "内存"  # the refusal when only the child's memory limit stopped the parse

BOMBS = {
    # A stray cell at Excel's very last cell, with the used range declared as Excel writes it.
    "xlsx-XFD1048576": (xlsx_bytes(roster_with((EXCEL_ROWS, XFD)), dimension=(EXCEL_ROWS, XFD)), "A1:XFD1048576"),
    "xlsx-XFD3000": (xlsx_bytes(roster_with((3000, XFD)), dimension=(3000, XFD)), "A1:XFD3000"),
    # Only the declaration is huge: refused before any parser runs.
    "xlsx-declared-only": (xlsx_bytes(ROSTER, dimension=(EXCEL_ROWS, XFD)), "A1:XFD1048576"),
    # No declaration, or a false one: the parse fails inside the memory-capped child.
    "xlsx-XFD1048576-undeclared": (xlsx_bytes(roster_with((EXCEL_ROWS, XFD)), dimension=None), MEMORY),
    "xlsx-XFD1048576-declared-small": (xlsx_bytes(roster_with((EXCEL_ROWS, XFD)), dimension=(2, 3)), MEMORY),
    # Undeclared but within the child's memory: the range calamine built is checked before any row is made.
    "xlsx-XFD700-undeclared": (xlsx_bytes(roster_with((700, XFD)), dimension=None), "A1:XFD700"),
    # .xls: a DIMENSIONS record claiming a huge range (calamine reserves room for all of it) ...
    "xls-DIMENSIONS": (xls_bytes(ROSTER, dimension=(EXCEL_ROWS, XFD)), "A1:XFD1048576"),
    # ... a stray cell at the last cell an .xls sheet has, under a small DIMENSIONS record ...
    "xls-IV65536": (xls_bytes(roster_with((BIFF_ROWS, IV)), dimension=(2, 3)), "A1:IV65536"),
    # ... and a cell beyond any real .xls column.
    "xls-column-65535": (xls_bytes(roster_with((BIFF_ROWS, 65_535)), dimension=(2, 3)), MEMORY),
}


@pytest.mark.parametrize("bomb", BOMBS)
def test_used_range_bombs_are_refused_and_the_reader_survives(bomb):
    data, expected = BOMBS[bomb]
    name = "名单.xls" if bomb.startswith("xls-") else "名单.xlsx"
    assert len(data) < 6_000  # small files: the harm is all in the range they claim
    with pytest.raises(SheetTooLarge) as exc:
        prepare_import(data, name)
    message = exc.value.message
    assert expected in message and " · " in message
    if expected != MEMORY:
        assert "名单" in message and "Ctrl+End" in message and f"{loaders.workbook.MAX_CELLS:,}" in message
    # This process is still here, and reads the same roster without the stray cell.
    sane = xls_bytes(ROSTER, dimension=(2, 3)) if name.endswith(".xls") else xlsx_bytes(ROSTER, dimension=(2, 3))
    assert [r.values[F["name"]] for r in prepare_import(sane, name).rows] == ["王伟"]


@pytest.mark.parametrize("make, name", [(xlsx_bytes, "名单.xlsx"), (xls_bytes, "名单.xls")])
def test_a_sheet_at_the_limit_is_read_and_one_cell_more_is_refused(monkeypatch, make, name):
    monkeypatch.setattr(loaders.workbook, "MAX_CELLS", 2 * 4)
    kind, sheets = read_sheets(make(roster_with((2, 4), "备注"), dimension=None), name)
    assert sheets[0].rows[1] == ["王伟", "13812345678", "非公经济人士", "备注"]
    with pytest.raises(SheetTooLarge) as exc:
        read_sheets(make(roster_with((3, 4), "备注"), dimension=None), name)
    assert "A1:D3" in exc.value.message and "= 12 个单元格" in exc.value.message


def test_the_limit_holds_for_the_whole_workbook(monkeypatch):
    monkeypatch.setattr(loaders.workbook, "MAX_CELLS", 10)
    wb = Workbook()
    for index, title in enumerate(["第一批", "第二批"]):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = title
        ws.append(["姓名", "手机"])
        ws.append(["王伟", "13812345678"])
        ws.append(["李娜", "13912345678"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(SheetTooLarge) as exc:
        read_sheets(buf.getvalue(), "名单.xlsx")
    assert "合计 12 个单元格" in exc.value.message and "12 cells together" in exc.value.message


def test_a_csv_with_one_endless_line_is_refused():
    """Its columns would be made dense later, one tuple per column (60 lines x 200,000 fields)."""
    lines = ["姓名,手机,统战对象类别", ",".join(["x"] * 200_000)] + ["王伟,13812345678,非公经济人士"] * 58
    with pytest.raises(SheetTooLarge) as exc:
        read_sheets("\n".join(lines).encode(), "名单.csv")
    assert "文件的已用区域" in exc.value.message and "200,000" in exc.value.message


def test_a_csv_of_too_many_fields_is_refused_before_it_is_parsed(monkeypatch):
    def must_not_parse(*_a, **_k):
        raise AssertionError("the CSV was parsed")

    monkeypatch.setattr(loaders.read.csv, "reader", must_not_parse)
    data = ("姓名,手机,统战对象类别\n" + "王伟,13812345678,非公经济人士" + "," * (loaders.workbook.MAX_CELLS + 1)).encode()
    with pytest.raises(SheetTooLarge) as exc:
        read_sheets(data, "名单.csv")
    fields = data.count(b",") + data.count(b"\n") + 1
    assert f"{fields:,} 个字段" in exc.value.message and f"about {fields:,} fields" in exc.value.message


def test_csv_lines_padded_with_separators_are_not_counted_as_wide(monkeypatch):
    # A line padded with separators far to the right, as some exports write their title or header line.
    monkeypatch.setattr(loaders.workbook, "MAX_CELLS", 120)
    rows = [["姓名", "手机", "统战对象类别"], ["王伟", "13812345678", "非公经济人士"], ["李娜", "13912345678", "党外知识分子"]]
    data = ("\r\n".join(",".join(row) for row in rows).replace("类别", "类别" + "," * 100, 1) + "\r\n").encode()
    assert [r.values[F["name"]] for r in prepare_import(data, "名单.csv").rows] == ["王伟", "李娜"]


def test_a_reader_that_takes_too_long_is_stopped(monkeypatch):
    monkeypatch.setattr(loaders.workbook, "CHILD_TIMEOUT_SECONDS", 0)
    with pytest.raises(SheetTooLarge) as exc:
        read_sheets(xlsx_bytes(ROSTER, dimension=(2, 3)), "名单.xlsx")
    assert "秒" in exc.value.message and " s " in exc.value.message


def test_rows_come_back_with_their_types():
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "出生日期", "时间", "时长", "人数", "是否"])
    ws.append(["王伟", dt.date(1975, 3, 12), dt.time(9, 30), dt.timedelta(hours=30), 3, True])
    ws.merge_cells("A3:B3")
    buf = io.BytesIO()
    wb.save(buf)
    kind, sheets = read_sheets(buf.getvalue(), "名单.xlsx")
    assert sheets[0].rows[1] == ["王伟", dt.date(1975, 3, 12), dt.time(9, 30), dt.timedelta(hours=30), 3.0, True]
    assert sheets[0].merged == [((2, 0), (2, 1))] and sheets[0].visible


def test_the_child_cannot_send_anything_but_cell_values():
    class Payload:
        def __reduce__(self):
            return (print, ("ran in the parent",))

    stream = io.BytesIO(pickle.dumps(("rows", [[Payload()]])))
    with pytest.raises(pickle.UnpicklingError):
        loaders.workbook._RowsUnpickler(stream).load()


@pytest.mark.parametrize("bomb", ["xlsx-XFD1048576-undeclared", "xls-DIMENSIONS"])
def test_the_cli_refuses_a_bomb_in_one_line_and_goes_on(capsys, sqlite_engine, tmp_path, bomb):
    data, expected = BOMBS[bomb]
    path = tmp_path / ("bomb.xls" if bomb.startswith("xls-") else "bomb.xlsx")
    path.write_bytes(data)
    good = tmp_path / "ok.xlsx"
    good.write_bytes(xlsx_bytes(ROSTER, dimension=(2, 3)))
    status = main(["import", str(path), str(good), "--db", str(sqlite_engine.url), "--json"])
    out, err = capsys.readouterr()
    assert status == 1 and json.loads(out)["inserted"] == 1
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err
