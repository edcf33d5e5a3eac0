"""Syncing another department's roster: a SQL query on its database, or a JSON feed, applied as one change set.

    python -m loaders sync NAME --sql URL --query "SELECT 姓名, 身份证号, … FROM …"
    python -m loaders sync NAME --json https://…/roster.json   (or a file: a list of objects, or {"data": [...]})

The roster's columns are named as a spreadsheet's would be (姓名, 身份证号, 统战对象类别 …, or
the field names): the rows go through the people import's reading, normalising and
validation unchanged (they are handed over as a CSV), and are matched by its identity
cascade (ID number, then name and mobile, then name and birth date). They are written
through the one write path: a change set with source `sync` (so `person.updated_via =
sync`), non-empty values overwrite, empty ones never erase, tags are added, a stage
change is a stage event. The run is an `import_batch` (file name `sync:NAME`) whose
change set `python -m loaders undo BATCH_ID` undoes. A roster that changes nothing
writes nothing (no batch, no change set, no version bump) and says so in the audit log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text, update

from loaders.apply import PERSON_COLUMNS, load_candidates, match_person
from loaders.enterprises import BatchCounts
from loaders.errors import UnreadableFile
from loaders.plan import F, ImportPlan, prepare_import
from store import audit, clock
from store.changes import WriteRefused, open_change_set
from store.engine import writing
from store.schema import import_batch

MAX_FEED_BYTES = 50 << 20
FEED_TIMEOUT_SECONDS = 60


class RosterUnreadable(UnreadableFile):
    """The roster could not be fetched or read; the message says why."""


@dataclass
class SyncResult(BatchCounts):
    name: str

    def to_json(self) -> dict:
        keys = ("name", "dry_run", "rows_read", "inserted", "updated", "unchanged", "rejected", "batch_id",
                "change_set_id", "errors")
        return {k: getattr(self, k) for k in keys}


# ---------------------------------------------------------------- reading a roster

def roster_from_sql(url: str, query: str) -> tuple[list[str], list[list]]:
    """(column names, rows) of a query on another department's database (read only: rolled back)."""
    source = create_engine(url)
    try:
        with source.connect() as conn:
            result = conn.execute(text(query))
            columns = list(result.keys())
            rows = [list(r) for r in result]
            conn.rollback()
    except Exception as exc:  # noqa: BLE001 - any driver's failure becomes one readable line
        raise RosterUnreadable(f"无法从数据库读取名单：{str(exc).splitlines()[0][:200]} · "
                               f"could not read the roster from the database") from None
    finally:
        source.dispose()
    return columns, rows


def roster_from_json(location: str) -> tuple[list[str], list[list]]:
    """(column names, rows) of a JSON feed: a URL or a file holding a list of objects, or {"data": [...]}."""
    try:
        if location.startswith(("http://", "https://")):
            with urllib.request.urlopen(location, timeout=FEED_TIMEOUT_SECONDS) as resp:
                raw = resp.read(MAX_FEED_BYTES + 1)
        else:
            raw = Path(location).read_bytes()[:MAX_FEED_BYTES + 1]
    except OSError as exc:
        raise RosterUnreadable(f"无法读取名单：{exc} · could not fetch the roster") from None
    if len(raw) > MAX_FEED_BYTES:
        raise RosterUnreadable("名单超过 50 MB · the roster is larger than 50 MB")
    try:
        feed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RosterUnreadable("名单不是有效的 JSON · the roster is not valid JSON") from None
    items = feed.get("data") if isinstance(feed, dict) else feed
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise RosterUnreadable('名单应为对象列表，或 {"data": [...]} · the roster must be a list of objects, '
                               'or {"data": [...]}')
    columns = list(dict.fromkeys(k for item in items for k in item))
    return columns, [[item.get(c) for c in columns] for item in items]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def prepare_sync(name: str, columns: list[str], rows: list[list]) -> ImportPlan:
    """The roster as the people importer plans a file: header detection, synonyms, normalising, checks."""
    if not rows:
        raise RosterUnreadable("名单是空的 · the roster is empty")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(c) for c in columns])
    writer.writerows([_cell(v) for v in row] for row in rows)
    return prepare_import(buf.getvalue().encode("utf-8"), f"sync-{name}.csv", kind="persons")


# ---------------------------------------------------------------- applying

class _Rollback(Exception):
    """Nothing changed, or a dry run: the transaction is rolled back."""


def apply_sync(engine: Engine, plan: ImportPlan, name: str, *, actor: str | None = None,
               dry_run: bool = False) -> SyncResult:
    """Apply a roster as one change set (source sync); the same roster twice changes nothing the second time."""
    result = SyncResult(name=name, dry_run=dry_run, rows_read=plan.rows_read, notices=list(plan.notices))
    now = clock.now()
    try:
        with writing(engine) as conn:
            batch_id = conn.execute(insert(import_batch).values(
                file_name=f"sync:{name}"[:255], sha256=plan.sha256, imported_at=now, imported_by=actor,
                rows_read=plan.rows_read, status="running").returning(import_batch.c.id)).scalar_one()
            cs = open_change_set(conn, "sync", actor, f"同步 {name} · sync of {name}", import_batch_id=batch_id,
                                 now=now)
            view = load_candidates(conn, [r for r in plan.rows if not r.problems], True)
            for row in plan.rows:
                _apply_row(cs, view, plan, row, result)
            if not (result.inserted or result.updated) or dry_run:
                raise _Rollback
            conn.execute(update(import_batch).where(import_batch.c.id == batch_id).values(
                inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
                rejected=result.rejected, status="done"))
            cs.close(action="sync", detail={"batch_id": batch_id, "name": name, **{
                k: getattr(result, k) for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")}})
            result.batch_id, result.change_set_id = batch_id, cs.id
    except _Rollback:
        if not dry_run:
            audit.record_now(engine, actor, "sync", {"name": name, "changed": 0, "unchanged": result.unchanged,
                                                     "rejected": result.rejected})
            result.notices.append("名单与库中一致，未做任何修改 · the roster matches the store: nothing changed")
    return result


def _reject(result: SyncResult, row, message: str) -> None:
    result.rejected += 1
    result.errors.append({"row": row.row - 1, "message": message})  # the roster's row, not the CSV's line


def _apply_row(cs, view, plan, row, result: SyncResult) -> None:
    if row.problems:
        _reject(result, row, "；".join(m for _c, m in row.problems))
        return
    pid, ambiguous = match_person(row, view)
    if ambiguous:
        _reject(result, row, "匹配到多个已有人员，无法确定是谁：请补充身份证号 · matches more than one person")
        return
    values = {PERSON_COLUMNS[i]: v for i, v in enumerate(row.values) if v is not None}
    try:
        if pid is None:
            if "category_code" not in values:
                _reject(result, row, "新增人员缺少统战对象类别 · a new person needs a category")
                return
            pid = cs.add_person(values)
            view.add(pid, list(row.values))
            if row.tags:
                cs.add_tags(pid, row.tags, create=True)
            result.inserted += 1
            return
        stage = values.pop("stage", None)
        changed = bool(cs.edit_person(pid, values))
        if stage and stage != view.persons[pid][F["stage"]]:
            cs.move_stage(pid, stage, note=f"同步 {result.name}")
            changed = True
        if row.tags and cs.add_tags(pid, row.tags, create=True):
            changed = True
    except WriteRefused as exc:
        _reject(result, row, str(exc))
        return
    if changed:
        before = list(view.persons[pid])
        view.persons[pid][:len(row.values)] = [v if v is not None else c for v, c in zip(row.values, before)]
        view.reindex(pid, before, view.persons[pid])
        result.updated += 1
    else:
        result.unchanged += 1


def sync_line(result: SyncResult) -> str:
    counts = ", ".join(f"{k} {getattr(result, k)}" for k in ("rows_read", "inserted", "updated", "unchanged",
                                                              "rejected"))
    head = "（演练，未写入 · dry run, nothing written）" if result.dry_run else f"batch {result.batch_id}"
    return f"sync {result.name}: {counts} — {head}"
