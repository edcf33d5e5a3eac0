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


def test_locust_stats_reads_the_summary_rows(tmp_path):
    """Both load benchmarks (door and representatives) read Locust's --csv summary through one reader."""
    from bench.door_load import locust_stats

    header = "Type,Name,Request Count,Failure Count,50%,95%,99%,Max Response Time\n"
    (tmp_path / "run_stats.csv").write_text(
        header + "POST,check-in,200,1,19,34,48,61\n,Aggregated,200,1,19,34,48,61\n", encoding="utf-8")
    stats = locust_stats(tmp_path / "run")
    assert stats["check-in"] == {"requests": 200, "failures": 1, "median_ms": 19.0, "p95_ms": 34.0,
                                 "p99_ms": 48.0, "max_ms": 61.0}
    assert set(stats) == {"check-in", "Aggregated"}
