"""Persons no longer followed (left, transferred, deceased): out of every headcount, still findable, undoable."""

from __future__ import annotations

import datetime as dt

import pytest

from store import changes as ch
from store import clock
from store.filters import PersonFilter
from store.queries import cockpit, common, explorer, health, lifecycle
from store.scope import EVERYTHING, Scope

# Reads the project's clock: tests/test_calendar.py runs it again at every day of conftest.DATES.
pytestmark = pytest.mark.calendar

WEST = "330106"


def add(cs, name, **extra):
    return cs.add_person(dict(name=name, category_code="non_party", district_code=WEST, **extra))


@pytest.fixture
def office(engine):
    """Three persons in 西湖区, one in 培养 with a post ending soon."""
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        ids = [add(cs, n) for n in ("张三", "李四", "王五")]
        cs.add_appointment(ids[2], dict(body="cppcc", title="政协委员", term_start=dt.date(2022, 1, 1),
                                        term_end=clock.today() + dt.timedelta(days=30)))
    return engine, ids


def counts(engine, scope=EVERYTHING):
    today = clock.today()
    return (common.store_summary(engine, scope).persons, cockpit.headline(engine, scope, today).persons,
            explorer.headcount(engine, scope, PersonFilter(), today).matched,
            int(cockpit.by_stage(engine, scope)["n"].sum()), int(health.completeness(engine, scope)["persons"].sum()),
            lifecycle.term_watch_page(engine, scope, today, "soon").total)


def test_a_person_no_longer_followed_leaves_every_headcount_and_stays_findable(office):
    engine, (zhang, li, wang) = office
    before = counts(engine)
    assert before == (3, 3, 3, 3, 3, 1)
    with ch.change_set_of(engine, "staff", "clerk", "已调往外省") as cs:
        cs.set_status(wang, "transferred", dt.date(2026, 11, 20))
    after = counts(engine)
    assert after == (2, 2, 2, 2, 2, 0)  # the post ending soon is no concern any more
    today = clock.today()
    assert explorer.headcount(engine, EVERYTHING, PersonFilter(followed="no"), today).matched == 1
    assert explorer.headcount(engine, EVERYTHING, PersonFilter(followed="any"), today).matched == 3
    page = explorer.person_page(engine, EVERYTHING, PersonFilter(followed="no"), "updated_at", True, 1, 20, "zh", today)
    assert list(page["name"]) == ["王五"]
    facts = explorer.person_profile(engine, EVERYTHING, wang, today=today).facts
    assert (facts["status"], facts["status_on"]) == ("transferred", dt.date(2026, 11, 20))
    history = ch.person_history(engine, wang)
    assert {"status", "status_on"} <= set(history["field"])
    ch.undo_change_set(engine, int(history["change_set_id"].iloc[0]), "clerk")
    assert counts(engine) == before


def test_a_scoped_count_leaves_them_out_too(office):
    engine, (zhang, li, wang) = office
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        cs.set_status(zhang, "deceased", dt.date(2026, 10, 1))
    west = Scope(districts=(WEST,))
    assert counts(engine, west)[:5] == (2, 2, 2, 2, 2)


def test_marking_needs_a_known_status_and_a_date(office):
    engine, (zhang, li, wang) = office
    with pytest.raises(ch.WriteRefused, match="日期"):
        with ch.change_set_of(engine, "staff", "clerk") as cs:
            cs.set_status(zhang, "left")
    with pytest.raises(ch.WriteRefused, match="未知"):
        with ch.change_set_of(engine, "staff", "clerk") as cs:
            cs.set_status(zhang, "gone", dt.date(2026, 1, 1))
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        cs.set_status(zhang, "left", dt.date(2026, 11, 1))
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        cs.set_status(zhang, "followed")  # followed again: the date goes with the old status
    assert counts(engine)[:5] == (3, 3, 3, 3, 3)
    assert explorer.person_profile(engine, EVERYTHING, zhang, today=clock.today()).facts["status_on"] is None


def test_a_link_keeps_the_choice_and_an_unknown_value_is_ignored():
    flt = PersonFilter(followed="no")
    assert PersonFilter.from_query_params(flt.to_query_params()) == flt
    parsed, ignored = PersonFilter.parse_query_params({"followed": "maybe"})
    assert parsed == PersonFilter() and ignored == ("followed",)
