"""Keys for the read-only JSON API: created by admins with an access level, a district scope and an expiry.

A key is 32 random bytes (URL-safe text) shown once; the store keeps its SHA-256 and first
characters only, so a leaked database opens nothing. A key is refused once revoked or past
its expiry. Each key may make `api_rate_per_minute` requests a minute in one process (a
sliding window); the API answers 429 beyond it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from store import clock
from store.audit import record
from store.schema import API_ACCESS, api_key
from store.scope import Scope

KEY_PREFIX = "ufb_"
LAST_USED_EVERY = dt.timedelta(minutes=1)
MAX_DAYS = 3660


class ApiKeyError(ValueError):
    """A key that cannot be created or revoked as asked; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    access: str
    scope: Scope
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @property
    def unmasked(self) -> bool:
        return self.access == "personal"


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _key(row) -> ApiKey:
    districts = tuple(d for d in (row.scope_districts or "").split(",") if d)
    return ApiKey(row.id, row.name, row.key_prefix, row.access, Scope(districts=districts), row.expires_at,
                  row.revoked_at, row.last_used_at)


def create_api_key(engine: Engine, name: str, access: str, *, days: int, districts: tuple[str, ...] = (),
                   created_by: str | None = "cli") -> tuple[ApiKey, str]:
    """A new key and its secret (shown once); audited."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ApiKeyError("请填写 1–64 个字的名称 · give the key a name of 1-64 characters")
    if access not in API_ACCESS:
        raise ApiKeyError(f"访问级别应为 {' 或 '.join(API_ACCESS)} · access must be one of {', '.join(API_ACCESS)}")
    if not 1 <= int(days) <= MAX_DAYS:
        raise ApiKeyError(f"有效天数应为 1–{MAX_DAYS} · days must be 1-{MAX_DAYS}")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with engine.begin() as conn:
        key_id = conn.execute(insert(api_key).values(
            name=name, key_sha256=key_hash(secret), key_prefix=secret[:12], access=access,
            scope_districts=",".join(districts), created_by=created_by, created_at=now,
            expires_at=now + dt.timedelta(days=int(days))).returning(api_key.c.id)).scalar_one()
        record(conn, created_by, "api_key_create", {"id": key_id, "name": name, "access": access,
                                                   "districts": list(districts), "days": int(days)}, at=now)
        row = conn.execute(select(api_key).where(api_key.c.id == key_id)).one()
    return _key(row), secret


def revoke_api_key(engine: Engine, key_id: int, revoked_by: str | None = "cli") -> None:
    with engine.begin() as conn:
        done = conn.execute(update(api_key).where(api_key.c.id == key_id, api_key.c.revoked_at.is_(None))
                            .values(revoked_at=clock.now()))
        if done.rowcount == 0:
            raise ApiKeyError(f"没有有效的 API 密钥 {key_id} · no active API key {key_id}")
        record(conn, revoked_by, "api_key_revoke", {"id": key_id})


def list_api_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as conn:
        return [_key(r) for r in conn.execute(select(api_key).order_by(api_key.c.id))]


def authenticate(engine: Engine, secret: str | None) -> ApiKey | None:
    """The key for `secret` when it is valid now (not revoked, not expired); None otherwise."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    now = clock.now()
    with engine.connect() as conn:
        row = conn.execute(select(api_key).where(api_key.c.key_sha256 == key_hash(secret))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        with engine.begin() as conn:
            conn.execute(update(api_key).where(api_key.c.id == row.id).values(last_used_at=now))
    return _key(row)


class RateLimiter:
    """At most `per_minute` requests per key in any 60 seconds, in this process."""

    def __init__(self, per_minute: int, clock_fn=time.monotonic):
        self.per_minute = per_minute
        self.clock = clock_fn
        self.seen: dict[int, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key_id: int) -> bool:
        now = self.clock()
        with self.lock:
            window = self.seen[key_id]
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.per_minute:
                return False
            window.append(now)
            return True
