"""The error report: rejected rows as they were, in their original columns, plus 错误原因.

Staff correct the rows in this file and import it again: the header row repeats the
original labels (so it maps the same way) and 错误原因 is simply not read.

Every text cell goes through `store.cells.neutralise`: a rejected cell such as `=1+2` or
`+86 138…` is written as text with a leading `'`, never as a live formula, and control
characters are dropped (the importer reads the `'` as the text marker it is).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from loaders.apply import ImportResult
from loaders.plan import ImportPlan, RowPlan, SheetInfo
from store.cells import ILLEGAL_CHARACTERS, neutralise
from store.mappings import REASON_COLUMN

_TEXT_FIELDS = {"id_number", "phone", "birth_date"}


def rejected_rows(result_or_plan: ImportResult | ImportPlan) -> list[tuple[RowPlan, str]]:
    if isinstance(result_or_plan, ImportResult):
        return result_or_plan.rejected_rows
    return [(r, "；".join(m for _c, m in r.problems)) for r in result_or_plan.rows if r.problems]


def _cell_value(v):
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    if isinstance(v, (dt.timedelta, dt.time)):
        return str(v)
    return neutralise(v)


def _header(info: SheetInfo) -> list:
    return [neutralise(c.label) for c in info.columns] + [REASON_COLUMN]


def _reason(row: RowPlan, message: str) -> str:
    return neutralise(f"第 {row.row} 行：{message}")


def _sheet_title(name: str | None, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", ILLEGAL_CHARACTERS.sub("", name or "错误行"))[:31] or "错误行"
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}_{n}"
        n += 1
    used.add(title)
    return title


def write_error_report(result_or_plan: ImportResult | ImportPlan, out) -> int:
    """Write the rejected rows to `out` (a path ending .xlsx or .csv, or a binary file object).

    Returns the number of rows written.
    """
    rows = rejected_rows(result_or_plan)
    sheets: list[SheetInfo] = result_or_plan.sheets
    if isinstance(out, (str, Path)) and str(out).lower().endswith(".csv"):
        return _write_csv(rows, sheets, out)
    # Imported here: openpyxl costs a tenth of a second to load, and most imports write no report.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    used: set[str] = set()
    by_sheet: dict[int, list[tuple[RowPlan, str]]] = {}
    for row, message in rows:
        by_sheet.setdefault(row.sheet_index, []).append((row, message))
    if not by_sheet:
        ws = wb.create_sheet(_sheet_title(sheets[0].name if sheets else None, used))
        if sheets:
            ws.append(_header(sheets[0]))
    for index, items in by_sheet.items():
        info = sheets[index]
        ws = wb.create_sheet(_sheet_title(info.name, used))
        width = len(info.columns)
        text_columns = {c.index for c in info.columns if c.field in _TEXT_FIELDS}
        ws.append(_header(info))
        for row, message in items:
            cells = []
            for c in range(max(width, len(row.raw))):
                v = _cell_value(row.raw[c]) if c < len(row.raw) else None
                cell = WriteOnlyCell(ws, value=None if v == "" else v)
                if c in text_columns and isinstance(v, str):
                    cell.number_format = "@"
                elif isinstance(v, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(v, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            cells = cells[:width] if width >= len(row.raw) or not any(row.raw[width:]) else cells
            while len(cells) < width:
                cells.append(None)
            ws.append(cells + [_reason(row, message)])
    wb.save(out)
    return len(rows)


def _write_csv(rows, sheets, out) -> int:
    buf = io.StringIO()
    writer = csv.writer(buf)
    if sheets:
        writer.writerow(_header(sheets[0]))
    for row, message in rows:
        writer.writerow([_cell_value(v) if v is not None else "" for v in row.raw] + [_reason(row, message)])
    Path(out).write_text(buf.getvalue(), encoding="utf-8-sig", newline="")
    return len(rows)
