"""Hostile URL parameters: every page × every parameter it reads × values a hand-edited or
malicious link carries. No page shows Streamlit's error box or the store's error; a value
that cannot be used is dropped from the address with a quiet notice (issue 19 item 9)."""

from __future__ import annotations

import pytest

from store.filters import PersonFilter
from ui.filters import FIELDS, MULTI

# What each page reads from its URL (app.py reads lang and kiosk for every page; the sign-in
# token is the sign-in gate's and is answered there).
COMMON = ["lang", "kiosk"]
PAGE_PARAMS = {
    "cockpit": [*COMMON, "scale", "carousel"],
    "explorer": [*COMMON, "person", *FIELDS],
    "activities": COMMON,
    "lifecycle": COMMON,
    "data_health": COMMON,
    "data_import": COMMON,
    "audit": COMMON,
    "people": [*COMMON, "person", "merge"],
    "hall": [*COMMON, "activity"],
    "activity_desk": [*COMMON, *FIELDS],
    "reps": [*COMMON, *FIELDS],
    "enterprises": COMMON,
    "checkin": COMMON,
}
HOSTILE = [
    "", "nan", "-inf", "-1", "0", "5000", "99999999", "9" * 30, "abc", "\x00", "x" * 3000,
    "2026-02-30", "0001-01-01", "[x](javascript:alert(1))", "²", "١٢", "1" + "0" * 16, str(2**63 - 1),
]


@pytest.fixture(scope="module")
def demo_url(demo_sqlite):
    return demo_sqlite(300, 17)


def run_page(make_app, url: str, page: str, params: dict):
    """The page with these parameters in its URL, reached through app.py's navigation (as a link is)."""
    at = make_app(url)
    at.run()
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(f"pages/{page}.py").run()
    return at


def notices(at) -> list[str]:
    return [toast.value for toast in at.toast if "已忽略" in toast.value]


# Not marked `calendar`: which values a page accepts does not depend on the day (the
# notice tests below are, and run at every day of conftest.DATES).
@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:12]) + (f"…{len(v)}" if len(v) > 12 else ""))
@pytest.mark.parametrize("page", list(PAGE_PARAMS))
def test_hostile_values_in_every_parameter(make_app, demo_url, page, value):
    # Multi-valued fields get the value twice, as a repeated parameter.
    params = {name: [value, value] if name in MULTI else value for name in PAGE_PARAMS[page]}
    at = run_page(make_app, demo_url, page, params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.calendar
@pytest.mark.parametrize("page, name, value", [
    ("explorer", "age_min", "5000"), ("explorer", "active_months", "99999999"), ("cockpit", "scale", "nan"),
    ("cockpit", "carousel", "-3"), ("explorer", "person", "9" * 30), ("explorer", "updated_since", "0001-01-01"),
    ("explorer", "keyword", "张\x00"), ("explorer", "categories", "no_such_category"), ("activities", "lang", "fr"),
    ("lifecycle", "kiosk", "maybe"), ("people", "person", "9" * 30), ("people", "person", "²"),
    ("hall", "activity", "9" * 30), ("hall", "activity", "²"),
])
def test_an_unusable_value_is_dropped_with_a_notice(make_app, demo_url, page, name, value):
    at = run_page(make_app, demo_url, page, {name: value})
    assert not at.exception, at.exception
    assert notices(at) == [f"链接中 {name} 的值无法使用，已忽略。"]
    assert name not in at.query_params
    # The page is drawn as if the parameter were not there.
    assert at.title or at.metric or at.get("bidi_component")


@pytest.mark.calendar
def test_notice_in_english(make_app, demo_url):
    at = run_page(make_app, demo_url, "explorer", {"lang": "en", "age_max": "-7"})
    assert [t.value for t in at.toast] == ["The link's value of age_max could not be used and was ignored."]


@pytest.mark.calendar
@pytest.mark.parametrize("page, params", [
    ("explorer", {"age_min": "30", "age_max": "100", "active_months": "120", "active": "0", "keyword": "张",
                  "updated_since": "2024-02-29", "tags_mode": "all"}),
    ("cockpit", {"kiosk": "1", "scale": "2", "carousel": "30", "lang": "en"}),
    ("explorer", {"person": "1", "kiosk": "false"}),
])
def test_usable_values_stay_without_a_notice(make_app, demo_url, page, params):
    at = run_page(make_app, demo_url, page, params)
    assert not at.exception, at.exception
    assert not notices(at) and not at.toast
    assert {k: at.query_params[k] for k in params} == params


@pytest.mark.parametrize("params, ignored", [
    ({"age_min": ["5000"]}, ("age_min",)), ({"age_max": ["-1"]}, ("age_max",)), ({"age_min": ["100"]}, ()),
    ({"active_months": ["0"]}, ("active_months",)), ({"active_months": ["120"]}, ()),
    ({"updated_since": ["1999-12-31"]}, ("updated_since",)), ({"active": ["maybe"]}, ("active",)),
    ({"keyword": ["x" * 101]}, ("keyword",)), ({"keyword": ["a\x00"]}, ("keyword",)),
    ({"tags": ["海归", "\x07"]}, ("tags",)), ({"tags_mode": ["both"]}, ("tags_mode",)),
])
def test_the_filter_names_what_it_ignored(params, ignored):
    assert PersonFilter.parse_query_params(params)[1] == ignored


# ---------------------------------------------------------------- the routes beside the pages

from tests.test_request_bodies import signed_in, web_app  # noqa: E402,F401  (fixtures)

TOO_BIG = "9" * 30  # no integer of the store holds it


@pytest.mark.parametrize("path", [f"/_brain/door/{TOO_BIG}", f"/_brain/poster/{TOO_BIG}", f"/_brain/signup/{TOO_BIG}",
                                  "/_brain/door/²", "/_brain/poster/0"])
def test_an_activity_id_no_store_holds_is_no_such_activity(web_app, path):
    from starlette.testclient import TestClient

    with TestClient(web_app, raise_server_exceptions=False) as client:
        answer = client.get(path)
    # The poster asks a visitor to sign in as staff first; nothing fails in the store.
    assert answer.status_code in (403, 404) and "something went wrong" not in answer.text


@pytest.mark.parametrize("kind", ["suggest", "photo", "survey"])
def test_a_representatives_id_no_store_holds_is_no_page(signed_in, kind):
    from starlette.testclient import TestClient

    app, cookie, _ = signed_in
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        client.cookies.set(*cookie.split("=", 1))
        assert client.get(f"/m/{kind}/{TOO_BIG}").status_code == 404
        assert client.get("/m/home").status_code == 200
