"""`python -m loaders import|undo`: the JSON contract, the readable table, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from loaders.cli import main
from store.engine import open_store
from tests.data.staff_files import csv_file, simple_workbook, staff_workbook

ROOT = Path(__file__).resolve().parent.parent
JSON_FIELDS = ["file", "rows_read", "inserted", "updated", "unchanged", "rejected", "warnings", "persons_total",
               "batch_id", "errors", "warning_list"]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_json_has_exactly_the_contract_fields(capsys, store_url, tmp_path):
    staff = staff_workbook(tmp_path / "名单.xlsx")
    listing = csv_file(tmp_path / "list.csv", "gb18030")
    status, out, err = run(capsys, "import", str(staff), str(listing), "--db", store_url, "--json")
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    for obj in lines:
        assert list(obj) == JSON_FIELDS
        assert obj["rows_read"] == obj["inserted"] + obj["updated"] + obj["unchanged"] + obj["rejected"]
        assert all(list(e) == ["sheet", "row", "column", "message"] for e in obj["errors"] + obj["warning_list"])
        assert obj["warnings"] == len(obj["warning_list"])
    first, second = lines
    assert first["file"] == str(staff)
    assert (first["rows_read"], first["inserted"], first["updated"], first["unchanged"], first["rejected"]) == (11, 7, 1, 1, 2)
    assert first["errors"][0] == {"sheet": "统战对象名单", "row": 10, "column": "身份证号",
                                  "message": first["errors"][0]["message"]}
    assert isinstance(first["batch_id"], int) and second["batch_id"] == first["batch_id"] + 1
    assert (second["rows_read"], second["inserted"], second["updated"], second["unchanged"]) == (2, 0, 2, 0)
    assert second["persons_total"] == 7
    assert all(e["sheet"] is None for e in second["errors"])


def test_dry_run_json(capsys, store_url, tmp_path):
    staff = staff_workbook(tmp_path / "名单.xlsx")
    status, out, _ = run(capsys, "import", str(staff), "--db", store_url, "--json", "--dry-run")
    obj = json.loads(out)
    assert status == 0 and obj["batch_id"] is None and obj["inserted"] == 7
    status, out, _ = run(capsys, "import", str(staff), "--db", store_url, "--json")
    assert json.loads(out)["inserted"] == 7  # the dry run wrote nothing


def test_readable_table(capsys, sqlite_engine, tmp_path):
    url = str(sqlite_engine.url)
    status, out, _ = run(capsys, "import", str(staff_workbook(tmp_path / "名单.xlsx")), "--db", url)
    assert status == 0
    for text in ("读取 rows_read", "11", "新增 inserted", "拒绝 rejected", "统战对象名单", "第 10 行", "表头行 header row 3-4"):
        assert text in out
    status, out, _ = run(capsys, "import", str(tmp_path / "名单.xlsx"), "--db", url)
    assert "完全相同" in out and "byte-identical" in out


def test_byte_identical_notice_goes_to_stderr_with_json(capsys, sqlite_engine, tmp_path):
    url = str(sqlite_engine.url)
    path = str(staff_workbook(tmp_path / "名单.xlsx"))
    run(capsys, "import", path, "--db", url, "--json")
    status, out, err = run(capsys, "import", path, "--db", url, "--json")
    assert json.loads(out)["unchanged"] == 9
    assert "batch 1" in err


def test_error_report_option(capsys, sqlite_engine, tmp_path):
    out_path = tmp_path / "errors.xlsx"
    status, _, _ = run(capsys, "import", str(staff_workbook(tmp_path / "名单.xlsx")), "--db", str(sqlite_engine.url),
                       "--error-report", str(out_path))
    assert status == 0
    ws = load_workbook(out_path).active
    assert ws.max_row == 3 and ws.cell(1, ws.max_column).value == "错误原因"


@pytest.mark.parametrize("name, content, reason", [
    ("empty.xlsx", b"", "文件是空的"),
    ("fake.xlsx", b"name,phone\n", "扩展名"),
    ("missing.xlsx", None, "找不到文件"),
])
def test_unreadable_file_exits_non_zero_with_one_line(capsys, sqlite_engine, tmp_path, name, content, reason):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    status, out, err = run(capsys, "import", str(tmp_path / name), "--db", str(sqlite_engine.url), "--json")
    assert status != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and reason in err


def test_one_bad_file_does_not_stop_the_others(capsys, sqlite_engine, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    good = simple_workbook(tmp_path / "ok.xlsx", ["姓名", "手机", "类别"], [["王伟", "13812345678", "无党派"]])
    status, out, err = run(capsys, "import", str(tmp_path / "empty.csv"), str(good), "--db", str(sqlite_engine.url), "--json")
    assert status == 1 and json.loads(out)["inserted"] == 1 and "empty.csv" in err


def test_undo_command(capsys, sqlite_engine, tmp_path):
    url = str(sqlite_engine.url)
    _, out, _ = run(capsys, "import", str(staff_workbook(tmp_path / "名单.xlsx")), "--db", url, "--json")
    batch = json.loads(out)["batch_id"]
    status, out, _ = run(capsys, "undo", str(batch), "--db", url)
    assert status == 0 and "removed 7" in out
    status, _, err = run(capsys, "undo", str(batch), "--db", url)
    assert status == 1 and "undone" in err
    status, _, err = run(capsys, "undo", "999", "--db", url)
    assert status == 1 and "999" in err


@pytest.mark.slow
def test_python_dash_m_loaders(tmp_path):
    path = simple_workbook(tmp_path / "ok.xlsx", ["姓名", "手机", "类别"], [["王伟", "13812345678", "无党派"]])
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    open_store(db, create=True).dispose()  # an import never creates a store (tests/test_store_missing.py)
    proc = subprocess.run([sys.executable, "-m", "loaders", "import", str(path), "--db", db, "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["inserted"] == 1
    (tmp_path / "bad.xlsx").write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "loaders", "import", str(tmp_path / "bad.xlsx"), "--db", db],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_loaders_never_import_streamlit():
    for path in (ROOT / "loaders").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import streamlit" not in text and "from streamlit" not in text, path


@pytest.mark.slow
def test_loaders_never_import_streamlit_at_run_time():
    code = "import sys, loaders.api, loaders.commands; print('streamlit' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False"
