"""The people page under AppTest: add (with the duplicate warning), edit, conflict, history and undo."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from store import changes as ch
from store.schema import person, person_tag, tag
from tests.test_person_form import valid_id

PAGE = "pages/people.py"


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def open_page(make_app, engine, **params):
    at = make_app(url_of(engine), **params)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def fill(at, prefix: str, **values):
    for name, value in values.items():
        at.text_input(key=f"{prefix}_{name}").input(value)


def submit(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def persons(engine):
    with engine.connect() as conn:
        return conn.execute(select(person.c.id, person.c.name, person.c.phone, person.c.title)
                            .order_by(person.c.id)).all()


def test_add_a_person_then_a_likely_duplicate_is_shown_before_saving(make_app, sqlite_engine):
    at = open_page(make_app, sqlite_engine)
    fill(at, "add", name="张三", id_number=valid_id(), phone="13800000000", category="无党派人士",
         district="西湖区", tags="海归")
    submit(at, "保存")
    rows = persons(sqlite_engine)
    assert [(r.name, r.phone) for r in rows] == [("张三", "13800000000")]
    assert any("已新增" in s.value for s in at.success)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(tag.c.name).join(person_tag)).scalars().all() == ["海归"]
    at = open_page(make_app, sqlite_engine)
    fill(at, "add", name="张三", phone="13800000000", category="无党派人士")
    submit(at, "保存")
    assert any("可能已有此人" in w.value for w in at.warning)
    assert len(persons(sqlite_engine)) == 1  # nothing saved until "add anyway"


def test_a_bad_id_number_is_refused_with_the_import_message(make_app, sqlite_engine):
    at = open_page(make_app, sqlite_engine)
    fill(at, "add", name="张三", id_number=valid_id()[:-1] + "0" if not valid_id().endswith("0") else "1",
         category="无党派人士")
    submit(at, "保存")
    assert any("校验位" in e.value for e in at.error)
    assert persons(sqlite_engine) == []


def seeded(engine) -> int:
    with ch.change_set_of(engine, "import", "clerk", "名单.xlsx") as cs:
        return cs.add_person(dict(name="李四", phone="13800000000", title="教授", category_code="non_party",
                                  district_code="330106"))


def test_edit_saves_a_change_and_history_undoes_it(make_app, sqlite_engine):
    pid = seeded(sqlite_engine)
    at = open_page(make_app, sqlite_engine, person=str(pid))
    at.text_input(key=f"edit_{pid}_title").input("研究员")
    submit(at, "保存")
    assert persons(sqlite_engine)[0].title == "研究员"
    history = [df.value for df in at.dataframe if "内容" in df.value.columns][0]
    assert {"职称"} <= set(history["内容"]) and "研究员" in set(history["新值"])
    submit(at, "撤销整次变更")
    assert not at.error, [e.value for e in at.error]
    assert persons(sqlite_engine)[0].title == "教授"


def test_a_second_save_from_a_stale_form_is_refused(make_app, sqlite_engine):
    pid = seeded(sqlite_engine)
    at = open_page(make_app, sqlite_engine, person=str(pid))
    # Someone else saves the person after this form was opened.
    with ch.change_set_of(sqlite_engine, "staff", "other") as cs:
        cs.edit_person(pid, {"title": "副教授"})
    at.text_input(key=f"edit_{pid}_organization").input("某大学")
    submit(at, "保存")
    assert any("其他人已修改" in e.value and "职称" in e.value for e in at.error)
    row = persons(sqlite_engine)[0]
    assert row.title == "副教授"  # the other save is kept, this one is not written
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(person.c.organization).where(person.c.id == pid)).scalar_one() is None


def test_merge_two_duplicates_then_undo_from_the_history(make_app, sqlite_engine):
    keep = seeded(sqlite_engine)
    with ch.change_set_of(sqlite_engine, "import", "clerk") as cs:
        dup = cs.add_person(dict(name="李四", phone="13900000000", organization="某大学", category_code="non_party",
                                 district_code="330106"))
    at = open_page(make_app, sqlite_engine, person=str(keep), merge=str(dup))
    at.radio(key=f"merge_{keep}_organization").set_value(f"#{dup}")
    submit(at, "合并")
    rows = persons(sqlite_engine)
    assert [r.id for r in rows] == [keep]
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(person.c.organization, person.c.phone).where(person.c.id == keep)).one() == (
            "某大学", "13800000000")
    submit(at, "撤销整次变更")
    assert not at.error, [e.value for e in at.error]
    assert [r.id for r in persons(sqlite_engine)] == [keep, dup]


@pytest.mark.parametrize("role", ["leader", "screen"])
def test_leaders_and_screens_cannot_open_it(role):
    from ui.auth import Viewer

    assert not Viewer("x", role, ch.EVERYTHING).may_open("people")
    assert Viewer("x", "staff", ch.EVERYTHING).may_open("people")


def test_bulk_tag_from_the_explorer_is_one_undoable_change_set(make_app, sqlite_engine):
    with ch.change_set_of(sqlite_engine, "import", "clerk") as cs:
        west = [cs.add_person(dict(name=f"西{i}", category_code="non_party", district_code="330106"))
                for i in range(10)]
        cs.add_person(dict(name="上城人", category_code="non_party", district_code="330102"))
    at = make_app(url_of(sqlite_engine), districts="330106")
    at.run()
    at.switch_page("pages/explorer.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="bulk_action").set_value("tag_add")
    at.text_input(key="bulk_tag").input("青年")
    submit(at, "执行")
    assert any("请先勾选确认" in w.value for w in at.warning)  # nothing happens without the confirmation
    at.checkbox(key="bulk_sure").check()
    submit(at, "执行")
    with sqlite_engine.connect() as conn:
        tagged = set(conn.execute(select(person_tag.c.person_id).join(tag).where(tag.c.name == "青年")).scalars())
    assert tagged == set(west)
    history = ch.person_history(sqlite_engine, west[4])
    bulk_set = int(history["change_set_id"].iloc[0])
    ch.undo_change_set(sqlite_engine, bulk_set, "admin")
    with sqlite_engine.connect() as conn:
        assert not conn.execute(select(person_tag.c.person_id)).first()
