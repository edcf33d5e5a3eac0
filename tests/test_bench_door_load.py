"""The door benchmark's own parts: what it seeds (each phone's link and the last four digits it will type)."""

from __future__ import annotations

from bench import door_load
from store import activities as act
from store import reps


def test_the_seed_gives_each_phone_its_link_and_digits(sqlite_engine):
    fixture = door_load.seed(sqlite_engine, 3, 2, 4)
    assert len(fixture["people"]) == 3 and len(fixture["passes"]) == 2 and len(fixture["phones"]) == 4
    for token, digits in fixture["phones"]:
        claim = reps.open_link(sqlite_engine, token)
        assert reps.profile(sqlite_engine, claim.subject)["phone"][-4:] == digits
    plan = act.activity_plan(sqlite_engine, fixture["phone_activity"])
    assert (plan["state"], plan["audience"]) == ("published", "open")
    assert set(door_load.TARGETS) == {"sign-up", "phone sign-up", "phone pages", "check-in"}
