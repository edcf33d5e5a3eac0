"""Local accounts, sign-in with lockout, sign-in sessions, and revocable screen tokens. No Streamlit here.

Passwords are hashed with Argon2id (argon2-cffi). Screen tokens and session
tokens are long random strings; only their SHA-256 is stored. A session's cookie
carries its token signed with the store's session key, so a cookie that was not
issued here is refused before any lookup, and a session ends for good when it is
revoked (sign-out, disable, password reset) or idle. Every change to accounts,
sessions and tokens moves the accounts epoch (store/version.py), which open
sessions watch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, func, insert, select, update

from store.audit import record
from store.engine import writing
from store.schema import ROLES, account, account_session, screen_token
from store.scope import Scope
from store.version import bump_accounts_epoch

LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# The account table's username column: nothing longer can be an account, nor land in the audit log.
MAX_USERNAME_LENGTH = 64
# How long a signed-in page has to exchange its one-time handoff code for the session cookie.
HANDOFF = timedelta(seconds=60)
_hasher = PasswordHasher()
# Verifying against a real hash when the user is unknown keeps both paths equally slow.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message is bilingual."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    scope: Scope
    disabled: bool


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    # None on success; else one of: unknown, wrong_password, locked, disabled.
    failure: str | None = None
    locked_until: datetime | None = None


def _scope_from_row(row) -> Scope:
    districts = tuple(d for d in (row.scope_districts or "").split(",") if d)
    streets = tuple((d, s) for d, s in json.loads(row.scope_streets or "[]"))
    return Scope(districts=districts, streets=streets)


def _account_from_row(row) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name or row.username,
        role=row.role,
        scope=_scope_from_row(row),
        disabled=bool(row.disabled),
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"未知角色 {role!r}，可用：{', '.join(ROLES)} · unknown role {role!r}; allowed: {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"密码至少 {MIN_PASSWORD_LENGTH} 位 · the password needs at least {MIN_PASSWORD_LENGTH} characters"
        )


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def get_account(engine: Engine, username: str) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(select(account).where(account.c.username == username)).first()
    return _account_from_row(row) if row else None


def list_accounts(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        return [_account_from_row(r) for r in conn.execute(select(account).order_by(account.c.username))]


def count_accounts(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(account)).scalar_one())


def create_account(engine: Engine, username: str, password: str | None, role: str, *,
                   scope: Scope = Scope(), display_name: str | None = None, actor: str = "cli",
                   now: datetime | None = None) -> Account:
    """A new account; password None makes an account that signs in only through the identity provider."""
    _check_role(role)
    username = username.strip()
    if not username:
        raise AccountError("用户名不能为空 · the username is empty")
    if password is not None:
        _check_password(password)
    now = now or datetime.now()
    with writing(engine) as conn:  # reads, then writes: waits for a writer instead of failing at once
        if conn.execute(select(account.c.id).where(account.c.username == username)).first():
            raise AccountError(f"用户 {username} 已存在 · account {username} exists already")
        conn.execute(
            insert(account).values(
                username=username,
                display_name=display_name or username,
                password_hash=_hasher.hash(password) if password is not None else None,
                role=role,
                scope_districts=",".join(scope.districts),
                scope_streets=json.dumps([list(s) for s in scope.streets], ensure_ascii=False),
                created_at=now,
            )
        )
        record(conn, actor, "account_create", {"username": username, "role": role,
                                               "districts": list(scope.districts),
                                               "streets": [list(s) for s in scope.streets]}, at=now)
    return get_account(engine, username)


def _change(engine: Engine, username: str, values: dict, actor: str, action: str, detail: dict, *,
            end_sessions: str | None = None) -> Account:
    """Change an account; `end_sessions` (a reason) also revokes every open session of it.

    Either way the accounts epoch moves, so open sessions pick up a new role or scope too.
    """
    with engine.begin() as conn:
        result = conn.execute(update(account).where(account.c.username == username).values(**values))
        if result.rowcount == 0:
            raise AccountError(f"没有用户 {username} · no account {username}")
        if end_sessions:
            account_id = select(account.c.id).where(account.c.username == username).scalar_subquery()
            _revoke(conn, account_session.c.account_id == account_id, end_sessions, datetime.now())
        record(conn, actor, action, {"username": username, **detail})
        bump_accounts_epoch(conn)
    return get_account(engine, username)


def set_password(engine: Engine, username: str, password: str, actor: str = "cli") -> Account:
    """A new password; whoever was signed in with the old one is signed out."""
    _check_password(password)
    return _change(engine, username, {"password_hash": _hasher.hash(password), "failed_logins": 0,
                                      "locked_until": None}, actor, "account_password", {},
                   end_sessions="password")


def set_role(engine: Engine, username: str, role: str, actor: str = "cli") -> Account:
    _check_role(role)
    return _change(engine, username, {"role": role}, actor, "account_role", {"role": role})


def set_scope(engine: Engine, username: str, scope: Scope, actor: str = "cli") -> Account:
    values = {
        "scope_districts": ",".join(scope.districts),
        "scope_streets": json.dumps([list(s) for s in scope.streets], ensure_ascii=False),
    }
    detail = {"districts": list(scope.districts), "streets": [list(s) for s in scope.streets]}
    return _change(engine, username, values, actor, "account_scope", detail)


def set_disabled(engine: Engine, username: str, disabled: bool, actor: str = "cli") -> Account:
    action = "account_disable" if disabled else "account_enable"
    return _change(engine, username, {"disabled": disabled, "failed_logins": 0, "locked_until": None},
                   actor, action, {}, end_sessions="disabled" if disabled else None)


def _password_matches(stored_hash: str | None, password: str) -> bool:
    """The Argon2 check; against a dummy hash when there is none, so that every path costs the same."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password if stored_hash else password + "x") \
            and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def sign_in(engine: Engine, username: str, password: str, *, max_failures: int = 5,
            now: datetime | None = None) -> LoginResult:
    """Check a password; repeated failures lock the account for LOCKOUT. Every outcome is audited.

    The slow password check runs before any lock is taken. The outcome (failure count,
    lock, audit row) is then written in one short transaction that waits its turn behind
    any writer, an import included (SQLite: BEGIN IMMEDIATE, within the busy timeout;
    PostgreSQL: the account row locked FOR UPDATE), and decides on the account as it is by
    then: simultaneous attempts neither fail at once nor lose a count.

    The reason of a failure is for the audit log only: the sign-in form says the same
    for all of them, so nobody learns from it which usernames exist.
    """
    now = now or datetime.now()
    username = username.strip()
    with engine.connect() as conn:
        checked_hash = conn.execute(select(account.c.password_hash).where(account.c.username == username)).scalar()
    matches = _password_matches(checked_hash, password)
    with writing(engine) as conn:
        row = conn.execute(select(account).where(account.c.username == username).with_for_update()).first()
        if row is None or row.password_hash is None:
            record(conn, username, "login_failure", {"reason": "unknown"}, at=now)
            return LoginResult(None, "unknown")
        if row.disabled:
            record(conn, username, "login_failure", {"reason": "disabled"}, at=now)
            return LoginResult(None, "disabled")
        if row.locked_until and row.locked_until > now:
            record(conn, username, "login_failure", {"reason": "locked"}, at=now)
            return LoginResult(None, "locked", row.locked_until)
        if row.password_hash != checked_hash:  # reset or rehashed since the check: check again
            matches = _password_matches(row.password_hash, password)
        if not matches:
            failures = (row.failed_logins or 0) + 1
            locked_until = now + LOCKOUT if failures >= max_failures else None
            conn.execute(update(account).where(account.c.id == row.id).values(
                failed_logins=0 if locked_until else failures, locked_until=locked_until))
            record(conn, username, "login_failure",
                   {"reason": "wrong_password", "locked": locked_until is not None}, at=now)
            if locked_until:
                return LoginResult(None, "locked", locked_until)
            return LoginResult(None, "wrong_password")
        values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = _hasher.hash(password)
        conn.execute(update(account).where(account.c.id == row.id).values(**values))
        record(conn, username, "login", {"method": "password"}, at=now)
    return LoginResult(get_account(engine, username))


def bootstrap_admin(engine: Engine) -> str | None:
    """On a store with no accounts, create `admin` with a random password and return it (else None)."""
    if count_accounts(engine):
        return None
    password = generate_password()
    try:
        create_account(engine, "admin", password, "admin", display_name="管理员 admin", actor="bootstrap")
    except AccountError:
        return None  # another process created it first
    return password


# ---- Sign-in sessions ----

@dataclass(frozen=True)
class SessionStart:
    session_id: int
    # One-time code the signed-in page exchanges for its cookie (redeem_handoff), within HANDOFF.
    handoff: str


@dataclass(frozen=True)
class SessionCheck:
    session_id: int | None
    account: Account | None
    # None when the session holds; else: invalid (no such session or cookie), ended (revoked,
    # or its account disabled) or idle (it ends now, as the idle timeout says).
    failure: str | None = None


def session_key(engine: Engine) -> bytes:
    """The key session cookies are signed with: one per store, made on first use, shared by its processes."""
    from store.tokens import meta_key

    return meta_key(engine, "session_key")


def _signature(token: str, key: bytes) -> str:
    digest = hmac.new(key, token.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _signed(token: str, key: bytes) -> str:
    return f"{token}.{_signature(token, key)}"


def _cookie_token(cookie: str, key: bytes) -> str | None:
    """The token of a cookie this store signed, else None."""
    if not isinstance(cookie, str) or not cookie or len(cookie) > 200 or not cookie.isascii():
        return None
    token, _, signature = cookie.rpartition(".")
    if not token or not hmac.compare_digest(signature, _signature(token, key)):
        return None
    return token


def start_session(engine: Engine, account_id: int, method: str, *, now: datetime | None = None) -> SessionStart:
    """A new session for an account that has just signed in (by password or the identity provider)."""
    now = now or datetime.now()
    handoff = secrets.token_urlsafe(32)
    with writing(engine) as conn:  # waits its turn behind an import, as sign_in does
        session_id = conn.execute(insert(account_session).values(
            account_id=account_id, handoff_sha256=_token_hash(handoff), handoff_expires_at=now + HANDOFF,
            method=method, created_at=now, last_seen_at=now).returning(account_session.c.id)).scalar_one()
    return SessionStart(session_id, handoff)


def redeem_handoff(engine: Engine, handoff: str, key: bytes, *, now: datetime | None = None) -> str | None:
    """The signed cookie value for a session's handoff code: once, within HANDOFF, and not after revocation."""
    if not handoff or len(handoff) > 200:
        return None
    now = now or datetime.now()
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        redeemed = conn.execute(update(account_session).where(
            account_session.c.handoff_sha256 == _token_hash(handoff),
            account_session.c.handoff_expires_at >= now,
            account_session.c.revoked_at.is_(None),
        ).values(token_sha256=_token_hash(token), handoff_sha256=None, handoff_expires_at=None)).rowcount
    return _signed(token, key) if redeemed == 1 else None


def check_session(engine: Engine, *, idle: timedelta, session_id: int | None = None, cookie: str | None = None,
                  key: bytes | None = None, now: datetime | None = None) -> SessionCheck:
    """Whether a session (by id, or by its cookie and the store's key) still holds, and for whom.

    A session idle for longer than `idle` ends here (recorded as a logout for idleness).
    """
    now = now or datetime.now()
    if cookie is not None:
        token = _cookie_token(cookie, key or b"")
        if token is None:
            return SessionCheck(None, None, "invalid")
        which = account_session.c.token_sha256 == _token_hash(token)
    else:
        which = account_session.c.id == session_id
    stmt = (select(*account.c, account_session.c.id.label("session_id"), account_session.c.last_seen_at,
                   account_session.c.revoked_at)
            .join(account, account.c.id == account_session.c.account_id).where(which))
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return SessionCheck(None, None, "invalid")
    if row.revoked_at is not None or row.disabled:
        return SessionCheck(row.session_id, None, "ended")
    if row.last_seen_at < now - idle:
        end_session(engine, row.session_id, "idle", now=now)
        return SessionCheck(row.session_id, None, "idle")
    return SessionCheck(row.session_id, _account_from_row(row))


def touch_session(engine: Engine, session_id: int, *, now: datetime | None = None) -> None:
    """Note activity, so the session's idle clock starts again (callers do this at most once a minute)."""
    with engine.begin() as conn:
        conn.execute(update(account_session).where(account_session.c.id == session_id,
                                                   account_session.c.revoked_at.is_(None))
                     .values(last_seen_at=now or datetime.now()))


def _revoke(conn: Connection, which, reason: str, now: datetime) -> int:
    return conn.execute(update(account_session).where(which, account_session.c.revoked_at.is_(None))
                        .values(revoked_at=now, revoked_reason=reason, handoff_sha256=None,
                                handoff_expires_at=None)).rowcount


def end_session(engine: Engine, session_id: int, reason: str = "logout", *, now: datetime | None = None) -> bool:
    """Sign a session out for good (its cookie opens nothing any more); False when it had ended already.

    The logout is audited once, however many of the session's pages notice it.
    """
    now = now or datetime.now()
    with engine.begin() as conn:
        if not _revoke(conn, account_session.c.id == session_id, reason, now):
            return False
        username = conn.execute(select(account.c.username).join(
            account_session, account_session.c.account_id == account.c.id)
            .where(account_session.c.id == session_id)).scalar_one()
        record(conn, username, "logout", None if reason == "logout" else {"reason": reason})
        bump_accounts_epoch(conn)
    return True


# ---- Screen tokens ----

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_screen_token(engine: Engine, label: str, actor: str = "cli") -> str:
    """A new token, returned once; put it in the lobby screen's URL as ?token=…"""
    token = secrets.token_urlsafe(32)
    now = datetime.now()
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(screen_token).values(token_sha256=_token_hash(token), label=label, created_at=now,
                                        created_by=actor).returning(screen_token.c.id)
        ).scalar_one()
        record(conn, actor, "screen_token_create", {"id": new_id, "label": label}, at=now)
    return token


def revoke_screen_token(engine: Engine, token_id: int, actor: str = "cli") -> None:
    with engine.begin() as conn:
        result = conn.execute(update(screen_token).where(screen_token.c.id == token_id,
                                                          screen_token.c.revoked_at.is_(None))
                              .values(revoked_at=datetime.now()))
        if result.rowcount == 0:
            raise AccountError(f"没有有效的令牌 {token_id} · no active token {token_id}")
        record(conn, actor, "screen_token_revoke", {"id": token_id})
        bump_accounts_epoch(conn)


def list_screen_tokens(engine: Engine) -> list[dict]:
    cols = [c for c in screen_token.c if c.name != "token_sha256"]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(*cols).order_by(screen_token.c.id))]


def check_screen_token(engine: Engine, token: str) -> int | None:
    """The token's id when it is valid and not revoked, else None."""
    if not token or len(token) > 200:
        return None
    with writing(engine) as conn:  # reads, then writes: waits for a writer instead of failing at once
        row = conn.execute(select(screen_token.c.id).where(
            screen_token.c.token_sha256 == _token_hash(token), screen_token.c.revoked_at.is_(None))).first()
        if row is None:
            return None
        conn.execute(update(screen_token).where(screen_token.c.id == row.id).values(last_used_at=datetime.now()))
    return row.id
