"""The project's one clock, and the proof that the date-sensitive tests pass on any day.

The default run pins one day (conftest.PINNED_TODAY); here the tests marked `calendar`
run again, in a child pytest, at each other day of conftest.DATES: a month end, the
turn of a year and a leap day.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from store import clock
from tests.conftest import DATES, PINNED_TODAY

ROOT = Path(__file__).resolve().parent.parent
# Security timers (lockouts, token use) measure real durations; everything else asks the clock.
REAL_TIME_ALLOWED = {"store/clock.py", "store/accounts.py"}
CALENDAR_READS = re.compile(r"\b(?:date\.today|datetime\.now|datetime\.today|datetime\.utcnow)\(")


def test_the_clock_follows_the_pinned_day(monkeypatch):
    monkeypatch.setenv("BRAIN_TODAY", "2028-02-29")
    assert clock.today() == dt.date(2028, 2, 29)
    assert clock.now().date() == dt.date(2028, 2, 29)
    first, second = clock.now(), clock.now()
    assert first <= second  # the time of day still runs, so writes keep their order


def test_without_a_pin_the_clock_is_the_calendar(monkeypatch):
    class Calendar(dt.date):
        @classmethod
        def today(cls):
            return dt.date(2031, 5, 17)

    # The calendar itself is a stand-in: the test reads no real date.
    monkeypatch.setattr(clock, "dt", types.SimpleNamespace(date=Calendar, datetime=dt.datetime))
    monkeypatch.setenv("BRAIN_TODAY", "")
    assert clock.today() == dt.date(2031, 5, 17)


def test_a_bad_pin_is_refused_in_both_languages(monkeypatch):
    monkeypatch.setenv("BRAIN_TODAY", "2027-02-30")
    with pytest.raises(clock.InvalidToday, match="不是日期.*not a date"):
        clock.today()


def test_the_suite_pins_the_day():
    assert os.environ["BRAIN_TODAY"] == PINNED_TODAY
    assert clock.today().isoformat() == PINNED_TODAY


def test_no_module_reads_the_calendar_itself():
    readers = []
    for folder in ("store", "loaders", "pages", "ui", "charts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in REAL_TIME_ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CALENDAR_READS.search(line):
                    readers.append(f"{rel}:{number}: {line.strip()}")
    assert not readers, "read store.clock instead:\n" + "\n".join(readers)


@pytest.mark.slow
@pytest.mark.parametrize("day", [d for d in DATES if d != PINNED_TODAY])
def test_date_sensitive_tests_pass_on(day):
    env = {**os.environ, "BRAIN_TODAY": day}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "calendar and not slow and not browser"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    tail = proc.stdout[-4000:]
    assert proc.returncode == 0, f"on {day}:\n{tail}"
    passed = re.search(r"(\d+) passed", tail)
    assert passed and int(passed.group(1)) > 50, f"on {day}, too few calendar tests ran:\n{tail}"
