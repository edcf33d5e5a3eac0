"""Enterprises as the pages see them: a person's enterprise card, risk counts, link figures.

A link counts (warnings, filters, figures) when it was made by credit code or by staff, or
when staff confirmed a name match (store.enterprises.live_link); unconfirmed name matches
are shown on the card as suggestions only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, and_, distinct, exists, func, not_, select

from store.enterprises import live_link
from store.schema import change_set, enterprise, enterprise_link, import_batch, person, risk_record, shareholder
from store.scope import Scope
from store.sql import reads_beyond_copy

PRIVATE_ECONOMY = "private_economy"

ENTERPRISE_COLUMNS = ["link_id", "role", "method", "confidence", "confirmed", "enterprise_id", "credit_code", "name",
                      "legal_representative", "registered_capital", "capital_currency", "founded_on", "status",
                      "industry", "address", "risks"]
SHAREHOLDER_COLUMNS = ["enterprise_id", "name", "kind", "subscribed_amount", "share"]
RISK_COLUMNS = ["enterprise_id", "kind", "case_number", "authority", "filed_on", "obligation", "performance",
                "published_on", "recorded_on", "source"]


def risk_count(person_table=person):
    """Risk records of the enterprises a person is (live) linked to: a scalar subquery per person row."""
    return (select(func.count(risk_record.c.id))
            .select_from(enterprise_link.join(risk_record, risk_record.c.enterprise_id == enterprise_link.c.enterprise_id))
            .where(enterprise_link.c.person_id == person_table.c.id, live_link())
            .scalar_subquery())


def has_risk(person_table=person):
    """The person is (live) linked to an enterprise with at least one risk record."""
    return exists().where(enterprise_link.c.person_id == person_table.c.id, live_link(),
                          risk_record.c.enterprise_id == enterprise_link.c.enterprise_id)


@dataclass(frozen=True)
class EnterpriseCard:
    enterprises: pd.DataFrame   # one row per link, suggestions included (confirmed False)
    shareholders: pd.DataFrame
    risks: pd.DataFrame


def enterprise_card(engine: Engine, scope: Scope, person_id: int) -> EnterpriseCard | None:
    """The enterprises linked to one person, their shareholders and risk records; None outside the scope."""
    inside = select(person.c.id).where(person.c.id == int(person_id))
    clause = scope.person_clause(person)
    if clause is not None:
        inside = inside.where(clause)
    link = enterprise_link.c
    risks = (select(func.count()).where(risk_record.c.enterprise_id == enterprise.c.id).scalar_subquery())
    stmt = (select(link.id.label("link_id"), link.role, link.method, link.confidence,
                   live_link().label("confirmed"), enterprise.c.id.label("enterprise_id"), enterprise.c.credit_code,
                   enterprise.c.name, enterprise.c.legal_representative, enterprise.c.registered_capital,
                   enterprise.c.capital_currency, enterprise.c.founded_on, enterprise.c.status, enterprise.c.industry,
                   enterprise.c.address, risks.label("risks"))
            .join(enterprise, enterprise.c.id == link.enterprise_id)
            .where(link.person_id == int(person_id))
            .order_by(live_link().desc(), link.confidence.desc(), enterprise.c.name, link.role))
    with engine.connect() as conn:
        if conn.execute(inside).first() is None:
            return None
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
        ids = sorted({r["enterprise_id"] for r in rows})
        holders = [dict(r._mapping) for r in conn.execute(
            select(*[shareholder.c[c] for c in SHAREHOLDER_COLUMNS]).where(shareholder.c.enterprise_id.in_(ids))
            .order_by(shareholder.c.enterprise_id, shareholder.c.share.desc(), shareholder.c.name))] if ids else []
        found = [dict(r._mapping) for r in conn.execute(
            select(*[risk_record.c[c] for c in RISK_COLUMNS]).where(risk_record.c.enterprise_id.in_(ids))
            .order_by(risk_record.c.recorded_on.desc(), risk_record.c.id))] if ids else []
    for r in rows:
        r["confirmed"] = bool(r["confirmed"])
    return EnterpriseCard(pd.DataFrame(rows, columns=ENTERPRISE_COLUMNS),
                          pd.DataFrame(holders, columns=SHAREHOLDER_COLUMNS),
                          pd.DataFrame(found, columns=RISK_COLUMNS))


@dataclass(frozen=True)
class EnterpriseFigures:
    enterprises_linked: int   # distinct enterprises with a live link to a person in scope
    persons_linked: int
    risk_alerts: int          # persons in scope linked to an enterprise with a risk record


def enterprise_figures(engine: Engine, scope: Scope) -> EnterpriseFigures:
    """Counts only, for the cockpit: no names."""
    link = enterprise_link.c
    where = [live_link()]
    clause = scope.person_clause(person)
    base = select().select_from(enterprise_link.join(person, person.c.id == link.person_id)).where(*where)
    if clause is not None:
        base = base.where(clause)
    alerts = select(func.count()).select_from(person).where(has_risk())
    if clause is not None:
        alerts = alerts.where(clause)
    with engine.connect() as conn:
        linked = conn.execute(base.add_columns(func.count(distinct(link.enterprise_id)),
                                               func.count(distinct(link.person_id)))).one()
        n_alerts = conn.execute(alerts).scalar_one()
    return EnterpriseFigures(int(linked[0]), int(linked[1]), int(n_alerts))


def unlinked_private_economy(engine: Engine, scope: Scope) -> int:
    """Data health: 非公有制经济人士 in scope with no live link to any enterprise."""
    stmt = select(func.count()).select_from(person).where(
        person.c.category_code == PRIVATE_ECONOMY,
        not_(exists().where(enterprise_link.c.person_id == person.c.id, live_link())))
    clause = scope.person_clause(person)
    if clause is not None:
        stmt = stmt.where(clause)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


SUGGESTION_COLUMNS = ["link_id", "person_id", "person", "organization", "district_code", "enterprise", "credit_code",
                      "role", "confidence", "risks"]


@dataclass(frozen=True)
class SuggestionPage:
    total: int
    rows: pd.DataFrame


def link_suggestions(engine: Engine, scope: Scope, offset: int = 0, limit: int = 20) -> SuggestionPage:
    """Name-matched links staff have not confirmed yet, of persons in scope: surest first."""
    link = enterprise_link.c
    where = [link.method == "name", link.confirmed_at.is_(None)]
    clause = scope.person_clause(person)
    if clause is not None:
        where.append(clause)
    joined = enterprise_link.join(person, person.c.id == link.person_id).join(
        enterprise, enterprise.c.id == link.enterprise_id)
    risks = select(func.count()).where(risk_record.c.enterprise_id == enterprise.c.id).scalar_subquery()
    stmt = (select(link.id.label("link_id"), person.c.id.label("person_id"), person.c.name.label("person"),
                   person.c.organization, person.c.district_code, enterprise.c.name.label("enterprise"),
                   enterprise.c.credit_code, link.role, link.confidence, risks.label("risks"))
            .select_from(joined).where(*where)
            .order_by(link.confidence.desc(), link.id).offset(max(0, int(offset))).limit(max(1, int(limit))))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    return SuggestionPage(int(total), pd.DataFrame(rows, columns=SUGGESTION_COLUMNS))


BATCH_COLUMNS = ["batch_id", "file_name", "imported_at", "imported_by", "rows_read", "inserted", "updated",
                 "unchanged", "rejected", "status", "source"]


@reads_beyond_copy
def change_set_batches(engine: Engine, limit: int = 20) -> pd.DataFrame:
    """The latest batches written as one change set (enterprise imports, syncs), newest first."""
    b = import_batch.c
    stmt = (select(b.id.label("batch_id"), b.file_name, b.imported_at, b.imported_by, b.rows_read, b.inserted,
                   b.updated, b.unchanged, b.rejected, b.status, change_set.c.source)
            .join(change_set, and_(change_set.c.import_batch_id == b.id, change_set.c.undoes.is_(None)))
            .order_by(b.id.desc()).limit(max(1, int(limit))))
    with engine.connect() as conn:
        return pd.DataFrame([dict(r._mapping) for r in conn.execute(stmt)], columns=BATCH_COLUMNS)
