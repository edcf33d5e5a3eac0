"""The door's HTML routes (ui/checkin_web.py) over HTTP: a steward's session scans, repeats show red with who and
when, name search, retried POSTs count once, strangers and other activities are refused."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import accounts
from store import activities as act
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from tests.test_checkin import approved_participants
from tests.test_online_activities import STAFF, a_plan

ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def door(tmp_path, monkeypatch):
    """A store with one activity (two approved sign-ups), a steward signed in, and the door's routes."""
    url = f"sqlite:///{tmp_path / 'door.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    aid, ids = approved_participants(engine)
    other, _ = approved_participants(engine)
    acc = accounts.create_account(engine, "door1", "door-pass-2026", "steward", actor="test")
    act.assign_steward(engine, "door1", aid, actor=STAFF)
    start = accounts.start_session(engine, acc.id, "password")
    cookie = accounts.redeem_handoff(engine, start.handoff, accounts.session_key(engine))
    from ui import checkin_web

    client = TestClient(Starlette(routes=checkin_web.routes("")))
    client.cookies.set("brain_session", cookie)
    yield dict(engine=engine, aid=aid, ids=ids, other=other, client=client)
    client.close()
    engine.dispose()


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def test_scan_then_repeat_in_red_with_who_and_when(door):
    client, aid, (first, _) = door["client"], door["aid"], door["ids"]
    token = act.pass_token(door["engine"], aid, first)
    page = client.get(f"/_brain/pass/{token}")
    assert page.status_code == 200 and "代表0" in page.text and "Check in" in page.text
    done = client.post(f"/_brain/door/{aid}", data={"scan": token, "nonce": nonce_of(page.text)}, headers=ORIGIN)
    assert done.status_code == 200 and 'class="ok"' in done.text
    retried = client.post(f"/_brain/door/{aid}", data={"scan": token, "nonce": nonce_of(page.text)}, headers=ORIGIN)
    assert retried.status_code == 200  # the same request again: counted once, still a success
    again = client.get(f"/_brain/pass/{token}")
    assert 'class="bad"' in again.text and "already checked in by door1 at" in again.text
    scanner = client.post(f"/_brain/door/{aid}", data={"scan": f"http://x/_brain/pass/{token}\n", "nonce": "usb1"},
                          headers=ORIGIN)
    assert scanner.status_code == 409 and "already checked in by door1" in scanner.text
    assert act.status_counts(door["engine"], aid)["checked_in"] == 1


def test_check_in_by_name(door):
    client, aid, (_, second) = door["client"], door["aid"], door["ids"]
    found = client.get(f"/_brain/door/{aid}", params={"q": "代表1"})
    assert "代表1" in found.text and "0001" in found.text and "13800000001" not in found.text
    form = re.search(r'name="person_id" value="(\d+)"><input type="hidden" name="nonce" value="([^"]+)"', found.text)
    done = client.post(f"/_brain/door/{aid}", data={"person_id": form.group(1), "nonce": form.group(2)},
                       headers=ORIGIN)
    assert 'class="ok"' in done.text and int(form.group(1)) == second


def test_refusals_say_why_and_reveal_nothing(door):
    client, aid, other = door["client"], door["aid"], door["other"]
    assert client.get(f"/_brain/door/{other}").status_code == 403  # not this steward's activity
    bad = client.post(f"/_brain/door/{aid}", data={"scan": "forged.1.1.1.AAAAAAAAAAAAAAAA", "nonce": "n"},
                      headers=ORIGIN)
    assert bad.status_code == 409 and "not valid" in bad.text
    assert client.post(f"/_brain/door/{aid}", data={"scan": "x"}, headers={"origin": "http://evil"}).status_code == 403
    client.cookies.clear()
    stranger = client.get(f"/_brain/door/{aid}")
    assert stranger.status_code == 403 and "sign in" in stranger.text
    assert "代表" not in stranger.text


def test_the_holder_sees_their_pass_with_its_qr_code(door):
    client, aid, (first, _) = door["client"], door["aid"], door["ids"]
    client.cookies.clear()
    token = act.pass_token(door["engine"], aid, first)
    page = client.get(f"/_brain/pass/{token}")
    assert page.status_code == 200 and "<svg" in page.text and "Check in" not in page.text
    # The token in the address goes to no other site; a POST from our own pages keeps its Origin.
    assert page.headers["referrer-policy"] == "same-origin" and page.headers["cache-control"] == "no-store"
    act.reissue_pass(door["engine"], aid, first, actor=STAFF)
    assert "replaced or revoked" in client.get(f"/_brain/pass/{token}").text


def test_the_public_sign_up_from_the_poster(door):
    client, aid = door["client"], door["aid"]
    client.cookies.clear()
    form = client.get(f"/_brain/signup/{aid}")
    assert form.status_code == 200 and "是否用餐" in form.text and "only if 是" in form.text
    bad = client.post(f"/_brain/signup/{aid}", data={"name": "新朋友", "mobile": "123", "q_meal": "否"},
                      headers=ORIGIN)
    assert bad.status_code == 422 and "mobile" in bad.text and 'value="新朋友"' in bad.text  # nothing typed is lost
    unanswered = client.post(f"/_brain/signup/{aid}", data={"name": "新朋友", "mobile": "13912345678"},
                             headers=ORIGIN)
    assert unanswered.status_code == 422 and "please answer" in unanswered.text
    done = client.post(f"/_brain/signup/{aid}", data={"name": "新朋友", "mobile": "13912345678", "q_meal": "否"},
                       headers=ORIGIN)
    assert done.status_code == 200 and "sign-up has arrived" in done.text
    assert act.status_counts(door["engine"], aid)["registered"] == 1
    invited = act.plan_activity(door["engine"], a_plan(), actor=STAFF)
    act.publish_activity(door["engine"], invited, actor=STAFF)
    assert client.get(f"/_brain/signup/{invited}").status_code == 404


def test_the_poster_is_for_staff(door, monkeypatch):
    client, aid = door["client"], door["aid"]
    assert client.get(f"/_brain/poster/{aid}").status_code == 403  # a steward
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "0")
    poster = client.get(f"/_brain/poster/{aid}")
    assert poster.status_code == 200 and "<svg" in poster.text and "scan to sign up" in poster.text


@pytest.mark.parametrize("revoke", ["disabled", "role changed", "password reset", "unassigned"])
def test_revocation_reaches_an_open_door_at_once(door, revoke):
    """Issue 19 item 5 for the door: the steward's open session follows a revocation on its next request."""
    client, aid, (first, _) = door["client"], door["aid"], door["ids"]
    engine = door["engine"]
    assert client.get(f"/_brain/door/{aid}").status_code == 200
    {"disabled": lambda: accounts.set_disabled(engine, "door1", True, actor="admin"),
     "role changed": lambda: accounts.set_role(engine, "door1", "leader", actor="admin"),
     "password reset": lambda: accounts.set_password(engine, "door1", "another-pass-2026", actor="admin"),
     "unassigned": lambda: act.unassign_steward(engine, "door1", aid, actor=STAFF)}[revoke]()
    page = client.get(f"/_brain/door/{aid}")
    assert page.status_code == 403 and "代表0" not in page.text
    token = act.pass_token(engine, aid, first)
    scan = client.post(f"/_brain/door/{aid}", data={"scan": token, "nonce": "after"}, headers=ORIGIN)
    assert scan.status_code == 403
    assert act.status_counts(engine, aid).get("checked_in", 0) == 0
