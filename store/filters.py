"""The person filter: one object drives counts, charts, lists and exports, so they agree.

Every condition is built from bound parameters (never string-built SQL) and the
caller's district Scope is always ANDed in, so no filter can reach outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Mapping

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, select

from store import clock
from store.queries.enterprises import has_risk
from store.schema import appointment, counted, not_followed, person, person_tag, tag
from store.sql import CheckedInSince, KeywordMatch
from store.scope import Scope

TAG_MODES = ("any", "all")
# Whom a filter counts: persons still followed (the default: every headcount), those no
# longer followed (left, transferred, deceased), or both.
FOLLOWED_CHOICES = ("yes", "no", "any")
# The values a filter may take from a URL, as the explorer's widgets offer them; anything
# else in a link is ignored (a widget could not show it, a query could not use it).
AGE_RANGE = (0, 100)
ACTIVE_MONTHS_RANGE = (1, 120)
KEYWORD_MAX_CHARS = 100
EARLIEST_UPDATE = date(2000, 1, 1)
FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class PersonFilter:
    categories: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    tags_mode: str = "any"
    genders: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    educations: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    # With active_months set: True = at least one check-in within the last N months, False = none.
    active_months: int | None = None
    active: bool | None = None
    updated_since: date | None = None
    keyword: str = ""
    followed: str = "yes"
    # True = linked to an enterprise with risk records (失信, court, penalty, abnormal), False = not.
    has_risk: bool | None = None

    def is_empty(self) -> bool:
        return self == PersonFilter()

    def with_value(self, name: str, value) -> "PersonFilter":
        """A copy with `value` added to the multi-valued field `name` (click-to-filter)."""
        current = getattr(self, name)
        if value in current:
            return self
        return replace(self, **{name: tuple(current) + (value,)})

    # ---- SQL ----
    def conditions(self, scope: Scope, today: date | None = None) -> list[ColumnElement[bool]]:
        """WHERE conditions on `person` for this filter within `scope`."""
        today = today or clock.today()
        p = person.c
        conds: list[ColumnElement[bool]] = []
        scope_clause = scope.person_clause(person)
        if scope_clause is not None:
            conds.append(scope_clause)
        if self.followed == "yes":
            conds.append(counted(person))
        elif self.followed == "no":
            conds.append(not_followed(person))
        for column, values in (
            (p.category_code, self.categories),
            (p.district_code, self.districts),
            (p.street, self.streets),
            (p.stage, self.stages),
            (p.party, self.parties),
            (p.gender, self.genders),
            (p.education, self.educations),
        ):
            if values:
                conds.append(column.in_(values))
        if self.age_min is not None:
            # Aged at least N: born on or before today minus N years.
            conds.append(p.birth_date <= _years_before(today, self.age_min))
        if self.age_max is not None:
            # Aged at most N: born after today minus N+1 years.
            conds.append(p.birth_date > _years_before(today, self.age_max + 1))
        if self.tags:
            tagged = (
                select(person_tag.c.person_id)
                .join(tag, tag.c.id == person_tag.c.tag_id)
                .where(tag.c.name.in_(self.tags))
            )
            if self.tags_mode == "all":
                tagged = tagged.group_by(person_tag.c.person_id).having(
                    func.count(func.distinct(tag.c.id)) == len(set(self.tags))
                )
            conds.append(p.id.in_(tagged))
        if self.bodies:
            conds.append(
                exists().where(appointment.c.person_id == p.id, appointment.c.body.in_(self.bodies))
            )
        if self.active_months is not None and self.active is not None:
            since = today - timedelta(days=round(self.active_months * 30.44))
            checked_in = CheckedInSince(person, datetime.combine(since, time()))
            conds.append(checked_in if self.active else not_(checked_in))
        if self.updated_since is not None:
            conds.append(p.updated_at >= self.updated_since)
        keyword = self.keyword.strip()
        if keyword:
            conds.append(KeywordMatch(person, keyword))
        if self.has_risk is not None:
            conds.append(has_risk() if self.has_risk else not_(has_risk()))
        return conds

    def where(self, stmt: Select, scope: Scope, today: date | None = None) -> Select:
        conds = self.conditions(scope, today)
        return stmt.where(and_(*conds)) if conds else stmt

    # ---- URL query string ----
    def to_query_params(self) -> dict[str, str | list[str]]:
        """Only the fields that differ from the default, as strings (lists for multi-valued)."""
        out: dict[str, str | list[str]] = {}
        default = PersonFilter()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if isinstance(value, tuple):
                out[f.name] = list(value)
            elif isinstance(value, bool):
                out[f.name] = "1" if value else "0"
            else:
                out[f.name] = str(value)
        return out

    @classmethod
    def from_query_params(cls, params: Mapping[str, object]) -> "PersonFilter":
        """The inverse of to_query_params; malformed or out-of-range values are ignored, never fatal."""
        return cls.parse_query_params(params)[0]

    @classmethod
    def parse_query_params(cls, params: Mapping[str, object]) -> tuple["PersonFilter", tuple[str, ...]]:
        """(the filter, the names of the parameters ignored as malformed or out of range)."""
        values: dict[str, object] = {}
        ignored: list[str] = []
        for f in fields(cls):
            if f.name not in params:
                continue
            raw = params[f.name]
            items = [str(v) for v in raw] if isinstance(raw, (list, tuple)) else [str(raw)]
            try:
                values[f.name] = _parse(f.name, f.type, items)
            except ValueError:
                ignored.append(f.name)
        return cls(**values), tuple(ignored)


def _within(value: int, bounds: tuple[int, int]) -> int:
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{value} outside {bounds[0]}..{bounds[1]}")
    return value


def _text(value: str) -> str:
    # A control character (NUL above all) cannot reach a query on PostgreSQL; no widget types one.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("control character")
    return value


def _parse(name: str, type_: str, items: list[str]):
    """One URL parameter's value for the field `name`; ValueError when a link's value is unusable."""
    if type_.startswith("tuple"):
        return tuple(_text(v) for v in items if v)
    last = items[-1] if items else ""
    if name in ("age_min", "age_max"):
        return _within(int(last), AGE_RANGE)
    if name == "active_months":
        return _within(int(last), ACTIVE_MONTHS_RANGE)
    if name in ("active", "has_risk"):
        return FLAGS[last.lower()] if last.lower() in FLAGS else _reject(last)
    if name == "updated_since":
        day = date.fromisoformat(last)
        return day if day >= EARLIEST_UPDATE else _reject(last)
    if name == "tags_mode":
        return last if last in TAG_MODES else _reject(last)
    if name == "followed":
        return last if last in FOLLOWED_CHOICES else _reject(last)
    if name == "keyword":
        return _text(last) if len(last) <= KEYWORD_MAX_CHARS else _reject(last)
    return last


def _reject(value: str):
    raise ValueError(f"unusable value {value[:40]!r}")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


