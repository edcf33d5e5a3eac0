from store import clock
from ui.auth import guard_page

viewer = guard_page("data_health")

# Data health: liveness score, freshness, completeness, suspected duplicates, recent imports.

import math
from datetime import date

import streamlit as st

from charts import health as charts
from charts.values import percent
from store.filters import PersonFilter
from store import privacy
from store.privacy import mask_phone, may_see_personal, shown_birth, shown_count, shown_rate, shown_text
from store.queries import health as q
from store.settings import get_setting
from ui.auth import current_scope
from ui.cache import no_persons_yet, query
from ui.links import explorer_link, page_link
from ui.markdown import escape_markdown
from ui.i18n import current_language, t
from store.queries import enterprises as qe
from ui.panels import guarded
from ui.reps_figures import liveness_panel
from ui.tables import table

PAGE_SIZE = 20
# What a viewer of aggregates is spared: counts under the privacy threshold, and those
# subtraction would recover (store/privacy.py); 0 for staff and admins.
THRESHOLD = privacy.threshold_for(viewer.role, get_setting("privacy_threshold"))


def _count(n) -> str:
    return shown_text(shown_count(n, THRESHOLD))


def _pager(total: int, key: str) -> int:
    """The offset of the chosen page (a page number input only when there is more than one page)."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if pages == 1:
        return 0
    page_no = int(st.number_input(t("health.page"), min_value=1, max_value=pages, value=1, key=key))
    st.caption(t("health.page_of", page=page_no, pages=pages))
    return (page_no - 1) * PAGE_SIZE


def liveness_section(scope, today: date) -> None:
    st.subheader(t("health.live.title"))
    live = query(q.liveness, scope, today)
    score, fresh, complete, active = privacy.liveness_parts(live, THRESHOLD)
    left, right = st.columns([2, 3])
    if score is None and live.score is not None:
        left.info(t("health.live.withheld", n=THRESHOLD))
    else:
        left.plotly_chart(charts.liveness_gauge(score), key="health_gauge")
    fields = "、".join(t(f"health.field.{f}") for f in q.KEY_FIELDS)
    right.markdown(t("health.live.definition", fields=fields))
    a, b, c = right.columns(3)
    for col, label, share in (
        (a, "figure.fresh_12m", fresh),
        (b, "health.live.complete", complete),
        (c, "health.live.active", active),
    ):
        col.metric(t(label), percent(share))


def freshness_section(scope, today: date, lang: str) -> None:
    st.subheader(t("health.fresh.title"))
    overall = query(q.freshness, scope, today).iloc[0]
    for col, months in zip(st.columns(len(q.FRESH_MONTHS)), q.FRESH_MONTHS):
        fresh, persons = int(overall[f"fresh_{months}"]), int(overall["persons"])
        col.metric(t("health.fresh.window", n=months), percent(shown_rate(fresh, persons, THRESHOLD)),
                   help=f"{_count(fresh)} / {_count(persons)}")
    by = st.segmented_control(
        t("health.fresh.by"),
        options=list(q.FRESHNESS_DIMENSIONS),
        format_func=lambda d: t(f"health.fresh.by.{d}"),
        default="category",
        key="health_fresh_by",
    ) or "category"
    df = privacy.freshness_rows(query(q.freshness, scope, today, by), q.FRESH_MONTHS, THRESHOLD)
    via_labels = {v: t(f"health.via.{v}") for v in ("import", "staff", "self", "sync")}
    names = charts.group_labels(df, lang, via_labels if by == "updated_via" else None, t("health.unknown"))
    windows = {m: t("health.fresh.window", n=m) for m in q.FRESH_MONTHS}
    st.plotly_chart(charts.freshness_bars(df, names, windows), key=f"health_fresh_{by}")
    st.caption(t("health.fresh.caption"))


def completeness_section(scope, lang: str) -> None:
    st.subheader(t("health.complete.title"))
    raw = query(q.completeness, scope)
    # The overall row from the counts themselves; each of its figures stands alone.
    overall = (shown_count(raw["persons"].sum(), THRESHOLD), [shown_count(raw[f].sum(), THRESHOLD) for f in q.FIELDS])
    df = privacy.completeness_rows(raw, q.FIELDS, THRESHOLD)
    field_labels = {f: t(f"health.field.{f}") for f in q.FIELDS}
    fig = charts.completeness_heatmap(
        df, q.FIELDS, field_labels, charts.group_labels(df, lang), t("health.complete.overall"), overall=overall
    )
    st.plotly_chart(fig, key="health_complete")
    st.caption(t("health.complete.caption"))


def enterprise_section(scope) -> None:
    st.subheader(t("enterprise.card"))
    figures = query(qe.enterprise_figures, scope)
    a, b, c = st.columns(3)
    a.metric(t("enterprise.unlinked"), _count(query(qe.unlinked_private_economy, scope)),
             help=t("enterprise.unlinked_help"))
    b.metric(t("enterprise.figures.linked"), _count(figures.enterprises_linked))
    c.metric(t("enterprise.figures.alerts"), _count(figures.risk_alerts), help=t("enterprise.figures.alerts_help"))


def duplicates_section(scope) -> None:
    st.subheader(t("health.dup.title"))
    # The first page carries the totals: page 1 costs one query, not a count and a page.
    by_name = query(q.name_birth_duplicates, scope, 0, PAGE_SIZE)
    by_phone = query(q.phone_duplicates, scope, 0, PAGE_SIZE)
    st.caption(t("health.dup.summary", groups=_count(by_name.groups), persons=_count(by_name.persons),
                 phone_groups=_count(by_phone.groups), phone_persons=_count(by_phone.persons)))
    if not viewer.sees_people:
        st.info(t("health.dup.hidden"))
        return
    name_tab, phone_tab = st.tabs([t("health.dup.by_name"), t("health.dup.by_phone")])
    with name_tab:
        st.caption(t("health.dup.by_name.caption"))
        if by_name.groups == 0:
            st.info(t("health.dup.none"))
        else:
            offset = _pager(by_name.groups, "health_dup_name_page")
            page = query(q.name_birth_duplicates, scope, offset, PAGE_SIZE) if offset else by_name
            may_merge = viewer.may_open("people")
            for row in page.rows.itertuples(index=False):
                label = t("health.dup.link", name=escape_markdown(row.name), n=row.persons,
                          birth=shown_birth(row.birth_date, may_see_personal(viewer.role)))
                if not may_merge:
                    explorer_link(PersonFilter(keyword=row.name), label)
                    continue
                # The group in the explorer, and its first two side by side on the people page's merge.
                find, merge = st.columns([4, 1])
                explorer_link(PersonFilter(keyword=row.name), label, container=find)
                page_link("pages/people.py", "people", t("health.dup.merge"),
                          {"person": str(row.first_id), "merge": str(row.last_id)}, container=merge)
    with phone_tab:
        st.caption(t("health.dup.by_phone.caption"))
        if by_phone.groups == 0:
            st.info(t("health.dup.none"))
        else:
            offset = _pager(by_phone.groups, "health_dup_phone_page")
            page = query(q.phone_duplicates, scope, offset, PAGE_SIZE) if offset else by_phone
            show = (lambda p: p) if may_see_personal(viewer.role) else mask_phone
            for row in page.rows.itertuples(index=False):
                cols = st.columns(len(row.names) + 1)
                cols[0].markdown(escape_markdown(show(row.phone)))
                for col, name in zip(cols[1:], row.names):
                    explorer_link(PersonFilter(keyword=name), escape_markdown(name), container=col)


def batch_section(scope) -> None:
    st.subheader(t("health.batch.title"))
    first = query(q.recent_batches, scope, 0, PAGE_SIZE)
    if first.total == 0:
        st.info(t("health.batch.none"))
        return
    st.caption(t("health.batch.caption", n=f"{first.total:,}"))
    offset = _pager(first.total, "health_batch_page")
    page = query(q.recent_batches, scope, offset, PAGE_SIZE) if offset else first
    headers = {c: t(f"health.col.{c}") for c in charts.BATCH_TABLE_COLUMNS}
    statuses = {s: t(f"health.status.{s}") for s in ("done", "running", "failed", "undone", "undoing")}
    table(
        charts.batch_table(page.rows, headers, statuses),
        column_config={headers["reject_rate"]: st.column_config.NumberColumn(format="percent")},
    )


def main() -> None:
    st.title(t("page.data_health"))
    st.caption(t("health.caption"))
    scope = current_scope()
    today = clock.today()
    if not no_persons_yet(scope):
        lang = current_language()
        for name, section, args in (("liveness", liveness_section, (scope, today)),
                                    ("freshness", freshness_section, (scope, today, lang)),
                                    ("completeness", completeness_section, (scope, lang)),
                                    ("duplicates", duplicates_section, (scope,)),
                                    ("reps", liveness_panel, (scope, today, THRESHOLD)),
                                    ("enterprises", enterprise_section, (scope,))):
            with guarded(f"health.{name}"):
                section(*args)
    with guarded("health.batches"):
        batch_section(scope)


main()
