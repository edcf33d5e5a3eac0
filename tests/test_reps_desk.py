"""The staff's review desk under AppTest: corrections side by side and decided per field, suggestions
handled, records accepted, links issued; hostile texts from representatives shown inert."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store import changes as ch
from store import reps
from store.schema import person
from store.scope import Scope

PAGE = "pages/reps.py"
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> **bold** {{ 7*7 }}'


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def add(engine, name="张三", phone="13812345678") -> int:
    with ch.change_set_of(engine, "staff", "setup") as cs:
        return cs.add_person(dict(name=name, gender="M", category_code="non_party", district_code="330106",
                                  phone=phone, stage="discover", organization="旧单位"))


def open_desk(make_app, engine, **params):
    at = make_app(url_of(engine), **params)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def markup_of(at) -> str:
    """Everything the page renders as markdown or HTML (where a hostile text could become live)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [x.value for x in at.title]
    parts += [s.value for s in at.subheader] + [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(parts)


def submit(at, label: str = "保存审核结果", index: int = 0):
    [b for b in at.button if b.label == label][index].click().run()
    assert not at.exception, at.exception
    return at


def test_a_request_is_decided_field_by_field(make_app, sqlite_engine):
    pid = add(sqlite_engine)
    reps.propose_changes(sqlite_engine, pid, {"organization": "新单位", "position": HOSTILE[:200], "title": "高工"})
    at = open_desk(make_app, sqlite_engine)
    shown = at.dataframe[0].value
    assert shown.fillna("").values.tolist() == [["工作单位", "旧单位", "旧单位", "新单位"], ["职务", "", "", HOSTILE[:200]],
                                                ["职称", "", "", "高工"]]
    assert "<script>" not in markup_of(at)
    fields = reps.pending_fields(sqlite_engine, Scope()).set_index("field")["field_id"]
    org, pos, title = (int(fields[f]) for f in ("organization", "position", "title"))
    # Accept the organization as edited, reject the position: without a reason that is refused in words.
    at.radio(key=f"reps_decide_{org}").set_value("accept")
    at.text_input(key=f"reps_value_{org}").input("新单位（已核实）")
    at.radio(key=f"reps_decide_{pos}").set_value("reject")
    submit(at)
    assert "理由" in at.error[0].value
    assert len(reps.pending_fields(sqlite_engine, Scope())) == 3
    at.text_input(key=f"reps_reason_{pos}").input("请提供任职文件")
    submit(at)
    assert [s.value for s in at.success] == ["已采纳 1 项，拒绝 1 项。"]
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(person.c.organization, person.c.position, person.c.updated_via)
                           .where(person.c.id == pid)).one()
    # Accepted values are cleaned as an imported cell is (full-width brackets half-width).
    assert tuple(row) == ("新单位(已核实)", None, "self")
    # The title, left for later, is all that waits; the request with it.
    assert reps.pending_fields(sqlite_engine, Scope())["field_id"].tolist() == [title]
    assert [r["reason"] for r in reps.my_requests(sqlite_engine, pid) if r["field"] == "position"] == ["请提供任职文件"]
    assert len(at.dataframe[0].value) == 1


def test_every_waiting_field_at_once(make_app, sqlite_engine):
    a, b = add(sqlite_engine), add(sqlite_engine, "李四")
    reps.propose_changes(sqlite_engine, a, {"organization": "甲单位"})
    reps.propose_changes(sqlite_engine, b, {"organization": "乙单位", "title": "教授"})
    at = open_desk(make_app, sqlite_engine)
    at.radio(key="reps_bulk_decision").set_value("reject")
    submit(at, "对全部 3 项执行")
    assert "理由" in at.error[0].value
    at.radio(key="reps_bulk_decision").set_value("accept")
    submit(at, "对全部 3 项执行")
    assert [s.value for s in at.success] == ["已采纳 3 项，拒绝 0 项。"]
    assert reps.pending_fields(sqlite_engine, Scope()).empty
    assert "没有待审核的更正。" in [i.value for i in at.info]


def test_suggestion_handled_and_hostile_text_inert(make_app, sqlite_engine):
    pid = add(sqlite_engine)
    sid = reps.submit_suggestion(sqlite_engine, pid, "suggestion", HOSTILE[:200],
                                 HOSTILE + " [x](javascript:alert(3))", HOSTILE[:64])
    reps.add_record(sqlite_engine, pid, "honour", "2026-11-01", HOSTILE)
    at = open_desk(make_app, sqlite_engine)
    markup = markup_of(at)
    assert "<script>" not in markup and "onerror" not in markup and "{{ 7*7 }}" not in markup
    listed = next(d for d in at.dataframe if d.key == "reps_sugg_list").value
    assert listed["标题"].tolist() == [HOSTILE[:200]]  # shown as the text it is, in a table cell
    reps.handle_suggestion(sqlite_engine, sid, actor="s", status="reviewing")
    at = open_desk(make_app, sqlite_engine)
    listed = next(d for d in at.dataframe if d.key == "reps_sugg_list").value
    assert listed["状态"].tolist() == ["办理中"]
    records = next(d for d in at.dataframe if d.key == "reps_records_list").value
    assert records["内容"].tolist() == [HOSTILE]


def test_the_desk_shows_only_the_scope(make_app, sqlite_engine, monkeypatch):
    west = add(sqlite_engine)
    with ch.change_set_of(sqlite_engine, "staff", "setup") as cs:
        up = cs.add_person(dict(name="上城人", category_code="non_party", district_code="330102", stage="discover"))
    reps.propose_changes(sqlite_engine, up, {"organization": "上城单位"})
    reps.propose_changes(sqlite_engine, west, {"organization": "西湖单位"})
    assert reps.pending_fields(sqlite_engine, Scope(districts=("330106",)))["name"].tolist() == ["张三"]


def test_liveness_on_data_health(make_app, sqlite_engine):
    a, b = add(sqlite_engine), add(sqlite_engine, "李四")
    add(sqlite_engine, "王五")
    reps.confirm_correct(sqlite_engine, a)
    reps.propose_changes(sqlite_engine, b, {"organization": "新"})
    at = make_app(url_of(sqlite_engine))
    at.run()
    at.switch_page("pages/data_health.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["待审核更正"] == "1"
    # Staff see every count; the share is of the persons still followed.
    assert metrics["12个月内信息确认率"] == "66.7%"
    assert "最久 0 天 · 中位 0 天" in [c.value for c in at.caption]


def test_the_explorer_leads_to_links_for_its_selection(make_app, sqlite_engine):
    add(sqlite_engine)
    at = make_app(url_of(sqlite_engine), categories="non_party")
    at.run()
    at.switch_page("pages/explorer.py").run()
    assert not at.exception, at.exception
    links = [n.proto for n in at.get("page_link") if "发放个人链接" in n.proto.label]
    assert len(links) == 1 and "categories=non_party" in str(links[0]), links
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert any("筛选结果：1 人" in c.value for c in at.caption)


def test_a_survey_is_created_sent_and_charted(make_app, sqlite_engine):
    from store import surveys as sv

    a, b = add(sqlite_engine), add(sqlite_engine, "李四")
    at = make_app(url_of(sqlite_engine), categories="non_party")
    at.run()
    at.switch_page(PAGE).run()
    # The question table is a data editor AppTest cannot type into: the store makes the survey here.
    sid = sv.create_survey(sqlite_engine, "满意度 <script>x</script>",
                           [sv.Question("single", "满意吗 **粗体**", ("是", "<b>否</b>")), sv.Question("text", "意见")],
                           actor="s")
    at.run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.key == f"sv_send_{sid}").click().run()
    assert not at.exception, at.exception
    assert "已发送给 2 人" in " ".join(s.value for s in at.success)
    qs = sv.questions_of(sqlite_engine, sid)
    sv.answer(sqlite_engine, sid, a, {qs[0].id: "<b>否</b>", qs[1].id: "{{ 7*7 }} <img src=x onerror=alert(1)>"})
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["已发送"] == "2" and metrics["已回答"] == "1" and metrics["回复率"].startswith("50")
    charts = at.get("plotly_chart")
    assert charts, "the choice question is charted"
    assert "<script>" not in markup_of(at) and "onerror" not in markup_of(at)
    answers = [d.value for d in at.dataframe if "回答" in d.value.columns]
    assert answers and answers[0]["回答"].tolist() == ["{{ 7*7 }} <img src=x onerror=alert(1)>"]
    next(b for b in at.button if b.key == f"sv_close_{sid}").click().run()
    assert not at.exception, at.exception
    with sqlite_engine.connect() as conn:
        from store.schema import survey

        assert conn.execute(select(survey.c.status)).scalar() == "closed"


@pytest.fixture
def tickets(monkeypatch):
    """Every one-time download the page orders, as (ticket, order): the test fetches them itself."""
    from ui import downloads

    made: list = []
    original = downloads.TicketBook.issue

    def issue(self, order):
        ticket = original(self, order)
        made.append((ticket, order))
        return ticket

    monkeypatch.setattr(downloads.TicketBook, "issue", issue)
    return made


def audited(engine, action: str) -> list[dict]:
    import json

    from store.schema import audit_log

    with engine.connect() as conn:
        return [json.loads(d) for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.action == action)
                                                    .order_by(audit_log.c.id)).scalars()]


def test_links_are_made_when_their_one_time_download_is_fetched(make_app, sqlite_engine, tickets):
    import io
    import zipfile

    from ui import downloads

    pid = add(sqlite_engine)
    with ch.change_set_of(sqlite_engine, "staff", "setup") as cs:
        cs.add_person(dict(name="无手机", category_code="non_party", district_code="330106", stage="discover"))
    at = open_desk(make_app, sqlite_engine)
    at.number_input(key="reps_one").set_value(pid).run()
    next(b for b in at.button if b.key == "reps_issue_one").click().run()
    assert not at.exception, at.exception
    assert "正在为 1 人发放链接并下载" in " ".join(s.value for s in at.success)
    # The click made a ticket, nothing else: no link exists yet, no file sits in the session.
    [(ticket, order)] = tickets
    assert isinstance(order, downloads.LinksOrder) and order.person_ids == (pid,)
    assert reps.links(sqlite_engine, Scope()).empty and not audited(sqlite_engine, "reps.link_issue")
    assert not [k for k in at.session_state if "sheet" in str(k)]
    # Fetched: the links are issued (audited) and zipped with their QR codes ...
    made = downloads.download_of(ticket, None)
    assert (made.file_name, made.media_type) == ("personal-links.zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(made.data)) as zf:
        assert set(zf.namelist()) == {"links.xlsx", f"qr/{pid}.png"}
    assert reps.links(sqlite_engine, Scope())["person_id"].tolist() == [pid]
    assert audited(sqlite_engine, "reps.link_issue") == [{"persons": 1, "days": reps.DEFAULT_DAYS}]
    # ... once.
    with pytest.raises(downloads.Refused) as refused:
        downloads.download_of(ticket, None)
    assert refused.value.status == 410
    assert len(audited(sqlite_engine, "reps.link_issue")) == 1


def test_a_person_outside_the_desk_gets_no_ticket(make_app, sqlite_engine, tickets):
    at = open_desk(make_app, sqlite_engine)
    at.number_input(key="reps_one").set_value(99999).run()
    next(b for b in at.button if b.key == "reps_issue_one").click().run()
    assert not at.exception, at.exception
    assert "没有可发放的人员" in " ".join(w.value for w in at.warning)
    assert tickets == []


def test_links_revoked_and_a_locked_one_listed(make_app, sqlite_engine):
    from store import tokens

    pid = add(sqlite_engine)
    first = reps.issue_links(sqlite_engine, [pid], actor="s")[0].token
    claim = reps.open_link(sqlite_engine, first)
    for _ in range(reps.MAX_TRIES):
        reps.confirm_last_four(sqlite_engine, claim, "0000")
    at = open_desk(make_app, sqlite_engine)
    locked = next(d for d in at.dataframe if d.key == "reps_locked").value
    assert locked["编号"].tolist() == [pid]
    # AppTest cannot tick a row: the re-issue button waits for one.
    assert next(b for b in at.button if b.key == "reps_reissue").disabled
    form_number = next(n for n in at.number_input if n.label == "撤销链接（人员编号）")
    form_number.set_value(pid)
    next(b for b in at.button if b.label == "撤销").click().run()
    assert "已撤销" in " ".join(s.value for s in at.success)
    with pytest.raises(tokens.TokenRefused):
        reps.open_link(sqlite_engine, first)


def test_staff_see_a_proposed_phone_masked_and_accept_it_whole(make_app, sqlite_engine, monkeypatch):
    """Staff see personal fields masked (README, roles): on the desk too, the mobile a representative
    proposes, the one on record and the one when proposed. Accepted as shown, the full number is stored."""
    import time

    from ui.auth import Viewer

    pid = add(sqlite_engine)
    reps.propose_changes(sqlite_engine, pid, {"phone": "13911112222", "organization": "新单位"})
    at = make_app(url_of(sqlite_engine))
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at.session_state["viewer"] = Viewer(name="wang", role="staff", scope=Scope())
    at.session_state["last_seen"] = time.time()
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    shown = table.iloc[:, 1:].values.tolist()
    assert sorted(shown) == [["138****5678", "138****5678", "139****2222"], ["旧单位", "旧单位", "新单位"]]
    fields = reps.pending_fields(sqlite_engine, Scope()).set_index("field")["field_id"]
    phone, org = int(fields["phone"]), int(fields["organization"])
    # The value to accept is shown masked too; nothing on the page holds either full number.
    assert at.text_input(key=f"reps_value_{phone}").value == "139****2222"
    assert "13911112222" not in str(shown) and "13812345678" not in str(shown)
    at.radio(key=f"reps_decide_{phone}").set_value("accept")
    at.radio(key=f"reps_decide_{org}").set_value("accept")
    submit(at)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(person.c.phone).where(person.c.id == pid)).scalar_one() == "13911112222"
