"""人员查询 · Explorer: filter in the sidebar, see the answer as clickable charts, page, open, export."""

from __future__ import annotations

import math

import streamlit as st

from store import clock
from charts.explorer import BarOptions, PyramidOptions, TimelineOptions, age_gender_pyramid, bar_chart, stage_timeline
from store.privacy import may_see_personal
from store.queries import explorer as q
from store.queries.enterprises import enterprise_card
from ui import filters as uf
from ui.auth import audit_once, guard_page
from ui.bulk import bulk_actions
from ui.cache import query
from ui.enterprises import enterprise_card as show_enterprise_card
from ui.i18n import current_language, t
from ui.panels import guarded
from ui.tables import table

viewer = guard_page("explorer")
scope = viewer.scope
lang = current_language()
today = clock.today()

st.title(t("page.explorer"))
st.caption(t("explorer.intro"))

opts = query(q.filter_options, scope, lang)
flt = uf.filter_sidebar(opts)
# Headline and four charts in one call: one scan on the analytic copy.
overview = query(q.overview, scope, flt, lang, today)
count = overview.headcount
if count.total == 0:
    st.info(t("empty.no_persons"))
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric(t("explorer.headcount"), f"{count.matched:,}")
c2.metric(t("explorer.share"), f"{count.share:.1%}")
c3.metric(t("explorer.total"), f"{count.total:,}")


def clickable(fig, key: str, field: str) -> None:
    st.plotly_chart(fig, key=key, on_select=uf.on_chart_select(key, field),
                    selection_mode=("points", "box", "lasso"), config={"displaylogo": False})


if count.matched == 0:
    st.warning(t("explorer.no_match"))
else:
    with guarded("explorer.charts"):
        st.caption(t("explorer.chart.hint"))
        empty = t("explorer.chart.empty")
        left, right = st.columns(2)
        with left:
            clickable(bar_chart(overview.by_category,
                                BarOptions(title=t("explorer.chart.category"), horizontal=True, height=360,
                                           selected=flt.categories, empty_text=empty)),
                      "explorer_chart_category", "categories")
        with right:
            clickable(bar_chart(overview.by_district,
                                BarOptions(title=t("explorer.chart.district"), height=360,
                                           selected=flt.districts, empty_text=empty)),
                      "explorer_chart_district", "districts")
        left, right = st.columns(2)
        with left:
            clickable(bar_chart(query(q.top_tags, scope, flt, 15, today),
                                BarOptions(title=t("explorer.chart.tags"), horizontal=True, height=380,
                                           selected=flt.tags, empty_text=empty)),
                      "explorer_chart_tags", "tags")
        with right:
            clickable(age_gender_pyramid(overview.age_gender,
                                         PyramidOptions(title=t("explorer.chart.pyramid"), height=380,
                                                        empty_text=empty)),
                      "explorer_chart_pyramid", "age_gender")
        clickable(bar_chart(overview.by_stage,
                            BarOptions(title=t("explorer.chart.stage"), height=260, selected=flt.stages,
                                       empty_text=empty)),
                  "explorer_chart_stage", "stages")

# ---- the list
st.subheader(t("explorer.list"))
c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
sort = c1.selectbox(t("explorer.sort"), q.SORTS, index=q.SORTS.index("updated_at"),
                    format_func=lambda s: t(f"explorer.sort.{s}"), key="explorer_sort")
descending = c2.toggle(t("explorer.descending"), value=True, key="explorer_descending")
page_size = c3.selectbox(t("explorer.page_size"), q.PAGE_SIZES, index=1, key="explorer_page_size")
pages = max(1, math.ceil(count.matched / page_size))
uf.current_page(pages)
page = c4.number_input(t("explorer.page"), min_value=1, max_value=pages, step=1, key=uf.PAGE_KEY)

rows = query(q.person_page, scope, flt, sort, descending, int(page), page_size, lang, today)
may_bulk = viewer.role in ("staff", "admin")
st.caption(t("explorer.page_of", page=int(page), pages=pages, n=f"{count.matched:,}") + " · "
           + t("explorer.open_hint_many" if may_bulk else "explorer.open_hint"))
columns = [c for c in q.LIST_COLUMNS if c != "id"] + ["risks"]
list_key = uf.list_key(int(page), page_size, sort, descending)
table(
    rows,
    key=list_key,
    on_select=uf.on_row_select(list_key, tuple(rows["id"].tolist())),
    selection_mode="multi-row" if may_bulk else "single-row",
    column_order=columns,
    column_config={
        **{c: st.column_config.Column(t(f"explorer.col.{c}")) for c in columns},
        "age": st.column_config.NumberColumn(t("explorer.col.age"), format="%d"),
        "updated_at": st.column_config.DatetimeColumn(t("explorer.col.updated_at"), format="YYYY-MM-DD HH:mm"),
        "last_activity": st.column_config.DatetimeColumn(t("explorer.col.last_activity"), format="YYYY-MM-DD"),
    },
)
uf.export_button(flt, count.matched, sort=sort, descending=descending)
if viewer.may_open("reps") and not flt.is_empty():
    st.page_link("pages/reps.py", label=t("reps.links.from_explorer"), query_params=flt.to_query_params())
bulk_actions(flt, count.matched, uf.ticked(list_key))

# ---- one person
person_id = uf.opened_person()
if person_id is not None:
    st.divider()
    unmasked = may_see_personal(viewer.role)
    profile = query(q.person_profile, scope, person_id, lang, unmasked, today)
    if profile is not None and unmasked:
        audit_once("unmask", {"person_id": person_id})
    if profile is None:
        st.warning(t("explorer.profile.missing"))
        st.button(t("explorer.profile.close"), on_click=uf.close_person)
    else:
        facts = profile.facts
        head, close = st.columns([5, 1], vertical_alignment="bottom")
        head.subheader(t("explorer.profile", name=uf.escape_markdown(facts["name"])))
        close.button(t("explorer.profile.close"), on_click=uf.close_person, width="stretch")
        if facts.get("status") not in (None, "followed"):
            st.warning(t("person.state.note", state=t(f"person.state.{facts['status']}"),
                         on=facts.get("status_on") or "—"))
        # A masked viewer gets the birth year only: the date is the masked ID number's hidden digits.
        birth_label = "explorer.profile.birth_date" if unmasked else "explorer.profile.birth_year"
        shown = [("explorer.col.gender", "gender"), (birth_label, "birth_date"),
                 ("explorer.col.age", "age"), ("explorer.profile.ethnicity", "ethnicity"),
                 ("explorer.col.category", "category"), ("explorer.col.party", "party"),
                 ("explorer.col.district", "district"), ("explorer.col.street", "street"),
                 ("explorer.col.organization", "organization"), ("explorer.col.position", "position"),
                 ("explorer.col.education", "education"), ("explorer.profile.title", "title"),
                 ("explorer.col.stage", "stage"), ("explorer.col.id_number", "id_number"),
                 ("explorer.col.phone", "phone"), ("explorer.profile.source", "source")]
        cols = st.columns(4)
        for i, (label, name) in enumerate(shown):
            cols[i % 4].markdown(f"**{t(label)}**  \n{uf.escape_markdown(facts.get(name))}")
        st.markdown(f"**{t('explorer.profile.tags')}**")
        st.text(" · ".join(profile.tags) if profile.tags else t("explorer.profile.no_tags"))

        st.markdown(f"**{t('explorer.profile.stages')}**")
        with guarded("explorer.timeline"):
            timeline = TimelineOptions(empty_text=t("explorer.profile.none"),
                                       tick_format=t("explorer.profile.month_format"),
                                       hover_format=t("explorer.profile.day_format"))
            st.plotly_chart(stage_timeline(profile.stages, timeline),
                            key="explorer_timeline", config={"displaylogo": False, "staticPlot": False})

        st.markdown(f"**{t('explorer.profile.appointments')}**")
        if profile.appointments.empty:
            st.caption(t("explorer.profile.none"))
        else:
            table(profile.appointments,
                         column_order=["body", "title", "level", "term_start", "term_end", "state_label"],
                         column_config={
                             "body": t("explorer.profile.body"), "title": t("explorer.profile.post"),
                             "level": t("explorer.profile.level"),
                             "term_start": st.column_config.DateColumn(t("explorer.profile.term"), format="YYYY-MM-DD"),
                             "term_end": st.column_config.DateColumn("", format="YYYY-MM-DD"),
                             "state_label": t("explorer.profile.state"),
                         })

        card = query(enterprise_card, scope, person_id)
        if card is not None:
            with guarded("explorer.enterprises"):
                show_enterprise_card(card)

        st.markdown("**" + t("explorer.profile.participations", shown=len(profile.participations),
                             total=profile.participation_total) + "**")
        if profile.participations.empty:
            st.caption(t("explorer.profile.none"))
        else:
            table(profile.participations, column_config={
                "title": t("explorer.profile.activity"), "kind": t("explorer.profile.kind"),
                "starts_at": st.column_config.DatetimeColumn(t("explorer.profile.starts_at"), format="YYYY-MM-DD"),
                "status": t("explorer.profile.status"),
                "checked_in_at": st.column_config.DatetimeColumn(t("explorer.profile.checked_in_at"),
                                                                 format="YYYY-MM-DD HH:mm"),
            })
