"""Hall screen: one activity's arrivals on a big screen at the venue — checked in against expected, by category and
district, and arrivals per five minutes. Counts only, never a name; it refreshes itself every few seconds.

`?activity=<id>` names the activity (the activity desk links here); `?kiosk=1` hides the sidebar as the cockpit does.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from store import activities as act
from store import privacy
from store.changes import WriteRefused
from store.settings import get_setting
from ui.auth import follows_session, guard_page
from ui.cache import query
from ui.i18n import current_language, t
from ui.markdown import escape_markdown

REFRESH_SECONDS = 5

viewer = guard_page("hall")
lang = current_language()
# Leaders see aggregates only: small counts withheld, as on every page (store/privacy.py).
threshold = privacy.threshold_for(viewer.role, get_setting("privacy_threshold"))
st.title(t("page.hall"))

raw = st.query_params.get("activity", "")
try:
    plan = query(act.activity_plan, int(raw)) if raw.isdigit() else None
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
    df = privacy.withhold_rows(query(act.hall_by, aid, dimension), ["checked_in"], threshold, key="code",
                               base="approved", drop_small=True)
    shown = {t("hall.checked_in"): df["checked_in"].map(privacy.shown_number),
             t("hall.approved"): df["approved"].map(privacy.shown_number)}
    return pd.DataFrame(shown).set_axis(df["name"].fillna(df["code"]).tolist()).astype("float64")


def hall() -> None:
    counts = query(act.status_counts, aid)
    checked_in = counts.get("checked_in", 0)
    expected = checked_in + counts.get("approved", 0) + counts.get("absent", 0)
    c1, c2, c3 = st.columns(3)
    c1.metric(t("hall.checked_in"), privacy.shown_text(privacy.shown_count(checked_in, threshold)))
    c2.metric(t("hall.approved"), privacy.shown_text(privacy.shown_count(expected, threshold)))
    rate = privacy.shown_rate(privacy.shown_count(checked_in, threshold), privacy.shown_count(expected, threshold),
                              threshold)
    c3.metric(t("hall.rate"), "—" if rate is None else f"{rate:.0%}")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('hall.by_category')}**")
        st.bar_chart(by("category"), horizontal=True, stack=False)
    with right:
        st.markdown(f"**{t('hall.by_district')}**")
        st.bar_chart(by("district"), horizontal=True, stack=False)
    st.markdown(f"**{t('hall.arrivals')}**")
    arrivals = privacy.withhold_rows(query(act.arrivals_by_minute, aid), ["arrivals"], threshold, key="slot",
                                     total_known=False)
    st.bar_chart(arrivals.assign(arrivals=arrivals["arrivals"].map(privacy.shown_number).astype("float64"))
                 .set_index("slot"))


# Only the fragment re-runs; its queries come from the cache until the data version moves (a check-in bumps it).
st.fragment(follows_session(hall), run_every=REFRESH_SECONDS)()
