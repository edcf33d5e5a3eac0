"""Reading files (IMPORT.md "Files and sheets" and hostile files): no database involved."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from loaders.api import (
    CorruptFile,
    EmptyFile,
    NoHeaderFound,
    PasswordProtected,
    SuspiciousArchive,
    UnknownEncoding,
    WrongFileType,
    prepare_import,
)
from loaders.plan import F
from tests.data.staff_files import (
    ID_CHEN,
    ID_LI,
    ID_WANG,
    csv_file,
    formula_workbook,
    many_empty_rows_workbook,
    simple_workbook,
    staff_workbook,
)


@pytest.fixture
def staff_plan(tmp_path):
    return prepare_import(staff_workbook(tmp_path / "名单.xlsx"))


def rows_by_number(plan, sheet=None):
    return {r.row: r for r in plan.rows if sheet is None or r.sheet == sheet}


def test_every_sheet_with_a_header_is_read_and_others_skipped_with_a_notice(staff_plan):
    assert [s.name for s in staff_plan.sheets] == ["统战对象名单", "第二批"]
    assert {s.name for s in staff_plan.skipped} == {"填表说明", "汇总", "字典"}
    assert sum("填表说明" in n for n in staff_plan.notices) == 1
    assert all(s.reason for s in staff_plan.skipped)


def test_header_below_title_rows_and_two_row_merged_header(staff_plan):
    main = staff_plan.sheets[0]
    assert main.header_rows == (3, 4)
    assert main.header_row == 4
    fields = {c.letter: c.field for c in main.columns}
    # vertical merges keep their label (姓名, 身份证号…); under 基本信息 the lower row wins.
    assert fields == {"A": "ignore", "B": "name", "C": "gender", "D": "birth_date", "E": "ethnicity",
                      "F": "id_number", "G": "phone", "H": "category", "I": "district", "J": "street",
                      "K": "organization", "L": "tags"}
    assert main.unmapped == []


def test_header_cells_lose_whitespace_and_bracketed_notes(staff_plan):
    labels = {c.field: c.label for c in staff_plan.sheets[0].columns}
    assert labels["name"] == "姓名"  # 姓　　名
    assert labels["birth_date"].startswith("出生年月")


def test_blank_numbered_notes_and_signature_rows_are_not_counted(staff_plan):
    main = rows_by_number(staff_plan, "统战对象名单")
    assert sorted(main) == list(range(5, 14))
    assert staff_plan.sheets[0].rows_read == 9
    assert staff_plan.rows_read == 11


def test_row_is_the_spreadsheet_row_number(staff_plan):
    main = rows_by_number(staff_plan, "统战对象名单")
    assert main[5].values[F["name"]] == "王伟"
    assert main[13].values[F["name"]] == "赵强"
    assert rows_by_number(staff_plan, "第二批")[3].values[F["name"]] == "钱多"


def test_id_rules_on_real_cells(staff_plan):
    main = rows_by_number(staff_plan, "统战对象名单")
    assert main[5].values[F["id_number"]] == ID_WANG
    assert main[5].values[F["birth_date"]] == dt.date(1975, 3, 12)  # month-only agreed, ID gives the day
    assert main[5].warnings is None
    assert main[8].values[F["id_number"]] == ID_CHEN  # 15 digits stored as a number
    assert main[8].values[F["gender"]] == "M"  # filled from the ID
    assert "Excel" in main[10].problems[0][1]  # 18 digits stored as a number
    assert main[13].values[F["gender"]] == "M" and "身份证" in main[13].warnings[0][1]


def test_district_aliases_and_street_override(staff_plan):
    main = rows_by_number(staff_plan, "统战对象名单")
    assert main[6].values[F["district"]] == "330105"  # 下城区 -> 拱墅区
    assert main[7].values[F["district"]] == "330102"  # 杭州市上城区
    assert main[13].values[F["district"]] == "330114"  # 江干区 but 白杨街道 is in 钱塘区


def test_merged_cell_value_belongs_to_top_left_only(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "手机", "统战对象类别", "工作单位"])
    ws.append(["王伟", "13812345678", "非公经济人士", "同一单位"])
    ws.append(["李娜", "13912345678", "非公经济人士", None])
    ws.merge_cells("D2:D3")
    wb.save(tmp_path / "m.xlsx")
    plan = prepare_import(tmp_path / "m.xlsx")
    assert [r.values[F["organization"]] for r in plan.rows] == ["同一单位", None]


def test_formula_cells_give_their_cached_value(tmp_path):
    plan = prepare_import(formula_workbook(tmp_path / "f.xlsx"))
    assert plan.rows[0].values[F["organization"]] == "杭州某某公司"
    assert plan.rows[1].values[F["name"]] == "李娜"


def test_header_must_be_within_first_10_rows(tmp_path):
    path = simple_workbook(tmp_path / "late.xlsx", ["说明"], [[""]] * 10 + [["姓名", "手机"], ["王伟", "13812345678"]])
    with pytest.raises(NoHeaderFound) as exc:
        prepare_import(path)
    assert "姓名" in exc.value.message and "header" in exc.value.message


def test_header_needs_name_and_another_field(tmp_path):
    path = simple_workbook(tmp_path / "h.xlsx", ["姓名", "爱好"], [["王伟", "书法"]])
    with pytest.raises(NoHeaderFound):
        prepare_import(path)


def test_english_headers_and_mapping_overrides(tmp_path):
    path = simple_workbook(tmp_path / "en.xlsx", ["Name", "ID number", "Category", "手机号（办公）", "Nickname"],
                           [["Wang Wei", ID_WANG, "non_party", "13812345678", "W"]])
    plan = prepare_import(path)
    assert plan.sheets[0].mapping == {"Name": "name", "ID number": "id_number", "Category": "category",
                                      "手机号(办公)": "phone"}
    assert plan.sheets[0].unmapped == ["Nickname"]
    plan = prepare_import(path, mapping_overrides={"Nickname": "source", "手机号(办公)": None})
    assert plan.sheets[0].mapping["Nickname"] == "source"
    assert plan.rows[0].values[F["source"]] == "W"
    assert plan.rows[0].values[F["phone"]] is None


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    plan = prepare_import(csv_file(tmp_path / f"list-{encoding}.csv", encoding))
    assert plan.kind == "csv"
    assert [r.values[F["name"]] for r in plan.rows] == ["王伟", "李娜"]
    assert [r.row for r in plan.rows] == [2, 3]
    assert all(r.sheet is None for r in plan.rows)
    assert plan.sheets[0].name is None
    assert plan.rows[1].values[F["id_number"]] == ID_LI


def test_csv_in_an_unexpected_encoding(tmp_path):
    # UTF-16 without a BOM is recognised now (tests/test_import_encodings.py); Latin-1 is not read.
    (tmp_path / "l1.csv").write_bytes("name,phone\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(UnknownEncoding) as exc:
        prepare_import(tmp_path / "l1.csv")
    assert "编码" in exc.value.message and "encoding" in exc.value.message


@pytest.mark.parametrize("name, content, error", [
    ("empty.xlsx", b"", EmptyFile),
    ("empty.csv", b"", EmptyFile),
    ("bom-only.csv", b"\xef\xbb\xbf\r\n", EmptyFile),
    ("text.xlsx", "姓名,手机\n王伟,13812345678\n".encode(), WrongFileType),
    ("page.xls", b"<html><body><table><tr><td>x</td></tr></table></body></html>", WrongFileType),
    ("notes.txt", b"hello", WrongFileType),
    ("broken.xlsx", b"PK\x03\x04 this is not really a zip", CorruptFile),
])
def test_broken_files_get_a_clear_message(tmp_path, name, content, error):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(error) as exc:
        prepare_import(tmp_path / name)
    assert " · " in exc.value.message  # Chinese · English


def test_workbook_named_csv_is_refused(tmp_path):
    path = simple_workbook(tmp_path / "list.xlsx", ["姓名", "手机"], [["王伟", "13812345678"]])
    (tmp_path / "list.csv").write_bytes(path.read_bytes())
    with pytest.raises(WrongFileType) as exc:
        prepare_import(tmp_path / "list.csv")
    assert ".csv" in exc.value.message


def test_password_protected_workbook(tmp_path):
    # An encrypted .xlsx is an OLE2 compound file holding EncryptionInfo and EncryptedPackage streams.
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = "EncryptionInfo".encode("utf-16-le") + b"\x00" * 50 + "EncryptedPackage".encode("utf-16-le")
    (tmp_path / "secret.xlsx").write_bytes(header + directory + b"\x00" * 4096)
    with pytest.raises(PasswordProtected) as exc:
        prepare_import(tmp_path / "secret.xlsx")
    assert "密码" in exc.value.message and "password" in exc.value.message


def test_zip_bomb_is_refused_before_reading(tmp_path, monkeypatch):
    import loaders.read

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 << 20))  # 20 MB of zeros: ratio ~1000
    (tmp_path / "bomb.xlsx").write_bytes(buf.getvalue())

    def must_not_read(*_a, **_k):
        raise AssertionError("the parser ran on a zip bomb")

    monkeypatch.setattr(loaders.read, "_read_workbook", must_not_read)
    with pytest.raises(SuspiciousArchive) as exc:
        prepare_import(tmp_path / "bomb.xlsx")
    assert "解压" in exc.value.message


def test_declared_total_size_is_checked(tmp_path, monkeypatch):
    import loaders.read

    monkeypatch.setattr(loaders.read, "MAX_UNCOMPRESSED_BYTES", 10_000)
    path = simple_workbook(tmp_path / "big.xlsx", ["姓名", "手机"], [["王伟", f"138{i:08d}"] for i in range(2000)])
    with pytest.raises(SuspiciousArchive):
        prepare_import(path)


def test_sheet_with_many_empty_formatted_rows(tmp_path):
    plan = prepare_import(many_empty_rows_workbook(tmp_path / "fmt.xlsx", 100_000))
    assert plan.rows_read == 2


@pytest.mark.slow
@pytest.mark.parametrize("with_empty_strings", [False, True])
def test_sheet_with_a_million_empty_formatted_rows(tmp_path, with_empty_strings):
    plan = prepare_import(many_empty_rows_workbook(tmp_path / "fmt.xlsx", 1_000_000,
                                                   with_empty_strings=with_empty_strings))
    assert plan.rows_read == 2


def test_bytes_and_file_objects_work_like_paths(tmp_path):
    path = staff_workbook(tmp_path / "名单.xlsx")
    from_bytes = prepare_import(path.read_bytes(), "名单.xlsx")
    with open(path, "rb") as fh:
        from_file = prepare_import(fh, "名单.xlsx")
    assert from_bytes.rows_read == from_file.rows_read == 11
    assert from_bytes.sha256 == from_file.sha256
