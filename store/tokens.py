"""Signed, purpose-bound, versioned, expiring tokens: personal links, activity passes, steward links.

A token names its purpose, its subject (a person's id, a participation's id …), the
subject's link version and its last valid day, and carries an HMAC of all of that
under a key derived from the store's key and the purpose, so a token of one purpose
never verifies as another. It holds no personal data: only numbers.

Revocation is the caller's: it keeps the subject's current version (e.g. a column
`link_version`) and bumps it to invalidate every older token (re-issue, revoke,
withdraw). `verify` returns the claim; the caller compares `claim.version` with the
stored one.

    token = tokens.issue(engine, "profile", person_id, version=3, expires=date(2027, 1, 31))
    claim = tokens.verify(engine, token, "profile", today=clock.today())   # or TokenRefused

Tokens are short (about 40 characters): they go into SMS texts and QR codes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from store.schema import meta

EPOCH = dt.date(2020, 1, 1)
SIGNATURE_BYTES = 12  # 96 bits: forging one costs 2**96 tries, well past any rate limit
_SHAPE = re.compile(r"^[0-9a-z]{1,16}\.[0-9a-z]{1,13}\.[0-9a-z]{1,7}\.[0-9a-z]{1,5}\.[A-Za-z0-9_-]{16}$")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


class TokenRefused(ValueError):
    """A token that does not hold; `reason` is one of: malformed, forged, expired (message in Chinese and English)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(MESSAGES[reason])


MESSAGES = {
    "malformed": "链接不完整或已损坏，请向工作人员索取新链接 · this link is incomplete or damaged; ask the staff for a new one",
    "forged": "链接无效，请向工作人员索取新链接 · this link is not valid; ask the staff for a new one",
    "expired": "链接已过期，请向工作人员索取新链接 · this link has expired; ask the staff for a new one",
    "revoked": "链接已失效（已重新发放或撤销），请使用最新的链接 · this link was replaced or revoked; use the newest one",
}


@dataclass(frozen=True)
class Claim:
    purpose: str
    subject: int
    version: int
    expires: dt.date


def _b36(n: int) -> str:
    if n < 0:
        raise ValueError("token numbers are not negative")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def store_key(engine: Engine) -> bytes:
    """The store's token key: made on first use, kept in `meta`, shared by every process on the store."""
    return meta_key(engine, "token_key")


def meta_key(engine: Engine, name: str) -> bytes:
    """A 32-byte key kept in `meta` under `name`, made on first use (the first process to make it wins)."""
    with engine.connect() as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == name)).scalar()
    if value is None:
        try:
            with engine.begin() as conn:
                conn.execute(insert(meta).values(key=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process made it first: use theirs
        with engine.connect() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == name)).scalar_one()
    return bytes.fromhex(value)


def _signature(key: bytes, purpose: str, body: str) -> str:
    purpose_key = hmac.new(key, b"purpose:" + purpose.encode("ascii"), hashlib.sha256).digest()
    digest = hmac.new(purpose_key, body.encode("ascii"), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def mac(key: bytes, purpose: str, body: str) -> str:
    """The purpose-bound signature of any short ASCII `body` (a session cookie, a form's CSRF value)."""
    return _signature(key, purpose, body)


def sign(key: bytes, purpose: str, subject: int, version: int, expires: dt.date) -> str:
    """A token under `key` (see `issue` for the store's key)."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"a token purpose is a short lowercase word, not {purpose!r}")
    body = ".".join((purpose, _b36(int(subject)), _b36(int(version)), _b36((expires - EPOCH).days)))
    return f"{body}.{_signature(key, purpose, body)}"


def check(key: bytes, token: str, purpose: str, *, today: dt.date) -> Claim:
    """The token's claim when `key` signed it for `purpose` and it has not expired; else TokenRefused."""
    if not isinstance(token, str) or len(token) > 80 or not _SHAPE.fullmatch(token):
        raise TokenRefused("malformed")
    body, _, signature = token.rpartition(".")
    their_purpose, subject, version, day = body.split(".")
    # The signature is checked under the purpose asked for: another purpose's token is a forgery here.
    if their_purpose != purpose or not hmac.compare_digest(signature, _signature(key, purpose, body)):
        raise TokenRefused("forged")
    expires = EPOCH + dt.timedelta(days=int(day, 36))
    if today > expires:
        raise TokenRefused("expired")
    return Claim(purpose, int(subject, 36), int(version, 36), expires)


def issue(engine: Engine, purpose: str, subject: int, version: int, expires: dt.date) -> str:
    return sign(store_key(engine), purpose, subject, version, expires)


def verify(engine: Engine, token: str, purpose: str, *, today: dt.date) -> Claim:
    return check(store_key(engine), token, purpose, today=today)
