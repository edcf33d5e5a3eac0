"""The few SQL expressions that differ between SQLite, PostgreSQL and DuckDB, in one place.

Every query module builds dates and durations through these, so a query runs
unchanged on the store (SQLite or PostgreSQL) and on the analytic copy (DuckDB).
"""

from __future__ import annotations

from sqlalchemy import Date, Integer, cast, func
from sqlalchemy.sql.elements import ColumnElement


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
