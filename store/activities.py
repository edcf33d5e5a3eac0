"""Activities run online: plan, invite, sign up, review, wait list, pass, check-in, finish.

The domain of issue 16, without Streamlit: the staff pages, the representatives'
phone pages and the steward's check-in routes all call these functions. Every
write is a change set (store/changes.py): `staff` for the office, `self` for a
representative acting through a personal link, `checkin` for a steward.

States: draft -> published -> finished, or cancelled (with a reason invitees see).
Participation statuses (the contract's, plus three):
    registered  signed up, waiting for review (activities that need review)
    approved    has a place (capacity counts these and checked_in)
    waitlisted  signed up or approved while the activity was full; promoted in
                sign-up order when a place frees (`notice` = promoted until told)
    rejected    refused by staff, with a reason
    declined    an invitee said no
    withdrawn   the person gave up their sign-up or place
    checked_in  arrived (once per day for a multi-day activity)
    absent      approved but never checked in, set when the activity finishes

A pass is a token of store/tokens.py (purpose `pass`) whose subject is the
participation (activity id and person id packed in one number) and whose version
is participation.pass_version: re-issuing, withdrawing or rejecting bumps it, so
every older pass stops working.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import pandas as pd
from sqlalchemy import Engine, Integer, and_, bindparam, case, delete, func, insert, or_, select

from store import clock, surveys, tokens
from store.changes import ChangeSet, WriteRefused, encode_row, open_change_set
from store.engine import writing
from store.filters import PersonFilter
from store.schema import (
    ACTIVITY_AUDIENCES,
    ACTIVITY_KINDS,
    account,
    activity,
    category,
    invitation,
    participation,
    person,
    region,
    steward_activity,
)
from store.scope import EVERYTHING, Scope

PASS = "pass"
PLACED = ("approved", "checked_in")  # the statuses that hold a place
LIVE = ("registered", "approved", "waitlisted", "checked_in")  # a sign-up still standing
QUESTION_KINDS = ("choice", "text", "number")
MAX_TEXT_ANSWER = 500
# A sign-up form stays under 60 KB on a phone: so many questions and choices, and characters in all.
MAX_QUESTIONS = 20
MAX_OPTIONS = 10
LABEL_LENGTH = 200
OPTION_LENGTH = 60
QUESTION_TEXT_BUDGET = 6000
SUBJECT_SHIFT = 32


class ActivityRefused(WriteRefused):
    """An activity action that does not apply now (state, deadline, capacity …); bilingual message."""


class InvalidPlan(WriteRefused):
    """A plan that cannot be saved; `problems` lists every reason, bilingual."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems))


class InvalidAnswers(WriteRefused):
    """Answers to the custom questions that do not hold; `problems` maps question id -> message."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("；".join(problems.values()))


# ---------------------------------------------------------------- custom questions

@dataclass(frozen=True)
class Question:
    """One custom question. `when` = (earlier question id, answer): asked only when that was the answer."""

    id: str
    kind: str
    label: str
    options: tuple[str, ...] = ()
    required: bool = False
    when: tuple[str, str] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def asked(self, answers: Mapping[str, object]) -> bool:
        return self.when is None or str(answers.get(self.when[0], "")) == self.when[1]


def parse_questions(raw: Sequence[Mapping] | None) -> tuple[Question, ...]:
    """Questions from their JSON form; raises InvalidPlan naming every problem."""
    problems: list[str] = []
    out: list[Question] = []
    for i, q in enumerate(raw or [], start=1):
        qid = str(q.get("id") or f"q{i}")
        kind = q.get("kind")
        label = str(q.get("label") or "").strip()
        options = tuple(str(o).strip() for o in q.get("options") or () if str(o).strip())
        when = q.get("when")
        if kind not in QUESTION_KINDS:
            problems.append(f"第 {i} 题类型应为选择、文字或数字 · question {i}: kind must be choice, text or number")
        if not label:
            problems.append(f"第 {i} 题缺少题目 · question {i} has no wording")
        if kind == "choice" and len(options) < 2:
            problems.append(f"第 {i} 题（选择）至少需要两个选项 · question {i} (choice) needs two options or more")
        if any(o.id == qid for o in out):
            problems.append(f"第 {i} 题编号 {qid} 重复 · question {i}: id {qid} used twice")
        if when is not None:
            earlier = next((o for o in out if o.id == str(when[0])), None)
            if earlier is None:
                problems.append(f"第 {i} 题的显示条件须引用前面的题目 · question {i}: its condition must name an "
                                f"earlier question")
            elif earlier.kind == "choice" and str(when[1]) not in earlier.options:
                problems.append(f"第 {i} 题的显示条件「{when[1]}」不是第 {earlier.id} 题的选项 · question {i}: "
                                f"condition {when[1]!r} is not an option of {earlier.id}")
            when = (str(when[0]), str(when[1]))
        out.append(Question(qid, kind, label, options, bool(q.get("required")), when,
                            q.get("minimum"), q.get("maximum")))
    if problems:
        raise InvalidPlan(problems)
    return tuple(out)


def question_problems(questions: Sequence[Question]) -> list[str]:
    """What makes a set of questions too large for a phone's sign-up form (checked when saved, not when read)."""
    out = []
    if len(questions) > MAX_QUESTIONS:
        out.append(f"报名问题最多 {MAX_QUESTIONS} 道 · at most {MAX_QUESTIONS} questions")
    for i, q in enumerate(questions, start=1):
        if len(q.label) > LABEL_LENGTH:
            out.append(f"第 {i} 题题目最多 {LABEL_LENGTH} 字 · question {i}: at most {LABEL_LENGTH} characters")
        if len(q.options) > MAX_OPTIONS or any(len(o) > OPTION_LENGTH for o in q.options):
            out.append(f"第 {i} 题最多 {MAX_OPTIONS} 个选项、每个最多 {OPTION_LENGTH} 字 · question {i}: at most "
                       f"{MAX_OPTIONS} options of {OPTION_LENGTH} characters")
    if sum(len(q.label) + sum(map(len, q.options)) for q in questions) > QUESTION_TEXT_BUDGET:
        out.append(f"题目和选项合计最多 {QUESTION_TEXT_BUDGET} 字 · questions and options hold at most "
                   f"{QUESTION_TEXT_BUDGET} characters")
    return out


def questions_json(questions: Sequence[Question]) -> str | None:
    return json.dumps([asdict(q) for q in questions], ensure_ascii=False) if questions else None


def load_questions(text: str | None) -> tuple[Question, ...]:
    return parse_questions(json.loads(text)) if text else ()


def validate_answers(questions: Sequence[Question], answers: Mapping[str, object]) -> dict[str, object]:
    """The answers to keep (hidden questions' answers dropped, numbers as numbers); else InvalidAnswers."""
    problems: dict[str, str] = {}
    kept: dict[str, object] = {}
    known = {q.id for q in questions}
    for key in answers:
        if key not in known:
            problems[key] = f"没有这道题：{key} · there is no question {key}"
    for q in questions:
        if not q.asked(kept):
            continue
        value = answers.get(q.id)
        text = "" if value is None else str(value).strip()
        if not text:
            if q.required:
                problems[q.id] = f"请回答「{q.label}」 · please answer {q.label!r}"
            continue
        if q.kind == "choice":
            if text not in q.options:
                problems[q.id] = f"「{q.label}」请从选项中选择 · {q.label!r}: choose one of the options"
                continue
            kept[q.id] = text
        elif q.kind == "number":
            try:
                number = float(text)
            except ValueError:
                problems[q.id] = f"「{q.label}」请填写数字 · {q.label!r}: enter a number"
                continue
            if (q.minimum is not None and number < q.minimum) or (q.maximum is not None and number > q.maximum):
                problems[q.id] = (f"「{q.label}」应在 {q.minimum}–{q.maximum} 之间 · {q.label!r}: between "
                                  f"{q.minimum} and {q.maximum}")
                continue
            kept[q.id] = int(number) if number.is_integer() else number
        else:
            if len(text) > MAX_TEXT_ANSWER:
                problems[q.id] = f"「{q.label}」最多 {MAX_TEXT_ANSWER} 字 · {q.label!r}: at most {MAX_TEXT_ANSWER} characters"
                continue
            kept[q.id] = text
    if problems:
        raise InvalidAnswers(problems)
    return kept


# ---------------------------------------------------------------- planning

@dataclass(frozen=True)
class Plan:
    """What staff fill in for an activity. district_code alone: a district's activity; with street: a street's."""

    title: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    district_code: str | None = None
    street: str | None = None
    place: str | None = None
    online_link: str | None = None
    capacity: int | None = None
    signup_deadline: dt.datetime | None = None
    needs_review: bool = False
    audience: str = "open"
    questions: tuple[Question, ...] = ()
    organizer: str | None = None

    def problems(self, scope: Scope) -> list[str]:
        out = []
        if not self.title.strip():
            out.append("请填写活动名称 · the title is missing")
        if self.kind not in ACTIVITY_KINDS:
            out.append(f"活动类型应为 {'、'.join(ACTIVITY_KINDS)} · kind must be one of {', '.join(ACTIVITY_KINDS)}")
        if self.audience not in ACTIVITY_AUDIENCES:
            out.append("参加对象应为公开或邀请 · audience must be open or invited")
        if self.ends_at is not None and self.ends_at < self.starts_at:
            out.append("结束时间早于开始时间 · the end is before the start")
        if self.signup_deadline is not None and self.signup_deadline > (self.ends_at or self.starts_at):
            out.append("报名截止时间晚于活动结束 · the sign-up deadline is after the activity ends")
        if self.capacity is not None and self.capacity < 1:
            out.append("名额应至少为 1（不限名额请留空） · capacity is at least 1 (leave it empty for no limit)")
        if not (self.place or "").strip() and not (self.online_link or "").strip():
            out.append("请填写地点或线上链接 · give a place or an online link")
        if self.online_link and not self.online_link.strip().lower().startswith(("https://", "http://")):
            out.append("线上链接应以 https:// 开头 · the online link starts with https://")
        if self.street and not self.district_code:
            out.append("街道级活动也要填写所属区县 · a street's activity names its district too")
        for name, words in (("title", "活动名称"), ("organizer", "主办单位"), ("street", "街道"), ("place", "地点"),
                            ("online_link", "线上链接")):
            limit = activity.c[name].type.length
            if len((getattr(self, name) or "").strip()) > limit:
                out.append(f"{words}最多 {limit} 字 · the {name.replace('_', ' ')} is at most {limit} characters")
        out += question_problems(self.questions)
        if not scope.is_everything and not scope.allows_street(self.district_code, self.street):
            out.append("主办单位不在您的管辖范围内 · the organizing unit is outside your scope")
        return out

    def values(self) -> dict:
        return dict(title=self.title.strip(), kind=self.kind, starts_at=self.starts_at, ends_at=self.ends_at,
                    district_code=self.district_code or None, street=(self.street or "").strip() or None,
                    place=(self.place or "").strip() or None, online_link=(self.online_link or "").strip() or None,
                    capacity=self.capacity, signup_deadline=self.signup_deadline,
                    needs_review=bool(self.needs_review), audience=self.audience,
                    questions=questions_json(self.questions), organizer=self.organizer,
                    online=bool((self.online_link or "").strip()) and not (self.place or "").strip())


def _activity(conn, activity_id: int, *, lock: bool = False):
    stmt = select(activity).where(activity.c.id == activity_id)
    # PostgreSQL: sign-ups and reviews of one activity queue behind each other, so capacity holds.
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise ActivityRefused(f"没有编号为 {activity_id} 的活动 · there is no activity {activity_id}")
    return row


def _in_scope(act, scope: Scope) -> bool:
    return scope.is_everything or scope.allows_street(act.district_code, act.street)


def _staff_activity(conn, activity_id: int, scope: Scope, *, lock: bool = False):
    act = _activity(conn, activity_id, lock=lock)
    if not _in_scope(act, scope):
        raise ActivityRefused("此活动的主办单位不在您的管辖范围内 · this activity's organizing unit is outside your scope")
    return act


def plan_activity(engine: Engine, plan: Plan, *, actor: str, scope: Scope = EVERYTHING) -> int:
    """A new activity in state draft; returns its id."""
    problems = plan.problems(scope)
    if problems:
        raise InvalidPlan(problems)
    with writing(engine) as conn:
        cs = open_change_set(conn, "staff", actor, f"计划活动 · plan activity: {plan.title}", scope=scope)
        aid = int(cs.insert("activity", dict(plan.values(), state="draft")))
        cs.close(action="activity.plan", detail={"activity": aid})
    return aid


def edit_activity(engine: Engine, activity_id: int, plan: Plan, *, actor: str, scope: Scope = EVERYTHING) -> dict:
    """Save a changed plan; a larger capacity promotes from the wait list. Returns the changed fields."""
    problems = plan.problems(scope)
    if problems:
        raise InvalidPlan(problems)
    with writing(engine) as conn:
        act = _staff_activity(conn, activity_id, scope, lock=True)
        if act.state in ("finished", "cancelled"):
            raise ActivityRefused("已结束或已取消的活动不能再修改 · a finished or cancelled activity cannot be edited")
        cs = open_change_set(conn, "staff", actor, f"修改活动 · edit activity {activity_id}", scope=scope)
        changed = cs.update("activity", activity_id, plan.values())
        if act.state == "published":
            _promote(cs, _activity(conn, activity_id))
        cs.close(action="activity.edit", detail={"activity": activity_id, "fields": sorted(changed)})
    return changed


def set_questions(engine: Engine, activity_id: int, questions: Sequence[Question], *, actor: str,
                  scope: Scope = EVERYTHING) -> None:
    """Replace an activity's sign-up questions (checked again as a whole); answers already given stay."""
    questions = parse_questions([asdict(q) for q in questions])
    if problems := question_problems(questions):
        raise InvalidPlan(problems)
    with writing(engine) as conn:
        act = _staff_activity(conn, activity_id, scope, lock=True)
        if act.state in ("finished", "cancelled"):
            raise ActivityRefused(_state_message(act.state))
        cs = open_change_set(conn, "staff", actor, f"报名问题 · questions of activity {activity_id}", scope=scope)
        cs.update("activity", activity_id, {"questions": questions_json(questions)})
        cs.close(action="activity.questions", detail={"activity": activity_id, "questions": len(questions)})


def publish_activity(engine: Engine, activity_id: int, *, actor: str, scope: Scope = EVERYTHING) -> None:
    _set_state(engine, activity_id, "published", ("draft",), actor, scope)


def cancel_activity(engine: Engine, activity_id: int, reason: str, *, actor: str, scope: Scope = EVERYTHING) -> None:
    """Cancelled with a reason invitees see; every pass stops working (check-in needs a published activity)."""
    if not (reason or "").strip():
        raise ActivityRefused("取消活动须说明原因（被邀请人会看到） · say why it is cancelled (invitees see it)")
    _set_state(engine, activity_id, "cancelled", ("draft", "published"), actor, scope, cancel_reason=reason.strip())


def finish_activity(engine: Engine, activity_id: int, *, actor: str, scope: Scope = EVERYTHING) -> int:
    """Finished: everyone approved who never checked in becomes absent. Returns how many."""
    with writing(engine) as conn:
        act = _staff_activity(conn, activity_id, scope, lock=True)
        if act.state != "published":
            raise ActivityRefused(_state_message(act.state))
        cs = open_change_set(conn, "staff", actor, f"活动结束 · activity {activity_id} finished")
        cs.update("activity", activity_id, {"state": "finished"})
        absent = conn.execute(select(participation.c.person_id).where(
            participation.c.activity_id == activity_id, participation.c.status == "approved")).scalars().all()
        for pid in absent:
            cs.update("participation", (activity_id, pid), {"status": "absent"})
        cs.close(action="activity.finish", detail={"activity": activity_id, "absent": len(absent)})
    return len(absent)


# The questions of the feedback survey staff send in one click (store/surveys.py's kinds).
FEEDBACK_QUESTIONS = (
    surveys.Question("rating", "您对本次活动的总体评价"),
    surveys.Question("single", "活动内容对您的工作是否有帮助", ("很有帮助", "有一些帮助", "帮助不大")),
    surveys.Question("text", "您的意见和建议"),
)


def send_feedback(engine: Engine, activity_id: int, *, actor: str, scope: Scope = EVERYTHING,
                  survey_id: int | None = None) -> tuple[int, int]:
    """Send a survey to the persons (in scope) checked in at a finished activity: the survey named, or a new
    one of FEEDBACK_QUESTIONS titled after the activity. Returns (the survey, how many it went to now)."""
    with engine.connect() as conn:
        act = _staff_activity(conn, activity_id, scope)
        arrived = conn.execute(select(participation.c.person_id).where(
            participation.c.activity_id == activity_id, participation.c.status == "checked_in")).scalars().all()
    if act.state != "finished":
        raise ActivityRefused("活动结束后才能发送反馈问卷 · a feedback survey goes out once the activity has finished")
    if not arrived:
        raise ActivityRefused("此活动没有已签到的人员 · nobody checked in at this activity")
    if survey_id is None:
        survey_id = surveys.create_survey(
            engine, f"活动反馈：{act.title}"[:200], list(FEEDBACK_QUESTIONS), actor=actor,
            intro=f"感谢您参加「{act.title}」（{act.starts_at:%Y-%m-%d}）。请用一分钟告诉我们您的感受。")
    return survey_id, surveys.send_survey(engine, survey_id, arrived, actor=actor, scope=scope)


def _set_state(engine, activity_id, state, allowed_from, actor, scope, **extra) -> None:
    with writing(engine) as conn:
        act = _staff_activity(conn, activity_id, scope, lock=True)
        if act.state not in allowed_from:
            raise ActivityRefused(_state_message(act.state))
        cs = open_change_set(conn, "staff", actor, f"活动状态 · activity {activity_id}: {state}")
        cs.update("activity", activity_id, {"state": state, **extra})
        cs.close(action=f"activity.{state}", detail={"activity": activity_id})


STATE_NAMES = {None: "线下记录 · recorded offline", "draft": "草稿 · draft", "published": "已发布 · published",
               "finished": "已结束 · finished", "cancelled": "已取消 · cancelled"}


def _state_message(state: str | None) -> str:
    return f"活动当前状态为「{STATE_NAMES.get(state, state)}」，不能这样做 · not possible while the activity is {state}"


# ---------------------------------------------------------------- audience

def invite(engine: Engine, activity_id: int, flt: PersonFilter, *, actor: str, scope: Scope = EVERYTHING,
           today: dt.date | None = None) -> int:
    """Invite every person the explorer's filter finds (within scope); returns how many were new."""
    with writing(engine) as conn:
        act = _staff_activity(conn, activity_id, scope)
        if act.state in ("finished", "cancelled"):
            raise ActivityRefused(_state_message(act.state))
        chosen = flt.where(select(person.c.id), scope, today).where(~person.c.id.in_(
            select(invitation.c.person_id).where(invitation.c.activity_id == activity_id)))
        ids = conn.execute(chosen.order_by(person.c.id)).scalars().all()
        cs = open_change_set(conn, "staff", actor, f"邀请参加活动 · invite to activity {activity_id}", scope=scope)
        now = cs.now
        if ids:
            conn.execute(insert(invitation), [dict(activity_id=activity_id, person_id=p, invited_at=now) for p in ids])
            cs.record_many(("invitation", f"{activity_id}:{p}", p, "insert", None, None,
                            encode_row({"activity_id": activity_id, "person_id": p, "invited_at": now}))
                           for p in ids)
        cs.close(action="activity.invite", detail={"activity": activity_id, "invited": len(ids),
                                                   "filter": flt.to_query_params()})
    return len(ids)


def uninvite(engine: Engine, activity_id: int, person_ids: Iterable[int], *, actor: str,
             scope: Scope = EVERYTHING) -> int:
    with writing(engine) as conn:
        _staff_activity(conn, activity_id, scope)
        cs = open_change_set(conn, "staff", actor, f"撤回邀请 · withdraw invitations to {activity_id}", scope=scope)
        ids = cs.in_scope(person_ids)
        for pid in ids:
            cs.delete("invitation", (activity_id, pid))
        cs.close(action="activity.uninvite", detail={"activity": activity_id, "persons": len(ids)})
    return len(ids)


# ---------------------------------------------------------------- sign-up, decline, withdraw

def _participation(conn, activity_id: int, person_id: int):
    return conn.execute(select(participation).where(participation.c.activity_id == activity_id,
                                                    participation.c.person_id == person_id)).first()


def _places_taken(conn, activity_id: int) -> int:
    return conn.execute(select(func.count()).select_from(participation).where(
        participation.c.activity_id == activity_id, participation.c.status.in_(PLACED))).scalar_one()


def _has_place(conn, act) -> bool:
    return act.capacity is None or _places_taken(conn, act.id) < act.capacity


def may_sign_up(conn, act, person_id: int | None, now: dt.datetime) -> None:
    if act.state != "published":
        raise ActivityRefused("此活动目前不接受报名 · this activity does not take sign-ups now"
                              + (f"（已取消：{act.cancel_reason}）" if act.state == "cancelled" else ""))
    if act.signup_deadline is not None and now > act.signup_deadline:
        raise ActivityRefused("报名已截止 · sign-ups have closed")
    _must_be_invited(conn, act, person_id)


def _must_be_invited(conn, act, person_id: int | None) -> None:
    """An invited activity takes answers only from the persons it invites."""
    if act.audience == "invited" and (person_id is None or conn.execute(select(invitation.c.person_id).where(
            invitation.c.activity_id == act.id, invitation.c.person_id == person_id)).first() is None):
        raise ActivityRefused("此活动仅限受邀人员参加 · this activity is by invitation only")


@dataclass(frozen=True)
class SignUp:
    status: str  # registered | approved | waitlisted


def check_sign_up(engine: Engine, activity_id: int, answers: Mapping[str, object] | None = None,
                  person_id: int | None = None) -> dict[str, object]:
    """Whether a sign-up would be taken now (raises what sign_up would); returns the answers kept."""
    with engine.connect() as conn:
        act = _activity(conn, activity_id)
        may_sign_up(conn, act, person_id, clock.now())
    return validate_answers(load_questions(act.questions), answers or {})


def sign_up(engine: Engine, activity_id: int, person_id: int, answers: Mapping[str, object] | None = None, *,
            source: str = "self", actor: str | None = None, review: bool = False) -> SignUp:
    """Sign a person up (the representative through their link, or staff for them), answers validated here.
    `review`: wait for staff whatever the activity says (a sign-up from the public poster)."""
    with writing(engine) as conn:
        act = _activity(conn, activity_id, lock=True)
        now = clock.now()
        may_sign_up(conn, act, person_id, now)
        kept = validate_answers(load_questions(act.questions), answers or {})
        current = _participation(conn, activity_id, person_id)
        if current is not None and current.status not in ("declined", "withdrawn"):
            raise ActivityRefused(f"已报名过此活动（{STATUS_NAMES.get(current.status, current.status)}） · "
                                  f"already signed up ({current.status})")
        if act.needs_review or review:
            status = "registered"
        else:
            status = "approved" if _has_place(conn, act) else "waitlisted"
        cs = open_change_set(conn, source, actor or f"person:{person_id}", f"报名 · sign up to {activity_id}")
        values = dict(status=status, registered_at=now, answers=json.dumps(kept, ensure_ascii=False) if kept else None,
                      reason=None)
        if current is None:
            cs.insert("participation", dict(values, activity_id=activity_id, person_id=person_id))
        else:
            cs.update("participation", (activity_id, person_id), values)
        cs.close(action="activity.sign_up", detail={"activity": activity_id, "status": status})
    return SignUp(status)


def decline(engine: Engine, activity_id: int, person_id: int, reason: str | None = None, *, source: str = "self",
            actor: str | None = None) -> None:
    """An invitee says no (before signing up; after, they withdraw)."""
    with writing(engine) as conn:
        act = _activity(conn, activity_id)
        if act.state != "published":
            raise ActivityRefused(_state_message(act.state))
        current = _participation(conn, activity_id, person_id)
        if current is None:
            _must_be_invited(conn, act, person_id)
        if current is not None and current.status in LIVE:
            raise ActivityRefused("您已报名，如不能参加请选择「退出报名」 · you signed up: withdraw instead")
        cs = open_change_set(conn, source, actor or f"person:{person_id}", f"婉拒 · decline {activity_id}")
        values = dict(status="declined", reason=(reason or "").strip() or None)
        if current is None:
            cs.insert("participation", dict(values, activity_id=activity_id, person_id=person_id,
                                            registered_at=cs.now))
        else:
            cs.update("participation", (activity_id, person_id), values)
        cs.close(action="activity.decline", detail={"activity": activity_id})


NOTHING_TO_WITHDRAW = "没有可以退出的报名 · there is no sign-up to withdraw"


def withdraw(engine: Engine, activity_id: int, person_id: int, reason: str | None = None, *, source: str = "self",
             actor: str | None = None) -> list[int]:
    """The person gives up their sign-up; their pass stops working; a freed place goes to the wait list.
    Returns the persons promoted."""
    with writing(engine) as conn:
        act = _activity(conn, activity_id, lock=True)
        current = _participation(conn, activity_id, person_id)
        if act.state != "published" or current is None or current.status not in ("registered", "approved",
                                                                                    "waitlisted"):
            raise ActivityRefused(NOTHING_TO_WITHDRAW)
        cs = open_change_set(conn, source, actor or f"person:{person_id}", f"退出报名 · withdraw from {activity_id}")
        cs.update("participation", (activity_id, person_id), dict(
            status="withdrawn", reason=(reason or "").strip() or None, pass_version=current.pass_version + 1,
            notice=None))
        promoted = _promote(cs, act) if current.status == "approved" else []
        cs.close(action="activity.withdraw", detail={"activity": activity_id, "promoted": promoted})
    return promoted


def _promote(cs: ChangeSet, act) -> list[int]:
    """Fill free places from the wait list in sign-up order; each promoted person gets a notice to be told."""
    if act.state != "published":
        return []
    conn = cs.conn
    free = None if act.capacity is None else act.capacity - _places_taken(conn, act.id)
    waiting = select(participation.c.person_id).where(
        participation.c.activity_id == act.id, participation.c.status == "waitlisted").order_by(
        participation.c.registered_at, participation.c.person_id)
    if free is not None:
        if free <= 0:
            return []
        waiting = waiting.limit(free)
    promoted = conn.execute(waiting).scalars().all()
    for pid in promoted:
        cs.update("participation", (act.id, pid), dict(status="approved", notice="promoted", decided_at=cs.now))
    return list(promoted)


# ---------------------------------------------------------------- review

@dataclass(frozen=True)
class Review:
    approved: list[int] = field(default_factory=list)
    waitlisted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    promoted: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # not awaiting this decision, or outside scope


def review(engine: Engine, activity_id: int, person_ids: Iterable[int], *, approve: bool, reason: str | None = None,
           actor: str, scope: Scope = EVERYTHING) -> Review:
    """Approve (in sign-up order, while places last; the rest wait) or reject (with a reason) many at once."""
    if not approve and not (reason or "").strip():
        raise ActivityRefused("拒绝须说明原因 · say why the sign-ups are rejected")
    out = Review()
    with writing(engine) as conn:
        act = _staff_activity(conn, activity_id, scope, lock=True)
        if act.state != "published":
            raise ActivityRefused(_state_message(act.state))
        cs = open_change_set(conn, "staff", actor, reason or f"审核报名 · review sign-ups of {activity_id}",
                             scope=scope)
        wanted = set(int(p) for p in person_ids)
        allowed = set(cs.in_scope(wanted))
        rows = conn.execute(select(participation).where(
            participation.c.activity_id == activity_id, participation.c.person_id.in_(sorted(allowed)))
            .order_by(participation.c.registered_at, participation.c.person_id)).all()
        open_to = ("registered",) if approve else ("registered", "approved", "waitlisted")
        freed = False
        for row in rows:
            if row.status not in open_to:
                out.skipped.append(row.person_id)
                continue
            key = (activity_id, row.person_id)
            decided = dict(decided_at=cs.now, decided_by=actor)
            if not approve:
                cs.update("participation", key, dict(decided, status="rejected", reason=reason.strip(),
                                                      pass_version=row.pass_version + 1))
                out.rejected.append(row.person_id)
                freed = freed or row.status == "approved"
            elif _has_place(conn, act):
                cs.update("participation", key, dict(decided, status="approved", reason=None))
                out.approved.append(row.person_id)
            else:
                cs.update("participation", key, dict(decided, status="waitlisted"))
                out.waitlisted.append(row.person_id)
        out.skipped.extend(sorted(wanted - {r.person_id for r in rows}))
        if freed:
            out.promoted.extend(_promote(cs, act))
        cs.close(action="activity.review", detail={
            "activity": activity_id, "approved": len(out.approved), "waitlisted": len(out.waitlisted),
            "rejected": len(out.rejected), "promoted": len(out.promoted)})
    return out


def mark_told(engine: Engine, activity_id: int, person_id: int, *, source: str = "self",
              actor: str | None = None) -> None:
    """The person has seen their notice (e.g. promoted from the wait list): clear it."""
    with writing(engine) as conn:
        row = _participation(conn, activity_id, person_id)
        if row is None or row.notice is None:
            return
        cs = open_change_set(conn, source, actor or f"person:{person_id}", "通知已送达 · notice seen")
        cs.update("participation", (activity_id, person_id), {"notice": None})
        cs.close(action="activity.notice_seen", detail={"activity": activity_id})


# ---------------------------------------------------------------- passes

def pass_subject(activity_id: int, person_id: int) -> int:
    return (int(activity_id) << SUBJECT_SHIFT) | int(person_id)


def subject_parts(subject: int) -> tuple[int, int]:
    return subject >> SUBJECT_SHIFT, subject & ((1 << SUBJECT_SHIFT) - 1)


def _last_day(act) -> dt.date:
    return (act.ends_at or act.starts_at).date()


def pass_token(engine: Engine, activity_id: int, person_id: int) -> str:
    """The current pass of an approved (or checked-in) participation; valid through the activity's last day."""
    with engine.connect() as conn:
        act = _activity(conn, activity_id)
        row = _participation(conn, activity_id, person_id)
    if row is None or row.status not in PLACED:
        raise ActivityRefused("只有已通过的报名才有入场凭证 · only an approved sign-up has a pass")
    return tokens.issue(engine, PASS, pass_subject(activity_id, person_id), row.pass_version, _last_day(act))


def reissue_pass(engine: Engine, activity_id: int, person_id: int, *, actor: str, source: str = "staff",
                 scope: Scope = EVERYTHING) -> str:
    """A new pass; every pass issued before stops working (a lost or forwarded phone)."""
    with writing(engine) as conn:
        row = _participation(conn, activity_id, person_id)
        if row is None or row.status not in PLACED:
            raise ActivityRefused("只有已通过的报名才有入场凭证 · only an approved sign-up has a pass")
        cs = open_change_set(conn, source, actor, f"重新发放入场凭证 · re-issue pass for {activity_id}", scope=scope)
        cs.update("participation", (activity_id, person_id), {"pass_version": row.pass_version + 1})
        cs.close(action="activity.pass_reissue", detail={"activity": activity_id})
    return pass_token(engine, activity_id, person_id)


# ---------------------------------------------------------------- stewards and check-in

STATUS_NAMES = {
    "registered": "待审核 · awaiting review", "approved": "已通过 · approved", "waitlisted": "候补 · wait-listed",
    "rejected": "未通过 · rejected", "declined": "已婉拒 · declined", "withdrawn": "已退出 · withdrawn",
    "checked_in": "已签到 · checked in", "absent": "缺席 · absent",
}


def assign_steward(engine: Engine, username: str, activity_id: int, *, actor: str,
                   scope: Scope = EVERYTHING) -> None:
    """Let a steward account check people in at one activity (idempotent)."""
    from store import audit
    from store.version import bump_accounts_epoch

    with writing(engine) as conn:
        _staff_activity(conn, activity_id, scope)
        acc = conn.execute(select(account.c.id, account.c.role).where(account.c.username == username)).first()
        if acc is None or acc.role != "steward":
            raise ActivityRefused(f"没有名为 {username} 的引导员账号 · there is no steward account {username}")
        if conn.execute(select(steward_activity.c.account_id).where(
                steward_activity.c.account_id == acc.id, steward_activity.c.activity_id == activity_id)).first():
            return
        conn.execute(insert(steward_activity).values(account_id=acc.id, activity_id=activity_id,
                                                     assigned_at=clock.now(), assigned_by=actor))
        audit.record(conn, actor, "steward_assign", {"username": username, "activity": activity_id})
        bump_accounts_epoch(conn)


def unassign_steward(engine: Engine, username: str, activity_id: int, *, actor: str,
                     scope: Scope = EVERYTHING) -> None:
    from store import audit
    from store.version import bump_accounts_epoch

    with writing(engine) as conn:
        _staff_activity(conn, activity_id, scope)
        acc_id = conn.execute(select(account.c.id).where(account.c.username == username)).scalar()
        conn.execute(delete(steward_activity).where(steward_activity.c.account_id == acc_id,
                                                    steward_activity.c.activity_id == activity_id))
        audit.record(conn, actor, "steward_unassign", {"username": username, "activity": activity_id})
        bump_accounts_epoch(conn)


def stewards_of(engine: Engine, activity_id: int) -> list[str]:
    """The steward accounts checking people in at an activity, by name."""
    with engine.connect() as conn:
        return list(conn.execute(select(account.c.username).join(
            steward_activity, steward_activity.c.account_id == account.c.id).where(
            steward_activity.c.activity_id == activity_id).order_by(account.c.username)).scalars())


@dataclass(frozen=True)
class Door:
    """Who stands at which door: an account's role, scope and id (the steward's assignments are looked up)."""

    name: str
    role: str
    scope: Scope
    account_id: int | None = None


def door_activities(engine: Engine, door: Door) -> pd.DataFrame:
    """The published activities this account may check people in at (a steward: only those given to them)."""
    stmt = (select(activity.c.id, activity.c.title, activity.c.starts_at, activity.c.ends_at, activity.c.place,
                   activity.c.district_code, activity.c.street)
            .where(activity.c.state == "published").order_by(activity.c.starts_at, activity.c.id))
    if door.role == "steward":
        stmt = stmt.where(activity.c.id.in_(select(steward_activity.c.activity_id).where(
            steward_activity.c.account_id == door.account_id)))
    elif door.role not in ("staff", "admin"):
        return pd.DataFrame(columns=["id", "title", "starts_at", "ends_at", "place"])
    with engine.connect() as conn:
        rows = [r for r in conn.execute(stmt).all() if door.role == "steward" or _in_scope(r, door.scope)]
    return pd.DataFrame([dict(id=r.id, title=r.title, starts_at=r.starts_at, ends_at=r.ends_at, place=r.place)
                         for r in rows], columns=["id", "title", "starts_at", "ends_at", "place"])


def may_check_in(engine: Engine, door: Door, activity_id: int) -> bool:
    """Whether `door` checks people in at this activity: the rule of door_activities for one activity, in one
    indexed query (it runs with every scan)."""
    if door.role not in ("steward", "staff", "admin"):
        return False
    stmt = select(activity.c.district_code, activity.c.street).where(
        activity.c.id == int(activity_id), activity.c.state == "published")
    if door.role == "steward":
        stmt = stmt.where(activity.c.id.in_(select(steward_activity.c.activity_id).where(
            steward_activity.c.account_id == door.account_id)))
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return row is not None and (door.role == "steward" or _in_scope(row, door.scope))


@dataclass(frozen=True)
class CheckIn:
    """A check-in's answer. outcome: checked_in (now, or a retried request of the same nonce), repeat
    (checked in before: by whom and when), refused (`reason` says why, bilingual)."""

    outcome: str
    person_id: int | None = None
    name: str | None = None
    status: str | None = None
    checked_in_by: str | None = None
    checked_in_at: dt.datetime | None = None
    reason: str | None = None


class _Lost(Exception):
    """Another request changed the participation between our read and our conditional update."""


def refused(reason: str) -> CheckIn:
    return CheckIn("refused", reason=reason)


OTHER_ACTIVITY = "此凭证属于另一场活动 · this pass is for another activity"
NOT_HERE = "您不是此活动的引导员 · you are not a steward of this activity"


def _pass_of(engine: Engine, activity_id: int, scanned: str) -> tokens.Claim | CheckIn:
    """The pass's claim when it is a valid pass of this activity, else the refusal to show."""
    try:
        claim = tokens.verify(engine, _token_of(scanned), PASS, today=clock.today())
    except tokens.TokenRefused as refusal:
        return refused(str(refusal))
    if subject_parts(claim.subject)[0] != int(activity_id):
        return refused(OTHER_ACTIVITY)
    return claim


def check_in_pass(engine: Engine, activity_id: int, token: str, *, door: Door, nonce: str | None) -> CheckIn:
    """Check in the holder of a scanned pass (the token, or the whole pass URL a scanner types) at `activity_id`."""
    claim = _pass_of(engine, activity_id, token)
    if isinstance(claim, CheckIn):
        return claim
    return check_in(engine, activity_id, subject_parts(claim.subject)[1], door=door, nonce=nonce,
                    pass_version=claim.version)


def _token_of(scanned: str) -> str:
    # A scanner or a camera gives the whole pass URL; the token is its last path segment.
    text = (scanned or "").strip().split("?")[0].rstrip("/")
    return text.rsplit("/", 1)[-1]


def _at_door(conn, activity_id: int, person_id: int):
    act = _activity(conn, activity_id)
    row = _participation(conn, activity_id, person_id)
    name = conn.execute(select(person.c.name).where(person.c.id == person_id)).scalar()
    return act, row, name


def _verdict(act, row, name, pass_version: int | None, nonce: str | None, today: dt.date) -> CheckIn | None:
    """What the door says without writing, or None when a check-in may be made now."""
    if act.state != "published":
        return refused(_state_message(act.state))
    if row is None:
        return refused("此人未报名此活动 · this person has not signed up for this activity")
    if pass_version is not None and row.pass_version != pass_version:
        return CheckIn("refused", row.person_id, name, row.status, reason=tokens.MESSAGES["revoked"])
    if nonce is not None and row.checkin_nonce == nonce and row.status == "checked_in":
        return CheckIn("checked_in", row.person_id, name, row.status, row.checked_in_by, row.checked_in_at)
    multi_day = _last_day(act) > act.starts_at.date()
    if row.status == "checked_in" and not (multi_day and row.checkin_day != today):
        return CheckIn("repeat", row.person_id, name, row.status, row.checked_in_by, row.checked_in_at)
    if row.status not in ("approved", "checked_in"):
        return CheckIn("refused", row.person_id, name, row.status,
                       reason=f"此报名{STATUS_NAMES.get(row.status, row.status)}，不能签到 · "
                              f"this sign-up is {row.status}: no check-in")
    return None


def scanned_pass(engine: Engine, activity_id: int, token: str, *, door: Door) -> CheckIn:
    """What scanning a pass would do, without doing it: outcome `ready` (with the person), or what check-in says."""
    claim = _pass_of(engine, activity_id, token)
    if isinstance(claim, CheckIn):
        return claim
    if not may_check_in(engine, door, activity_id):
        return refused(NOT_HERE)
    pid = subject_parts(claim.subject)[1]
    with engine.connect() as conn:
        act, row, name = _at_door(conn, activity_id, pid)
    return _verdict(act, row, name, claim.version, None, clock.today()) or CheckIn("ready", pid, name, row.status)


def check_in(engine: Engine, activity_id: int, person_id: int, *, door: Door, nonce: str | None,
             pass_version: int | None = None) -> CheckIn:
    """One atomic conditional UPDATE: succeeds only for an approved participation not yet checked in (or,
    for a multi-day activity, not yet today); a retried request with the same nonce counts once."""
    if not may_check_in(engine, door, activity_id):
        return refused(NOT_HERE)
    nonce = (nonce or "")[:64] or None
    today, now = clock.today(), clock.now()
    try:
        with writing(engine) as conn:
            act, row, name = _at_door(conn, activity_id, person_id)
            verdict = _verdict(act, row, name, pass_version, nonce, today)
            if verdict is not None:
                return verdict
            cs = open_change_set(conn, "checkin", door.name, f"签到 · check-in at {activity_id}")
            won = cs.update_where("participation", (activity_id, person_id), dict(
                status="checked_in", checked_in_at=now, checked_in_by=door.name[:64], checkin_nonce=nonce,
                checkin_day=today), expect=dict(
                status=row.status, checked_in_at=row.checked_in_at, checked_in_by=row.checked_in_by,
                checkin_nonce=row.checkin_nonce, checkin_day=row.checkin_day, pass_version=row.pass_version))
            if not won:
                raise _Lost
            cs.close(action="activity.check_in", detail={"activity": activity_id})
            return CheckIn("checked_in", person_id, name, "checked_in", door.name, now)
    except _Lost:
        # Someone else's request won (another steward, or this one retried): say what it left.
        with engine.connect() as conn:
            act, row, name = _at_door(conn, activity_id, person_id)
        return _verdict(act, row, name, pass_version, nonce, today) or CheckIn(
            "repeat", person_id, name, row.status, row.checked_in_by, row.checked_in_at)


def find_at_door(engine: Engine, activity_id: int, text: str, *, limit: int = 20) -> pd.DataFrame:
    """Sign-ups of an activity whose name contains `text` (the steward's fallback when a pass won't scan).
    Phones are shown by their last four digits only."""
    text = (text or "").strip()
    columns = ["person_id", "name", "phone_tail", "status", "checked_in_by", "checked_in_at"]
    if not text:
        return pd.DataFrame(columns=columns)
    stmt = (select(person.c.id.label("person_id"), person.c.name, person.c.phone, participation.c.status,
                   participation.c.checked_in_by, participation.c.checked_in_at)
            .join(participation, participation.c.person_id == person.c.id)
            .where(participation.c.activity_id == activity_id, person.c.name.contains(text, autoescape=True),
                   participation.c.status.in_(("approved", "checked_in", "rejected", "withdrawn", "waitlisted",
                                               "registered")))
            .order_by(person.c.name, person.c.id).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame([dict(r._mapping, phone_tail=(r.phone or "")[-4:]) for r in rows], columns=columns)


# ---------------------------------------------------------------- the representative's view (the /m/ pages call these)

MINE_COLUMNS = ["id", "title", "kind", "state", "starts_at", "ends_at", "place", "online_link", "signup_deadline",
                "audience", "cancel_reason", "invited", "status", "reason", "notice", "waitlist_position"]
ONE_COLUMNS = MINE_COLUMNS + ["capacity", "needs_review", "questions", "answers", "places_taken"]


def _visible_to(extra: bool = False):
    """The activities one person (bound as `person_id`) may see, with their own participation and invitation
    joined: published ones open to all, inviting them or holding their live sign-up; cancelled ones they were
    invited to or signed up for (with the reason); finished ones they took part in. `extra`: also the capacity,
    the places taken, review, the questions and their own answers."""
    person_id = bindparam("person_id", type_=Integer)
    mine = participation.alias("mine")
    invited = invitation.alias("invited")
    earlier = participation.alias("earlier")
    # Their place in the wait list: those waiting who signed up before them, plus one (the key breaks ties).
    position = (select(func.count() + 1).select_from(earlier).where(
        earlier.c.activity_id == mine.c.activity_id, earlier.c.status == "waitlisted",
        or_(earlier.c.registered_at < mine.c.registered_at,
            and_(earlier.c.registered_at == mine.c.registered_at, earlier.c.person_id < mine.c.person_id)))
        .scalar_subquery())
    taken = (select(func.count()).select_from(participation).where(
        participation.c.activity_id == activity.c.id, participation.c.status.in_(PLACED)).scalar_subquery())
    more = (activity.c.capacity, activity.c.needs_review, activity.c.questions, mine.c.answers,
            taken.label("places_taken")) if extra else ()
    return (select(activity.c.id, activity.c.title, activity.c.kind, activity.c.state, activity.c.starts_at,
                   activity.c.ends_at, activity.c.place, activity.c.online_link, activity.c.signup_deadline,
                   activity.c.audience, activity.c.cancel_reason,
                   invited.c.person_id.is_not(None).label("invited"), mine.c.status, mine.c.reason, mine.c.notice,
                   case((mine.c.status == "waitlisted", position)).label("waitlist_position"), *more)
            .select_from(activity.outerjoin(mine, and_(mine.c.activity_id == activity.c.id,
                                                       mine.c.person_id == person_id))
                         .outerjoin(invited, and_(invited.c.activity_id == activity.c.id,
                                                  invited.c.person_id == person_id)))
            .where(or_(
                and_(activity.c.state == "published",
                     or_(activity.c.audience == "open", invited.c.person_id.is_not(None), mine.c.status.in_(LIVE))),
                and_(activity.c.state == "cancelled",
                     or_(invited.c.person_id.is_not(None), mine.c.status.in_(LIVE))),
                and_(activity.c.state == "finished", mine.c.status.in_(("checked_in", "absent"))))))


# Built once (the phone pages ask with every request; building them took longer than running them).
_MINE = _visible_to().order_by(
    case((activity.c.state == "published", 0), else_=1), case((activity.c.state == "published", activity.c.starts_at)),
    activity.c.starts_at.desc(), activity.c.id).limit(bindparam("limit", type_=Integer))
_ONE = _visible_to(extra=True).where(activity.c.id == bindparam("activity_id", type_=Integer))


def my_activities(engine: Engine, person_id: int, *, limit: int = 50) -> list[dict]:
    """What one person sees (`_visible_to`), with their own status, notice and place in the wait list:
    the published ones first, soonest first, then the cancelled and finished ones, latest first."""
    with engine.connect() as conn:
        rows = conn.execute(_MINE, {"person_id": int(person_id), "limit": int(limit)}).all()
    return [dict(r._mapping, invited=bool(r.invited)) for r in rows]


def activities_for(engine: Engine, person_id: int, *, limit: int = 50) -> pd.DataFrame:
    """my_activities as a frame."""
    return pd.DataFrame(my_activities(engine, person_id, limit=limit), columns=MINE_COLUMNS)


def activity_for(engine: Engine, activity_id: int, person_id: int) -> dict | None:
    """One activity as `person_id` sees it (None when they may not see it): what my_activities gives, and
    the capacity, the places taken, whether sign-ups wait for review, the questions and their own answers."""
    with engine.connect() as conn:
        row = conn.execute(_ONE, {"person_id": int(person_id), "activity_id": int(activity_id)}).first()
    if row is None:
        return None
    found = dict(row._mapping, invited=bool(row.invited))
    found["questions"] = load_questions(found["questions"])
    found["answers"] = json.loads(found["answers"]) if found["answers"] else {}
    return found


def questions_of(engine: Engine, activity_id: int) -> tuple[Question, ...]:
    """The activity's sign-up questions, for a sign-up form (each knows when it is asked: `Question.asked`)."""
    return load_questions(activity_plan(engine, activity_id)["questions"])


# ---------------------------------------------------------------- reading (staff pages and the hall)

ACTIVITY_COLUMNS = ["id", "title", "kind", "state", "starts_at", "ends_at", "district_code", "street", "place",
                    "online_link", "capacity", "signup_deadline", "needs_review", "audience", "cancel_reason",
                    "questions"]


def planned_activities(engine: Engine, scope: Scope = EVERYTHING, *, states: Sequence[str] = ("draft", "published"),
                       limit: int = 200) -> pd.DataFrame:
    """Activities run online in the given states, within the scope's organizing units, soonest first."""
    stmt = select(*(activity.c[c] for c in ACTIVITY_COLUMNS)).where(activity.c.state.in_(tuple(states)))
    if not scope.is_everything:
        conds = [activity.c.district_code.in_(scope.districts)] if scope.districts else []
        conds += [and_(activity.c.district_code == d, activity.c.street == s) for d, s in scope.streets]
        stmt = stmt.where(or_(*conds))
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(activity.c.starts_at.desc(), activity.c.id.desc()).limit(limit)).all()
    return pd.DataFrame([dict(r._mapping) for r in rows], columns=ACTIVITY_COLUMNS)


def activity_plan(engine: Engine, activity_id: int) -> dict:
    with engine.connect() as conn:
        return dict(_activity(conn, activity_id)._mapping)


def status_counts(engine: Engine, activity_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(participation.c.status, func.count()).where(
            participation.c.activity_id == activity_id).group_by(participation.c.status)).all()
        invited = conn.execute(select(func.count()).select_from(invitation).where(
            invitation.c.activity_id == activity_id)).scalar_one()
    return {"invited": invited, **{s: n for s, n in rows}}


SIGN_UP_COLUMNS = ["person_id", "name", "category_code", "district_code", "status", "registered_at", "answers",
                   "reason", "decided_by", "checked_in_at", "checked_in_by", "notice", "pass_version"]


def sign_ups(engine: Engine, activity_id: int, scope: Scope = EVERYTHING, *, statuses: Sequence[str] = (),
             person_ids: Sequence[int] = (), limit: int = 500) -> pd.DataFrame:
    """The review desk's list: sign-ups of one activity (persons in scope), in sign-up order."""
    stmt = (select(participation.c.person_id, person.c.name, person.c.category_code, person.c.district_code,
                   participation.c.status, participation.c.registered_at, participation.c.answers,
                   participation.c.reason, participation.c.decided_by, participation.c.checked_in_at,
                   participation.c.checked_in_by, participation.c.notice, participation.c.pass_version)
            .join(person, person.c.id == participation.c.person_id)
            .where(participation.c.activity_id == activity_id))
    clause = scope.person_clause(person)
    if clause is not None:
        stmt = stmt.where(clause)
    if statuses:
        stmt = stmt.where(participation.c.status.in_(tuple(statuses)))
    if person_ids:
        stmt = stmt.where(participation.c.person_id.in_(tuple(int(p) for p in person_ids)))
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(participation.c.registered_at, participation.c.person_id)
                            .limit(limit)).all()
    return pd.DataFrame([dict(r._mapping) for r in rows], columns=SIGN_UP_COLUMNS)


def _persons_in(scope: Scope) -> list:
    clause = scope.person_clause(person)
    return [] if clause is None else [participation.c.person_id.in_(select(person.c.id).where(clause))]


HALL_DIMENSIONS = {"category": (person.c.category_code, category, category.c.code),
                   "district": (person.c.district_code, region, region.c.code)}


def hall_by(engine: Engine, activity_id: int, dimension: str, scope: Scope = EVERYTHING) -> pd.DataFrame:
    """Checked in vs approved places of persons in `scope`, by category or district (the hall screen; counts only)."""
    column, names, code = HALL_DIMENSIONS[dimension]
    s = participation.c.status
    stmt = (select(column.label("code"), names.c.name_zh.label("name"),
                   func.sum(case((s.in_(PLACED + ("absent",)), 1), else_=0)).label("approved"),
                   func.sum(case((s == "checked_in", 1), else_=0)).label("checked_in"))
            .select_from(participation.join(person, person.c.id == participation.c.person_id)
                         .outerjoin(names, code == column))
            .where(participation.c.activity_id == activity_id, *_persons_in(scope))
            .group_by(column, names.c.name_zh).order_by(column))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame([dict(r._mapping) for r in rows], columns=["code", "name", "approved", "checked_in"])
    df = df[df["approved"] > 0].reset_index(drop=True)
    return df.astype({"approved": "int64", "checked_in": "int64"})


def arrivals_by_minute(engine: Engine, activity_id: int, scope: Scope = EVERYTHING, *,
                       minutes: int = 30) -> pd.DataFrame:
    """Check-ins of persons in `scope` per 5-minute slot over the last `minutes` (counts only, no names)."""
    since = clock.now() - dt.timedelta(minutes=minutes)
    slots = [since + dt.timedelta(minutes=5 * i) for i in range(minutes // 5)]
    at = participation.c.checked_in_at
    sums = [func.coalesce(func.sum(case((and_(at >= s, at < s + dt.timedelta(minutes=5)), 1), else_=0)), 0)
            .label(f"s{i}") for i, s in enumerate(slots)]
    with engine.connect() as conn:
        row = conn.execute(select(*sums).where(participation.c.activity_id == activity_id,
                                               participation.c.status == "checked_in", at >= since,
                                               *_persons_in(scope))).one()
    return pd.DataFrame({"slot": [s.strftime("%H:%M") for s in slots], "arrivals": [int(v) for v in row]})
