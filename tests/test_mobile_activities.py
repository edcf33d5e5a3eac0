"""The online activities on the representatives' phone pages (ui/mobile_activities.py) over HTTP: the home
section and where the person stands, signing up with a conditional question validated on the server, decline,
withdraw (asked first), the wait list's notice shown once, the pass's QR code, refusals of what is not the
person's, CSRF, page weight; on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import activities as act
from store import clock, reps, tokens
from store.filters import PersonFilter
from store.schema import change_set, participation
from store.scope import EVERYTHING, Scope
from tests.test_mobile import csrf, fresh_limits, weigh  # noqa: F401 (fresh_limits: an autouse fixture)
from tests.test_online_activities import STAFF, WEST, a_plan, people, published, statuses
from ui import mobile
from ui.checkin_web import qr_svg

# The conditional question is required when asked: the server asks for it only after 是.
QUESTIONS = [
    {"id": "meal", "kind": "choice", "label": "是否用餐", "options": ["是", "否"], "required": True},
    {"id": "diet", "kind": "text", "label": "饮食禁忌", "when": ["meal", "是"], "required": True},
    {"id": "guests", "kind": "number", "label": "随行人数", "minimum": 0, "maximum": 2},
]


@pytest.fixture
def client(engine):
    app = Starlette(routes=mobile.routes("", lambda: engine))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


def enter(client, engine, pid: int) -> None:
    """Open the person's link and confirm the last four (a fresh session: other cookies are dropped)."""
    client.cookies.clear()
    token = reps.issue_links(engine, [pid], actor="s")[0].token
    page = client.get(f"/m/{token}")
    digits = reps.profile(engine, pid)["phone"][-4:]
    answer = client.post(f"/m/{token}", data={"csrf": csrf(page.text), "digits": digits})
    assert answer.status_code == 303 and answer.headers["location"] == "/m/home", answer.text


def invited_activity(engine, ids, **changes) -> int:
    aid = published(engine, questions=act.parse_questions(QUESTIONS), **changes)
    act.invite(engine, aid, PersonFilter(keyword="代表"), actor=STAFF)
    return aid


def form_of(client, aid: int) -> str:
    page = client.get(f"/m/activity/{aid}")
    assert page.status_code == 200, page.text
    return csrf(page.text)


def test_the_home_page_lists_my_activities_and_where_i_stand(client, engine):
    me, other, third, fourth = people(engine, 4)
    open_one = published(engine, title="公开讲座", audience="open", needs_review=False)
    waiting = published(engine, title="满员座谈", audience="open", needs_review=False, capacity=1)
    for pid in (other, third, me):
        act.sign_up(engine, waiting, pid, {"meal": "否"})  # me: second on the wait list
    invited = published(engine, title="邀请座谈")
    act.invite(engine, invited, PersonFilter(keyword="代表0"), actor=STAFF)
    act.sign_up(engine, invited, me, {"meal": "否"})
    declined = published(engine, title="婉拒的座谈")
    act.invite(engine, declined, PersonFilter(keyword="代表0"), actor=STAFF)
    act.decline(engine, declined, me, "外地")
    not_mine = published(engine, title="别人的座谈")
    act.invite(engine, not_mine, PersonFilter(keyword="代表1"), actor=STAFF)
    act.plan_activity(engine, a_plan(title="草稿座谈", audience="open"), actor=STAFF)
    gone = published(engine, title="取消的座谈")
    act.invite(engine, gone, PersonFilter(keyword="代表0"), actor=STAFF)
    act.cancel_activity(engine, gone, "场地维修", actor=STAFF)
    past = published(engine, title="已办培训", audience="open", needs_review=False)
    act.sign_up(engine, past, me, {"meal": "否"})
    act.check_in(engine, past, me, door=act.Door("s", "admin", EVERYTHING), nonce="n")
    act.finish_activity(engine, past, actor=STAFF)
    enter(client, engine, me)
    home = client.get("/m/home").text
    shown = dict(re.findall(r'<a href="activity/\d+">([^<]+)</a>.*?<span class="st st-\w+">([^<]+)</span>', home,
                            re.S))
    assert shown == {"公开讲座": "可报名", "满员座谈": "候补第 2 位", "邀请座谈": "已报名，待审核",
                     "婉拒的座谈": "已婉拒", "取消的座谈": "活动已取消", "已办培训": "已结束（已参加）"}
    assert "场地维修" in home and "别人的座谈" not in home and "草稿座谈" not in home
    assert f'href="activity/{open_one}"' in home
    english = client.get("/m/home?lang=en").text
    assert "wait-listed, number 2" in english and "My activities" in english


def test_signing_up_on_the_phone_with_a_conditional_question(client, engine):
    ids = people(engine, 2)
    aid = invited_activity(engine, ids)
    enter(client, engine, ids[0])
    page = client.get(f"/m/activity/{aid}").text
    assert "仅当「是否用餐」选「是」时填写" in page and 'name="a_diet"' in page and "<script" not in page
    form = csrf(page)
    # 是 makes the conditional question asked, and it is required: told beside it, both languages, nothing saved.
    missing = client.post(f"/m/activity/{aid}", data={"csrf": form, "a_meal": "0", "a_guests": "5"})
    assert missing.status_code == 400
    assert "请回答「饮食禁忌」 · please answer &#39;饮食禁忌&#39;" in missing.text
    assert "「随行人数」应在 0–2 之间" in missing.text and 'value="5"' in missing.text
    assert 'value="0" checked' in missing.text  # the choice made is kept
    assert statuses(engine, aid) == {}
    # 否: the conditional question is not asked; what was typed there is dropped.
    sent = client.post(f"/m/activity/{aid}", data={"csrf": form, "a_meal": "1", "a_diet": "素食", "a_guests": "1"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/m/activity/{aid}?done=act_registered"
    row = act.sign_ups(engine, aid).iloc[0]
    assert (row["person_id"], row["status"], row["answers"]) == (ids[0], "registered", '{"meal": "否", "guests": 1}')
    with engine.connect() as conn:
        source, actor = conn.execute(select(change_set.c.source, change_set.c.actor)
                                     .order_by(change_set.c.id.desc())).first()
    assert (source, actor) == ("self", f"person:{ids[0]}")
    after = client.get(sent.headers["location"]).text
    assert "已报名，请等待工作人员审核" in after and "已报名，待审核" in after and 'id="sign-up"' not in after
    # Once more is refused in words, not a second sign-up.
    again = client.post(f"/m/activity/{aid}", data={"csrf": form, "a_meal": "1"})
    assert again.status_code == 409 and "already signed up" in again.text
    # The second invitee: 是 with the diet.
    enter(client, engine, ids[1])
    sent = client.post(f"/m/activity/{aid}", data={"csrf": form_of(client, aid), "a_meal": "0", "a_diet": "清真"})
    assert sent.status_code == 303
    assert act.sign_ups(engine, aid, person_ids=[ids[1]])["answers"].iloc[0] == '{"meal": "是", "diet": "清真"}'


def test_decline_withdraw_and_the_wait_lists_notice(client, engine):
    ids = people(engine, 4)
    aid = invited_activity(engine, ids, capacity=2)
    enter(client, engine, ids[3])
    declined = client.post(f"/m/activity/{aid}/decline", data={"csrf": form_of(client, aid), "reason": "在外地出差"})
    assert declined.status_code == 303 and declined.headers["location"].endswith("done=act_declined")
    row = act.sign_ups(engine, aid, person_ids=[ids[3]]).iloc[0]
    assert (row["status"], row["reason"]) == ("declined", "在外地出差")
    for pid in ids[:3]:
        act.sign_up(engine, aid, pid, {"meal": "否"})
    act.review(engine, aid, ids[:3], approve=True, actor=STAFF)  # two places: the third waits
    enter(client, engine, ids[2])
    assert "候补第 1 位" in client.get(f"/m/activity/{aid}").text
    enter(client, engine, ids[0])
    ask = client.get(f"/m/activity/{aid}/withdraw")
    assert ask.status_code == 200 and "确认退出" in ask.text and statuses(engine, aid)[ids[0]] == "approved"
    gone = client.post(f"/m/activity/{aid}/withdraw", data={"csrf": csrf(ask.text), "reason": "临时有会"})
    assert gone.status_code == 303 and gone.headers["location"].endswith("done=act_withdrawn")
    assert statuses(engine, aid)[ids[0]] == "withdrawn" and statuses(engine, aid)[ids[2]] == "approved"
    assert "已退出" in client.get(f"/m/activity/{aid}").text
    # The promoted person: a mark on the home page, the notice on the activity's page once, then told.
    enter(client, engine, ids[2])
    home = client.get("/m/home").text
    assert "新消息" in home and "已通过" in home
    page = client.get(f"/m/activity/{aid}").text
    assert 'id="notice"' in page and "您已由候补转为正式参加" in page and 'id="show-pass"' in page
    with engine.connect() as conn:
        assert conn.execute(select(participation.c.notice).where(
            participation.c.activity_id == aid, participation.c.person_id == ids[2])).scalar_one() is None
    assert 'id="notice"' not in client.get(f"/m/activity/{aid}").text
    assert "新消息" not in client.get("/m/home").text


def test_the_pass_page_shows_the_pass_urls_qr_code(client, engine, monkeypatch):
    ids = people(engine, 2)
    aid = published(engine, audience="open", needs_review=False)
    act.sign_up(engine, aid, ids[0], {"meal": "否"})
    enter(client, engine, ids[0])
    page = client.get(f"/m/activity/{aid}/pass")
    assert page.status_code == 200 and "代表0" in page.text
    token = act.pass_token(engine, aid, ids[0])
    url = f"http://testserver/_brain/pass/{token}"
    assert qr_svg(url, fluid=True) in page.text  # the QR code is of the door's pass URL, drawn inline
    assert f'href="/_brain/pass/{token}"' in page.text
    assert "<img" not in page.text and not re.search(r'src="', page.text)
    claim = tokens.verify(engine, token, act.PASS, today=clock.today())
    assert act.subject_parts(claim.subject) == (aid, ids[0])
    # The address representatives reach, when configured, is the one in the code; the pass shows again later.
    monkeypatch.setenv("BRAIN_PUBLIC_URL", "https://brain.example.gov.cn/brain")
    again = client.get(f"/m/activity/{aid}/pass").text
    assert qr_svg(f"https://brain.example.gov.cn/brain/_brain/pass/{token}", fluid=True) in again
    # Withdrawn: no pass, and the old one stops working at the door.
    act.withdraw(engine, aid, ids[0])
    refused = client.get(f"/m/activity/{aid}/pass")
    assert refused.status_code == 409 and "只有已通过的报名才有入场凭证" in refused.text and "<svg" not in refused.text
    door = act.Door("s", "admin", EVERYTHING)
    assert act.check_in_pass(engine, aid, token, door=door, nonce="x").outcome == "refused"


def test_nobody_acts_on_what_is_not_theirs(client, engine):
    me, other = people(engine, 2)
    theirs = published(engine, title="别人的座谈")
    act.invite(engine, theirs, PersonFilter(keyword="代表1"), actor=STAFF)
    act.sign_up(engine, theirs, other, {"meal": "否"})
    act.review(engine, theirs, [other], approve=True, actor=STAFF)
    draft = act.plan_activity(engine, a_plan(title="草稿", audience="open"), actor=STAFF)
    shared = published(engine, title="共同的座谈", audience="open", needs_review=False)
    act.sign_up(engine, shared, other, {"meal": "否"})
    # No session: nothing at all.
    for path in (f"/m/activity/{shared}", f"/m/activity/{shared}/pass", f"/m/activity/{shared}/withdraw"):
        assert client.get(path).status_code == 401
    enter(client, engine, me)
    form = form_of(client, shared)
    # Another's invited activity, a draft, an activity that does not exist: as if there were none.
    for aid in (theirs, draft, 999):
        assert client.get(f"/m/activity/{aid}").status_code == 404
        assert client.get(f"/m/activity/{aid}/pass").status_code == 404
        assert client.get(f"/m/activity/{aid}/withdraw").status_code == 404
        for action in ("", "/decline", "/withdraw"):
            refused = client.post(f"/m/activity/{aid}{action}", data={"csrf": form, "a_meal": "1"})
            assert refused.status_code == 404 and "别人的座谈" not in refused.text
    assert statuses(engine, theirs) == {other: "approved"} and statuses(engine, draft) == {}
    # The activity both see: the URL names no person; the session's person acts, never the other one.
    assert client.get(f"/m/activity/{shared}/pass").status_code == 409
    assert client.post(f"/m/activity/{shared}/withdraw", data={"csrf": form}).status_code == 409
    assert statuses(engine, shared) == {other: "approved"}
    # Forms need the session's CSRF value (another session's does not do).
    assert client.post(f"/m/activity/{shared}", data={"csrf": "x", "a_meal": "1"}).status_code == 403
    assert client.post(f"/m/activity/{shared}", data={"csrf": form, "a_meal": "1"},
                       headers={"origin": "https://evil.example"}).status_code == 403
    enter(client, engine, other)
    assert client.post(f"/m/activity/{shared}/withdraw", data={"csrf": form}).status_code == 403
    assert statuses(engine, shared) == {other: "approved"}


def test_a_cancelled_activity_says_why_and_takes_nothing(client, engine):
    ids = people(engine, 1)
    aid = invited_activity(engine, ids)
    act.sign_up(engine, aid, ids[0], {"meal": "否"})
    act.cancel_activity(engine, aid, "暴雨预警", actor=STAFF)
    enter(client, engine, ids[0])
    page = client.get(f"/m/activity/{aid}").text
    assert "活动已取消" in page and "暴雨预警" in page and 'id="withdraw"' not in page and 'id="sign-up"' not in page
    form = csrf(client.get("/m/home").text)  # the session's CSRF value: the page itself has no form left
    assert client.post(f"/m/activity/{aid}", data={"csrf": form, "a_meal": "1"}).status_code == 409


def test_activity_pages_are_light(client, engine):
    """At the longest texts the store takes: the largest question set, long titles and places, a full home list."""
    (me,) = people(engine, 1)
    per = act.QUESTION_TEXT_BUDGET // act.MAX_QUESTIONS
    option = (per - 20) // act.MAX_OPTIONS
    big = [{"id": f"q{n}", "kind": "choice", "label": f"{n:02d}" + "问" * 18,
            "options": [f"{k}" + "选" * (option - 1) for k in range(act.MAX_OPTIONS)]} for n in range(act.MAX_QUESTIONS)]
    questions = act.parse_questions(big)
    assert act.question_problems(questions) == []
    aid = published(engine, title="题" * 200, place="地" * 200, audience="open", needs_review=False,
                    questions=questions)
    for n in range(mobile.LIST_ITEMS + 5):
        other = published(engine, title=f"{n:02d}" + "长" * 198, audience="invited")
        act.invite(engine, other, PersonFilter(keyword="代表0"), actor=STAFF)
        if n % 2:
            act.cancel_activity(engine, other, "因" * 200, actor=STAFF)
    enter(client, engine, me)
    sizes = {"activity": len(client.get(f"/m/activity/{aid}").content)}
    answers = {"csrf": form_of(client, aid), **{f"a_q{n}": "0" for n in range(act.MAX_QUESTIONS)}}
    assert client.post(f"/m/activity/{aid}", data=answers).status_code == 303
    weigh(client, sizes, {"signed up": f"/m/activity/{aid}", "pass": f"/m/activity/{aid}/pass",
                          "withdraw": f"/m/activity/{aid}/withdraw", "home": "/m/home"})


def test_the_feedback_survey_is_answered_on_the_phone(client, engine):
    from store import surveys as sv

    ids = people(engine, 2)
    aid = published(engine, audience="open", needs_review=False)
    for pid in ids:
        act.sign_up(engine, aid, pid, {"meal": "否"})
    act.check_in(engine, aid, ids[0], door=act.Door("s", "admin", EVERYTHING), nonce="n")
    act.finish_activity(engine, aid, actor=STAFF)
    sid, sent = act.send_feedback(engine, aid, actor=STAFF)
    assert sent == 1
    enter(client, engine, ids[1])  # absent: not asked
    assert f"/m/survey/{sid}" not in client.get("/m/home").text
    enter(client, engine, ids[0])
    home = client.get("/m/home").text
    assert f"/m/survey/{sid}" in home and "活动反馈：新春座谈会" in home and "已结束（已参加）" in home
    page = client.get(f"/m/survey/{sid}")
    rating, useful, comment = sv.questions_of(engine, sid)
    sent = client.post(f"/m/survey/{sid}", data={"csrf": csrf(page.text), f"q{rating.id}": "5",
                                                 f"q{useful.id}": "0", f"q{comment.id}": "希望多办"})
    assert sent.status_code == 303 and sv.response_rate(engine, sid, Scope()) == (1, 1)
    counts = sv.choice_counts(engine, sid, Scope()).set_index(["question_id", "value"])["n"]
    assert counts[(rating.id, "5")] == 1 and counts[(useful.id, "很有帮助")] == 1
