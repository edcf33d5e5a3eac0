"""Activities: headline numbers, trend by kind, participation funnel, activity list, reach and dormant persons."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from store import clock, privacy
from charts import activities as charts
from charts.values import percent
from store.filters import PersonFilter
from store.queries import activities as q
from store.queries import cockpit as qc
from store.schema import ACTIVITY_KINDS
from store.settings import get_setting
from ui.auth import current_scope, current_viewer, guard_page
from ui.cache import no_persons_yet, query
from ui.links import explorer_link
from ui.i18n import current_language, t
from ui.panels import guarded
from ui.tables import table

PAGE_SIZE = 20
TREND_METRICS = ("checked_in", "registrations", "activities")
# A viewer of aggregates may not sort by a count: the order would place a withheld one.
UNSORTED_WHEN_WITHHELD = ("registrations", "approved", "checked_in", "no_show_rate")


def _count(n: int) -> str:
    return f"{n:,}"


def pick_period(today: date) -> tuple[date, date] | None:
    choice = st.segmented_control(
        t("activities.period.label"),
        options=list(q.PERIODS),
        format_func=lambda p: t(f"activities.period.{p}"),
        default="90d",
        key="act_period",
    ) or "90d"
    start = end = None
    if choice == "custom":
        picked = st.date_input(
            t("activities.period.range"), value=(today - timedelta(days=29), today), key="act_range"
        )
        if not isinstance(picked, (tuple, list)) or len(picked) != 2:
            st.info(t("activities.period.pick_end"))
            return None
        start, end = picked
    try:
        return q.period_bounds(choice, today, start, end)
    except q.InvalidPeriod:
        st.warning(t("activities.period.invalid"))
        return None


FUNNEL_COUNTS = ("registrations", "approved", "checked_in", "absent")


def withheld_view(scope, s: q.ActivitySummary, start: date, end: date, today: date,
                  threshold: int) -> privacy.ActivitiesView:
    """The period's numbers as the viewer may see them (store/privacy.py): a viewer of
    aggregates gets every activity's counts withheld as the cockpit withholds them too."""
    rows = monthly = None
    if threshold:
        rows = query(q.activity_page, scope, start, end, "starts_at", True, 0, privacy.ALL_ACTIVITIES).rows
        monthly = query(qc.monthly_participation, scope, today)
    return privacy.activities_view({k: getattr(s, k) for k in FUNNEL_COUNTS},
                                   query(q.monthly_by_kind, scope, start, end), rows, monthly, start, end, today,
                                   threshold)


def headline(s: q.ActivitySummary, view: privacy.ActivitiesView, threshold: int) -> None:
    shown = view.totals
    cols = st.columns(5)
    cols[0].metric(t("activities.metric.activities"), _count(s.activities))
    cols[1].metric(t("activities.metric.registrations"), privacy.shown_text(shown["registrations"]))
    cols[2].metric(t("activities.metric.approval_rate"),
                   percent(privacy.shown_rate(shown["approved"], shown["registrations"], threshold)),
                   help=t("activities.metric.approval_rate.help"))
    cols[3].metric(t("activities.metric.checkin_rate"),
                   percent(privacy.shown_rate(shown["checked_in"], shown["approved"], threshold)),
                   help=t("activities.metric.checkin_rate.help"))
    cols[4].metric(t("activities.metric.no_show_rate"),
                   percent(privacy.shown_rate(shown["absent"], shown["approved"], threshold)),
                   help=t("activities.metric.no_show_rate.help"))


def trend(view: privacy.ActivitiesView, kind_labels: dict[str, str], start: date, end: date) -> None:
    st.subheader(t("activities.trend.title"))
    metric = st.segmented_control(
        t("activities.trend.metric"),
        options=list(TREND_METRICS),
        format_func=lambda m: t(f"activities.trend.{m}"),
        default="checked_in",
        key="act_trend_metric",
    ) or "checked_in"
    partial = charts.PartialMonthTexts(starts=t("activities.trend.month_from", month="{month}", day="{day}"),
                                       ends=t("activities.trend.month_to", month="{month}", day="{day}"))
    st.plotly_chart(
        charts.monthly_trend(view.trend, metric, kind_labels, axis_title=t(f"activities.trend.{metric}"),
                             period=(start, end), partial=partial),
        key="act_trend",
    )


def shown_page(scope, start: date, end: date, sort: str, descending: bool, page_no: int,
               view: privacy.ActivitiesView) -> tuple[int, pd.DataFrame]:
    """(activities in all, one page of them): from SQL, or for a viewer of aggregates cut
    from the period's activities as withheld."""
    if view.rows is None:
        page = query(q.activity_page, scope, start, end, sort, descending, (page_no - 1) * PAGE_SIZE, PAGE_SIZE)
        return page.total, page.rows
    rows = view.rows.sort_values([sort, "id"], ascending=not descending, kind="stable")
    return len(rows), rows.iloc[(page_no - 1) * PAGE_SIZE:page_no * PAGE_SIZE]


def activity_list(scope, start: date, end: date, kind_labels: dict[str, str], lang: str,
                  view: privacy.ActivitiesView) -> None:
    withheld = view.rows is not None
    st.subheader(t("activities.list.title"))
    c1, c2, c3 = st.columns([2, 1, 1])
    sort = c1.selectbox(
        t("activities.list.sort"),
        options=[s for s in q.ACTIVITY_SORTS if not (withheld and s in UNSORTED_WHEN_WITHHELD)],
        format_func=lambda s: t(f"activities.col.{s}"),
        key="act_sort",
    )
    descending = c2.toggle(t("activities.list.descending"), value=True, key="act_desc")
    # The page number is read before the query and its input drawn after, bounded by the total.
    page_no = max(1, int(st.session_state.get("act_page") or 1))
    total, rows = shown_page(scope, start, end, sort, descending, page_no, view)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page_no > pages:  # the period or sort changed under a later page
        page_no = st.session_state["act_page"] = pages
        total, rows = shown_page(scope, start, end, sort, descending, page_no, view)
    c3.number_input(t("activities.list.page"), min_value=1, max_value=pages, value=1, key="act_page")
    headers = {c: t(f"activities.col.{c}") for c in charts.ACTIVITY_TABLE_COLUMNS}
    table(
        charts.activity_table(rows, kind_labels, headers, lang),
        column_config={
            headers["no_show_rate"]: st.column_config.NumberColumn(format="percent"),
            headers["starts_at"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    st.caption(t("activities.list.total", n=_count(total), page=page_no, pages=pages))

    st.subheader(t("activities.funnel.title"))
    titles = dict(zip(rows["id"].tolist(), rows["title"].tolist()))
    chosen = st.selectbox(
        t("activities.funnel.choose"),
        options=[None, *titles],
        format_func=lambda i: t("activities.funnel.all") if i is None else titles[i],
        key="act_funnel_pick",
    )
    if chosen is None:
        funnel = pd.DataFrame([view.totals])
    elif withheld:
        funnel = rows[rows["id"] == chosen][list(FUNNEL_COUNTS)]
    else:
        funnel = query(q.activity_funnel, scope, start, end, chosen)
    texts = charts.FunnelTexts(
        registered=t("activities.funnel.registered"),
        approved=t("activities.funnel.approved"),
        checked_in=t("activities.funnel.checked_in"),
        no_show=t("activities.funnel.no_show", rate="{rate}"),
        layer=t("activities.funnel.layer", n="{n}", rate="{rate}"),
    )
    st.plotly_chart(charts.participation_funnel(funnel, texts), key="act_funnel")


def reach(scope, start: date, end: date, today: date, lang: str, threshold: int) -> None:
    st.subheader(t("activities.reach.title"))
    st.caption(t("activities.reach.caption"))
    result = query(q.reach, scope, start, end, today)
    frames = {dim: result.by(dim) for dim in q.REACH_DIMENSIONS}
    shown = {dim: privacy.reach_rows(frame, threshold) for dim, frame in frames.items()}
    texts = charts.BarTexts(lang=lang, missing=t("activities.missing"), value_title=t("activities.reach.axis"))
    dormant_texts = charts.BarTexts(lang=lang, missing=t("activities.missing"), value_title=t("activities.dormant.axis"))
    tabs = st.tabs([t("activities.reach.by_category"), t("activities.reach.by_district")])
    for tab, dim in zip(tabs, q.REACH_DIMENSIONS):
        with tab:
            left, right = st.columns(2)
            left.plotly_chart(charts.reach_rate_bars(shown[dim], texts, charts.Layout(title=t("activities.reach.axis"))),
                              key=f"act_reach_{dim}")
            right.plotly_chart(
                charts.dormant_bars(shown[dim], dormant_texts, charts.Layout(title=t("activities.dormant.title"))),
                key=f"act_dormant_{dim}",
            )
    dormant_links(frames, today, lang, threshold)


def dormant_links(frames, today: date, lang: str, threshold: int) -> None:
    st.subheader(t("activities.dormant.title"))
    by_category = frames["category"]
    dormant, persons = int(by_category["dormant"].sum()), int(by_category["persons"].sum())
    st.caption(t("activities.dormant.caption", n=privacy.shown_text(privacy.shown_count(dormant, threshold)),
                 share=percent(privacy.shown_rate(dormant, persons, threshold))))
    if not current_viewer().may_open("explorer"):
        return
    base = PersonFilter(active_months=q.DORMANT_MONTHS, active=False)
    options: dict[str, tuple[PersonFilter, str]] = {"all": (base, t("activities.dormant.all", n=_count(dormant)))}
    missing = t("activities.missing")
    for dim, field in (("category", "categories"), ("district", "districts")):
        df = frames[dim]
        for code, name, n in zip(df["code"], charts.name_column(df, lang, missing), df["dormant"]):
            if code is not None and code == code and n > 0:
                options[f"{dim}:{code}"] = (base.with_value(field, code),
                                            t("activities.dormant.option", name=name, n=_count(int(n))))
    key = st.selectbox(t("activities.dormant.group"), options=list(options),
                       format_func=lambda k: options[k][1], key="act_dormant_group")
    flt, label = options[key]
    explorer_link(flt, t("activities.dormant.link", name=label), icon=":material/person_search:")


def main() -> None:
    st.title(t("page.activities"))
    st.caption(t("activities.caption"))
    scope = current_scope()
    if no_persons_yet(scope):
        return
    today = clock.today()
    period = pick_period(today)
    if period is None:
        return
    threshold = privacy.threshold_for(current_viewer().role, get_setting("privacy_threshold"))
    start, end = privacy.whole_months(*period, threshold)
    st.caption(t("activities.period.shown", start=start.isoformat(), end=end.isoformat()))
    lang = current_language()
    kind_labels = {k: t(f"activities.kind.{k}") for k in ACTIVITY_KINDS}
    summary = query(q.activity_summary, scope, start, end)
    view = withheld_view(scope, summary, start, end, today, threshold)
    headline(summary, view, threshold)
    if summary.activities == 0:
        st.info(t("activities.empty.period"))
    else:
        with guarded("activities.trend"):
            trend(view, kind_labels, start, end)
        with guarded("activities.list"):
            activity_list(scope, start, end, kind_labels, lang, view)
    with guarded("activities.reach"):
        reach(scope, start, end, today, lang, threshold)


guard_page("activities")
main()
