"""Surveys: create, send to a scoped audience, answer once (anonymously or not), results, cross-tabs and
export; every state change on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from store import changes as ch
from store import surveys as sv
from store.schema import survey, survey_recipient, survey_response
from store.scope import Scope

WEST, UPTOWN = "330106", "330102"
QUESTIONS = [sv.Question("single", "是否满意", ("满意", "一般", "不满意")),
             sv.Question("multiple", "关心的领域", ("教育", "医疗", "交通")),
             sv.Question("rating", "活动组织评分"),
             sv.Question("text", "其他意见")]


def add(engine, name, district=WEST, category="non_party") -> int:
    with ch.change_set_of(engine, "staff", "setup") as cs:
        return cs.add_person(dict(name=name, category_code=category, district_code=district, stage="discover"))


def make(engine, anonymous=False) -> tuple[int, list[sv.Question]]:
    sid = sv.create_survey(engine, "年度满意度调查", QUESTIONS, anonymous=anonymous, actor="s")
    return sid, sv.questions_of(engine, sid)


def status(engine, sid) -> str:
    with engine.connect() as conn:
        return conn.execute(select(survey.c.status).where(survey.c.id == sid)).scalar()


def test_draft_open_answered_closed(engine):
    a, b, up = add(engine, "甲"), add(engine, "乙"), add(engine, "上", UPTOWN)
    sid, qs = make(engine)
    assert status(engine, sid) == "draft" and sv.open_for(engine, a) == []
    assert sv.send_survey(engine, sid, [a, b, up], actor="w", scope=Scope(districts=(WEST,))) == 2
    assert sv.send_survey(engine, sid, [a, b], actor="w") == 0  # nobody twice
    assert status(engine, sid) == "open"
    assert [s["id"] for s in sv.open_for(engine, a)] == [sid] and sv.open_for(engine, up) == []
    single, multiple, rating, text = (q.id for q in qs)
    sv.answer(engine, sid, a, {single: "满意", multiple: ["教育", "交通"], rating: "4", text: "<script>x</script>"})
    assert sv.open_for(engine, a) == []
    with pytest.raises(ch.WriteRefused, match="already"):
        sv.answer(engine, sid, a, {single: "一般"})
    with pytest.raises(ch.WriteRefused, match="not sent"):
        sv.answer(engine, sid, up, {single: "一般"})
    assert sv.response_rate(engine, sid, Scope()) == (2, 1)
    counts = sv.choice_counts(engine, sid, Scope())
    got = {(r.question_id, r.value): r.n for r in counts.itertuples()}
    assert got[(single, "满意")] == 1 and got[(single, "不满意")] == 0 and got[(multiple, "交通")] == 1
    assert got[(rating, "4")] == 1 and got[(rating, "1")] == 0
    assert sv.text_answers(engine, sid, Scope())["value"].tolist() == ["<script>x</script>"]
    sv.close_survey(engine, sid, actor="s")
    assert status(engine, sid) == "closed" and sv.open_for(engine, b) == []
    with pytest.raises(ch.WriteRefused, match="closed"):
        sv.answer(engine, sid, b, {single: "一般"})
    with pytest.raises(ch.WriteRefused):
        sv.close_survey(engine, sid, actor="s")
    with pytest.raises(ch.WriteRefused):
        sv.send_survey(engine, sid, [a], actor="s")


def test_answers_are_checked(engine):
    a = add(engine, "甲")
    sid, qs = make(engine)
    sv.send_survey(engine, sid, [a], actor="s")
    single, multiple, rating, text = (q.id for q in qs)
    for bad in ({single: "别的"}, {single: ["满意", "一般"]}, {multiple: ["教育", "别的"]}, {rating: "6"},
                {rating: ["1", "2"]}, {text: "x" * 1001}, {}):
        with pytest.raises(ch.WriteRefused):
            sv.answer(engine, sid, a, bad)
    assert sv.response_rate(engine, sid, Scope()) == (1, 0)


def test_anonymous_responses_keep_no_person(engine):
    a = add(engine, "甲")
    b = add(engine, "乙", UPTOWN)
    sid, qs = make(engine, anonymous=True)
    sv.send_survey(engine, sid, [a, b], actor="s")
    sv.answer(engine, sid, a, {qs[0].id: "满意"})
    sv.answer(engine, sid, b, {qs[0].id: "一般"})
    with engine.connect() as conn:
        assert conn.execute(select(survey_response.c.person_id)).scalars().all() == [None, None]
        answered = conn.execute(select(survey_recipient.c.answered_at)).scalars().all()
        submitted = conn.execute(select(survey_response.c.submitted_at)).scalars().all()
    # Nothing but the day: a response cannot be matched to its recipient by the time.
    assert {t.time() for t in answered + submitted} == {dt.time()}
    by_district = sv.choice_counts(engine, sid, Scope(), by="district_code")
    assert {(r.district_code, r.value): r.n for r in by_district.itertuples()} == {(WEST, "满意"): 1, (UPTOWN, "一般"): 1}
    table = sv.crosstab(engine, sid, qs[0], "district_code", Scope())
    assert list(table.columns) == ["满意", "一般"] and table.loc["西湖区", "满意"] == 1 and table.loc["上城区", "满意"] == 0
    assert list(sv.crosstab(engine, sid, qs[0], "category_code", Scope()).index) == ["无党派人士"]
    assert sv.crosstab(engine, sid, qs[2], "category_code", Scope()).empty
    # A district's staff read their own district's responses only.
    west = sv.choice_counts(engine, sid, Scope(districts=(WEST,)))
    assert west.set_index(["question_id", "value"]).loc[(qs[0].id, "一般"), "n"] == 0
    book = load_workbook(io.BytesIO(sv.export(engine, sid, Scope())))
    rows = list(book.active.values)
    assert len(rows) == 3 and all(r[1] in ("", None) for r in rows[1:])


def test_export_names_respondents_of_a_named_survey_and_quotes_formulas(engine):
    a = add(engine, "甲")
    sid, qs = make(engine)
    sv.send_survey(engine, sid, [a], actor="s")
    sv.answer(engine, sid, a, {qs[3].id: "=HYPERLINK(\"http://x\")"})
    rows = list(load_workbook(io.BytesIO(sv.export(engine, sid, Scope()))).active.values)
    assert rows[1][1] == "甲" and rows[1][-1].startswith("'=")


def test_bad_surveys_are_refused(engine):
    with pytest.raises(ch.WriteRefused):
        sv.create_survey(engine, "", QUESTIONS, actor="s")
    with pytest.raises(ch.WriteRefused):
        sv.create_survey(engine, "t", [], actor="s")
    with pytest.raises(ch.WriteRefused):
        sv.create_survey(engine, "t", [sv.Question("single", "q", ("only",))], actor="s")
    with pytest.raises(ch.WriteRefused):
        sv.create_survey(engine, "t", [sv.Question("essay", "q")], actor="s")
    with pytest.raises(ch.WriteRefused, match="introduction"):
        sv.create_survey(engine, "t", [sv.Question("text", "q")], intro="x" * (sv.INTRO_LENGTH + 1), actor="s")
    with pytest.raises(ch.WriteRefused, match="6000"):
        sv.create_survey(engine, "t", [sv.Question("single", "问" * sv.PROMPT_LENGTH, ("是" * 60, "否" * 60))] * sv.MAX_QUESTIONS, actor="s")
