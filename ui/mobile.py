"""The representatives' light front end: server-rendered pages under `<base>/m/`, beside Streamlit's.

A representative opens `/m/<token>` (a personal link, store/reps.py), types the last four
digits of the mobile on record, and gets a session cookie (signed, HttpOnly, SameSite=Lax,
path /m/, 30 minutes from the last page) that names the person and the link version; every
page checks that version against the store, so revoking or re-issuing a link ends its
sessions too. After that, no URL carries anything personal: pages are /m/home, /m/edit …

Plain HTML forms (no JavaScript), a CSRF value on every form, every page under 60 KB with
its CSS inline, no external resource at all (the Content-Security-Policy says so). Texts in
Simplified Chinese first, English by `?lang=en` (kept in a cookie).

Other work adds sections to the home page through `HOME_SECTIONS` (the seam for the online
activities: a function (engine, person_id, lang) -> HTML-safe markup, or None).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from store import clock, reps, surveys, tokens
from store.changes import WriteRefused
from store.schema import RECORD_KINDS, SUGGESTION_KINDS
from store.settings import get_setting
from ui.addresses import request_address
from ui.bodies import bounded_body
from ui.i18n import LANGUAGES, translate

log = logging.getLogger("brain.mobile")


class RowId(IntegerConvertor):
    regex = "[0-9]{1,18}"  # a row id the store's integer holds; a longer one is no page (404)


register_url_convertor("row", RowId())

SESSION_COOKIE = "m_session"
LANG_COOKIE = "m_lang"
SESSION_SECONDS = 30 * 60
UPLOAD_BYTES = reps.PHOTO_MAX_BYTES + 64 * 1024
# A page lists the newest few items, long texts cut short: every page stays under 60 KB at the
# longest texts the store accepts.
LIST_ITEMS = 15
FORM_BYTES = 64 * 1024
TEMPLATES = Path(__file__).resolve().parent / "templates"
HEADERS = {
    # Nothing leaves the page: no script, no outside image, style inline only, forms to ourselves.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # The personal link is in the address: it must not travel on in a Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# Home-page sections other work fills in: (engine, person_id, lang) -> Markup or None.
HOME_SECTIONS: list[Callable[[Engine, int, str], Markup | None]] = []


class RateLimit:
    """At most `limit` events per `window` seconds per key, in this process (the app runs as one)."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self._seen: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 50_000:  # forgotten keys do not pile up for ever
                self._seen = {k: q for k, q in self._seen.items() if q and q[-1] > now - self.window}
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True


# Per address: every page (generous: a carrier's NAT puts many phones behind one address), and
# last-four answers. Per link: every page of it, and its answers (beside the store's lock at five).
LIMITS = {
    "address": RateLimit(get_setting("m_pages_per_address"), 60),
    "address_answers": RateLimit(get_setting("m_answers_per_address"), 600),
    "link": RateLimit(60, 60),
    "link_answers": RateLimit(10, 600),
}


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
NONCE = re.compile(r"^[0-9a-f]{16}$")


def now_seconds() -> float:
    """The session cookie's clock (a test moves it)."""
    return time.time()


class Session(NamedTuple):
    """A confirmed visitor: the person, the link version they confirmed, and a nonce of their sign-in."""

    person: int
    version: int
    nonce: str

    @property
    def basis(self) -> str:
        # What the forms' CSRF value is made from: stable while the cookie's expiry slides on.
        return f"{self.person}.{self.version}.{self.nonce}"


class Mobile:
    """The routes, bound to a store (the app's, or a test's) and Streamlit's base URL path."""

    def __init__(self, base_path: str, engine: Callable[[], Engine]):
        self.base = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.engine = engine

    # ---- paths, language, cookies

    def path(self, *parts: str) -> str:
        return self.base + "/m/" + "/".join(p.strip("/") for p in parts if p)

    def lang(self, request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return wanted if wanted in LANGUAGES else LANGUAGES[0]

    def _key(self) -> bytes:
        return tokens.store_key(self.engine())

    def session_value(self, held: Session) -> str:
        body = f"{held.person}.{held.version}.{held.nonce}.{int(now_seconds()) + SESSION_SECONDS}"
        return f"{body}.{tokens.mac(self._key(), 'msession', body)}"

    def session_of(self, request: Request) -> Session | None:
        """The session of a signed, unexpired cookie whose link still holds (same version, not locked)."""
        import hmac

        value = request.cookies.get(SESSION_COOKIE) or ""
        parts = value.split(".")
        if len(parts) != 5 or not all(p.isdigit() for p in (parts[0], parts[1], parts[3])) \
                or not NONCE.fullmatch(parts[2]):
            return None
        body = ".".join(parts[:4])
        if not hmac.compare_digest(parts[4], tokens.mac(self._key(), "msession", body)):
            return None
        held = Session(int(parts[0]), int(parts[1]), parts[2])
        if int(parts[3]) < now_seconds() or not reps.link_holds(self.engine(), held.person, held.version):
            return None
        return held

    def csrf(self, basis: str) -> str:
        return tokens.mac(self._key(), "mcsrf", basis)

    def csrf_holds(self, request: Request, form, basis: str) -> bool:
        import hmac

        origin = request.headers.get("origin")
        # Under Referrer-Policy no-referrer a browser sends a form's Origin as "null": the CSRF value decides.
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            return False
        return hmac.compare_digest(str(form.get("csrf") or ""), self.csrf(basis))

    # ---- answers

    def page(self, request: Request, template: str, status: int = 200, **values) -> Response:
        lang = self.lang(request)
        other = LANGUAGES[1 - LANGUAGES.index(lang)]
        html = ENV.get_template(f"m/{template}").render(
            t=lambda key, **kw: translate(key, lang, **kw), lang=lang, other_lang=other, path=self.path,
            here=request.url.path, **values)
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path=self.path(), httponly=True,
                                samesite="lax", secure=request.url.scheme == "https")
        return response

    def refused(self, request: Request, key: str, status: int) -> Response:
        return self.page(request, "message.html", status, message_key=key)

    def _limited(self, request: Request, *keys: tuple[str, str]) -> bool:
        address = request_address(request)
        checks = [("address", address), *keys]
        return not all(LIMITS[name].allow(value) for name, value in checks)

    def signed_in(self, response: Response, request: Request, held: Session) -> Response:
        """The session cookie, its half hour counted again from this page."""
        response.set_cookie(SESSION_COOKIE, self.session_value(held), max_age=SESSION_SECONDS,
                            path=self.path(), httponly=True, samesite="lax", secure=request.url.scheme == "https")
        return response

    def redirect(self, request: Request, target: str, held: Session) -> Response:
        return self.signed_in(RedirectResponse(self.path(target), status_code=303, headers=HEADERS), request, held)

    # ---- the personal link

    async def link(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            claim = await run_in_threadpool(reps.open_link, self.engine(), token)
        except tokens.TokenRefused as refused:
            return self.page(request, "message.html", 403, message=str(refused).split(" · ")[
                0 if self.lang(request) == "zh" else 1])
        except reps.LinkLocked:
            return self.refused(request, "m.locked", 403)
        if self._limited(request, ("link", str(claim.subject))):
            return self.refused(request, "m.too_many", 429)
        held = await run_in_threadpool(self.session_of, request)
        if held and held.person == claim.subject and held.version == claim.version:
            return self.redirect(request, "home", held)
        if request.method == "GET":
            return self.page(request, "confirm.html", csrf=self.csrf(token))
        if await bounded_body(request, FORM_BYTES) is None:
            return self.page(request, "message.html", 413, message_key="m.too_large")
        form = await request.form(max_files=0, max_fields=10)
        if not self.csrf_holds(request, form, token):
            return self.refused(request, "m.stale_form", 403)
        address = request_address(request)
        if self._limited(request, ("address_answers", address), ("link_answers", str(claim.subject))):
            return self.refused(request, "m.too_many", 429)
        answer, left = await run_in_threadpool(reps.confirm_last_four, self.engine(), claim, str(form.get("digits", "")))
        if answer is reps.Answer.RIGHT:
            return self.redirect(request, "home", Session(claim.subject, claim.version, secrets.token_hex(8)))
        if answer is reps.Answer.LOCKED:
            return self.refused(request, "m.locked", 403)
        if answer is reps.Answer.NO_PHONE:
            return self.refused(request, "m.no_phone", 403)
        return self.page(request, "confirm.html", 400, csrf=self.csrf(token), wrong=True, left=left)

    # ---- pages behind the session

    async def _session(self, request: Request):
        held = await run_in_threadpool(self.session_of, request)
        if held is None:
            return None, self.refused(request, "m.signed_out", 401)
        if self._limited(request, ("link", str(held.person))):
            return None, self.refused(request, "m.too_many", 429)
        return held, None

    async def _form(self, request: Request, held, *, files: bool = False):
        if await bounded_body(request, UPLOAD_BYTES if files else FORM_BYTES) is None:
            return None, self.page(request, "message.html", 413, message_key="m.too_large")
        form = await request.form(max_files=1 if files else 0, max_fields=200)
        if not self.csrf_holds(request, form, held.basis):
            return None, self.refused(request, "m.stale_form", 403)
        return form, None

    async def _posted(self, request: Request):
        """A form sent by a confirmed visitor: (session, form, None), or a refusal last."""
        held, refusal = await self._session(request)
        if refusal:
            return None, None, refusal
        form, refusal = await self._form(request, held)
        return held, form, refusal

    def _done(self, request: Request, held, target: str, flag: str) -> Response:
        response = RedirectResponse(self.path(target) + f"?done={flag}", status_code=303, headers=HEADERS)
        return self.signed_in(response, request, held)

    def _render(self, request: Request, held, template: str, status: int = 200, **values) -> Response:
        response = self.page(request, template, status, csrf=self.csrf(held.basis),
                             done=request.query_params.get("done"), **values)
        return self.signed_in(response, request, held)

    async def home(self, request: Request) -> Response:
        held, refusal = await self._session(request)
        if refusal:
            return refusal
        engine, lang = self.engine(), self.lang(request)

        def read():
            sections = [s for s in (section(engine, held.person, lang) for section in HOME_SECTIONS) if s]
            return (reps.profile(engine, held.person), reps.last_confirmed(engine, held.person), sections,
                    surveys.open_for(engine, held.person))

        me, confirmed, sections, open_surveys = await run_in_threadpool(read)
        if me is None:
            return self.refused(request, "m.signed_out", 401)
        return self._render(request, held, "home.html", me=me, confirmed=confirmed, sections=sections,
                            fields=reps.SELF_EDITABLE, surveys=open_surveys)

    async def confirm(self, request: Request) -> Response:
        held, _form, refusal = await self._posted(request)
        if refusal:
            return refusal
        await run_in_threadpool(reps.confirm_correct, self.engine(), held.person)
        return self._done(request, held, "home", "confirmed")

    async def edit(self, request: Request) -> Response:
        held, refusal = await self._session(request)
        if refusal:
            return refusal
        engine = self.engine()
        error, values = None, None
        if request.method == "POST":
            form, refusal = await self._form(request, held)
            if refusal:
                return refusal
            values = {f: str(form.get(f, "")) for f in reps.SELF_EDITABLE}
            try:
                rid = await run_in_threadpool(reps.propose_changes, engine, held.person, values)
                return self._done(request, held, "edit", "sent" if rid else "same")
            except WriteRefused as refused:
                error = str(refused)
        me, mine = await run_in_threadpool(lambda: (reps.profile(engine, held.person), reps.my_requests(engine, held.person, limit=LIST_ITEMS)))
        return self._render(request, held, "edit.html", 400 if error else 200, me=values or me, requests=mine,
                            fields=reps.SELF_EDITABLE, error=error)

    async def suggest(self, request: Request) -> Response:
        held, refusal = await self._session(request)
        if refusal:
            return refusal
        engine = self.engine()
        error, values = None, {}
        if request.method == "POST":
            form, refusal = await self._form(request, held)
            if refusal:
                return refusal
            values = {k: str(form.get(k, "")) for k in ("kind", "title", "body", "topic")}
            try:
                await run_in_threadpool(reps.submit_suggestion, engine, held.person, values["kind"], values["title"],
                                        values["body"], values["topic"])
                return self._done(request, held, "suggest", "sent")
            except WriteRefused as refused:
                error = str(refused)
        mine = await run_in_threadpool(reps.my_suggestions, engine, held.person, limit=LIST_ITEMS)
        return self._render(request, held, "suggest.html", 400 if error else 200, items=mine, kinds=SUGGESTION_KINDS,
                            values=values, error=error)

    async def suggestion(self, request: Request) -> Response:
        held, refusal = await self._session(request)
        if refusal:
            return refusal
        found = await run_in_threadpool(reps.my_suggestion, self.engine(), held.person,
                                        int(request.path_params["suggestion"]))
        if found is None:
            return self.refused(request, "m.not_found", 404)
        return self._render(request, held, "suggestion.html", s=found)

    async def records(self, request: Request) -> Response:
        held, refusal = await self._session(request)
        if refusal:
            return refusal
        engine = self.engine()
        error, values = None, {}
        if request.method == "POST":
            form, refusal = await self._form(request, held, files=True)
            if refusal:
                return refusal
            values = {k: str(form.get(k, "")) for k in ("kind", "day", "body")}
            upload = form.get("photo")
            photo = await upload.read(UPLOAD_BYTES) if hasattr(upload, "read") else None
            try:
                await run_in_threadpool(reps.add_record, engine, held.person, values["kind"], values["day"],
                                        values["body"], photo or None)
                return self._done(request, held, "records", "sent")
            except WriteRefused as refused:
                error = str(refused)
        mine = await run_in_threadpool(reps.my_records, engine, held.person, limit=LIST_ITEMS)
        return self._render(request, held, "records.html", 400 if error else 200, items=mine, kinds=RECORD_KINDS,
                            values=values, error=error, today=clock.today().isoformat())

    async def survey(self, request: Request) -> Response:
        held, refusal = await self._session(request)
        if refusal:
            return refusal
        engine, survey_id = self.engine(), int(request.path_params["survey"])
        found = await run_in_threadpool(surveys.survey_for, engine, survey_id, held.person)
        if found is None:
            return self.refused(request, "m.not_found", 404)
        error, chosen = None, {}
        if request.method == "POST":
            form, refusal = await self._form(request, held)
            if refusal:
                return refusal
            chosen = {q.id: [chosen_option(q, str(v)) for v in form.getlist(f"q{q.id}")] for q in found["questions"]}
            try:
                await run_in_threadpool(surveys.answer, engine, survey_id, held.person, chosen)
                return self._done(request, held, "home", "answered")
            except WriteRefused as refused:
                error = str(refused)
        return self._render(request, held, "survey.html", 400 if error else 200, survey=found, chosen=chosen,
                            ratings=surveys.RATINGS, error=error)

    async def photo(self, request: Request) -> Response:
        held, refusal = await self._session(request)
        if refusal:
            return refusal
        found = await run_in_threadpool(reps.record_photo, self.engine(), int(request.path_params["record"]),
                                        person_id=held.person)
        if found is None:
            return self.refused(request, "m.not_found", 404)
        return Response(found[0], media_type=found[1], headers=HEADERS)

    async def sign_out(self, request: Request) -> Response:
        held, _form, refusal = await self._posted(request)
        if refusal:
            return refusal
        response = self.page(request, "message.html", message_key="m.signed_out_ok")
        response.delete_cookie(SESSION_COOKIE, path=self.path(), httponly=True, samesite="lax")
        return response

    async def index(self, request: Request) -> Response:
        held = await run_in_threadpool(self.session_of, request)
        if held is not None:
            return self.redirect(request, "home", held)
        return self.refused(request, "m.open_your_link", 200)

    def routes(self) -> list[Route]:
        from ui import mobile_activities  # the online activities: their pages and home section (issue 16)

        p = self.path
        # Fixed paths first: a token always has dots, so none of these is taken for one.
        return [
            Route(p(""), self.index, methods=["GET"]),
            Route(p("home"), self.home, methods=["GET"]),
            Route(p("confirm"), self.confirm, methods=["POST"]),
            Route(p("edit"), self.edit, methods=["GET", "POST"]),
            Route(p("suggest"), self.suggest, methods=["GET", "POST"]),
            Route(p("suggest/{suggestion:row}"), self.suggestion, methods=["GET"]),
            Route(p("records"), self.records, methods=["GET", "POST"]),
            Route(p("photo/{record:row}"), self.photo, methods=["GET"]),
            Route(p("survey/{survey:row}"), self.survey, methods=["GET", "POST"]),
            Route(p("out"), self.sign_out, methods=["POST"]),
            *mobile_activities.routes(self),
            Route(p("{token}"), self.link, methods=["GET", "POST"]),
        ]


def chosen_option(question, sent: str) -> str:
    """A choice is sent as its position (shorter pages than the text twice); what is stored is the text."""
    if question.options and sent.isdigit() and int(sent) < len(question.options):
        return question.options[int(sent)]
    return sent


def routes(base_path: str, engine: Callable[[], Engine] | None = None) -> list[Route]:
    if engine is None:
        from ui.cache import get_engine

        engine = get_engine
    return Mobile(base_path, engine).routes()


def days_ago(moment: dt.datetime | None) -> int | None:
    return None if moment is None else (clock.today() - moment.date()).days


ENV.globals["days_ago"] = days_ago
