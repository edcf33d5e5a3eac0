"""The error report is safe to open and to import again: no live formulas, no characters that break it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from loaders.api import apply_import, prepare_import, write_error_report
from loaders.cli import main
from store.cells import FORMULA_TRIGGERS, neutralise
from store.engine import create_store_engine
from store.migrate import upgrade_to_head

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["姓名", "手机", "统战对象类别", "工作单位"]
# Every row is rejected (an unknown category), so every hostile cell lands in the report.
HOSTILE = [
    ["=1+2", "13812345678", "外星人", '=HYPERLINK("http://evil.example/","点我")'],
    ["+王伟", "+86 139 1234 5678", "外星人", "@SUM(A1:A9)"],
    ["-李娜", "-13700001111", "外星人", "\t=cmd|' /C calc'!A0"],
    ["张\x01敏", "13600001111", "外星人\x02", "单位\x1b名称\x0b"],
]


def hostile_csv(path: Path) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(HOSTILE)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def result(sqlite_engine, tmp_path):
    out = apply_import(sqlite_engine, prepare_import(hostile_csv(tmp_path / "hostile.csv")), dry_run=True)
    assert out.rejected == len(HOSTILE)
    return out


def test_neutralise_is_the_one_rule():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("a\x01b\x0b") == "ab"
    assert neutralise("王伟") == "王伟" and neutralise(12) == 12 and neutralise(None) is None
    for trigger in FORMULA_TRIGGERS:
        assert neutralise(trigger + "x") == "'" + trigger + "x"


def test_neutralise_drops_exactly_what_openpyxl_refuses():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for code in range(0x100):
        ch = chr(code)
        assert (neutralise("a" + ch) == "a") is bool(ILLEGAL_CHARACTERS_RE.search(ch)), hex(code)


def test_xlsx_report_holds_no_formula_and_no_illegal_character(result, tmp_path):
    out = tmp_path / "report.xlsx"
    assert write_error_report(result, out) == len(HOSTILE)
    ws = load_workbook(out).active
    cells = [cell for row in ws.iter_rows() for cell in row if cell.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [v for v in texts if v.startswith(FORMULA_TRIGGERS)]
    assert not [v for v in texts if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in v)]
    names = [ws.cell(row, 1).value for row in range(2, ws.max_row + 1)]
    assert names == ["'=1+2", "'+王伟", "'-李娜", "张敏"]


def test_page_download_is_the_same_safe_workbook(result):
    buf = io.BytesIO()
    write_error_report(result, buf)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)


def test_csv_report_is_prefixed(result, tmp_path):
    out = tmp_path / "report.csv"
    assert write_error_report(result, out) == len(HOSTILE)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == HEADER + ["错误原因"]
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'+王伟", "'-李娜", "张敏"]
    assert [r[1] for r in rows[1:3]] == ["13812345678", "'+86 139 1234 5678"]
    assert rows[3][3].startswith("'\t=cmd")
    assert not [v for r in rows for v in r if v.startswith(FORMULA_TRIGGERS)]
    assert not [v for r in rows for v in r if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in v)]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_report_imports_as_the_original_did(result, tmp_path, suffix):
    """The quote that defuses a formula is the spreadsheet's text marker: reading drops it again."""
    out = tmp_path / f"report{suffix}"
    write_error_report(result, out)
    again = prepare_import(out)
    original = prepare_import(hostile_csv(tmp_path / "again.csv"))
    assert again.sheets[0].mapping == original.sheets[0].mapping
    assert [r.values for r in again.rows] == [r.values for r in original.rows]
    assert again.rows[0].values[0] == "=1+2" and again.rows[1].values[5] == "13912345678"


def test_cli_with_a_control_character_writes_its_report(capsys, sqlite_engine, tmp_path):
    source = hostile_csv(tmp_path / "hostile.csv")
    for out in (tmp_path / "errors.xlsx", tmp_path / "errors.csv"):
        status = main(["import", str(source), "--db", str(sqlite_engine.url), "--json", "--error-report", str(out)])
        captured = capsys.readouterr()
        assert status == 0, captured.err
        assert json.loads(captured.out)["rejected"] == len(HOSTILE)
        assert out.exists() and out.stat().st_size > 0


@pytest.mark.slow
def test_cli_process_with_a_control_character_exits_cleanly(tmp_path):
    source = hostile_csv(tmp_path / "hostile.csv")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    # Only bootstrap creates a store: make it first, as a deployment has one.
    engine = create_store_engine(db, create=True)
    upgrade_to_head(engine)
    engine.dispose()
    proc = subprocess.run([sys.executable, "-m", "loaders", "import", str(source), "--db", db,
                           "--error-report", str(tmp_path / "errors.xlsx")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert load_workbook(tmp_path / "errors.xlsx").active.max_row == len(HOSTILE) + 1
