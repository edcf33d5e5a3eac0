"""Cached access to the store: one engine per process, every query cached by data version.

A query is any store/ function `fn(engine, *args)`. Its result is cached by
(database URL, data version, function, arguments) and shared by all sessions, so
a refresh that finds no new data issues no query, and many screens watching the
cockpit cost the database what one does.

The data version itself is watched by one background thread per process, every
`version_check_seconds`, so that no page view asks for it: a view or a refresh
with unchanged data issues no SQL at all. A write made by this process marks
the version stale, and the next view asks at once. The same round trip reads the
accounts epoch, which open sessions compare with the one they were checked at
(ui/auth.py): a revocation reaches them within one interval, at no cost to a
refresh while nothing changes.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from store.analytic import ReadRouter
from store.engine import open_store
from store.settings import get_setting
from store.url import resolve_database_url
from store.accounts import session_key
from store.version import watched_versions

log = logging.getLogger("brain.cache")


def store_url() -> str:
    return resolve_database_url()


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    return open_store(url)


def get_engine() -> Engine:
    return _engine_for(store_url())


class VersionWatch:
    """The store's data version, kept current by a background thread.

    Other systems write into the store too, so the version is polled; the
    thread stops when nobody has asked for a while (and starts again on the
    next question), so forgotten stores are not polled for ever.
    """

    IDLE_ROUNDS = 30

    def __init__(self, url: str):
        self.url = url
        self.version: str | None = None
        self.epoch = ""
        self.stale = True
        self.asked_at = time.monotonic()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def current(self) -> tuple[str, str]:
        """(data version, accounts epoch); asks the store only when stale (first use, or after a write of ours)."""
        with self.lock:
            self.asked_at = time.monotonic()
            if self.stale or self.version is None:
                # An outage raises here, to the page.
                self.version, self.epoch = watched_versions(_engine_for(self.url))
                self.stale = False
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._poll, daemon=True, name="version-watch")
                self.thread.start()
            return self.version, self.epoch

    def mark_stale(self) -> None:
        with self.lock:
            self.stale = True

    def _poll(self) -> None:
        interval = get_setting("version_check_seconds")
        while time.monotonic() - self.asked_at < interval * self.IDLE_ROUNDS:
            time.sleep(interval)
            if _watch_for(self.url) is not self:
                return  # the cache was cleared and a new watch took over
            try:
                version, epoch = watched_versions(_engine_for(self.url))
            except Exception as exc:  # noqa: BLE001 - the store is away: keep serving what is cached
                # One line, not a traceback every interval while the store is down.
                log.warning("data version check failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc))
                continue
            with self.lock:
                if not self.stale:
                    self.version, self.epoch = version, epoch


@st.cache_resource(show_spinner=False)
def _watch_for(url: str) -> VersionWatch:
    return VersionWatch(url)


def _version_for(url: str) -> str:
    return _watch_for(url).current()[0]


def current_data_version() -> str:
    return _version_for(store_url())


def data_changed() -> None:
    """Call after this process wrote to the store: the next read sees the new version.

    The session that wrote reads its write from then on: a copy that lags behind
    the store answers it only once it holds the version the write made.
    """
    watch = _watch_for(store_url())
    watch.mark_stale()
    try:
        from store.analytic import version_counter

        st.session_state[OWN_WRITE] = version_counter(watch.current()[0])
    except Exception:  # noqa: BLE001 - outside a session, or the store away: the version check covers it
        pass


def accounts_epoch() -> str:
    """The accounts epoch as last watched (no SQL while it is current); it moves with every account change."""
    return _watch_for(store_url()).current()[1]


# A change to accounts made by this process is a write like any other: the next check sees it at once.
accounts_changed = data_changed


@st.cache_resource(show_spinner=False)
def _session_key_for(url: str) -> bytes:
    return session_key(_engine_for(url))


def cookie_key() -> bytes:
    """The store's key for signing session cookies, read once per process."""
    return _session_key_for(store_url())


@st.cache_resource(show_spinner=False)
def _router_for(url: str) -> ReadRouter:
    return ReadRouter(url)


def read_engine() -> Engine:
    """The engine to read aggregates from: the analytic copy when it is current, else the store."""
    url = store_url()
    return _copy_or_store(url, _version_for(url))


def _copy_or_store(url: str, version: str) -> Engine:
    return _router_for(url).engine_for(version, _engine_for(url), get_setting("analytic_copy"),
                                       wait=get_setting("analytic_wait_seconds"))


@st.cache_data(show_spinner=False, max_entries=5000)
def _cached_call(url: str, version: str, fn_path: str, args: tuple, kwargs: tuple) -> Any:
    module_name, qualname = fn_path.split(":")
    fn = getattr(importlib.import_module(module_name), qualname)
    store = _engine_for(url)
    engine = store if getattr(fn, "reads_beyond_copy", False) else _copy_or_store(url, version)
    if engine is not store:
        try:
            return fn(engine, *args, **dict(kwargs))
        except ProgrammingError as exc:
            if "Catalog Error" not in str(exc):
                raise
            # A query reading a table the copy does not hold (it should be marked reads_beyond_copy):
            # the store answers, and the log says which, once per version.
            log.warning("%s reads a table the analytic copy lacks; answered by the store", fn_path)
        except OperationalError as exc:
            if "does not exist" not in str(exc):
                raise
            # The copy was replaced by a newer one before this engine's new connection opened it.
            log.info("analytic copy replaced under %s; answered by the store", fn_path)
    return fn(store, *args, **dict(kwargs))


class Warmer:
    """Keeps the caches warm across data changes, so the next viewer never pays the cold cost.

    It remembers the most recent distinct calls (what screens and staff are
    actually looking at). When the data version moves, a background thread
    waits for the analytic copy to catch up, then asks those calls again under
    the new version.
    """

    KEEP = 300

    def __init__(self, url: str):
        self.url = url
        self.recent: OrderedDict[tuple, None] = OrderedDict()
        self.version: str | None = None
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def remember(self, call: tuple) -> None:
        with self.lock:
            self.recent[call] = None
            self.recent.move_to_end(call)
            while len(self.recent) > self.KEEP:
                self.recent.popitem(last=False)

    def saw_version(self, version: str) -> None:
        with self.lock:
            changed = self.version is not None and version != self.version
            self.version = version
            if not changed or (self.thread is not None and self.thread.is_alive()):
                return
            calls = list(self.recent)
            self.thread = threading.Thread(target=self._warm, args=(version, calls), daemon=True,
                                           name="cache-warmer")
        self.thread.start()

    def _warm(self, version: str, calls: list[tuple]) -> None:
        if get_setting("analytic_copy"):
            # A delta is in place within a second; a full build at a million persons takes about 40 s.
            _router_for(self.url).wait_for(version, timeout=300)
        for fn_path, args, kwargs in calls:
            if self.version != version:
                return  # newer data arrived; that change warms again
            try:
                _cached_call(self.url, version, fn_path, args, kwargs)
            except Exception:  # noqa: BLE001 - warming is best effort; the viewer's own call reports errors
                log.warning("cache warming failed for %s", fn_path, exc_info=True)


@st.cache_resource(show_spinner=False)
def _warmer_for(url: str) -> Warmer:
    return Warmer(url)


def query(fn: Callable, *args, **kwargs) -> Any:
    """Run store query `fn(engine, *args, **kwargs)` through the shared cache."""
    url = store_url()
    version = _version_for(url)
    call = (f"{fn.__module__}:{fn.__qualname__}", args, tuple(sorted(kwargs.items())))
    warmer = _warmer_for(url)
    warmer.saw_version(version)
    warmer.remember(call)
    return _cached_call(url, _answering_version(url, version, fn), *call)


def _answering_version(url: str, version: str, fn: Callable) -> str:
    """The version a query is answered at: the store's, or the newest copy's while it is a few seconds behind.

    While data streams in, the copy is nearly always a delta behind; a page that
    insisted on the store's version would wait for it or read the base tables.
    A copy at most `analytic_lag_seconds` behind answers instead — exactly as of
    its own version, never older than this session's own last write.
    """
    lag = get_setting("analytic_lag_seconds")
    if lag <= 0 or not get_setting("analytic_copy") or getattr(fn, "reads_beyond_copy", False):
        return version
    return _router_for(url).recent_version(version, lag, _own_write_counter()) or version


OWN_WRITE = "_brain_own_write_counter"


def _own_write_counter() -> int:
    try:
        return int(st.session_state.get(OWN_WRITE, 0))
    except Exception:  # noqa: BLE001 - outside a session (a background thread): no own writes
        return 0


def no_persons_yet(scope) -> bool:
    """True, after saying so on the page, when the viewer's scope holds no persons at all."""
    from store.queries.common import store_summary
    from ui.i18n import t

    if query(store_summary, scope).persons == 0:
        st.info(t("empty.no_persons"))
        return True
    return False
