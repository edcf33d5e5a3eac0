"""The enterprise card on the explorer's profile and the warning among lifecycle candidates, under AppTest."""

from __future__ import annotations

import re
from pathlib import Path

from test_enterprise_warnings import cultivated_with_checkins, dishonest


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_profile_shows_the_enterprise_card_with_shareholders_and_risks(engine, open_page):
    from store import changes as ch
    from store import enterprises as ent

    pid = cultivated_with_checkins(engine, "王老板", checkins=0)
    dishonest(engine, pid)
    with ch.change_set_of(engine, "import", "clerk") as cs:
        eid = ent.enterprise_id_for(cs, "91350100M000100Y43")
        ent.save_shareholder(cs, eid, dict(name="王老板", kind="person", subscribed_amount=600.0, share=60.0))
    at = open_page(url_of(engine), "explorer", person=str(pid))
    text = " ".join(m.value for m in at.markdown)
    assert "关联企业" in text and "杭州甲科技有限公司" in text and "91350100M000100Y43" in text
    assert any("1 条风险记录" in w.value for w in at.warning)
    tables = [df.value for df in at.dataframe]
    assert any("name" in t and "王老板" in t["name"].tolist() and "share" in t for t in tables)
    assert any("case_number" in t and "(2025)浙0106执1号" in t["case_number"].tolist() for t in tables)


def test_profile_without_enterprises_says_so(engine, open_page):
    pid = cultivated_with_checkins(engine, "李经理", checkins=0)
    at = open_page(url_of(engine), "explorer", person=str(pid))
    assert any("暂无关联企业" in c.value for c in at.caption)
    assert not at.warning


def test_candidates_carry_the_warning(engine, open_page):
    risky = cultivated_with_checkins(engine, "王老板")
    cultivated_with_checkins(engine, "李经理")
    dishonest(engine, risky)
    at = open_page(url_of(engine), "lifecycle")
    frame = next(df.value for df in at.dataframe if "企业风险提示" in df.value.columns)
    shown = {n: (r if isinstance(r, str) else None) for n, r in zip(frame["姓名"], frame["企业风险提示"])}
    assert shown == {"王老板": "风险记录 1 条", "李经理": None}


def test_cockpit_shows_enterprise_counts_only_when_there_are_links(engine, make_app):
    from charts import cockpit as c
    from store.queries.enterprises import EnterpriseFigures
    from tests.test_cockpit_page import html_of, open_cockpit

    labels = {"enterprises": "E", "alerts": "A"}
    assert c.enterprise_cards(EnterpriseFigures(0, 0, 0), labels) == []
    assert [card.value for card in c.enterprise_cards(EnterpriseFigures(12, 15, 3), labels, threshold=5)] == ["12", "<5"]

    for i in range(6):
        cultivated_with_checkins(engine, f"老板{i}", checkins=0)
    dishonest(engine, 1)
    body = html_of(open_cockpit(make_app, url_of(engine), kiosk="1"))
    # They join the representatives' responses in the second row of cards.
    after = re.findall(r'<div class="cockpit-kpis" style="--kpi-count: (\d+)">(.*?)</div></div></div>', body)[1]
    assert after[0] == "5" and 'data-kpi="reps_suggestions"' in after[1]
    after = after[1][after[1].index('data-kpi="enterprises"'):]
    assert 'data-kpi="risk_alerts"' in after
    # One enterprise, one alert: under the big screen's threshold of 5, never shown as a number.
    assert after.count("&lt;5") >= 2


def test_data_health_counts_unlinked_private_economy_persons(engine, open_page):
    for i in range(3):
        cultivated_with_checkins(engine, f"老板{i}", checkins=0)
    dishonest(engine, 1)
    at = open_page(url_of(engine), "data_health")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["未关联企业的非公有制经济人士"] == "2"
    assert metrics["关联企业"] == "1" and metrics["企业风险提示"] == "1"


def test_staff_confirm_a_suggested_link_on_the_card(engine, open_page):
    from sqlalchemy import select

    from store.schema import enterprise_link

    pid = cultivated_with_checkins(engine, "王老板", checkins=0)
    dishonest(engine, pid, method="name")
    at = open_page(url_of(engine), "explorer", person=str(pid))
    [link_id] = [int(b.key.rsplit("_", 1)[1]) for b in at.button if b.key and b.key.startswith("enterprise_confirm_")]
    at.button(key=f"enterprise_confirm_{link_id}").click().run()
    assert not at.exception and any("已确认关联" in s.value for s in at.success)
    with engine.connect() as conn:
        confirmed = conn.execute(select(enterprise_link.c.confirmed_at, enterprise_link.c.confidence)).one()
    assert confirmed.confirmed_at is not None and confirmed.confidence == 1.0


def _as(monkeypatch, engine, role: str, districts=()):
    import time

    from streamlit.testing.v1 import AppTest

    from store.scope import Scope
    from ui.auth import Viewer

    monkeypatch.setenv("DATABASE_URL", url_of(engine))
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "0")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "pages" / "enterprises.py"), default_timeout=120)
    at.session_state["viewer"] = Viewer(name=f"{role}1", role=role, scope=Scope(districts=tuple(districts)))
    at.session_state["last_seen"] = time.time()
    return at.run()


def test_the_enterprises_page_lists_suggestions_within_scope_and_confirms(engine, monkeypatch):
    from sqlalchemy import select

    from store.schema import enterprise_link

    west = cultivated_with_checkins(engine, "王老板", checkins=0)
    east = cultivated_with_checkins(engine, "赵董", district="330102", checkins=0)
    dishonest(engine, west, method="name")
    from store import changes as ch
    from store import enterprises as ent

    with ch.change_set_of(engine, "import", "clerk") as cs:
        ent.link_person(cs, east, ent.enterprise_id_for(cs, "91350100M000100Y43"), "employee", method="name",
                        confidence=0.6)
    at = _as(monkeypatch, engine, "staff", districts=("330106",))
    assert not at.exception and not at.error
    shown = " ".join(m.value for m in at.markdown)
    assert "王老板" in shown and "赵董" not in shown and "可信度 90%" in shown
    assert not at.get("file_uploader")  # importing is for admins
    [button] = [b for b in at.button if b.key and b.key.startswith("ent_confirm_")]
    button.click().run()
    assert any("已确认关联" in s.value for s in at.success)
    with engine.connect() as conn:
        assert conn.execute(select(enterprise_link.c.person_id).where(
            enterprise_link.c.confirmed_at.is_not(None))).scalars().all() == [west]


def test_admins_see_enterprise_batches_and_undo_them(engine, monkeypatch):
    from sqlalchemy import func, select

    from loaders import enterprises as imp
    from store.schema import enterprise

    data = "企业名称,统一社会信用代码\n杭州甲科技有限公司,91350100M000100Y43\n".encode()
    done = imp.apply_enterprise_import(engine, imp.prepare_enterprise_import(data, "工商.csv"), imported_by="admin1")
    at = _as(monkeypatch, engine, "admin")
    assert not at.exception and at.get("file_uploader")
    at.selectbox(key="ent_undo_pick").select(done.batch_id)
    at.button(key="ent_undo").click().run()
    assert not at.exception and any(f"已撤销第 {done.batch_id} 批" in s.value for s in at.success)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(enterprise)).scalar_one() == 0
