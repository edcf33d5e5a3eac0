"""The app shell under AppTest: navigation, footer, language switch, every page runs."""

from __future__ import annotations

import pytest

PAGES = ["pages/cockpit.py", "pages/explorer.py", "pages/activities.py", "pages/lifecycle.py",
         "pages/data_health.py", "pages/data_import.py", "pages/reps.py", "pages/enterprises.py"]


@pytest.fixture
def app(sqlite_engine, make_app):
    return make_app(sqlite_engine.url.render_as_string(hide_password=False))


def test_shell_runs_and_shows_store_footer(app):
    app.run()
    assert not app.exception
    footer = " ".join(c.value for c in app.sidebar.caption)
    assert "SQLite" in footer and "人员总数：0" in footer


def test_english_by_query_parameter(app):
    app.query_params["lang"] = "en"
    app.run()
    assert not app.exception
    assert "Persons: 0" in " ".join(c.value for c in app.sidebar.caption)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_store(app, page):
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
