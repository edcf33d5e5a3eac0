"""District scope: which persons an account may see. Every query in store/ applies it.

An empty scope means the whole configured area. A scoped account sees persons
whose district is in `districts`, or whose street is in `streets` (street names
as stored on person.street, each qualified by its district code).
"""

from __future__ import annotations

from dataclasses import dataclass

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
