"""The HTTP side of sign-in and downloads: routes served beside Streamlit's, same process and port.

A Streamlit script cannot set an HttpOnly cookie. This route (mounted by server.py
through Streamlit's ASGI app) does:

- `POST <base>/_brain/session` — a signed-in page exchanges its one-time handoff code
  for the session cookie (HttpOnly, SameSite=Strict, signed, Secure over HTTPS, no
  expiry of its own: the session behind it ends with the idle timeout, sign-out,
  disable or password reset). An empty code drops the cookie (after sign-out).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from store import accounts
from ui.cache import cookie_key, get_engine
from ui.i18n import LANGUAGES, translate

SESSION_COOKIE = "brain_session"
PREFIX = "_brain"


def route_path(base_path: str, *parts: str) -> str:
    """`/<base>/_brain/<parts>`: where the routes answer under Streamlit's server.baseUrlPath."""
    return "/" + "/".join(p.strip("/") for p in (base_path, PREFIX, *parts) if p and p.strip("/"))


def _script(code: str) -> str:
    # "</" never appears inside the script element, whatever the values.
    safe = code.replace("</", "<\\/")
    return f"<script>{safe}</script>"


def session_script(handoff: str, base_path: str) -> str:
    """The page's part: fetch the session cookie for `handoff`, or drop it when empty."""
    body = json.dumps("handoff=" + handoff)
    url = json.dumps(route_path(base_path, "session"))
    return _script(f"fetch({url}, {{method: 'POST', credentials: 'same-origin', "
                   f"headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: {body}}});")


def refusal(status: int, key: str) -> Response:
    """A plain bilingual answer (these routes are not pages: no traceback, no markup)."""
    return PlainTextResponse(" · ".join(translate(key, lang) for lang in LANGUAGES), status_code=status)


def _same_origin(request: Request) -> bool:
    """A POST from one of our own pages: another site's form cannot set or drop the cookie."""
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == request.headers.get("host")


def _cookie_path(base_path: str) -> str:
    return "/" + base_path.strip("/") if base_path.strip("/") else "/"


def session_endpoint(base_path: str):
    async def endpoint(request: Request) -> Response:
        if not _same_origin(request):
            return refusal(403, "web.refused")
        body = (await request.body()).decode("ascii", errors="replace")
        handoff = (parse_qs(body).get("handoff") or [""])[0]
        response = Response(status_code=204)
        secure = request.url.scheme == "https"
        if not handoff:
            response.delete_cookie(SESSION_COOKIE, path=_cookie_path(base_path), secure=secure, httponly=True,
                                   samesite="strict")
            return response
        cookie = await run_in_threadpool(lambda: accounts.redeem_handoff(get_engine(), handoff, cookie_key()))
        if cookie is None:
            return refusal(403, "web.refused")
        response.set_cookie(SESSION_COOKIE, cookie, path=_cookie_path(base_path), secure=secure, httponly=True,
                            samesite="strict")
        return response

    return endpoint


def routes(base_path: str) -> list[Route]:
    return [
        Route(route_path(base_path, "session"), session_endpoint(base_path), methods=["POST"]),
    ]
