"""Passes and check-in: one check-in of twenty simultaneous scans, retries count once, passes that must not
hold, and stewards who see only their own activities — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from store import accounts, tokens
from store import activities as act
from store import clock
from store.schema import change_set, participation
from store.scope import Scope
from tests.test_online_activities import STAFF, a_plan, day, people

# Reads the project's clock: tests/test_calendar.py runs it again at every day of conftest.DATES.
pytestmark = pytest.mark.calendar

SCANS = 20


def approved_participants(engine, n: int = 2, **plan) -> tuple[int, list[int]]:
    ids = people(engine, n)
    aid = act.plan_activity(engine, a_plan(audience="open", needs_review=False, capacity=None, **plan), actor=STAFF)
    act.publish_activity(engine, aid, actor=STAFF)
    for pid in ids:
        act.sign_up(engine, aid, pid, {"meal": "否"})
    return aid, ids


def steward(engine, name: str, *activities: int) -> act.Door:
    acc = accounts.create_account(engine, name, "door-pass-2026", "steward", actor="test")
    for aid in activities:
        act.assign_steward(engine, name, aid, actor=STAFF)
    return act.Door(name, "steward", Scope(), acc.id)


def checkins(engine, aid) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(change_set).where(change_set.c.source == "checkin")).scalar()


def test_twenty_simultaneous_scans_of_one_pass_check_in_once(engine):
    aid, (pid, _) = approved_participants(engine)
    door = steward(engine, "door1", aid)
    token = act.pass_token(engine, aid, pid)
    barrier = threading.Barrier(SCANS)
    results: list[act.CheckIn] = []
    errors: list[BaseException] = []

    def scan(i: int) -> None:
        try:
            barrier.wait()
            results.append(act.check_in_pass(engine, aid, token, door=door, nonce=f"scan-{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(SCANS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["checked_in"] + ["repeat"] * (SCANS - 1)
    assert all(r.checked_in_by == "door1" for r in results)
    assert checkins(engine, aid) == 1


def test_a_retried_request_counts_once_and_a_repeat_says_who_and_when(engine):
    aid, (pid, _) = approved_participants(engine)
    door = steward(engine, "door1", aid)
    token = act.pass_token(engine, aid, pid)
    first = act.check_in_pass(engine, aid, token, door=door, nonce="abc")
    again = act.check_in_pass(engine, aid, token, door=door, nonce="abc")
    assert (first.outcome, again.outcome) == ("checked_in", "checked_in")
    assert again.checked_in_at == first.checked_in_at
    other = steward(engine, "door2", aid)
    repeat = act.check_in_pass(engine, aid, f"https://brain.example/_brain/pass/{token}", door=other, nonce="def")
    assert (repeat.outcome, repeat.checked_in_by) == ("repeat", "door1")
    assert repeat.checked_in_at is not None
    assert checkins(engine, aid) == 1


def test_a_multi_day_activity_checks_in_once_a_day(engine, monkeypatch):
    aid, (pid, _) = approved_participants(engine, ends_at=day(17, days=2))
    door = steward(engine, "door1", aid)
    assert act.check_in(engine, aid, pid, door=door, nonce="d1").outcome == "checked_in"
    assert act.check_in(engine, aid, pid, door=door, nonce="d1b").outcome == "repeat"
    tomorrow = clock.today() + dt.timedelta(days=1)
    monkeypatch.setattr(clock, "today", lambda: tomorrow)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.combine(tomorrow, dt.time(9)))
    assert act.check_in(engine, aid, pid, door=door, nonce="d2").outcome == "checked_in"
    assert checkins(engine, aid) == 2


def test_late_arrival_and_check_in_by_name(engine, monkeypatch):
    aid, (pid, _) = approved_participants(engine)
    door = steward(engine, "door1", aid)
    monkeypatch.setattr(clock, "now", lambda: day(16))  # the activity began at nine
    found = act.find_at_door(engine, aid, "代表0")
    assert found["person_id"].tolist() == [pid] and found["phone_tail"].tolist() == ["0000"]
    assert act.check_in(engine, aid, pid, door=door, nonce="n").outcome == "checked_in"


def test_passes_that_must_not_hold(engine, monkeypatch):
    aid, (pid, other) = approved_participants(engine)
    elsewhere, (stranger, _) = approved_participants(engine)
    door = steward(engine, "door1", aid)
    token = act.pass_token(engine, aid, pid)
    # forged: the signature of another body, or a changed subject
    body, _, sig = token.rpartition(".")
    forged = f"{body}.{'A' * len(sig)}"
    assert "not valid" in act.check_in_pass(engine, aid, forged, door=door, nonce="f").reason
    # another purpose's token for the same subject
    profile = tokens.issue(engine, "profile", act.pass_subject(aid, pid), 1, clock.today())
    assert "not valid" in act.check_in_pass(engine, aid, profile, door=door, nonce="p").reason
    # another activity's pass
    theirs = act.pass_token(engine, elsewhere, stranger)
    assert act.check_in_pass(engine, aid, theirs, door=door, nonce="o").reason == act.OTHER_ACTIVITY
    # re-issued: the old pass no longer holds, the new one does
    new = act.reissue_pass(engine, aid, pid, actor=STAFF)
    assert "replaced or revoked" in act.check_in_pass(engine, aid, token, door=door, nonce="r").reason
    # withdrawn and rejected: say so
    old_other = act.pass_token(engine, aid, other)
    act.withdraw(engine, aid, other)
    assert "replaced or revoked" in act.check_in_pass(engine, aid, old_other, door=door, nonce="w").reason
    assert "withdrawn" in act.check_in(engine, aid, other, door=door, nonce="w2").reason
    # garbage
    assert "incomplete" in act.check_in_pass(engine, aid, "hello", door=door, nonce="g").reason
    # expired: after the activity's last day
    monkeypatch.setattr(clock, "today", lambda: dt.date(2030, 1, 1))
    assert "expired" in act.check_in_pass(engine, aid, new, door=door, nonce="e").reason
    monkeypatch.undo()
    assert act.check_in_pass(engine, aid, new, door=door, nonce="ok").outcome == "checked_in"
    assert checkins(engine, aid) == 1


def test_a_steward_sees_and_scans_only_their_activities(engine):
    aid, (pid, _) = approved_participants(engine)
    elsewhere, (stranger, _) = approved_participants(engine)
    door = steward(engine, "door1", aid)
    assert act.door_activities(engine, door)["id"].tolist() == [aid]
    assert not act.may_check_in(engine, door, elsewhere)
    theirs = act.pass_token(engine, elsewhere, stranger)
    assert act.check_in_pass(engine, elsewhere, theirs, door=door, nonce="x").reason == act.NOT_HERE
    assert act.check_in(engine, elsewhere, stranger, door=door, nonce="y").reason == act.NOT_HERE
    # Other roles: a leader or a screen checks no one in; scoped staff only at their units' activities.
    assert act.door_activities(engine, act.Door("boss", "leader", Scope())).empty
    uptown = act.Door("li", "staff", Scope(districts=("330102",)))
    assert act.check_in(engine, aid, pid, door=uptown, nonce="z").reason == act.NOT_HERE
    with engine.connect() as conn:
        assert conn.execute(select(participation.c.status).where(
            participation.c.activity_id == elsewhere, participation.c.person_id == stranger)).scalar() == "approved"


def test_no_check_in_before_publication_or_after_cancellation(engine):
    aid, (pid, _) = approved_participants(engine)
    door = act.Door("s", "admin", Scope())
    act.cancel_activity(engine, aid, "场地维修", actor=STAFF)
    assert act.check_in(engine, aid, pid, door=door, nonce="c").outcome == "refused"


def test_simultaneous_sign_ups_never_overfill_an_activity(engine):
    ids = people(engine, 10)
    aid = act.plan_activity(engine, a_plan(audience="open", needs_review=False, capacity=3), actor=STAFF)
    act.publish_activity(engine, aid, actor=STAFF)
    barrier = threading.Barrier(len(ids))
    got: list[str] = []

    def join(pid: int) -> None:
        barrier.wait()
        got.append(act.sign_up(engine, aid, pid, {"meal": "否"}).status)

    threads = [threading.Thread(target=join, args=(pid,)) for pid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == ["approved"] * 3 + ["waitlisted"] * 7
