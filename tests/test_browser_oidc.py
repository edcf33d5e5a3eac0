"""OIDC sign-in through Streamlit's st.login, end to end in a real browser.

A mock OpenID provider runs in a thread; the app gets an `[auth]` section in a
temporary secrets file. The provider's e-mail must match a local account, which
gives the role and the district scope; an unknown e-mail is refused and audited.
"""

from __future__ import annotations

import json
import re
import secrets
import warnings

import pytest
from sqlalchemy import select

from store import accounts
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.queries.common import store_summary
from store.schema import audit_log
from store.scope import EVERYTHING, Scope
from tests.browser_support import browser_page, wait_for_app

pytestmark = [
    pytest.mark.browser,
    # The mock provider runs in this process on Authlib's older APIs; their notices are not ours.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:oidc_provider_mock.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*"),
]

DISTRICT = "330106"  # 西湖区
STAFF_EMAIL = "wang.staff@example.org"
STRANGER_EMAIL = "nobody@example.org"
SSO_BUTTON = "使用单位统一身份登录"


@pytest.fixture(scope="module")
def oidc_provider():
    """Base URL of a mock OpenID provider; any client id and secret are accepted."""
    with warnings.catch_warnings():
        # Authlib's import puts its notices on "always", ahead of the marks above; the mock's
        # imports of Authlib's older modules would then land in every report.
        import authlib.deprecate  # noqa: F401

        warnings.simplefilter("ignore", DeprecationWarning)
        from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def sso_app(tmp_path, oidc_provider, streamlit_app):
    """(base URL, engine) of the app with sign-in required and the mock provider configured."""
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=300, seed=5)
    accounts.create_account(engine, STAFF_EMAIL, None, "staff", scope=Scope(districts=(DISTRICT,)))
    secrets_file = tmp_path / "secrets.toml"
    # The redirect URI's origin must be the page's (the fixture serves 127.0.0.1): Streamlit
    # refuses an identity cookie from another origin. It fills `{port}` with the served port.
    secrets_file.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "brain-test"\n'
        'client_secret = "brain-test-secret"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    base = streamlit_app(url, BRAIN_REQUIRE_LOGIN="1", BRAIN_ANALYTIC_COPY="0",
                         STREAMLIT_SECRETS_FILES=str(secrets_file))
    yield base, engine
    engine.dispose()


def audit_rows(engine, action: str) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                            .where(audit_log.c.action == action).order_by(audit_log.c.id)).all()
    return [(actor, json.loads(detail) if detail else {}) for actor, detail in rows]


def sign_in_at_provider(page, base: str, provider: str, email: str) -> None:
    """From the app's sign-in form through the provider's form and back to the app."""
    page.goto(base)
    wait_for_app(page)
    page.get_by_role("button", name=SSO_BUTTON).click()
    page.wait_for_url(re.compile(re.escape(provider) + r"/oauth2/authorize\?"))
    page.fill('input[name="sub"]', email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/(home|cockpit|sign_in)?(\?.*)?$"))
    wait_for_app(page)


def sign_in_form_shown(page) -> None:
    page.get_by_role("button", name=SSO_BUTTON).wait_for()
    page.get_by_label("用户名").wait_for()


def test_provider_email_signs_in_as_the_matching_account(chromium, sso_app, oidc_provider):
    base, engine = sso_app
    expected = store_summary(engine, Scope(districts=(DISTRICT,))).persons
    everyone = store_summary(engine, EVERYTHING).persons
    assert 0 < expected < everyone

    with browser_page(chromium, width=1440, height=1000) as (page, _):
        sign_in_at_provider(page, base, oidc_provider, STAFF_EMAIL)

        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text(f"当前用户：{STAFF_EMAIL}（工作人员）").wait_for()
        # The account's district scope applies: the footer counts only that district's persons.
        sidebar.get_by_text(f"人员总数：{expected:,}").wait_for()
        # The staff role's pages are there; the admin's are not.
        nav = page.get_by_test_id("stSidebarNav")
        assert nav.get_by_text("人员查询").count() == 1
        assert nav.get_by_text("数据导入").count() == 0
        assert audit_rows(engine, "login") == [(STAFF_EMAIL, {"method": "oidc"})]

        sidebar.get_by_role("button", name="退出登录").click()
        # The provider's end-session page comes first; it sends the browser back to the app.
        page.wait_for_url(re.compile(re.escape(oidc_provider) + r"/oauth2/end_session"))
        page.get_by_role("button", name="End session").click()
        page.wait_for_url(re.compile(re.escape(base)))
        wait_for_app(page)
        sign_in_form_shown(page)
        assert page.get_by_text("当前用户").count() == 0
        assert [actor for actor, _ in audit_rows(engine, "logout")] == [STAFF_EMAIL]

        # Signed out for real: a fresh visit does not slip back in through a leftover cookie.
        page.goto(base)
        wait_for_app(page)
        sign_in_form_shown(page)
        assert len(audit_rows(engine, "login")) == 1


def test_provider_email_without_account_is_refused(chromium, sso_app, oidc_provider):
    base, engine = sso_app
    with browser_page(chromium, width=1440, height=1000) as (page, _):
        sign_in_at_provider(page, base, oidc_provider, STRANGER_EMAIL)

        page.get_by_text(f"统一身份 {STRANGER_EMAIL} 没有对应的本系统账号，请联系管理员开通。").wait_for()
        assert page.get_by_test_id("stSidebarNav").count() == 0
        assert page.get_by_text("当前用户").count() == 0
        refusal = (STRANGER_EMAIL, {"reason": "sso_no_account"})
        assert audit_rows(engine, "login_failure") == [refusal]
        assert audit_rows(engine, "login") == []

        # The same refusal in English: a new session, so a second row.
        page.goto(f"{base}/?lang=en")
        wait_for_app(page)
        page.get_by_text(f"No account here matches {STRANGER_EMAIL}; ask an administrator to create one.").wait_for()
        assert audit_rows(engine, "login") == []
        assert audit_rows(engine, "login_failure") == [refusal, refusal]

        # Signing out from the refusal reruns it once more: not another failed sign-in.
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(re.escape(oidc_provider) + r"/oauth2/end_session"))
        assert audit_rows(engine, "login_failure") == [refusal, refusal]
