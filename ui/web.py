"""The HTTP side of sign-in and downloads: routes served beside Streamlit's, same process and port.

A Streamlit script cannot set an HttpOnly cookie, and a file it offers for download
stays at an unauthenticated URL for as long as the session lives. These routes
(mounted by server.py through Streamlit's ASGI app) do both with the session cookie:

- `POST <base>/_brain/session` — a signed-in page exchanges its one-time handoff code
  for the session cookie (HttpOnly, SameSite=Strict, signed, Secure over HTTPS, no
  expiry of its own: the session behind it ends with the idle timeout, sign-out,
  disable or password reset). An empty code drops the cookie (after sign-out).
- `GET <base>/_brain/export/<ticket>` — an explorer export or the representatives'
  personal links, made when fetched: the ticket is made by the click, opens once,
  within a minute, and only with the cookie of the session that clicked (ui/downloads.py).
- `<base>/m/…` — the representatives' light front end (ui/mobile.py).
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from store import accounts
from ui.bodies import SMALL_FORM_BYTES, bounded_body
from ui.cache import cookie_key, get_engine
from ui.i18n import LANGUAGES, translate

log = logging.getLogger("brain.web")

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


def download_script(url: str) -> str:
    """The page's part of a download: fetch `url` in a hidden frame (the page stays as it is)."""
    return _script(f"(() => {{ const f = document.createElement('iframe'); f.style.display = 'none'; "
                   f"f.src = {json.dumps(url)}; document.body.appendChild(f); "
                   f"setTimeout(() => f.remove(), 300000); }})();")


def refusal(status: int, key: str) -> Response:
    """A plain bilingual answer (these routes are not pages: no traceback, no markup)."""
    return PlainTextResponse(" · ".join(translate(key, lang) for lang in LANGUAGES), status_code=status)


def unavailable(what: str) -> str:
    """Logs that `what` found the store unavailable; the sentence to answer with, in both languages.
    A missing store is an outage, never a new empty store (store/engine.py)."""
    log.warning("%s: the store is unavailable", what, exc_info=True)
    return " · ".join(translate("error.database_unavailable", lang) for lang in LANGUAGES)


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """Any route beside the pages that meets the store unavailable answers 503 in words (server.py)."""
    endpoint = request.scope.get("endpoint")
    # The route's name, not its path: a path may hold a personal link's token.
    return PlainTextResponse(unavailable(getattr(endpoint, "__qualname__", "a route")), status_code=503)


EXCEPTION_HANDLERS = {OperationalError: store_unavailable}


def same_origin(request: Request) -> bool:
    """A POST from one of our own pages: another site's form cannot set or drop the cookie."""
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == request.headers.get("host")


def _cookie_path(base_path: str) -> str:
    return "/" + base_path.strip("/") if base_path.strip("/") else "/"


def session_endpoint(base_path: str):
    async def endpoint(request: Request) -> Response:
        if not same_origin(request):
            return refusal(403, "web.refused")
        raw = await bounded_body(request, SMALL_FORM_BYTES)
        if raw is None:
            return refusal(413, "web.too_large")
        body = raw.decode("ascii", errors="replace")
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


async def export_endpoint(request: Request) -> Response:
    # Imported here: ui.downloads builds on ui.auth, which builds on this module.
    from ui.downloads import Refused, open_download

    ticket = request.path_params["ticket"]
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        result = await run_in_threadpool(open_download, ticket, cookie)
    except Refused as refused:
        return refusal(refused.status, refused.key)
    except OperationalError:
        return PlainTextResponse(unavailable("export download"), status_code=503)
    except Exception:  # noqa: BLE001 - the log has the details, the browser a plain sentence
        log.exception("export download failed")
        return refusal(500, "download.failed")
    name = quote(result.file_name)
    return Response(result.data, media_type=result.media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}", "Cache-Control": "no-store"})


def routes(base_path: str) -> list[Route]:
    # Imported here: the representatives' pages (ui/mobile.py) build on the store and texts only.
    from ui import mobile
    from ui.api import api_routes
    # Imported here: the door's routes build on this module.
    from ui import checkin_web

    return [
        Route(route_path(base_path, "session"), session_endpoint(base_path), methods=["POST"]),
        Route(route_path(base_path, "export", "{ticket}"), export_endpoint, methods=["GET"]),
        *mobile.routes(base_path),
        *api_routes(base_path, get_engine),
        *checkin_web.routes(base_path),
    ]
