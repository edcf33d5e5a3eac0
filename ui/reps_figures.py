"""The representatives' liveness figures, a panel of the data-health page (aggregates only).

Share of persons who confirmed or corrected their data in 12 months, open correction requests
and the oldest one's age, suggestions received and adopted this year. Small counts are
withheld for leaders as on the rest of the page.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from charts.values import percent
from store import reps
from store.privacy import shown_count, shown_rate, shown_text
from store.scope import Scope
from ui.cache import query
from ui.i18n import t


def liveness_panel(scope: Scope, today: date, threshold: int) -> None:
    live = query(reps.liveness, scope, today)
    st.subheader(t("reps.live.title"))
    a, b, c, d = st.columns(4)
    a.metric(t("reps.live.responded"), percent(shown_rate(live.responded_12m, live.persons, threshold)))
    b.metric(t("reps.live.open"), shown_text(shown_count(live.open_requests, threshold)))
    c.metric(t("reps.live.oldest"), "—" if live.oldest_open_days is None else t("reps.live.days", n=live.oldest_open_days))
    d.metric(t("reps.live.suggestions"), f"{shown_text(shown_count(live.adopted_this_year, threshold))} / "
                                        f"{shown_text(shown_count(live.suggestions_this_year, threshold))}")
    st.caption(t("reps.live.caption"))
