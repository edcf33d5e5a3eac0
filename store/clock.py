"""The project's one clock: every "today" and "now" of pages, queries, loaders and the demo.

Production reads the real calendar. A deployment or a test pins the date with the
setting `today` (`BRAIN_TODAY=2027-01-01`): the date is pinned, the time of day
still runs, so timestamps written within one run keep their order.
"""

from __future__ import annotations

import datetime as dt

from store.settings import get_setting


class InvalidToday(ValueError):
    """The `today` setting is not an ISO date."""


def _pinned() -> dt.date | None:
    raw = str(get_setting("today") or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise InvalidToday(f"设置 today 不是日期 YYYY-MM-DD / setting `today` is not a date: {raw!r}") from exc


def pinned() -> dt.date | None:
    """The pinned date, or None when the clock is the calendar's (a screen's own clock shows it)."""
    return _pinned()


def today() -> dt.date:
    """The pinned date when the `today` setting is set, else the calendar's."""
    return _pinned() or dt.date.today()


def now() -> dt.datetime:
    """Now, on the pinned date when one is set (local time, naive, as the store keeps it)."""
    real = dt.datetime.now()
    pinned = _pinned()
    return real if pinned is None else dt.datetime.combine(pinned, real.time())
