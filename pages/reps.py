"""代表服务 · Representatives: the staff's desk for what representatives send through /m/.

Corrections reviewed field by field (accepted ones through the write path, source self),
suggestions handled (assign, reply, status), records accepted or rejected, surveys written,
sent to the explorer's selection and read (response rate, charts, cross-tabs, export), and personal
links issued, downloaded (Excel list and QR codes) and revoked. Everything is scoped: a
district's staff see and decide for their own persons only. Representatives' texts are
shown inert (tables and plain text, never markdown or HTML).
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from charts.surveys import choice_bars, crosstab_heatmap
from charts.values import percent
from store import reps
from store import surveys as sv
from store.changes import WriteRefused
from store.privacy import mask_phone, may_see_personal
from store.schema import QUESTION_KINDS, SUGGESTION_STATUSES
from store.settings import get_setting
from ui.auth import guard_page
from ui.cache import data_changed, get_engine
from ui.filters import read_filter
from ui.i18n import current_language, t
from ui.markdown import escape_markdown
from ui.tables import MISSING

viewer = guard_page("reps")
engine = get_engine()
scope = viewer.scope

st.title(t("page.reps"))
st.caption(t("reps.intro"))


def field_name(field: str) -> str:
    return t(f"m.field.{field}")


def refused(exc: WriteRefused) -> None:
    st.error(escape_markdown(str(exc)))


def public_base() -> str:
    configured = str(get_setting("public_url") or "").strip()
    if configured:
        return configured
    url = st.context.url or ""
    # The page's own address without its page path: links go to <origin>/<base path>/m/<token>.
    base_path = st.get_option("server.baseUrlPath").strip("/")
    origin = "/".join(url.split("/")[:3])
    return f"{origin}/{base_path}" if base_path else origin


# ---------------------------------------------------------------- corrections

def shown_values(pending: pd.DataFrame, column: str) -> list:
    """A column of proposed fields as this viewer may see it: a phone masked unless the role sees it in full."""
    if may_see_personal(viewer.role):
        return list(pending[column])
    return [mask_phone(v) if f == "phone" else v for f, v in zip(pending["field"], pending[column])]


REQUESTS_SHOWN = 20
DECISIONS = ("pending", "accept", "reject")


def done(message: str) -> None:
    """A decision saved: the figures follow, and the page is drawn again without what was decided."""
    data_changed()
    st.session_state["reps_notice"] = message
    st.rerun()


def decide(decisions: list[reps.Decision]) -> None:
    if not decisions:
        st.warning(t("reps.changes.nothing"))
        return
    try:
        counts = reps.decide_fields(engine, decisions, actor=viewer.name, scope=scope)
    except WriteRefused as exc:
        refused(exc)
        return
    done(t("reps.changes.done", **counts))


def request_form(rows: pd.DataFrame) -> None:
    """One correction request: its fields side by side (inert text), and per field accept (as
    proposed, or as edited here), reject with a reason the representative sees, or leave for later."""
    first = rows.iloc[0]
    rid = int(first["request_id"])
    with st.form(f"reps_request_{rid}", enter_to_submit=False):
        st.text(f"{first['name']} · {t('reps.changes.sent', at=f'{first.submitted_at:%Y-%m-%d %H:%M}')}")
        proposed = shown_values(rows, "new_value")
        st.dataframe(pd.DataFrame({
            t("reps.col.field"): [field_name(f) for f in rows["field"]],
            t("reps.col.when_proposed"): shown_values(rows, "old_value"),
            t("reps.col.now"): shown_values(rows, "current_value"),
            t("reps.col.proposed"): proposed}), hide_index=True, width="stretch", placeholder=MISSING)
        chosen = []
        for r, shown in zip(rows.itertuples(), proposed):
            fid = int(r.field_id)
            name, choice, value, reason = st.columns([1, 2, 2, 2], vertical_alignment="bottom")
            name.markdown(f"**{escape_markdown(field_name(r.field))}**")
            decision = choice.radio(t("reps.col.decision"), DECISIONS, horizontal=True, key=f"reps_decide_{fid}",
                                    format_func=lambda d: t(f"reps.decision.{d}"))
            # A masked proposal left as shown is accepted as proposed; a number typed over it is taken.
            accepted = value.text_input(t("reps.col.value"), value=shown or "", key=f"reps_value_{fid}")
            why = reason.text_input(t("reps.col.reason"), key=f"reps_reason_{fid}")
            chosen.append((r, decision, accepted, shown, why))
        if st.form_submit_button(t("reps.changes.apply"), type="primary"):
            decide([reps.Decision(int(r.field_id), decision == "accept",
                                  value=None if decision != "accept" or accepted == (shown or "") else accepted,
                                  reason=why or None)
                    for r, decision, accepted, shown, why in chosen if decision != "pending"])


def bulk_form(pending: pd.DataFrame) -> None:
    """Every field waiting, accepted as proposed or rejected with one reason."""
    with st.expander(t("reps.changes.bulk")), st.form("reps_bulk"):
        decision = st.radio(t("reps.col.decision"), DECISIONS[1:], horizontal=True, key="reps_bulk_decision",
                            format_func=lambda d: t(f"reps.decision.{d}"))
        reason = st.text_input(t("reps.changes.bulk_reason"), key="reps_bulk_reason")
        if st.form_submit_button(t("reps.changes.bulk_apply", n=len(pending))):
            decide([reps.Decision(int(f), decision == "accept", reason=reason or None) for f in pending["field_id"]])


def corrections_tab() -> None:
    pending = reps.pending_fields(engine, scope)
    if pending.empty:
        st.info(t("reps.changes.none"))
        return
    requests = list(dict.fromkeys(pending["request_id"]))
    st.caption(t("reps.changes.how", n=len(pending), requests=len(requests), shown=min(len(requests), REQUESTS_SHOWN)))
    for rid in requests[:REQUESTS_SHOWN]:
        request_form(pending[pending["request_id"] == rid])
    bulk_form(pending)


# ---------------------------------------------------------------- suggestions

def suggestions_tab() -> None:
    counts = st.columns(4)
    for column, by in zip(counts, ("status", "kind", "topic", "category_code")):
        frame = reps.suggestion_counts(engine, scope, by)
        if by in ("status", "kind"):
            prefix = "m.status." if by == "status" else "m.kind."
            frame[by] = [t(prefix + v) for v in frame[by]]
        column.dataframe(frame.rename(columns={by: t(f"reps.by.{by}"), "n": t("reps.col.n")}), hide_index=True,
                         placeholder=MISSING)
    status = st.selectbox(t("reps.sugg.status_filter"), ["", *SUGGESTION_STATUSES],
                          format_func=lambda s: t(f"m.status.{s}") if s else t("reps.all"), key="reps_sugg_status")
    rows = reps.suggestions(engine, scope, status=status or None)
    if rows.empty:
        st.info(t("reps.sugg.none"))
        return
    shown = pd.DataFrame({
        t("reps.col.name"): rows["name"], t("reps.col.kind"): [t(f"m.kind.{k}") for k in rows["kind"]],
        t("reps.col.title"): rows["title"], t("reps.col.topic"): rows["topic"],
        t("reps.col.status"): [t(f"m.status.{s}") for s in rows["status"]], t("reps.col.assignee"): rows["assignee"],
        t("reps.col.submitted"): rows["submitted_at"]})
    picked = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row",
                          key="reps_sugg_list", width="stretch", placeholder=MISSING)
    chosen = picked.selection.rows
    if not chosen:
        st.caption(t("reps.sugg.pick"))
        return
    row = rows.iloc[chosen[0]]
    st.text(f"{row['title']}\n\n{row['body']}")
    options = [row["status"], *reps.NEXT_STATUS.get(row["status"], ())]
    with st.form(f"reps_sugg_{row['id']}"):
        new_status = st.selectbox(t("reps.col.status"), options, format_func=lambda s: t(f"m.status.{s}"))
        assignee = st.text_input(t("reps.col.assignee"), value=row["assignee"] or "")
        reply = st.text_area(t("reps.sugg.reply"), value=row["reply"] or "")
        if st.form_submit_button(t("reps.save")):
            try:
                reps.handle_suggestion(engine, int(row["id"]), actor=viewer.name, scope=scope, status=new_status,
                                       assignee=assignee, reply=reply)
            except WriteRefused as exc:
                refused(exc)
                return
            done(t("reps.saved"))


# ---------------------------------------------------------------- records

def records_tab() -> None:
    rows = reps.records(engine, scope)
    if rows.empty:
        st.info(t("reps.records.none"))
        return
    shown = pd.DataFrame({
        t("reps.col.name"): rows["name"], t("reps.col.kind"): [t(f"m.record.{k}") for k in rows["kind"]],
        t("reps.col.day"): rows["day"], t("reps.col.text"): rows["body"], t("reps.col.photo"): rows["has_photo"]})
    picked = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row",
                          key="reps_records_list", width="stretch", placeholder=MISSING)
    if not picked.selection.rows:
        st.caption(t("reps.records.pick"))
        return
    row = rows.iloc[picked.selection.rows[0]]
    st.text(row["body"])
    if row["has_photo"]:
        found = reps.record_photo(engine, int(row["id"]), scope=scope)
        if found:
            st.image(found[0], width=320)
    reason = st.text_input(t("reps.col.reason"), key=f"reps_record_reason_{row['id']}")
    accept, reject = st.columns(2)
    try:
        if accept.button(t("reps.decision.accept"), key=f"reps_record_accept_{row['id']}"):
            reps.decide_record(engine, int(row["id"]), True, actor=viewer.name, scope=scope)
            done(t("reps.saved"))
        if reject.button(t("reps.decision.reject"), key=f"reps_record_reject_{row['id']}"):
            reps.decide_record(engine, int(row["id"]), False, actor=viewer.name, scope=scope, reason=reason)
            done(t("reps.saved"))
    except WriteRefused as exc:
        refused(exc)


# ---------------------------------------------------------------- links

def offer_links(ids: list[int], days: int) -> None:
    """The links are issued, and zipped with their QR codes, when the one-time download link this
    click makes is fetched (ui/downloads.py): they exist nowhere but in that one file."""
    from ui.downloads import offer_links as offer

    if offer(ids, days=days, base_url=public_base()):
        st.success(t("reps.links.downloading", n=len(ids)))


def links_tab() -> None:
    days = st.number_input(t("reps.links.days"), min_value=1, max_value=reps.MAX_DAYS, value=reps.DEFAULT_DAYS,
                           key="reps_days")
    st.caption(t("reps.links.how"))
    one, many = st.columns(2)
    with one:
        pid = st.number_input(t("reps.links.person"), min_value=1, step=1, value=None, key="reps_one")
        if st.button(t("reps.links.issue_one"), key="reps_issue_one", disabled=pid is None):
            if reps.in_scope(engine, [int(pid)], scope):
                offer_links([int(pid)], int(days))
            else:
                st.warning(t("reps.links.nobody"))
    with many:
        flt = read_filter()
        ids = reps.selected_ids(engine, scope, flt)
        st.caption(t("reps.links.selection", n=len(ids)) if not flt.is_empty() else t("reps.links.no_filter"))
        if st.button(t("reps.links.issue_many", n=len(ids)), key="reps_issue_many", disabled=flt.is_empty() or not ids):
            offer_links(ids, int(days))
    st.subheader(t("reps.links.locked"))
    locked = reps.links(engine, scope, locked_only=True)
    if locked.empty:
        st.caption(t("reps.links.none_locked"))
    else:
        picked = st.dataframe(locked[["person_id", "name", "failed_tries", "locked_at", "issued_by"]].rename(columns={
            "person_id": t("reps.col.person_id"), "name": t("reps.col.name"), "failed_tries": t("reps.col.tries"),
            "locked_at": t("reps.col.locked_at"), "issued_by": t("reps.col.issued_by")}), hide_index=True,
            on_select="rerun", selection_mode="multi-row", key="reps_locked", placeholder=MISSING)
        chosen = [int(locked["person_id"].iloc[i]) for i in picked.selection.rows]
        if st.button(t("reps.links.reissue", n=len(chosen)), key="reps_reissue", disabled=not chosen):
            offer_links(chosen, int(days))
    with st.form("reps_revoke"):
        target = st.number_input(t("reps.links.revoke_person"), min_value=1, step=1, value=None)
        if st.form_submit_button(t("reps.links.revoke")) and target:
            try:
                done = reps.revoke_link(engine, int(target), actor=viewer.name, scope=scope)
                (st.success if done else st.info)(t("reps.links.revoked" if done else "reps.links.no_link"))
            except WriteRefused as exc:
                refused(exc)


# ---------------------------------------------------------------- surveys

def new_survey_form() -> None:
    with st.expander(t("reps.survey.new")):
        title = st.text_input(t("reps.col.title"), key="sv_title")
        intro = st.text_area(t("reps.survey.intro"), key="sv_intro")
        anonymous = st.checkbox(t("reps.survey.anonymous"), key="sv_anonymous")
        st.caption(t("reps.survey.how"))
        questions = st.data_editor(
            pd.DataFrame({"kind": pd.Series([], dtype="object"), "prompt": pd.Series([], dtype="object"),
                          "options": pd.Series([], dtype="object")}),
            num_rows="dynamic", hide_index=True, key="sv_questions", width="stretch",
            column_config={
                "kind": st.column_config.SelectboxColumn(t("reps.survey.kind"), options=list(QUESTION_KINDS),
                                                         required=True),
                "prompt": st.column_config.TextColumn(t("reps.survey.prompt"), required=True),
                "options": st.column_config.TextColumn(t("reps.survey.options")),
            }, placeholder=MISSING)
        if st.button(t("reps.survey.create"), key="sv_create"):
            try:
                sid = sv.create_survey(engine, title, [
                    sv.Question(str(r.kind or ""), str(r.prompt or ""),
                                tuple(re.split(r"[;；\n]", str(r.options or ""))))
                    for r in questions.itertuples()], intro=intro, anonymous=anonymous, actor=viewer.name)
            except WriteRefused as exc:
                refused(exc)
                return
            st.session_state["sv_chosen"] = sid
            st.success(t("reps.survey.created"))


def survey_results(sid: int, questions: list[sv.Question]) -> None:
    sent, answered = sv.response_rate(engine, sid, scope)
    a, b, c = st.columns(3)
    a.metric(t("reps.survey.sent"), sent)
    b.metric(t("reps.survey.answered"), answered)
    c.metric(t("reps.survey.rate"), percent(answered / sent if sent else None))
    counts = sv.choice_counts(engine, sid, scope)
    texts = sv.text_answers(engine, sid, scope)
    for n, q in enumerate(questions, 1):
        st.text(f"{n}. {q.prompt}")
        if q.kind == "text":
            st.dataframe(texts.loc[texts["question_id"] == q.id, ["value"]].rename(
                columns={"value": t("reps.survey.answers")}), hide_index=True, width="stretch", placeholder=MISSING)
        else:
            st.plotly_chart(choice_bars(counts[counts["question_id"] == q.id]), key=f"sv_chart_{sid}_{q.id}")
    chosen = [q for q in questions if q.kind != "text"]
    if chosen:
        left, right = st.columns(2)
        question = left.selectbox(t("reps.survey.crosstab"), chosen, format_func=lambda q: q.prompt[:60],
                                  key=f"sv_cross_q_{sid}")
        by = right.segmented_control(t("reps.survey.by"), ["category_code", "district_code"], default="category_code",
                                     format_func=lambda b: t(f"reps.by.{b}"), key=f"sv_cross_by_{sid}")
        table = sv.crosstab(engine, sid, question, by or "category_code", scope, current_language())
        st.plotly_chart(crosstab_heatmap(table), key=f"sv_cross_{sid}")
    st.download_button(t("reps.survey.export"), sv.export(engine, sid, scope), file_name=f"survey-{sid}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"sv_export_{sid}")


def surveys_tab() -> None:
    new_survey_form()
    listing = sv.surveys(engine)
    if listing.empty:
        st.info(t("reps.survey.none"))
        return
    ids = listing["id"].tolist()
    titles = dict(zip(listing["id"], listing["title"]))
    statuses = dict(zip(listing["id"], listing["status"]))
    default = st.session_state.get("sv_chosen")
    sid = st.selectbox(t("reps.survey.pick"), ids, index=ids.index(default) if default in ids else 0,
                       format_func=lambda i: titles[i] + " · " + t(f"reps.survey.status.{statuses[i]}"), key="sv_pick")
    questions = sv.questions_of(engine, sid)
    flt = read_filter()
    audience = reps.selected_ids(engine, scope, flt)
    send, close = st.columns(2)
    if send.button(t("reps.survey.send", n=len(audience)), key=f"sv_send_{sid}",
                   disabled=flt.is_empty() or not audience or statuses[sid] == "closed"):
        try:
            added = sv.send_survey(engine, sid, audience, actor=viewer.name, scope=scope)
            st.success(t("reps.survey.sent_to", n=added))
        except WriteRefused as exc:
            refused(exc)
    if flt.is_empty():
        send.caption(t("reps.links.no_filter"))
    if statuses[sid] == "open" and close.button(t("reps.survey.close"), key=f"sv_close_{sid}"):
        try:
            sv.close_survey(engine, sid, actor=viewer.name)
            st.success(t("reps.saved"))
        except WriteRefused as exc:
            refused(exc)
    survey_results(sid, questions)


# The notice has its place whether or not there is one, and the tabs a key: the tab open stays
# open through the reruns a click makes.
with st.container():
    if notice := st.session_state.pop("reps_notice", None):
        st.success(notice)

tabs = st.tabs([t("reps.tab.changes"), t("reps.tab.suggestions"), t("reps.tab.records"), t("reps.tab.surveys"),
                t("reps.tab.links")], key="reps_tabs")
with tabs[0]:
    corrections_tab()
with tabs[1]:
    suggestions_tab()
with tabs[2]:
    records_tab()
with tabs[3]:
    surveys_tab()
with tabs[4]:
    links_tab()
