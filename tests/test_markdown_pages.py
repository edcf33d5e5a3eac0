"""User-supplied text on the pages written since issue 19 shows as typed, never as markdown (item 6).

Activity titles, places, sign-up questions and cancel reasons (the activity desk, the check-in
page, the hall), sheet names of an enterprise file, names a refusal quotes (a steward's, a tag's,
a person's): each carries a markdown image and a link. Before, each of these went into
st.markdown, st.caption, st.subheader or st.error as it was, and the browser fetched the image.
"""

from __future__ import annotations

from store import activities as act
from tests.data.hostile_files import ROSTER, xlsx_bytes
from tests.test_activity_desk_page import store  # noqa: F401  (a fixture: a migrated SQLite store)
from tests.test_online_activities import STAFF, a_plan
from ui.i18n import translate

IMAGE = "![x](http://evil.example/x.png)"
LINK = "[链接](http://evil.example/)"
HOSTILE = f"{IMAGE}{LINK}"


def markdown_of(at) -> str:
    """Every text the page hands to Streamlit's markdown."""
    parts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def assert_inert(at, *expected_words: str) -> None:
    text = markdown_of(at)
    assert "](" not in text.replace("\\](", ""), text  # no bare link or image left
    for word in expected_words:  # the text is there, as text
        assert word in text.replace("\\", "").replace("\u2060", ""), (word, text)


def hostile_activity(engine, **changes) -> int:
    questions = act.parse_questions([{"id": "q1", "kind": "choice", "label": f"用餐{HOSTILE}",
                                      "options": ["是", f"否{IMAGE}"], "required": True}])
    aid = act.plan_activity(engine, a_plan(title=f"座谈会{HOSTILE}", place=f"会议室{IMAGE}", questions=questions,
                                           **changes), actor=STAFF)
    act.publish_activity(engine, aid, actor=STAFF)
    return aid


def test_the_check_in_page_shows_titles_and_places_as_text(store, open_page):
    url, engine = store
    hostile_activity(engine)
    assert_inert(open_page(url, "checkin"), "座谈会![x]", "会议室![x]")


def test_the_hall_shows_the_title_as_text(store, open_page):
    url, engine = store
    aid = hostile_activity(engine)
    assert_inert(open_page(url, "hall", activity=str(aid)), "座谈会![x]")


def test_the_desk_shows_questions_reasons_and_refusals_as_text(store, open_page):
    url, engine = store
    aid = hostile_activity(engine)
    at = open_page(url, "activity_desk")
    at.selectbox(key="desk_activity").set_value(aid).run()
    assert_inert(at, "用餐![x]", "否![x]")
    at.text_input(key="desk_steward").input(f"门卫{IMAGE}")
    next(b for b in at.button if b.key == "desk_assign").click().run()
    assert not at.exception and at.error
    assert_inert(at, "门卫![x]")
    act.cancel_activity(engine, aid, f"下雨{HOSTILE}", actor=STAFF)
    at = open_page(url, "activity_desk")
    at.selectbox(key="desk_activity").set_value(aid).run()
    assert_inert(at, "下雨![x]")


def test_the_enterprise_import_shows_a_sheet_name_as_text(store, open_page):
    url, _ = store
    at = open_page(url, "enterprises")
    data = xlsx_bytes(ROSTER, dimension=(1_048_576, 16_384), sheet=HOSTILE)
    at.get("file_uploader")[0].set_value(("工商.xlsx", data, "application/octet-stream")).run()
    assert not at.exception and at.error
    assert_inert(at, "A1:XFD1048576")


def test_a_refusal_quoting_a_tag_name_shows_it_as_text(store, make_app, monkeypatch):
    """Scoped staff may not create tags: the refusal names the tag typed."""
    import time

    from store import changes as ch
    from ui.auth import Viewer

    url, engine = store
    with ch.change_set_of(engine, "staff", STAFF) as cs:
        cs.add_person(dict(name="王伟", category_code="non_party", district_code="330106"))
    at = make_app(url)
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    at.session_state["viewer"] = Viewer(name="wang", role="staff", scope=act.EVERYTHING)
    at.session_state["last_seen"] = time.time()
    at.run()
    at.switch_page("pages/explorer.py").run()
    at.text_input(key="bulk_tag").input(f"新标签{IMAGE}")
    at.checkbox(key="bulk_sure").check()
    next(b for b in at.button if b.label == translate("bulk.apply", "zh")).click().run()
    assert not at.exception and at.error
    assert_inert(at, "新标签![x]")


def test_a_new_persons_name_in_the_saved_notice_is_text(store, open_page):
    url, _ = store
    at = open_page(url, "people")
    at.text_input(key="add_name").input(f"王{IMAGE}")
    at.text_input(key="add_category").input(f"类别{IMAGE}")
    next(b for b in at.button if b.label == translate("people.add.save", "zh")).click().run()
    assert not at.exception and at.error  # the category's problem quotes it
    assert_inert(at, "类别![x]")
    at.text_input(key="add_category").input("无党派人士")
    at.text_input(key="add_phone").input("13800000000")
    next(b for b in at.button if b.label == translate("people.add.save", "zh")).click().run()
    assert not at.exception and at.success
    assert_inert(at, "王![x]")
