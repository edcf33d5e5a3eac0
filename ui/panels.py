"""One wrapper for every panel: a panel that fails is a quiet gap, never an error box.

A chart builder meeting data it did not expect (a sign-in sheet's activity without
a district) must not replace a lobby screen with Streamlit's red box, nor take the
rest of a page down with it. Each panel runs inside `guarded`: its error goes to the
log with a traceback; the screen shows a quiet placeholder on the kiosk and a short
notice in both languages elsewhere, and the other panels carry on.

Not caught: Streamlit's own control flow (st.stop, st.rerun, st.switch_page raise
BaseExceptions, which `except Exception` leaves alone) and the store being away —
app.py says that once for the whole page and recovers when the store returns.
"""

from __future__ import annotations

import html
import logging
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError

from ui.i18n import t

log = logging.getLogger("brain.panels")

STORE_ERRORS = (OperationalError, InterfaceError, DatabaseError)


@contextmanager
def guarded(name: str, *, kiosk: bool = False):
    """Run a panel's body; if it raises, log it and leave a placeholder in its place."""
    try:
        yield
    except STORE_ERRORS:
        raise
    except Exception:
        log.exception("panel %s failed", name)
        placeholder(name, kiosk=kiosk)


def placeholder(name: str, *, kiosk: bool = False) -> None:
    if kiosk:
        # A big screen nobody touches: no words to read from across the lobby, only the gap.
        st.html(f'<div class="panel-placeholder" data-panel="{html.escape(name)}" '
                f'style="opacity:0.35;text-align:center;">—</div>')
    else:
        st.caption(t("panel.failed"))
