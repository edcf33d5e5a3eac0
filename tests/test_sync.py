"""Syncing another department's roster (a SQL query or a JSON feed): a change set with source sync, twice, undo."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import create_engine, func, select, text

from loaders.cli import main as cli
from loaders.undo import undo_batch
from loaders.normalise import id_check_digit
from loaders.sync import RosterUnreadable, apply_sync, prepare_sync, roster_from_json, roster_from_sql
from store import changes as ch
from store.schema import audit_log, change_set, meta, person, person_tag, stage_event


def ident(first17: str) -> str:
    return first17 + id_check_digit(first17)


A, B, C = ident("33010619750312001"), ident("33010219800101002"), ident("33010619820202003")
ROSTER = [
    {"姓名": "王伟", "身份证号": A, "统战对象类别": "无党派人士", "所属区县": "西湖区", "职务": "区人大代表",
     "标签": "人大代表、企业家", "阶段": "使用"},
    {"姓名": "李娜", "身份证号": B, "统战对象类别": "民主党派", "所属区县": "上城区", "工作单位": "某医院"},
    {"姓名": "赵强", "身份证号": "123", "统战对象类别": "民主党派"},        # bad ID number: rejected
    {"姓名": "钱多", "身份证号": C, "所属区县": "西湖区"},                  # new, no category: rejected
]


def roster_file(tmp_path, items=ROSTER, wrap=True) -> str:
    path = tmp_path / "roster.json"
    path.write_text(json.dumps({"data": items} if wrap else items, ensure_ascii=False), encoding="utf-8")
    return str(path)


def sync(engine, location, **kw):
    columns, rows = roster_from_json(location)
    return apply_sync(engine, prepare_sync("区人大", columns, rows), "区人大", actor="sync-job", **kw)


def version(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar()


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_roster_lands_as_one_sync_change_set_and_twice_changes_nothing(engine, tmp_path):
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        known = cs.add_person(dict(name="李娜", id_number=B, category_code="democratic_party", district_code="330102",
                                   organization="旧单位", phone="13812345678", stage="cultivate"))
    first = sync(engine, roster_file(tmp_path))
    assert (first.inserted, first.updated, first.unchanged, first.rejected) == (1, 1, 0, 2)
    assert {e["row"] for e in first.errors} == {3, 4}
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(person))}
        head = conn.execute(select(change_set).where(change_set.c.id == first.change_set_id)).one()
        stages = conn.execute(select(stage_event.c.stage).where(stage_event.c.person_id == rows["王伟"].id)).scalars().all()
    assert head.source == "sync" and head.import_batch_id == first.batch_id
    assert rows["王伟"].updated_via == "sync" and rows["王伟"].stage == "use" and stages == ["use"]
    assert rows["李娜"].id == known and rows["李娜"].organization == "某医院" and rows["李娜"].phone == "13812345678"
    assert count(engine, person_tag) == 2
    before = (version(engine), count(engine, change_set))
    second = sync(engine, roster_file(tmp_path))
    assert (second.inserted, second.updated, second.unchanged, second.batch_id) == (0, 0, 2, None)
    assert (version(engine), count(engine, change_set)) == before
    assert any("未做任何修改" in n for n in second.notices)
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.action).order_by(audit_log.c.id.desc())).scalars().first() == "sync"


def test_undo_puts_the_store_back(engine, tmp_path):
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        cs.add_person(dict(name="李娜", id_number=B, category_code="democratic_party", organization="旧单位"))
    result = sync(engine, roster_file(tmp_path))
    undo_batch(engine, result.batch_id, "clerk")
    with engine.connect() as conn:
        assert conn.execute(select(person.c.name, person.c.organization)).all() == [("李娜", "旧单位")]
    assert count(engine, person_tag) == 0
    # Undone, the same roster applies again.
    assert sync(engine, roster_file(tmp_path)).inserted == 1


def test_a_dry_run_counts_and_writes_nothing(engine, tmp_path):
    before = version(engine)
    result = sync(engine, roster_file(tmp_path, wrap=False), dry_run=True)
    assert (result.inserted, result.rejected, result.batch_id) == (2, 2, None)
    assert count(engine, person) == 0 and version(engine) == before


def test_a_stage_change_from_the_roster_is_a_stage_event(engine, tmp_path):
    sync(engine, roster_file(tmp_path, ROSTER[:1]))
    moved = [{**ROSTER[0], "阶段": "管理"}]
    assert sync(engine, roster_file(tmp_path, moved)).updated == 1
    with engine.connect() as conn:
        assert conn.execute(select(stage_event.c.stage).order_by(stage_event.c.id)).scalars().all() == ["use", "manage"]


def test_a_roster_from_another_database(engine, tmp_path):
    other = create_engine(f"sqlite:///{tmp_path / 'npc.db'}")
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE deputy (xm TEXT, sfzh TEXT, lb TEXT, qx TEXT, csrq DATE)"))
        conn.execute(text("INSERT INTO deputy VALUES ('王伟', :a, '无党派人士', '西湖区', '1975-03-12'), "
                          "('李娜', :b, '民主党派', '上城区', NULL)"), {"a": A, "b": B})
    other.dispose()
    url = f"sqlite:///{tmp_path / 'npc.db'}"
    columns, rows = roster_from_sql(url, "SELECT xm AS 姓名, sfzh AS 身份证号, lb AS 统战对象类别, qx AS 所属区县, "
                                         "csrq AS 出生日期 FROM deputy ORDER BY xm")
    result = apply_sync(engine, prepare_sync("区人大", columns, rows), "区人大")
    assert (result.inserted, result.rejected) == (2, 0)
    with engine.connect() as conn:
        assert conn.execute(select(person.c.birth_date).where(person.c.name == "王伟")).scalar() == dt.date(1975, 3, 12)


@pytest.mark.parametrize("content, why", [("not json", "JSON"), ('{"rows": []}', "对象列表"), ("[1, 2]", "对象列表")])
def test_an_unreadable_feed_is_refused_with_a_message(tmp_path, content, why):
    path = tmp_path / "feed.json"
    path.write_text(content)
    with pytest.raises(RosterUnreadable) as err:
        roster_from_json(str(path))
    assert why in err.value.message and " · " in err.value.message


def test_a_bad_query_is_refused_with_a_message(tmp_path):
    with pytest.raises(RosterUnreadable) as err:
        roster_from_sql(f"sqlite:///{tmp_path / 'none.db'}", "SELECT * FROM nowhere")
    assert "无法从数据库读取名单" in err.value.message


def test_cli_sync_twice_and_undo(store_url, tmp_path, capsys):
    feed = roster_file(tmp_path)
    assert cli(["sync", "区人大", "--json", feed, "--db", store_url, "--print-json", "--by", "job"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["inserted"], first["rejected"]) == (2, 2)
    assert cli(["sync", "区人大", "--json", feed, "--db", store_url, "--print-json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, 2)
    assert cli(["undo", str(first["batch_id"]), "--db", store_url]) == 0
    assert "已撤销" in capsys.readouterr().out
    assert cli(["sync", "区人大", "--sql", "sqlite://", "--db", store_url]) == 2
    assert cli(["sync", "区人大", "--json", str(tmp_path / "missing.json"), "--db", store_url]) == 1
