"""Reading a spreadsheet file into raw sheets (cell values as stored, never evaluated).

`read_sheets` checks what the file really is before any parser sees it: the extension
against the content, empty files, password-protected workbooks, zip bombs (declared
uncompressed sizes and ratios), used ranges too large to hold (see `loaders.workbook`,
which parses workbooks in a child process under a memory limit), CSV encodings. Each
refusal is an `UnreadableFile` with a bilingual message.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from loaders import workbook
from loaders.errors import (
    CorruptFile,
    EmptyFile,
    PasswordProtected,
    SuspiciousArchive,
    UnknownEncoding,
    WrongFileType,
)
from loaders.workbook import PASSWORD_MESSAGE, damaged, too_large, trim_trailing_empty

EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
SUPPORTED = (".xlsx", ".xlsm", ".xls", ".csv")
# A 100k-row, 20-column workbook expands to ~150 MB of XML; a zip bomb to many GB.
MAX_UNCOMPRESSED_BYTES = 1 << 30
MAX_PART_RATIO = 200  # compressed:uncompressed, for parts larger than RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 16 << 20
MAX_ZIP_MEMBERS = 10_000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class RawSheet:
    name: str
    rows: list[list]  # row i is spreadsheet row i+1, column j is column j+1
    merged: list[tuple[tuple[int, int], tuple[int, int]]] | None
    visible: bool = True


def _sniff(data: bytes) -> str:
    head = data[:8]
    if head.startswith(_ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    start = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")) or b"<html" in start[:512]:
        return "html"
    if start.startswith(b"<?xml"):
        return "xml"
    if start.startswith(b"%pdf"):
        return "pdf"
    return "text"


_WHAT = {"zip": "zip 压缩包（如 .xlsx） · a zip package (such as .xlsx)",
         "ole": "旧版 Office 文件（如 .xls） · a legacy Office file (such as .xls)",
         "html": "网页 (HTML) · a web page (HTML)", "xml": "XML 文档 · an XML document",
         "pdf": "PDF 文档 · a PDF document", "text": "纯文本（如 CSV） · plain text (such as CSV)"}


def _wrong_type(ext: str, sniffed: str) -> WrongFileType:
    what_zh, what_en = _WHAT[sniffed].split(" · ")
    return WrongFileType(
        f"文件扩展名是 {ext}，但内容是{what_zh}：请在 Excel 中打开后另存为 .xlsx 再导入 · "
        f"the file is named {ext} but holds {what_en}: open it in Excel, save as .xlsx and import that")


def read_sheets(data: bytes, file_name: str) -> tuple[str, list[RawSheet]]:
    """`(kind, sheets)` for a file's bytes; raises an `UnreadableFile` subclass."""
    ext = Path(file_name).suffix.lower()
    if ext not in SUPPORTED:
        raise WrongFileType(
            f"不支持 {ext or '无扩展名'} 文件：请使用 .xlsx、.xls 或 .csv · "
            f"unsupported file type {ext or '(no extension)'}: use .xlsx, .xls or .csv")
    if not data or (ext == ".csv" and not data.strip(b"\xef\xbb\xbf \t\r\n,;")):
        raise EmptyFile("文件是空的：请确认选择了正确的文件 · the file is empty: check you picked the right file")
    sniffed = _sniff(data)
    if sniffed == "ole" and _is_encrypted_ooxml(data):
        raise PasswordProtected(PASSWORD_MESSAGE)
    if ext in EXCEL_EXTENSIONS:
        if sniffed != "zip":
            raise _wrong_type(ext, sniffed)
        check_zip(data)
        return "xlsx", _read_workbook(data, "xlsx")
    if ext == ".xls":
        if sniffed != "ole":
            raise _wrong_type(ext, sniffed)
        return "xls", _read_workbook(data, "xls")
    if sniffed in ("zip", "ole", "pdf"):
        raise _wrong_type(ext, sniffed)
    return "csv", [RawSheet(name="", rows=read_csv_rows(data), merged=None)]


def _is_encrypted_ooxml(data: bytes) -> bool:
    # An encrypted .xlsx is an OLE2 container holding the streams EncryptionInfo/EncryptedPackage.
    return "EncryptedPackage".encode("utf-16-le") in data[:1 << 20] or \
        "EncryptedPackage".encode("utf-16-le") in data[-(1 << 20):]


def check_zip(data: bytes) -> None:
    """Refuse a workbook whose parts would expand far beyond a sane size (before any parser runs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise damaged(str(exc)) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SuspiciousArchive(_bomb_message(f"{len(infos)} parts"))
    total = 0
    for info in infos:
        total += info.file_size
        if info.flag_bits & 0x1:
            raise PasswordProtected(PASSWORD_MESSAGE)
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_PART_RATIO * max(info.compress_size, 1):
            raise SuspiciousArchive(_bomb_message(
                f"{info.filename}: {info.compress_size} bytes expand to {info.file_size}"))
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SuspiciousArchive(_bomb_message(f"{total} bytes uncompressed"))
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        if "word/document.xml" in names:
            raise WrongFileType("这是 Word 文档，不是 Excel 表格：请把表格复制到 Excel 中另存为 .xlsx · "
                                "this is a Word document, not a spreadsheet: copy the table into Excel and save as .xlsx")
        raise WrongFileType("文件是 zip 压缩包，但不是 Excel 工作簿：请确认选择了正确的文件 · "
                            "the file is a zip archive but not an Excel workbook: check you picked the right file")


def _bomb_message(detail: str) -> str:
    return (f"文件解压后大小异常（{detail}），疑似恶意文件，已拒绝读取：请在 Excel 中另存后再试 · "
            f"the workbook would expand far beyond a sane size ({detail}) and was refused: re-save it in Excel")


def _read_workbook(data: bytes, kind: str) -> list[RawSheet]:
    return [RawSheet(name, rows, merged, visible) for name, rows, merged, visible in workbook.read_workbook(data, kind)]


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text:
                return text
    raise UnknownEncoding(
        "CSV 文件的编码无法识别：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」或 .xlsx 后再导入 · "
        "the CSV file's encoding is not UTF-8 or GB18030: save it as 'CSV UTF-8' or .xlsx and import that")


def read_csv_rows(data: bytes) -> list[list]:
    text = decode_csv(data)
    sample = text[:8192]
    first_lines = sample.splitlines()[:10]
    delimiter = ","
    counts = {d: sum(line.count(d) for line in first_lines) for d in (",", "\t", ";")}
    if counts["\t"] > counts[","] and counts["\t"] >= counts[";"]:
        delimiter = "\t"
    elif counts[";"] > counts[","]:
        delimiter = ";"
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise CorruptFile(f"CSV 文件格式有误：{exc} · the CSV file is malformed: {exc}") from None
    return _check_csv_width(trim_trailing_empty(rows))


def _check_csv_width(rows: list[list]) -> list[list]:
    """Refuse a CSV whose rows x widest row exceeds the workbook limit: its columns are made dense later."""
    limit = workbook.MAX_CELLS
    if rows and len(rows) * max(map(len, rows)) > limit:
        # Lines padded with separators (as Excel writes a wide used range) carry nothing past their last value.
        for row in rows:
            while row and row[-1] == "":
                row.pop()
        width = max(map(len, rows))
        if len(rows) * width > limit:
            raise too_large(None, len(rows), width, limit)
    return rows
