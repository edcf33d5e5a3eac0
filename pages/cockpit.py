"""The cockpit: a dark, self-refreshing big-screen overview, aggregates only.

`?kiosk=1` fills the screen without scrolling, whatever its size (the layout follows the
window; the old `?scale=2` is no longer needed and is ignored), `?carousel=30` shows one
panel at a time, 30 s each.
"""

from __future__ import annotations

import time
from datetime import date

import streamlit as st
from streamlit_echarts import Map, st_echarts

from store import clock, privacy, reps
from charts import cockpit as charts
from charts.echarts_theme import THEME
from store.queries import activities as qa
from store.queries import cockpit as q
from store.queries import enterprises as qe
from store.settings import get_setting
from ui import theme
from ui.auth import follows_session, guard_page
from ui.cache import query
from ui.i18n import current_language, t
from ui.panels import guarded
from ui.reps_figures import reps_labels

MAP_NAME = "area"

viewer = guard_page("cockpit")
scope = viewer.scope
lang = current_language()
threshold = get_setting("privacy_threshold")
kiosk = theme.kiosk_requested() or viewer.role == "screen"
layout = theme.LAYOUT
carousel = theme.carousel_seconds()
theme.check_legacy_scale()
theme.apply_cockpit_theme(kiosk)


def show(name: str, builder: str, *args, echarts_map: Map | None = None, **kwargs) -> None:
    """Draw `charts.cockpit.<builder>` in the box `name`; its options carry every size the box may take.

    SVG rather than canvas: crisp at any pixel density, and its labels are elements a
    browser test can measure.
    """
    options = theme.chart_options(builder, layout.design_box(name), *args, **kwargs)
    st_echarts(options, theme=THEME, height=layout.height(name), renderer="svg", map=echarts_map,
               key=f"cockpit_chart_{name}")


EDUCATION_TOP = 6
MONTHS_WITH_CURRENT = q.MONTHS + 1


# Each panel's counts pass through store.privacy before its chart: withheld as the big
# screen must (small ones, and those subtraction would recover from a known total).
def category_panel(height: str = "category") -> None:
    df = privacy.cockpit_categories(query(q.by_category, scope), threshold)
    show(height, "ranked_bar", df, label_col=f"name_{lang}", threshold=threshold)


def district_panel(height: str = "map") -> None:
    persons = query(q.headline, scope, clock.today()).persons
    df = privacy.cockpit_districts(query(q.by_district, scope), persons, threshold)
    geojson = theme.area_geojson()
    if geojson is None:
        st.caption(t("cockpit.map_fallback"))
        # Districts outside the scope are left out, not ranked as "<N".
        show(height, "ranked_bar", df[df["in_scope"]], label_col=f"name_{lang}", threshold=threshold)
        return
    show(height, "district_map", df, charts.area_names(geojson), map_name=MAP_NAME, label_col=f"name_{lang}",
         threshold=threshold, unit=t("cockpit.persons_unit"), callouts=theme.small_districts(),
         echarts_map=Map(MAP_NAME, geojson))


def tags_panel(height: str = "tags") -> None:
    # Tags are not a partition (a person has several): nothing adds up to a known total.
    df = privacy.withhold_rows(query(q.top_tags, scope, 20), ["n"], threshold, key="tag", total_known=False)
    show(height, "ranked_bar", df, label_col="tag", threshold=threshold, color="#3d8bff")


def funnel_panel(height: str = "funnel") -> None:
    df = privacy.funnel_layers(query(q.by_stage, scope), threshold)
    names = {s: t(f"cockpit.stage.{s}") for s in df["stage"]}
    show(height, "funnel_chart", df, names, conversion_label=t("cockpit.conversion"), threshold=threshold)


def monthly_panel(height: str = "monthly") -> None:
    today = clock.today()
    # One statement serves this chart and the feed: the months up to this one, withheld as a
    # whole (this year's months add up to the headline), then this month, only partly over,
    # left out (it would read as a collapse): the 24 whole months before it are drawn.
    df = privacy.cockpit_monthly(query(q.monthly_participation, scope, today, MONTHS_WITH_CURRENT), today, threshold)
    df = df[df["month"].astype(str) < f"{today:%Y-%m}"]
    show(height, "monthly_lines", df, registrations_name=t("cockpit.registrations"),
         checkins_name=t("cockpit.checkins"), threshold=threshold)


def age_panel(height: str = "age") -> None:
    df = privacy.withhold_grid(query(q.age_gender, scope, clock.today()), ["male", "female"], threshold, key="band")
    names = {b: t(f"cockpit.band.{b}") for b in df["band"]}
    show(height, "age_gender_bars", df, names, male_name=t("cockpit.male"), female_name=t("cockpit.female"),
         threshold=threshold)


def education_panel(height: str = "education") -> None:
    slices = charts.education_slices(query(q.by_education, scope), other_name=t("cockpit.other"), top=EDUCATION_TOP)
    df = privacy.withhold_rows(slices, ["n"], threshold, key="education", base="n", drop_small=True)
    show(height, "education_ring", df, other_name=t("cockpit.other"), top=None, threshold=threshold)


FEED_TEXT_KEYS = ("upcoming", "past", "online", "registered", "checked_in", "none")


def activities_panel(height: str = "feed") -> None:
    today = clock.today()
    feed = query(q.activity_feed, scope, today)
    # Activities already held are also counted on the activities page, with every activity
    # of their months: withheld as there, or subtraction across the two pages would tell.
    start = privacy.feed_months_from(feed, today)
    rows = None if start is None else query(qa.activity_page, scope, start, today, "starts_at", True, 0,
                                            privacy.ALL_ACTIVITIES).rows
    df = privacy.cockpit_feed(feed, threshold, rows, query(q.monthly_participation, scope, today, MONTHS_WITH_CURRENT),
                              today)
    texts = {k: t(f"cockpit.feed.{k}") for k in FEED_TEXT_KEYS}
    texts |= {f"kind.{k}": t(f"cockpit.kind.{k}") for k in ("training", "lecture", "onsite", "survey", "other")}
    # The stylesheet sets the list's height for the window; this one is the 1920×1080 one.
    st.html(charts.activity_feed_html(df, texts, lang=lang, threshold=threshold,
                                      height_px=round(layout.design_box(height)[1])))


# (name, title key, draw): the grid's columns, top to bottom, and the carousel's order.
COLUMNS = [
    [("category", category_panel), ("age", age_panel), ("education", education_panel)],
    [("district", district_panel), ("monthly", monthly_panel)],
    [("funnel", funnel_panel), ("tags", tags_panel), ("activities", activities_panel)],
]
CAROUSEL = theme.CAROUSEL


def headline_and_title(today: date):
    h = query(q.headline, scope, today)
    as_of = h.last_change.strftime("%Y-%m-%d %H:%M") if h.last_change else t("cockpit.as_of_never")
    theme.title_bar(
        t("cockpit.title"), t("cockpit.subtitle"),
        [t("cockpit.as_of", at=as_of), t("cockpit.privacy_note", n=threshold)],
        t("cockpit.weekdays").split(","), lang, day=clock.pinned(),
    )
    return h


def cockpit() -> None:
    h = headline_and_title(clock.today())
    if h.persons == 0:
        st.info(t("cockpit.empty"))
        return
    labels = {k: t(f"cockpit.kpi.{k}") for k in
              ("persons", "new", "active", "share_of", "activities", "checkins", "fresh_note")}
    labels["fresh"] = t("figure.fresh_12m")
    with guarded("kpis", kiosk=kiosk):
        firms = query(qe.enterprise_figures, scope)
        responses = privacy.reps_liveness(query(reps.liveness, scope, clock.today()), threshold)
        theme.kpi_rows([
            charts.headline_cards(h, labels, threshold),
            charts.reps_cards(responses, reps_labels(), threshold) + charts.enterprise_cards(
                firms, {"enterprises": t("enterprise.figures.linked"), "alerts": t("enterprise.figures.alerts")},
                threshold),
        ])
    if carousel:
        draw = dict(name_draw for column in COLUMNS for name_draw in column)
        # Every screen shows the same panel at the same moment: the index follows the wall clock.
        name = CAROUSEL[int(time.time() // carousel) % len(CAROUSEL)]
        with theme.panel(name, t(f"cockpit.panel.{name}")), guarded(name, kiosk=kiosk):
            draw[name]("carousel")
        return
    for column, panels in zip(st.columns([1, 1.42, 1]), COLUMNS):
        with column:
            for name, draw in panels:
                with theme.panel(name, t(f"cockpit.panel.{name}")), guarded(name, kiosk=kiosk):
                    draw()


# The fragment re-runs only itself; every query inside is answered from the cache
# until the data version changes, so an idle refresh costs the store nothing. A viewer
# signed out, revoked or idle meanwhile gets no refresh: the whole page runs again instead.
st.fragment(follows_session(cockpit), run_every=carousel or get_setting("cockpit_refresh_seconds"))()
