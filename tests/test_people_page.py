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
    # What was typed is still there: saving again, having seen the conflict, keeps both saves.
    assert at.text_input(key=f"edit_{pid}_organization").value == "某大学"
    submit(at, "保存")
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(person.c.title, person.c.organization).where(person.c.id == pid)).one() == (
            "副教授", "某大学")


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
    assert not at.checkbox(key="bulk_sure").value  # applied: doing it again takes a new confirmation
    submit(at, "执行")
    assert any("请先勾选确认" in w.value for w in at.warning)
    history = ch.person_history(sqlite_engine, west[4])
    assert history["change_set_id"].nunique() == 2  # the import and the one bulk change
    bulk_set = int(history["change_set_id"].iloc[0])
    ch.undo_change_set(sqlite_engine, bulk_set, "admin")
    with sqlite_engine.connect() as conn:
        assert not conn.execute(select(person_tag.c.person_id)).first()


def test_the_added_person_opens_and_the_form_is_emptied(make_app, sqlite_engine):
    at = open_page(make_app, sqlite_engine)
    fill(at, "add", name="张三", phone="13800000000", category="无党派人士")
    submit(at, "保存")
    [pid] = [r.id for r in persons(sqlite_engine)]
    assert at.number_input(key="people_open").value == pid
    assert any(f"张三 · #{pid}" in m.value for m in at.markdown)
    assert at.text_input(key="add_name").value == "" and at.text_input(key="add_phone").value == ""
    # A second click on the emptied form adds nobody.
    next(b for b in at.button if b.label == "保存" and b.form_id == "people_add").click().run()
    assert len(persons(sqlite_engine)) == 1


def test_the_duplicate_warning_opens_the_existing_person(make_app, sqlite_engine):
    pid = seeded(sqlite_engine)
    at = open_page(make_app, sqlite_engine)
    fill(at, "add", name="李四", phone="13800000000", category="无党派人士")
    submit(at, "保存")
    assert any("可能已有此人" in w.value for w in at.warning)
    submit(at, f"打开 #{pid}")
    assert at.number_input(key="people_open").value == pid
    assert at.text_input(key=f"edit_{pid}_title").value == "教授"
    assert len(persons(sqlite_engine)) == 1


def test_the_edit_form_reads_in_order_with_names_not_codes(signed_in_app, sqlite_engine):
    from store.accounts import create_account

    pid = seeded(sqlite_engine)
    # A staff member, who edits neither name, ID number nor birth date.
    create_account(sqlite_engine, "staff1", "Staff-pass-2026", "staff")
    at = signed_in_app(url_of(sqlite_engine), "staff1", "Staff-pass-2026", person=str(pid))
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    form = [w for w in at.text_input if w.key.startswith(f"edit_{pid}_") and not w.key.endswith("_reason")]
    # Three to a row in the form's order, with no gaps where a field is for admins only: the
    # tree lists the first column's fields, then the second's, then the third's.
    fields = ["gender", "ethnicity", "phone", "party", "category", "district", "street", "organization",
              "position", "education", "title", "source"]
    assert [w.key.removeprefix(f"edit_{pid}_") for w in form] == fields[0::3] + fields[1::3] + fields[2::3]
    assert at.text_input(key=f"edit_{pid}_category").value == "无党派人士"
    assert at.text_input(key=f"edit_{pid}_district").value == "西湖区"
    # The stage moves through 调整阶段 only: a stage event with it, so the funnel follows.
    assert f"edit_{pid}_stage" not in [w.key for w in at.text_input]
    at.text_input(key=f"edit_{pid}_title").input("研究员")
    submit(at, "保存")
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(person.c.category_code, person.c.district_code, person.c.title)
                           .where(person.c.id == pid)).one()
    assert tuple(row) == ("non_party", "330106", "研究员")


def test_posts_read_as_a_table_in_words(make_app, sqlite_engine):
    import datetime as dt
    import json

    pid = seeded(sqlite_engine)
    with ch.change_set_of(sqlite_engine, "staff", "clerk") as cs:
        cs.add_appointment(pid, dict(body="cppcc", title="政协委员", level="区级", term_start=dt.date(2022, 1, 10),
                                     term_end=dt.date(2027, 1, 10)))
    at = open_page(make_app, sqlite_engine, person=str(pid))
    [posts] = [df for df in at.dataframe if "title" in df.value.columns and "政协委员" in set(df.value["title"])]
    assert list(posts.value["body"]) == ["政协"]  # the body's name, not its code
    shown = json.loads(posts.proto.columns)
    labels = {column: (config if isinstance(config, str) else config.get("label")) for column, config in shown.items()}
    assert {labels[c] for c in ("body", "title", "level", "term_start", "term_end")} == {
        "机构", "职务", "级别", "任期开始", "任期结束"}
    assert list(posts.proto.column_order) == ["body", "title", "level", "term_start", "term_end"]  # no ids


def test_a_recorded_post_empties_its_form_and_an_empty_post_is_refused(make_app, sqlite_engine):
    from store.schema import appointment

    pid = seeded(sqlite_engine)
    at = open_page(make_app, sqlite_engine, person=str(pid))
    at.selectbox(key=f"post_body_{pid}").set_value("cppcc")
    at.text_input(key=f"post_title_{pid}").input("政协委员")
    submit(at, "记录任职")
    assert at.text_input(key=f"post_title_{pid}").value == ""
    submit(at, "记录任职")  # a second click on the emptied form
    assert any("请填写职务" in w.value for w in at.warning)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(appointment.c.body, appointment.c.title)).all() == [("cppcc", "政协委员")]


def test_the_history_names_stages_and_tags(make_app, sqlite_engine):
    pid = seeded(sqlite_engine)
    with ch.change_set_of(sqlite_engine, "staff", "clerk") as cs:
        cs.move_stage(pid, "use")
        cs.add_tags(pid, ["海归"], create=True)
    at = open_page(make_app, sqlite_engine, person=str(pid))
    [history] = [df.value for df in at.dataframe if "内容" in df.value.columns]
    assert {"使用", "海归"} <= set(history["新值"]) and "use" not in set(history["新值"])
    assert ("发现", "使用") in set(zip(history["原值"], history["新值"]))  # the stage field, in words
    assert all(isinstance(v, str) for v in history["原因"])  # no missing value printed as "None"


def test_after_an_undo_the_forms_show_what_is_stored(make_app, sqlite_engine):
    pid = seeded(sqlite_engine)
    at = open_page(make_app, sqlite_engine, person=str(pid))
    at.text_input(key=f"edit_{pid}_title").input("研究员")
    submit(at, "保存")
    submit(at, "撤销整次变更")
    assert persons(sqlite_engine)[0].title == "教授"
    assert at.text_input(key=f"edit_{pid}_title").value == "教授"  # not the undone 研究员
    # The next correction is this viewer's own, not a conflict with their undo, and brings nothing back.
    at.text_input(key=f"edit_{pid}_organization").input("某大学")
    submit(at, "保存")
    assert not at.error, [e.value for e in at.error]
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(person.c.title, person.c.organization).where(person.c.id == pid)).one() == (
            "教授", "某大学")


def test_a_post_is_corrected_and_a_stale_form_is_refused(make_app, sqlite_engine):
    import datetime as dt

    from store.schema import appointment

    pid = seeded(sqlite_engine)
    with ch.change_set_of(sqlite_engine, "staff", "clerk") as cs:
        aid = cs.add_appointment(pid, dict(body="cppcc", title="政协委员", level="区级", term_start=dt.date(2022, 1, 10)))
    at = open_page(make_app, sqlite_engine, person=str(pid))
    assert at.text_input(key=f"post_edit_level_{aid}").value == "区级"  # the form shows the post as stored
    at.text_input(key=f"post_edit_level_{aid}").input("市级")
    at.date_input(key=f"post_edit_end_{aid}").set_value(dt.date(2021, 1, 1))
    submit(at, "保存任职修改")
    assert any("任期结束早于任期开始" in w.value for w in at.warning)  # nothing saved
    at.date_input(key=f"post_edit_end_{aid}").set_value(dt.date(2027, 1, 10))
    # Someone else corrects the title meanwhile: this form's save is refused, theirs stays.
    with ch.change_set_of(sqlite_engine, "staff", "other") as cs:
        cs.edit_appointment(aid, {"title": "政协常委"})
    submit(at, "保存任职修改")
    assert any("职务" in e.value for e in at.error)  # the conflict names the field the other changed
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(appointment.c.title, appointment.c.level)).one() == ("政协常委", "区级")
    # The other's title now shows (this form had not touched it); what was typed stays; saving keeps both.
    assert at.text_input(key=f"post_edit_title_{aid}").value == "政协常委"
    assert at.text_input(key=f"post_edit_level_{aid}").value == "市级"
    submit(at, "保存任职修改")
    with sqlite_engine.connect() as conn:
        assert tuple(conn.execute(select(appointment.c.title, appointment.c.level, appointment.c.term_end)).one()) == (
            "政协常委", "市级", dt.date(2027, 1, 10))
    history = ch.person_history(sqlite_engine, pid)
    assert {"level", "term_end"} <= set(history[history["entity"] == "appointment"]["field"])


def test_the_history_names_the_import_file_and_undoing_the_import_there_undoes_the_batch(make_app, sqlite_engine):
    from loaders.api import apply_import, prepare_import
    from store.schema import import_batch

    body = "姓名,手机号码,统战对象类别,所属区县,工作单位\n张三,13800000000,无党派人士,西湖区,甲公司\n"
    batch = apply_import(sqlite_engine, prepare_import(body.encode("utf-8"), "十二月名单.csv"), imported_by="clerk")
    with sqlite_engine.connect() as conn:
        pid = conn.execute(select(person.c.id)).scalar_one()
    at = open_page(make_app, sqlite_engine, person=str(pid))
    [history] = [df.value for df in at.dataframe if "内容" in df.value.columns]
    assert any("十二月名单.csv" in via for via in history["途径"])
    next(b for b in at.button if b.label == "撤销整次变更").click().run()
    assert not at.exception, at.exception
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(person.c.id)).first() is None
        assert conn.execute(select(import_batch.c.status).where(import_batch.c.id == batch.batch_id)).scalar() == "undone"


def test_a_person_is_marked_no_longer_followed_from_the_profile(make_app, sqlite_engine):
    import datetime as dt

    pid = seeded(sqlite_engine)
    at = open_page(make_app, sqlite_engine, person=str(pid))
    at.selectbox(key=f"state_{pid}").set_value("deceased")
    submit(at, "保存联系状态")
    assert any("请填写" in w.value for w in at.warning)  # no date: nothing saved
    at.date_input(key=f"state_on_{pid}").set_value(dt.date(2026, 11, 1))
    submit(at, "保存联系状态")
    with sqlite_engine.connect() as conn:
        assert tuple(conn.execute(select(person.c.status, person.c.status_on).where(person.c.id == pid)).one()) == (
            "deceased", dt.date(2026, 11, 1))
    assert any("不再联系：去世" in w.value for w in at.warning)
