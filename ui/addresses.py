"""Whose address a request comes from, for limits per network address.

The socket's peer is the answer, unless it is one of the `trusted_proxies` (a setting:
addresses or networks, comma-separated; default none). Then X-Forwarded-For is read from
the right: every proxy appends the address it was reached from, so the right-most entry
that is not itself a trusted proxy is the client's. Entries to its left were written by
the client and are worth nothing. A peer nobody configured cannot move its requests to
another address by sending the header.

The server applies the same list to Uvicorn's own proxy handling (ui/serve.py), which
also decides the scheme (X-Forwarded-Proto, so cookies are Secure behind a TLS proxy):
both read one setting and agree.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from store.settings import get_setting

UNKNOWN = "-"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BadProxyList(ValueError):
    """An entry of `trusted_proxies` that is neither an address nor a network."""


@lru_cache(maxsize=16)
def parse_proxies(value: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.1, 192.168.0.0/24` as networks (an address is a network of one)."""
    out = []
    for item in (part.strip() for part in str(value or "").split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise BadProxyList(f"trusted_proxies: 「{item}」不是地址或网段 · is not an address or network") from None
    return tuple(out)


def _address(text: str) -> IPAddress | None:
    """An address as X-Forwarded-For writes it: bare, `1.2.3.4:5678` or `[::1]:80`; None when it is none."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client of an IPv6 socket arrives as ::ffff:a.b.c.d.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: IPAddress | None, proxies: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address.version == net.version and address in net for net in proxies)


def client_address(peer: str | None, forwarded_for: list[str], proxies: tuple[IPNetwork, ...]) -> str:
    """The address limits count a request under: the socket peer, or, when the peer is a trusted
    proxy, the right-most X-Forwarded-For entry that is not one (`forwarded_for`: the header's
    values, in order). When every entry is a trusted proxy, the left-most is the client. An
    entry that is no address is the client's as written (as Uvicorn takes it), cut to 64 characters."""
    if not peer:
        return UNKNOWN
    nearest = _address(peer)
    if not _trusted(nearest, proxies):
        return str(nearest) if nearest is not None else peer
    hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return hop.strip()[:64]
        if not _trusted(address, proxies):
            return str(address)
        nearest = address
    return str(nearest)


def request_address(request) -> str:
    """`client_address` of a Starlette request under the `trusted_proxies` setting."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"),
                          parse_proxies(get_setting("trusted_proxies")))
