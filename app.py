"""Entry point: page config, navigation, language, sidebar footer. Pages do the rest."""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import OperationalError, InterfaceError

from store.queries.common import store_summary
from store.url import describe_url
from ui.auth import current_scope
from ui.cache import query, store_url
from ui.i18n import language_switch, t

log = logging.getLogger("brain")

st.set_page_config(page_title="统战大脑 · United-Front Brain", page_icon="🧭", layout="wide")


def is_kiosk() -> bool:
    return st.query_params.get("kiosk") in ("1", "true", "yes")


def build_pages() -> dict[str, list[st.Page]]:
    return {
        t("nav.overview"): [
            st.Page("pages/cockpit.py", title=t("page.cockpit"), icon="📊", url_path="cockpit", default=True),
        ],
        t("nav.work"): [
            st.Page("pages/explorer.py", title=t("page.explorer"), icon="🔎", url_path="explorer"),
            st.Page("pages/activities.py", title=t("page.activities"), icon="📅", url_path="activities"),
            st.Page("pages/lifecycle.py", title=t("page.lifecycle"), icon="🔁", url_path="lifecycle"),
        ],
        t("nav.data"): [
            st.Page("pages/data_health.py", title=t("page.data_health"), icon="🩺", url_path="data_health"),
            st.Page("pages/data_import.py", title=t("page.data_import"), icon="📥", url_path="data_import"),
        ],
    }


def sidebar_footer() -> None:
    summary = query(store_summary, current_scope())
    last = summary.last_change.strftime("%Y-%m-%d %H:%M") if summary.last_change else t("footer.never")
    st.sidebar.divider()
    st.sidebar.caption(
        "  \n".join(
            [
                t("footer.store", store=describe_url(store_url())),
                t("footer.persons", n=f"{summary.persons:,}"),
                t("footer.last_change", at=last),
            ]
        )
    )


def main() -> None:
    kiosk = is_kiosk()
    page = st.navigation(build_pages(), position="hidden" if kiosk else "sidebar")
    try:
        if not kiosk:
            language_switch()
            sidebar_footer()
        page.run()
    except (OperationalError, InterfaceError):
        log.exception("store unavailable")
        st.error(t("error.database_unavailable"))


main()
