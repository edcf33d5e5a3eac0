"""Sign-up from an open activity's poster: matched by the import's identity cascade, newcomers discovered,
everything waiting for review — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loaders.signup import PosterRefused, poster_sign_up
from store import activities as act
from store.changes import WriteRefused
from store.schema import change_set, person
from tests.test_online_activities import STAFF, a_plan, people


def open_activity(engine, **plan) -> int:
    aid = act.plan_activity(engine, a_plan(audience="open", needs_review=False, **plan), actor=STAFF)
    act.publish_activity(engine, aid, actor=STAFF)
    return aid


def test_a_known_person_is_found_by_name_and_mobile(engine):
    (pid,) = people(engine, 1)
    aid = open_activity(engine)
    got = poster_sign_up(engine, aid, " 代表0 ", "138-0000-0000", {"meal": "否"})
    assert (got.person_id, got.known, got.status) == (pid, True, "registered")  # the poster always waits


def test_a_newcomer_becomes_a_discovered_person_in_the_activitys_district(engine):
    aid = open_activity(engine, street="北山街道")
    got = poster_sign_up(engine, aid, "新朋友", "13912345678", {"meal": "否"})
    assert not got.known
    with engine.connect() as conn:
        row = conn.execute(select(person).where(person.c.id == got.person_id)).one()
        sources = conn.execute(select(change_set.c.source, change_set.c.actor)
                               .order_by(change_set.c.id.desc()).limit(2)).all()
    assert (row.stage, row.category_code, row.district_code, row.street, row.source, row.phone) == (
        "discover", "other", "330106", "北山街道", "活动海报报名", "13912345678")
    assert sources == [("self", "poster"), ("self", "poster")]
    with pytest.raises(act.ActivityRefused, match="already signed up"):
        poster_sign_up(engine, aid, "新朋友", "139 1234 5678", {"meal": "否"})


@pytest.mark.parametrize("name, mobile, answers, message", [
    ("张三", "12345", {"meal": "否"}, "mobile"),
    ("", "13912345678", {"meal": "否"}, "name"),
    ("张三", "13912345678", {}, "please answer"),
])
def test_bad_input_is_told_and_nobody_is_added(engine, name, mobile, answers, message):
    aid = open_activity(engine)
    with pytest.raises(WriteRefused, match=message):
        poster_sign_up(engine, aid, name, mobile, answers)
    with engine.connect() as conn:
        assert conn.execute(select(person.c.id)).first() is None


def test_an_invited_activity_takes_no_poster_sign_ups(engine):
    aid = act.plan_activity(engine, a_plan(), actor=STAFF)
    act.publish_activity(engine, aid, actor=STAFF)
    with pytest.raises(PosterRefused, match="invitation only"):
        poster_sign_up(engine, aid, "张三", "13912345678", {"meal": "否"})
