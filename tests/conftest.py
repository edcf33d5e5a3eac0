"""Shared fixtures: a fresh migrated store per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL tests run when TEST_DATABASE_URL is set; each test gets its own schema
(through search_path), so tests never see each other's rows.
"""

from __future__ import annotations

import os
from datetime import date
from contextlib import contextmanager
from pathlib import Path
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.url import normalise_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

# The suite never reads the calendar: the project's clock is pinned for every test,
# the Streamlit servers the browser tests start included. A run may pin another day
# (`BRAIN_TODAY=2028-02-29 make test`); DATES are the days the date-sensitive tests
# are proven at within one run (a month end, a year's turn, a leap day).
PINNED_TODAY = os.environ.setdefault("BRAIN_TODAY", "2026-12-05")
# The copy's maintainers the suite's stores start leave soon after their store goes quiet,
# and pages answer from the store at once rather than wait for a copy (no test depends on timing).
os.environ.setdefault("BRAIN_ANALYTIC_IDLE_SECONDS", "20")
os.environ.setdefault("BRAIN_ANALYTIC_WAIT_SECONDS", "0")
DATES = ["2026-12-05", "2026-12-31", "2027-01-01", "2028-02-29"]
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def _sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def _postgres_schema_url(schema: str) -> str:
    base = normalise_url(TEST_DATABASE_URL)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def _run_admin(*statements: str) -> None:
    admin = create_engine(normalise_url(TEST_DATABASE_URL))
    with admin.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


def new_store_url(backend: str, sqlite_folder: Path) -> str:
    """URL of a fresh, empty database: a file in `sqlite_folder`, or a new PostgreSQL schema."""
    if backend == "sqlite":
        return _sqlite_url(sqlite_folder)
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests skipped")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _run_admin(f'CREATE SCHEMA "{schema}"')
    return _postgres_schema_url(schema)


def drop_store(url: str) -> None:
    """Remove a store made by new_store_url (SQLite files go with their temporary folder)."""
    if url.startswith("sqlite"):
        return
    schema = url.rsplit("search_path%3D", 1)[-1]
    _run_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def module_store(backend: str, tmp_path_factory, name: str = "store"):
    """A fresh migrated store that outlives one test (for modules whose tests only read); yields its URL."""
    url = new_store_url(backend, tmp_path_factory.mktemp(name))
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    engine.dispose()
    try:
        yield url
    finally:
        drop_store(url)


@pytest.fixture
def store_url_factory(tmp_path):
    """Returns a function backend -> URL of a fresh, empty database for that backend."""
    created: list[str] = []

    def make(backend: str) -> str:
        url = new_store_url(backend, tmp_path / uuid.uuid4().hex[:8])
        created.append(url)
        return url

    yield make

    for url in created:
        drop_store(url)


@pytest.fixture(scope="session", autouse=True)
def quiet_version_watches():
    """Version watches outlive their tests by a few minutes; their stores are gone by then."""
    import logging

    yield
    logging.getLogger("brain.cache").disabled = True
    logging.getLogger("brain.store").disabled = True


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_url(store_url_factory, backend) -> str:
    """URL of a fresh, migrated store on each backend (SQLite always, PostgreSQL when set)."""
    url = store_url_factory(backend)
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(store_url):
    eng = create_store_engine(store_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory):
    """Returns a function (persons, seed) -> URL of a migrated SQLite demo store, built once a session.

    For tests that read a realistic store; a test that writes adds only rows of its own.
    """
    made: dict[tuple[int, int, date], str] = {}

    def make(persons: int = 2000, seed: int = 11) -> str:
        from store import clock

        key = (persons, seed, clock.today())
        if key not in made:
            from loaders.demo import generate_demo

            url = f"sqlite:///{tmp_path_factory.mktemp(f'demo{persons}_{seed}') / 'demo.db'}"
            engine = create_store_engine(url, create=True)
            upgrade_to_head(engine)
            generate_demo(engine, persons=persons, seed=seed)
            engine.dispose()
            made[key] = url
        return made[key]

    return make


@pytest.fixture
def sqlite_engine(tmp_path):
    """A fresh migrated SQLite store only: for tests where the backend does not matter."""
    eng = create_store_engine(_sqlite_url(tmp_path), create=True)
    upgrade_to_head(eng)
    yield eng
    eng.dispose()


APP_PATH = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def make_app(monkeypatch):
    """Returns a function url -> AppTest of the whole app (navigation included) on that store.

    Use `at.switch_page("pages/x.py").run()` after a first `at.run()` to reach a page.
    """
    from streamlit.testing.v1 import AppTest

    def make(url: str, **query_params) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "0")
        # No background copy processes from page tests; tests of the copy turn it on themselves.
        monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "0")
        at = AppTest.from_file(APP_PATH, default_timeout=120)
        for key, value in query_params.items():
            at.query_params[key] = value
        return at

    return make


@pytest.fixture
def open_page(make_app):
    """Returns a function (url, page name, **query params) -> AppTest that has run that page without
    an exception (the page name is its file in pages/, e.g. "explorer")."""

    def open_(url: str, name: str, **query_params):
        at = make_app(url, **query_params)
        at.run()
        at.switch_page(f"pages/{name}.py").run()
        assert not at.exception, at.exception
        return at

    return open_


@pytest.fixture
def signed_in_app(make_app, monkeypatch):
    """Returns a function (url, username, password, **query) -> AppTest of the app with sign-in
    required, signed in through the sign-in form (the account must exist)."""

    def make(url: str, username: str, password: str, **query_params):
        at = make_app(url, **query_params)
        monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
        at.run()
        at.text_input[0].input(username)
        at.text_input[1].input(password)
        at.button[0].click().run()
        return at

    return make


# ---- real browser (tests/browser_support.py) ----
# Defined here, once: a session fixture imported into several test modules would
# start one Playwright per module, and Playwright's sync API refuses to nest.


@pytest.fixture(scope="session")
def chromium():
    """One Debian chromium for the whole session, offline flags on."""
    from tests.browser_support import launch_chromium

    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def streamlit_app():
    """A function store URL -> base URL of a Streamlit server on it (stopped after the test)."""
    from tests.browser_support import streamlit_server

    stack: list = []

    def start(store_url: str, **env) -> str:
        cm = streamlit_server(store_url, env=env or None)
        stack.append(cm)
        return cm.__enter__()

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)
