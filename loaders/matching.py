"""What both imports share: the result, bulk SQL helpers, the store's candidates and the identity cascade.

A person list (loaders.apply) and an attendance sheet (loaders.attendance) both find
persons the same way: the store's candidates for the file's ID numbers, mobiles and
names are loaded in a few IN-queries, then rows are matched in file order against
in-memory indexes (so a later row can match a person inserted earlier in the file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress
from operator import and_, attrgetter, itemgetter, not_, truth

from sqlalchemy import Connection

from loaders.plan import F, PERSON_FIELDS, ImportPlan, RowPlan, SheetInfo
from store.scope import EVERYTHING, Scope

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


AMBIGUOUS = ("匹配到多个已有人员，无法确定是谁：请补充身份证号 · "
             "matches more than one existing person: add the ID number to tell them apart")


def where_in_file(earlier: RowPlan, row: RowPlan) -> tuple[str, str]:
    """`(第 8 行, row 8)`, naming the sheet too when `earlier` lies on another sheet than `row`."""
    if earlier.sheet and earlier.sheet != row.sheet:
        return f"工作表「{earlier.sheet}」第 {earlier.row} 行", f"row {earlier.row} of sheet {earlier.sheet}"
    return f"第 {earlier.row} 行", f"row {earlier.row}"


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
