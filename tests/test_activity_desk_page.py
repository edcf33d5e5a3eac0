"""The activity desk and the hall screen as pages (AppTest): plan with a question, publish, invite with the
explorer's filters, bulk review into the wait list; the hall shows counts and no names."""

from __future__ import annotations

import pytest

from store import activities as act
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.scope import Scope
from tests.test_checkin import approved_participants
from tests.test_online_activities import STAFF, WEST, people
from ui.cache import data_changed
from ui.i18n import translate


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    yield url, engine
    engine.dispose()


def one_of_three_arrived(engine) -> int:
    aid, ids = approved_participants(engine, 3)
    act.check_in(engine, aid, ids[0], door=act.Door("s", "admin", Scope()), nonce="n")
    return aid


def button(at, key):
    return next(b for b in at.button if b.key == key)


def test_plan_publish_invite_and_review_on_the_desk(store, open_page):
    url, engine = store
    ids = people(engine, 4)
    at = open_page(url, "activity_desk")
    at.text_input(key="desk_title_0").input("理论研讨班")
    at.text_input(key="desk_place_0").input("市民中心")
    at.number_input(key="desk_capacity_0").set_value(3)
    at.button[0].click().run()  # the form's save button
    assert not at.exception and not at.error, [e.value for e in at.error]
    plans = act.planned_activities(engine)
    assert plans["title"].tolist() == ["理论研讨班"] and plans["state"].tolist() == ["draft"]
    aid = int(plans["id"][0])
    at.selectbox(key="desk_q_kind").set_value("choice")
    at.text_input(key="desk_q_label").input("是否用餐")
    at.text_input(key="desk_q_options").input("是，否")
    at.checkbox(key="desk_q_required").check()
    next(b for b in at.button if b.label == translate("desk.q.add", "zh")).click().run()
    at.selectbox(key="desk_q_kind").set_value("text")
    at.text_input(key="desk_q_label").input("饮食禁忌")
    at.selectbox(key="desk_q_when_id").set_value("q1")
    at.text_input(key="desk_q_when_answer").input("是")
    next(b for b in at.button if b.label == translate("desk.q.add", "zh")).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert act.questions_of(engine, aid) == (
        act.Question("q1", "choice", "是否用餐", ("是", "否"), True),
        act.Question("q2", "text", "饮食禁忌", when=("q1", "是")))
    at.selectbox(key="desk_q_when_id").set_value("q1")
    at.text_input(key="desk_q_label").input("人数")
    at.text_input(key="desk_q_when_answer").input("也许")  # not an option of q1: told, not saved
    next(b for b in at.button if b.label == translate("desk.q.add", "zh")).click().run()
    assert any("not an option" in e.value for e in at.error) and len(act.questions_of(engine, aid)) == 2
    button(at, "desk_publish").click().run()
    assert act.activity_plan(engine, aid)["state"] == "published"
    at.query_params["districts"] = [WEST]
    button(at, "desk_invite").click().run()
    assert not at.exception
    assert act.status_counts(engine, aid)["invited"] == 4
    for pid in ids:
        act.sign_up(engine, aid, pid, {"q1": "是", "q2": "素食"})
    data_changed()  # written beside the app, in this process: as the version watch would notice
    at.run()
    assert [m.value for m in at.metric][0] == "4"  # awaiting review
    button(at, "desk_review_True").click().run()  # nothing ticked: told, nothing changed
    assert [w.value for w in at.warning] == [translate("desk.pick_rows", "zh")]
    button(at, "desk_review_all").click().run()  # capacity 3: three places, the fourth waits
    assert not at.exception and not at.error
    assert [m.value for m in at.metric][:3] == ["0", "3", "1"]
    assert act.sign_ups(engine, aid, statuses=("waitlisted",))["person_id"].tolist() == [ids[3]]


def test_a_bad_plan_is_told_not_saved(store, open_page):
    url, engine = store
    at = open_page(url, "activity_desk")
    at.button[0].click().run()  # no title, no place
    assert not at.exception
    assert any("title is missing" in e.value for e in at.error)
    assert act.planned_activities(engine).empty


def test_the_hall_shows_counts_and_no_names(store, open_page):
    url, engine = store
    aid = one_of_three_arrived(engine)
    at = open_page(url, "hall", activity=str(aid))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[translate("hall.checked_in", "zh")] == "1" and metrics[translate("hall.approved", "zh")] == "3"
    shown = " ".join(str(x.value) for x in (*at.markdown, *at.metric, *at.subheader))
    assert "代表" not in shown


def test_the_hall_without_an_activity_says_how_to_open_one(store, open_page):
    at = open_page(store[0], "hall")
    assert [i.value for i in at.info] == [translate("hall.pick", "zh")]


def test_a_leader_on_the_hall_sees_small_counts_withheld(store, monkeypatch):
    import time

    from streamlit.testing.v1 import AppTest

    from store.scope import EVERYTHING
    from ui.auth import Viewer

    url, engine = store
    aid = one_of_three_arrived(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at = AppTest.from_file("../pages/hall.py", default_timeout=60)
    at.session_state["viewer"] = Viewer(name="boss", role="leader", scope=EVERYTHING)
    at.session_state["last_seen"] = time.time()
    at.query_params["activity"] = str(aid)
    at.run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["<5", "<5", "—"]


def test_a_finished_activity_sends_its_feedback_survey_from_the_desk(store, open_page):
    from store import surveys as sv

    url, engine = store
    aid, ids = approved_participants(engine, 3)
    for pid in ids[:2]:
        act.check_in(engine, aid, pid, door=act.Door("s", "admin", Scope()), nonce=f"n{pid}")
    act.finish_activity(engine, aid, actor=STAFF)
    at = open_page(url, "activity_desk")
    assert at.selectbox(key="desk_feedback_pick").value == 0  # a new standard feedback survey
    button(at, "desk_feedback_send").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [translate("desk.feedback_sent", "zh", n=2)]
    (sid,) = sv.surveys(engine)["id"].tolist()
    assert sv.response_rate(engine, sid, Scope()) == (2, 0)
    assert [s["id"] for s in sv.open_for(engine, ids[1])] == [sid] and sv.open_for(engine, ids[2]) == []
