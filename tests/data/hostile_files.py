"""Workbooks written byte by byte, for what no spreadsheet library will write: used-range bombs
(and `png_bytes`, a photo whose few bytes decode to a huge picture).

`xlsx_bytes` writes the zip and its XML parts; `xls_bytes` writes an OLE2 compound file
holding a BIFF8 workbook stream. Both take the cells as {(row, column): text}, 1-based,
and a `dimension` (last row, last column) that the sheet declares as its used range, or
None to declare none.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from xml.sax.saxutils import escape

from loaders.workbook import column_letters

ROSTER = {(1, 1): "姓名", (1, 2): "手机", (1, 3): "统战对象类别",
          (2, 1): "王伟", (2, 2): "13812345678", (2, 3): "非公经济人士"}


def roster_with(far: tuple[int, int] | None, text: str = " ") -> dict:
    """The two-row roster plus one stray cell at `far` (row, column)."""
    return {**ROSTER, **({far: text} if far else {})}


# ---------------------------------------------------------------- .xlsx

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def xlsx_bytes(cells: dict, *, dimension: tuple[int, int] | None, sheet: str = "名单") -> bytes:
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    rows: dict[int, list] = {}
    for (r, c), text in sorted(cells.items()):
        rows.setdefault(r, []).append(
            f'<c r="{column_letters(c)}{r}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>')
    data = "".join(f'<row r="{r}">{"".join(cs)}</row>' for r, cs in sorted(rows.items()))
    declared = f'<dimension ref="A1:{column_letters(dimension[1])}{dimension[0]}"/>' if dimension else ""
    worksheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                 f'{declared}<sheetData>{data}</sheetData></worksheet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", worksheet)
    return buf.getvalue()


# ---------------------------------------------------------------- .xls (BIFF8 in an OLE2 compound file)

def _record(typ: int, body: bytes) -> bytes:
    return struct.pack("<HH", typ, len(body)) + body


def _bof(kind: int) -> bytes:
    # BIFF8, kind 0x0005 = workbook globals, 0x0010 = worksheet
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _label(row: int, column: int, text: str) -> bytes:
    # LABEL: row, column, XF index, then an XLUnicodeString (count, flags = UTF-16LE, characters)
    return _record(0x0204, struct.pack("<HHHHB", row, column, 0, len(text), 1) + text.encode("utf-16-le"))


def xls_bytes(cells: dict, *, dimension: tuple[int, int] | None, sheet: str = "名单") -> bytes:
    name = sheet.encode("utf-16-le")
    sheet_records = _bof(0x0010)
    if dimension:
        # DIMENSIONS: first row, last row + 1 (32-bit), first column, last column + 1, reserved
        sheet_records += _record(0x0200, struct.pack("<IIHHH", 0, dimension[0], 0, dimension[1], 0))
    for (r, c), text in sorted(cells.items()):
        sheet_records += _label(r - 1, c - 1, text)
    sheet_records += _record(0x000A, b"")

    def globals_with(position: int) -> bytes:
        boundsheet = _record(0x0085, struct.pack("<IBBBB", position, 0, 0, len(sheet), 1) + name)
        return _bof(0x0005) + _record(0x0042, struct.pack("<H", 1200)) + boundsheet + _record(0x000A, b"")

    position = len(globals_with(0))
    stream = globals_with(position) + sheet_records
    return _compound_file(stream.ljust(max(len(stream), 4096), b"\0"))  # 4096+: a regular, not a mini, stream


def _compound_file(stream: bytes) -> bytes:
    """A version-3 OLE2 file: header, one FAT sector, one directory sector, then the Workbook stream."""
    sector = 512
    stream_sectors = -(-len(stream) // sector)
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    fat = [fat_sector, end] + [2 + i + 1 for i in range(stream_sectors - 1)] + [end]
    fat += [free] * (sector // 4 - len(fat))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = (label + "\0").encode("utf-16-le") if label else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", free, free, child) + b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16
                + struct.pack("<III", start, size, 0))

    directory = (entry("Root Entry", 5, 1, end, 0) + entry("Workbook", 2, free, 2, len(stream))
                 + entry("", 0, free, free, 0) * 2)
    return (header + struct.pack(f"<{sector // 4}I", *fat) + directory
            + stream.ljust(stream_sectors * sector, b"\0"))


# ---------------------------------------------------------------- .png

def png_bytes(width: int, height: int, *, bits: int = 8, color_type: int = 2) -> bytes:
    """A black PNG of width x height: rows of zeros compress a thousandfold, so a 40-megapixel
    picture of 16-bit RGBA (bits=16, color_type=6) is some 300 KB. Written row by row, never whole."""
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    row = b"\x00" * (1 + (width * channels * bits + 7) // 8)  # filter byte, then the pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bits, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
