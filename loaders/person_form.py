"""A person typed into a form, checked exactly as an imported row is, and the store's likely duplicates.

The form's values go through the import's own row pipeline (a one-row sheet with the
contract's headers), so the ID check digit, 15→18 digits, dates, phones, regions,
categories, stages and tags are normalised and validated by the same code, and the
identity cascade (ID number, then name + mobile, then name + birth date) finds the
person the form may duplicate.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import Engine, or_, select

from loaders.apply import PERSON_COLUMNS, load_candidates, match_person
from loaders.plan import PERSON_FIELDS, PERSONS, field_label, prepare_import
from loaders.reference import load_reference
from store.schema import person

FORM_FIELDS = PERSON_FIELDS + ("tags",)


@dataclass
class CheckedPerson:
    """The form's values as the store keeps them (person columns), or the problems that stop a save."""

    values: dict = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    warnings: list[tuple[str | None, str]] = field(default_factory=list)
    # The row as the import pipeline sees it, for the identity cascade.
    _row: object = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_person(form: dict[str, object]) -> CheckedPerson:
    """Normalise and validate one person's fields (keys of FORM_FIELDS; tags as 、/,-separated text)."""
    given = {f: form.get(f) for f in FORM_FIELDS if form.get(f) not in (None, "")}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([field_label(f) for f in given])
    writer.writerow([_cell(v) for v in given.values()])
    plan = prepare_import(buffer.getvalue().encode("utf-8"), "form.csv", kind=PERSONS)
    if not plan.rows:
        return CheckedPerson(problems=[("name", "请填写姓名 · the name is required")])
    row = plan.rows[0]
    values = dict(zip(PERSON_COLUMNS, row.values))
    return CheckedPerson(values={k: v for k, v in values.items() if v is not None}, tags=row.tags or (),
                         problems=list(row.problems or []), warnings=list(row.warnings or []), _row=row)


def form_text(field_name: str, value) -> str:
    """A stored value as the form shows it: names where the store keeps codes; check_person reads them back."""
    if value is None:
        return ""
    ref = load_reference()
    names = {"gender": {"M": "男", "F": "女"}, "category": ref.category_names, "district": ref.district_names,
             "party": ref.party_names}.get(field_name, {})
    return names.get(value, _cell(value))


def _cell(value) -> str:
    if isinstance(value, (list, tuple, set)):
        return "、".join(map(str, value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def likely_duplicates(engine: Engine, checked: CheckedPerson) -> list[int]:
    """Persons the identity cascade takes this one for (several when it is ambiguous), else []."""
    row = checked._row
    if row is None:
        return []
    with engine.connect() as conn:
        view = load_candidates(conn, [row], with_tags=False)
        pid, ambiguous = match_person(row, view)
        if pid is not None:
            return [pid]
        if not ambiguous:
            return []
        # Ambiguous: every person with the same name and the mobile or birth date the form gave.
        values = checked.values
        cond = person.c.name == values["name"]
        keys = [person.c.phone == values["phone"]] if values.get("phone") else []
        if values.get("birth_date"):
            keys.append(person.c.birth_date == values["birth_date"])
        return list(conn.execute(select(person.c.id).where(cond, or_(*keys)).order_by(person.c.id)).scalars())
