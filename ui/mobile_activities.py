"""The online activities on the representatives' phone pages (`<base>/m/`, ui/mobile.py).

- a section of the home page (through `ui.mobile.HOME_SECTIONS`): the activities the person may see
  (store/activities.py `activities_for`: open ones, those inviting them, cancelled ones with the reason,
  finished ones they took part in), each with where they stand, and a mark when something changed;
- `/m/activity/<id>`: time, place (the online link once approved), deadline, places left; the sign-up
  form with the activity's questions as plain fields: a conditional question is always there, with a note
  saying when it applies, and the server (`sign_up`, which validates the answers) drops it otherwise and
  names every problem beside its field, Chinese first; decline (an invitee, with an optional reason);
  a notice (promoted from the wait list) is shown here once and then marked as told;
- `/m/activity/<id>/withdraw`: a page that asks before withdrawing;
- `/m/activity/<id>/pass`: the pass's QR code (inline SVG, made here) of the pass URL the steward's
  door opens, as often as the representative wants to show it.

Every write goes through store/activities.py as the person (source `self`); every form carries the
session's CSRF value; an activity the person may not see answers 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from store import activities as act
from store import clock, reps
from store.changes import WriteRefused
from store.settings import get_setting
from ui.i18n import translate
from ui.mobile import ENV, HOME_SECTIONS, LIST_ITEMS, Mobile, chosen_option

REASON_LENGTH = 200
OPEN_AGAIN = (None, "declined", "withdrawn")  # no sign-up standing: the form is offered
WITHDRAWABLE = ("registered", "approved", "waitlisted")


def standing(a: Mapping, lang: str) -> tuple[str, str]:
    """Where the person stands in one activity: (a CSS word, the words for it)."""
    state, status = a["state"], a["status"]
    values = {}
    if state == "cancelled":
        key = "cancelled"
    elif state == "finished":
        key = "attended" if status == "checked_in" else "absent"
    elif status is None:
        deadline = a["signup_deadline"]
        key = "closed" if deadline is not None and clock.now() > deadline else "open"
    elif status == "waitlisted" and a.get("waitlist_position"):
        key, values = "waitlisted_at", {"n": int(a["waitlist_position"])}
    else:
        key = status
    words = translate(f"m.act.state.{key}", lang, **values)
    return key.split("_at")[0], words


def when_text(a: Mapping) -> str:
    from ui.checkin_web import when_text as door_when  # the door's wording of a time span

    return door_when(a)


def home_section(engine: Engine, person_id: int, lang: str) -> Markup:
    """The home page's list of the person's activities."""
    items = act.my_activities(engine, person_id, limit=LIST_ITEMS)
    for a in items:
        a["css"], a["words"] = standing(a, lang)
    html = ENV.get_template("m/_activities.html").render(t=lambda key, **kw: translate(key, lang, **kw),
                                                         items=items, when=when_text)
    return Markup(html)


class ActivityPages:
    """The activity routes, on the phone pages' session, forms and templates (a `Mobile`)."""

    def __init__(self, mobile: Mobile):
        self.m = mobile

    def routes(self) -> list[Route]:
        p = self.m.path
        return [
            Route(p("activity/{activity:int}"), self.activity, methods=["GET", "POST"]),
            Route(p("activity/{activity:int}/decline"), self.decline, methods=["POST"]),
            Route(p("activity/{activity:int}/withdraw"), self.withdraw, methods=["GET", "POST"]),
            Route(p("activity/{activity:int}/pass"), self.pass_page, methods=["GET"]),
        ]

    # ---- reading

    async def _mine(self, request: Request):
        """(session, the activity as this person sees it, None), or a refusal last."""
        held, refusal = await self.m._session(request)
        if refusal:
            return None, None, refusal
        found = await run_in_threadpool(act.activity_for, self.m.engine(), request.path_params["activity"],
                                        held.person)
        if found is None:
            return held, None, self.m.refused(request, "m.not_found", 404)
        return held, found, None

    def _show(self, request: Request, held, a: dict, *, status: int = 200, answers: Mapping | None = None,
              problems: Mapping | None = None, error: str | None = None) -> Response:
        lang = self.m.lang(request)
        a["css"], a["words"] = standing(a, lang)
        published, mine = a["state"] == "published", a["status"]
        deadline = a["signup_deadline"]
        open_now = published and (deadline is None or clock.now() <= deadline)
        capacity = a["capacity"]
        left = None if capacity is None else max(capacity - int(a["places_taken"] or 0), 0)
        questions = a["questions"]
        return self.m._render(
            request, held, "activity.html", status, a=a, when=when_text(a), questions=questions,
            labels={q.id: q.label for q in questions}, answers=answers if answers is not None else a["answers"],
            problems=problems or {}, error=error, left=left,
            may_sign_up=open_now and mine in OPEN_AGAIN, full=left == 0 and not a["needs_review"],
            may_decline=published and a["invited"] and mine is None,
            may_withdraw=published and mine in WITHDRAWABLE,
            has_pass=published and mine in act.PLACED,
            online_link=a["online_link"] if mine in act.PLACED or a["state"] == "finished" else None)

    # ---- the activity, and signing up

    async def activity(self, request: Request) -> Response:
        held, a, refusal = await self._mine(request)
        if refusal:
            return refusal
        engine, aid = self.m.engine(), a["id"]
        if request.method == "GET":
            response = self._show(request, held, a)
            if a["notice"]:
                # Shown on this page: told.
                await run_in_threadpool(act.mark_told, engine, aid, held.person)
            return response
        form, refusal = await self.m._form(request, held)
        if refusal:
            return refusal
        answers = {q.id: chosen_option(q, str(form.get(f"a_{q.id}", ""))) if q.kind == "choice"
                   else str(form.get(f"a_{q.id}", "")) for q in a["questions"]}
        try:
            done = await run_in_threadpool(act.sign_up, engine, aid, held.person, answers)
        except act.InvalidAnswers as invalid:
            return self._show(request, held, a, status=400, answers=answers, problems=invalid.problems,
                              error=translate("m.act.problems", self.m.lang(request)) + "；".join(
                                  invalid.problems.values()))
        except WriteRefused as refused:
            return await self._again(request, held, aid, str(refused), answers)
        return self.m._done(request, held, f"activity/{aid}", f"act_{done.status}")

    async def _again(self, request: Request, held, aid: int, error: str, answers=None) -> Response:
        """The page again (as it is now) with a refusal on top."""
        a = await run_in_threadpool(act.activity_for, self.m.engine(), aid, held.person)
        if a is None:
            return self.m.refused(request, "m.not_found", 404)
        return self._show(request, held, a, status=409, answers=answers, error=error)

    async def decline(self, request: Request) -> Response:
        held, a, refusal = await self._mine(request)
        if refusal:
            return refusal
        return await self._with_reason(request, held, a, act.decline, "act_declined")

    async def withdraw(self, request: Request) -> Response:
        held, a, refusal = await self._mine(request)
        if refusal:
            return refusal
        if request.method == "GET":
            if a["state"] != "published" or a["status"] not in WITHDRAWABLE:
                return await self._again(request, held, a["id"], act.NOTHING_TO_WITHDRAW)
            return self.m._render(request, held, "withdraw.html", a=a, when=when_text(a))
        return await self._with_reason(request, held, a, act.withdraw, "act_withdrawn")

    async def _with_reason(self, request: Request, held, a: dict, action, flag: str) -> Response:
        """A form with an optional reason that calls `action(engine, activity, person, reason)`."""
        form, refusal = await self.m._form(request, held)
        if refusal:
            return refusal
        reason = str(form.get("reason", ""))[:REASON_LENGTH]
        try:
            await run_in_threadpool(action, self.m.engine(), a["id"], held.person, reason)
        except WriteRefused as refused:
            return await self._again(request, held, a["id"], str(refused))
        return self.m._done(request, held, f"activity/{a['id']}", flag)

    # ---- the pass

    def pass_base(self, request: Request) -> str:
        """Where the steward's phone opens the pass: the configured public address, else this page's."""
        configured = str(get_setting("public_url") or "").strip()
        return configured or f"{request.url.scheme}://{request.url.netloc}{self.m.base}"

    async def pass_page(self, request: Request) -> Response:
        held, a, refusal = await self._mine(request)
        if refusal:
            return refusal
        if a["state"] != "published" or a["status"] not in act.PLACED:
            return await self._again(request, held, a["id"], translate("m.act.no_pass", self.m.lang(request)))
        from ui.checkin_web import pass_url, qr_svg
        from ui.web import route_path

        engine = self.m.engine()
        token, me = await run_in_threadpool(lambda: (act.pass_token(engine, a["id"], held.person),
                                                     reps.profile(engine, held.person)))
        a["css"], a["words"] = standing(a, self.m.lang(request))
        return self.m._render(request, held, "pass.html", a=a, when=when_text(a), name=me["name"] if me else "",
                              qr=Markup(qr_svg(pass_url(self.pass_base(request), token), fluid=True)),
                              link=route_path(self.m.base, "pass", token))


def routes(mobile: Mobile) -> list[Route]:
    return ActivityPages(mobile).routes()


if home_section not in HOME_SECTIONS:
    HOME_SECTIONS.append(home_section)
