"""Scope holds for writes (issue 19, item 1): import, undo and attendance import × role × in/out of scope.

Three importers: an unscoped admin, an admin scoped to 西湖区 (330106) and one scoped to
its 西溪街道. Three persons: 王伟 in 西溪街道 (everyone's), 李娜 in 北山街道 of 西湖区 (the
district admin's, not the street admin's) and 赵敏 in 上城区 (the unscoped admin's only).
What each importer may do is written out here case by case, not derived from store/scope.py.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, func, insert, select, text

from loaders.api import UndoRefused, apply_import, prepare_import, undo_batch
from loaders.apply import DRY_RUN_SCOPE_NOTICE, ID_OUTSIDE_SCOPE
from loaders.attendance import UNKNOWN_PERSON
from store.queries.health import recent_batches
from store.queries.imports import same_file_batches
from store.schema import activity, audit_log, import_batch, participation, person
from store.scope import EVERYTHING, Scope, ScopeRefusal
from tests.data.staff_files import ID_LI, ID_WANG, ID_ZHAO, make_id

T0 = dt.datetime(2024, 3, 1, 8, 0)
XIHU, SHANGCHENG = "330106", "330102"
ROLES = {
    "unscoped": EVERYTHING,
    "district": Scope(districts=(XIHU,)),
    "street": Scope(streets=((XIHU, "西溪街道"),)),
}
ID_NEW = make_id("330106", "19880808", "031")
ID_NEW2 = make_id("330102", "19770707", "042")
HEADER = "姓名,身份证号,手机号码,统战对象类别,所属区县,街道,工作单位"


@pytest.fixture
def city(engine):
    return seed_city(engine)


def seed_city(engine):
    """王伟 (西溪街道), 李娜 (北山街道), both in 西湖区; 赵敏 in 上城区."""
    def p(pid, name, id_number, phone, district, street):
        # Gender and birth date as the ID number says: a row repeating a person changes nothing.
        born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        return dict(id=pid, name=name, id_number=id_number, phone=phone, category_code="non_party",
                    gender="M" if int(id_number[16]) % 2 else "F", birth_date=born,
                    district_code=district, street=street, organization="原单位", stage="discover",
                    created_at=T0, updated_at=T0)

    with engine.begin() as conn:
        conn.execute(insert(person), [
            p(1, "王伟", ID_WANG, "13800000001", XIHU, "西溪街道"),
            p(2, "李娜", ID_LI, "13900000002", XIHU, "北山街道"),
            p(3, "赵敏", ID_ZHAO, "13700000003", SHANGCHENG, "湖滨街道"),
        ])
        if conn.dialect.name == "postgresql":  # explicit ids above: move the sequence past them
            conn.execute(text("SELECT setval(pg_get_serial_sequence('person', 'id'), 3)"))
    return engine


def inside(role: str, district: str | None, street: str | None) -> bool:
    """The scopes of ROLES, spelled out by hand."""
    return {"unscoped": True, "district": district == XIHU,
            "street": (district, street) == (XIHU, "西溪街道")}[role]


def csv_plan(*rows: str, name: str = "名单.csv"):
    return prepare_import(("\n".join([HEADER, *rows]) + "\n").encode("utf-8"), name)


def stored(engine) -> dict[int, tuple]:
    """person id -> (name, ID number, district, street, organization)"""
    with engine.connect() as conn:
        return {r.id: (r.name, r.id_number, r.district_code, r.street, r.organization)
                for r in conn.execute(select(person).order_by(person.c.id))}


def outcome(result) -> tuple:
    """(what became of the single row, its message or None)."""
    for key in ("inserted", "updated", "unchanged"):
        if getattr(result, key):
            return key, None
    assert result.rejected == 1, result.to_json()
    return "rejected", result.errors[0]["message"]


OK_INSERT, OK_UPDATE = ("inserted", None), ("updated", None)
NEW_OUTSIDE = ("rejected", ScopeRefusal.NEW_OUTSIDE.message)
MOVES_OUT = ("rejected", ScopeRefusal.MOVES_OUT.message)
ID_CONFLICT = ("rejected", ID_OUTSIDE_SCOPE)

# case -> (row, {role: (dry run, commit)}). A scoped importer's dry run sees nobody outside its
# scope: an ID number held there reads as free (an insert); only the commit refuses it.
IMPORT_CASES = {
    "update in every scope": (
        f"王伟,{ID_WANG},,非公经济人士,西湖区,西溪街道,新单位",
        {"unscoped": (OK_UPDATE, OK_UPDATE), "district": (OK_UPDATE, OK_UPDATE), "street": (OK_UPDATE, OK_UPDATE)}),
    "update in the district, outside the street": (
        f"李娜,{ID_LI},,党外知识分子,西湖区,北山街道,新单位",
        {"unscoped": (OK_UPDATE, OK_UPDATE), "district": (OK_UPDATE, OK_UPDATE),
         "street": (NEW_OUTSIDE, NEW_OUTSIDE)}),
    "update outside, the row naming the person's own district": (
        f"赵敏,{ID_ZHAO},,其他,上城区,,新单位",
        {"unscoped": (OK_UPDATE, OK_UPDATE), "district": (NEW_OUTSIDE, NEW_OUTSIDE),
         "street": (NEW_OUTSIDE, NEW_OUTSIDE)}),
    "update outside, the row claiming the importer's street": (
        f"赵敏,{ID_ZHAO},,其他,西湖区,西溪街道,新单位",
        {"unscoped": (OK_UPDATE, OK_UPDATE), "district": (OK_INSERT, ID_CONFLICT),
         "street": (OK_INSERT, ID_CONFLICT)}),
    "update that moves the person out": (
        f"王伟,{ID_WANG},,非公经济人士,上城区,湖滨街道,新单位",
        {"unscoped": (OK_UPDATE, OK_UPDATE), "district": (MOVES_OUT, MOVES_OUT), "street": (MOVES_OUT, MOVES_OUT)}),
    "update that moves the person to another street": (
        f"王伟,{ID_WANG},,非公经济人士,,北山街道,新单位",
        {"unscoped": (OK_UPDATE, OK_UPDATE), "district": (OK_UPDATE, OK_UPDATE), "street": (MOVES_OUT, MOVES_OUT)}),
    "insert in every scope": (
        f"孙新,{ID_NEW},,其他,西湖区,西溪街道,",
        {"unscoped": (OK_INSERT, OK_INSERT), "district": (OK_INSERT, OK_INSERT), "street": (OK_INSERT, OK_INSERT)}),
    "insert in the district, outside the street": (
        f"孙新,{ID_NEW},,其他,西湖区,北山街道,",
        {"unscoped": (OK_INSERT, OK_INSERT), "district": (OK_INSERT, OK_INSERT),
         "street": (NEW_OUTSIDE, NEW_OUTSIDE)}),
    "insert outside": (
        f"钱新,{ID_NEW2},,其他,上城区,,",
        {"unscoped": (OK_INSERT, OK_INSERT), "district": (NEW_OUTSIDE, NEW_OUTSIDE),
         "street": (NEW_OUTSIDE, NEW_OUTSIDE)}),
    "insert without a place": (
        f"钱新,{ID_NEW2},,其他,,,",
        {"unscoped": (OK_INSERT, OK_INSERT), "district": (NEW_OUTSIDE, NEW_OUTSIDE),
         "street": (NEW_OUTSIDE, NEW_OUTSIDE)}),
    # Name and mobile of a person outside the scope: for a scoped importer a new person of its own.
    "name and mobile of a person outside": (
        "赵敏,,13700000003,其他,西湖区,西溪街道,新单位",
        {"unscoped": (OK_UPDATE, OK_UPDATE), "district": (OK_INSERT, OK_INSERT), "street": (OK_INSERT, OK_INSERT)}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", IMPORT_CASES)
def test_import_scope_matrix(city, case, role):
    row, expected = IMPORT_CASES[case]
    dry_expected, commit_expected = expected[role]
    scope = ROLES[role]
    before = stored(city)

    dry = apply_import(city, csv_plan(row), dry_run=True, imported_by=role, scope=scope)
    assert outcome(dry) == dry_expected
    assert stored(city) == before

    done = apply_import(city, csv_plan(row), imported_by=role, scope=scope)
    assert outcome(done) == commit_expected
    after = stored(city)
    if commit_expected[0] == "rejected":
        assert after == before, "a refused row changed the store"
    # Whatever was written lies inside the importer's scope, before and after.
    for pid in set(after) | set(before):
        if after.get(pid) != before.get(pid):
            for state in (after.get(pid), before.get(pid)):
                assert state is None or inside(role, *state[2:4]), state


def test_refusing_an_id_outside_the_scope_is_on_the_record(city):
    row = f"赵敏,{ID_ZHAO},,其他,西湖区,西溪街道,新单位"
    done = apply_import(city, csv_plan(row), imported_by="xihu_admin", scope=ROLES["district"])
    assert outcome(done) == ID_CONFLICT
    with city.connect() as conn:
        detail = json.loads(conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "import")).scalar_one())
    assert detail["id_outside_scope"] == 1 and detail["rejected"] == 1


# ---------------------------------------------------------------- the dry run reveals nothing

# A file a scoped importer might use to probe: 赵敏's ID number with an in-scope place, with an
# out-of-scope place, without a category, her name and mobile, and an ordinary new person.
PROBE = [
    f"赵敏,{ID_ZHAO},,其他,西湖区,西溪街道,新单位",
    f"赵敏,{ID_ZHAO},,其他,上城区,,新单位",
    f"赵敏,{ID_ZHAO},,,西湖区,西溪街道,",
    "赵敏,,13700000003,其他,西湖区,西溪街道,",
    f"孙新,{ID_NEW},,其他,西湖区,西溪街道,",
]


@pytest.mark.parametrize("role", ["district", "street"])
def test_dry_run_is_the_same_whether_or_not_an_outside_person_exists(city, role):
    """Everything a dry run tells a scoped importer is the same with 赵敏 in the store and without her."""
    scope = ROLES[role]
    probe = csv_plan(*PROBE)
    present = apply_import(city, probe, dry_run=True, imported_by=role, scope=scope)
    with city.begin() as conn:
        conn.execute(delete(person).where(person.c.name == "赵敏"))
    absent = apply_import(city, probe, dry_run=True, imported_by=role, scope=scope)

    def told(result):
        return (result.to_json(), result.warning_list, result.notices)

    assert told(present) == told(absent)
    assert DRY_RUN_SCOPE_NOTICE in present.notices  # the dry run says what it does not check


def test_unscoped_dry_run_does_see_the_outside_person(city):
    """The probe above could have failed: without a scope the two stores read differently."""
    probe = csv_plan(*PROBE)
    present = apply_import(city, probe, dry_run=True, imported_by="root")
    with city.begin() as conn:
        conn.execute(delete(person).where(person.c.name == "赵敏"))
    absent = apply_import(city, probe, dry_run=True, imported_by="root")
    assert present.to_json() != absent.to_json()
    assert DRY_RUN_SCOPE_NOTICE not in present.notices


@pytest.mark.parametrize("role, total", [("unscoped", 3), ("district", 2), ("street", 1)])
def test_persons_total_counts_the_scope_only(city, role, total):
    result = apply_import(city, csv_plan(f"孙新,{ID_NEW},,其他,西湖区,西溪街道,"), dry_run=True, scope=ROLES[role])
    assert result.persons_total == total + 1


# ---------------------------------------------------------------- undo

# batch -> (rows imported by the command line, {role: may undo})
UNDO_CASES = {
    "inserted in the street": (
        [f"孙新,{ID_NEW},,其他,西湖区,西溪街道,"], {"unscoped": True, "district": True, "street": True}),
    "inserted in another street of the district": (
        [f"孙新,{ID_NEW},,其他,西湖区,北山街道,"], {"unscoped": True, "district": True, "street": False}),
    "inserted in another district": (
        [f"钱新,{ID_NEW2},,其他,上城区,,"], {"unscoped": True, "district": False, "street": False}),
    "updated outside": (
        [f"赵敏,{ID_ZHAO},,其他,上城区,,新单位"], {"unscoped": True, "district": False, "street": False}),
    # The person is inside now, but undoing would put them back outside.
    "moved inside from outside": (
        [f"赵敏,{ID_ZHAO},,其他,西湖区,西溪街道,新单位"], {"unscoped": True, "district": False, "street": False}),
    "inside and outside in one file": (
        [f"王伟,{ID_WANG},,非公经济人士,西湖区,西溪街道,新单位", f"钱新,{ID_NEW2},,其他,上城区,,"],
        {"unscoped": True, "district": False, "street": False}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", UNDO_CASES)
def test_undo_scope_matrix(city, case, role):
    rows, may = UNDO_CASES[case]
    before = stored(city)
    batch = apply_import(city, csv_plan(*rows), imported_by="cli").batch_id
    after_import = stored(city)
    assert after_import != before
    if may[role]:
        undo_batch(city, batch, actor=role, scope=ROLES[role])
        assert stored(city) == before
        return
    with pytest.raises(UndoRefused) as refused:
        undo_batch(city, batch, actor=role, scope=ROLES[role])
    message = refused.value.message
    assert "不在您的管辖范围内" in message and "outside your scope" in message
    # The refusal names nobody: the persons outside are not the importer's to know.
    assert not any(name in message for name, *_rest in after_import.values())
    assert stored(city) == after_import
    with city.connect() as conn:
        assert conn.execute(select(import_batch.c.status).where(import_batch.c.id == batch)).scalar_one() == "done"


# ---------------------------------------------------------------- attendance

ATTENDANCE_HEADER = "姓名,身份证号,活动名称,活动日期,状态"
ATTENDANCE = {"王伟": ID_WANG, "李娜": ID_LI, "赵敏": ID_ZHAO}
# role -> the persons whose attendance it may record
MAY_RECORD = {"unscoped": {"王伟", "李娜", "赵敏"}, "district": {"王伟", "李娜"}, "street": {"王伟"}}


def attendance_plan(names, title="统战知识讲座"):
    rows = [f"{n},{ATTENDANCE[n]},{title},2024-05-12,签到" for n in names]
    return prepare_import(("\n".join([ATTENDANCE_HEADER, *rows]) + "\n").encode("utf-8"), "签到表.csv")


def attendees(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(person.c.name).join(participation, participation.c.person_id == person.c.id))
                   .scalars())


@pytest.mark.parametrize("role", ROLES)
def test_attendance_import_scope_matrix(city, role):
    scope = ROLES[role]
    dry = apply_import(city, attendance_plan(ATTENDANCE), dry_run=True, scope=scope)
    done = apply_import(city, attendance_plan(ATTENDANCE), imported_by=role, scope=scope)
    for result in (dry, done):
        assert result.inserted == len(MAY_RECORD[role])
        refused = {e["row"] for e in result.errors}
        assert refused == {2 + i for i, n in enumerate(ATTENDANCE) if n not in MAY_RECORD[role]}
        # Outside the scope reads exactly as "not in the store at all".
        assert all(e["message"] == UNKNOWN_PERSON for e in result.errors)
    assert attendees(city) == MAY_RECORD[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ATTENDANCE)
def test_attendance_undo_scope_matrix(city, role, name):
    batch = apply_import(city, attendance_plan([name]), imported_by="cli").batch_id
    assert attendees(city) == {name}
    if name in MAY_RECORD[role]:
        undo_batch(city, batch, actor=role, scope=ROLES[role])
        assert attendees(city) == set()
        with city.connect() as conn:
            assert conn.execute(select(func.count()).select_from(activity)).scalar_one() == 0
        return
    with pytest.raises(UndoRefused, match="不在您的管辖范围内"):
        undo_batch(city, batch, actor=role, scope=ROLES[role])
    assert attendees(city) == {name}


# ---------------------------------------------------------------- history

@pytest.mark.parametrize("role", ["district", "street"])
def test_history_lists_the_scoped_admins_own_batches(city, role):
    """A batch that changed nobody (every row unchanged or refused) is still its importer's to see."""
    scope = ROLES[role]
    unchanged = apply_import(city, csv_plan(f"王伟,{ID_WANG},,无党派人士,西湖区,西溪街道,原单位"),
                             imported_by="me", scope=scope)
    refused = apply_import(city, csv_plan(f"钱新,{ID_NEW2},,其他,上城区,,", name="上城.csv"),
                           imported_by="me", scope=scope)
    assert (unchanged.unchanged, refused.rejected) == (1, 1)
    other = apply_import(city, csv_plan(f"钱新,{ID_NEW2},,其他,上城区,,", name="全市.csv"), imported_by="root")
    assert other.inserted == 1

    mine = recent_batches(city, scope, viewer="me")
    assert sorted(mine.rows["id"]) == sorted([unchanged.batch_id, refused.batch_id]) and mine.total == 2
    # Another account of the same scope sees neither (they touched nobody in it) ...
    assert recent_batches(city, scope, viewer="colleague").total == 0
    # ... and the unscoped admin sees all three.
    assert recent_batches(city, EVERYTHING).total == 3
    plan = csv_plan(f"王伟,{ID_WANG},,无党派人士,西湖区,西溪街道,原单位")
    assert list(same_file_batches(city, scope, plan.sha256, viewer="me")["id"]) == [unchanged.batch_id]
    assert same_file_batches(city, scope, plan.sha256, viewer="colleague").empty


# ---------------------------------------------------------------- the import page, signed in as a district admin

PASSWORD = "a-long-password"


def test_page_scoped_admin_imports_and_undoes_within_its_scope(sqlite_engine, monkeypatch):
    """The reported session: a district admin updates a person of another district by ID number,
    undoes a command-line batch that reaches another district, and misses its own batch.
    (The page calls the library above; the matrices cover PostgreSQL.)"""
    from streamlit.testing.v1 import AppTest

    from store import accounts
    from tests.conftest import APP_PATH

    city = seed_city(sqlite_engine)
    accounts.create_account(city, "xihu_admin", PASSWORD, "admin", scope=ROLES["district"])
    cli_batch = apply_import(city, csv_plan(f"王伟,{ID_WANG},,无党派人士,西湖区,西溪街道,新单位",
                                            f"钱新,{ID_NEW2},,其他,上城区,,", name="全市.csv")).batch_id
    monkeypatch.setenv("DATABASE_URL", city.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "0")
    at = AppTest.from_file(APP_PATH, default_timeout=120)
    at.run()
    at.text_input[0].input("xihu_admin")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.switch_page("pages/data_import.py").run()
    assert not at.exception and not at.error

    # The command-line batch touched 王伟, so it is listed; undoing it would delete 钱新 of 上城区.
    before = stored(city)
    at.selectbox(key="imp_undo_choice").set_value(cli_batch).run()
    at.button(key="imp_undo").click().run()
    at.button(key="imp_undo_yes").click().run()
    assert not at.exception
    assert "不在您的管辖范围内" in " ".join(e.value for e in at.error)
    assert stored(city) == before

    # 赵敏 of 上城区, by her ID number, placed in the admin's own street: the dry run cannot tell
    # her from a new person; the commit refuses the row and leaves her as she was.
    data = ("\n".join([HEADER, f"赵敏,{ID_ZHAO},,其他,西湖区,西溪街道,新单位"]) + "\n").encode("utf-8")
    at.file_uploader[0].set_value(("赵敏.csv", data, "text/csv")).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["将新增"] == "1"
    assert DRY_RUN_SCOPE_NOTICE in " ".join(i.value for i in at.info)
    at.button(key="imp_commit").click().run()
    assert not at.exception
    assert stored(city) == before
    with city.connect() as conn:
        mine = conn.execute(select(import_batch.c.id, import_batch.c.rejected)
                            .where(import_batch.c.imported_by == "xihu_admin")).one()
    assert mine.rejected == 1
    # Its own batch is in its history, though it changed nobody.
    history = next(d.value for d in at.dataframe if "batch" in d.value.columns)
    assert mine.id in list(history["batch"])
