"""The public poster of an open activity and the sign-up its QR code opens (routes beside the door's).

- `GET <base>/_brain/poster/<activity id>` — a printable A4 poster: title, time, place and a QR
  code of the sign-up page; for staff and admins of the activity's scope (it is printed, not
  published by itself).
- `GET|POST <base>/_brain/signup/<activity id>` — the public sign-up: name, mobile and the
  activity's questions (conditional ones say when they apply; the server drops the others),
  matched as an import matches (loaders/signup.py). Only a published open activity answers.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from store import activities as act
from store.changes import WriteRefused
from ui.bodies import SMALL_FORM_BYTES, TOO_LARGE, bounded_body
from ui.cache import get_engine
from ui.checkin_web import TEMPLATES, activity_id_of, answered, door_of, qr_svg, render, when_text
from ui.web import route_path, same_origin


TEMPLATES["poster"] = """{% extends "base" %}{% block title %}{{ title }}{% endblock %}{% block body %}
<style>@page{size:A4;margin:20mm}body{max-width:none;text-align:center}h1{font-size:40px}
.qr svg{width:320px;height:320px}</style>
<h1>{{ title }}</h1><p class="big">{{ when }}</p><p class="big">{{ place }}</p>
<div class="qr">{{ qr|safe }}</div><p class="big">扫码报名 · scan to sign up</p>
{% if deadline %}<p>报名截止 · sign-ups close {{ deadline }}</p>{% endif %}{% endblock %}"""

TEMPLATES["signup"] = """{% extends "base" %}{% block title %}报名 · Sign up{% endblock %}{% block body %}
<h1>{{ title }}</h1><p>{{ when }}<br>{{ place }}</p>
{% if done %}<div class="ok" id="result">已收到您的报名，工作人员确认后会通知您 · your sign-up has arrived; the staff will
confirm it and let you know</div>{% else %}
{% if problems %}<div class="bad" id="result">{% for p in problems %}{{ p }}<br>{% endfor %}</div>{% endif %}
<form method="post"><label for="name">姓名 · name</label><input id="name" name="name" value="{{ form.name }}" maxlength="64" required>
<label for="mobile">手机号 · mobile</label><input id="mobile" name="mobile" value="{{ form.mobile }}" inputmode="tel" maxlength="32" required>
{% for q in questions %}<label for="q_{{ q.id }}">{{ q.label }}{% if q.required %} *{% endif %}
{% if q.when %}<span class="muted">（「{{ labels[q.when[0]] }}」选「{{ q.when[1] }}」时填写 · only if {{ q.when[1] }}）</span>{% endif %}</label>
{% if q.kind == "choice" %}<select id="q_{{ q.id }}" name="q_{{ q.id }}"><option value=""></option>
{% for o in q.options %}<option{% if form.get("q_" ~ q.id) == o %} selected{% endif %}>{{ o }}</option>{% endfor %}</select>
{% else %}<input id="q_{{ q.id }}" name="q_{{ q.id }}" value="{{ form.get("q_" ~ q.id, "") }}"
{% if q.kind == "number" %}inputmode="decimal"{% endif %} maxlength="500">{% endif %}{% endfor %}
<button type="submit">提交报名 · Sign up</button></form>{% endif %}{% endblock %}"""


def _open_plan(engine, activity_id: int) -> dict | None:
    try:
        plan = act.activity_plan(engine, activity_id)
    except act.ActivityRefused:
        return None
    return plan if plan["state"] == "published" and plan["audience"] == "open" else None


def poster_endpoint(base_path: str):
    async def endpoint(request: Request) -> Response:
        def answer() -> Response:
            engine = get_engine()
            aid = activity_id_of(request)
            plan = _open_plan(engine, aid) if aid else None
            door = door_of(request)
            if door is None or door.role not in ("staff", "admin"):
                return render("refused", 403, message="请先以工作人员身份登录 · sign in as staff first")
            if plan is None:
                return render("refused", 404, message="只有已发布的公开活动才有报名海报 · only a published open "
                                                      "activity has a sign-up poster")
            if not (door.scope.is_everything or door.scope.allows_street(plan["district_code"], plan["street"])):
                return render("refused", 403, message="此活动不在您的管辖范围内 · this activity is outside your scope")
            url = str(request.url_for("signup", activity_id=str(aid)))
            deadline = plan["signup_deadline"]
            return render("poster", title=plan["title"], when=when_text(plan), qr=qr_svg(url, 10),
                          place=plan["place"] or plan["online_link"] or "",
                          deadline=f"{deadline:%Y-%m-%d %H:%M}" if deadline else "")

        return await answered(answer, "poster")

    return endpoint


def signup_endpoint(base_path: str):
    async def endpoint(request: Request) -> Response:
        if request.method == "POST" and not same_origin(request):
            return render("refused", 403, message="请求被拒绝 · request refused")
        raw = await bounded_body(request, SMALL_FORM_BYTES) if request.method == "POST" else b""
        if raw is None:
            return render("refused", 413, message=TOO_LARGE)
        body = raw.decode("utf-8", errors="replace")

        def answer() -> Response:
            from loaders.signup import poster_sign_up

            engine = get_engine()
            aid = activity_id_of(request)
            plan = _open_plan(engine, aid) if aid else None
            if plan is None:
                return render("refused", 404, message="此活动目前不接受公开报名 · this activity takes no public sign-ups now")
            questions = act.load_questions(plan["questions"])
            form = {k: v[0] for k, v in parse_qs(body).items()}
            shown = dict(title=plan["title"], when=when_text(plan), place=plan["place"] or plan["online_link"] or "",
                         questions=questions, labels={q.id: q.label for q in questions}, form=form)
            if request.method == "GET":
                return render("signup", **shown)
            answers = {q.id: form.get(f"q_{q.id}", "") for q in questions}
            try:
                poster_sign_up(engine, aid, form.get("name", ""), form.get("mobile", ""), answers)
            except act.InvalidAnswers as refusal:
                return render("signup", 422, problems=list(refusal.problems.values()), **shown)
            except WriteRefused as refusal:
                return render("signup", 422, problems=[str(refusal)], **shown)
            return render("signup", done=True, **shown)

        return await answered(answer, "poster sign-up")

    return endpoint


def routes(base_path: str) -> list[Route]:
    return [
        Route(route_path(base_path, "poster", "{activity_id}"), poster_endpoint(base_path), methods=["GET"]),
        Route(route_path(base_path, "signup", "{activity_id}"), signup_endpoint(base_path), methods=["GET", "POST"],
              name="signup"),
    ]
