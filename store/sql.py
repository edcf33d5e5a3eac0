"""The few SQL expressions that differ between SQLite, PostgreSQL and DuckDB, in one place.

Every query module builds dates and durations through these, so a query runs
unchanged on the store (SQLite or PostgreSQL) and on the analytic copy (DuckDB).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Date, DateTime, Integer, cast, exists, false, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import NullType
from sqlalchemy.sql.elements import ColumnClause, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from store.schema import participation


def month_key(column, dialect: str) -> ColumnElement:
    """'YYYY-MM' of a date or timestamp."""
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    if dialect == "duckdb":
        return func.strftime(column, "%Y-%m")
    return func.strftime("%Y-%m", column)


def year_of(column, dialect: str) -> ColumnElement:
    if dialect in ("postgresql", "duckdb"):
        return cast(func.extract("year", column), Integer)
    return cast(func.strftime("%Y", column), Integer)


def days_between(later, earlier, dialect: str) -> ColumnElement:
    """Whole calendar days from `earlier` to `later` (both dates or timestamps)."""
    if dialect == "postgresql":
        return cast(later, Date) - cast(earlier, Date)
    if dialect == "duckdb":
        return func.date_diff("day", cast(earlier, Date), cast(later, Date))
    # julianday of a bare date is x.5 exactly, so the difference is an exact integer.
    return cast(func.julianday(func.date(later)) - func.julianday(func.date(earlier)), Integer)


def has_percentile(dialect: str) -> bool:
    """Whether percentile_cont(…) WITHIN GROUP is available (SQLite has none)."""
    return dialect in ("postgresql", "duckdb")


# ---------------------------------------------------------------- per-person values the copy keeps
#
# Some per-person answers cost a pass over millions of participations when computed
# from the base tables. The analytic copy stores them as columns of its `person`
# table when it is built (store.analytic.DERIVED_PERSON_COLUMNS). The constructs
# below compile to those columns on DuckDB and to the equivalent subquery on the
# store, so a query is written once and stays correct on both.

# Between name and organization in the copy's search text: no keyword can contain it.
SEARCH_SEPARATOR = "\x1f"


def _copy_column(person_from, name: str, type_) -> ColumnClause:
    return ColumnClause(name, type_, _selectable=person_from)


class _PersonValue(ColumnElement):
    inherit_cache = True
    _traverse_internals = [("person", InternalTraversal.dp_clauseelement),
                           ("value", InternalTraversal.dp_clauseelement)]

    def __init__(self, person_from, value=None):
        self.person = person_from
        self.value = literal(value) if value is not None else literal(None)

    @property
    def _from_objects(self):
        return self.person._from_objects


class CheckedInSince(_PersonValue):
    """True when the person has a check-in (status checked_in) at or after `since`."""

    type = Boolean()
    inherit_cache = True


class LastCheckIn(_PersonValue):
    """The person's latest check-in time, or NULL."""

    type = DateTime()
    inherit_cache = True


class KeywordMatch(_PersonValue):
    """Name or organization contains the keyword, case-blind.

    The bound value is the finished LIKE pattern (wildcards escaped), so a cached
    compilation serves every keyword: the pattern is the statement's own parameter.
    Case is folded by the database's lower(), on both sides, as before.
    """

    type = Boolean()
    inherit_cache = True

    def __init__(self, person_from, keyword: str):
        escaped = keyword.replace("/", "//").replace("%", "/%").replace("_", "/_")
        super().__init__(person_from, f"%{escaped}%")


@compiles(CheckedInSince)
def _checked_in_since(element, compiler, **kw):
    part = participation
    return compiler.process(exists().where(part.c.person_id == element.person.c.id, part.c.status == "checked_in",
                                           part.c.checked_in_at >= element.value), **kw)


@compiles(CheckedInSince, "duckdb")
def _checked_in_since_copy(element, compiler, **kw):
    # NULL (never checked in) must read as false, so NOT(...) holds for those persons too.
    last = _copy_column(element.person, "last_checkin_at", DateTime())
    return compiler.process(func.coalesce(last >= element.value, false()), **kw)


@compiles(LastCheckIn)
def _last_check_in(element, compiler, **kw):
    part = participation
    subquery = (select(func.max(part.c.checked_in_at))
                .where(part.c.person_id == element.person.c.id, part.c.status == "checked_in")
                .correlate(element.person).scalar_subquery())
    return compiler.process(subquery, **kw)


@compiles(LastCheckIn, "duckdb")
def _last_check_in_copy(element, compiler, **kw):
    return compiler.process(_copy_column(element.person, "last_checkin_at", DateTime()), **kw)


@compiles(KeywordMatch)
def _keyword_match(element, compiler, **kw):
    p = element.person.c
    # lower() on both sides: LIKE is case-blind on SQLite but not on PostgreSQL.
    pattern = func.lower(element.value)
    # Parenthesised: the caller may AND it with other conditions (or SQLite may append "= 1").
    return "(%s)" % compiler.process(or_(func.lower(p.name).like(pattern, escape="/"),
                                         func.lower(p.organization).like(pattern, escape="/")), **kw)


@compiles(KeywordMatch, "duckdb")
def _keyword_match_copy(element, compiler, **kw):
    text = _copy_column(element.person, "search_text", None)
    return compiler.process(text.like(func.lower(element.value), escape="/"), **kw)


class Among(ColumnElement):
    """`column IN (values)`, sent to PostgreSQL as `column = ANY(one array parameter)`.

    A bulk write checks 100k keys in chunks of 5,000: as an IN list each chunk is 5,000
    placeholders that SQLAlchemy renders and PostgreSQL parses (half of a 100k-row undo's
    time); as an array it is one parameter. SQLite keeps the IN list.
    """

    # Not Boolean: a Boolean element in WHERE gets "= 1" appended on SQLite, which hides the index.
    type = NullType()
    inherit_cache = False

    def __init__(self, column, values):
        self.column = column
        self.values = list(values)

    @property
    def _from_objects(self):
        return self.column._from_objects


def among(column, values) -> Among:
    return Among(column, values)


@compiles(Among)
def _among(element, compiler, **kw):
    return compiler.process(element.column.in_(element.values), **kw)


@compiles(Among, "postgresql")
def _among_postgresql(element, compiler, **kw):
    from sqlalchemy import any_, bindparam
    from sqlalchemy.dialects.postgresql import ARRAY

    array = bindparam(None, element.values, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)


def reads_beyond_copy(fn):
    """Marks a query that reads tables the analytic copy does not hold (store/analytic.TABLES):
    the shared cache always asks the store itself for it."""
    fn.reads_beyond_copy = True
    return fn
