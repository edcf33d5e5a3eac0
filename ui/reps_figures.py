"""The representatives' responses: the data-health page's panel, and the texts of the cockpit's cards.

Share of the (followed) persons who confirmed or corrected their data in 12 months, the
corrections waiting with the oldest and median age, suggestions received and adopted this
year: store.reps.liveness counts them, store.privacy.reps_liveness withholds them (on the
cockpit for everyone, here for leaders), and both pages name each figure alike (README, "Figures").
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from charts.cockpit import reps_cards
from store import reps
from store.privacy import reps_liveness
from store.scope import Scope
from ui.cache import query
from ui.i18n import t

LABEL_KEYS = ("responded", "responded_note", "open", "open_note", "suggestions", "adopted_note")


def reps_labels() -> dict[str, str]:
    return {k: t(f"figure.reps_{k}") for k in LABEL_KEYS}


def liveness_panel(scope: Scope, today: date, threshold: int) -> None:
    """The cockpit's three cards as metrics, their notes as captions (one builder for both pages)."""
    shown = reps_liveness(query(reps.liveness, scope, today), threshold)
    st.subheader(t("reps.live.title"))
    for column, card in zip(st.columns(3), reps_cards(shown, reps_labels(), threshold)):
        column.metric(card.label, card.value)
        if card.note:
            column.caption(card.note)
    st.caption(t("reps.live.caption"))
