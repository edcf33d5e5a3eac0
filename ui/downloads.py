"""One-time download links for the explorer's export: made by a click, for the session that clicked.

The click issues a ticket; the page then fetches `<base>/_brain/export/<ticket>`
(ui/web.py), which builds the workbook at that moment. A ticket opens once, within
TICKET_SECONDS, and only with the cookie of the session it was issued to, whose
account's current role and scope decide what the file holds. So a copied or
logged link is worth nothing: without the cookie, after its one use, or a minute
later, it answers with a refusal.

Tickets live in this process (the page and the route run in the same one, as
Streamlit's own downloads do).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date

import streamlit as st

from store import accounts
from store.export import ExportResult, ExportTooLarge, export_persons
from store.filters import PersonFilter
from store.privacy import may_see_personal
from store.scope import EVERYTHING
from store.settings import get_setting
from ui.auth import Viewer, current_session_id, idle_timeout, out_of_sight
from ui.cache import cookie_key, get_engine
from ui.i18n import t
from ui.web import download_script, route_path

TICKET_SECONDS = 60


@dataclass(frozen=True)
class ExportOrder:
    session_id: int | None  # None only while sign-in is off
    flt: PersonFilter
    sort: str
    descending: bool
    today: date
    expires: float  # time.monotonic()


class Refused(Exception):
    """A download the route must refuse: an HTTP status and the text key of the reason."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status = status
        self.key = key


class TicketBook:
    """Open tickets of this process; each is taken out by its one use, or forgotten when expired."""

    def __init__(self):
        self._orders: dict[str, ExportOrder] = {}
        self._lock = threading.Lock()

    def issue(self, order: ExportOrder) -> str:
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._orders = {k: o for k, o in self._orders.items() if o.expires > now}
            self._orders[ticket] = order
        return ticket

    def redeem(self, ticket: str, session_id: int | None) -> ExportOrder | None:
        """The ticket's order, once, when it is unexpired and the presenting session is the one it was issued to."""
        with self._lock:
            order = self._orders.get(ticket)
            if order is None or order.session_id != session_id:
                return None
            del self._orders[ticket]
        return order if order.expires > time.monotonic() else None


@st.cache_resource(show_spinner=False)
def ticket_book() -> TicketBook:
    return TicketBook()


def offer_export(flt: PersonFilter, *, sort: str, descending: bool, today: date) -> None:
    """After the export button's click: issue a ticket and let the page fetch the file."""
    session_id = current_session_id()
    if session_id is None and get_setting("require_login"):
        st.warning(t("download.sign_in_again"))
        return
    order = ExportOrder(session_id, flt, sort, descending, today, time.monotonic() + TICKET_SECONDS)
    ticket = ticket_book().issue(order)
    with out_of_sight("brain_download"):
        st.html(download_script(route_path(st.get_option("server.baseUrlPath"), "export", ticket)),
                unsafe_allow_javascript=True)
    st.caption(t("download.started"))


def export_of(ticket: str, held: accounts.SessionCheck | None) -> ExportResult:
    """The file a ticket orders, for the session presenting it (`held`; None while sign-in is off)."""
    order = ticket_book().redeem(ticket, held.session_id if held is not None else None)
    if order is None:
        raise Refused(410, "download.expired")
    if held is None:
        name, role, scope = "admin", "admin", EVERYTHING
    else:
        acc = held.account
        name, role, scope = acc.username, acc.role, acc.scope
        if not Viewer(name, role, scope).may_open("explorer"):
            raise Refused(403, "auth.forbidden")
    try:
        return export_persons(get_engine(), scope, order.flt, actor=name, unmasked=may_see_personal(role),
                              sort=order.sort, descending=order.descending, today=order.today)
    except ExportTooLarge:
        raise Refused(413, "download.too_large") from None


def open_export(ticket: str, cookie: str | None) -> ExportResult:
    """The route's part: the session the cookie names must still hold."""
    if not get_setting("require_login"):
        return export_of(ticket, None)
    held = accounts.check_session(get_engine(), cookie=cookie or "", key=cookie_key(), idle=idle_timeout())
    if held.account is None:
        raise Refused(403, "download.refused")
    return export_of(ticket, held)

