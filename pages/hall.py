"""Hall screen: one activity's arrivals on a big screen at the venue — checked in against expected, by category and
district, and arrivals per five minutes. Counts only, never a name; it refreshes itself every few seconds.

`?activity=<id>` names the activity (the activity desk links here); `?kiosk=1` hides the sidebar as the cockpit does.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from store import activities as act
from store import clock, privacy
from store.changes import WriteRefused
from store.queries import activities as qa
from store.queries import cockpit as qc
from store.scope import EVERYTHING
from store.settings import get_setting
from ui import params
from ui.auth import follows_session, guard_page
from ui.cache import query
from ui.i18n import current_language, t
from ui.markdown import escape_markdown

REFRESH_SECONDS = 5

viewer = guard_page("hall")
lang = current_language()
# Leaders see aggregates only: small counts withheld, as on every page (store/privacy.py).
threshold = privacy.threshold_for(viewer.role, get_setting("privacy_threshold"))
# A viewer of aggregates counts the persons of its scope, as on every other page.
scope = viewer.scope if threshold else EVERYTHING
st.title(t("page.hall"))

wanted = params.number("activity", 1, params.MAX_ID, integer=True)
try:
    plan = query(act.activity_plan, wanted) if wanted else None
except WriteRefused:
    plan = None
if plan is None or plan["state"] is None:
    st.info(t("hall.pick"))
    st.stop()
if not (viewer.scope.is_everything or viewer.scope.allows_street(plan["district_code"], plan["street"])):
    st.error(t("auth.forbidden"))
    st.stop()
aid = int(plan["id"])
st.subheader(escape_markdown(plan["title"]))


def by(dimension: str):
    df = privacy.withhold_rows(query(act.hall_by, aid, dimension, scope), ["checked_in"], threshold, key="code",
                               base="approved", drop_small=True)
    shown = {t("hall.checked_in"): df["checked_in"].map(privacy.shown_number),
             t("hall.approved"): df["approved"].map(privacy.shown_number)}
    return pd.DataFrame(shown).set_axis(df["name"].fillna(df["code"]).tolist()).astype("float64")


def month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def totals(today: dt.date) -> tuple:
    """Checked in and expected, as numbers or marks. An activity held by today is listed on the activities
    page (and the cockpit's feed) too, with every activity of its month: a viewer of aggregates gets the
    marks that page gives it, or the two pages together would recover what it withholds."""
    if not threshold:  # staff and admins: the whole activity, nothing withheld
        counts = query(act.status_counts, aid)
        checked_in = counts.get("checked_in", 0)
        return checked_in, checked_in + counts.get("approved", 0) + counts.get("absent", 0)
    held = plan["starts_at"].date()
    if held > today:  # still to come: its counts stand alone, as in the cockpit's feed
        mine = query(act.hall_by, aid, "category", scope)
        return (privacy.shown_count(int(mine["checked_in"].sum()), threshold),
                privacy.shown_count(int(mine["approved"].sum()), threshold))
    month = held.replace(day=1)
    rows = query(qa.activity_page, scope, month, min(today, month_end(month)), "starts_at", True, 0,
                 privacy.ALL_ACTIVITIES).rows
    shown = privacy.held_activity_counts(rows, aid, query(qc.monthly_participation, scope, today), today, threshold)
    return shown["checked_in"], shown["approved"]


def hall() -> None:
    checked_in, expected = totals(clock.today())
    c1, c2, c3 = st.columns(3)
    c1.metric(t("hall.checked_in"), privacy.shown_text(checked_in))
    c2.metric(t("hall.approved"), privacy.shown_text(expected))
    rate = privacy.shown_rate(checked_in, expected, threshold)
    c3.metric(t("hall.rate"), "—" if rate is None else f"{rate:.0%}")
    if privacy.is_withheld(checked_in) or privacy.is_withheld(expected):
        # A breakdown would add up to the withheld total.
        st.caption(t("hall.withheld", n=threshold))
        return
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('hall.by_category')}**")
        st.bar_chart(by("category"), horizontal=True, stack=False)
    with right:
        st.markdown(f"**{t('hall.by_district')}**")
        st.bar_chart(by("district"), horizontal=True, stack=False)
    st.markdown(f"**{t('hall.arrivals')}**")
    arrivals = privacy.withhold_rows(query(act.arrivals_by_minute, aid, scope), ["arrivals"], threshold, key="slot",
                                     total_known=False)
    st.bar_chart(arrivals.assign(arrivals=arrivals["arrivals"].map(privacy.shown_number).astype("float64"))
                 .set_index("slot"))


# Only the fragment re-runs; its queries come from the cache until the data version moves (a check-in bumps it).
st.fragment(follows_session(hall), run_every=REFRESH_SECONDS)()
