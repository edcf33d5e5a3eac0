"""Every page, answered from a current analytic copy, shows no error.

The page tests run with the copy off (no background processes); here it is on
and current, as in production once the maintainer has caught up. A query that
reads a table the copy does not hold must reach the store, not fail on screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from store import analytic
from store.version import data_version

PAGES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "pages").glob("*.py"))


@pytest.fixture(scope="module")
def store_with_copy(demo_sqlite):
    url = demo_sqlite(600, 17)
    engine = create_engine(url)
    base = analytic.copy_path_for(url)
    if analytic.copy_for(base, data_version(engine)) is None:
        analytic.build_copy(engine, base)
    engine.dispose()
    return url


@pytest.mark.parametrize("page", PAGES)
def test_page_on_the_copy_shows_no_error(store_with_copy, make_app, monkeypatch, page):
    at = make_app(store_with_copy)
    monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "1")
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    # The copy answered this page (it is current), and nothing on it failed.
    assert [e.value for e in at.error] == []
