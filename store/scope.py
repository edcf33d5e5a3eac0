"""District scope: which persons an account may see. Every query in store/ applies it.

An empty scope means the whole configured area. A scoped account sees persons
whose district is in `districts`, or whose street is in `streets` (street names
as stored on person.street, each qualified by its district code).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import ColumnElement, Table, and_, false, or_


@dataclass(frozen=True)
class Scope:
    districts: tuple[str, ...] = ()
    # (district_code, street name) pairs: a street name is only unique within its district.
    streets: tuple[tuple[str, str], ...] = ()

    @property
    def is_everything(self) -> bool:
        return not self.districts and not self.streets

    def person_clause(self, person: Table) -> ColumnElement[bool] | None:
        """A WHERE clause on the person table, or None for an unrestricted scope."""
        if self.is_everything:
            return None
        parts: list[ColumnElement[bool]] = []
        if self.districts:
            parts.append(person.c.district_code.in_(self.districts))
        for district_code, street in self.streets:
            parts.append(and_(person.c.district_code == district_code, person.c.street == street))
        return or_(*parts) if parts else false()

    def allows_district(self, district_code: str | None) -> bool:
        if self.is_everything:
            return True
        return district_code in self.districts or any(d == district_code for d, _ in self.streets)

    def allows_street(self, district_code: str | None, street: str | None) -> bool:
        """Whether persons of this street may be in scope: a street account does not own its neighbours."""
        if self.is_everything or district_code in self.districts:
            return True
        return (district_code, street) in self.streets

    def contains(self, other: Scope) -> bool:
        """Whether every person `other` may see is one this scope may see too.

        An unscoped `other` sees the whole area, so only an unscoped scope contains it.
        """
        if self.is_everything:
            return True
        if other.is_everything:
            return False
        return (all(d in self.districts for d in other.districts)
                and all(self.allows_street(d, s) for d, s in other.streets))


EVERYTHING = Scope()

# Where a person is, as far as scope goes: (district_code, street).
Place = tuple[str | None, str | None]


class ScopeRefusal(Enum):
    """Why a scoped account may not make a change to a person; the value is the bilingual message."""

    OUTSIDE = ("此人不在您的管辖范围内 · this person is outside your scope")
    MOVES_OUT = ("此修改会把人员移出您的管辖范围：请核对所属区县和街道 · "
                 "this change would move the person outside your scope: check the district and street")
    NEW_OUTSIDE = ("新增人员不在您的管辖范围内：请填写您管辖的区县（和街道） · "
                   "a new person outside your scope: fill in a district (and street) you look after")

    @property
    def message(self) -> str:
        return self.value


def write_refusal(scope: Scope, before: Place | None, after: Place | None) -> ScopeRefusal | None:
    """Why an account of `scope` may not change a person from `before` to `after`, or None when it may.

    The one check every writer applies to every person it touches (imports, undo,
    attendance, and later staff edits and merges): reads are scoped by
    `person_clause`, writes by this. `before` None is a new person, `after` None a
    deletion; a write must start and end inside the scope.
    """
    if scope.is_everything:
        return None
    if before is not None and not scope.allows_street(*before):
        return ScopeRefusal.OUTSIDE
    if after is not None and not scope.allows_street(*after):
        return ScopeRefusal.NEW_OUTSIDE if before is None else ScopeRefusal.MOVES_OUT
    return None
