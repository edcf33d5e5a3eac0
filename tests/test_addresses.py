"""The address a request is counted under (ui/addresses.py): the socket's peer, unless a configured
trusted proxy forwarded it; a header from anyone else is ignored. Then the representatives' limits
per address over HTTP, with a spoofing peer and behind a proxy."""

from __future__ import annotations

import os
import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import changes as ch
from store import reps
from ui import mobile
from ui.addresses import BadProxyList, client_address, parse_proxies

PROXIES = parse_proxies("10.0.0.1, 192.168.7.0/24, fd00::/8")


@pytest.mark.parametrize("peer,header,expected", [
    # No proxy configured in front: the peer, whatever the header says.
    ("203.0.113.9", ["1.1.1.1"], "203.0.113.9"),
    ("203.0.113.9", [], "203.0.113.9"),
    # A trusted proxy: the right-most entry that is not a proxy; what the client wrote left of it is ignored.
    ("10.0.0.1", ["6.6.6.6, 198.51.100.4"], "198.51.100.4"),
    ("10.0.0.1", ["6.6.6.6", "198.51.100.4"], "198.51.100.4"),  # the header twice: its values in order
    # Two proxies in a row (the outer one in the trusted network): still the client before them.
    ("10.0.0.1", ["6.6.6.6, 198.51.100.4, 192.168.7.20"], "198.51.100.4"),
    # Ports and brackets as some proxies write them.
    ("10.0.0.1", ["198.51.100.4:51234"], "198.51.100.4"),
    ("10.0.0.1", ["[2001:db8::5]:443"], "2001:db8::5"),
    ("fd00::1", ["2001:db8::7"], "2001:db8::7"),
    # An IPv4 proxy reached over an IPv6 socket.
    ("::ffff:10.0.0.1", ["198.51.100.4"], "198.51.100.4"),
    # A trusted proxy without the header is itself the client; so is a chain of proxies only.
    ("10.0.0.1", [], "10.0.0.1"),
    ("10.0.0.1", ["192.168.7.3, 192.168.7.20"], "192.168.7.3"),
    # A peer in no configured network, sending a proxy's address: still only itself.
    ("10.0.0.2", ["198.51.100.4"], "10.0.0.2"),
    (None, ["198.51.100.4"], "-"),
])
def test_the_address_counted(peer, header, expected):
    assert client_address(peer, header, PROXIES) == expected


def test_nobody_is_trusted_by_default():
    assert parse_proxies("") == ()
    assert client_address("127.0.0.1", ["198.51.100.4"], parse_proxies("")) == "127.0.0.1"


def test_a_bad_proxy_list_says_which_entry():
    with pytest.raises(BadProxyList, match="10.0.0.300"):
        parse_proxies("10.0.0.1, 10.0.0.300")


# ---- over HTTP: the representatives' limits per address

@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(mobile, "LIMITS", {name: mobile.RateLimit(limit.limit, limit.window)
                                           for name, limit in mobile.LIMITS.items()})


def link_of(engine) -> str:
    with ch.change_set_of(engine, "staff", "setup") as cs:
        pid = cs.add_person(dict(name="张三", category_code="non_party", district_code="330106",
                                 phone="13812345678", stage="discover"))
    return reps.issue_links(engine, [pid], actor="s")[0].token


def client_from(engine, peer: str) -> TestClient:
    return TestClient(Starlette(routes=mobile.routes("", lambda: engine)), base_url="http://testserver",
                      follow_redirects=False, client=(peer, 40000))


def answers(client, token: str, n: int, forwarded: str) -> list[int]:
    form = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/m/{token}").text).group(1)
    return [client.post(f"/m/{token}", data={"csrf": form, "digits": "0000"},
                        headers={"X-Forwarded-For": forwarded.format(i=i)}).status_code for i in range(n)]


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(engine, monkeypatch):
    monkeypatch.setenv("BRAIN_TRUSTED_PROXIES", "10.0.0.1")
    monkeypatch.setitem(mobile.LIMITS, "address_answers", mobile.RateLimit(2, 600))
    token = link_of(engine)
    # A new made-up address each time: all three answers still count against the one peer.
    with client_from(engine, "203.0.113.9") as client:
        assert answers(client, token, 3, "198.51.100.{i}") == [400, 400, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_count(engine, monkeypatch):
    monkeypatch.setenv("BRAIN_TRUSTED_PROXIES", "10.0.0.1")
    monkeypatch.setitem(mobile.LIMITS, "address_answers", mobile.RateLimit(2, 600))
    token = link_of(engine)
    with client_from(engine, "10.0.0.1") as client:
        # Two clients behind the proxy: two answers each. What a client writes left of its own
        # address (a new entry each time) does not give it more.
        assert answers(client, token, 2, "6.6.6.{i}, 198.51.100.4") == [400, 400]
        assert answers(client, token, 2, "198.51.100.5") == [400, 400]
        assert answers(client, token, 1, "7.7.7.{i}, 198.51.100.4") == [429]
        # The fifth wrong answer of the link locks it (the store's lock, apart from the limits).
        assert answers(client, token, 1, "198.51.100.6") == [403]


def test_the_server_gives_uvicorn_the_same_list(monkeypatch):
    """Uvicorn's own proxy handling (the client it reports, the scheme) trusts what the limits trust:
    by default nobody, not even loopback."""
    from ui.serve import trust_proxies

    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    monkeypatch.delenv("BRAIN_TRUSTED_PROXIES", raising=False)
    trust_proxies()
    assert os.environ["FORWARDED_ALLOW_IPS"] == ""
    monkeypatch.setenv("BRAIN_TRUSTED_PROXIES", "10.0.0.1, 192.168.7.0/24")
    trust_proxies()
    assert os.environ["FORWARDED_ALLOW_IPS"] == "10.0.0.1/32,192.168.7.0/24"
