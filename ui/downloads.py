"""One-time download links, made by a click for the session that clicked: the explorer's export
and the representatives' personal links (an Excel list and QR codes, zipped).

The click issues a ticket; the page then fetches `<base>/_brain/export/<ticket>`
(ui/web.py), which makes the file at that moment (and audits it): the workbook, or the
personal links, issued then, so they exist nowhere but in the one response. A ticket opens once, within
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

from store import accounts, reps
from store.export import ExportTooLarge, export_persons
from store.filters import PersonFilter
from store.privacy import may_see_personal
from store.changes import WriteRefused
from store.scope import EVERYTHING, Scope
from store.settings import get_setting
from ui.auth import Viewer, current_session_id, idle_timeout, out_of_sight
from ui.cache import cookie_key, get_engine
from ui.i18n import t
from ui.web import download_script, route_path

TICKET_SECONDS = 60
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Download:
    data: bytes
    file_name: str
    media_type: str


@dataclass(frozen=True)
class ExportOrder:
    session_id: int | None  # None only while sign-in is off
    flt: PersonFilter
    sort: str
    descending: bool
    today: date
    expires: float  # time.monotonic()


@dataclass(frozen=True)
class LinksOrder:
    """Personal links for these persons (issued when fetched, within the fetching account's scope)."""

    session_id: int | None
    person_ids: tuple[int, ...]
    days: int
    base_url: str
    expires: float


Order = ExportOrder | LinksOrder


class Refused(Exception):
    """A download the route must refuse: an HTTP status and the text key of the reason."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status = status
        self.key = key


class TicketBook:
    """Open tickets of this process; each is taken out by its one use, or forgotten when expired."""

    def __init__(self):
        self._orders: dict[str, Order] = {}
        self._lock = threading.Lock()

    def issue(self, order: Order) -> str:
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._orders = {k: o for k, o in self._orders.items() if o.expires > now}
            self._orders[ticket] = order
        return ticket

    def redeem(self, ticket: str, session_id: int | None) -> Order | None:
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


def _offer(order_of) -> bool:
    """Issue a ticket for `order_of(session_id, expires)` and let the page fetch it; False when the
    viewer must sign in again first."""
    session_id = current_session_id()
    if session_id is None and get_setting("require_login"):
        st.warning(t("download.sign_in_again"))
        return False
    ticket = ticket_book().issue(order_of(session_id, time.monotonic() + TICKET_SECONDS))
    with out_of_sight("brain_download"):
        st.html(download_script(route_path(st.get_option("server.baseUrlPath"), "export", ticket)),
                unsafe_allow_javascript=True)
    return True


def offer_export(flt: PersonFilter, *, sort: str, descending: bool, today: date) -> None:
    """After the export button's click: issue a ticket and let the page fetch the file."""
    if _offer(lambda session_id, expires: ExportOrder(session_id, flt, sort, descending, today, expires)):
        st.caption(t("download.started"))


def offer_links(person_ids, *, days: int, base_url: str) -> bool:
    """After a click on the representatives' desk: the links are issued, and zipped, when fetched."""
    ids = tuple(sorted({int(i) for i in person_ids}))
    return _offer(lambda session_id, expires: LinksOrder(session_id, ids, int(days), base_url, expires))


def _account(held: accounts.SessionCheck | None, page: str) -> tuple[str, Scope]:
    """Who fetches, and their scope now; Refused when their role may no longer open the page."""
    if held is None:
        return "admin", EVERYTHING
    acc = held.account
    if not Viewer(acc.username, acc.role, acc.scope).may_open(page):
        raise Refused(403, "auth.forbidden")
    return acc.username, acc.scope


def download_of(ticket: str, held: accounts.SessionCheck | None) -> Download:
    """The file a ticket orders, for the session presenting it (`held`; None while sign-in is off)."""
    order = ticket_book().redeem(ticket, held.session_id if held is not None else None)
    if order is None:
        raise Refused(410, "download.expired")
    if isinstance(order, LinksOrder):
        name, scope = _account(held, "reps")
        try:
            issued = reps.issue_links(get_engine(), order.person_ids, days=order.days, actor=name, scope=scope)
        except WriteRefused:
            raise Refused(400, "download.failed") from None
        if not issued:
            raise Refused(404, "reps.links.nobody")
        return Download(reps.link_sheet(issued, order.base_url), "personal-links.zip", "application/zip")
    name, scope = _account(held, "explorer")
    role = held.account.role if held is not None else "admin"
    try:
        result = export_persons(get_engine(), scope, order.flt, actor=name, unmasked=may_see_personal(role),
                                sort=order.sort, descending=order.descending, today=order.today)
    except ExportTooLarge:
        raise Refused(413, "download.too_large") from None
    return Download(result.data, result.file_name, XLSX)


def open_download(ticket: str, cookie: str | None) -> Download:
    """The route's part: the session the cookie names must still hold."""
    if not get_setting("require_login"):
        return download_of(ticket, None)
    held = accounts.check_session(get_engine(), cookie=cookie or "", key=cookie_key(), idle=idle_timeout())
    if held.account is None:
        raise Refused(403, "download.refused")
    return download_of(ticket, held)
