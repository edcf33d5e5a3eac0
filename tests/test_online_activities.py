"""Activities run online (issue 16): plan, invite, sign up, review, wait list, finish — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from store import activities as act
from store import changes as ch
from store import clock
from store.filters import PersonFilter
from store.schema import audit_log, change, change_set, invitation, participation
from store.scope import Scope

# Reads the project's clock: tests/test_calendar.py runs it again at every day of conftest.DATES.
pytestmark = pytest.mark.calendar

WEST, UPTOWN = "330106", "330102"
STAFF = "wang"
QUESTIONS = [
    {"id": "meal", "kind": "choice", "label": "是否用餐", "options": ["是", "否"], "required": True},
    {"id": "diet", "kind": "text", "label": "饮食禁忌", "when": ["meal", "是"]},
    {"id": "guests", "kind": "number", "label": "随行人数", "minimum": 0, "maximum": 2},
]


def day(hour: int = 9, days: int = 0) -> dt.datetime:
    return dt.datetime.combine(clock.today() + dt.timedelta(days=days), dt.time(hour))


def a_plan(**changes) -> act.Plan:
    values = dict(title="新春座谈会", kind="onsite", starts_at=day(9), ends_at=day(17), district_code=WEST,
                  place="市民中心 201", capacity=3, needs_review=True, audience="invited",
                  questions=act.parse_questions(QUESTIONS))
    values.update(changes)
    return act.Plan(**values)


def people(engine, n: int, district: str = WEST) -> list[int]:
    with ch.change_set_of(engine, "staff", STAFF) as cs:
        return [cs.add_person(dict(name=f"代表{i}", gender="F", category_code="non_party", district_code=district,
                                   phone=f"1380000{i:04d}")) for i in range(n)]


def published(engine, **changes) -> int:
    aid = act.plan_activity(engine, a_plan(**changes), actor=STAFF)
    act.publish_activity(engine, aid, actor=STAFF)
    return aid


def statuses(engine, aid) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(participation.c.person_id, participation.c.status)
                                 .where(participation.c.activity_id == aid)).all())


def test_the_issue_walk_through_invited_capacity_three(engine):
    ids = people(engine, 4)
    aid = published(engine)
    assert act.invite(engine, aid, PersonFilter(districts=(WEST,)), actor=STAFF) == 4
    for pid in ids:
        assert act.sign_up(engine, aid, pid, {"meal": "是", "diet": "素食"}).status == "registered"
    outcome = act.review(engine, aid, ids, approve=True, actor=STAFF)
    assert outcome.approved == ids[:3] and outcome.waitlisted == ids[3:]
    promoted = act.withdraw(engine, aid, ids[1], "临时出差")
    assert promoted == [ids[3]]
    assert statuses(engine, aid) == {ids[0]: "approved", ids[1]: "withdrawn", ids[2]: "approved", ids[3]: "approved"}
    with engine.connect() as conn:
        assert conn.execute(select(participation.c.notice).where(
            participation.c.activity_id == aid, participation.c.person_id == ids[3])).scalar_one() == "promoted"
    door = act.Door("steward1", "admin", Scope())
    assert act.check_in(engine, aid, ids[0], door=door, nonce="n1").outcome == "checked_in"
    assert act.finish_activity(engine, aid, actor=STAFF) == 2
    assert statuses(engine, aid) == {ids[0]: "checked_in", ids[1]: "withdrawn", ids[2]: "absent", ids[3]: "absent"}


def test_every_step_is_a_change_set_with_its_source(engine):
    (pid,) = people(engine, 1)
    aid = published(engine, audience="open", needs_review=False)
    act.sign_up(engine, aid, pid, {"meal": "否"})
    act.check_in(engine, aid, pid, door=act.Door("steward1", "admin", Scope()), nonce="x")
    with engine.connect() as conn:
        sources = conn.execute(select(change_set.c.source, change_set.c.actor).order_by(change_set.c.id)).all()
        actions = conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
        rows = conn.execute(select(change.c.field, change.c.new_value).where(
            change.c.entity == "participation", change.c.op == "update")).all()
    assert [s for s, _ in sources][-4:] == ["staff", "staff", "self", "checkin"]
    assert sources[-2].actor == f"person:{pid}" and sources[-1].actor == "steward1"
    assert actions[-4:] == ["activity.plan", "activity.published", "activity.sign_up", "activity.check_in"]
    assert ("status", '"checked_in"') in rows


@pytest.mark.parametrize("answers, problem", [
    ({}, "meal"),                                      # required
    ({"meal": "也许"}, "meal"),                         # not an option
    ({"meal": "否", "guests": "三"}, "guests"),          # not a number
    ({"meal": "否", "guests": "5"}, "guests"),           # out of range
    ({"meal": "否", "shoe": "42"}, "shoe"),              # no such question
    ({"meal": "是", "diet": "x" * 501}, "diet"),         # too long
])
def test_answers_are_validated_on_the_server(answers, problem):
    with pytest.raises(act.InvalidAnswers) as refused:
        act.validate_answers(act.parse_questions(QUESTIONS), answers)
    assert problem in refused.value.problems


def test_a_conditional_question_is_dropped_when_not_asked():
    questions = act.parse_questions(QUESTIONS)
    assert act.validate_answers(questions, {"meal": "否", "diet": "素食", "guests": "2"}) == {"meal": "否", "guests": 2}
    assert act.validate_answers(questions, {"meal": "是", "diet": "素食"}) == {"meal": "是", "diet": "素食"}


def test_a_condition_must_name_an_earlier_question_and_one_of_its_options():
    with pytest.raises(act.InvalidPlan) as refused:
        act.parse_questions([{"id": "a", "kind": "text", "label": "A", "when": ["b", "x"]},
                             {"id": "b", "kind": "choice", "label": "B", "options": ["x", "y"]},
                             {"id": "c", "kind": "text", "label": "C", "when": ["b", "z"]}])
    assert len(refused.value.problems) == 2


def test_a_bad_plan_names_every_problem_and_scope_limits_the_organizing_unit(engine):
    bad = a_plan(title=" ", ends_at=day(8), capacity=0, place=None, online_link="ftp://x")
    with pytest.raises(act.InvalidPlan) as refused:
        act.plan_activity(engine, bad, actor=STAFF)
    assert len(refused.value.problems) == 4
    with pytest.raises(act.InvalidPlan, match="outside your scope"):
        act.plan_activity(engine, a_plan(district_code=UPTOWN), actor=STAFF, scope=Scope(districts=(WEST,)))
    street_staff = Scope(streets=((WEST, "北山街道"),))
    with pytest.raises(act.InvalidPlan, match="outside your scope"):
        act.plan_activity(engine, a_plan(), actor=STAFF, scope=street_staff)
    aid = act.plan_activity(engine, a_plan(street="北山街道"), actor=STAFF, scope=street_staff)
    with pytest.raises(act.ActivityRefused, match="outside your scope"):
        act.publish_activity(engine, aid, actor=STAFF, scope=Scope(districts=(UPTOWN,)))


def test_sign_up_refusals(engine, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: day(7))
    ids = people(engine, 3)
    draft = act.plan_activity(engine, a_plan(), actor=STAFF)
    with pytest.raises(act.ActivityRefused, match="does not take sign-ups"):
        act.sign_up(engine, draft, ids[0], {"meal": "否"})
    aid = published(engine, signup_deadline=day(8))
    with pytest.raises(act.ActivityRefused, match="invitation only"):
        act.sign_up(engine, aid, ids[0], {"meal": "否"})
    act.invite(engine, aid, PersonFilter(districts=(WEST,)), actor=STAFF)
    act.sign_up(engine, aid, ids[0], {"meal": "否"})
    with pytest.raises(act.ActivityRefused, match="already signed up"):
        act.sign_up(engine, aid, ids[0], {"meal": "否"})
    with pytest.raises(act.ActivityRefused, match="withdraw instead"):
        act.decline(engine, aid, ids[0])
    act.decline(engine, aid, ids[1], "外地")
    assert act.sign_up(engine, aid, ids[1], {"meal": "否"}).status == "registered"  # changed their mind
    monkeypatch.setattr(clock, "now", lambda: day(10))
    with pytest.raises(act.ActivityRefused, match="closed"):
        act.sign_up(engine, aid, ids[2], {"meal": "否"})


def test_without_review_sign_ups_take_places_then_wait_in_order(engine):
    ids = people(engine, 5)
    aid = published(engine, audience="open", needs_review=False, capacity=2)
    got = [act.sign_up(engine, aid, pid, {"meal": "否"}).status for pid in ids]
    assert got == ["approved", "approved", "waitlisted", "waitlisted", "waitlisted"]
    act.review(engine, aid, [ids[0]], approve=False, reason="名额调整", actor=STAFF)
    assert statuses(engine, aid)[ids[2]] == "approved"
    plan = a_plan(audience="open", needs_review=False, capacity=4)
    act.edit_activity(engine, aid, plan, actor=STAFF)  # two more places: the wait list moves up
    assert sorted(s for s in statuses(engine, aid).values()) == ["approved"] * 4 + ["rejected"]


def test_rejecting_needs_a_reason_and_scope_skips_persons_outside(engine):
    west = people(engine, 2)
    uptown = people(engine, 1, district=UPTOWN)
    aid = published(engine, audience="open")
    for pid in west + uptown:
        act.sign_up(engine, aid, pid, {"meal": "否"})
    with pytest.raises(act.ActivityRefused, match="say why"):
        act.review(engine, aid, west, approve=False, actor=STAFF)
    outcome = act.review(engine, aid, west + uptown, approve=True, actor="li", scope=Scope(districts=(WEST,)))
    assert outcome.approved == west and outcome.skipped == uptown


def test_finish_and_cancel_follow_the_states(engine):
    aid = act.plan_activity(engine, a_plan(), actor=STAFF)
    with pytest.raises(act.ActivityRefused):
        act.finish_activity(engine, aid, actor=STAFF)
    with pytest.raises(act.ActivityRefused, match="say why"):
        act.cancel_activity(engine, aid, " ", actor=STAFF)
    act.cancel_activity(engine, aid, "天气原因", actor=STAFF)
    plan = act.activity_plan(engine, aid)
    assert (plan["state"], plan["cancel_reason"]) == ("cancelled", "天气原因")
    with pytest.raises(act.ActivityRefused):
        act.publish_activity(engine, aid, actor=STAFF)


def test_invitations_follow_the_filter_and_the_scope_and_are_recorded(engine):
    people(engine, 3)
    people(engine, 2, district=UPTOWN)
    aid = act.plan_activity(engine, a_plan(), actor=STAFF)
    assert act.invite(engine, aid, PersonFilter(), actor="li", scope=Scope(districts=(WEST,))) == 3
    assert act.invite(engine, aid, PersonFilter(), actor=STAFF) == 2  # only the new ones
    with engine.connect() as conn:
        assert len(conn.execute(select(invitation)).all()) == 5
        assert len(conn.execute(select(change).where(change.c.entity == "invitation")).all()) == 5
    assert act.status_counts(engine, aid)["invited"] == 5


def test_staff_pages_read_online_participations(engine):
    """The activities page's funnel reads the participation table: online sign-ups count there."""
    from store.queries.activities import activity_funnel

    ids = people(engine, 3)
    aid = published(engine, audience="open", needs_review=False, capacity=2)
    for pid in ids:
        act.sign_up(engine, aid, pid, {"meal": "否"})
    act.check_in(engine, aid, ids[0], door=act.Door("s", "admin", Scope()), nonce="n")
    funnel = activity_funnel(engine, Scope(), clock.today(), clock.today(), aid).iloc[0]
    assert (funnel["registrations"], funnel["approved"], funnel["checked_in"]) == (3, 2, 1)


def test_hall_counts_by_category_and_district_and_arrivals(engine):
    ids = people(engine, 3)
    aid = published(engine, audience="open", needs_review=False, capacity=None)
    for pid in ids:
        act.sign_up(engine, aid, pid, {"meal": "否"})
    act.check_in(engine, aid, ids[0], door=act.Door("s", "admin", Scope()), nonce="n")
    by_district = act.hall_by(engine, aid, "district")
    assert by_district.to_dict("records") == [{"code": WEST, "name": "西湖区", "approved": 3, "checked_in": 1}]
    assert act.arrivals_by_minute(engine, aid)["arrivals"].sum() == 1


def test_drafts_and_cancelled_activities_are_not_held_and_a_decline_is_no_registration(engine):
    from store.queries.activities import activity_summary
    from store.queries.cockpit import activity_feed, headline

    ids = people(engine, 2)
    act.plan_activity(engine, a_plan(title="草稿"), actor=STAFF)
    gone = published(engine, title="取消的")
    act.cancel_activity(engine, gone, "场地", actor=STAFF)
    aid = published(engine, audience="open", needs_review=False)
    act.sign_up(engine, aid, ids[0], {"meal": "否"})
    act.decline(engine, aid, ids[1])
    summary = activity_summary(engine, Scope(), clock.today(), clock.today())
    assert (summary.activities, summary.registrations, summary.approved) == (1, 1, 1)
    assert headline(engine, Scope(), clock.today()).activities_this_year == 1
    assert activity_feed(engine, Scope(), clock.today())["title"].tolist() == ["新春座谈会"]


def test_what_a_representative_sees(engine):
    me, other = people(engine, 2)
    open_one = published(engine, title="公开讲座", audience="open", needs_review=False)
    invited = published(engine, title="邀请座谈")
    act.invite(engine, invited, PersonFilter(keyword="代表0"), actor=STAFF)
    not_mine = published(engine, title="别人的座谈")
    act.invite(engine, not_mine, PersonFilter(keyword="代表1"), actor=STAFF)
    gone = published(engine, title="取消的座谈")
    act.invite(engine, gone, PersonFilter(keyword="代表0"), actor=STAFF)
    act.cancel_activity(engine, gone, "天气原因", actor=STAFF)
    act.sign_up(engine, open_one, me, {"meal": "否"})
    seen = act.activities_for(engine, me).set_index("title")
    assert set(seen.index) == {"公开讲座", "邀请座谈", "取消的座谈"}
    assert seen.loc["公开讲座", "status"] == "approved" and not seen.loc["公开讲座", "invited"]
    assert seen.loc["邀请座谈", "invited"] and pd.isna(seen.loc["邀请座谈", "status"])
    assert seen.loc["取消的座谈", "cancel_reason"] == "天气原因"
    assert [q.id for q in act.questions_of(engine, invited)] == ["meal", "diet", "guests"]
    assert "别人的座谈" in set(act.activities_for(engine, other)["title"])


@pytest.mark.parametrize("stored, sheet, after", [
    ("withdrawn", "checked_in", "checked_in"),   # signed in at the door on paper after all
    ("waitlisted", "registered", "waitlisted"),  # a sheet's sign-up does not undo the wait list
    ("declined", "approved", "approved"),
    ("checked_in", "absent", "checked_in"),      # a check-in online is evidence, as on paper
])
def test_an_attendance_sheet_meets_statuses_recorded_online(stored, sheet, after):
    from loaders.attendance import next_status

    assert next_status(stored, sheet) == after


def test_one_activity_as_a_person_sees_it_and_the_order_of_their_list(engine):
    me, other = people(engine, 2)
    later = published(engine, title="下周座谈", audience="open", starts_at=day(9, 7), ends_at=day(12, 7))
    sooner = published(engine, title="明天座谈", audience="open", needs_review=False, capacity=1,
                       starts_at=day(9, 1), ends_at=day(12, 1))
    act.sign_up(engine, sooner, other, {"meal": "否"})
    act.sign_up(engine, sooner, me, {"meal": "否"})
    gone = published(engine, title="取消的座谈", starts_at=day(9, 3), ends_at=day(12, 3))
    act.invite(engine, gone, PersonFilter(keyword="代表0"), actor=STAFF)
    act.cancel_activity(engine, gone, "场地", actor=STAFF)
    theirs = published(engine, title="别人的座谈")
    act.invite(engine, theirs, PersonFilter(keyword="代表1"), actor=STAFF)
    draft = act.plan_activity(engine, a_plan(audience="open"), actor=STAFF)
    mine = act.activities_for(engine, me)
    assert mine["title"].tolist() == ["明天座谈", "下周座谈", "取消的座谈"]  # published soonest first, then the rest
    assert mine.set_index("title").loc["明天座谈", "waitlist_position"] == 1
    one = act.activity_for(engine, sooner, me)
    assert (one["status"], one["capacity"], one["places_taken"], one["waitlist_position"]) == ("waitlisted", 1, 1, 1)
    assert [q.id for q in one["questions"]] == ["meal", "diet", "guests"] and one["answers"] == {"meal": "否"}
    assert act.activity_for(engine, later, me)["status"] is None
    assert act.activity_for(engine, theirs, me) is None and act.activity_for(engine, draft, me) is None
    assert act.activity_for(engine, theirs, other)["invited"]
    # A sign-up that stands keeps its activity in sight even after the invitation is withdrawn (to withdraw it).
    act.sign_up(engine, theirs, other, {"meal": "否"})
    act.uninvite(engine, theirs, [other], actor=STAFF)
    assert act.activity_for(engine, theirs, other)["status"] == "registered"


def test_only_an_invitee_declines_and_a_notice_is_told_once(engine):
    me, other = people(engine, 2)
    aid = published(engine)
    act.invite(engine, aid, PersonFilter(keyword="代表0"), actor=STAFF)
    with pytest.raises(act.ActivityRefused, match="invitation only"):
        act.decline(engine, aid, other)
    act.decline(engine, aid, me, "外地")
    assert statuses(engine, aid) == {me: "declined"}
    with engine.connect() as conn:
        before = conn.execute(select(change_set.c.id)).all()
    act.mark_told(engine, aid, me)  # nothing to tell: no change set
    with engine.connect() as conn:
        assert conn.execute(select(change_set.c.id)).all() == before


def test_questions_and_texts_are_bounded_when_saved(engine):
    many = [{"id": f"q{n}", "kind": "text", "label": f"问题{n}"} for n in range(act.MAX_QUESTIONS + 1)]
    with pytest.raises(act.InvalidPlan, match=f"at most {act.MAX_QUESTIONS} questions"):
        act.plan_activity(engine, a_plan(questions=act.parse_questions(many)), actor=STAFF)
    wide = [{"id": "q1", "kind": "choice", "label": "选", "options": [f"{k}" + "项" * 70 for k in range(3)]}]
    aid = act.plan_activity(engine, a_plan(), actor=STAFF)
    with pytest.raises(act.InvalidPlan, match="options of"):
        act.set_questions(engine, aid, act.parse_questions(wide), actor=STAFF)
    with pytest.raises(act.InvalidPlan, match="title is at most 200"):
        act.plan_activity(engine, a_plan(title="长" * 201), actor=STAFF)
    # Stored questions beyond the bounds are still read (another system may have written them).
    assert len(act.load_questions(act.questions_json(act.parse_questions(many)))) == act.MAX_QUESTIONS + 1


def test_a_feedback_survey_goes_to_those_checked_in(engine):
    from store import surveys as sv

    ids = people(engine, 4)
    aid = published(engine, audience="open", needs_review=False, capacity=None)
    for pid in ids:
        act.sign_up(engine, aid, pid, {"meal": "否"})
    door = act.Door("s", "admin", Scope())
    for pid in ids[:2]:
        act.check_in(engine, aid, pid, door=door, nonce=f"n{pid}")
    with pytest.raises(act.ActivityRefused, match="once the activity has finished"):
        act.send_feedback(engine, aid, actor=STAFF)
    act.finish_activity(engine, aid, actor=STAFF)
    with pytest.raises(act.ActivityRefused, match="outside your scope"):
        act.send_feedback(engine, aid, actor="li", scope=Scope(districts=(UPTOWN,)))
    sid, sent = act.send_feedback(engine, aid, actor=STAFF)
    assert sent == 2 and sv.response_rate(engine, sid, Scope()) == (2, 0)
    assert [s["id"] for s in sv.open_for(engine, ids[0])] == [sid] and sv.open_for(engine, ids[2]) == []
    assert sv.surveys(engine).set_index("id").loc[sid, "title"] == "活动反馈：新春座谈会"
    assert [q.kind for q in sv.questions_of(engine, sid)] == ["rating", "single", "text"]
    assert act.send_feedback(engine, aid, actor=STAFF, survey_id=sid) == (sid, 0)  # sent once per person
    other = sv.create_survey(engine, "自选问卷", [sv.Question("text", "意见")], actor=STAFF)
    assert act.send_feedback(engine, aid, actor=STAFF, survey_id=other) == (other, 2)
    nobody = published(engine, audience="open", needs_review=False)
    act.finish_activity(engine, nobody, actor=STAFF)
    with pytest.raises(act.ActivityRefused, match="nobody checked in"):
        act.send_feedback(engine, nobody, actor=STAFF)
