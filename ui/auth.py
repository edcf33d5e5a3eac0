"""Who is looking: sign-in gate, role, district scope, idle timeout, screen tokens, session cookie.

Ways in, checked in this order by `sign_in_gate()`:
1. `?token=…` — a revocable screen token: the `screen` role only (lobby PCs need no password);
2. the session this browser tab already holds;
3. the session cookie (a reload, a new tab, a bookmarked link): HttpOnly, SameSite=Strict,
   signed; ui/web.py sets and clears it, store/accounts.py keeps the session it names;
4. the deployment's identity provider through `st.login` (when `[auth]` is configured in
   secrets): the provider's e-mail must match a local account's username;
5. a local account's username and password.
With the setting `require_login` off (tests, closed demos) everyone is an unscoped admin.

Every sign-in starts a server-side session (store/accounts.py). A session ends for good on
sign-out, when its account is disabled or its password reset, and after `session_idle_minutes`
without activity. Open pages follow such a change within seconds: each run, and a small
background fragment every `version_check_seconds`, compare the accounts epoch the viewer was
checked at with the one the version watch last saw (ui/cache.py, no SQL while nothing changed),
and check the viewer again only when it moved.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from store import accounts
from store.audit import record_now
from store.scope import EVERYTHING, Scope
from store.settings import get_setting
from ui.cache import accounts_changed, accounts_epoch, cookie_key, get_engine
from ui.i18n import t
from ui.markdown import escape_markdown
from ui.params import check_common
from ui.web import SESSION_COOKIE, session_script

log = logging.getLogger("brain.auth")

ROLES = ("screen", "leader", "staff", "admin", "steward")

# Which pages each role may use; a page outside this set is not in the navigation
# and therefore cannot be reached by URL either.
ROLE_PAGES = {
    "screen": frozenset({"cockpit"}),
    "leader": frozenset({"cockpit", "activities", "lifecycle", "data_health", "hall"}),
    "staff": frozenset({"cockpit", "explorer", "people", "activities", "lifecycle", "data_health", "reps",
                        "enterprises", "activity_desk", "hall", "checkin"}),
    "admin": frozenset({"cockpit", "explorer", "people", "activities", "lifecycle", "data_health", "data_import",
                        "audit", "reps", "enterprises", "activity_desk", "hall", "checkin"}),
    # A door steward: the check-in of the activities given to them, nothing else.
    "steward": frozenset({"checkin"}),
}

# A session's activity reaches the store at most this often; its idle clock tolerates that much.
TOUCH_SECONDS = 60


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


def current_session_id() -> int | None:
    """The server-side session of this tab's viewer (None for screens and without sign-in)."""
    return st.session_state.get("session_id")


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
    if viewer is None or _session_moved():
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


@st.cache_data(show_spinner=False, max_entries=1000)
def _screen_token_id(token: str, epoch: str) -> int | None:
    # One lookup per token and accounts epoch: fifty lobby screens cost one, and a revocation,
    # which moves the epoch, reaches new and open screens at the version watch's next look.
    return accounts.check_screen_token(get_engine(), token)


def _viewer_from_account(acc: accounts.Account) -> Viewer:
    return Viewer(name=acc.username, role=acc.role, scope=acc.scope)


def idle_timeout() -> timedelta:
    return timedelta(minutes=get_setting("session_idle_minutes"))


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _provider_signed_in() -> bool:
    """Whether the identity provider's cookie still vouches for someone in this browser."""
    return _oidc_configured() and bool(getattr(st.user, "is_logged_in", False))


# ---- this tab's session ------------------------------------------------------------------
# st.session_state keys: viewer, session_id, viewer_epoch (the accounts epoch the viewer was
# last checked at), last_seen and touched_at (time.time() of the last activity, and of the last
# one written to the store), screen_token, and for one run each: _ended (why the viewer went),
# _cookie (what the page must do with the cookie), _recheck (a rerun the watch asked for).

def _hold(viewer: Viewer, epoch: str, *, session_id: int | None = None, screen_token: str | None = None,
          touched: bool = True) -> Viewer:
    now = time.time()
    st.session_state.update(viewer=viewer, viewer_epoch=epoch, last_seen=now, touched_at=now if touched else 0.0)
    for key, value in (("session_id", session_id), ("screen_token", screen_token)):
        if value is None:
            st.session_state.pop(key, None)
        else:
            st.session_state[key] = value
    return viewer


def _begin(acc: accounts.Account, method: str) -> Viewer:
    """A new session for an account that has just signed in; the page then fetches its cookie."""
    epoch = accounts_epoch()  # before the session starts: a change in between is checked again
    start = accounts.start_session(get_engine(), acc.id, method)
    st.session_state["_cookie"] = start.handoff
    return _hold(_viewer_from_account(acc), epoch, session_id=start.session_id)


def _drop(reason: str) -> None:
    """Forget this tab's viewer; `reason` (idle, ended, logout) is shown to the next run."""
    viewer = st.session_state.pop("viewer", None)
    session_id = st.session_state.pop("session_id", None)
    for key in ("viewer_epoch", "screen_token"):
        st.session_state.pop(key, None)
    st.session_state["_ended"] = reason
    st.session_state["_cookie"] = ""  # the browser drops its cookie at the next run
    if viewer is None or reason == "ended":
        return  # whoever ended it has recorded it
    if session_id is not None:
        accounts.end_session(get_engine(), session_id, reason)
    else:
        record_now(get_engine(), viewer.name, "logout", {"reason": reason} if reason != "logout" else None)
    accounts_changed()


def _on_screen_token(viewer: Viewer) -> bool:
    return viewer.role == "screen" and "screen_token" in st.session_state


def _screen_token_holds() -> bool:
    return _screen_token_id(st.session_state["screen_token"], accounts_epoch()) is not None


def _rechecked(viewer: Viewer, now: float) -> Viewer | None:
    """This tab's viewer as the store sees it now, or None (after `_drop`) when it may see nothing more."""
    engine = get_engine()
    session_id = st.session_state.get("session_id")
    if session_id is not None:
        check = accounts.check_session(engine, session_id=session_id, idle=idle_timeout())
        if check.account is None:
            _drop("idle" if check.failure == "idle" else "ended")  # check_session ended an idle one
            return None
        return _viewer_from_account(check.account)
    if _on_screen_token(viewer):
        if not _screen_token_holds():
            _drop("ended")
            return None
        return viewer
    # A viewer without a session of its own (set up by a test harness): its account decides.
    acc = accounts.get_account(engine, viewer.name)
    if acc is None or acc.disabled:
        _drop("ended")
        return None
    if now - st.session_state.get("last_seen", now) > idle_timeout().total_seconds():
        _drop("idle")
        return None
    return _viewer_from_account(acc)


def _standing(now: float) -> Viewer | None:
    """This tab's viewer after the idle and revocation checks (SQL only when either is due)."""
    viewer: Viewer | None = st.session_state.get("viewer")
    if viewer is None:
        return None
    epoch = accounts_epoch()
    # A viewer put there without a check (a test harness does that) is followed from now on.
    st.session_state.setdefault("viewer_epoch", epoch)
    idle_due = not _on_screen_token(viewer) and now - st.session_state.get("last_seen", now) > idle_timeout().total_seconds()
    if idle_due or st.session_state.get("viewer_epoch") != epoch:
        fresh = _rechecked(viewer, now)
        if fresh is None:
            return None
        if idle_due:
            # Another tab of the same session was active meanwhile (the store says so): still here.
            st.session_state["last_seen"] = now
        st.session_state["viewer"] = viewer = fresh
        st.session_state["viewer_epoch"] = epoch
    return viewer


def _from_cookie() -> Viewer | None:
    """The viewer of the session this browser's cookie names, when it still holds (a reload, a new tab)."""
    cookie = st.context.cookies.get(SESSION_COOKIE)
    if not isinstance(cookie, str) or not cookie:  # (a test harness has no real request behind it)
        return None
    epoch = accounts_epoch()
    check = accounts.check_session(get_engine(), cookie=cookie, key=cookie_key(), idle=idle_timeout())
    if check.account is None:
        if check.failure == "idle":
            accounts_changed()
            st.session_state["_ended"] = "idle"
        return None
    return _hold(_viewer_from_account(check.account), epoch, session_id=check.session_id, touched=False)


def _note_activity(now: float) -> None:
    st.session_state["last_seen"] = now
    session_id = st.session_state.get("session_id")
    if session_id is None or now - st.session_state.get("touched_at", 0.0) < TOUCH_SECONDS:
        return
    st.session_state["touched_at"] = now
    try:
        accounts.touch_session(get_engine(), session_id)
    except SQLAlchemyError:
        # A busy store (a long import) must not cost the viewer the page; the next minute tries again.
        log.warning("could not note activity of session %s", session_id, exc_info=True)


def out_of_sight(key: str):
    """A container that takes no room on the page (for the cookie script and the session watch)."""
    # Its wrapper too: a hidden block in a visible wrapper still costs the page a gap.
    st.html(f"<style>.st-key-{key}, :has(> .st-key-{key}) {{ display: none; }}</style>")
    return st.container(key=key)


def _cookie_step() -> None:
    """Let the browser fetch or drop its session cookie, once, as the previous run asked."""
    handoff = st.session_state.pop("_cookie", None)
    if handoff is not None:
        with out_of_sight("brain_session_cookie"):
            st.html(session_script(handoff, st.get_option("server.baseUrlPath")), unsafe_allow_javascript=True)


def _login_form() -> None:
    st.title(t("app.title"))
    st.caption(t("app.subtitle"))
    with st.form("login", clear_on_submit=False):
        username = st.text_input(t("auth.username"), max_chars=accounts.MAX_USERNAME_LENGTH)
        password = st.text_input(t("auth.password"), type="password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if _oidc_configured():
        if st.button(t("auth.sign_in_sso")):
            st.login()
    if submitted:
        result = accounts.sign_in(get_engine(), username, password,
                                  max_failures=get_setting("login_max_failures"))
        if result.account is not None:
            _begin(result.account, "password")
            st.rerun()
        # One message for every refusal: which usernames exist, are locked or disabled is for
        # the audit log, not for whoever types at the form.
        st.error(t("auth.failed"))


def _from_provider() -> Viewer | None:
    """The viewer the identity provider vouches for, or None after saying why not."""
    email = str(st.user.get("email") or "")
    acc = accounts.get_account(get_engine(), email)
    if acc is None or acc.disabled:
        # Each rerun of this refusal (its sign-out click too) is the same attempt, not a new one.
        audit_once("login_failure", {"reason": "sso_no_account"}, actor=email)
        st.error(t("auth.sso_no_account", email=escape_markdown(email)))
        if st.button(t("auth.sign_out")):
            st.logout()
        return None
    record_now(get_engine(), acc.username, "login", {"method": "oidc"})
    return _begin(acc, "oidc")


def _screen_gate(token: str) -> Viewer | None:
    epoch = accounts_epoch()
    token_id = _screen_token_id(token, epoch)
    if token_id is None:
        for key in ("viewer", "viewer_epoch", "screen_token"):
            st.session_state.pop(key, None)
        st.error(t("auth.bad_token"))
        return None
    return _hold(Viewer(name=f"screen#{token_id}", role="screen", scope=EVERYTHING), epoch, screen_token=token)


def sign_in_gate() -> Viewer | None:
    """The viewer for this run, or None after drawing the sign-in form (the caller stops)."""
    if not get_setting("require_login"):
        return OPEN_VIEWER

    token = st.query_params.get("token")
    if token:
        return _screen_gate(token)

    now = time.time()
    recheck = st.session_state.pop("_recheck", False)
    viewer = _standing(now) or _from_cookie()
    ended = st.session_state.pop("_ended", None)

    if viewer is None and _provider_signed_in():
        if ended == "idle":
            # The provider's cookie would sign the same person straight back in: idling out must
            # sign out at the provider too. The caller stops on None, and must not rerun: a new
            # run would drop st.logout()'s redirect (see _sign_out).
            st.logout()
            return None
        viewer = _from_provider()
        if viewer is None:
            return None

    _cookie_step()
    if viewer is None:
        if ended == "idle":
            st.warning(t("auth.idle"))
        elif ended == "ended":
            st.warning(t("auth.ended"))
        _login_form()
        return None

    if not recheck:  # a rerun the background watch asked for is not the viewer's activity
        _note_activity(now)
    return viewer


def _session_moved() -> bool:
    """Whether this tab's viewer went or changed since its last check (SQL only when the epoch moved)."""
    before = st.session_state.get("viewer")
    if before is None:
        return True
    if _on_screen_token(before):
        return not _screen_token_holds()
    return _standing(time.time()) != before


def _follow_changes() -> None:
    """The background check: when this tab's viewer changed or went, the whole page runs again."""
    try:
        moved = st.session_state.get("viewer") is not None and _session_moved()
    except SQLAlchemyError as exc:
        # The store is away: the page's next run says so; this hidden check only tries again.
        log.warning("session check failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc))
        return
    if moved:
        st.session_state["_recheck"] = True
        st.rerun(scope="app")


def watch_session() -> None:
    """Every `version_check_seconds`, in the background: an open page follows a revocation, a new
    role or scope, or its idle timeout within seconds, even while nobody touches it."""
    if not get_setting("require_login") or st.session_state.get("viewer") is None:
        return
    with out_of_sight("brain_session_watch"):
        st.fragment(_follow_changes, run_every=get_setting("version_check_seconds"))()


def follows_session(fn):
    """For a page's self-refreshing fragment: it draws nothing for a viewer who may no longer look,
    and has the whole page run again instead (which shows the sign-in form or the new role's view)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        if get_setting("require_login"):
            if st.session_state.get("viewer") is None:
                return None  # a late refresh after the sign-out: nothing to draw
            if _session_moved():
                st.session_state["_recheck"] = True
                st.rerun(scope="app")
        return fn(*args, **kwargs)
    return run


def _sign_out() -> None:
    _drop("logout")
    st.session_state.pop("_ended", None)
    if _provider_signed_in():
        # st.logout() sends the browser to the provider's sign-out; the caller's rerun
        # would start a new run that drops that redirect, leaving the identity cookie.
        st.logout()
        st.stop()


def sign_out_button() -> None:
    viewer = current_viewer()
    if viewer.role == "screen" or not get_setting("require_login"):
        return
    st.sidebar.caption(t("auth.signed_in_as", name=escape_markdown(viewer.name), role=t(f"role.{viewer.role}")))
    if st.sidebar.button(t("auth.sign_out"), key="sign_out"):
        _sign_out()
        st.rerun()
