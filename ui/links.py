"""Links into the explorer with a filter, and to the other pages, from any page."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from store.filters import PersonFilter

EXPLORER = "pages/explorer.py"


def explorer_link(flt: PersonFilter, label: str, *, container=None, icon: str | None = None) -> None:
    """A link to the explorer showing the persons `flt` selects."""
    page_link(EXPLORER, "explorer", label, flt.to_query_params(), container=container, icon=icon)


def page_link(page: str, url_path: str, label: str, params: dict, *, container=None, icon: str | None = None) -> None:
    """A link to one of the app's pages (`page` its script, `url_path` its address) with query `params`."""
    target = container or st
    try:
        target.page_link(page, label=label, icon=icon, query_params=params)
    except StreamlitAPIException:
        # The page was run outside app.py's navigation (a test harness, a bare
        # launch): st.page_link cannot resolve pages then, a plain URL can.
        target.link_button(label, f"/{url_path}?{urlencode(params, doseq=True)}", icon=icon)
