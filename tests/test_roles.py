"""Sign-in gate, role navigation and screen tokens under AppTest (the whole app)."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from store import accounts
from store.schema import audit_log
from ui.markdown import escape_markdown


@pytest.fixture
def gated_app(sqlite_engine, make_app, monkeypatch):
    url = sqlite_engine.url.render_as_string(hide_password=False)

    def make(**query_params):
        at = make_app(url, **query_params)
        monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
        return at

    return make


def sign_in(at, username, password):
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_login_required_and_wrong_password_refused(gated_app, sqlite_engine):
    accounts.create_account(sqlite_engine, "staff1", "a-long-password", "staff")
    at = gated_app()
    at.run()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["用户名", "密码"]
    sign_in(at, "staff1", "wrong-password")
    assert any("不正确" in e.value for e in at.error)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(audit_log.c.action)).scalars().all()[-1] == "login_failure"


def body_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [str(x.value) for x in at.title]
    return " ".join(parts)


def test_account_name_is_shown_as_written(gated_app, sqlite_engine):
    name = "[管理员](http://evil.example/)"
    accounts.create_account(sqlite_engine, name, "a-long-password", "staff")
    at = sign_in(gated_app(), name, "a-long-password")
    assert not at.exception
    assert f"当前用户：{escape_markdown(name)}" in body_text(at) and name not in body_text(at)


@pytest.mark.parametrize("role, allowed, refused", [
    ("staff", "pages/explorer.py", "pages/data_import.py"),
    ("leader", "pages/lifecycle.py", "pages/explorer.py"),
    ("admin", "pages/data_import.py", None),
])
def test_role_reaches_its_pages_only(gated_app, sqlite_engine, role, allowed, refused):
    accounts.create_account(sqlite_engine, "u", "a-long-password", role)
    at = sign_in(gated_app(), "u", "a-long-password")
    assert not at.exception
    assert "当前用户：u" in body_text(at)
    if refused:
        # The page is not in this role's navigation, so no URL reaches it.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(refused).run()
    at.switch_page(allowed).run()
    assert not at.exception


def test_screen_token_opens_cockpit_only(gated_app, sqlite_engine):
    token = accounts.create_screen_token(sqlite_engine, "大厅")
    at = gated_app(token=token)
    at.run()
    assert not at.exception
    assert not at.text_input  # no sign-in form
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/explorer.py").run()


def test_revoked_or_wrong_token_is_refused(gated_app, sqlite_engine):
    at = gated_app(token="not-a-token")
    at.run()
    assert any("无效" in e.value for e in at.error)



def test_district_scope_reaches_the_footer_count(gated_app, sqlite_engine):
    from datetime import datetime

    from sqlalchemy import insert

    from store.schema import person
    from store.scope import Scope

    now = datetime(2026, 1, 1)
    rows = [dict(name=f"人{i}", category_code="other", district_code=d, created_at=now, updated_at=now)
            for i, d in enumerate(["330106"] * 3 + ["330102"] * 4)]
    with sqlite_engine.begin() as conn:
        conn.execute(insert(person), rows)
    accounts.create_account(sqlite_engine, "xihu", "a-long-password", "staff", scope=Scope(districts=("330106",)))
    at = sign_in(gated_app(), "xihu", "a-long-password")
    assert "人员总数：3" in body_text(at)


# ---- the identity provider (st.login), faked through AppTest.user -------------------------

# Only its presence matters here: it turns the provider sign-in on; nothing is fetched.
SSO_SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
                        "client_id": "brain-test", "client_secret": "brain-test-secret",
                        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def signed_in_at_provider(at, email: str):
    at.secrets = SSO_SECRETS
    at.user = {"is_logged_in": True, "email": email}
    return at


def audit_rows(engine, action: str) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                            .where(audit_log.c.action == action).order_by(audit_log.c.id)).all()
    return [(actor, json.loads(detail) if detail else {}) for actor, detail in rows]


def provider_session(at, email: str, idle_minutes: float):
    """A session whose viewer signed in through the provider `idle_minutes` ago.

    Set up on a fresh AppTest: only an AppTest's first run is sure to go through app.py's
    gate (later runs may run the page alone, which the gate has already passed).
    """
    from store.scope import EVERYTHING
    from ui.auth import Viewer

    signed_in_at_provider(at, email)
    at.session_state["viewer"] = Viewer(name=email, role="staff", scope=EVERYTHING)
    at.session_state["last_seen"] = time.time() - idle_minutes * 60
    return at


def test_idle_provider_user_is_signed_out_at_the_provider(gated_app, sqlite_engine):
    email = "wang.staff@example.org"
    accounts.create_account(sqlite_engine, email, None, "staff")
    at = provider_session(gated_app(), email, idle_minutes=31)  # past the default 30
    at.run()
    assert not at.exception
    # Signed out at the provider, not signed straight back in through its cookie.
    assert at.user == {"is_logged_in": False}
    assert "viewer" not in at.session_state
    assert "当前用户" not in body_text(at)
    assert audit_rows(sqlite_engine, "logout") == [(email, {"reason": "idle"})]
    assert audit_rows(sqlite_engine, "login") == []

    at.run()
    assert [w.label for w in at.text_input] == ["用户名", "密码"]
    assert audit_rows(sqlite_engine, "login") == []


def test_active_provider_user_stays_signed_in(gated_app, sqlite_engine):
    email = "wang.staff@example.org"
    accounts.create_account(sqlite_engine, email, None, "staff")
    at = provider_session(gated_app(), email, idle_minutes=29)
    at.run()
    assert not at.exception
    # The e-mail is shown as written: escaped, it renders as text, not as a mail link.
    assert at.user["is_logged_in"] is True and f"当前用户：{escape_markdown(email)}" in body_text(at)
    assert audit_rows(sqlite_engine, "logout") == []


def test_provider_email_without_account_is_audited_once_per_session(gated_app, sqlite_engine):
    email = "nobody@example.org"
    at = signed_in_at_provider(gated_app(), email)
    for _ in range(3):
        at.run()
        assert not at.exception
        assert [e.value for e in at.error] == [f"统一身份 {escape_markdown(email)} 没有对应的本系统账号，请联系管理员开通。"]
    [sign_out] = [b for b in at.button if b.label == "退出登录"]
    sign_out.click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    assert audit_rows(sqlite_engine, "login_failure") == [(email, {"reason": "sso_no_account"})]
    assert audit_rows(sqlite_engine, "login") == []


@pytest.mark.parametrize("idle_minutes, signed_out", [(31, True), (29, False)])
def test_idle_local_session_signs_in_again(gated_app, sqlite_engine, idle_minutes, signed_out):
    from store.scope import EVERYTHING
    from ui.auth import Viewer

    accounts.create_account(sqlite_engine, "staff1", "a-long-password", "staff")
    at = gated_app()
    at.session_state["viewer"] = Viewer(name="staff1", role="staff", scope=EVERYTHING)
    at.session_state["last_seen"] = time.time() - idle_minutes * 60
    at.run()
    assert not at.exception
    if signed_out:
        assert [w.label for w in at.text_input] == ["用户名", "密码"]
        assert any("登录" in w.value for w in at.warning)
        assert "viewer" not in at.session_state
        assert audit_rows(sqlite_engine, "logout") == [("staff1", {"reason": "idle"})]
    else:
        assert "当前用户：staff1" in body_text(at)
        assert audit_rows(sqlite_engine, "logout") == []
