"""Entry point: page config, navigation, language, sidebar footer. Pages do the rest."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError

from store.queries.common import store_summary
from store.url import describe_url
from ui.auth import current_scope, sign_in_gate, sign_out_button, watch_session, Viewer
from ui.cache import query, store_url
from ui.i18n import language_switch, t

log = logging.getLogger("brain")

# A file of our own: a Material-symbol page icon is fetched from a font CDN (offline intranet).
FAVICON = str(Path(__file__).resolve().parent / "ui" / "static" / "favicon.png")
st.set_page_config(page_title="统战大脑 · United-Front Brain", page_icon=FAVICON, layout="wide")


def is_kiosk() -> bool:
    return st.query_params.get("kiosk") in ("1", "true", "yes")


# (section, page name, icon); the page name is its file in pages/ and its URL path. Icons are
# Streamlit's bundled Material Symbols: emoji render as boxes on a machine without an emoji font.
PAGES = [
    ("nav.overview", "cockpit", ":material/dashboard:"),
    ("nav.work", "explorer", ":material/person_search:"),
    ("nav.work", "people", ":material/edit_note:"),
    ("nav.work", "activities", ":material/event:"),
    ("nav.work", "activity_desk", ":material/event_available:"),
    ("nav.work", "hall", ":material/groups:"),
    ("nav.work", "checkin", ":material/qr_code_scanner:"),
    ("nav.work", "lifecycle", ":material/autorenew:"),
    ("nav.work", "reps", ":material/how_to_reg:"),
    ("nav.data", "data_health", ":material/monitor_heart:"),
    ("nav.data", "data_import", ":material/upload_file:"),
    ("nav.data", "enterprises", ":material/domain:"),
    ("nav.data", "audit", ":material/history:"),
]


def _forbidden() -> None:
    st.error(t("auth.forbidden"))


def stand_in(name: str, run=lambda: None) -> st.Page:
    """A hidden page at `name`'s URL that runs `run` instead of the page.

    Streamlit answers a URL no page claims with an English "Page not found" dialog
    and forgets the path; a stand-in keeps the URL (and its filters) and says why
    the page is not shown.
    """
    return st.Page(run, title=t(f"page.{name}"), url_path=name, visibility="hidden")


def waiting_pages() -> list[st.Page]:
    """Before sign-in: every page's URL is known and none runs, so a bookmarked or shared link
    waits under the sign-in form and opens, with its filters, once signed in."""
    sign_in = st.Page(lambda: None, title=t("auth.sign_in"), url_path="sign_in", default=True)
    return [sign_in, *(stand_in(name) for _, name, _ in PAGES)]


def build_pages(viewer: Viewer) -> dict[str, list[st.Page]]:
    """Only the pages the viewer's role may use: the others cannot be reached by URL either.

    The default page is a hidden one that forwards to the first real page: a
    default page lives at "/" only, so making the cockpit default would leave
    /cockpit (the URL a lobby screen bookmarks) answering "page not found".
    A page the role may not use is a stand-in that says so.
    """
    sections: dict[str, list[st.Page]] = {}
    refused: list[st.Page] = []
    for section, name, icon in PAGES:
        if viewer.may_open(name):
            page = st.Page(f"pages/{name}.py", title=t(f"page.{name}"), icon=icon, url_path=name)
            sections.setdefault(t(section), []).append(page)
        else:
            refused.append(stand_in(name, _forbidden))
    first = next(iter(sections.values()))[0]

    def forward() -> None:
        # get_all keeps repeated parameters (?categories=a&categories=b) that to_dict() would drop.
        st.switch_page(first, query_params={k: st.query_params.get_all(k) for k in st.query_params})

    home = st.Page(forward, title=first.title, url_path="home", default=True, visibility="hidden")
    sections.setdefault("", []).extend([home, *refused])
    return sections


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
    try:
        viewer = sign_in_gate()
        if viewer is None:
            # Declare a navigation of stand-ins so the pages/ folder is never offered to a stranger.
            # Return rather than st.stop(): a run that stops keeps the previous run's fragments
            # registered, and a late tick of one would draw into this page.
            st.navigation(waiting_pages(), position="hidden")
            return
        watch_session()
        # A screen token always gets the bare kiosk layout.
        kiosk = is_kiosk() or viewer.role == "screen"
        page = st.navigation(build_pages(viewer), position="hidden" if kiosk else "sidebar")
        if not kiosk:
            language_switch()
            sign_out_button()
            sidebar_footer()
        page.run()
    except (OperationalError, InterfaceError):
        # The database went away (restart, network): say so and let the next rerun reconnect.
        log.exception("store unavailable")
        st.error(t("error.database_unavailable"))
    except DatabaseError:
        # The store answers but cannot be read (a corrupt file, a file that is no
        # database): retrying will not help, an administrator must look. The
        # details go to the server log only.
        log.exception("store unreadable")
        st.error(t("error.database_unreadable"))


main()
