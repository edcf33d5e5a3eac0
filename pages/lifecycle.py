"""Lifecycle: funnel in two readings, time in stage, cohorts, sources, candidates to promote, term watch."""

from __future__ import annotations

import math
from datetime import date

import streamlit as st

from store import clock, privacy
from charts import lifecycle as charts
from store.queries import lifecycle as q
from store.schema import APPOINTMENT_BODIES, STAGES
from store.settings import get_setting
from ui.auth import current_scope, current_viewer, guard_page
from ui.cache import no_persons_yet, query
from ui.i18n import current_language, t
from ui.panels import guarded
from ui.tables import table

PAGE_SIZE = 20
# Named lists are personal data: never on the big screen, not for leadership accounts
# (the same line as Viewer.sees_people); they see the aggregates only.
PERSONAL_LIST_HIDDEN_ROLES = ("screen", "leader")


def _page_offset(key: str) -> int:
    """The offset of the page chosen in the pager below the list (first page until one is chosen)."""
    return (max(1, int(st.session_state.get(key) or 1)) - 1) * PAGE_SIZE


def _pager(total: int, key: str) -> None:
    """A page number input under the list, only when there is more than one page."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if (st.session_state.get(key) or 1) > pages:
        st.session_state[key] = pages
    if pages > 1:
        page_no = st.number_input(t("lifecycle.page"), min_value=1, max_value=pages, value=1, key=key)
        st.caption(t("lifecycle.page_of", page=int(page_no), pages=pages))


def funnel_section(funnel: q.Funnel, stage_labels: dict[str, str], threshold: int) -> bool:
    st.subheader(t("lifecycle.funnel.title"))
    if funnel.table["any_stage"].sum() == 0:
        st.info(t("lifecycle.empty.history"))
        return False
    shown = privacy.lifecycle_funnel(funnel.table, threshold)
    readings = {"in_order": t("lifecycle.funnel.in_order"), "any_stage": t("lifecycle.funnel.any_stage")}
    st.plotly_chart(charts.stage_funnel(shown, stage_labels, readings), key="lc_funnel")
    st.caption(t("lifecycle.funnel.caption",
                 n=privacy.shown_text(privacy.shown_count(funnel.without_history, threshold))))
    headers = {c: t(f"lifecycle.col.{c}") for c in charts.FUNNEL_TABLE_COLUMNS}
    percent = st.column_config.NumberColumn(format="percent")
    table(
        charts.funnel_table(shown, stage_labels, headers),
        column_config={headers[c]: percent for c in charts.FUNNEL_RATE_COLUMNS},
    )
    return True


def time_section(scope, stage_labels: dict[str, str], threshold: int) -> None:
    st.subheader(t("lifecycle.time.title"))
    df = privacy.stay_rows(query(q.time_in_stage, scope), threshold)
    st.plotly_chart(charts.stage_time_bars(df, stage_labels, t("lifecycle.time.axis")), key="lc_time")
    st.caption(t("lifecycle.time.caption"))


def cohort_section(df, stage_labels: dict[str, str], threshold: int) -> None:
    st.subheader(t("lifecycle.cohort.title"))
    st.caption(t("lifecycle.cohort.caption"))
    if df.empty:
        st.info(t("lifecycle.empty.history"))
        return
    df = privacy.cohort_rows(df, threshold)
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.cohort_heatmap(df, stage_labels), key="lc_cohorts")
    headers = {c: t(f"lifecycle.col.{c}") for c in charts.COHORT_TABLE_COLUMNS}
    with right:
        table(charts.cohort_table(df, headers))


def source_section(df, threshold: int) -> None:
    st.subheader(t("lifecycle.source.title"))
    truncated = df.attrs.get("truncated")
    df = privacy.source_rows(df, threshold)
    texts = charts.SourceTexts(
        missing=t("lifecycle.source.missing"), cultivate=t("lifecycle.source.cultivate"), use=t("lifecycle.source.use")
    )
    st.plotly_chart(charts.source_bars(df, texts), key="lc_sources")
    if truncated:
        st.caption(t("lifecycle.source.truncated", n=len(df)))


def candidate_section(scope, role: str, today: date, lang: str) -> None:
    st.subheader(t("lifecycle.candidates.title"))
    min_checkins = int(get_setting("promote_min_checkins"))
    if role in PERSONAL_LIST_HIDDEN_ROLES:
        st.info(t("lifecycle.candidates.hidden"))
        return
    page = query(q.promote_candidates, scope, today, min_checkins, _page_offset("lc_cand_page"), PAGE_SIZE)
    st.caption(t("lifecycle.candidates.caption", n=min_checkins, total=f"{page.total:,}"))
    if page.total == 0:
        st.info(t("lifecycle.candidates.none"))
        return
    headers = {c: t(f"lifecycle.col.{c}") for c in charts.CANDIDATE_TABLE_COLUMNS}
    table(charts.candidate_table(page.rows, headers, lang, t("lifecycle.risk_mark")))
    _pager(page.total, "lc_cand_page")


def term_section(scope, role: str, today: date, lang: str, body_labels: dict[str, str], threshold: int) -> None:
    st.subheader(t("lifecycle.terms.title"))
    by_body = query(q.term_watch_by_body, scope, today)
    if by_body.empty:
        st.info(t("lifecycle.terms.none"))
        return
    total = {k: privacy.shown_text(privacy.shown_count(by_body[k].sum(), threshold)) for k in ("soon", "overdue")}
    st.caption(t("lifecycle.terms.caption", **total))
    texts = charts.TermTexts(soon=t("lifecycle.terms.soon"), overdue=t("lifecycle.terms.overdue"))
    st.plotly_chart(charts.term_watch_bars(privacy.term_rows(by_body, threshold), body_labels, texts), key="lc_terms")
    if role in PERSONAL_LIST_HIDDEN_ROLES:
        st.caption(t("lifecycle.terms.list_hidden"))
        return
    kind = st.segmented_control(
        t("lifecycle.terms.list"),
        options=list(q.TERM_KINDS),
        format_func=lambda k: t(f"lifecycle.terms.{k}"),
        # Overdue posts first when there are any: they are the ones already late.
        default="overdue" if by_body["overdue"].sum() else "soon",
        key="lc_term_kind",
    ) or "overdue"
    key = f"lc_term_page_{kind}"
    page = query(q.term_watch_page, scope, today, kind, _page_offset(key), PAGE_SIZE)
    headers = {c: t(f"lifecycle.col.{c}") for c in charts.TERM_TABLE_COLUMNS}
    table(charts.term_table(page.rows, body_labels, headers, lang, t("lifecycle.risk_mark")))
    _pager(page.total, key)


def main() -> None:
    st.title(t("page.lifecycle"))
    st.caption(t("lifecycle.caption"))
    scope = current_scope()
    if no_persons_yet(scope):
        return
    today = clock.today()
    lang = current_language()
    role = current_viewer().role
    stage_labels = {s: t(f"lifecycle.stage.{s}") for s in STAGES}
    body_labels = {b: t(f"lifecycle.body.{b}") for b in APPOINTMENT_BODIES}
    threshold = privacy.threshold_for(role, get_setting("privacy_threshold"))
    overview = query(q.lifecycle_overview, scope)
    with_history = False
    with guarded("lifecycle.funnel"):
        with_history = funnel_section(overview.funnel, stage_labels, threshold)
    if with_history:
        with guarded("lifecycle.time"):
            time_section(scope, stage_labels, threshold)
        with guarded("lifecycle.cohorts"):
            cohort_section(overview.cohorts, stage_labels, threshold)
    with guarded("lifecycle.sources"):
        source_section(overview.sources, threshold)
    with guarded("lifecycle.candidates"):
        candidate_section(scope, role, today, lang)
    with guarded("lifecycle.terms"):
        term_section(scope, role, today, lang, body_labels, threshold)


guard_page("lifecycle")
main()
