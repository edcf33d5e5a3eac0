"""Surveys for representatives: staff write one, send it to an explorer-filtered audience, read results.

Questions are single choice, multiple choice, a rating from 1 to 5, or a short text. A survey
is a draft until sent (then open: its questions no longer change) and closed by staff. Each
recipient answers once, through the light front end (ui/mobile.py). An anonymous survey's
responses keep the respondent's category and place for the cross-tabulation and the scope,
never the person; the recipient row says only that they answered.

Staff read results within their scope (the response's place), never below `privacy` thresholds
chosen by the caller: counts come back whole and the page withholds.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, case, func, insert, select, update

from store import audit, clock
from store.cells import neutralise
from store.reps import refusal
from store.engine import writing
from store.schema import (
    QUESTION_KINDS,
    category,
    person,
    region,
    survey,
    survey_answer,
    survey_question,
    survey_recipient,
    survey_response,
)
from store.scope import EVERYTHING, Scope
from store.version import bump_data_version

MAX_QUESTIONS = 20
MAX_OPTIONS = 10
PROMPT_LENGTH = 300
OPTION_LENGTH = 60
# All the questions' and choices' characters together: the survey's page stays under 60 KB on a phone.
TEXT_BUDGET = 6000
TEXT_ANSWER_LENGTH = 1000
INTRO_LENGTH = 1000
RATINGS = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class Question:
    kind: str
    prompt: str
    options: tuple[str, ...] = ()
    id: int | None = None


def check_questions(questions: list[Question]) -> list[Question]:
    if not questions:
        raise refusal("问卷至少需要一个问题", "a survey needs at least one question")
    if len(questions) > MAX_QUESTIONS:
        raise refusal(f"问题最多 {MAX_QUESTIONS} 个", f"at most {MAX_QUESTIONS} questions")
    out = []
    for n, q in enumerate(questions, 1):
        prompt = " ".join(str(q.prompt or "").split())
        if q.kind not in QUESTION_KINDS:
            raise refusal(f"第 {n} 题的题型不明", f"question {n} has no known kind")
        if not prompt or len(prompt) > PROMPT_LENGTH:
            raise refusal(f"第 {n} 题的题目为空或过长", f"question {n} is empty or too long")
        options = tuple(dict.fromkeys(o.strip() for o in q.options if o and o.strip()))
        if q.kind in ("single", "multiple"):
            if not 2 <= len(options) <= MAX_OPTIONS or any(len(o) > OPTION_LENGTH for o in options):
                raise refusal(f"第 {n} 题需要 2 到 {MAX_OPTIONS} 个选项", f"question {n} needs 2 to {MAX_OPTIONS} choices")
        else:
            options = ()
        out.append(Question(q.kind, prompt, options))
    if sum(len(q.prompt) + sum(map(len, q.options)) for q in out) > TEXT_BUDGET:
        raise refusal(f"问题和选项合计最多 {TEXT_BUDGET} 字", f"questions and choices hold at most {TEXT_BUDGET} characters")
    return out


def create_survey(engine: Engine, title: str, questions: list[Question], *, intro: str | None = None,
                  anonymous: bool = False, actor: str | None) -> int:
    title = " ".join(str(title or "").split())
    if not title or len(title) > 200:
        raise refusal("请填写标题（最多 200 字）", "fill in a title (at most 200 characters)")
    intro = (intro or "").strip() or None
    if intro and len(intro) > INTRO_LENGTH:
        raise refusal(f"说明最多 {INTRO_LENGTH} 字", f"the introduction is at most {INTRO_LENGTH} characters")
    checked = check_questions(questions)
    with writing(engine) as conn:
        sid = conn.execute(insert(survey).values(title=title, intro=intro,
                                                 anonymous=bool(anonymous), status="draft", created_at=clock.now(),
                                                 created_by=actor).returning(survey.c.id)).scalar_one()
        conn.execute(insert(survey_question), [
            dict(survey_id=sid, position=n, kind=q.kind, prompt=q.prompt,
                 options=json.dumps(list(q.options), ensure_ascii=False) if q.options else None)
            for n, q in enumerate(checked, 1)])
        audit.record(conn, actor, "survey.create", {"survey": sid, "questions": len(checked)})
    return sid


def send_survey(engine: Engine, survey_id: int, person_ids, *, actor: str | None, scope: Scope = EVERYTHING) -> int:
    """Send to the persons in scope not yet sent to; the survey opens. Returns how many were added."""
    ids = sorted({int(i) for i in person_ids})
    now = clock.now()
    with writing(engine) as conn:
        status = conn.execute(select(survey.c.status).where(survey.c.id == survey_id)).scalar()
        if status is None or status == "closed":
            raise refusal("问卷不存在或已结束", "the survey does not exist or is closed")
        clause = scope.person_clause(person)
        allowed = set(conn.execute(select(person.c.id).where(person.c.id.in_(ids),
                                                             *([] if clause is None else [clause]))).scalars())
        have = set(conn.execute(select(survey_recipient.c.person_id)
                                .where(survey_recipient.c.survey_id == survey_id)).scalars())
        new = sorted(allowed - have)
        if new:
            conn.execute(insert(survey_recipient), [dict(survey_id=survey_id, person_id=p, sent_at=now) for p in new])
        conn.execute(update(survey).where(survey.c.id == survey_id).values(status="open"))
        audit.record(conn, actor, "survey.send", {"survey": survey_id, "persons": len(new)})
        bump_data_version(conn)
    return len(new)


def close_survey(engine: Engine, survey_id: int, *, actor: str | None) -> None:
    with writing(engine) as conn:
        done = conn.execute(update(survey).where(survey.c.id == survey_id, survey.c.status == "open")
                            .values(status="closed")).rowcount
        if not done:
            raise refusal("只有进行中的问卷可以结束", "only an open survey can be closed")
        audit.record(conn, actor, "survey.close", {"survey": survey_id})


def surveys(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(survey.c.id, survey.c.title, survey.c.status, survey.c.anonymous,
                                                survey.c.created_at).order_by(survey.c.id.desc())).mappings().all(),
                            columns=["id", "title", "status", "anonymous", "created_at"])


def questions_of(engine: Engine, survey_id: int) -> list[Question]:
    with engine.connect() as conn:
        rows = conn.execute(select(survey_question).where(survey_question.c.survey_id == survey_id)
                            .order_by(survey_question.c.position)).mappings().all()
    return [Question(r["kind"], r["prompt"], tuple(json.loads(r["options"])) if r["options"] else (), r["id"])
            for r in rows]


# ---------------------------------------------------------------- the representative's side

def open_for(engine: Engine, person_id: int) -> list[dict]:
    """Open surveys sent to the person and not answered yet."""
    stmt = (select(survey.c.id, survey.c.title, survey.c.anonymous)
            .join(survey_recipient, survey_recipient.c.survey_id == survey.c.id)
            .where(survey_recipient.c.person_id == person_id, survey_recipient.c.answered_at.is_(None),
                   survey.c.status == "open").order_by(survey.c.id.desc()))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def survey_for(engine: Engine, survey_id: int, person_id: int) -> dict | None:
    """The survey as its recipient sees it (None when it was not sent to them); `answered` says if done."""
    stmt = (select(survey.c.id, survey.c.title, survey.c.intro, survey.c.anonymous, survey.c.status,
                   survey_recipient.c.answered_at)
            .join(survey_recipient, survey_recipient.c.survey_id == survey.c.id)
            .where(survey.c.id == survey_id, survey_recipient.c.person_id == person_id))
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    return {**dict(row), "questions": questions_of(engine, survey_id)}


def _answer_values(q: Question, raw) -> list[str]:
    values = [str(v).strip() for v in (raw if isinstance(raw, (list, tuple)) else [raw]) if str(v or "").strip()]
    if q.kind == "single" and (len(values) > 1 or any(v not in q.options for v in values)):
        raise refusal(f"「{q.prompt[:20]}」请选择一个选项", f"choose one option for “{q.prompt[:40]}”")
    if q.kind == "multiple" and any(v not in q.options for v in values):
        raise refusal(f"「{q.prompt[:20]}」的选项无效", f"an unknown option for “{q.prompt[:40]}”")
    if q.kind == "rating" and (len(values) > 1 or any(v not in RATINGS for v in values)):
        raise refusal(f"「{q.prompt[:20]}」请打 1 到 5 分", f"rate “{q.prompt[:40]}” from 1 to 5")
    if q.kind == "text" and values and len(values[0]) > TEXT_ANSWER_LENGTH:
        raise refusal(f"回答过长（最多 {TEXT_ANSWER_LENGTH} 字）", f"an answer is at most {TEXT_ANSWER_LENGTH} characters")
    return list(dict.fromkeys(values))


def answer(engine: Engine, survey_id: int, person_id: int, answers: dict[int, object]) -> int:
    """Record the recipient's one response; unanswered questions stay blank. Returns the response id."""
    found = survey_for(engine, survey_id, person_id)
    if found is None:
        raise refusal("此问卷未发给您", "this survey was not sent to you")
    if found["status"] != "open":
        raise refusal("问卷已结束", "the survey is closed")
    rows = [(q.id, v) for q in found["questions"] for v in _answer_values(q, answers.get(q.id))]
    if not rows:
        raise refusal("请至少回答一个问题", "answer at least one question")
    now = clock.now()
    if found["anonymous"]:
        # The day only, on both rows: the time of an answer would tie a response to its recipient.
        now = dt.datetime.combine(now.date(), dt.time())
    with writing(engine) as conn:
        # The recipient row is claimed first: a second (or concurrent) response finds it answered.
        claimed = conn.execute(update(survey_recipient).where(
            survey_recipient.c.survey_id == survey_id, survey_recipient.c.person_id == person_id,
            survey_recipient.c.answered_at.is_(None)).values(answered_at=now)).rowcount
        if not claimed:
            raise refusal("您已回答过此问卷", "you have already answered this survey")
        who = conn.execute(select(person.c.category_code, person.c.district_code, person.c.street)
                           .where(person.c.id == person_id)).one()
        rid = conn.execute(insert(survey_response).values(
            survey_id=survey_id, person_id=None if found["anonymous"] else person_id, category_code=who.category_code,
            district_code=who.district_code, street=who.street, submitted_at=now)
            .returning(survey_response.c.id)).scalar_one()
        conn.execute(insert(survey_answer), [dict(response_id=rid, question_id=q, value=v) for q, v in rows])
        bump_data_version(conn)
    return rid


# ---------------------------------------------------------------- results

def _scoped(scope: Scope) -> list:
    clause = scope.person_clause(survey_response)  # the response keeps district_code and street
    return [] if clause is None else [clause]


def response_rate(engine: Engine, survey_id: int, scope: Scope) -> tuple[int, int]:
    """(recipients in scope, of whom answered)."""
    clause = scope.person_clause(person)
    stmt = (select(func.count(), func.coalesce(func.sum(case((survey_recipient.c.answered_at.is_not(None), 1),
                                                             else_=0)), 0))
            .join(person, person.c.id == survey_recipient.c.person_id)
            .where(survey_recipient.c.survey_id == survey_id, *([] if clause is None else [clause])))
    with engine.connect() as conn:
        sent, answered = conn.execute(stmt).one()
    return int(sent), int(answered)


def choice_counts(engine: Engine, survey_id: int, scope: Scope, *, by: str | None = None) -> pd.DataFrame:
    """Per choice and rating question, the count of each value (and of each `by` group:
    category_code or district_code), in SQL; every option appears, chosen or not."""
    group = [survey_response.c[by]] if by else []
    stmt = (select(survey_answer.c.question_id, survey_answer.c.value, *group, func.count().label("n"))
            .join(survey_response, survey_response.c.id == survey_answer.c.response_id)
            .join(survey_question, survey_question.c.id == survey_answer.c.question_id)
            .where(survey_response.c.survey_id == survey_id, survey_question.c.kind != "text", *_scoped(scope))
            .group_by(survey_answer.c.question_id, survey_answer.c.value, *group))
    with engine.connect() as conn:
        found = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=["question_id", "value", *([by] if by else []), "n"])
    if by:
        return found
    rows = []
    for q in questions_of(engine, survey_id):
        if q.kind == "text":
            continue
        counts = dict(zip(found.loc[found["question_id"] == q.id, "value"], found.loc[found["question_id"] == q.id, "n"]))
        for value in (q.options if q.options else RATINGS):
            rows.append(dict(question_id=q.id, value=value, n=int(counts.get(value, 0))))
    return pd.DataFrame(rows, columns=["question_id", "value", "n"])


def crosstab(engine: Engine, survey_id: int, question: Question, by: str, scope: Scope, lang: str = "zh") -> pd.DataFrame:
    """Counts of each choice (columns, in the question's order) by category or district (rows, by name)."""
    found = choice_counts(engine, survey_id, scope, by=by)
    found = found[found["question_id"] == question.id]
    names_table, key = (category, category.c.code) if by == "category_code" else (region, region.c.code)
    with engine.connect() as conn:
        names = dict(conn.execute(select(key, names_table.c.name_en if lang == "en" else names_table.c.name_zh)).all())
    if found.empty:
        return pd.DataFrame()
    found = found.assign(group=[names.get(k) or k or "—" for k in found[by]])
    table = found.pivot_table(index="group", columns="value", values="n", aggfunc="sum", fill_value=0)
    order = [v for v in (question.options or RATINGS) if v in table.columns]
    return table[order]


def text_answers(engine: Engine, survey_id: int, scope: Scope, *, limit: int = 500) -> pd.DataFrame:
    stmt = (select(survey_answer.c.question_id, survey_answer.c.value)
            .join(survey_response, survey_response.c.id == survey_answer.c.response_id)
            .join(survey_question, survey_question.c.id == survey_answer.c.question_id)
            .where(survey_response.c.survey_id == survey_id, survey_question.c.kind == "text", *_scoped(scope))
            .order_by(survey_answer.c.id).limit(limit))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=["question_id", "value"])


def export(engine: Engine, survey_id: int, scope: Scope) -> bytes:
    """An Excel workbook: one row per response (name only when the survey is not anonymous), one column a question."""
    from openpyxl import Workbook

    questions = questions_of(engine, survey_id)
    stmt = (select(survey_response.c.id, survey_response.c.submitted_at, survey_response.c.category_code,
                   survey_response.c.district_code, person.c.name, survey_answer.c.question_id, survey_answer.c.value)
            .join(survey_answer, survey_answer.c.response_id == survey_response.c.id)
            .outerjoin(person, person.c.id == survey_response.c.person_id)
            .where(survey_response.c.survey_id == survey_id, *_scoped(scope))
            .order_by(survey_response.c.id, survey_answer.c.id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    responses: dict[int, dict] = {}
    for r in rows:
        entry = responses.setdefault(r.id, {"at": r.submitted_at, "category": r.category_code,
                                            "district": r.district_code, "name": r.name or "", "answers": {}})
        entry["answers"].setdefault(r.question_id, []).append(r.value)
    book = Workbook()
    sheet = book.active
    sheet.title = "responses"
    sheet.append(["提交时间 · submitted", "姓名 · name", "类别 · category", "区县 · district",
                  *(neutralise(f"{n}. {q.prompt}") for n, q in enumerate(questions, 1))])
    for entry in responses.values():
        cells = ["；".join(entry["answers"].get(q.id, [])) for q in questions]
        sheet.append([neutralise(v) for v in (entry["at"], entry["name"], entry["category"], entry["district"], *cells)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

