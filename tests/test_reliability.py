"""Staying up: the database stopping mid-session gives a clear message, and the app recovers."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from tcp_proxy import TcpProxy
from ui.cache import data_changed

pytestmark = pytest.mark.postgresql


@pytest.fixture
def proxied_pg_url(store_url_factory):
    url = store_url_factory("postgresql")
    parsed = make_url(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    yield proxy, parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.cut()


def messages(at) -> str:
    return " ".join(e.value for e in at.error)


def test_database_outage_shows_message_and_recovers(proxied_pg_url, make_app):
    proxy, url = proxied_pg_url
    # A fresh AppTest per visit: a first run always goes through app.py.
    at = make_app(url).run()
    assert not at.exception and not at.error

    proxy.cut()
    data_changed()  # as if the version check's time-to-live had run out
    at = make_app(url).run()
    assert not at.exception, "a traceback reached the screen"
    assert "数据库暂时无法连接" in messages(at)

    proxy.restore()
    at = make_app(url).run()
    assert not at.exception and not at.error
    assert "PostgreSQL" in " ".join(c.value for c in at.sidebar.caption)
