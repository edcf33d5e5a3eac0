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
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from loaders import workbook
from loaders.errors import (
    CorruptFile,
    EmptyFile,
    PasswordProtected,
    SheetTooLarge,
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


# What a CSV may be decoded as, by charset-normalizer's name for the decoding: the codec,
# and the encoding's name for staff (Chinese, English). Earlier entries win a tie between
# equally plausible decodings: a short GB18030 file often decodes cleanly as Korean too.
_DECODABLE = {
    "gb18030": ("gb18030", "GB18030", "GB18030"),
    "gbk": ("gb18030", "GBK", "GBK"),
    "gb2312": ("gb18030", "GB2312", "GB2312"),
    "big5hkscs": ("big5hkscs", "Big5-HKSCS（香港繁体）", "Big5-HKSCS (Hong Kong)"),
    "big5": ("big5", "Big5（繁体）", "Big5 (Traditional Chinese)"),
    "cp950": ("cp950", "Big5（繁体）", "Big5 (Traditional Chinese)"),
    "cp932": ("cp932", "Shift-JIS（日文）", "Shift-JIS (Japanese)"),
    "shift_jis": ("shift_jis", "Shift-JIS（日文）", "Shift-JIS (Japanese)"),
    "shift_jis_2004": ("shift_jis_2004", "Shift-JIS（日文）", "Shift-JIS (Japanese)"),
    "shift_jisx0213": ("shift_jisx0213", "Shift-JIS（日文）", "Shift-JIS (Japanese)"),
    "euc_jp": ("euc_jp", "EUC-JP（日文）", "EUC-JP (Japanese)"),
    "euc_jis_2004": ("euc_jis_2004", "EUC-JP（日文）", "EUC-JP (Japanese)"),
    "euc_jisx0213": ("euc_jisx0213", "EUC-JP（日文）", "EUC-JP (Japanese)"),
    "utf_16_le": ("utf-16-le", "UTF-16（无 BOM）", "UTF-16 without BOM"),
    "utf_16_be": ("utf-16-be", "UTF-16（无 BOM）", "UTF-16 without BOM"),
    "utf_32_le": ("utf-32-le", "UTF-32", "UTF-32"),
    "utf_32_be": ("utf-32-be", "UTF-32", "UTF-32"),
}
_NAMED = {"cp949": ("EUC-KR（韩文）", "EUC-KR (Korean)"), "euc_kr": ("EUC-KR（韩文）", "EUC-KR (Korean)"),
          "johab": ("Johab（韩文）", "Johab (Korean)")}
_SAVE_AS_UTF8 = ("请在 Excel 中另存为「CSV UTF-8（逗号分隔）」或 .xlsx 后再导入",
                 "save it as 'CSV UTF-8' or .xlsx and import that")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def decode_csv(data: bytes) -> str:
    """The CSV's text: UTF-8 (with or without BOM) and UTF-16 with BOM as they are; any other
    encoding as charset-normalizer recognises it (GB18030, Big5, UTF-16 without BOM …).

    An encoding we do not decode is refused by name, and so is a decoding that yields
    private-use characters (U+E000–U+F8FF): the mark of bytes read in the wrong encoding
    (Big5 read as GB18030 decodes without an error), never to be stored.
    """
    label = ("UTF-8", "UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        label = ("UTF-16", "UTF-16")
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _unknown_encoding() from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
        if text is None or "\x00" in text:  # NULs in "UTF-8": UTF-16 without its BOM
            text, label = _detect_and_decode(data)
    if "\x00" in text:
        raise _unknown_encoding()
    odd = _PRIVATE_USE.search(text)
    if odd:
        line = text.count("\n", 0, odd.start()) + 1
        code = f"U+{ord(odd.group()):04X}"
        raise UnknownEncoding(
            f"CSV 文件按 {label[0]} 解码后，第 {line} 行出现私用区字符 {code}：编码多半识别错了（或用了造字），"
            f"为免存入乱码已拒绝导入。{_SAVE_AS_UTF8[0]} · decoded as {label[1]}, line {line} holds the private-use "
            f"character {code}: the encoding was most likely misread (or the file uses custom characters), so it "
            f"was refused rather than store garbled text; {_SAVE_AS_UTF8[1]}")
    return text


def _detect_and_decode(data: bytes) -> tuple[str, tuple[str, str]]:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, preemptive_behaviour=False))
    if not matches:
        raise _unknown_encoding()
    least = min(m.chaos for m in matches)
    tied = {m.encoding for m in matches if m.chaos <= least + 1e-6}
    chosen = next((name for name in _DECODABLE if name in tied), None)
    if chosen is None:
        best = matches[0].encoding
        zh, en = _NAMED.get(best) or (best.upper().replace("_", "-"),) * 2
        raise UnknownEncoding(f"CSV 文件的编码像是 {zh}，无法可靠读取：{_SAVE_AS_UTF8[0]} · "
                              f"the CSV file's encoding looks like {en}, which cannot be read reliably: {_SAVE_AS_UTF8[1]}")
    codec, zh, en = _DECODABLE[chosen]
    try:
        return data.decode(codec), (zh, en)
    except UnicodeDecodeError:
        raise _unknown_encoding() from None


def _unknown_encoding() -> UnknownEncoding:
    return UnknownEncoding(f"CSV 文件的编码无法识别：{_SAVE_AS_UTF8[0]} · "
                           f"the CSV file's encoding could not be recognised: {_SAVE_AS_UTF8[1]}")


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
    # Every field becomes a list slot: bound them before parsing (quoted separators over-count, harmlessly).
    fields = text.count(delimiter) + text.count("\n") + 1
    if fields > workbook.MAX_CELLS:
        raise SheetTooLarge(
            f"文件约有 {fields:,} 个字段，超过上限 {workbook.MAX_CELLS:,}，已拒绝读取：请删除多余的列或拆分文件后再导入 · "
            f"the file holds about {fields:,} fields, over the limit of {workbook.MAX_CELLS:,}, and was refused: "
            "delete extra columns or split the file, and import again")
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
