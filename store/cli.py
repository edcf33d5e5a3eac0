"""Command line for accounts and screen tokens. Exit 0 on success, 1 with a one-line reason."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import OperationalError

from store import accounts, api_keys
from store.engine import open_store, outage_message
from store.schema import API_ACCESS, ROLES
from store.scope import Scope


def _districts(args) -> tuple[str, ...]:
    return tuple(d.strip() for d in (args.districts or "").split(",") if d.strip())


def _scope(args) -> Scope:
    districts = _districts(args)
    streets = []
    for item in args.streets or []:
        district, _, street = item.partition(":")
        if not street:
            raise accounts.AccountError(
                f"街道格式应为 区县代码:街道名 · a street is DISTRICT_CODE:STREET_NAME, got {item!r}")
        streets.append((district.strip(), street.strip()))
    return Scope(districts=districts, streets=tuple(streets))


def _scope_text(scope: Scope) -> str:
    """The scope as `--districts`/`--streets` take it: `330106,330106:西溪街道`, or all."""
    parts = [*scope.districts, *(f"{district}:{street}" for district, street in scope.streets)]
    return ",".join(parts) or "全部 all"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m store", description="账号与大屏令牌 · accounts and screen tokens")
    parser.add_argument("--db", help="database URL")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("bootstrap", help="首次运行：创建 admin 账号并打印一次密码 · create `admin` on a store with no accounts")

    acc = sub.add_parser("account", help="管理账号 · manage accounts").add_subparsers(dest="action", required=True)
    add = acc.add_parser("add")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password", help="default: a random one, printed once")
    add.add_argument("--oidc-only", action="store_true", help="no password: signs in through the identity provider")
    add.add_argument("--name", help="display name")
    for p in (add, scope := acc.add_parser("set-scope")):
        p.add_argument("--districts", help="comma-separated district codes, e.g. 330106,330102 (empty: everything)")
        p.add_argument("--streets", nargs="*", metavar="CODE:STREET", help="e.g. 330106:西溪街道")
    scope.add_argument("username")
    role = acc.add_parser("set-role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    for name in ("disable", "enable"):
        acc.add_parser(name).add_argument("username")
    reset = acc.add_parser("reset-password")
    reset.add_argument("username")
    reset.add_argument("--password", help="default: a random one, printed once")
    acc.add_parser("list")

    tok = sub.add_parser("screen-token", help="大屏令牌 · screen tokens").add_subparsers(dest="action", required=True)
    create = tok.add_parser("create")
    create.add_argument("--label", required=True, help="where the screen is, e.g. 一楼大厅")
    tok.add_parser("revoke").add_argument("token_id", type=int)
    tok.add_parser("list")

    api = sub.add_parser("api-key", help="API 密钥 · keys for the JSON API").add_subparsers(dest="action",
                                                                                          required=True)
    make = api.add_parser("create")
    make.add_argument("--name", required=True, help="whose system, e.g. 区人大信息系统")
    make.add_argument("--access", choices=API_ACCESS, default="masked", help="masked (default) or personal")
    make.add_argument("--days", type=int, default=365, help="valid for N days (default 365)")
    make.add_argument("--districts", help="comma-separated district codes (empty: everything)")
    make.add_argument("--by", default="cli", help="the admin creating it (audit log)")
    api.add_parser("revoke").add_argument("key_id", type=int)
    api.add_parser("list")
    return parser


def run(args) -> int:
    # Only bootstrap creates a store; every other command needs one that is there.
    engine = open_store(args.db, create=args.command == "bootstrap")
    if args.command == "bootstrap":
        password = accounts.bootstrap_admin(engine)
        if password:
            print("已创建管理员账号 · created the administrator account")
            print(f"  用户名 username: admin\n  密码 password: {password}")
            print("请登录后妥善保管，此密码只显示这一次 · keep it safe: it is shown only this once")
        return 0
    if args.command == "account":
        if args.action == "add":
            password = None if args.oidc_only else (args.password or accounts.generate_password())
            acc = accounts.create_account(engine, args.username, password, args.role, scope=_scope(args),
                                          display_name=args.name)
            print(f"已创建 created: {acc.username} ({acc.role})")
            if password and not args.password:
                print(f"  密码 password: {password}")
        elif args.action == "set-scope":
            acc = accounts.set_scope(engine, args.username, _scope(args))
            print(f"{acc.username}: {_scope_text(acc.scope)}")
        elif args.action == "set-role":
            print(f"{accounts.set_role(engine, args.username, args.role).username}: {args.role}")
        elif args.action in ("disable", "enable"):
            accounts.set_disabled(engine, args.username, args.action == "disable")
            print(f"{args.username}: {args.action}d")
        elif args.action == "reset-password":
            password = args.password or accounts.generate_password()
            accounts.set_password(engine, args.username, password)
            print(f"{args.username}: 密码已重置 password reset" + ("" if args.password else f" → {password}"))
        elif args.action == "list":
            for a in accounts.list_accounts(engine):
                print(f"{a.username}\t{a.role}\t{_scope_text(a.scope)}\t{'停用 disabled' if a.disabled else ''}")
        return 0
    if args.command == "screen-token":
        if args.action == "create":
            token = accounts.create_screen_token(engine, args.label)
            print("大屏链接（只显示一次） · screen URL, shown once:")
            print(f"  http://<host>:8501/?kiosk=1&token={token}")
        elif args.action == "revoke":
            accounts.revoke_screen_token(engine, args.token_id)
            print(f"已吊销 revoked: {args.token_id}")
        elif args.action == "list":
            for t in accounts.list_screen_tokens(engine):
                state = "吊销 revoked" if t["revoked_at"] else "有效 active"
                print(f"{t['id']}\t{t['label']}\t{state}\t{t['created_at']:%Y-%m-%d}\t{t['last_used_at'] or ''}")
        return 0
    if args.command == "api-key":
        return _api_key(engine, args)
    return 2


def _api_key(engine, args) -> int:
    if args.action == "create":
        key, secret = api_keys.create_api_key(engine, args.name, args.access, days=args.days,
                                              districts=_districts(args), created_by=args.by)
        print(f"已创建 API 密钥 {key.id}（只显示一次） · API key {key.id}, shown once:")
        print(f"  {secret}")
        print(f"  {key.access}, {_scope_text(key.scope)}, 有效至 valid until {key.expires_at:%Y-%m-%d}")
    elif args.action == "revoke":
        api_keys.revoke_api_key(engine, args.key_id)
        print(f"已吊销 revoked: {args.key_id}")
    elif args.action == "list":
        for k in api_keys.list_api_keys(engine):
            state = "吊销 revoked" if k.revoked_at else f"至 until {k.expires_at:%Y-%m-%d}"
            print(f"{k.id}\t{k.name}\t{k.prefix}…\t{k.access}\t{_scope_text(k.scope)}\t{state}\t{k.last_used_at or ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (accounts.AccountError, api_keys.ApiKeyError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(outage_message(exc), file=sys.stderr)
        return 1
