"""The one write path: change sets, field-level history, undo and its refusals, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, insert, select, update

from loaders.api import apply_import, prepare_import, undo_batch
from store import changes as ch
from store.schema import activity, appointment, audit_log, meta, participation, person, person_tag, stage_event, tag
from store.scope import EVERYTHING, Scope

WEST, UPTOWN = "330106", "330102"
SNAPSHOT_TABLES = (person, tag, person_tag, stage_event, appointment, activity, participation)


def snapshot(engine) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as conn:
        for table in SNAPSHOT_TABLES:
            keys = list(table.primary_key.columns)
            rows = conn.execute(select(table).order_by(*keys)).all()
            out[table.name] = [tuple(_norm(v) for v in r) for r in rows]
    return out


def _norm(value):
    # Drivers give timestamps back with different sub-second precision.
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def version(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar() or "0"


def new_person(cs: ch.ChangeSet, name: str = "张三", district: str = WEST, **extra) -> int:
    return cs.add_person(dict(name=name, gender="M", category_code="non_party", district_code=district,
                              stage="discover", **extra))


def test_a_change_set_lands_whole_with_its_audit_and_version(engine):
    before = version(engine)
    with ch.change_set_of(engine, "staff", "wang", "新发现人士") as cs:
        pid = new_person(cs)
        cs.add_tags(pid, ["海归"], create=True)
    assert version(engine) != before
    with engine.connect() as conn:
        entry = conn.execute(select(audit_log).order_by(audit_log.c.id.desc())).first()
        assert (entry.actor, entry.action) == ("wang", "change.staff")
        assert f'"change_set": {cs.id}' in entry.detail
        assert conn.execute(select(person.c.updated_via).where(person.c.id == pid)).scalar_one() == "staff"
    history = ch.person_history(engine, pid)
    assert set(history["entity"]) == {"person", "stage_event", "person_tag"}
    assert (history["actor"] == "wang").all() and (history["source"] == "staff").all()


def test_a_failing_change_set_leaves_nothing(engine):
    before = snapshot(engine), version(engine)
    with pytest.raises(ch.WriteRefused):
        with ch.change_set_of(engine, "staff", "wang") as cs:
            pid = new_person(cs)
            cs.add_tags(pid, ["不存在的标签"], create=False)
    assert (snapshot(engine), version(engine)) == before


def test_edit_records_only_changed_fields_old_and_new(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = new_person(cs, phone="13800000000", organization="甲公司")
    with ch.change_set_of(engine, "staff", "li", "电话更正") as cs:
        changed = cs.edit_person(pid, {"phone": "13911112222", "organization": "甲公司"})
    assert set(changed) >= {"phone"} and "organization" not in changed
    history = ch.person_history(engine, pid)
    latest = history[history["change_set_id"] == cs.id]
    phone = latest[latest["field"] == "phone"].iloc[0]
    assert (phone["old_value"], phone["new_value"], phone["actor"], phone["reason"]) == (
        '"13800000000"', '"13911112222"', "li", "电话更正")
    assert history["change_set_id"].iloc[0] == cs.id  # newest first


def test_a_second_save_from_a_stale_form_is_refused_and_nothing_is_lost(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = new_person(cs, phone="13800000000", title="教授")
    seen = {"phone": "13800000000", "title": "教授"}  # both staff opened the form with these
    with ch.change_set_of(engine, "staff", "wang") as cs:
        cs.edit_person(pid, {"phone": "13911112222"}, seen=seen)
    with pytest.raises(ch.EditConflict) as refused:
        with ch.change_set_of(engine, "staff", "li") as cs:
            cs.edit_person(pid, {"title": "研究员"}, seen=seen)
    assert refused.value.changed == {"phone": ("13800000000", "13911112222")}
    assert "其他人已修改" in str(refused.value) and "someone else saved" in str(refused.value)
    with engine.connect() as conn:
        row = conn.execute(select(person.c.phone, person.c.title).where(person.c.id == pid)).one()
    assert tuple(row) == ("13911112222", "教授")


def test_undo_restores_every_table_exactly(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = new_person(cs, phone="13800000000")
        other = new_person(cs, name="李四")
        cs.add_tags(other, ["民营企业家"], create=True)
    before = snapshot(engine)
    with ch.change_set_of(engine, "staff", "li") as cs:
        cs.edit_person(pid, {"phone": "13911112222", "district_code": UPTOWN})
        cs.add_tags(pid, ["海归", "民营企业家"], create=True)
        cs.remove_tags(other, ["民营企业家"])
        cs.move_stage(pid, "use", note="推荐单位：区工商联")
        cs.add_appointment(pid, dict(body="cppcc", title="政协委员", level="district",
                                     term_start=dt.date(2025, 1, 1), term_end=dt.date(2029, 12, 31)))
    assert snapshot(engine) != before
    out = ch.undo_change_set(engine, cs.id, "li")
    assert snapshot(engine) == before
    assert out.undone == cs.id and out.changes > 5
    with engine.connect() as conn:
        status = conn.execute(select(ch.change_set.c.status, ch.change_set.c.undone_by)
                              .where(ch.change_set.c.id == cs.id)).one()
    assert tuple(status) == ("undone", out.change_set_id)
    with pytest.raises(ch.UndoRefused, match="已撤销过"):
        ch.undo_change_set(engine, cs.id, "li")
    with pytest.raises(ch.UndoRefused, match="本身是一次撤销"):
        ch.undo_change_set(engine, out.change_set_id, "li")


def test_undo_is_refused_when_a_later_change_touched_the_same_field(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = new_person(cs, phone="13800000000", title="教授")
    with ch.change_set_of(engine, "staff", "wang") as first:
        first.edit_person(pid, {"phone": "13911112222"})
    with ch.change_set_of(engine, "staff", "li") as second:
        second.edit_person(pid, {"phone": "13700000000"})
    with pytest.raises(ch.UndoRefused, match=f"第 {second.id} 号") as refused:
        ch.undo_change_set(engine, first.id, "wang")
    assert "changed the same fields" in str(refused.value)
    ch.undo_change_set(engine, second.id, "li")
    ch.undo_change_set(engine, first.id, "wang")  # in reverse order both go back
    with engine.connect() as conn:
        assert conn.execute(select(person.c.phone).where(person.c.id == pid)).scalar_one() == "13800000000"


def test_a_later_change_to_another_field_does_not_block_the_undo(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = new_person(cs, phone="13800000000", title="教授")
    with ch.change_set_of(engine, "staff", "wang") as first:
        first.edit_person(pid, {"phone": "13911112222"})
    with ch.change_set_of(engine, "staff", "li") as second:
        second.edit_person(pid, {"title": "研究员"})
    ch.undo_change_set(engine, first.id, "wang")
    with engine.connect() as conn:
        row = conn.execute(select(person.c.phone, person.c.title).where(person.c.id == pid)).one()
    assert tuple(row) == ("13800000000", "研究员")


def test_undo_is_refused_when_another_system_wrote_the_field_directly(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = new_person(cs, phone="13800000000")
    with ch.change_set_of(engine, "staff", "wang") as first:
        first.edit_person(pid, {"phone": "13911112222"})
    with engine.begin() as conn:
        conn.execute(update(person).where(person.c.id == pid).values(phone="13600000000"))
    with pytest.raises(ch.UndoRefused, match="outside the app"):
        ch.undo_change_set(engine, first.id, "wang")


def test_undo_of_an_added_person_is_refused_once_something_was_recorded_for_them(engine):
    with ch.change_set_of(engine, "staff", "wang") as added:
        pid = new_person(added)
    with ch.change_set_of(engine, "staff", "li") as later:
        later.add_appointment(pid, dict(body="npc", title="人大代表"))
    with pytest.raises(ch.UndoRefused, match=str(later.id)):
        ch.undo_change_set(engine, added.id, "wang")


def test_revert_one_change_from_the_history(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        pid = new_person(cs, phone="13800000000", title="教授")
    with ch.change_set_of(engine, "staff", "wang") as both:
        both.edit_person(pid, {"phone": "13911112222", "title": "研究员"})
    history = ch.person_history(engine, pid)
    phone_change = int(history[(history["change_set_id"] == both.id) & (history["field"] == "phone")]["change_id"].iloc[0])
    ch.revert_change(engine, phone_change, "li")
    with engine.connect() as conn:
        row = conn.execute(select(person.c.phone, person.c.title).where(person.c.id == pid)).one()
    assert tuple(row) == ("13800000000", "研究员")
    assert ch.person_history(engine, pid)["undoes"].iloc[0] == both.id


def test_scope_holds_for_writes_and_undos(engine):
    west = Scope(districts=(WEST,))
    with ch.change_set_of(engine, "staff", "admin") as cs:
        mine = new_person(cs, name="西湖人")
        theirs = new_person(cs, name="上城人", district=UPTOWN)
    with pytest.raises(ch.OutOfScope, match="管辖范围"):
        with ch.change_set_of(engine, "staff", "wang", scope=west) as cs:
            cs.edit_person(theirs, {"phone": "13800000000"})
    with pytest.raises(ch.OutOfScope):
        with ch.change_set_of(engine, "staff", "wang", scope=west) as cs:
            new_person(cs, name="新人", district=UPTOWN)
    with pytest.raises(ch.OutOfScope):  # moving one's own person out of the scope is for admins
        with ch.change_set_of(engine, "staff", "wang", scope=west) as cs:
            cs.edit_person(mine, {"district_code": UPTOWN})
    with ch.change_set_of(engine, "staff", "admin", scope=west, may_leave_scope=True) as moved:
        moved.edit_person(mine, {"district_code": UPTOWN})
    with pytest.raises(ch.UndoRefused, match="管辖范围以外"):
        ch.undo_change_set(engine, moved.id, "wang", scope=west)
    ch.undo_change_set(engine, moved.id, "admin")


def test_an_unknown_source_is_refused(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="unknown change source"):
        ch.open_change_set(conn, "excel", "wang")


# ---------------------------------------------------------------- any sequence, undone in reverse

NAMES = st.sampled_from(["张三", "李四", "王五", "赵六"])
TAGS = st.lists(st.sampled_from(["海归", "民营企业家", "青年", "专家", "新标签"]), min_size=1, max_size=3)
PHONES = st.sampled_from(["13800000000", "13911112222", None])
STAGE = st.sampled_from(["discover", "cultivate", "use", "manage"])


def machine_for(engine):
    class WritePath(RuleBasedStateMachine):
        @initialize()
        def start(self):
            with engine.begin() as conn:
                for table in (participation, appointment, stage_event, person_tag, tag, person, activity):
                    conn.execute(table.delete())
                conn.execute(insert(tag).values(name="海归"))
                # Persons that were there before any change set: undoing everything must give them back
                # exactly, bookkeeping included (persons the sets added simply go).
                stamp = dt.datetime(2025, 3, 1, 9, 30)
                conn.execute(insert(person), [
                    dict(name=n, category_code="non_party", district_code=WEST, stage="cultivate", phone=p,
                         created_at=stamp, updated_at=stamp, updated_via="import", import_batch_id=7)
                    for n, p in (("钱七", "13500000000"), ("孙八", None), ("周九", "13600000000"))])
                self.activity_id = conn.execute(insert(activity).values(
                    title="座谈会", kind="survey", starts_at=dt.datetime(2026, 11, 1, 9))
                    .returning(activity.c.id)).scalar_one()
            self.initial = snapshot(engine)
            self.sets: list[int] = []

        def persons(self) -> list[int]:
            with engine.connect() as conn:
                return list(conn.execute(select(person.c.id).order_by(person.c.id)).scalars())

        @rule(name=NAMES, phone=PHONES)
        def add(self, name, phone):
            with ch.change_set_of(engine, "staff", "t") as cs:
                new_person(cs, name=name, phone=phone)
            self.sets.append(cs.id)

        @precondition(lambda self: self.persons())
        @rule(data=st.data(), phone=PHONES, district=st.sampled_from([WEST, UPTOWN]))
        def edit(self, data, phone, district):
            pid = data.draw(st.sampled_from(self.persons()))
            with ch.change_set_of(engine, "staff", "t") as cs:
                cs.edit_person(pid, {"phone": phone, "district_code": district})
            self.sets.append(cs.id)

        @precondition(lambda self: self.persons())
        @rule(data=st.data(), names=TAGS, remove=st.booleans())
        def tags(self, data, names, remove):
            pid = data.draw(st.sampled_from(self.persons()))
            with ch.change_set_of(engine, "staff", "t") as cs:
                if remove:
                    cs.remove_tags(pid, [n for n in names if n == "海归"])
                else:
                    cs.add_tags(pid, names, create=True)
            self.sets.append(cs.id)

        @precondition(lambda self: self.persons())
        @rule(data=st.data(), stage=STAGE, post=st.booleans())
        def promote(self, data, stage, post):
            pid = data.draw(st.sampled_from(self.persons()))
            with ch.change_set_of(engine, "staff", "t") as cs:
                cs.move_stage(pid, stage, note="推荐")
                if post:
                    cs.add_appointment(pid, dict(body="cppcc", title="政协委员", term_start=dt.date(2025, 1, 1)))
            self.sets.append(cs.id)

        @precondition(lambda self: self.persons())
        @rule(data=st.data(), status=st.sampled_from(["registered", "approved", "checked_in"]))
        def attend(self, data, status):
            pid = data.draw(st.sampled_from(self.persons()))
            with ch.change_set_of(engine, "checkin", "t") as cs:
                key = (self.activity_id, pid)
                exists = cs.conn.execute(select(func.count()).select_from(participation).where(
                    participation.c.activity_id == key[0], participation.c.person_id == key[1])).scalar_one()
                if exists:
                    cs.update("participation", key, {"status": status})
                else:
                    cs.insert("participation", dict(activity_id=key[0], person_id=pid, status=status,
                                                    registered_at=dt.datetime(2026, 11, 1, 8)))
            self.sets.append(cs.id)

        @precondition(lambda self: len(self.persons()) >= 2)
        @rule(data=st.data())
        def remove_person(self, data):
            pid = data.draw(st.sampled_from(self.persons()))
            with ch.change_set_of(engine, "merge", "t") as cs:
                for tid in cs.conn.execute(select(person_tag.c.tag_id).where(person_tag.c.person_id == pid)).scalars().all():
                    cs.delete("person_tag", (pid, tid))
                for table, entity in ((stage_event, "stage_event"), (appointment, "appointment")):
                    for rid in cs.conn.execute(select(table.c.id).where(table.c.person_id == pid)).scalars().all():
                        cs.delete(entity, rid)
                for aid in cs.conn.execute(select(participation.c.activity_id)
                                           .where(participation.c.person_id == pid)).scalars().all():
                    cs.delete("participation", (aid, pid))
                cs.delete("person", pid)
            self.sets.append(cs.id)

        @precondition(lambda self: self.persons())
        @rule(data=st.data(), name=st.sampled_from(["海归", "青年"]), add=st.booleans(), stage=STAGE)
        def bulk(self, data, name, add, stage):
            chosen = data.draw(st.lists(st.sampled_from(self.persons()), min_size=1, unique=True))
            with ch.change_set_of(engine, "staff", "t") as cs:
                cs.tag_many(chosen, name, add=add, create=True)
                cs.move_stage_many(chosen, stage, note="批量")
            self.sets.append(cs.id)

        @precondition(lambda self: len(self.persons()) >= 2)
        @rule(data=st.data(), take_phone=st.booleans())
        def merge(self, data, take_phone):
            survivor, duplicate = data.draw(st.permutations(self.persons()))[:2]
            with engine.connect() as conn:
                dup = conn.execute(select(person).where(person.c.id == duplicate)).one()
            with ch.change_set_of(engine, "merge", "t") as cs:
                cs.merge_persons(survivor, duplicate, {"phone": dup.phone} if take_phone else {})
            self.sets.append(cs.id)

        @rule(rows=st.lists(st.tuples(st.sampled_from(["张三", "李四", "钱七", "孙八", "吴十"]), PHONES,
                                      st.sampled_from(["甲公司", "乙公司", ""]), st.sampled_from(["青年", "海归", ""]),
                                      st.sampled_from(["培养", "使用", ""])), min_size=1, max_size=4))
        def import_list(self, rows):
            body = "\n".join(["姓名,手机号码,统战对象类别,所属区县,工作单位,标签,工作阶段"] + [
                f"{n},{p or ''},无党派人士,西湖区,{o},{t},{s}" for n, p, o, t, s in rows]) + "\n"
            result = apply_import(engine, prepare_import(body.encode("utf-8"), "名单.csv"), imported_by="t")
            self.sets.append(("batch", result.batch_id))

        @precondition(lambda self: self.persons())
        @rule(rows=st.lists(st.tuples(st.sampled_from(["张三", "钱七", "孙八"]), PHONES,
                                      st.sampled_from(["报名", "审核通过", "签到", "缺席"]),
                                      st.sampled_from(["座谈会", "新活动"])), min_size=1, max_size=3))
        def import_attendance(self, rows):
            body = "\n".join(["姓名,手机号码,活动名称,活动日期,状态"] + [
                f"{n},{p or ''},{a},2026-11-01,{s}" for n, p, s, a in rows]) + "\n"
            result = apply_import(engine, prepare_import(body.encode("utf-8"), "签到表.csv"), imported_by="t")
            self.sets.append(("batch", result.batch_id))

        def teardown(self):
            for done in reversed(self.sets):
                if isinstance(done, tuple):
                    undo_batch(engine, done[1], "t")
                else:
                    ch.undo_change_set(engine, done, "t")
            assert snapshot(engine) == self.initial

    return WritePath


@pytest.mark.slow
def test_any_sequence_of_changes_undone_in_reverse_leaves_every_table_as_before(engine):
    run_state_machine_as_test(machine_for(engine), settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))


def test_merge_moves_everything_to_the_survivor_and_undo_splits_them_again(engine):
    with ch.change_set_of(engine, "staff", "wang") as cs:
        keep = new_person(cs, name="张三", phone="13800000000")
        dup = new_person(cs, name="张三", id_number="330106198610053481", title="教授")
        cs.add_tags(keep, ["海归"], create=True)
        cs.add_tags(dup, ["海归", "专家"], create=True)
        cs.add_appointment(dup, dict(body="cppcc", title="政协委员"))
        a1 = int(cs.insert("activity", dict(title="座谈会", kind="survey", starts_at=dt.datetime(2026, 11, 1, 9))))
        a2 = int(cs.insert("activity", dict(title="培训班", kind="training", starts_at=dt.datetime(2026, 11, 2, 9))))
        cs.insert("participation", dict(activity_id=a1, person_id=keep, status="registered"))
        cs.insert("participation", dict(activity_id=a1, person_id=dup, status="checked_in",
                                        checked_in_at=dt.datetime(2026, 11, 1, 9, 5)))
        cs.insert("participation", dict(activity_id=a2, person_id=dup, status="approved"))
    before = snapshot(engine)
    with ch.change_set_of(engine, "merge", "admin", "重复人员") as merged:
        merged.merge_persons(keep, dup, {"id_number": "330106198610053481", "title": "教授"})
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person).where(person.c.id == dup)).scalar_one() == 0
        row = conn.execute(select(person.c.id_number, person.c.title, person.c.phone).where(person.c.id == keep)).one()
        assert tuple(row) == ("330106198610053481", "教授", "13800000000")
        tags = conn.execute(select(tag.c.name).join(person_tag).where(person_tag.c.person_id == keep)
                            .order_by(tag.c.name)).scalars().all()
        assert tags == sorted(["海归", "专家"])
        assert conn.execute(select(appointment.c.person_id)).scalars().all() == [keep]
        statuses = dict(conn.execute(select(participation.c.activity_id, participation.c.status)
                                     .where(participation.c.person_id == keep)).all())
        assert statuses == {a1: "checked_in", a2: "approved"}  # the further status stays
    ch.undo_change_set(engine, merged.id, "admin")
    assert snapshot(engine) == before


def test_bulk_tag_and_stage_change_only_the_persons_in_scope_in_one_undoable_set(engine):
    with ch.change_set_of(engine, "staff", "admin") as cs:
        west = [new_person(cs, name=f"西{i}") for i in range(10)]
        other = new_person(cs, name="上城人", district=UPTOWN)
        cs.add_tags(west[0], ["海归"], create=True)
    before = snapshot(engine)
    with ch.change_set_of(engine, "staff", "wang", scope=Scope(districts=(WEST,))) as bulk:
        assert bulk.tag_many(west + [other], "海归", add=True) == 9  # one had it, one is outside the scope
        assert bulk.move_stage_many(west + [other], "use", note="批量推荐") == 10
    with engine.connect() as conn:
        tagged = set(conn.execute(select(person_tag.c.person_id)).scalars())
        stages = dict(conn.execute(select(person.c.id, person.c.stage)).all())
    assert tagged == set(west) and stages[other] == "discover" and {stages[p] for p in west} == {"use"}
    history = ch.person_history(engine, west[3])
    assert set(history[history["change_set_id"] == bulk.id]["entity"]) == {"person", "person_tag", "stage_event"}
    ch.undo_change_set(engine, bulk.id, "wang", scope=Scope(districts=(WEST,)))
    assert snapshot(engine) == before

