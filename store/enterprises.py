"""Enterprises, shareholders, risk records and person links, written through the change set.

Each verb takes an open ChangeSet (store.changes) and returns what it did, `inserted`,
`updated` or `unchanged`, so an import counts and an undo puts everything back. Empty
values never erase what is stored. A row's identity: an enterprise by its credit code; a
shareholder by enterprise and name; a risk record by enterprise, kind and case number
(without one: kind, date and obligation); a link by person, enterprise and role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import and_, or_, select

from store.changes import ChangeSet, WriteRefused
from store.credit_code import InvalidCreditCode, parse
from store.schema import LINK_METHODS, LINK_ROLES, RISK_KINDS, enterprise, enterprise_link, person, risk_record, shareholder

INSERTED, UPDATED, UNCHANGED = "inserted", "updated", "unchanged"
# A name match is a suggestion: the same normalised name, or the head office of a branch.
NAME_CONFIDENCE = 0.9
HEAD_OFFICE_CONFIDENCE = 0.6

# ---------------------------------------------------------------- names as matched

_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF_WIDTH.update({0x3000: 0x20, ord("〔"): ord("("), ord("〕"): ord(")"), ord("【"): ord("("), ord("】"): ord(")")})
_SPACE = re.compile(r"[\s\u00a0\u200b-\u200d\ufeff]+")
# Spellings of one legal form; the longest first.
_FORMS = (("有限责任公司", "有限公司"), ("股份有限责任公司", "股份有限公司"), ("(有限责任)", ""), ("责任有限公司", "有限公司"))
# `…有限公司杭州分公司`, `…有限公司(滨江分店)`: a branch is its own registration.
_BRANCH = re.compile(r"^(.+?(?:公司|企业|合伙\)|厂|店|社|所|中心))\(?([^()]{0,20}?(?:分公司|分店|分厂|分部|营业部|办事处|分所))\)?$")


def name_key(name: str | None) -> str:
    """A company name as matched: half-width brackets, no spaces, one spelling of the legal form, lower case."""
    if not name:
        return ""
    key = _SPACE.sub("", str(name).translate(_HALF_WIDTH)).lower()
    for old, new in _FORMS:
        key = key.replace(old, new)
    return key


def head_office_key(name: str | None) -> str | None:
    """The head office's key of a branch's name (`…有限公司杭州分公司` -> `…有限公司`), None for no branch."""
    found = _BRANCH.match(name_key(name))
    return found.group(1) if found else None


def match_confidence(organisation: str | None, enterprise_name: str | None) -> float:
    """How sure a person's organisation names this enterprise: 0.9 same name, 0.6 head office or branch, else 0."""
    a, b = name_key(organisation), name_key(enterprise_name)
    if not a or not b:
        return 0.0
    if a == b:
        return NAME_CONFIDENCE
    if head_office_key(organisation) == b or head_office_key(enterprise_name) == a:
        return HEAD_OFFICE_CONFIDENCE
    return 0.0


# ---------------------------------------------------------------- writing

def _given(values: Mapping) -> dict:
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _save(cs: ChangeSet, entity: str, current, values: Mapping) -> tuple[int, str]:
    if current is None:
        return int(cs.insert(entity, values)), INSERTED
    changed = cs.update(entity, current.id, _given(values))
    return int(current.id), UPDATED if changed else UNCHANGED


def save_enterprise(cs: ChangeSet, values: Mapping) -> tuple[int, str]:
    """Insert or update the enterprise with `values["credit_code"]`; returns (id, outcome)."""
    values = _given(values)
    try:
        code = parse(values.get("credit_code")).code
    except InvalidCreditCode as exc:
        raise WriteRefused(str(exc)) from None
    if not values.get("name"):
        raise WriteRefused("企业名称为空 · the enterprise has no name")
    values.update(credit_code=code, name_key=name_key(values["name"]))
    current = cs.conn.execute(select(enterprise.c.id).where(enterprise.c.credit_code == code)).first()
    if current is None:
        values.setdefault("updated_at", cs.now)
        return _save(cs, "enterprise", None, values)
    eid, outcome = _save(cs, "enterprise", current, values)
    if outcome == UPDATED:
        cs.update("enterprise", eid, {"updated_at": cs.now})
    return eid, outcome


def enterprise_id_for(cs: ChangeSet, code: str) -> int | None:
    return cs.conn.execute(select(enterprise.c.id).where(enterprise.c.credit_code == code)).scalar()


def save_shareholder(cs: ChangeSet, enterprise_id: int, values: Mapping) -> tuple[int, str]:
    values = {**_given(values), "enterprise_id": enterprise_id}
    current = cs.conn.execute(select(shareholder.c.id).where(
        shareholder.c.enterprise_id == enterprise_id, shareholder.c.name == values["name"])).first()
    return _save(cs, "shareholder", current, values)


def save_risk(cs: ChangeSet, enterprise_id: int, values: Mapping) -> tuple[int, str]:
    values = {**_given(values), "enterprise_id": enterprise_id}
    if values.get("kind") not in RISK_KINDS:
        raise WriteRefused(f"风险类型「{values.get('kind')}」未知 · unknown risk kind; allowed: {', '.join(RISK_KINDS)}")
    values.setdefault("recorded_on", values.get("published_on") or values.get("filed_on"))
    r = risk_record.c
    same = [r.enterprise_id == enterprise_id, r.kind == values["kind"]]
    if values.get("case_number"):
        same.append(r.case_number == values["case_number"])
    else:
        same += [r.case_number.is_(None),
                 r.recorded_on.is_(None) if values.get("recorded_on") is None else r.recorded_on == values["recorded_on"],
                 r.obligation.is_(None) if values.get("obligation") is None else r.obligation == values["obligation"]]
    current = cs.conn.execute(select(r.id).where(and_(*same)).order_by(r.id)).first()
    return _save(cs, "risk_record", current, values)


def link_person(cs: ChangeSet, person_id: int, enterprise_id: int, role: str, *, method: str,
                confidence: float = 1.0, confirmed: bool = False) -> tuple[int, str]:
    """A person's tie to an enterprise; a surer or confirmed link upgrades an existing one, never the reverse."""
    if role not in LINK_ROLES:
        raise WriteRefused(f"关联角色「{role}」未知 · unknown role; allowed: {', '.join(LINK_ROLES)}")
    if method not in LINK_METHODS:
        raise WriteRefused(f"unknown link method {method!r}; allowed: {', '.join(LINK_METHODS)}")
    link = enterprise_link.c
    current = cs.conn.execute(select(enterprise_link).where(
        link.person_id == person_id, link.enterprise_id == enterprise_id, link.role == role)).first()
    stamp = {"confirmed_at": cs.now, "confirmed_by": cs.actor} if confirmed else {}
    if current is None:
        lid = cs.insert("enterprise_link", dict(person_id=person_id, enterprise_id=enterprise_id, role=role,
                                                method=method, confidence=confidence, created_at=cs.now, **stamp))
        return int(lid), INSERTED
    better = {}
    if confidence > current.confidence:
        better.update(confidence=confidence, method=method)
    if confirmed and current.confirmed_at is None:
        better.update(stamp)
    changed = cs.update("enterprise_link", current.id, better) if better else {}
    return int(current.id), UPDATED if changed else UNCHANGED


def confirm_link(cs: ChangeSet, link_id: int) -> bool:
    """Staff confirm a suggested link; True when it was not confirmed before."""
    return bool(cs.update("enterprise_link", link_id, {"confirmed_at": cs.now, "confirmed_by": cs.actor,
                                                       "confidence": 1.0}))


def dismiss_link(cs: ChangeSet, link_id: int) -> None:
    """Staff say a suggested link is wrong: it goes (recorded whole, so an undo brings it back)."""
    cs.delete("enterprise_link", link_id)


def live_link():
    """Links that count (risk warnings, filters, figures): made by credit code or staff, or confirmed."""
    return or_(enterprise_link.c.method != "name", enterprise_link.c.confirmed_at.is_not(None))


def suggest_links(cs: ChangeSet, enterprise_ids: list[int]) -> int:
    """Suggested links (method `name`) from persons whose 工作单位 names one of these enterprises; returns how many are new.

    The role follows the registry: the person's name as legal representative or as a
    shareholder of that enterprise, else employee. A person already linked to the
    enterprise in any role gets no suggestion.
    """
    if not enterprise_ids:
        return 0
    conn = cs.conn
    found = conn.execute(select(enterprise.c.id, enterprise.c.name, enterprise.c.legal_representative)
                         .where(enterprise.c.id.in_(enterprise_ids))).all()
    exact: dict[str, list] = {}
    branch_of: dict[str, list] = {}
    for e in found:
        exact.setdefault(name_key(e.name), []).append(e)
        head = head_office_key(e.name)
        if head:
            branch_of.setdefault(head, []).append(e)
    holders = set(conn.execute(select(shareholder.c.enterprise_id, shareholder.c.name)
                               .where(shareholder.c.enterprise_id.in_(enterprise_ids))).all())
    linked = set(conn.execute(select(enterprise_link.c.person_id, enterprise_link.c.enterprise_id)
                              .where(enterprise_link.c.enterprise_id.in_(enterprise_ids))).all())
    stmt = select(person.c.id, person.c.name, person.c.organization).where(person.c.organization.is_not(None))
    clause = cs.scope.person_clause(person)
    if clause is not None:
        stmt = stmt.where(clause)
    added = 0
    for p in conn.execute(stmt).all():
        key = name_key(p.organization)
        matches = [(e, NAME_CONFIDENCE) for e in exact.get(key, [])]
        if not matches:
            head = head_office_key(p.organization)
            matches = [(e, HEAD_OFFICE_CONFIDENCE) for e in exact.get(head, []) + branch_of.get(key, [])]
        for e, confidence in matches:
            if (p.id, e.id) in linked:
                continue
            role = ("legal_representative" if p.name == e.legal_representative
                    else "shareholder" if (e.id, p.name) in holders else "employee")
            link_person(cs, p.id, e.id, role, method="name", confidence=confidence)
            linked.add((p.id, e.id))
            added += 1
    return added
