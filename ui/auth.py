"""Who is looking: sign-in gate, role, district scope, idle timeout, screen tokens.

Three ways in, checked in this order by `sign_in_gate()`:
1. `?token=…` — a revocable screen token: the `screen` role only (lobby PCs need no password);
2. the deployment's identity provider through `st.login` (when `[auth]` is configured in
   secrets): the provider's e-mail must match a local account's username;
3. a local account's username and password.
With the setting `require_login` off (tests, closed demos) everyone is an unscoped admin.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import streamlit as st

from store import accounts
from store.audit import record_now
from store.scope import EVERYTHING, Scope
from store.settings import get_setting
from ui.cache import get_engine
from ui.i18n import t
from ui.markdown import escape_markdown
from ui.params import check_common

ROLES = ("screen", "leader", "staff", "admin")

# Which pages each role may use; a page outside this set is not in the navigation
# and therefore cannot be reached by URL either.
ROLE_PAGES = {
    "screen": frozenset({"cockpit"}),
    "leader": frozenset({"cockpit", "activities", "lifecycle", "data_health"}),
    "staff": frozenset({"cockpit", "explorer", "people", "activities", "lifecycle", "data_health"}),
    "admin": frozenset({"cockpit", "explorer", "people", "activities", "lifecycle", "data_health", "data_import",
                        "audit"}),
}


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    scope: Scope

    def may_open(self, page: str) -> bool:
        return page in ROLE_PAGES.get(self.role, frozenset())

    @property
    def sees_people(self) -> bool:
        """Lists of named persons (masked) are for staff and admins only."""
        return self.role in ("staff", "admin")

    @property
    def sees_unmasked(self) -> bool:
        return self.role == "admin"


OPEN_VIEWER = Viewer(name="admin", role="admin", scope=EVERYTHING)


def current_viewer() -> Viewer:
    """The signed-in viewer; pages call this (the gate in app.py has already run)."""
    if not get_setting("require_login"):
        return OPEN_VIEWER
    viewer = st.session_state.get("viewer")
    if viewer is None:
        # A page reached without the gate (should not happen): show nothing personal.
        return Viewer(name="anonymous", role="screen", scope=Scope(districts=("-",)))
    return viewer


def current_scope() -> Scope:
    return current_viewer().scope


def guard_page(name: str) -> Viewer:
    """First line of every page: the viewer, after checking sign-in and role.

    app.py's navigation already hides pages a role may not use; this guard also
    holds when a page script is run on its own (see ui/serve.py).
    """
    # Every page reads `lang` and `kiosk`: checked here, where every page passes.
    check_common()
    if not get_setting("require_login"):
        return OPEN_VIEWER
    viewer = st.session_state.get("viewer")
    if viewer is None:
        viewer = sign_in_gate()
        if viewer is None:
            st.stop()
    if not viewer.may_open(name):
        st.error(t("auth.forbidden"))
        st.stop()
    return viewer


def audit_once(action: str, detail: dict, actor: str | None = None) -> None:
    """Record an action once per session: a rerun of the same view is not a new action.

    `actor` defaults to the signed-in viewer; before sign-in there is none to default to.
    """
    actor = current_viewer().name if actor is None else actor
    key = f"{action}:{actor}:{json.dumps(detail, sort_keys=True, default=str)}"
    seen: set = st.session_state.setdefault("_audited", set())
    if key not in seen:
        record_now(get_engine(), actor, action, detail)
        seen.add(key)


def require_role(*roles: str) -> Viewer:
    """Stop the page unless the viewer has one of `roles` (defence in depth behind the navigation)."""
    viewer = current_viewer()
    if viewer.role not in roles:
        st.error(t("auth.forbidden"))
        st.stop()
    return viewer


@st.cache_data(ttl=60, show_spinner=False)
def _screen_token_id(token: str) -> int | None:
    # Cached for a minute: fifty lobby screens cost one lookup, and a revocation bites within a minute.
    return accounts.check_screen_token(get_engine(), token)


def _viewer_from_account(acc: accounts.Account) -> Viewer:
    return Viewer(name=acc.username, role=acc.role, scope=acc.scope)


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _provider_signed_in() -> bool:
    """Whether the identity provider's cookie still vouches for someone in this browser."""
    return _oidc_configured() and bool(getattr(st.user, "is_logged_in", False))


def _login_form() -> None:
    st.title(t("app.title"))
    st.caption(t("app.subtitle"))
    with st.form("login", clear_on_submit=False):
        username = st.text_input(t("auth.username"))
        password = st.text_input(t("auth.password"), type="password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if _oidc_configured():
        if st.button(t("auth.sign_in_sso")):
            st.login()
    if submitted:
        result = accounts.sign_in(get_engine(), username, password,
                                  max_failures=get_setting("login_max_failures"))
        if result.account is not None:
            st.session_state["viewer"] = _viewer_from_account(result.account)
            st.session_state["last_seen"] = time.time()
            st.rerun()
        elif result.failure == "locked":
            st.error(t("auth.locked", until=result.locked_until.strftime("%H:%M")))
        elif result.failure == "disabled":
            st.error(t("auth.disabled"))
        else:
            st.error(t("auth.failed"))


def _sign_out() -> None:
    viewer = st.session_state.pop("viewer", None)
    if viewer is not None:
        record_now(get_engine(), viewer.name, "logout")
    if _provider_signed_in():
        # st.logout() sends the browser to the provider's sign-out; the caller's rerun
        # would start a new run that drops that redirect, leaving the identity cookie.
        st.logout()
        st.stop()


def sign_in_gate() -> Viewer | None:
    """The viewer for this run, or None after drawing the sign-in form (the caller stops)."""
    if not get_setting("require_login"):
        return OPEN_VIEWER

    token = st.query_params.get("token")
    if token:
        token_id = _screen_token_id(token)
        if token_id is None:
            st.error(t("auth.bad_token"))
            return None
        viewer = Viewer(name=f"screen#{token_id}", role="screen", scope=EVERYTHING)
        st.session_state["viewer"] = viewer
        return viewer

    viewer: Viewer | None = st.session_state.get("viewer")
    idle_limit = get_setting("session_idle_minutes") * 60
    now = time.time()
    if viewer is not None and now - st.session_state.get("last_seen", now) > idle_limit:
        st.session_state.pop("viewer", None)
        if _provider_signed_in():
            # The provider's cookie would sign the same person straight back in below:
            # idling out must sign out at the provider too. The caller stops on None, and
            # must not rerun: a new run would drop st.logout()'s redirect (see _sign_out).
            record_now(get_engine(), viewer.name, "logout", {"reason": "idle"})
            st.logout()
            return None
        record_now(get_engine(), viewer.name, "logout", {"reason": "idle"})
        viewer = None
        st.warning(t("auth.idle"))

    if viewer is None and _provider_signed_in():
        email = str(st.user.get("email") or "")
        acc = accounts.get_account(get_engine(), email)
        if acc is None or acc.disabled:
            # Each rerun of this refusal (its sign-out click too) is the same attempt, not a new one.
            audit_once("login_failure", {"reason": "sso_no_account"}, actor=email)
            st.error(t("auth.sso_no_account", email=escape_markdown(email)))
            if st.button(t("auth.sign_out")):
                st.logout()
            return None
        viewer = _viewer_from_account(acc)
        st.session_state["viewer"] = viewer
        record_now(get_engine(), acc.username, "login", {"method": "oidc"})

    if viewer is None:
        _login_form()
        return None

    st.session_state["last_seen"] = now
    return viewer


def sign_out_button() -> None:
    viewer = current_viewer()
    if viewer.role == "screen" or not get_setting("require_login"):
        return
    st.sidebar.caption(t("auth.signed_in_as", name=escape_markdown(viewer.name), role=t(f"role.{viewer.role}")))
    if st.sidebar.button(t("auth.sign_out"), key="sign_out"):
        _sign_out()
        st.rerun()
