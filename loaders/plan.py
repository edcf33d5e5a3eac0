"""From a file to an import plan: sheets, header, column mapping, normalised rows (no database).

`prepare_import` is the entry point the CLI and the import page share; `apply_import`
(loaders.apply) takes the plan to the store.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from itertools import compress, repeat, zip_longest
from pathlib import Path

from loaders.errors import EmptyFile, NoHeaderFound, RowProblem
from loaders.gcpause import gc_paused
from loaders.normalise import (
    FIELD_LABELS,
    cell_text,
    check_length,
    clean_text,
    district_warning,
    id_birth_date,
    id_gender,
    id_column,
    id_info,
    lookup_district,
    lookup_street,
    mobile_column,
    name_column,
    normalise_activity_date,
    normalise_activity_kind,
    normalise_category,
    normalise_ethnicity,
    normalise_gender,
    normalise_id_number,
    normalise_party,
    normalise_phone,
    normalise_stage,
    normalise_status,
    normalise_text,
    parse_date,
    parse_when,
    refresh_today,
    split_tags,
)
from loaders.read import RawSheet, read_sheets
from loaders.reference import (
    ACTIVITY_FIELDS,
    ALL_FIELDS,
    FIELDS,
    IGNORE,
    Reference,
    header_key,
    load_reference,
    strip_bracketed,
)

# The person fields a row carries, in this order (tags travel separately).
PERSON_FIELDS = ("name", "gender", "ethnicity", "birth_date", "id_number", "phone", "party",
                 "category", "district", "street", "organization", "position", "education",
                 "title", "stage", "source")
F = {name: i for i, name in enumerate(PERSON_FIELDS)}
HEADER_SCAN_ROWS = 10

# What a file holds: person lists, or sign-up / check-in sheets (participations).
PERSONS, PARTICIPATIONS = "persons", "participations"
KINDS = ("auto", PERSONS, PARTICIPATIONS)
# An attendance sheet identifies the person (the same cascade as the people import) and
# never edits them: its other person columns are not read.
ATTENDANCE_PERSON_FIELDS = ("name", "birth_date", "id_number", "phone")
READ_FIELDS = {PERSONS: frozenset(FIELDS), PARTICIPATIONS: frozenset(ATTENDANCE_PERSON_FIELDS + ACTIVITY_FIELDS)}
_NOT_READ_NOTE = {
    PERSONS: "人员名单中不读取活动列 · activity columns are not read from a person list",
    PARTICIPATIONS: "签到表只用此列之外的姓名、身份证号、手机、出生日期识别人员，不修改人员信息 · "
                    "an attendance sheet identifies persons, it does not edit them: not read",
}

# Rows staff add below (or inside) a list that are not people: notes, signatures, totals.
NOTE_RE = re.compile(
    r"^[(（]?\s*(以下空白|以下无内容|以下无|此页无正文|填表人|制表人|审核人|审批人|填报人|负责人|经办人|"
    r"联系人|填报单位|填表单位|报送单位|单位盖章|填表日期|填报日期|制表日期|日期[:：]|签字|签名|盖章|"
    r"备注[:：]|说明[:：]|填表说明|注[:：]|注\s*\d|合计|总计|小计)")
_LABEL_COLON = re.compile(r"^[^\s:：]{1,12}[:：]")


@dataclass
class ColumnInfo:
    index: int  # 0-based column index
    letter: str  # the column letter a person sees (A, B, … AA)
    label: str  # the header text as shown (both rows joined for a two-row header)
    field: str | None  # a person field, "ignore" (序号) or None (not read)
    note: str | None = None


@dataclass
class SheetInfo:
    """What was detected on one sheet, for the page and the CLI to show."""

    name: str | None  # None for a CSV file
    visible: bool
    header_rows: tuple[int, ...]  # spreadsheet row numbers of the header (1 or 2 rows)
    columns: list[ColumnInfo]
    rows_read: int = 0

    @property
    def header_row(self) -> int:
        return self.header_rows[-1]

    @property
    def mapping(self) -> dict[str, str]:
        return {c.label: c.field for c in self.columns if c.field and c.field != IGNORE}

    @property
    def unmapped(self) -> list[str]:
        return [c.label for c in self.columns if c.label and not c.field]

    def missing_column(self, *fields: str) -> str:
        """Why a required value is missing when no column of this sheet maps to any of `fields`.

        A column that was not recognised is the likely cause (统战类别 before it was a
        synonym): the message names the unrecognised columns, not the empty cell.
        """
        what_zh = "、".join(FIELD_LABELS[f] for f in fields)
        what_en = " / ".join(f.replace("_", " ") for f in fields)
        unknown = [c.label for c in self.columns if c.label and not c.field and not c.note]
        if unknown:
            labels = "、".join(f"「{label}」" for label in unknown)
            return (f"没有识别出「{what_zh}」列（未识别的列：{labels}）：请在导入页「调整列映射」中指定该列，"
                    f"或把表头改为「{FIELD_LABELS[fields[0]]}」 · column not recognised: no column was read as "
                    f"{what_en} (columns not recognised: {', '.join(unknown)}); map it on the import page or "
                    f"rename the header")
        return (f"表中没有「{what_zh}」列：请添加该列后重新导入 · the sheet has no {what_en} column: add it and "
                f"import again")


@dataclass
class SkippedSheet:
    name: str
    reason: str


@dataclass(slots=True)
class RowPlan:
    sheet: str | None
    row: int  # the spreadsheet row number a person sees
    values: list  # PERSON_FIELDS order, None where empty
    tags: tuple[str, ...] | None
    mobile: bool  # the phone is an 11-digit mobile (usable for matching)
    warnings: list[tuple[str | None, str]] | None
    problems: list[tuple[str | None, str]] | None  # any: the row is rejected
    raw: list  # the cells as read, for the error report
    sheet_index: int
    # Attendance sheets: (title, (starts_at, has_time), status, (kind, online), organizer,
    # (registered_at, has_time), (checked_in_at, has_time)), None where empty.
    activity: tuple | None = None


@dataclass
class ImportPlan:
    file_name: str
    sha256: str
    kind: str  # xlsx | xls | csv
    sheets: list[SheetInfo]
    skipped: list[SkippedSheet]
    rows: list[RowPlan]
    notices: list[str] = field(default_factory=list)
    content: str = PERSONS  # persons | participations (told by the headers, or forced)

    @property
    def rows_read(self) -> int:
        return len(self.rows)


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------- header and mapping

def _label(value) -> str:
    return clean_text(cell_text(value)) if value not in (None, "") else ""


def match_label(label: str, ref: Reference, overrides: dict[str, str | None] | None = None) -> str | None:
    """The field a header label names: overrides first, then synonyms (whole, then without notes)."""
    if not label:
        return None
    key = header_key(label)
    if overrides:
        for candidate in (label, key):
            if candidate in overrides:
                return overrides[candidate] or None
    found = ref.synonyms.get(key)
    if found is None:
        found = ref.synonyms.get(strip_bracketed(key))
    return found


def _normalise_overrides(overrides: dict | None) -> dict[str, str | None] | None:
    if not overrides:
        return None
    out: dict[str, str | None] = {}
    for label, fld in overrides.items():
        if fld and fld not in ALL_FIELDS and fld != IGNORE:
            raise ValueError(f"unknown field {fld!r} in mapping override for {label!r}")
        out[str(label)] = fld or None
        out[header_key(str(label))] = fld or None
    return out


def find_header(rows: list[list], merged, ref: Reference, overrides=None, key_fields=frozenset({"name"})):
    """`(top, bottom)` 0-based header rows: the first of the first 10 rows naming 姓名 and one more field.

    Other imports (enterprises) name their own key fields: any one of them and one more field.
    """
    for r in range(min(HEADER_SCAN_ROWS, len(rows))):
        fields = [match_label(_label(v), ref, overrides) for v in rows[r]]
        named = {f for f in fields if f and f != IGNORE}
        if named & key_fields and len(named) >= 2:
            return _header_band(rows, merged, ref, overrides, r, fields)
    return None


def _header_band(rows, merged, ref, overrides, r, fields):
    merged = merged or []
    below = rows[r + 1] if r + 1 < len(rows) else []
    above = rows[r - 1] if r >= 1 else []
    # A two-row header under merged cells: vertical merges from this row into the next,
    # or horizontal group labels with labels beneath them.
    for (r0, c0), (r1, c1) in merged:
        if r0 == r and r1 >= r + 1:
            return r, r + 1
        if r0 == r and r1 == r and c1 > c0 and any(_label(v) for v in below[c0:c1 + 1]):
            if any(match_label(_label(v), ref, overrides) for v in below[c0:c1 + 1]):
                return r, r + 1
    for (r0, _c0), (r1, _c1) in merged:
        if r0 == r - 1 and r1 >= r:
            return r - 1, r
    # The same shapes without merge information (CSV, or merges removed).
    below_fields = [match_label(_label(v), ref, overrides) for v in below]
    if any(f and f != IGNORE for f in below_fields):
        clash = any(_label(v) and c < len(fields) and fields[c] for c, v in enumerate(below))
        if not clash:
            return r, r + 1
    above_fields = [match_label(_label(v), ref, overrides) for v in above]
    if any(f and f != IGNORE and (c >= len(rows[r]) or not _label(rows[r][c]))
           for c, f in enumerate(above_fields)):
        return r - 1, r
    return r, r


def map_columns(rows: list[list], top: int, bottom: int, ref: Reference, overrides=None,
                content: str = PERSONS) -> list[ColumnInfo]:
    """One ColumnInfo per header column: the lower row's label wins, else the upper one.

    Fields the `content` does not read (activity columns in a person list, person details
    in an attendance sheet) are listed as unmapped with a note.
    """
    readable = READ_FIELDS[content]
    width = max(len(rows[top]), len(rows[bottom]))
    columns: list[ColumnInfo] = []
    taken: dict[str, str] = {}
    for c in range(width):
        lower = _label(rows[bottom][c]) if c < len(rows[bottom]) else ""
        upper = _label(rows[top][c]) if top != bottom and c < len(rows[top]) else ""
        label = lower or upper
        fld = match_label(label, ref, overrides)
        note = None
        if fld and fld != IGNORE and fld not in readable:
            note = _NOT_READ_NOTE[content]
            fld = None
        elif fld and fld != IGNORE and fld in taken:
            note = f"与「{taken[fld]}」重复，未读取 · duplicate of {taken[fld]!r}, not read"
            fld = None
        elif fld and fld != IGNORE:
            taken[fld] = label
        columns.append(ColumnInfo(c, column_letter(c), label, fld, note))
    return columns


# ---------------------------------------------------------------- rows

class CellMemo(dict):
    """raw cell -> normalised value, computed once per distinct raw value (a dict lookup after)."""

    __slots__ = ("fn", "nonempty", "flags")

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.nonempty: dict = {"": False, None: False}
        self.flags: dict = {}  # raw -> (warning, problem) for the few values that have one
        self[""] = None
        self[None] = None

    def __missing__(self, raw):
        cell = raw
        if isinstance(raw, str):
            cell = clean_text(raw)
        nonempty = cell != ""
        self.nonempty[raw] = nonempty
        value = None
        if nonempty:
            try:
                value, warning = self.fn(cell)
                if warning:
                    self.flags[raw] = (warning, None)
            except RowProblem as exc:
                self.flags[raw] = (None, exc.message)
        self[raw] = value
        return value


def _text_field(name):
    # CellMemo hands over strings already cleaned; other cell types are made text here.
    def fn(v):
        value = v if isinstance(v, str) else clean_text(v)
        check_length(name, value)
        return (value or None), None
    return fn


def _cell_functions(ref: Reference) -> dict:
    def ethnicity(v):
        value, warning = normalise_ethnicity(v)
        check_length("ethnicity", value)
        return value, warning

    def phone(v):
        value, warning = normalise_phone(v)
        if value:
            check_length("phone", value[0])
        return value, warning

    def birth(v):
        value, month_only, warning = parse_date(v)
        return ((value, month_only) if value else None), warning

    def id_number(v):
        return id_info(v), None

    def district(v):
        text = clean_text(v)
        if not text:
            return None, None
        code, via_alias = lookup_district(text, ref)
        if code is None:
            return None, district_warning(text)
        return (code, text if via_alias else None), None  # an old name travels along: it gives a warning

    fns = {
        "name": _text_field("name"), "gender": normalise_gender, "ethnicity": ethnicity,
        "birth_date": birth, "id_number": id_number, "phone": phone,
        "party": lambda v: normalise_party(v, ref), "category": lambda v: normalise_category(v, ref),
        "district": district, "street": _text_field("street"), "tags": split_tags,
        "stage": normalise_stage,
    }
    for name in ("organization", "position", "education", "title", "source", "activity_title", "organizer"):
        fns[name] = _text_field(name)
    fns.update(activity_date=normalise_activity_date, status=normalise_status,
               activity_kind=normalise_activity_kind, registered_at=parse_when, checked_in_at=parse_when)
    return fns


_ID_BIRTH_WARNING = ("出生日期与身份证号不一致，已按身份证号 {id_date} 填写 · "
                     "birth date disagrees with the ID number: the ID's {id_date} is used")
_ID_GENDER_WARNING = ("性别与身份证号不一致，已按身份证号填写为{g_zh} · "
                      "gender disagrees with the ID number: the ID's {g_en} is used")
# A cell that could not be read would be left empty, but the ID number fills it: say so.
_ID_FILLED_BIRTH = ("出生日期「{text}」无法识别，已按身份证号填写为 {id_date} · "
                    "birth date {text!r} not recognised: the ID number's {id_date} is used")
_ID_FILLED_GENDER = ("性别「{text}」无法识别，已按身份证号填写为{g_zh} · "
                     "gender {text!r} not recognised: the ID number's {g_en} is used")
_OLD_DISTRICT = ("区县「{old}」是旧区划名称，已记为现行的「{new}」 · "
                 "{old} is a former district name: recorded as {new}")
_OLD_DISTRICT_BY_STREET = ("区县「{old}」是旧区划名称，已按街道「{street}」记为「{new}」 · "
                           "{old} is a former district name: recorded as {new}, where street {street} lies")


def _gender_words(gender: str) -> dict[str, str]:
    return {"g_zh": "男" if gender == "M" else "女", "g_en": "male" if gender == "M" else "female"}


def _reword(warnings: list, column: str | None, message: str) -> None:
    """Replace the warning a column's cell gave (there is at most one) with `message`."""
    for i, (where, _old) in enumerate(warnings):
        if where == column:
            warnings[i] = (column, message)
            return


# Unique columns (one distinct value per row): a memo would only cost, so the common
# plain form is checked in a tight loop and the rest goes through the memo.
_COLUMN_FAST_PATHS = {"id_number": id_column, "phone": mobile_column, "name": name_column}


class RowBuilder:
    """Normalises the data rows of one sheet, column by column.

    Per-column memos make each distinct raw value cost one normalisation; the per-cell
    work is C-level (`map` over dict lookups, `zip` to turn columns into rows).
    """

    extra_fields: tuple[str, ...] = ()  # read after PERSON_FIELDS, split off in _finish

    def __init__(self, sheet: SheetInfo, sheet_index: int, ref: Reference):
        self.sheet = sheet
        self.sheet_index = sheet_index
        self.ref = ref
        fns = _cell_functions(ref)
        self.specs = []  # (column index, field, memo, label)
        self.labels: dict[str, str | None] = {}
        self.indexes: dict[str, int] = {}
        for col in sheet.columns:
            if col.field and col.field != IGNORE:
                self.specs.append((col.index, col.field, CellMemo(fns[col.field]), col.label))
                self.labels[col.field] = col.label
                self.indexes[col.field] = col.index
        self.street_memo: dict = {}
        self.note_memo: dict = {}
        self.place_memo: dict = {}

    def label(self, fld: str) -> str | None:
        return self.labels.get(fld)

    def build_all(self, data: list[list], first_row_number: int) -> list[RowPlan]:
        """RowPlans for the rows that are persons (blank, notes and signatures skipped)."""
        n = len(data)
        if not n or not self.specs:
            return []
        by_field: dict[str, list] = {}
        flagged: dict[int, list] = {}
        # One C-level transposition; ragged rows (CSV) are padded with empty cells.
        raw_columns = list(zip_longest(*data, fillvalue=""))
        for index, fld, memo, label in self.specs:
            column = raw_columns[index] if index < len(raw_columns) else ("",) * n
            fast = _COLUMN_FAST_PATHS.get(fld)
            by_field[fld] = fast(column, memo.__getitem__) if fast else list(map(memo.__getitem__, column))
            if memo.flags:
                flags = memo.flags
                # The few flagged cells are found at C speed, not by a Python loop over the column.
                for i in compress(range(n), map(flags.__contains__, column)):
                    warning, problem = flags[column[i]]
                    flagged.setdefault(i, []).append((label, warning, problem))
        del raw_columns
        columns = [by_field.get(f) or repeat(None, n) for f in PERSON_FIELDS + self.extra_fields]
        tags = by_field.get("tags") or repeat(None, n)
        out = []
        note_memo = self.note_memo
        finish = self._finish
        filled_cells = self._filled_cells
        for i, values, row_tags in zip(range(n), zip(*columns), tags):
            # Fast path: two normalised values mean two non-empty cells; otherwise count exactly
            # (a cell can be non-empty yet normalise to nothing, e.g. an unknown gender).
            if len(values) - values.count(None) + (row_tags is not None) < 2 and filled_cells(data[i]) < 2:
                continue
            name = values[0]
            if name is None:
                if self._is_note(None, data[i]):
                    continue
            else:
                note = note_memo.get(name)
                if note is None:
                    note = note_memo[name] = bool(NOTE_RE.match(name))
                if note:
                    continue
            warnings = problems = None
            if i in flagged:
                for label, warning, problem in flagged[i]:
                    if warning:
                        (warnings := warnings or []).append((label, warning))
                    if problem:
                        (problems := problems or []).append((label, problem))
            out.append(finish(data[i], first_row_number + i, list(values), row_tags, warnings, problems))
        return out

    def _filled_cells(self, raw: list) -> int:
        width = len(raw)
        return sum(1 for index, _fld, memo, _label in self.specs
                   if index < width and raw[index] not in ("", None) and memo.nonempty.get(raw[index], True))

    def _is_note(self, name, raw) -> bool:
        if name is not None:
            return bool(NOTE_RE.match(name))
        for index, _fld, _memo, _label in self.specs:
            if index < len(raw):
                text = clean_text(raw[index]) if raw[index] not in ("", None) else ""
                if text and not (NOTE_RE.match(text) or _LABEL_COLON.match(text)):
                    return False
        return True

    def _finish(self, raw, row_number, values, tags, warnings, problems) -> RowPlan:
        label = self.labels.get
        if values[0] is None:
            (problems := problems or []).append((label("name"), "缺少姓名：请填写姓名 · name is missing: fill it in"))
        birth = values[3]
        id_number = values[4]
        if id_number:
            id_number, born, gender = id_number
            values[4] = id_number
            if birth is not None:
                day, month_only = birth
                differs = (day.year, day.month) != (born.year, born.month) if month_only else day != born
                if differs:
                    (warnings := warnings or []).append(
                        (label("birth_date"), _ID_BIRTH_WARNING.format(id_date=born.isoformat())))
            elif warnings and label("birth_date"):  # its cell could not be read: the ID's date is used
                _reword(warnings, label("birth_date"), _ID_FILLED_BIRTH.format(
                    text=self._cell(raw, "birth_date"), id_date=born.isoformat()))
            values[3] = born
            if values[1] is not None and values[1] != gender:
                (warnings := warnings or []).append(
                    (label("gender"), _ID_GENDER_WARNING.format(**_gender_words(gender))))
            elif values[1] is None and warnings and label("gender"):
                _reword(warnings, label("gender"), _ID_FILLED_GENDER.format(
                    text=self._cell(raw, "gender"), **_gender_words(gender)))
            values[1] = gender
        elif birth is not None:
            values[3] = birth[0]
        mobile = False
        if values[5] is not None:
            values[5], mobile = values[5]
        if values[8] is not None or values[9] is not None:
            key = (values[8], values[9])
            placed = self.place_memo.get(key)
            if placed is None:
                placed = self.place_memo[key] = self._place(list(values))
            values[8], values[9], moved = placed
            if moved:
                (warnings := warnings or []).append((label("district"), moved))
        if not problems and not id_number and not mobile and values[3] is None:
            column = label("id_number") or label("phone") or label("birth_date")
            (problems := problems or []).append((column, (
                "无法确认身份：身份证号、手机号、出生日期至少填一项 · "
                "nothing identifies the person: give an ID number, a mobile or a birth date") if column else
                self.sheet.missing_column("id_number", "phone", "birth_date")))
        return RowPlan(self.sheet.name, row_number, values, tags, mobile, warnings, problems, raw,
                       self.sheet_index)

    def _cell(self, raw, fld: str) -> str:
        index = self.indexes.get(fld)
        return clean_text(raw[index]) if index is not None and index < len(raw) else ""

    def _place(self, values) -> tuple[str | None, str | None, str | None]:
        """District code, street name and a warning when an old district name was mapped.

        An old district name defers to the street's district (江干区 + 白杨街道 -> 钱塘区).
        """
        district = values[8]
        code, old_name = district if district else (None, None)
        via_alias = old_name is not None
        street = values[9]
        if street is not None:
            key = (street, code, via_alias)
            found = self.street_memo.get(key)
            if found is None:
                candidates = lookup_street(street, self.ref, None if via_alias else code)
                parents = {r.parent_code for r in candidates}
                new_code = code
                if via_alias and len(parents) == 1:
                    new_code = parents.pop()
                inside = [r for r in candidates if r.parent_code == new_code] if new_code else candidates
                name = inside[0].name if len(inside) == 1 else street
                found = self.street_memo[key] = (new_code, name)
            code, values[9] = found
        values[8] = code
        moved = None
        if via_alias:
            template = _OLD_DISTRICT if code == district[0] else _OLD_DISTRICT_BY_STREET
            moved = template.format(old=old_name, new=self.ref.district_names.get(code, code), street=street)
        return code, values[9], moved


class AttendanceRowBuilder(RowBuilder):
    """A sign-up / check-in sheet: the person's identity plus the activity and the status."""

    extra_fields = ACTIVITY_FIELDS

    def _finish(self, raw, row_number, values, tags, warnings, problems) -> RowPlan:
        n = len(PERSON_FIELDS)
        activity = tuple(values[n:])
        del values[n:]
        plan = super()._finish(raw, row_number, values, tags, warnings, problems)
        title, when, status = activity[:3]
        label = self.labels.get
        flagged = {column for column, _message in plan.problems or ()}
        for fld, value, message in (
                ("activity_title", title, "缺少活动名称 · activity title is missing"),
                ("activity_date", when, "缺少活动日期 · activity date is missing"),
                ("status", status, "缺少状态：请填 报名、审核通过、未通过、签到 或 缺席 · status is missing")):
            column = label(fld)
            if value is None and (column is None or column not in flagged):
                # Identity problems come first in the message: they are what staff fix first.
                plan.problems = (plan.problems or []) + [
                    (column, message if column else self.sheet.missing_column(fld))]
        plan.activity = activity
        return plan


# ---------------------------------------------------------------- entry point

def _read_source(source, file_name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not file_name:
            raise ValueError("file_name is required when passing bytes")
        return bytes(source), file_name
    if hasattr(source, "read"):
        data = source.read()
        return data, file_name or getattr(source, "name", "upload")
    path = Path(source)
    return path.read_bytes(), file_name or str(source)


def prepare_import(source, file_name: str | None = None, mapping_overrides: dict | None = None,
                   *, reference: Reference | None = None, kind: str = "auto") -> ImportPlan:
    """Read, detect sheets/header/mapping, normalise and validate: everything but the store.

    `source` is a path, bytes or a binary file object; `mapping_overrides` maps a header
    label (as shown) to a field name, or to None to ignore that column. `kind` is
    `persons`, `participations` (sign-up / check-in sheets) or `auto`: told by the headers.
    Raises an `UnreadableFile` subclass when the file cannot be read at all.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    with gc_paused():
        return _prepare(source, file_name, mapping_overrides, reference, kind)


def _prepare(source, file_name, mapping_overrides, reference, kind) -> ImportPlan:
    data, file_name = _read_source(source, file_name)
    refresh_today()
    ref = reference or load_reference()
    overrides = _normalise_overrides(mapping_overrides)
    file_kind, raw_sheets = read_sheets(data, file_name)
    plan = ImportPlan(file_name=file_name, sha256=hashlib.sha256(data).hexdigest(), kind=file_kind,
                      sheets=[], skipped=[], rows=[])
    del data
    csv_file = file_kind == "csv"
    found = [(raw_sheet, band) for raw_sheet in raw_sheets
             if (band := _sheet_header(plan, raw_sheet, ref, overrides, csv_file=csv_file))]
    plan.content = kind if kind != "auto" else detect_content(found, ref, overrides)
    for raw_sheet, band in found:
        _plan_sheet(plan, raw_sheet, band, ref, overrides, csv_file=csv_file)
    if not plan.sheets:
        if all(not s.rows for s in raw_sheets):
            raise EmptyFile("文件中没有任何数据：请确认选择了正确的文件 · the file holds no data: check you picked the right file")
        reasons = "；".join(f"{s.name}：{s.reason}" if s.name else s.reason for s in plan.skipped)
        if plan.content == PARTICIPATIONS:
            raise NoHeaderFound(
                "没有找到签到表的表头：前 10 行中应有一行包含「姓名」和「活动名称」"
                f"（{reasons}） · no attendance header found: one of the first 10 rows must name 姓名 and 活动名称")
        raise NoHeaderFound(
            "没有找到表头：前 10 行中应有一行包含「姓名」及至少一个其他列名（如 身份证号、手机）"
            f"（{reasons}） · no header found: one of the first 10 rows must name 姓名 and another known column")
    return plan


def _header_fields(raw_sheet: RawSheet, band, ref: Reference, overrides) -> set[str]:
    top, bottom = band
    return {match_label(_label(v), ref, overrides) for r in range(top, bottom + 1) for v in raw_sheet.rows[r]}


def detect_content(found, ref: Reference, overrides=None) -> str:
    """`participations` when a sheet's header names an activity (活动名称), else `persons`."""
    for raw_sheet, band in found:
        if "activity_title" in _header_fields(raw_sheet, band, ref, overrides):
            return PARTICIPATIONS
    return PERSONS


def _skip(plan: ImportPlan, raw_sheet: RawSheet, reason: str, *, notice: bool = True) -> None:
    plan.skipped.append(SkippedSheet(raw_sheet.name, reason))
    if notice:
        plan.notices.append(f"已跳过工作表「{raw_sheet.name}」：{reason} · skipped sheet {raw_sheet.name!r}")


def _sheet_header(plan: ImportPlan, raw_sheet: RawSheet, ref: Reference, overrides, *, csv_file: bool):
    """The sheet's header band, or None (the sheet is skipped with a notice)."""
    if not raw_sheet.rows:
        _skip(plan, raw_sheet, "空工作表 · empty sheet")
        return None
    band = find_header(raw_sheet.rows, raw_sheet.merged, ref, overrides)
    if band is None:
        _skip(plan, raw_sheet, "前 10 行没有包含「姓名」的表头 · no header naming 姓名 in the first 10 rows",
              notice=not csv_file)
    return band


def _plan_sheet(plan: ImportPlan, raw_sheet: RawSheet, band, ref: Reference, overrides, *, csv_file: bool) -> None:
    rows = raw_sheet.rows
    if plan.content == PARTICIPATIONS and "activity_title" not in _header_fields(raw_sheet, band, ref, overrides):
        _skip(plan, raw_sheet, "签到表中没有「活动名称」列 · no 活动名称 column in an attendance file")
        return
    top, bottom = band
    info = SheetInfo(name=None if csv_file else raw_sheet.name, visible=raw_sheet.visible,
                     header_rows=tuple(range(top + 1, bottom + 2)),
                     columns=map_columns(rows, top, bottom, ref, overrides, plan.content))
    sheet_index = len(plan.sheets)
    plan.sheets.append(info)
    builder = AttendanceRowBuilder if plan.content == PARTICIPATIONS else RowBuilder
    built = builder(info, sheet_index, ref).build_all(rows[bottom + 1:], bottom + 2)
    plan.rows.extend(built)
    info.rows_read = len(built)


def field_label(fld: str) -> str:
    return FIELD_LABELS.get(fld, fld)
