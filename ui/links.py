"""Links into the explorer with a filter, from any page."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from store.filters import PersonFilter

EXPLORER = "pages/explorer.py"


def explorer_link(flt: PersonFilter, label: str, *, container=None, icon: str | None = None) -> None:
    """A link to the explorer showing the persons `flt` selects."""
    target = container or st
    params = flt.to_query_params()
    try:
        target.page_link(EXPLORER, label=label, icon=icon, query_params=params)
    except StreamlitAPIException:
        # The page was run outside app.py's navigation (a test harness, a bare
        # launch): st.page_link cannot resolve pages then, a plain URL can.
        target.link_button(label, f"/explorer?{urlencode(params, doseq=True)}", icon=icon)
