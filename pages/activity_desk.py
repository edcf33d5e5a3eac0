"""Activity desk: plan and edit an activity run online, invite with the explorer's filters, review sign-ups in bulk,
the wait list, door stewards and the activity's state. Every action is a call into store/activities.py."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict

import streamlit as st

from store import activities as act
from store import clock
from store import surveys as sv
from store.changes import WriteRefused
from store.queries.explorer import filter_options, headcount
from store.schema import ACTIVITY_AUDIENCES, ACTIVITY_KINDS
from ui.auth import guard_page
from ui.cache import data_changed, get_engine, query
from ui.filters import filter_sidebar
from ui.i18n import current_language, t
from ui.markdown import escape_markdown
from ui.tables import MISSING
from ui.web import route_path

viewer = guard_page("activity_desk")
scope = viewer.scope
lang = current_language()
engine = get_engine()

st.title(t("page.activity_desk"))
st.caption(t("desk.caption"))

planned = query(act.planned_activities, scope, states=("draft", "published", "finished", "cancelled"))
# The label leaves the state out: Streamlit keeps a selectbox's choice by its label, and publishing would
# change it under the viewer (the choice came back as the old label's text).
labels = {int(r.id): f"{r.starts_at:%Y-%m-%d} · {r.title}" for r in planned.itertuples()}
NEW = 0
if "desk_next" in st.session_state:
    # A plan just saved opens itself (the selectbox's state may only be set before it is drawn).
    st.session_state["desk_activity"] = st.session_state.pop("desk_next")
chosen = st.selectbox(t("desk.pick"), [NEW, *labels], format_func=lambda i: labels.get(i, t("desk.new")),
                      key="desk_activity", index=1 if labels else 0)
if chosen not in labels:
    chosen = NEW  # an activity gone from the list (or a value the widget no longer knows)
plan = act.activity_plan(engine, chosen) if chosen else None


def done(message: str) -> None:
    data_changed()
    st.session_state["desk_notice"] = message
    st.rerun()


def refused(exc: WriteRefused) -> None:
    st.error(escape_markdown(str(exc)))


if notice := st.session_state.pop("desk_notice", None):
    st.success(notice)

tabs = st.tabs([t("desk.tab.plan"), t("desk.tab.audience"), t("desk.tab.review"), t("desk.tab.waitlist"),
                t("desk.tab.door")])

# ---------------------------------------------------------------- plan
with tabs[0]:
    opts = query(filter_options, scope, lang)
    districts = [c for c, _ in opts.districts]
    names = dict(opts.districts)
    p = plan or {}
    start = p.get("starts_at") or dt.datetime.combine(clock.today() + dt.timedelta(days=7), dt.time(9))
    end = p.get("ends_at") or start + dt.timedelta(hours=3)
    with st.form("desk_plan"):
        title = st.text_input(t("desk.f.title"), value=p.get("title", ""), max_chars=200, key=f"desk_title_{chosen}")
        c1, c2, c3 = st.columns(3)
        kind = c1.selectbox(t("desk.f.kind"), ACTIVITY_KINDS, index=ACTIVITY_KINDS.index(p.get("kind") or "onsite"),
                            format_func=lambda k: t(f"activities.kind.{k}"))
        district = c2.selectbox(t("desk.f.district"), districts, format_func=lambda c: names.get(c, c),
                                index=districts.index(p["district_code"]) if p.get("district_code") in districts else 0)
        street = c3.text_input(t("desk.f.street"), value=p.get("street") or "", max_chars=64)
        c1, c2 = st.columns(2)
        place = c1.text_input(t("desk.f.place"), value=p.get("place") or "", max_chars=200, key=f"desk_place_{chosen}")
        link = c2.text_input(t("desk.f.online_link"), value=p.get("online_link") or "", max_chars=500)
        c1, c2, c3, c4 = st.columns(4)
        start_day = c1.date_input(t("desk.f.starts"), value=start.date())
        start_time = c2.time_input(t("desk.f.starts") + " ", value=start.time())
        end_day = c3.date_input(t("desk.f.ends"), value=end.date())
        end_time = c4.time_input(t("desk.f.ends") + " ", value=end.time())
        c1, c2, c3, c4 = st.columns(4)
        capacity = c1.number_input(t("desk.f.capacity"), min_value=0, max_value=100_000, step=1,
                                   value=int(p.get("capacity") or 0), key=f"desk_capacity_{chosen}")
        deadline = c2.date_input(t("desk.f.deadline"),
                                 value=(p.get("signup_deadline") or start - dt.timedelta(days=1)).date())
        needs_review = c3.toggle(t("desk.f.needs_review"), value=bool(p.get("needs_review", True)))
        audience = c4.segmented_control(t("desk.f.audience"), ACTIVITY_AUDIENCES, required=True,
                                        default=p.get("audience") or "invited",
                                        format_func=lambda a: t(f"desk.audience.{a}"))
        saved = st.form_submit_button(t("desk.save"), type="primary")
    if saved:
        try:
            starts = dt.datetime.combine(start_day, start_time)
            new_plan = act.Plan(
                title=title, kind=kind, starts_at=starts, ends_at=dt.datetime.combine(end_day, end_time),
                district_code=district, street=street, place=place, online_link=link,
                capacity=int(capacity) or None,
                # The deadline's day ends at its close, or at the start when the activity begins that day.
                signup_deadline=min(dt.datetime.combine(deadline, dt.time(23, 59)), starts) if deadline else None,
                needs_review=needs_review, audience=audience or "invited",
                questions=act.load_questions(p.get("questions")))
            if chosen:
                act.edit_activity(engine, chosen, new_plan, actor=viewer.name, scope=scope)
            else:
                st.session_state["desk_next"] = act.plan_activity(engine, new_plan, actor=viewer.name, scope=scope)
            done(t("desk.saved"))
        except WriteRefused as exc:
            refused(exc)


def question_line(q: act.Question) -> str:
    parts = [t(f"desk.kind.{q.kind}")]
    if q.options:
        parts.append(" / ".join(map(escape_markdown, q.options)))
    if q.required:
        parts.append(t("desk.q.required"))
    if q.when:
        parts.append(t("desk.q.asked_when", id=escape_markdown(q.when[0]), answer=escape_markdown(q.when[1])))
    return f"**{escape_markdown(q.id)}** {escape_markdown(q.label)}（{'；'.join(parts)}）"


if plan is not None:
    with tabs[0]:
        st.markdown(f"**{t('desk.f.questions')}**")
        questions = list(act.load_questions(plan["questions"]))
        for i, q in enumerate(questions):
            c1, c2 = st.columns([6, 1], vertical_alignment="center")
            c1.markdown(question_line(q))
            if c2.button(t("desk.q.remove"), key=f"desk_q_remove_{i}"):
                try:
                    act.set_questions(engine, int(plan["id"]), questions[:i] + questions[i + 1:], actor=viewer.name,
                                      scope=scope)
                    done(t("desk.saved"))
                except WriteRefused as exc:
                    refused(exc)
        with st.form("desk_question", clear_on_submit=True):
            st.caption(t("desk.f.questions_help"))
            c1, c2, c3 = st.columns([1, 3, 1], vertical_alignment="bottom")
            kind = c1.selectbox(t("desk.q.kind"), act.QUESTION_KINDS, format_func=lambda k: t(f"desk.kind.{k}"),
                                key="desk_q_kind")
            label = c2.text_input(t("desk.q.label"), max_chars=200, key="desk_q_label")
            required = c3.checkbox(t("desk.q.required"), key="desk_q_required")
            c1, c2, c3 = st.columns(3)
            options = c1.text_input(t("desk.q.options"), max_chars=500, key="desk_q_options")
            when_id = c2.selectbox(t("desk.q.when_id"), [None, *(q.id for q in questions)], key="desk_q_when_id",
                                   format_func=lambda i: t("desk.q.always") if i is None else i)
            when_answer = c3.text_input(t("desk.q.when_answer"), max_chars=200, key="desk_q_when_answer")
            if st.form_submit_button(t("desk.q.add")):
                new = dict(id=f"q{len(questions) + 1}", kind=kind, label=label, required=required,
                           options=options.replace("，", ",").split(","),
                           when=[when_id, when_answer.strip()] if when_id else None)
                try:
                    added = act.parse_questions([asdict(q) for q in questions] + [new])
                    act.set_questions(engine, int(plan["id"]), added, actor=viewer.name, scope=scope)
                    done(t("desk.saved"))
                except WriteRefused as exc:
                    refused(exc)

if plan is None:
    for tab in tabs[1:]:
        tab.info(t("desk.none"))
    st.stop()

aid = int(plan["id"])
counts = query(act.status_counts, aid)

# ---------------------------------------------------------------- audience
with tabs[1]:
    if plan["audience"] == "open":
        st.info(t("desk.open_audience"))
    flt = filter_sidebar(query(filter_options, scope, lang))
    matched = query(headcount, scope, flt, clock.today()).matched
    st.caption(t("desk.invite_caption", n=counts.get("invited", 0)))
    if st.button(t("desk.invite", n=f"{matched:,}"), disabled=not matched or plan["state"] in ("finished", "cancelled"),
                 key="desk_invite"):
        try:
            n = act.invite(engine, aid, flt, actor=viewer.name, scope=scope, today=clock.today())
            done(t("desk.invited", n=n))
        except WriteRefused as exc:
            refused(exc)


def sign_up_table(statuses: tuple[str, ...], key: str) -> list[int]:
    rows = query(act.sign_ups, aid, scope, statuses=statuses)
    if rows.empty:
        st.caption(t("desk.no_sign_ups"))
        return []
    shown = rows.assign(pick=False, status=rows["status"].map(act.STATUS_NAMES),
                        answers=rows["answers"].map(lambda a: "；".join(f"{k}：{v}" for k, v in json.loads(a).items())
                                                    if a else ""))
    edited = st.data_editor(
        shown, key=key, hide_index=True, width="stretch", disabled=[c for c in shown.columns if c != "pick"],
        column_order=["pick", "name", "status", "registered_at", "answers", "reason", "checked_in_at",
                      "checked_in_by"],
        column_config={"pick": st.column_config.CheckboxColumn(t("desk.col.pick")),
                       **{c: st.column_config.Column(t(f"desk.col.{c}")) for c in
                          ("name", "status", "answers", "reason", "checked_in_by")},
                       "registered_at": st.column_config.DatetimeColumn(t("desk.col.registered_at"),
                                                                         format="MM-DD HH:mm"),
                       "checked_in_at": st.column_config.DatetimeColumn(t("desk.col.checked_in_at"),
                                                                         format="MM-DD HH:mm")},
                            placeholder=MISSING)
    return [int(p) for p in edited.loc[edited["pick"], "person_id"]]


# ---------------------------------------------------------------- review
with tabs[2]:
    cols = st.columns(6)
    for col, status in zip(cols, ("registered", "approved", "waitlisted", "checked_in", "rejected", "withdrawn")):
        col.metric(act.STATUS_NAMES[status].split(" · ")[0 if lang == "zh" else 1], counts.get(status, 0))
    picked = sign_up_table(("registered", "approved", "waitlisted", "rejected", "checked_in", "withdrawn",
                            "declined", "absent"), f"desk_review_{aid}")
    c1, c2, c3, c4 = st.columns([1, 1, 2, 1], vertical_alignment="bottom")
    reason = c3.text_input(t("desk.reject_reason"), key="desk_reason", max_chars=200)
    awaiting = query(act.sign_ups, aid, scope, statuses=("registered",))["person_id"].astype(int).tolist()
    # (button key, persons, approve): the ticked ones either way, or everyone awaiting review in sign-up order.
    actions = (("desk_review_True", c1, "desk.approve", picked, True),
               ("desk_review_all", c2, "desk.approve_all", awaiting, True),
               ("desk_review_False", c4, "desk.reject", picked, False))
    for key, col, label, persons, approve in actions:
        if col.button(t(label, n=len(awaiting)), key=key, type="primary" if approve else "secondary",
                      disabled=key == "desk_review_all" and not awaiting):
            if not persons:
                st.warning(t("desk.pick_rows"))
                continue
            try:
                out = act.review(engine, aid, persons, approve=approve, reason=reason, actor=viewer.name, scope=scope)
                done(t("desk.reviewed", a=len(out.approved), w=len(out.waitlisted), r=len(out.rejected),
                       p=len(out.promoted), s=len(out.skipped)))
            except WriteRefused as exc:
                refused(exc)

# ---------------------------------------------------------------- wait list
with tabs[3]:
    st.caption(t("desk.waitlist_caption"))
    sign_up_table(("waitlisted",), f"desk_waitlist_{aid}")

def feedback_section() -> None:
    """A finished activity: a survey to those who checked in, answered on their phones (/m/)."""
    st.subheader(t("desk.feedback"))
    arrived = counts.get("checked_in", 0)
    if not arrived:
        st.caption(t("desk.feedback_nobody"))
        return
    st.caption(t("desk.feedback_how", n=arrived))
    # Not cached: writing a survey moves no data version.
    listed = sv.surveys(engine)
    choices = {NEW: t("desk.feedback_new"),
               **{int(r.id): r.title for r in listed.itertuples() if r.status in ("draft", "open")}}
    pick = st.selectbox(t("desk.feedback_pick"), list(choices), format_func=choices.get, key="desk_feedback_pick")
    if st.button(t("desk.feedback_send", n=arrived), key="desk_feedback_send"):
        try:
            _, sent = act.send_feedback(engine, aid, actor=viewer.name, scope=scope, survey_id=pick or None)
            done(t("desk.feedback_sent", n=sent))
        except WriteRefused as exc:
            refused(exc)


# ---------------------------------------------------------------- door and state
with tabs[4]:
    st.markdown(t("desk.state", state=act.STATE_NAMES[plan["state"]]))
    if plan["cancel_reason"]:
        st.caption(escape_markdown(plan["cancel_reason"]))
    base = st.get_option("server.baseUrlPath")
    st.caption(t("desk.door_link", url=route_path(base, "door", str(aid))))
    st.page_link("pages/hall.py", label=t("desk.hall_link"), query_params={"activity": str(aid), "kiosk": "1"},
                 icon=":material/groups:")
    if plan["audience"] == "open" and plan["state"] == "published":
        st.link_button(t("desk.poster"), route_path(base, "poster", str(aid)), icon=":material/print:")
    c1, c2 = st.columns(2)
    try:
        if plan["state"] == "draft" and c1.button(t("desk.publish"), type="primary", key="desk_publish"):
            act.publish_activity(engine, aid, actor=viewer.name, scope=scope)
            done(t("desk.done"))
        if plan["state"] == "published" and c1.button(t("desk.finish"), key="desk_finish"):
            act.finish_activity(engine, aid, actor=viewer.name, scope=scope)
            done(t("desk.done"))
        if plan["state"] in ("draft", "published"):
            why = c2.text_input(t("desk.cancel_reason"), key="desk_cancel_reason", max_chars=200)
            if c2.button(t("desk.cancel"), key="desk_cancel"):
                act.cancel_activity(engine, aid, why, actor=viewer.name, scope=scope)
                done(t("desk.done"))
        st.subheader(t("desk.stewards"))
        # Not cached: an assignment moves the accounts epoch, not the data version.
        st.caption(t("desk.stewards_now", names="、".join(map(escape_markdown, act.stewards_of(engine, aid))) or "—"))
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        who = c1.text_input(t("desk.steward_name"), key="desk_steward", max_chars=64)
        if c2.button(t("desk.assign"), key="desk_assign") and who.strip():
            act.assign_steward(engine, who.strip(), aid, actor=viewer.name, scope=scope)
            done(t("desk.done"))
    except WriteRefused as exc:
        refused(exc)
    if plan["state"] == "finished":
        feedback_section()
