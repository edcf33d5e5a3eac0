"""Enterprises in the store: written through change sets, undone whole, read as a card and as counts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from store import changes as ch
from store import enterprises as ent
from store.queries import enterprises as q
from store.schema import change, enterprise, enterprise_link, risk_record, shareholder
from store.scope import EVERYTHING, Scope

WEST, UPTOWN = "330106", "330102"
CODE = "91350100M000100Y43"
OTHER = "91110000600037341L"


def new_person(cs, name="王老板", district=WEST, category="private_economy", **extra) -> int:
    return cs.add_person(dict(name=name, gender="M", category_code=category, district_code=district, **extra))


def rows(engine, table):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]


def test_enterprise_inserted_updated_unchanged_and_never_erased(engine):
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid, outcome = ent.save_enterprise(cs, dict(credit_code=" 91350100m000100y43 ", name="杭州甲科技有限责任公司",
                                                    legal_representative="王老板", registered_capital=500.0,
                                                    founded_on=dt.date(2015, 3, 1), status="存续"))
    assert outcome == ent.INSERTED
    [row] = rows(engine, enterprise)
    assert (row["credit_code"], row["name_key"]) == (CODE, "杭州甲科技有限公司")
    with ch.change_set_of(engine, "import", "clerk") as cs:
        assert ent.save_enterprise(cs, dict(credit_code=CODE, name="杭州甲科技有限责任公司", status=None,
                                            legal_representative=""))[1] == ent.UNCHANGED
        assert ent.save_enterprise(cs, dict(credit_code=CODE, name="杭州甲科技有限责任公司", status="吊销"))[1] == ent.UPDATED
    [row] = rows(engine, enterprise)
    assert (row["status"], row["legal_representative"], row["registered_capital"]) == ("吊销", "王老板", 500.0)


@pytest.mark.parametrize("code", ["91350100M000100Y44", "", None, "ABC"])
def test_an_invalid_code_is_refused_and_nothing_lands(engine, code):
    with pytest.raises(ch.WriteRefused) as err:
        with ch.change_set_of(engine, "import", "clerk") as cs:
            ent.save_enterprise(cs, dict(credit_code=OTHER, name="乙公司"))
            ent.save_enterprise(cs, dict(credit_code=code, name="甲公司"))
    assert "统一社会信用代码" in str(err.value)
    assert rows(engine, enterprise) == []


def test_a_whole_enterprise_change_set_is_undone(engine):
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        pid = new_person(cs)
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid, _ = ent.save_enterprise(cs, dict(credit_code=CODE, name="甲公司"))
        ent.save_shareholder(cs, eid, dict(name="王老板", kind="person", subscribed_amount=300.0, share=60.0))
        ent.save_risk(cs, eid, dict(kind="dishonest", case_number="(2025)浙0106执123号", authority="西湖区人民法院",
                                    filed_on=dt.date(2025, 5, 1), published_on=dt.date(2025, 6, 1)))
        ent.link_person(cs, pid, eid, "legal_representative", method="credit_code")
        set_id = cs.id
    with engine.connect() as conn:
        entities = sorted(set(conn.execute(select(change.c.entity).where(change.c.change_set_id == set_id)).scalars()))
    assert entities == ["enterprise", "enterprise_link", "risk_record", "shareholder"]
    [risk] = rows(engine, risk_record)
    assert risk["recorded_on"] == dt.date(2025, 6, 1)
    ch.undo_change_set(engine, set_id, "clerk")
    assert [rows(engine, t) for t in (enterprise, shareholder, risk_record, enterprise_link)] == [[], [], [], []]


def test_risk_records_are_named_by_case_number_and_shareholders_by_name(engine):
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid, _ = ent.save_enterprise(cs, dict(credit_code=CODE, name="甲公司"))
        first = ent.save_risk(cs, eid, dict(kind="dishonest", case_number="(2025)浙0106执1号", performance="全部未履行"))
        again = ent.save_risk(cs, eid, dict(kind="dishonest", case_number="(2025)浙0106执1号", performance="部分履行"))
        other = ent.save_risk(cs, eid, dict(kind="penalty", obligation="罚款 2 万元", published_on=dt.date(2024, 1, 2)))
        same = ent.save_risk(cs, eid, dict(kind="penalty", obligation="罚款 2 万元", published_on=dt.date(2024, 1, 2)))
        ent.save_shareholder(cs, eid, dict(name="王老板", share=60.0))
        assert ent.save_shareholder(cs, eid, dict(name="王老板", share=55.0))[1] == ent.UPDATED
    assert (first[1], again, other[1], same) == (ent.INSERTED, (first[0], ent.UPDATED), ent.INSERTED,
                                                 (other[0], ent.UNCHANGED))
    assert [r["performance"] for r in rows(engine, risk_record)] == ["部分履行", None]
    assert [r["share"] for r in rows(engine, shareholder)] == [55.0]


def test_card_figures_and_health_count_follow_live_links_and_scope(engine):
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        boss = new_person(cs, "王老板", organization="杭州甲科技有限公司")
        guess = new_person(cs, "李经理", organization="杭州甲科技有限公司")
        east = new_person(cs, "赵董", district=UPTOWN)
        new_person(cs, "钱总")  # private economy, never linked
        new_person(cs, "孙教授", category="intellectual")
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid, _ = ent.save_enterprise(cs, dict(credit_code=CODE, name="杭州甲科技有限责任公司"))
        other, _ = ent.save_enterprise(cs, dict(credit_code=OTHER, name="乙公司"))
        ent.save_shareholder(cs, eid, dict(name="王老板", kind="person", share=60.0))
        ent.save_risk(cs, eid, dict(kind="dishonest", case_number="(2025)浙0106执1号"))
        ent.link_person(cs, boss, eid, "legal_representative", method="credit_code")
        suggestion, _ = ent.link_person(cs, guess, eid, "employee", method="name",
                                        confidence=ent.match_confidence("杭州甲科技有限公司", "杭州甲科技有限责任公司"))
        ent.link_person(cs, east, other, "shareholder", method="staff")

    card = q.enterprise_card(engine, EVERYTHING, boss)
    assert card.enterprises[["credit_code", "role", "confirmed", "risks"]].values.tolist() == [
        [CODE, "legal_representative", True, 1]]
    assert card.shareholders["name"].tolist() == ["王老板"] and card.risks["kind"].tolist() == ["dishonest"]
    shown = q.enterprise_card(engine, EVERYTHING, guess).enterprises
    assert shown[["confirmed", "confidence"]].values.tolist() == [[False, 0.9]]
    assert q.enterprise_card(engine, Scope(districts=(UPTOWN,)), boss) is None

    assert q.enterprise_figures(engine, EVERYTHING) == q.EnterpriseFigures(2, 2, 1)
    assert q.enterprise_figures(engine, Scope(districts=(UPTOWN,))) == q.EnterpriseFigures(1, 1, 0)
    assert q.unlinked_private_economy(engine, EVERYTHING) == 2  # 李经理 (a suggestion only) and 钱总
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        assert ent.confirm_link(cs, suggestion)
    assert q.enterprise_figures(engine, EVERYTHING) == q.EnterpriseFigures(2, 3, 2)
    assert q.unlinked_private_economy(engine, EVERYTHING) == 1
    assert q.unlinked_private_economy(engine, Scope(districts=(UPTOWN,))) == 0


@pytest.mark.parametrize("organisation, registered, confidence", [
    ("杭州甲科技有限公司", "杭州甲科技有限责任公司", ent.NAME_CONFIDENCE),
    ("杭州甲科技有限公司", "杭州甲科技有限公司（滨江分公司）", ent.HEAD_OFFICE_CONFIDENCE),
    ("杭州甲科技有限公司杭州分公司", "杭州甲科技有限公司", ent.HEAD_OFFICE_CONFIDENCE),
    ("杭州甲科技（集团）有限公司", "杭州甲科技(集团)有限公司", ent.NAME_CONFIDENCE),
    ("ABC 股份有限公司", "abc股份有限公司", ent.NAME_CONFIDENCE),
    ("杭州甲科技有限公司", "杭州乙科技有限公司", 0.0),
    ("", "杭州乙科技有限公司", 0.0),
])
def test_name_matching(organisation, registered, confidence):
    assert ent.match_confidence(organisation, registered) == confidence
