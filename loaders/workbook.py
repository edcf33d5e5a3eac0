"""Reading a workbook (.xlsx/.xlsm/.xls) so that no file can take the calling process down.

python-calamine makes a sheet dense from its used range: one stray cell at XFD1048576 of
a 2 KB file asks for ~512 GiB and aborts the process (a Rust abort: no Python exception to
catch), and a cell at XFD3000 costs ~2 GB. An .xls sheet's DIMENSIONS record is trusted
the same way. So a workbook is parsed in a child process (`python -m loaders.workbook`):

1. Before any parser runs, the child reads each sheet's declared used range (an .xlsx
   sheet's `<dimension>`, an .xls sheet's DIMENSIONS record) and refuses one over
   `MAX_CELLS`.
2. calamine then parses under an address-space limit (`CHILD_MEMORY_BYTES`), so a range
   that was not declared, or declared falsely, fails inside the child. The range calamine
   built is checked again before any Python rows are made from it.
3. The rows come back pickled, a few thousand at a time (the parent unpickles while the
   child pickles), and are unpickled with only the datetime types allowed.

A crash, a memory failure or a timeout of the child becomes an `UnreadableFile` with a
bilingual message; the server or the CLI carries on.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from loaders.errors import CorruptFile, PasswordProtected, SheetTooLarge
from store.isolation import limit_memory

log = logging.getLogger(__name__)

# Rows x columns of the range a sheet is read as (from A1), per sheet and for the workbook.
# 100k rows x 100 columns, or a million rows x 10; the benchmark's roster is 100k x 20.
MAX_CELLS = 10_000_000
# Address space of the child: MAX_CELLS of real content stays well below it.
CHILD_MEMORY_BYTES = 3 << 30
# A roster at MAX_CELLS parses in about 15 s; a child stuck after a failed allocation is stopped.
CHILD_TIMEOUT_SECONDS = 180
# Children reading at once in one process (the server's sessions): the others wait their turn,
# so a burst of hostile uploads costs at most this many times CHILD_MEMORY_BYTES.
CONCURRENT_READS = 2
_slots = threading.BoundedSemaphore(CONCURRENT_READS)
_ROWS_PER_MESSAGE = 5_000
_ROOT = Path(__file__).resolve().parent.parent
# The head of a sheet's XML where `<dimension>` sits (before `<sheetData>`).
_HEAD_BYTES = 64 << 10
_MAX_WORKBOOK_XML = 8 << 20

PASSWORD_MESSAGE = ("工作簿设置了打开密码，无法读取：请在 Excel 中取消密码（文件 → 信息 → 保护工作簿）后另存再导入 · "
                    "the workbook is password-protected: remove the password in Excel, save, and import again")


def damaged(detail: str) -> CorruptFile:
    return CorruptFile(f"文件已损坏，无法打开：请在 Excel 中打开并另存后再导入 · "
                       f"the file is damaged and cannot be opened ({detail}): open it in Excel and save it again")


def column_letters(column: int) -> str:
    """1 -> A, 16384 -> XFD."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def too_large(sheet: str | None, rows: int, columns: int, limit: int) -> SheetTooLarge:
    cells = rows * columns
    where_zh = f"工作表「{sheet}」" if sheet else "文件"
    where_en = f"sheet {sheet!r}" if sheet else "the file"
    span = f"A1:{column_letters(columns)}{rows}"
    return SheetTooLarge(
        f"{where_zh}的已用区域为 {span}（{rows:,} 行 × {columns:,} 列 = {cells:,} 个单元格），超过上限 {limit:,}，"
        "已拒绝读取：多半是远处有误填或带格式的单元格。请在 Excel 中按 Ctrl+End 找到它，删除多余的行和列后另存再导入 · "
        f"{where_en} spans {span} ({cells:,} cells), over the limit of {limit:,}, and was refused: usually a stray or "
        "formatted cell far away. Press Ctrl+End in Excel to find it, delete the extra rows and columns, save and "
        "import again")


def _workbook_too_large(cells: int, limit: int) -> SheetTooLarge:
    return SheetTooLarge(
        f"工作簿各表的已用区域合计 {cells:,} 个单元格，超过上限 {limit:,}，已拒绝读取：请删除多余的行、列或工作表后另存再导入 · "
        f"the workbook's sheets span {cells:,} cells together, over the limit of {limit:,}, and were refused: delete "
        "extra rows, columns or sheets, save and import again")


def _out_of_memory(limit_bytes: int) -> SheetTooLarge:
    mb = limit_bytes >> 20
    return SheetTooLarge(
        f"读取该文件需要超过 {mb} MB 内存，已拒绝：文件的已用区域极大或已损坏。请删除多余的行和列（Excel 中按 Ctrl+End 可找到最后一个单元格），"
        f"或另存后再导入 · reading this file would need more than {mb} MB of memory and was refused: it spans a huge "
        "range or is damaged. Delete the extra rows and columns (Ctrl+End in Excel finds the last cell), or save it "
        "again, and import that")


# ---------------------------------------------------------------- parent side

_ALLOWED_GLOBALS = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta")}


class _RowsUnpickler(pickle.Unpickler):
    """Cell values only: a child that a hostile file had subverted still cannot run code here."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def read_workbook(data: bytes, kind: str) -> list[tuple[str, list[list], list | None, bool]]:
    """`(name, rows, merged ranges, visible)` per worksheet; raises an `UnreadableFile` subclass.

    `kind` is "xlsx" or "xls". Row i is spreadsheet row i+1, every row as wide as the
    sheet's used range; trailing empty rows are dropped.
    """
    with _slots:
        return _read_in_child(data, kind, MAX_CELLS, CHILD_MEMORY_BYTES)


def _read_in_child(data: bytes, kind: str, limit: int, memory: int) -> list:
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loaders.workbook", kind, str(limit), str(memory)],
            cwd=_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            # A panic's backtrace allocates while memory is already exhausted.
            env={**os.environ, "RUST_BACKTRACE": "0"})
        timed_out = threading.Event()
        timer = threading.Timer(CHILD_TIMEOUT_SECONDS, lambda: (timed_out.set(), proc.kill()))
        timer.start()
        try:
            try:
                proc.stdin.write(data)
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # the child ended early: its exit status tells why
            sheets, last = _receive(proc.stdout)
            proc.stdout.close()
            # wait4, not wait: the child's peak memory tells a memory failure from a crash.
            _, wait_status, usage = os.wait4(proc.pid, 0)
            proc.returncode = status = os.waitstatus_to_exitcode(wait_status)
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr.seek(0)
        errors = stderr.read()[-4000:].decode("utf-8", "replace")
    if last is not None and last[0] == "end" and status == 0:
        return sheets
    if last is not None and last[0] == "refuse":
        raise _refusal(last[1], last[2], limit, memory)
    log.warning("workbook reader stopped (status %s, timed out %s): %s", status, timed_out.is_set(), errors.strip())
    if timed_out.is_set():
        raise SheetTooLarge(
            f"读取该文件超过 {CHILD_TIMEOUT_SECONDS} 秒仍未完成，已停止：请拆分文件或另存后再导入 · "
            f"reading this file took over {CHILD_TIMEOUT_SECONDS} s and was stopped: split it or save it again")
    near_limit = usage.ru_maxrss * 1024 > memory // 2  # ru_maxrss is in KiB
    if near_limit or any(sign in errors for sign in ("memory allocation", "MemoryError", "capacity overflow")):
        raise _out_of_memory(memory)
    raise damaged(f"the reader stopped with status {status}")


def _receive(stream) -> tuple[list, tuple | None]:
    sheets: list = []
    while True:
        try:
            message = _RowsUnpickler(stream).load()
            if message[0] == "sheet":
                sheets.append((message[1], [], message[2], message[3]))
            elif message[0] == "rows":
                sheets[-1][1].extend(message[1])
            else:
                return sheets, message
        except Exception:  # EOF, a cut-off or malformed message: the child died (its status says how)
            return sheets, None


def _refusal(code: str, detail: dict, limit: int, memory: int) -> Exception:
    if code == "too_large":
        return too_large(detail.get("sheet"), detail["rows"], detail["columns"], limit)
    if code == "workbook_too_large":
        return _workbook_too_large(detail["cells"], limit)
    if code == "memory":
        return _out_of_memory(memory)
    if code == "password":
        return PasswordProtected(PASSWORD_MESSAGE)
    if code == "sheet_damaged":
        name = detail["sheet"]
        return CorruptFile(f"工作表「{name}」已损坏，无法读取：请在 Excel 中另存后再导入 · "
                           f"sheet {name!r} is damaged ({detail['error']})")
    return damaged(detail.get("error", code))


# ---------------------------------------------------------------- declared used ranges (child side)

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([^"]{1,40})"')
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def _cell_position(ref: str) -> tuple[int, int] | None:
    """'XFD3000' -> (3000, 16384): 1-based row and column."""
    match = _CELL_REF.fullmatch(ref.strip())
    if not match:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column


def xlsx_declared_ranges(data: bytes) -> list[tuple[str, int, int]]:
    """`(sheet, last row, last column)` for each worksheet whose XML declares its used range."""
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for sheet, part in _xlsx_sheet_parts(zf):
            with zf.open(part) as fh:
                head = fh.read(_HEAD_BYTES)
            end = head.find(b"sheetData")
            match = _DIMENSION.search(head, 0, end if end >= 0 else len(head))
            if not match:
                continue
            corners = [_cell_position(c) for c in match.group(1).decode("ascii", "replace").split(":")]
            if all(corners):
                found.append((sheet, max(r for r, _ in corners), max(c for _, c in corners)))
    return found


def _xlsx_sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, zip member) per worksheet; the member's own name where the workbook says none."""
    members = {i.filename.lower(): i for i in zf.infolist()}
    parts = [(n.filename, n.filename) for n in zf.infolist()
             if n.filename.lower().startswith("xl/worksheets/") and n.filename.lower().endswith(".xml")]
    try:
        book, rels = members.get("xl/workbook.xml"), members.get("xl/_rels/workbook.xml.rels")
        if not book or not rels or max(book.file_size, rels.file_size) > _MAX_WORKBOOK_XML:
            return parts
        targets = {el.get("Id"): el.get("Target", "") for el in ElementTree.fromstring(zf.read(rels)).iter()
                   if el.tag.endswith("Relationship")}
        named = {}
        for el in ElementTree.fromstring(zf.read(book)).iter():
            if not el.tag.endswith("}sheet"):
                continue
            rel = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rel, "").lstrip("/")
            path = target if target.lower().startswith("xl/") else f"xl/{target}"
            if path.lower() in members:
                named[members[path.lower()].filename] = el.get("name") or path
        return [(named.get(part, part), part) for _, part in parts]
    except (ElementTree.ParseError, KeyError, ValueError):
        return parts


def _biff_records(stream: bytes, offset: int):
    while offset + 4 <= len(stream):
        typ, length = struct.unpack_from("<HH", stream, offset)
        yield typ, stream[offset + 4:offset + 4 + length]
        offset += 4 + length


def xls_declared_ranges(data: bytes) -> list[tuple[str, int, int]]:
    """`(sheet, last row, last column)` from each worksheet's BIFF DIMENSIONS record."""
    from xlrd.compdoc import CompDoc  # a pure-Python reader of the OLE2 container

    doc = CompDoc(data, logfile=io.StringIO())
    for stream_name in ("Workbook", "Book"):
        mem, base, size = doc.locate_named_stream(stream_name)
        if mem is not None:
            break
    else:
        return []
    stream = bytes(mem[base:base + size])
    sheets, codec, biff8 = [], "latin-1", True
    for typ, body in _biff_records(stream, 0):
        if typ == 0x0809 and len(body) >= 2:  # BOF: the BIFF version
            biff8 = struct.unpack_from("<H", body)[0] == 0x0600
        elif typ == 0x0042 and len(body) >= 2:  # CODEPAGE, for BIFF5 sheet names
            codec = f"cp{struct.unpack_from('<H', body)[0]}"
        elif typ == 0x0085 and len(body) >= 8:  # BOUNDSHEET: where the sheet starts, its type and name
            position, sheet_type = struct.unpack_from("<I", body)[0], body[5]
            sheets.append((position, sheet_type, _biff_sheet_name(body[6:], biff8, codec)))
        elif typ == 0x000A:  # EOF of the workbook globals
            break
    found = []
    for position, sheet_type, name in sheets:
        if sheet_type != 0:
            continue
        for index, (typ, body) in enumerate(_biff_records(stream, position)):
            if typ == 0x0200:  # DIMENSIONS: first row, last row + 1, first column, last column + 1
                if len(body) >= 14:
                    rows, columns = struct.unpack_from("<I", body, 4)[0], struct.unpack_from("<H", body, 10)[0]
                elif len(body) >= 10:
                    rows, columns = struct.unpack_from("<H", body, 2)[0], struct.unpack_from("<H", body, 6)[0]
                else:
                    break
                found.append((name, rows, columns))
                break
            if typ == 0x000A or index > 1000:
                break
    return found


def _biff_sheet_name(raw: bytes, biff8: bool, codec: str) -> str:
    if not raw:
        return ""
    count = raw[0]
    if biff8 and len(raw) >= 2:
        text = raw[2:2 + count * 2] if raw[1] & 1 else raw[2:2 + count]
        return text.decode("utf-16-le" if raw[1] & 1 else "latin-1", "replace")
    try:
        return raw[1:1 + count].decode(codec, "replace")
    except LookupError:
        return raw[1:1 + count].decode("latin-1")


# ---------------------------------------------------------------- the child

class _Refused(Exception):
    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code, self.detail = code, detail


def _check_ranges(ranges, limit: int) -> None:
    """Refuse a sheet, or a workbook, whose used ranges (read from A1) exceed `limit` cells."""
    total = 0
    for sheet, rows, columns in ranges:
        if rows * columns > limit:
            raise _Refused("too_large", sheet=sheet, rows=rows, columns=columns)
        total += rows * columns
    if total > limit:
        raise _Refused("workbook_too_large", cells=total)


def trim_trailing_empty(rows: list[list]) -> list[list]:
    # Formatted-but-empty rows at the bottom (a million of them, sometimes) carry nothing.
    end = len(rows)
    while end and not any(v != "" and v is not None for v in rows[end - 1]):
        end -= 1
    if end < len(rows):
        del rows[end:]
    return rows


def _parse(data: bytes, kind: str, limit: int, send) -> None:
    try:
        declared = xlsx_declared_ranges(data) if kind == "xlsx" else xls_declared_ranges(data)
    except Exception:  # a container the pre-check cannot follow: calamine decides, under the cap
        declared = []
    _check_ranges(declared, limit)

    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise _Refused("password") from None
    except Exception as exc:  # calamine reports damage through several exception types
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise _Refused("password") from None
        raise _Refused("damaged", error=f"{type(exc).__name__}: {exc}") from None
    built = []
    with workbook:
        for meta in workbook.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
                end = sheet.end
                # The range calamine built, read from A1 as the rows will be: checked before
                # a single Python row is made from it.
                built.append((meta.name, end[0] + 1, end[1] + 1) if end else (meta.name, 0, 0))
                _check_ranges(built, limit)
                rows = sheet.to_python(skip_empty_area=False) if end else []
                merged = sheet.merged_cell_ranges
            except python_calamine.PasswordError:
                raise _Refused("password") from None
            except (_Refused, MemoryError):
                raise
            except Exception as exc:
                raise _Refused("sheet_damaged", sheet=meta.name, error=f"{type(exc).__name__}: {exc}") from None
            del sheet
            trim_trailing_empty(rows)
            send(("sheet", meta.name, merged, meta.visible == python_calamine.SheetVisibleEnum.Visible))
            for start in range(0, len(rows), _ROWS_PER_MESSAGE):
                send(("rows", rows[start:start + _ROWS_PER_MESSAGE]))
            del rows


def _child_main(argv: list[str]) -> int:
    kind, limit, memory = argv[0], int(argv[1]), int(argv[2])
    limit_memory(memory)
    import gc

    gc.disable()  # short-lived, and its rows hold no reference cycles
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer

    def send(message) -> None:
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        # No memo: rows of plain values hold no shared or circular references, and without
        # it pickling costs a quarter and unpickling two thirds.
        pickler.fast = True
        pickler.dump(message)

    try:
        _parse(data, kind, limit, send)
        send(("end",))
    except _Refused as refused:
        send(("refuse", refused.code, refused.detail))
    except MemoryError:
        send(("refuse", "memory", {}))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
