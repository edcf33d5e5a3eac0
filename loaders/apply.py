"""Taking an import plan to the store: identity cascade, merge rules, one transaction per file.

Matching is set-based: the store's candidates for the file's ID numbers, mobiles and
names are loaded in a few IN-queries, then rows are applied in file order against
in-memory indexes (so a later row can match a person inserted earlier in the file).
Writes are bulk executemany statements in chunks. Every change is recorded in
`import_change` (the person's previous values, the tags added) for `undo_batch`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress
from operator import and_, attrgetter, is_not, itemgetter, ne, not_, truth

from sqlalchemy import Connection, Engine, func, insert, select, text, update

from store import clock
from loaders.gcpause import gc_paused
from loaders.plan import F, PARTICIPATIONS, PERSON_FIELDS, ImportPlan, RowPlan, SheetInfo
from store.engine import writing
from store.schema import audit_log, import_batch, person
from store.scope import EVERYTHING, Scope, write_refusal
from store.version import bump_data_version

# person.<column> for each PERSON_FIELDS slot
PERSON_COLUMNS = tuple({"category": "category_code", "district": "district_code"}.get(f, f)
                       for f in PERSON_FIELDS)
_STAGE = F["stage"]
_NAME, _BIRTH, _ID, _PHONE, _CATEGORY = F["name"], F["birth_date"], F["id_number"], F["phone"], F["category"]
_DISTRICT, _STREET = F["district"], F["street"]
CHUNK = 5000
# Bookkeeping restored by undo along with the person fields.
BOOKKEEPING = ("updated_at", "updated_via", "import_batch_id")

Progress = Callable[[float, str], None]


@dataclass
class ImportResult:
    file: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    persons_total: int = 0
    batch_id: int | None = None
    errors: list[dict] = field(default_factory=list)
    warning_list: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    dry_run: bool = False
    earlier_batches: list[int] = field(default_factory=list)
    sheets: list[SheetInfo] = field(default_factory=list)
    rejected_rows: list[tuple[RowPlan, str]] = field(default_factory=list)  # for the error report
    content: str = "persons"  # persons | participations: what inserted/updated/unchanged count

    def to_json(self) -> dict:
        """The fields of the CLI contract (IMPORT.md), then `warning_list`: what the warnings say.

        `warning_list` holds one {sheet, row, column, message} per warning, like `errors`: a
        value corrected or ignored, or a decision the importer took (an old district name, a
        new tag, the same person twice) that the clerk should see.
        """
        return {
            "file": self.file, "rows_read": self.rows_read, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected,
            "warnings": self.warnings, "persons_total": self.persons_total,
            "batch_id": self.batch_id, "errors": self.errors, "warning_list": self.warning_list,
        }


# ---------------------------------------------------------------- SQL helpers

def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _sql(conn: Connection, sql: str) -> str:
    return sql if _is_sqlite(conn) else sql.replace("?", "%s")


def bulk_execute(conn: Connection, sql: str, rows: list[tuple]) -> None:
    """executemany in chunks; `sql` uses `?` placeholders (rewritten for psycopg)."""
    if not rows:
        return
    statement = _sql(conn, sql)
    for start in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(statement, rows[start:start + CHUNK])


# Below this many new rows a bulk load keeps the indexes: rebuilding costs more than it saves.
BULK_REBUILD_MIN = 20_000


def bulk_insert(conn: Connection, table: str, sql: str, rows: list[tuple]) -> None:
    """`bulk_execute` of an INSERT into `table`; on SQLite, a load at least as large as the
    table drops the table's secondary indexes first and builds them again after.

    Building an index from sorted input is about twice as fast as growing it one random
    key at a time (100k persons: 0.7 s instead of 1.4 s). It is safe here: the writer holds
    the store's write lock and WAL readers keep seeing the last commit, indexes included.
    The indexes are re-created from their own stored DDL, so whatever the store has, it keeps.
    """
    if not _is_sqlite(conn) or len(rows) < BULK_REBUILD_MIN:
        bulk_execute(conn, sql, rows)
        return
    existing = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar() or 0
    indexes = [] if len(rows) < existing else conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,)).all()
    for name, _ddl in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    bulk_execute(conn, sql, rows)
    for _name, ddl in indexes:
        conn.exec_driver_sql(ddl)


def _select_in(conn: Connection, sql: str, column: str, values: list) -> list[tuple]:
    """Rows of `sql` (ending in WHERE … AND) with `column` in `values`, a few queries in all."""
    out: list[tuple] = []
    if not values:
        return out
    if _is_sqlite(conn):
        # The driver's own cursor, in the same transaction: rows come back as plain tuples,
        # without a result wrapper per row (100k persons on a re-import).
        cursor = conn.connection.cursor()
        try:
            for start in range(0, len(values), CHUNK):
                chunk = values[start:start + CHUNK]
                marks = ",".join("?" * len(chunk))
                cursor.execute(f"{sql} {column} IN ({marks})", chunk)
                out.extend(cursor.fetchall())
        finally:
            cursor.close()
    else:
        for start in range(0, len(values), 50_000):
            chunk = values[start:start + 50_000]
            out.extend(conn.exec_driver_sql(f"{sql} {column} = ANY(%s)", (chunk,)).fetchall())
    return out


def _db_date(conn: Connection):
    if _is_sqlite(conn):
        return lambda v: v.isoformat() if v is not None else None
    return lambda v: v


def _db_datetime(conn: Connection, value: dt.datetime):
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if _is_sqlite(conn) else value


# ---------------------------------------------------------------- the store side of matching

_PERSON_SELECT = "SELECT id, " + ", ".join(PERSON_COLUMNS) + ", " + ", ".join(BOOKKEEPING) + \
    " FROM person WHERE"


class StoreView:
    """The store's candidate persons for one file, indexed for the identity cascade."""

    def __init__(self):
        self.persons: dict[int, list] = {}  # id -> PERSON_FIELDS values (+ bookkeeping after)
        self.by_id: dict[str, int] = {}
        self.by_name_phone: dict[tuple, list[int]] = {}
        self.by_name_birth: dict[tuple, list[int]] = {}
        self.tags: dict[int, set[str]] = {}
        # ID numbers of the file held by persons outside the importer's scope: those persons
        # are not candidates (see load_candidates); a commit rejects rows that carry them.
        self.hidden_ids: set[str] = set()

    def add(self, pid: int, values: list) -> None:
        self.persons[pid] = values
        self._index(pid, values)

    def _index(self, pid: int, values: list) -> None:
        if values[_ID]:
            self.by_id[values[_ID]] = pid
        self.index_names(pid, values)

    def index_names(self, pid: int, values: list) -> None:
        if values[_PHONE]:
            ids = self.by_name_phone.setdefault((values[_NAME], values[_PHONE]), [])
            if pid not in ids:
                ids.append(pid)
        if values[_BIRTH]:
            ids = self.by_name_birth.setdefault((values[_NAME], values[_BIRTH]), [])
            if pid not in ids:
                ids.append(pid)

    def _unindex(self, pid: int, values: list) -> None:
        for index, key in ((self.by_name_phone, (values[_NAME], values[_PHONE])),
                           (self.by_name_birth, (values[_NAME], values[_BIRTH]))):
            ids = index.get(key)
            if ids and pid in ids:
                ids.remove(pid)

    def reindex(self, pid: int, old: list, new: list) -> None:
        self._unindex(pid, old)
        self._index(pid, new)


def load_candidates(conn: Connection, rows: list[RowPlan], with_tags: bool, scope: Scope = EVERYTHING) -> StoreView:
    """The persons any row could match, in a few IN-queries (never one per row).

    Only persons inside `scope` are candidates: for a scoped importer a person outside
    it does not exist, so no row can match (and so reveal) them; their ID numbers are
    kept in `hidden_ids`.
    """
    view = StoreView()
    hidden = None if scope.is_everything else view.hidden_ids
    if conn.exec_driver_sql("SELECT 1 FROM person LIMIT 1").first() is None:
        return view  # an empty store: a first import asks nothing more
    sqlite = _is_sqlite(conn)
    named: list[int] = []  # persons found by the mobile/name queries

    births: dict = {None: None}  # SQLite's text -> date, once per distinct birth date

    def take(records, index_names: bool):
        persons = view.persons
        by_id = view.by_id
        for rec in records:
            pid = rec[0]
            if pid in persons:
                if index_names:
                    named.append(pid)
                    view.index_names(pid, persons[pid])
                continue
            values = list(rec[1:])
            if hidden is not None and not scope.allows_street(values[_DISTRICT], values[_STREET]):
                if values[_ID]:
                    hidden.add(values[_ID])
                continue
            if sqlite:
                text = values[_BIRTH]
                born = births.get(text, False)
                if born is False:
                    born = births[text] = dt.date.fromisoformat(text[:10])
                values[_BIRTH] = born
            persons[pid] = values
            if values[_ID]:
                by_id[values[_ID]] = pid
            if index_names:
                named.append(pid)
                view.index_names(pid, values)

    # Column-wise with map/compress (C loops): a re-import walks 100k rows here.
    id_column = list(map(itemgetter(_ID), map(attrgetter("values"), rows)))
    ids = list(set(id_column).difference((None, "")))
    # Persons found by ID number only need the ID index: any of them that a row could
    # reach at (b) or (c) is also returned by the mobile/name queries below.
    take(_select_by_id_number(conn, ids), False)
    by_id = view.by_id
    # Only rows whose ID number is not in the store can fall through to (b) and (c).
    rest = list(compress(rows, map(not_, map(by_id.__contains__, id_column))))
    mobiles = list({r.values[_PHONE] for r in rest if r.mobile})
    take(_select_in(conn, _PERSON_SELECT, "phone", mobiles), True)
    pairs = list({(r.values[_NAME], r.values[_BIRTH]) for r in rest if r.values[_BIRTH] is not None})
    take(_select_by_name_and_birth(conn, pairs), True)
    if with_tags and view.persons:
        # Tags are read only where a row brings tags: a person its ID number reaches, or
        # any person the mobile/name queries found (rows reach those at (b) and (c)).
        # Persons inserted by this file get theirs in run_rows.
        tagged_and_known = map(and_, map(truth, map(attrgetter("tags"), rows)), map(by_id.__contains__, id_column))
        wanted = set(map(by_id.__getitem__, compress(id_column, tagged_and_known)))
        if any(r.tags for r in rest):
            wanted.update(named)
        tags = view.tags
        for pid, name in _select_many(conn, _TAGS_SELECT, "pt.person_id", 0, list(wanted), "person_tag"):
            have = tags.get(pid)
            if have is None:
                tags[pid] = {name}
            else:
                have.add(name)
    return view


_TAGS_SELECT = "SELECT pt.person_id, t.name FROM person_tag pt JOIN tag t ON t.id = pt.tag_id WHERE"


def _select_by_id_number(conn: Connection, ids: list[str]) -> list[tuple]:
    """The persons holding one of `ids`."""
    return _select_many(conn, _PERSON_SELECT, "id_number", 1 + PERSON_COLUMNS.index("id_number"), ids, "person")


def _select_many(conn: Connection, sql: str, column: str, at: int, values: list, table: str) -> list[tuple]:
    """Rows of `sql` whose `column` (position `at` in a row) is one of `values`.

    SQLite: when `values` name a good share of `table` (a re-import, a district's full
    list) one sequential pass, filtered here, beats an index probe per value.
    """
    if values and _is_sqlite(conn):
        total = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar() or 0
        if len(values) * 3 >= total:
            wanted = set(values)
            cursor = conn.connection.cursor()
            try:
                return [rec for rec in cursor.execute(f"{sql} 1") if rec[at] in wanted]
            finally:
                cursor.close()
    return _select_in(conn, sql, column, values)


def _select_by_name_and_birth(conn: Connection, pairs: list[tuple[str, dt.date]]) -> list[tuple]:
    """The persons with one of the (name, birth date) `pairs`.

    Names alone are common ("王伟"): asking for both, a chunk of pairs at a time, returns a
    sixth of the rows. The name index finds the rows; the dates only filter, so a chunk's
    name × date cross product can bring a few extra persons, which the cascade never
    reaches (it looks up exact pairs). SQLite compares the first ten characters: a system
    writing into the store may have stored a date with a time.
    """
    out: list[tuple] = []
    if not _is_sqlite(conn):
        for start in range(0, len(pairs), 20_000):
            chunk = pairs[start:start + 20_000]
            out.extend(conn.exec_driver_sql(
                f"{_PERSON_SELECT} name = ANY(%s) AND birth_date = ANY(%s)",
                (sorted({name for name, _ in chunk}), sorted({born for _, born in chunk}))).fetchall())
        return out
    cursor = conn.connection.cursor()  # plain tuples, as in _select_in
    try:
        for start in range(0, len(pairs), 400):
            chunk = pairs[start:start + 400]
            names = sorted({name for name, _ in chunk})
            births = sorted({born.isoformat() for _, born in chunk})
            cursor.execute(f"{_PERSON_SELECT} name IN ({','.join('?' * len(names))}) "
                           f"AND substr(birth_date, 1, 10) IN ({','.join('?' * len(births))})", (*names, *births))
            out.extend(cursor.fetchall())
    finally:
        cursor.close()
    return out


def match_person(row: RowPlan, view: StoreView) -> tuple[int | None, bool]:
    """`(person id or None, ambiguous)` by the cascade: ID, then name+mobile, then name+birth date."""
    values = row.values
    id_number = values[_ID]
    if id_number:
        pid = view.by_id.get(id_number)
        if pid is not None:
            return pid, False
    levels = []
    if row.mobile:
        levels.append(view.by_name_phone.get((values[_NAME], values[_PHONE])))
    if values[_BIRTH] is not None:
        levels.append(view.by_name_birth.get((values[_NAME], values[_BIRTH])))
    persons = view.persons
    for hits in levels:
        if not hits:
            continue
        if id_number:  # a row with an ID only matches persons without one
            hits = [p for p in hits if not persons[p][_ID]]
        if len(hits) == 1:
            return hits[0], False
        if len(hits) > 1:
            return None, True
    return None, False


# ---------------------------------------------------------------- applying rows in memory

@dataclass
class Outcome:
    inserted: dict[int, list] = field(default_factory=dict)  # temp id (<0) -> values
    updated: dict[int, list] = field(default_factory=dict)  # person id -> values before the batch
    added_tags: dict[int, list[str]] = field(default_factory=dict)
    first_stage: dict[int, str] = field(default_factory=dict)  # temp id -> stage when inserted


AMBIGUOUS = ("匹配到多个已有人员，无法确定是谁：请补充身份证号 · "
             "matches more than one existing person: add the ID number to tell them apart")
NO_CATEGORY = ("新增人员缺少统战对象类别：请填写类别 · "
               "a new person needs a category: fill in 统战对象类别")
# Only a commit says this: a dry run must not tell whether an ID number exists outside the scope.
ID_OUTSIDE_SCOPE = ("此身份证号已登记在您的管辖范围之外，不能由您导入：请联系管辖全部区域的管理员 · "
                    "this ID number is registered outside your scope, so you cannot import it: "
                    "ask an administrator for the whole area")
DRY_RUN_SCOPE_NOTICE = ("演练不检查身份证号是否已在您的管辖范围之外登记（以免透露范围外的人员）；"
                        "提交时这样的行会被拒绝 · the dry run does not check whether an ID number is registered "
                        "outside your scope (that would reveal persons outside it); such rows are rejected at commit")
NEW_TAG = ("标签「{tag}」库中原来没有，导入时新建（请确认不是已有标签的另一种写法） · "
           "tag {tag!r} is new: this import creates it (check it is not another spelling of an existing tag)")


def where_in_file(earlier: RowPlan, row: RowPlan) -> tuple[str, str]:
    """`(第 8 行, row 8)`, naming the sheet too when `earlier` lies on another sheet than `row`."""
    if earlier.sheet and earlier.sheet != row.sheet:
        return f"工作表「{earlier.sheet}」第 {earlier.row} 行", f"row {earlier.row} of sheet {earlier.sheet}"
    return f"第 {earlier.row} 行", f"row {earlier.row}"


def same_person_warning(earlier: RowPlan, row: RowPlan) -> str:
    zh, en = where_in_file(earlier, row)
    return (f"与本文件{zh}是同一人：两行已合并，本行的非空值覆盖前面的值 · the same person as {en} of this file: "
            f"merged in file order, this row's non-empty cells win")


def _merge(current: list, values: list) -> bool:
    changed = False
    for i, v in enumerate(values):
        if v is not None and current[i] != v:
            current[i] = v
            changed = True
    return changed


def run_rows(plan: ImportPlan, view: StoreView, result: ImportResult, progress: Progress | None,
             scope: Scope = EVERYTHING, conflicts: set[str] | frozenset = frozenset(),
             known_tags: set[str] | None = None) -> Outcome:
    """Match and merge the rows in file order. A scoped importer's rows must keep their persons
    inside `scope`; rows carrying an ID number of `conflicts` are rejected. `known_tags`: the
    file's tags the store has already (a tag not among them is reported once, on the first
    accepted row that brings it)."""
    outcome = Outcome()
    scoped = not scope.is_everything
    first_row: dict[int, RowPlan] = {}  # person id (temporary for new persons) -> the first row that named them
    known_tags = set() if known_tags is None else known_tags
    next_temp = -1
    persons = view.persons
    by_id = view.by_id
    n_fields = len(PERSON_FIELDS)
    nones = (None,) * n_fields
    total = len(plan.rows) or 1
    for i, row in enumerate(plan.rows):
        if progress and i % 20_000 == 0 and i:
            progress(0.2 + 0.5 * i / total, f"匹配 {i}/{total} · matching")
        if row.problems:
            _reject(result, row, row.problems)
            continue
        # The common case inline (a re-import is 100k of these): the ID number finds the person.
        pid = by_id.get(row.values[_ID]) if row.values[_ID] else None
        ambiguous = False
        if pid is None:
            pid, ambiguous = match_person(row, view)
        if ambiguous:
            _reject(result, row, [(None, AMBIGUOUS)])
            continue
        values = row.values
        if scoped and _refused(plan, row, result, scope, None if pid is None else persons[pid]):
            continue
        if pid is None and values[_CATEGORY] is None:
            column = _label(plan, row, "category")
            _reject(result, row, [(column, NO_CATEGORY if column else
                                   plan.sheets[row.sheet_index].missing_column("category"))])
            continue
        # Last of all: a commit reveals an ID number outside the scope only for a row it would take.
        if conflicts and values[_ID] in conflicts:
            _reject(result, row, [(_label(plan, row, "id_number"), ID_OUTSIDE_SCOPE)])
            continue
        if pid is None:
            new = list(values) + [None] * len(BOOKKEEPING)
            if new[_STAGE] is None:
                new[_STAGE] = "discover"
            pid = next_temp
            next_temp -= 1
            outcome.inserted[pid] = new
            outcome.first_stage[pid] = new[_STAGE]
            view.add(pid, new)
            if row.tags:
                view.tags[pid] = set(row.tags)
                outcome.added_tags[pid] = list(row.tags)
            result.inserted += 1
        else:
            current = persons[pid]
            changed = False
            # Re-imports are mostly unchanged rows: one C-level pass says "no non-empty cell
            # differs" before any per-field Python work.
            differs = values != current[:n_fields] and \
                any(map(and_, map(ne, values, current), map(is_not, values, nones)))
            before = current[:n_fields] if differs else None
            for j in (range(n_fields) if differs else ()):
                v = values[j]
                if v is not None and current[j] != v:
                    if not changed:
                        if pid > 0 and pid not in outcome.updated:
                            outcome.updated[pid] = list(current)
                        changed = True
                    current[j] = v
            if changed:
                view.reindex(pid, before, current)
            if row.tags:
                have = view.tags.setdefault(pid, set())
                new_tags = () if have.issuperset(row.tags) else [t for t in row.tags if t not in have]
                if new_tags:
                    have.update(new_tags)
                    outcome.added_tags.setdefault(pid, []).extend(new_tags)
                    if pid > 0 and pid not in outcome.updated:
                        outcome.updated[pid] = list(current) if not changed else outcome.updated[pid]
                    changed = True
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
        if row.warnings:
            record_warnings(result, row)
        earlier = first_row.setdefault(pid, row)
        if earlier is not row:
            add_warning(result, row, None, same_person_warning(earlier, row))
        if row.tags and not known_tags.issuperset(row.tags):
            for name in row.tags:
                if name not in known_tags:
                    known_tags.add(name)
                    add_warning(result, row, _label(plan, row, "tags"), NEW_TAG.format(tag=name))
    return outcome


def _refused(plan: ImportPlan, row: RowPlan, result: ImportResult, scope: Scope, current: list | None) -> bool:
    """Reject (and say True for) a row that would not keep its person inside `scope`.

    `current` is the matched person (None: the row inserts one); empty cells never
    overwrite, so the person ends where the row's non-empty place cells put them.
    """
    placed = (row.values[_DISTRICT], row.values[_STREET])
    if current is None:
        before, after = None, placed
    else:
        before = (current[_DISTRICT], current[_STREET])
        after = tuple(new if new is not None else old for new, old in zip(placed, before))
    refusal = write_refusal(scope, before, after)
    if refusal is None:
        return False
    _reject(result, row, [(_label(plan, row, "district") or _label(plan, row, "street"), refusal.message)])
    return True


def record_warnings(result: ImportResult, row: RowPlan) -> None:
    """Warnings count on accepted rows only (a rejected row reports its rejection)."""
    if row.warnings:
        for column, message in row.warnings:
            add_warning(result, row, column, message)


def add_warning(result: ImportResult, row: RowPlan, column: str | None, message: str) -> None:
    """A warning on an accepted row: a value was ignored or corrected, or the importer decided something."""
    result.warnings += 1
    result.warning_list.append({"sheet": row.sheet, "row": row.row, "column": column, "message": message})


def _label(plan: ImportPlan, row: RowPlan, fld: str) -> str | None:
    for col in plan.sheets[row.sheet_index].columns:
        if col.field == fld:
            return col.label
    return None


def _reject(result: ImportResult, row: RowPlan, problems) -> None:
    result.rejected += 1
    message = "；".join(m for _c, m in problems)
    result.errors.append({"sheet": row.sheet, "row": row.row, "column": problems[0][0], "message": message})
    result.rejected_rows.append((row, message))


# ---------------------------------------------------------------- writing

SQLITE_IMPORT_CACHE_KIB = 256 * 1024


def _lock(conn: Connection) -> None:
    # SQLite: our first write takes the database's write lock for the whole transaction.
    # PostgreSQL: serialise imports so two files cannot insert the same ID number at once.
    if _is_sqlite(conn):
        # The default 2 MB page cache makes 100k index inserts spill to the WAL over and
        # over; a larger cache (allocated only as used) keeps a big import in memory.
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
    else:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4201101)")


def _allocate_ids(conn: Connection, count: int) -> list[int]:
    if count == 0:
        return []
    if _is_sqlite(conn):
        start = (conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM person").scalar() or 0) + 1
        return list(range(start, start + count))
    rows = conn.exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence('person', 'id')) FROM generate_series(1, %s)", (count,))
    return [r[0] for r in rows]


def _json_list(items: list[str]) -> str:
    """json.dumps for a list of plain tag names, without its per-call overhead (100k calls)."""
    if any('"' in t or "\\" in t or not t.isprintable() for t in items):
        return json.dumps(items, ensure_ascii=False)
    return '["' + '","'.join(items) + '"]'


def _json_value(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def write_outcome(conn: Connection, outcome: Outcome, batch_id: int, now: dt.datetime,
                  view: StoreView) -> None:
    to_db_date = _db_date(conn)
    stamp = _db_datetime(conn, now)
    n = len(PERSON_FIELDS)
    real_ids = dict(zip(outcome.inserted, _allocate_ids(conn, len(outcome.inserted))))

    cols = ", ".join(PERSON_COLUMNS)
    insert_rows = []
    for temp, values in outcome.inserted.items():
        row = list(values[:n])
        row[_BIRTH] = to_db_date(row[_BIRTH])
        insert_rows.append((real_ids[temp], *row, stamp, stamp, "import", batch_id))
    bulk_insert(conn, "person", f"INSERT INTO person (id, {cols}, created_at, updated_at, updated_via, import_batch_id) "
                       f"VALUES ({', '.join('?' * (n + 5))})", insert_rows)

    sets = ", ".join(f"{c} = ?" for c in PERSON_COLUMNS)
    update_rows = []
    for pid in outcome.updated:
        row = list(view.persons[pid][:n])
        row[_BIRTH] = to_db_date(row[_BIRTH])
        update_rows.append((*row, stamp, "import", batch_id, pid))
    bulk_execute(conn, f"UPDATE person SET {sets}, updated_at = ?, updated_via = ?, import_batch_id = ? "
                       f"WHERE id = ?", update_rows)

    def real(pid: int) -> int:
        return real_ids[pid] if pid < 0 else pid

    _write_tags(conn, {real(pid): tags for pid, tags in outcome.added_tags.items()})

    note = f"import batch {batch_id}"
    events = [(real_ids[t], outcome.first_stage[t], stamp, note) for t in outcome.inserted]
    events += [(real_ids[t], v[_STAGE], stamp, note) for t, v in outcome.inserted.items()
               if v[_STAGE] != outcome.first_stage[t]]
    events += [(pid, view.persons[pid][_STAGE], stamp, note) for pid, before in outcome.updated.items()
               if before[_STAGE] != view.persons[pid][_STAGE]]
    bulk_insert(conn, "stage_event", "INSERT INTO stage_event (person_id, stage, entered_at, note) VALUES (?, ?, ?, ?)", events)

    changes = []
    for temp in outcome.inserted:
        tags = outcome.added_tags.get(temp)
        changes.append((batch_id, real_ids[temp], "insert", None, _json_list(tags) if tags else None))
    for pid, before in outcome.updated.items():
        previous = dict(zip(PERSON_COLUMNS + BOOKKEEPING, map(_json_value, before)))
        tags = outcome.added_tags.get(pid)
        changes.append((batch_id, pid, "update", json.dumps(previous, ensure_ascii=False),
                        json.dumps(tags, ensure_ascii=False) if tags else None))
    bulk_insert(conn, "import_change", "INSERT INTO import_change (batch_id, person_id, action, previous, added_tags) "
                       "VALUES (?, ?, ?, ?, ?)", changes)


def _known_tags(conn: Connection, plan: ImportPlan) -> set[str]:
    """The file's tag names that the store has already (one IN-query per few thousand names)."""
    names = sorted({name for r in plan.rows if r.tags and not r.problems for name in r.tags})
    return {name for _tid, name in _select_in(conn, "SELECT id, name FROM tag WHERE", "name", names)}


def _write_tags(conn: Connection, added: dict[int, list[str]]) -> None:
    if not added:
        return
    names = sorted({t for tags in added.values() for t in tags})
    known = dict((name, tid) for tid, name in _select_in(conn, "SELECT id, name FROM tag WHERE", "name", names))
    missing = [(name,) for name in names if name not in known]
    bulk_execute(conn, "INSERT INTO tag (name) VALUES (?)", missing)
    if missing:
        known.update((name, tid) for tid, name in
                     _select_in(conn, "SELECT id, name FROM tag WHERE", "name", [m[0] for m in missing]))
    bulk_insert(conn, "person_tag", "INSERT INTO person_tag (person_id, tag_id) VALUES (?, ?)",
                 [(pid, known[t]) for pid, tags in added.items() for t in tags])


# ---------------------------------------------------------------- entry point

def apply_import(engine: Engine, plan: ImportPlan, *, dry_run: bool = False, imported_by: str | None = None,
                 progress: Progress | None = None, scope: Scope = EVERYTHING) -> ImportResult:
    """Apply a plan in one transaction (all accepted rows land, or none); dry_run writes nothing.

    A person list merges persons; an attendance plan (`plan.content == "participations"`)
    records participations (loaders.attendance). Both share the batch, audit and version.
    `scope` is the importer's: persons outside it are neither matched nor written, and a
    row that would put a person outside it is rejected (see store.scope.write_refusal).
    """
    with gc_paused():
        return _apply(engine, plan, dry_run, imported_by, progress, scope)


def _apply(engine: Engine, plan: ImportPlan, dry_run: bool, imported_by: str | None,
           progress: Progress | None, scope: Scope) -> ImportResult:
    result = ImportResult(file=plan.file_name, rows_read=plan.rows_read, dry_run=dry_run,
                          sheets=plan.sheets, notices=list(plan.notices), content=plan.content)
    if dry_run and not scope.is_everything and plan.content != PARTICIPATIONS \
            and any(r.values[_ID] for r in plan.rows):
        result.notices.append(DRY_RUN_SCOPE_NOTICE)
    now = clock.now()
    with writing(engine) as conn:
        _lock(conn)
        earlier = conn.execute(
            select(import_batch.c.id, import_batch.c.imported_at, import_batch.c.status)
            .where(import_batch.c.sha256 == plan.sha256).order_by(import_batch.c.id)).all()
        batch_id = None
        if not dry_run:
            batch_id = conn.execute(insert(import_batch).values(
                file_name=plan.file_name[-255:], sha256=plan.sha256, imported_at=now, imported_by=imported_by,
                rows_read=plan.rows_read, status="running").returning(import_batch.c.id)).scalar_one()
        if plan.content == PARTICIPATIONS:
            from loaders.attendance import apply_participations

            pending_persons = apply_participations(conn, plan, result, batch_id, now, progress, scope)
        else:
            pending_persons = _apply_persons(conn, plan, result, batch_id, now, progress, scope)
        if not dry_run:
            conn.execute(update(import_batch).where(import_batch.c.id == batch_id).values(
                inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
                rejected=result.rejected, status="done"))
            detail = {"batch_id": batch_id, "file": plan.file_name, "sha256": plan.sha256, "kind": plan.content,
                      **{k: getattr(result, k) for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")}}
            # Each such row told the importer an ID number exists outside its scope: on the record.
            outside = sum(e["message"] == ID_OUTSIDE_SCOPE for e in result.errors)
            if outside:
                detail["id_outside_scope"] = outside
            conn.execute(insert(audit_log).values(at=now, actor=imported_by, action="import",
                                                  detail=json.dumps(detail, ensure_ascii=False)))
            bump_data_version(conn)
        # A scoped importer learns nothing of the store beyond its scope, not even its size.
        clause = scope.person_clause(person)
        total = conn.execute(select(func.count()).select_from(person)
                             .where(*([] if clause is None else [clause]))).scalar_one()
        result.persons_total = total + (pending_persons if dry_run else 0)
        result.batch_id = batch_id
    if earlier:
        result.earlier_batches = [b.id for b in earlier]
        first = earlier[-1]
        result.notices.append(
            f"此文件与第 {first.id} 批（{first.imported_at:%Y-%m-%d %H:%M}）导入的文件完全相同，已照常处理 · "
            f"this file is byte-identical to batch {first.id} imported {first.imported_at:%Y-%m-%d %H:%M}; processed anyway")
    if progress:
        progress(1.0, "完成 · done")
    return result


def _apply_persons(conn: Connection, plan: ImportPlan, result: ImportResult, batch_id: int | None,
                   now: dt.datetime, progress: Progress | None, scope: Scope) -> int:
    """Merge a person list; writes nothing when `batch_id` is None (dry run). Returns persons to insert.

    A dry run treats an ID number held outside the importer's scope as unknown, exactly
    as if nobody held it; the commit must refuse it (the number is unique in the store).
    """
    has_tags = any(c.field == "tags" for s in plan.sheets for c in s.columns)
    if progress:
        progress(0.1, "读取已有人员 · loading candidates")
    view = load_candidates(conn, [r for r in plan.rows if not r.problems], has_tags, scope)
    known_tags = _known_tags(conn, plan) if has_tags else set()
    outcome = run_rows(plan, view, result, progress, scope, frozenset() if batch_id is None else view.hidden_ids,
                       known_tags)
    if batch_id is not None:
        if progress:
            progress(0.75, "写入 · writing")
        write_outcome(conn, outcome, batch_id, now, view)
    return len(outcome.inserted)
