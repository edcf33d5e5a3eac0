"""The door: passes and the steward's check-in, as light HTML routes beside Streamlit's (server.py).

Plain server-rendered pages with forms, not a Streamlit page, because at a venue:
- a phone's camera opens the pass's QR code as a URL: `GET <base>/_brain/pass/<token>`
  shows a steward the person and one button, and shows anyone else (the
  representative) their pass with its QR code;
- a check-in is a form POST carrying a nonce made when the form was drawn, so a
  request the venue's weak network makes twice counts once (store/activities.py);
- a USB barcode scanner types the pass into the focused field and presses Enter;
- no websocket to keep alive, a few kilobytes a page, works without JavaScript.

Who may use the door: the account of the session cookie (set by the app's sign-in):
a `steward` only at the activities given to them, staff and admins at their
scope's activities; everyone else is refused without learning anything.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import parse_qs, quote

from jinja2 import DictLoader, Environment, select_autoescape
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from store import accounts, clock, tokens
from store import activities as act
from store.scope import EVERYTHING
from store.settings import get_setting
from ui.bodies import SMALL_FORM_BYTES, TOO_LARGE, bounded_body
from ui.cache import cookie_key, get_engine
from ui.params import MAX_ID
from ui.web import PREFIX, SESSION_COOKIE, route_path, same_origin, unavailable

log = logging.getLogger("brain.door")

BASE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}签到 · Check-in{% endblock %}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;padding:12px;max-width:560px;margin:auto;font-size:18px}
h1{font-size:22px;margin:8px 0}
.ok{background:#e6f4ea;border:2px solid #1e8e3e;padding:12px;border-radius:8px}
.bad{background:#fce8e6;border:2px solid #d93025;color:#a50e0e;padding:12px;border-radius:8px}
.big{font-size:28px;font-weight:700}
input,button{font-size:20px;padding:10px;width:100%;box-sizing:border-box;margin:6px 0}
button{background:#1a73e8;color:#fff;border:0;border-radius:8px}
table{width:100%;border-collapse:collapse}td{padding:6px 2px;border-bottom:1px solid #ddd}
.muted{color:#555;font-size:15px}
</style></head><body>{% block body %}{% endblock %}</body></html>"""

DOOR = """{% extends "base" %}{% block body %}
<h1>{{ title }}</h1>
<p class="muted">已签到 {{ counts.checked_in }} / 已通过 {{ counts.placed }} · checked in {{ counts.checked_in }} of {{ counts.placed }}</p>
{% if result %}{% include "result" %}{% endif %}
<form method="post" action="{{ door_url }}">
<label for="scan">扫码或输入凭证 · scan or type the pass</label>
<input id="scan" name="scan" autofocus autocomplete="off" inputmode="text">
<input type="hidden" name="nonce" value="{{ nonce }}">
<button type="submit">签到 · Check in</button></form>
<form method="get" action="{{ door_url }}">
<label for="q">按姓名查找 · find by name</label>
<input id="q" name="q" value="{{ q }}"><button type="submit">查找 · Find</button></form>
{% if q %}<table>{% for r in found %}<tr><td>{{ r.name }} <span class="muted">尾号 · ends {{ r.phone_tail }}</span></td>
<td>{% if r.status == "approved" %}<form method="post" action="{{ door_url }}">
<input type="hidden" name="person_id" value="{{ r.person_id }}"><input type="hidden" name="nonce" value="{{ r.nonce }}">
<button type="submit">签到 · Check in</button></form>{% else %}{{ status_names[r.status] }}{% endif %}</td></tr>
{% else %}<tr><td>没有找到 · nobody found</td></tr>{% endfor %}</table>{% endif %}
{% endblock %}"""

RESULT = """{% if result.outcome == "checked_in" %}<div class="ok" id="result"><span class="big">{{ result.name }}</span>
<br>签到成功 · checked in {{ at(result.checked_in_at) }}</div>
{% elif result.outcome == "repeat" %}<div class="bad" id="result"><span class="big">{{ result.name }}</span><br>
已签到：{{ result.checked_in_by }} 于 {{ at(result.checked_in_at) }} · already checked in by {{ result.checked_in_by }} at {{ at(result.checked_in_at) }}</div>
{% else %}<div class="bad" id="result">{% if result.name %}<span class="big">{{ result.name }}</span><br>{% endif %}
{{ result.reason }}</div>{% endif %}"""

PASS_FOR_STEWARD = """{% extends "base" %}{% block body %}
<h1>{{ title }}</h1>
{% if result %}{% include "result" %}{% else %}
<p class="big">{{ name }}</p><p>{{ status_names[status] }}</p>
<form method="post" action="{{ door_url }}"><input type="hidden" name="scan" value="{{ token }}">
<input type="hidden" name="nonce" value="{{ nonce }}"><button type="submit" autofocus>签到 · Check in</button></form>
{% endif %}<p><a href="{{ door_url }}">返回签到台 · back to the door</a></p>
{% endblock %}"""

PASS_FOR_HOLDER = """{% extends "base" %}{% block title %}入场凭证 · Pass{% endblock %}{% block body %}
<h1>{{ title }}</h1>
<p>{{ when }}<br>{{ place }}</p>
{% if refusal %}<div class="bad">{{ refusal }}</div>{% else %}
<p class="big">{{ status_names[status] }}</p>
<div aria-label="QR">{{ qr|safe }}</div>
<p class="muted">入场时请出示此码 · show this code at the door</p>{% endif %}
{% endblock %}"""

REFUSED = """{% extends "base" %}{% block body %}<div class="bad">{{ message }}</div>
{% if sign_in %}<p><a href="{{ sign_in }}">登录 · sign in</a></p>{% endif %}{% endblock %}"""

TEMPLATES = {"base": BASE, "door": DOOR, "result": RESULT, "steward": PASS_FOR_STEWARD, "holder": PASS_FOR_HOLDER,
             "refused": REFUSED}
_templates = Environment(loader=DictLoader(TEMPLATES),
                         autoescape=select_autoescape(default=True, default_for_string=True))


def _at(value) -> str:
    return value.strftime("%m-%d %H:%M:%S") if value else ""


def render(template: str, code: int = 200, **values) -> HTMLResponse:
    html = _templates.get_template(template).render(at=_at, status_names=act.STATUS_NAMES, **values)
    # same-origin, not no-referrer: under no-referrer the browser sends `Origin: null` with the door's POST,
    # which the same-origin check must refuse; the pass's token still never goes to another site.
    return HTMLResponse(html, status_code=code, headers={"Cache-Control": "no-store",
                                                           "Referrer-Policy": "same-origin"})


async def answered(answer, what: str) -> Response:
    """`answer()` run in a worker thread. A refusal is a page that says so; a store that is unavailable,
    503 in words (logged); anything else, 500 in words (logged): a phone never sees a traceback."""
    try:
        return await run_in_threadpool(answer)
    except act.ActivityRefused as refusal:
        return render("refused", 404, message=str(refusal))
    except OperationalError:
        return render("refused", 503, message=unavailable(what))
    except Exception:  # noqa: BLE001 - the log has the details, the phone a plain sentence
        log.exception("%s failed", what)
        return render("refused", 500, message="出现意外错误，已记录，请重试 · something went wrong and was logged; try again")


def door_of(request: Request) -> act.Door | None:
    """Who holds this browser's session (None: nobody signed in, or the session has ended)."""
    if not get_setting("require_login"):
        return act.Door("admin", "admin", EVERYTHING)
    from ui.auth import idle_timeout  # ui.auth builds on ui.web, which mounts these routes

    cookie = request.cookies.get(SESSION_COOKIE) or ""
    held = accounts.check_session(get_engine(), cookie=cookie, key=cookie_key(), idle=idle_timeout())
    if held.account is None:
        return None
    acc = held.account
    return act.Door(acc.username, acc.role, acc.scope, acc.id)


def _not_here(base_path: str, door: act.Door | None) -> HTMLResponse:
    if door is None:
        return render("refused", 403, message="请先登录签到账号 · sign in with your steward account first",
                       sign_in="/" + "/".join(p for p in (base_path.strip("/"), "checkin") if p))
    return render("refused", 403, message=act.NOT_HERE)


def _door_page(engine, base_path: str, activity_id: int, door: act.Door, *, q: str = "",
               result: act.CheckIn | None = None, code: int = 200) -> HTMLResponse:
    plan = act.activity_plan(engine, activity_id)
    counts = act.status_counts(engine, activity_id)
    found = act.find_at_door(engine, activity_id, q).to_dict("records") if q else []
    for row in found:
        row["nonce"] = secrets.token_urlsafe(12)
    return render("door", code, title=plan["title"], door_url=route_path(base_path, "door", str(activity_id)),
                   counts={"checked_in": counts.get("checked_in", 0),
                           "placed": counts.get("approved", 0) + counts.get("checked_in", 0)},
                   nonce=secrets.token_urlsafe(12), q=q, found=found, result=result)


def activity_id_of(request: Request) -> int | None:
    """The path's activity id, or None for anything but a number the store's key can hold."""
    raw = request.path_params["activity_id"]
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw) if 0 < int(raw) <= MAX_ID else None


def door_endpoint(base_path: str):
    async def endpoint(request: Request) -> Response:
        activity_id = activity_id_of(request)
        if activity_id is None:
            return render("refused", 404, message="没有这个活动 · no such activity")
        if request.method == "POST" and not same_origin(request):
            return render("refused", 403, message="请求被拒绝 · request refused")
        raw = await bounded_body(request, SMALL_FORM_BYTES) if request.method == "POST" else b""
        if raw is None:
            return render("refused", 413, message=TOO_LARGE)
        body = raw.decode("utf-8", errors="replace")

        def answer() -> Response:
            engine = get_engine()
            door = door_of(request)
            if door is None or not act.may_check_in(engine, door, activity_id):
                return _not_here(base_path, door)
            if request.method == "GET":
                return _door_page(engine, base_path, activity_id, door, q=request.query_params.get("q", "")[:40])
            form = {k: v[0] for k, v in parse_qs(body).items()}
            nonce = form.get("nonce") or None
            if form.get("person_id", "").isdigit():
                result = act.check_in(engine, activity_id, int(form["person_id"]), door=door, nonce=nonce)
            else:
                result = act.check_in_pass(engine, activity_id, form.get("scan", ""), door=door, nonce=nonce)
            return _door_page(engine, base_path, activity_id, door, result=result,
                              code=200 if result.outcome == "checked_in" else 409)

        return await answered(answer, "door request")

    return endpoint


def pass_endpoint(base_path: str):
    async def endpoint(request: Request) -> Response:
        token = request.path_params["token"]

        def answer() -> Response:
            engine = get_engine()
            try:
                claim = tokens.verify(engine, token, act.PASS, today=clock.today())
            except tokens.TokenRefused as refusal:
                return render("refused", 403, message=str(refusal))
            activity_id, person_id = act.subject_parts(claim.subject)
            plan = act.activity_plan(engine, activity_id)
            door = door_of(request)
            if door is not None and door.role in ("steward", "staff", "admin") and act.may_check_in(
                    engine, door, activity_id):
                return _for_steward(engine, base_path, plan, activity_id, door, token)
            return _for_holder(request, plan, activity_id, person_id, claim, engine)

        return await answered(answer, "pass request")

    return endpoint


def _participation_row(engine, activity_id: int, person_id: int) -> dict | None:
    found = act.sign_ups(engine, activity_id, EVERYTHING, person_ids=(person_id,))
    return found.iloc[0].to_dict() if len(found) else None


def _for_steward(engine, base_path, plan, activity_id, door, token) -> Response:
    seen = act.scanned_pass(engine, activity_id, token, door=door)
    ready = seen.outcome == "ready"
    return render("steward", 200 if ready else 409, title=plan["title"],
                   door_url=route_path(base_path, "door", str(activity_id)), name=seen.name, status=seen.status,
                   token=token, nonce=secrets.token_urlsafe(12), result=None if ready else seen)


def _for_holder(request: Request, plan, activity_id, person_id, claim, engine) -> Response:
    row = _participation_row(engine, activity_id, person_id)
    refusal = None
    if row is None or claim.version != row["pass_version"]:
        refusal = tokens.MESSAGES["revoked"]
    elif plan["state"] == "cancelled":
        refusal = f"活动已取消：{plan['cancel_reason']} · the activity was cancelled: {plan['cancel_reason']}"
    return render("holder", title=plan["title"], when=when_text(plan), place=plan["place"] or plan["online_link"] or "",
                  status=row["status"] if row else "", refusal=refusal,
                  qr=qr_svg(str(request.url)) if refusal is None else "")


def qr_svg(url: str, scale: int = 6, *, fluid: bool = False) -> str:
    """A QR code of `url` as inline SVG, made here (no image service, no script); `fluid`: without a size of
    its own (a viewBox only), so the page's CSS sizes it to the screen."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=scale, omitsize=fluid)


def when_text(plan: dict) -> str:
    start, end = plan["starts_at"], plan["ends_at"]
    if end is None:
        return f"{start:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%H:%M}" if end.date() == start.date() else \
        f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def pass_url(base_url: str, token: str) -> str:
    """The URL a pass's QR code carries (base_url: the app's public address, with its base path)."""
    return f"{base_url.rstrip('/')}/{PREFIX}/pass/{quote(token)}"


def routes(base_path: str) -> list[Route]:
    from ui import poster_web  # it builds on this module

    return [
        Route(route_path(base_path, "door", "{activity_id}"), door_endpoint(base_path), methods=["GET", "POST"]),
        Route(route_path(base_path, "pass", "{token}"), pass_endpoint(base_path), methods=["GET"]),
        *poster_web.routes(base_path),
    ]
