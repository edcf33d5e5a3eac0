"""The read-only JSON API: keys (scope, expiry, revocation), masking, keyset paging under writes, audit, errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import api_keys, clock
from store import changes as ch
from store.cli import main as store_cli
from store.schema import api_key, audit_log
from ui.api import api_routes

WEST, UPTOWN = "330106", "330102"


@pytest.fixture
def settled(monkeypatch):
    # Rows written within the test are listed at once.
    monkeypatch.setenv("BRAIN_API_SETTLE_SECONDS", "0")


def client(engine, limiter=None) -> TestClient:
    return TestClient(Starlette(routes=api_routes("", lambda: engine, limiter)))


def add_persons(engine, n: int, district: str = WEST, prefix: str = "人员") -> list[int]:
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        return [cs.add_person(dict(name=f"{prefix}{i}", category_code="non_party", district_code=district,
                                   id_number=None, phone=f"1381234{i:04d}", birth_date=dt.date(1975, 3, 12)))
                for i in range(n)]


def key(engine, access="masked", districts=(), days=30) -> str:
    return api_keys.create_api_key(engine, "区人大信息系统", access, days=days, districts=districts)[1]


def get(c, path, secret, **params):
    return c.get(path, params=params, headers={"Authorization": f"Bearer {secret}"} if secret else {})


def test_no_valid_key_is_401_json(engine, settled):
    c = client(engine)
    for secret in (None, "ufb_nonsense", "not-even-a-key"):
        r = get(c, "/api/v1/persons", secret)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert " · " in r.json()["error"]["message"] and r.headers["www-authenticate"] == "Bearer"


def test_expired_and_revoked_keys_are_refused(engine, settled):
    c = client(engine)
    expired, revoked = key(engine), key(engine)
    assert get(c, "/api/v1/persons", expired).status_code == 200
    with engine.begin() as conn:
        conn.execute(update(api_key).where(api_key.c.key_sha256 == api_keys.key_hash(expired))
                     .values(expires_at=clock.now() - dt.timedelta(seconds=1)))
    [revoked_row] = [k for k in api_keys.list_api_keys(engine) if k.prefix == revoked[:12]]
    api_keys.revoke_api_key(engine, revoked_row.id, "admin")
    assert get(c, "/api/v1/persons", expired).status_code == 401
    assert get(c, "/api/v1/persons", revoked).status_code == 401
    with pytest.raises(api_keys.ApiKeyError):
        api_keys.revoke_api_key(engine, revoked_row.id, "admin")


def test_only_a_hash_is_stored(engine):
    secret = key(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(api_key)).one()
    assert secret not in json.dumps([str(v) for v in stored]) and stored.key_sha256 == api_keys.key_hash(secret)


def test_masked_unless_the_key_allows_and_scoped_to_districts(engine, settled):
    add_persons(engine, 2, WEST)
    add_persons(engine, 1, UPTOWN, prefix="东")
    c = client(engine)
    masked = get(c, "/api/v1/persons", key(engine)).json()["data"]
    assert len(masked) == 3
    assert all("****" in p["phone"] and "birth_date" not in p and p["birth_year"] == 1975 for p in masked)
    full = get(c, "/api/v1/persons", key(engine, "personal")).json()["data"]
    assert full[0]["phone"].isdigit() and full[0]["birth_date"] == "1975-03-12"
    west = get(c, "/api/v1/persons", key(engine, districts=(WEST,))).json()["data"]
    assert {p["district_code"] for p in west} == {WEST} and len(west) == 2


def test_paging_is_stable_under_concurrent_writes(engine, settled):
    ids = add_persons(engine, 7)
    c = client(engine)
    secret = key(engine)
    seen, cursor, pages = [], None, 0
    while True:
        r = get(c, "/api/v1/persons", secret, limit=3, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200
        body = r.json()
        seen += [p["id"] for p in body["data"]]
        cursor = body["next_cursor"]
        pages += 1
        if pages == 1:
            # Meanwhile: a person already read and one not yet read change, and a new one comes.
            with ch.change_set_of(engine, "staff", "clerk") as cs:
                cs.edit_person(ids[0], {"position": "主委"})
                cs.edit_person(ids[5], {"position": "委员"})
            extra = add_persons(engine, 1, prefix="新")
        if not body["has_more"]:
            break
    # Every row once in its place, the changed ones again after (ids[5] not twice: it moved before it was read).
    assert sorted(set(seen)) == sorted(ids + extra)
    assert seen.count(ids[0]) == 2 and seen.count(ids[5]) == 1 and len(seen) == len(ids) + 2
    # Asking again with the last cursor: nothing new.
    again = get(c, "/api/v1/persons", secret, cursor=cursor).json()
    assert again["data"] == [] and again["next_cursor"] == cursor and not again["has_more"]


def test_since_filters_and_appointments_come_from_the_change_log(engine, settled):
    [pid] = add_persons(engine, 1)
    [other] = add_persons(engine, 1, UPTOWN, prefix="东")
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        post = int(cs.insert("appointment", dict(person_id=pid, body="npc", title="代表",
                                                 term_start=dt.date(2023, 1, 1), term_end=dt.date(2027, 12, 31))))
        cs.insert("appointment", dict(person_id=other, body="cppcc", title="委员"))
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        cs.update("appointment", post, {"title": "常委"})
        cs.delete("appointment", post)
    c = client(engine)
    body = get(c, "/api/v1/appointments", key(engine, districts=(WEST,))).json()
    assert body["data"] == [{"id": post, "deleted": True}]
    everything = get(c, "/api/v1/appointments", key(engine)).json()["data"]
    assert [a.get("body") for a in everything] == [None, "cppcc"]
    future = (clock.now() + dt.timedelta(hours=1)).isoformat()
    assert get(c, "/api/v1/persons", key(engine), since=future).json()["data"] == []
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        aid = int(cs.insert("activity", dict(title="培训", kind="training", starts_at=clock.now(), online=False,
                                             district_code=UPTOWN)))
    assert get(c, "/api/v1/activities", key(engine, districts=(WEST,))).json()["data"] == []
    assert [a["id"] for a in get(c, "/api/v1/activities", key(engine)).json()["data"]] == [aid]


@pytest.mark.parametrize("params, code", [({"since": "yesterday"}, "bad_since"), ({"limit": "0"}, "bad_limit"),
                                          ({"limit": "x"}, "bad_limit"), ({"cursor": "%%%"}, "bad_cursor"),
                                          ({"cursor": "eyJrIjoiYXAiLCJjIjoxfQ"}, "bad_cursor")])
def test_bad_parameters_are_400_json(engine, settled, params, code):
    r = get(client(engine), "/api/v1/persons", key(engine), **params)
    assert r.status_code == 400 and r.json()["error"]["code"] == code


def test_rate_limited_per_key(engine, settled):
    now = [0.0]
    c = client(engine, api_keys.RateLimiter(3, clock_fn=lambda: now[0]))
    a, b = key(engine), key(engine)
    assert [get(c, "/api/v1/persons", a).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert get(c, "/api/v1/persons", b).status_code == 200
    limited = get(c, "/api/v1/persons", a)
    assert limited.json()["error"]["code"] == "rate_limited" and limited.headers["retry-after"] == "60"
    now[0] = 61.0
    assert get(c, "/api/v1/persons", a).status_code == 200


def test_requests_and_keys_are_audited(engine, settled):
    add_persons(engine, 2)
    get(client(engine), "/api/v1/persons", key(engine))
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
                            .where(audit_log.c.action.in_(["api_read", "api_key_create"]))).all()
    reads = [json.loads(r.detail) for r in rows if r.action == "api_read"]
    assert reads == [{"access": "masked", "cursor": False, "key": reads[0]["key"], "resource": "persons", "rows": 2,
                      "since": "1970-01-01T00:00:00"}]
    assert rows[-1].actor == "api:区人大信息系统" and any(r.action == "api_key_create" for r in rows)


def test_cli_creates_lists_and_revokes(store_url, capsys):
    assert store_cli(["--db", store_url, "api-key", "create", "--name", "政协系统", "--access", "personal",
                      "--days", "10", "--districts", "330106"]) == 0
    out = capsys.readouterr().out
    assert "ufb_" in out and "330106" in out
    assert store_cli(["--db", store_url, "api-key", "list"]) == 0
    assert "政协系统" in capsys.readouterr().out
    assert store_cli(["--db", store_url, "api-key", "revoke", "1"]) == 0
    assert store_cli(["--db", store_url, "api-key", "revoke", "1"]) == 1
    assert store_cli(["--db", store_url, "api-key", "create", "--name", "x", "--days", "0"]) == 1


@pytest.mark.slow
def test_the_app_process_answers_the_api(store_url_factory):
    """The real server (server.py): the API's routes answer beside Streamlit's on the same port."""
    import urllib.error
    import urllib.request

    from browser_support import streamlit_server
    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head

    url = store_url_factory("sqlite")
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    add_persons(engine, 2)
    secret = key(engine)
    engine.dispose()
    with streamlit_server(url, env={"BRAIN_API_SETTLE_SECONDS": "0"}) as base:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/v1/persons", timeout=30)
        assert refused.value.code == 401 and json.loads(refused.value.read())["error"]["code"] == "unauthorized"
        request = urllib.request.Request(f"{base}/api/v1/persons?limit=1", headers={"X-API-Key": secret})
        with urllib.request.urlopen(request, timeout=30) as resp:
            body = json.loads(resp.read())
    assert len(body["data"]) == 1 and body["has_more"] and "****" in body["data"][0]["phone"]
