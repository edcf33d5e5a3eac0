"""The read-only JSON API for other departments' systems: `/api/v1/…` beside the app, same process and port.

    GET <base>/api/v1/persons?since=2026-11-01T00:00:00&limit=100&cursor=…
    GET <base>/api/v1/appointments?since=…      GET <base>/api/v1/activities?since=…
    Authorization: Bearer ufb_…   (or X-API-Key: ufb_…)

Answers `{"data": [...], "next_cursor": "...", "has_more": true|false}`; the next call passes
`cursor` (and the same `since`). Errors are JSON too: `{"error": {"code", "message"}}` with
401 (no valid key: missing, unknown, revoked or expired), 429 (over the key's rate, with
Retry-After), 400 (a bad parameter), 503 (the store is unavailable). Every answered
request is written to the audit log (action `api_read`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from store import audit, clock
from store.api_keys import RateLimiter, authenticate
from store.queries import exchange
from store.settings import get_setting

log = logging.getLogger("brain.api")

RESOURCES = {
    "persons": exchange.persons_changed,
    "appointments": exchange.appointments_changed,
    "activities": exchange.activities_changed,
}
MESSAGES = {
    "unauthorized": "缺少有效的 API 密钥（未提供、不存在、已吊销或已过期） · no valid API key (missing, unknown, "
                    "revoked or expired)",
    "rate_limited": "请求过于频繁，请稍后再试 · too many requests: try again in a minute",
    "bad_since": "参数 since 应为 ISO 日期或时间，如 2026-11-01 或 2026-11-01T08:00:00 · since must be an ISO date "
                 "or time",
    "bad_limit": f"参数 limit 应为 1–{exchange.MAX_LIMIT} 的整数 · limit must be a whole number 1-{exchange.MAX_LIMIT}",
    "bad_cursor": "参数 cursor 无效：请使用上一页返回的 next_cursor · cursor is not one this API gave",
    "unavailable": "数据库暂不可用，请稍后再试 · the store is unavailable: try again later",
    "failed": "服务器出错，已记录 · the server failed; it has been logged",
}


def error(status: int, code: str, **headers) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": MESSAGES[code]}}, status_code=status,
                        headers={"Cache-Control": "no-store", **headers})


def _secret(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def _since(text: str | None) -> dt.datetime:
    if not text:
        return dt.datetime(1970, 1, 1)
    value = dt.datetime.fromisoformat(text)
    # The store keeps local naive times: an offset given by the client is converted to local time.
    return value.astimezone().replace(tzinfo=None) if value.tzinfo else value


def _answer(engine, key, resource: str, params) -> JSONResponse:
    try:
        since = _since(params.get("since"))
    except ValueError:
        return error(400, "bad_since")
    try:
        limit = int(params.get("limit") or 100)
        if not 1 <= limit <= exchange.MAX_LIMIT:
            raise ValueError
    except ValueError:
        return error(400, "bad_limit")
    until = clock.now() - dt.timedelta(seconds=float(get_setting("api_settle_seconds")))
    query = RESOURCES[resource]
    extra = {"unmasked": key.unmasked} if resource == "persons" else {}
    try:
        page = query(engine, key.scope, since=since, until=until, cursor=params.get("cursor"), limit=limit, **extra)
    except exchange.BadCursor:
        return error(400, "bad_cursor")
    audit.record_now(engine, f"api:{key.name}", "api_read", {
        "key": key.id, "resource": resource, "since": since.isoformat(), "cursor": bool(params.get("cursor")),
        "rows": len(page.data), "access": key.access})
    return JSONResponse(page.to_json(), headers={"Cache-Control": "no-store"})


def api_routes(base_path: str, engine_of: Callable, limiter: RateLimiter | None = None) -> list[Route]:
    """The API's routes under `<base>/api/v1/`; `engine_of()` gives the store's engine."""
    limiter = limiter or RateLimiter(int(get_setting("api_rate_per_minute")))

    def endpoint(resource: str):
        async def answer(request: Request) -> Response:
            try:
                engine = engine_of()
                key = await run_in_threadpool(authenticate, engine, _secret(request))
                if key is None:
                    return error(401, "unauthorized", **{"WWW-Authenticate": "Bearer"})
                if not limiter.allow(key.id):
                    return error(429, "rate_limited", **{"Retry-After": "60"})
                return await run_in_threadpool(_answer, engine, key, resource, request.query_params)
            except OperationalError:
                log.warning("API: store unavailable", exc_info=True)
                return error(503, "unavailable")
            except Exception:  # noqa: BLE001 - the log has the details, the client a JSON error
                log.exception("API request failed")
                return error(500, "failed")

        return answer

    root = "/" + "/".join(p.strip("/") for p in (base_path, "api", "v1") if p and p.strip("/"))
    return [Route(f"{root}/{name}", endpoint(name), methods=["GET"]) for name in RESOURCES]
