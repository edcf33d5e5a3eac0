"""Importing registry and vendor exports of enterprises: 工商信息, 股东信息, 失信被执行人, 行政处罚, 经营异常.

One file may hold one sheet per kind, or one kind per file; a sheet's kind is told by its
columns (股东 → shareholders; 案号, 执行法院, 履行情况, 风险类型 … → risk records; else the
enterprises themselves). The person import's machinery is reused: reading (hostile files
refused by `read_sheets`), header detection (title rows, two-row merged headers) and
column synonyms from a data file a deployment extends (data/enterprise_columns.csv).

A file is one transaction: an `import_batch` row and one change set (source `import`)
holding every write, so `undo_enterprise_import` puts the store back as it was. Rows are
identified by 统一社会信用代码 (a row without one may name an enterprise already stored);
a rejected row is reported with the reason and written to the error report, the rest land.
After the enterprises are saved, persons whose 工作单位 names one of them get a suggested
link (method `name`, with a confidence) that staff confirm.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, insert, select, update

from loaders.normalise import clean_text, normalise_date
from loaders.plan import ColumnInfo, column_letter, find_header, match_label
from loaders.read import read_sheets
from loaders.reference import DATA_DIR, IGNORE, Reference, header_key
from loaders.errors import NoHeaderFound
from store import clock
from store import enterprises as ent
from store.cells import ILLEGAL_CHARACTERS, neutralise
from store.changes import WriteRefused, open_change_set
from store.credit_code import InvalidCreditCode, parse
from store.engine import writing
from store.schema import enterprise, import_batch
from store.scope import EVERYTHING, Scope

ENTERPRISES, SHAREHOLDERS, RISKS = "enterprises", "shareholders", "risks"
ORDER = (ENTERPRISES, SHAREHOLDERS, RISKS)  # enterprises land first, so a later sheet can refer to them
FIELDS = ("credit_code", "name", "legal_representative", "registered_capital", "founded_on", "status", "industry",
          "address", "holder_name", "holder_kind", "subscribed_amount", "share", "risk_kind", "case_number",
          "authority", "filed_on", "obligation", "performance", "published_on", "source")
KEY_FIELDS = frozenset({"name", "credit_code"})
RISK_COLUMNS = frozenset({"risk_kind", "case_number", "authority", "obligation", "performance", "filed_on",
                          "published_on"})
# Words in a cell, a sheet name or a file name that tell a risk record's kind (first match wins).
RISK_WORDS = (("失信", "dishonest"), ("异常", "abnormal"), ("处罚", "penalty"), ("被执行", "court"),
              ("法院", "court"), ("裁判", "court"), ("开庭", "court"), ("诉讼", "court"), ("公告", "court"),
              ("dishonest", "dishonest"), ("abnormal", "abnormal"), ("penalty", "penalty"), ("court", "court"))
HOLDER_KINDS = (("自然人", "person"), ("个人", "person"), ("person", "person"), ("法人", "enterprise"),
                ("企业", "enterprise"), ("公司", "enterprise"), ("合伙", "enterprise"), ("enterprise", "enterprise"))
_COMPANY_WORDS = re.compile(r"(公司|企业|合伙|中心|集团|合作社|事务所|厂|研究院|基金)")
LENGTHS = {"name": 200, "legal_representative": 64, "status": 32, "industry": 100, "address": 300,
           "holder_name": 200, "case_number": 100, "authority": 100, "performance": 32, "source": 64}
REASON_COLUMN = "错误原因"


@lru_cache(maxsize=2)
def load_columns(data_dir: Path = DATA_DIR) -> Reference:
    """The header synonyms (data/enterprise_columns.csv) in the shape the header finder reads."""
    import csv

    synonyms = {f: f for f in FIELDS}
    with open(data_dir / "enterprise_columns.csv", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            fld = (row["field"] or "").strip()
            if fld not in FIELDS and fld != IGNORE:
                raise ValueError(f"enterprise_columns.csv: unknown field {fld!r}")
            synonyms[header_key(row["synonym"])] = fld
    return Reference(synonyms, {}, {}, {}, {}, {}, {})


# ---------------------------------------------------------------- values

_AMOUNT = re.compile(r"^([0-9][0-9,]*(?:\.[0-9]+)?)(亿|万|千)?元?(.*)$")
_CURRENCIES = {"": "人民币", "人民币": "人民币", "rmb": "人民币", "cny": "人民币", "美元": "美元", "usd": "美元",
               "港元": "港元", "港币": "港元", "hkd": "港元", "欧元": "欧元", "eur": "欧元", "日元": "日元"}


def parse_amount(value) -> tuple[float | None, str | None, str | None]:
    """`(amount in 万, currency, warning)`: `1000万元人民币`, `100万美元`, `5000000元`, `1亿`, a number cell (万)."""
    if value is None or value == "":
        return None, None, None
    if isinstance(value, bool):
        return None, None, _amount_warning(str(value))
    if isinstance(value, (int, float)):
        return (float(value), None, None) if value >= 0 else (None, None, _amount_warning(str(value)))
    text = clean_text(value).replace(" ", "").lower()
    if not text:
        return None, None, None
    found = _AMOUNT.match(text)
    currency = _CURRENCIES.get(found[3]) if found else None
    if not found or currency is None:
        return None, None, _amount_warning(text)
    number = float(found[1].replace(",", ""))
    unit = found[2]
    if unit == "亿":
        number *= 10_000
    elif unit == "千":
        number /= 10
    elif unit is None and "元" in text:
        number /= 10_000  # plain 元
    return number, currency, None


def _amount_warning(text: str) -> str:
    return (f"金额「{text}」无法识别，已留空：请写成 1000万元人民币 或 1000 · "
            f"amount {text!r} not recognised, left empty: write it as 1000万元人民币 or 1000")


def parse_share(value) -> tuple[float | None, str | None]:
    """A share in percent: `60%`, `60`, or a fraction (an Excel percentage cell holds 0.6)."""
    if value is None or value == "":
        return None, None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)):
            number, percent = float(value), False
        else:
            text = clean_text(value).replace(" ", "")
            percent = text.endswith("%")
            number = float(text.rstrip("%"))
    except ValueError:
        number, percent = -1.0, True
    if not percent and 0 < number <= 1:
        number *= 100
    if not 0 <= number <= 100:
        return None, (f"持股比例「{value}」不在 0–100% 之间，已留空 · share {value!r} is not between 0 and 100%, left empty")
    return round(number, 4), None


def word_kind(text: str | None, words) -> str | None:
    text = (text or "").lower()
    return next((kind for word, kind in words if word in text), None)


def holder_kind(value, name: str) -> str:
    told = word_kind(clean_text(value), HOLDER_KINDS)
    if told:
        return told
    return "enterprise" if _COMPANY_WORDS.search(name) else "person" if len(name) <= 6 else "other"


def company_name(value) -> str:
    """The registered form: clean text, brackets full-width as registries write them."""
    return clean_text(value).replace("(", "（").replace(")", "）")


# ---------------------------------------------------------------- the plan

@dataclass
class EnterpriseRow:
    sheet: str | None
    sheet_index: int
    row: int  # the spreadsheet row number a person sees
    kind: str
    values: dict
    raw: list
    warnings: list[tuple[str | None, str]] = field(default_factory=list)
    problems: list[tuple[str | None, str]] = field(default_factory=list)


@dataclass
class EnterpriseSheet:
    name: str | None
    kind: str
    header_rows: tuple[int, int]  # 1-based, as a person sees them
    columns: list[ColumnInfo]
    rows_read: int = 0


@dataclass
class EnterprisePlan:
    file_name: str
    sha256: str
    sheets: list[EnterpriseSheet]
    rows: list[EnterpriseRow]
    notices: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.rows)


def _label(value) -> str:
    return clean_text(value) if value not in (None, "") else ""


def _map(rows, top: int, bottom: int, ref: Reference) -> list[ColumnInfo]:
    """One ColumnInfo per header column, the lower row's label winning; a second column for a field is not read."""
    width = max(len(rows[top]), len(rows[bottom]))
    taken: dict[str, str] = {}
    out = []
    for c in range(width):
        lower = _label(rows[bottom][c]) if c < len(rows[bottom]) else ""
        upper = _label(rows[top][c]) if top != bottom and c < len(rows[top]) else ""
        label = lower or upper
        fld, note = match_label(label, ref), None
        if fld and fld != IGNORE and fld in taken:
            fld, note = None, f"与「{taken[fld]}」重复，未读取 · duplicate of {taken[fld]!r}, not read"
        elif fld and fld != IGNORE:
            taken[fld] = label
        out.append(ColumnInfo(c, column_letter(c), label, fld, note))
    return out


def sheet_kind(fields: set[str]) -> str:
    if "holder_name" in fields:
        return SHAREHOLDERS
    if fields & RISK_COLUMNS:
        return RISKS
    return ENTERPRISES


def prepare_enterprise_import(source, file_name: str | None = None) -> EnterprisePlan:
    """Read and check a file: everything but the store. Raises an UnreadableFile subclass when it cannot be read."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = Path(source).read_bytes()
        file_name = file_name or str(source)
    ref = load_columns()
    _kind, raw_sheets = read_sheets(data, file_name)
    plan = EnterprisePlan(file_name=file_name, sha256=hashlib.sha256(data).hexdigest(), sheets=[], rows=[])
    for index, raw in enumerate(raw_sheets):
        band = find_header(raw.rows, raw.merged, ref, key_fields=KEY_FIELDS)
        if band is None:
            if raw.rows:
                plan.notices.append(f"工作表「{raw.name}」没有可识别的表头，已跳过 · sheet {raw.name!r} has no header, skipped")
            continue
        columns = _map(raw.rows, band[0], band[1], ref)
        fields = {c.field for c in columns if c.field and c.field != IGNORE}
        kind = sheet_kind(fields)
        sheet = EnterpriseSheet(raw.name or None, kind, (band[0] + 1, band[1] + 1), columns)
        hint = word_kind(f"{raw.name} {Path(file_name).stem}", RISK_WORDS)
        for r in range(band[1] + 1, len(raw.rows)):
            cells = raw.rows[r]
            values = {c.field: cells[c.index] for c in columns
                      if c.field and c.field != IGNORE and c.index < len(cells) and _label(cells[c.index])}
            if len(values) < 2:
                continue  # blank, numbered-empty, notes, signatures, （以下空白）
            row = EnterpriseRow(sheet.name, len(plan.sheets), r + 1, kind, {}, list(cells))
            _normalise_row(row, values, hint)
            plan.rows.append(row)
            sheet.rows_read += 1
        plan.sheets.append(sheet)
    if not plan.sheets:
        raise NoHeaderFound("没有找到表头：前 10 行中应有一行包含「企业名称」或「统一社会信用代码」及至少一个其他列名 · "
                            "no header found: one of the first 10 rows must name 企业名称 or 统一社会信用代码 and another column")
    _mark_duplicates(plan)
    return plan


def _normalise_row(row: EnterpriseRow, cells: dict, hint: str | None) -> None:
    v = row.values
    for fld, raw in cells.items():
        if fld == "credit_code":
            try:
                parsed = parse(raw)
            except InvalidCreditCode as exc:
                row.problems.append((fld, str(exc)))
                continue
            v[fld] = parsed.code
            if parsed.warning:
                row.warnings.append((fld, parsed.warning))
        elif fld in ("name", "holder_name"):
            v[fld] = company_name(raw)
        elif fld in ("registered_capital", "subscribed_amount"):
            amount, currency, warning = parse_amount(raw)
            v[fld] = amount
            if fld == "registered_capital" and amount is not None:
                v["capital_currency"] = currency or "人民币"
            if warning:
                row.warnings.append((fld, warning))
        elif fld == "share":
            v[fld], warning = parse_share(raw)
            if warning:
                row.warnings.append((fld, warning))
        elif fld in ("founded_on", "filed_on", "published_on"):
            v[fld], warning = normalise_date(raw)
            if warning:
                row.warnings.append((fld, warning))
        else:
            v[fld] = clean_text(raw) or None
    for fld, limit in LENGTHS.items():
        if v.get(fld) and len(v[fld]) > limit:
            row.problems.append((fld, f"内容超过 {limit} 个字，无法保存 · longer than {limit} characters"))
    if "credit_code" not in v and not v.get("name") and not any(p[0] == "credit_code" for p in row.problems):
        row.problems.append((None, "没有统一社会信用代码，也没有企业名称 · neither a credit code nor a name"))
    if row.kind == ENTERPRISES:
        if "credit_code" not in v and not any(p[0] == "credit_code" for p in row.problems):
            row.problems.append(("credit_code", "缺少统一社会信用代码 · the credit code is missing"))
        if not v.get("name"):
            row.problems.append(("name", "缺少企业名称 · the name is missing"))
    elif row.kind == SHAREHOLDERS:
        if not v.get("holder_name"):
            row.problems.append(("holder_name", "缺少股东名称 · the shareholder's name is missing"))
        else:
            v["holder_kind"] = holder_kind(v.get("holder_kind"), v["holder_name"])
    else:
        kind = word_kind(v.get("risk_kind"), RISK_WORDS) or hint
        if kind is None:
            row.problems.append(("risk_kind", "无法判断风险类型：请填写「风险类型」列（失信被执行人、法院公告、行政处罚、经营异常） · "
                                              "risk kind unknown: fill in 风险类型"))
        v["risk_kind"] = kind


def _identity(row: EnterpriseRow):
    v = row.values
    who = v.get("credit_code") or v.get("name")
    if row.kind == ENTERPRISES:
        return (row.kind, who)
    if row.kind == SHAREHOLDERS:
        return (row.kind, who, v.get("holder_name"))
    return (row.kind, who, v.get("risk_kind"), v.get("case_number") or (v.get("published_on"), v.get("obligation")))


def _mark_duplicates(plan: EnterprisePlan) -> None:
    """A second row for the same thing in one file: applied after the first (it wins), with a warning."""
    seen: dict[tuple, EnterpriseRow] = {}
    for row in plan.rows:
        if row.problems:
            continue
        key = _identity(row)
        if key in seen:
            first = seen[key]
            where = f"{first.sheet}!" if first.sheet else ""
            row.warnings.append((None, f"与第 {where}{first.row} 行重复，后一行的内容覆盖前一行 · "
                                       f"duplicate of row {where}{first.row}; this later row wins"))
        seen[key] = row


# ---------------------------------------------------------------- applying

@dataclass(kw_only=True)
class BatchCounts:
    """What a batch written as one change set did (an enterprise import, a sync)."""

    dry_run: bool
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    batch_id: int | None = None
    change_set_id: int | None = None
    errors: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


@dataclass
class EnterpriseResult(BatchCounts):
    file: str
    links_suggested: int = 0
    by_kind: dict = field(default_factory=dict)
    warning_list: list[dict] = field(default_factory=list)
    rejected_rows: list[tuple[EnterpriseRow, str]] = field(default_factory=list)
    sheets: list[EnterpriseSheet] = field(default_factory=list)

    @property
    def warnings(self) -> int:
        return len(self.warning_list)

    def to_json(self) -> dict:
        keys = ("file", "rows_read", "inserted", "updated", "unchanged", "rejected", "warnings", "links_suggested",
                "batch_id", "change_set_id", "by_kind", "errors")
        return {k: getattr(self, k) for k in keys} | {"dry_run": self.dry_run}


class _Rollback(Exception):
    """A dry run: everything was applied to learn the counts; the transaction is rolled back."""


def _entry(row: EnterpriseRow, column: str | None, message: str, plan_sheet: EnterpriseSheet) -> dict:
    label = next((c.label for c in plan_sheet.columns if c.field == column), column) if column else None
    return {"sheet": row.sheet, "row": row.row, "column": label, "message": message}


def apply_enterprise_import(engine: Engine, plan: EnterprisePlan, *, dry_run: bool = False,
                            imported_by: str | None = None, scope: Scope = EVERYTHING) -> EnterpriseResult:
    """One transaction: an import_batch and one change set; `dry_run` applies it all and rolls back.

    `scope` is the importer's: link suggestions are made only for persons inside it.
    """
    result = EnterpriseResult(file=plan.file_name, dry_run=dry_run, rows_read=plan.rows_read,
                              notices=list(plan.notices), sheets=plan.sheets)
    now = clock.now()
    try:
        with writing(engine) as conn:
            batch_id = conn.execute(insert(import_batch).values(
                file_name=plan.file_name[-255:], sha256=plan.sha256, imported_at=now, imported_by=imported_by,
                rows_read=plan.rows_read, status="running").returning(import_batch.c.id)).scalar_one()
            cs = open_change_set(conn, "import", imported_by, f"导入企业数据 {Path(plan.file_name).name}",
                                 import_batch_id=batch_id, now=now, scope=scope)
            touched: set[int] = set()
            for kind in ORDER:
                for row in plan.rows:
                    if row.kind == kind:
                        _apply_row(cs, row, result, touched, Path(plan.file_name).name[:64])
            result.links_suggested = ent.suggest_links(cs, sorted(touched))
            conn.execute(update(import_batch).where(import_batch.c.id == batch_id).values(
                inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
                rejected=result.rejected, status="done"))
            cs.close(action="import", detail={"batch_id": batch_id, "file": plan.file_name, "kind": "enterprises",
                                              "sha256": plan.sha256, "links_suggested": result.links_suggested,
                                              **{k: getattr(result, k) for k in
                                                 ("rows_read", "inserted", "updated", "unchanged", "rejected")}})
            if dry_run:
                raise _Rollback
            result.batch_id, result.change_set_id = batch_id, cs.id
    except _Rollback:
        pass
    return result


def _apply_row(cs, row: EnterpriseRow, result: EnterpriseResult, touched: set[int], source: str) -> None:
    sheet = result.sheets[row.sheet_index]
    for column, message in row.warnings:
        result.warning_list.append(_entry(row, column, message, sheet))
    problems = list(row.problems)
    v = row.values
    eid = None
    if not problems and row.kind != ENTERPRISES:
        eid = _enterprise_of(cs, v)
        if isinstance(eid, str):
            problems.append(("credit_code" if v.get("credit_code") else "name", eid))
    if not problems:
        try:
            # Every refusal comes before its verb writes anything: no savepoint is needed.
            outcome = _save(cs, row, eid, source, touched)
        except WriteRefused as exc:
            problems.append((None, str(exc)))
    if problems:
        result.rejected += 1
        message = "；".join(m for _c, m in problems)
        result.rejected_rows.append((row, message))
        for column, m in problems:
            result.errors.append(_entry(row, column, m, sheet))
        return
    setattr(result, outcome, getattr(result, outcome) + 1)
    counts = result.by_kind.setdefault(row.kind, {"inserted": 0, "updated": 0, "unchanged": 0})
    counts[outcome] += 1


def _enterprise_of(cs, v: dict) -> int | str:
    """The stored enterprise a shareholder or risk row names, or the message why there is none."""
    if v.get("credit_code"):
        found = ent.enterprise_id_for(cs, v["credit_code"])
        if found is None:
            return (f"库中没有统一社会信用代码为 {v['credit_code']} 的企业：请先导入其工商信息 · "
                    f"no enterprise with credit code {v['credit_code']}: import its registry data first")
        return found
    ids = list(cs.conn.execute(select(enterprise.c.id).where(
        enterprise.c.name_key == ent.name_key(v.get("name")))).scalars())
    if len(ids) == 1:
        return ids[0]
    if not ids:
        return (f"库中没有名为「{v.get('name')}」的企业，且未填写统一社会信用代码 · "
                f"no enterprise named {v.get('name')!r} and no credit code given")
    return f"名为「{v.get('name')}」的企业不止一家：请填写统一社会信用代码 · several enterprises have this name: give the credit code"


def _save(cs, row: EnterpriseRow, eid: int | None, source: str, touched: set[int]) -> str:
    v = row.values
    if row.kind == ENTERPRISES:
        keep = ("credit_code", "name", "legal_representative", "registered_capital", "capital_currency", "founded_on",
                "status", "industry", "address")
        eid, outcome = ent.save_enterprise(cs, {k: v.get(k) for k in keep} | {"source": v.get("source") or source})
        touched.add(eid)
        return outcome
    if row.kind == SHAREHOLDERS:
        return ent.save_shareholder(cs, eid, dict(name=v["holder_name"], kind=v.get("holder_kind"),
                                                  subscribed_amount=v.get("subscribed_amount"), share=v.get("share"),
                                                  source=v.get("source") or source))[1]
    keep = ("case_number", "authority", "filed_on", "obligation", "performance", "published_on")
    return ent.save_risk(cs, eid, {k: v.get(k) for k in keep} | {"kind": v["risk_kind"],
                                                                 "source": v.get("source") or source})[1]


# ---------------------------------------------------------------- the error report
# (Undo: loaders.undo.undo_batch, as for every batch.)

def write_enterprise_error_report(result: EnterpriseResult, out) -> int:
    """The rejected rows as they were, one sheet per source sheet, plus 错误原因: fix and import again."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    by_sheet: dict[int, list] = {}
    for row, message in result.rejected_rows:
        by_sheet.setdefault(row.sheet_index, []).append((row, message))
    used: set[str] = set()
    for index in sorted(by_sheet) or [0]:
        sheet = result.sheets[index] if result.sheets else None
        title = re.sub(r"[\[\]:*?/\\]", "_", ILLEGAL_CHARACTERS.sub("", (sheet.name if sheet else None) or "错误行"))[:28]
        while title in used:
            title += "_"
        used.add(title)
        ws = wb.create_sheet(title or "错误行")
        if sheet:
            ws.append([neutralise(c.label) for c in sheet.columns] + [REASON_COLUMN])
        for row, message in by_sheet.get(index, []):
            ws.append([neutralise(v) for v in row.raw] + [neutralise(f"第 {row.row} 行：{message}")])
    wb.save(out)
    return len(result.rejected_rows)


def result_line(result: EnterpriseResult) -> str:
    counts = ", ".join(f"{k} {getattr(result, k)}" for k in ("rows_read", "inserted", "updated", "unchanged",
                                                              "rejected", "warnings", "links_suggested"))
    head = "（演练，未写入 · dry run, nothing written）" if result.dry_run else f"batch {result.batch_id}"
    return f"{result.file}: {counts} — {head}"


def to_json_line(result: EnterpriseResult) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False, default=str)


# ---------------------------------------------------------------- the person import's credit-code column

ROLE_WORDS = (("股东", "shareholder"), ("董事", "executive"), ("经理", "executive"), ("总裁", "executive"),
              ("监事", "executive"), ("厂长", "executive"), ("总监", "executive"), ("ceo", "executive"))
LINKED_NOTE = "用于关联企业 · links the person to the enterprise"


@dataclass
class CodeLinks:
    linked: int = 0          # links made (or, in a dry run, that would be made)
    unknown: int = 0         # codes of enterprises not in the store yet
    invalid: int = 0         # cells that are not valid codes (a warning each; the person row stands)


def credit_code_columns(plan) -> dict[int, int]:
    """sheet index -> the column of a person sheet that holds 统一社会信用代码 (not a person field)."""
    ref = load_columns()
    found = {}
    for index, sheet in enumerate(plan.sheets):
        for column in sheet.columns:
            if not column.field and match_label(column.label, ref) == "credit_code":
                found[index] = column.index
                column.note = LINKED_NOTE
                break
    return found


def link_persons_by_code(engine: Engine, plan, result, *, imported_by: str | None = None,
                         dry_run: bool = False, scope: Scope = EVERYTHING) -> CodeLinks:
    """After a person import: link each accepted row's person to the enterprise its credit-code cell names.

    The person is found as the import found them (ID number, then name and mobile, then name
    and birth date); the role is legal representative when the registry names the person so,
    else read from the position (股东, 董事, 经理 …), else employee. One change set of its own
    (source import), undone on its own; a code of an enterprise not yet imported is reported.
    """
    from loaders.plan import F

    columns = credit_code_columns(plan)
    report = CodeLinks()
    if not columns:
        return report
    rejected = {id(row) for row, _m in result.rejected_rows}
    wanted = []
    for row in plan.rows:
        at = columns.get(row.sheet_index)
        if at is None or id(row) in rejected or at >= len(row.raw) or not _label(row.raw[at]):
            continue
        try:
            code = parse(row.raw[at]).code
        except InvalidCreditCode as exc:
            report.invalid += 1
            result.warning_list.append({"sheet": row.sheet, "row": row.row, "column": plan.sheets[row.sheet_index]
                                        .columns[at].label, "message": f"{exc}（人员已导入，未关联企业 · the person was "
                                                                       f"imported, not linked）"})
            continue
        wanted.append((row, code))
    if not wanted:
        return report
    try:
        with writing(engine) as conn:
            reason = (f"按统一社会信用代码关联企业（第 {result.batch_id} 批人员导入） · "
                      f"links by credit code (person import batch {result.batch_id})")
            cs = open_change_set(conn, "import", imported_by, reason, scope=scope)
            for row, code in wanted:
                firm = conn.execute(select(enterprise.c.id, enterprise.c.legal_representative)
                                    .where(enterprise.c.credit_code == code)).first()
                if firm is None:
                    report.unknown += 1
                    continue
                # A dry run inserted nobody: a row whose enterprise is stored would be linked.
                pid = None if dry_run else _person_of(conn, row.values, F, scope)
                if dry_run or pid is None:
                    report.linked += dry_run
                    continue
                name, position = row.values[F["name"]], (row.values[F["position"]] or "").lower()
                role = ("legal_representative" if name == firm.legal_representative
                        else word_kind(position, ROLE_WORDS) or "employee")
                if ent.link_person(cs, pid, firm.id, role, method="credit_code")[1] != ent.UNCHANGED:
                    report.linked += 1
            cs.close(action="link", detail={"person_batch": result.batch_id, "linked": report.linked})
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    if report.linked or report.unknown:
        result.notices.append(
            f"按统一社会信用代码关联企业 {report.linked} 人；{report.unknown} 个代码的企业尚未导入（导入企业数据后重新导入本表即可关联） · "
            f"linked {report.linked} persons to enterprises by credit code; {report.unknown} codes name enterprises "
            f"not imported yet (import them, then this file again)")
    return report


def _person_of(conn, values: list, F: dict, scope: Scope) -> int | None:
    """The one stored person in `scope` a row names: by ID number, else name and mobile, else name and birth date."""
    from store.schema import person

    p = person.c
    inside = scope.person_clause(person)
    for cond in ([p.id_number == values[F["id_number"]]] if values[F["id_number"]] else None,
                 [p.name == values[F["name"]], p.phone == values[F["phone"]]] if values[F["phone"]] else None,
                 [p.name == values[F["name"]], p.birth_date == values[F["birth_date"]]]
                 if values[F["birth_date"]] else None):
        if cond is None:
            continue
        ids = conn.execute(select(p.id).where(*cond, *([] if inside is None else [inside])).limit(2)).scalars().all()
        if ids:
            return ids[0] if len(ids) == 1 else None
    return None
