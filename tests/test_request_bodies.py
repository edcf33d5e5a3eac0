"""No POST can take the server down (issue 19, item 2, for the routes beside Streamlit's pages).

Each route that reads a body is sent an endless one in chunks, with no Content-Length (as a
client streaming a huge upload would send it): the route answers 413 having read no more than
its limit and one chunk. Before, the sign-in cookie's, the door's and the poster's routes read
the whole body into memory, and the representatives' forms checked only a declared length.
"""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import reps
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.test_mobile import add, csrf
from ui import bodies, mobile

CHUNK = 64 * 1024
ENDLESS = 24 * 1024 * 1024  # more than any route's limit (a photo's is 5 MB)


def post_endlessly(app, path: str, cookie: str | None = None, content_type: str = "application/x-www-form-urlencoded"):
    """POST a body of ENDLESS bytes in chunks; (status, bytes the app asked for)."""
    sent = 0

    async def receive():
        nonlocal sent
        sent += CHUNK
        return {"type": "http.request", "body": b"a" * CHUNK, "more_body": sent < ENDLESS}

    answer = {}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]

    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"transfer-encoding", b"chunked"),
               (b"content-type", content_type.encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    run_apart(app(scope, receive, send))
    return answer["status"], sent


def run_apart(coroutine) -> None:
    """asyncio.run in a thread of its own: the browser tests' session-wide Playwright keeps an
    event loop running in the main thread, where asyncio.run refuses to start another."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.fixture
def web_app(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    from ui.web import routes

    return Starlette(routes=routes(""))


@pytest.mark.parametrize("path", ["/_brain/session", "/_brain/door/1", "/_brain/signup/1"])
def test_staff_and_poster_routes_stop_reading_at_their_limit(web_app, path):
    status, read = post_endlessly(web_app, path)
    assert status == 413
    assert read <= bodies.SMALL_FORM_BYTES + CHUNK


def test_a_declared_length_over_the_limit_is_refused_unread(web_app):
    with TestClient(web_app) as client:
        answer = client.post("/_brain/signup/1", content=b"name=x", headers={
            "origin": "http://testserver", "content-length": str(bodies.SMALL_FORM_BYTES + 1)})
    assert answer.status_code == 413 and "too large" in answer.text


@pytest.fixture
def signed_in(sqlite_engine, monkeypatch):
    engine = sqlite_engine
    monkeypatch.setattr(mobile, "LIMITS", {name: mobile.RateLimit(limit.limit, limit.window)
                                           for name, limit in mobile.LIMITS.items()})
    app = Starlette(routes=mobile.routes("", lambda: engine))
    pid = add(engine)
    token = reps.issue_links(engine, [pid], actor="s")[0].token
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        page = client.get(f"/m/{token}")
        assert client.post(f"/m/{token}", data={"csrf": csrf(page.text), "digits": "5678"}).status_code == 303
        cookie = f"{mobile.SESSION_COOKIE}={client.cookies.get(mobile.SESSION_COOKIE)}"
        # A second link: its confirmation form is read before any session exists.
        other = reps.issue_links(engine, [add(engine, "李四", phone="13900001111")], actor="s")[0].token
        yield app, cookie, other


@pytest.mark.parametrize("path, limit", [("/m/edit", mobile.FORM_BYTES), ("/m/suggest", mobile.FORM_BYTES),
                                         ("/m/records", mobile.UPLOAD_BYTES), ("/m/out", mobile.FORM_BYTES)])
def test_representatives_forms_stop_reading_at_their_limit(signed_in, path, limit):
    app, cookie, _ = signed_in
    status, read = post_endlessly(app, path, cookie, "multipart/form-data; boundary=x")
    assert status == 413
    assert read <= limit + CHUNK


def test_the_links_confirmation_stops_reading_at_its_limit(signed_in):
    app, _, token = signed_in
    status, read = post_endlessly(app, f"/m/{token}")
    assert status == 413 and read <= mobile.FORM_BYTES + CHUNK


def test_forms_within_the_limit_still_work(signed_in):
    """The bytes read ahead are the ones the form parser then reads."""
    app, cookie, _ = signed_in
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.cookies.set(*cookie.split("=", 1))
        form = csrf(client.get("/m/suggest").text)
        sent = client.post("/m/suggest", data={"csrf": form, "kind": "suggestion", "title": "路灯", "body": "请修路灯"})
    assert sent.status_code == 303 and re.search(r"done=", sent.headers["location"])
