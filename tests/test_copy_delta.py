"""The analytic copy brought forward by deltas holds exactly what a fresh build holds.

Random sequences of the write path's change sets (edits, tags, stages, appointments,
status, merges, new persons, undos, an import) and of other systems' direct writes
(rows past the version's fingerprints) are applied to a copy step by step; after
every step its tables equal a fresh build's, row for row, and the page queries
answer as the store does.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, insert, select, update

from loaders.demo import generate_demo
from store import analytic, copy_delta
from store.changes import change_set_of, undo_change_set
from store.schema import activity, change_set, participation, person
from store.scope import Scope
from store.version import bump_data_version, data_version
from tests.test_analytic import CHANGE_CALLS, WEST_LAKE, normalise

TODAY = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 2, 9, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def demo_engine(request, store_url_factory):
    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head

    engine = create_store_engine(store_url_factory(request.param), create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=250, seed=11, today=TODAY)
    yield engine
    engine.dispose()


def _tables(path):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in [t.name for t in analytic.TABLES]:
            rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
            out[table] = sorted(map(repr, rows))
        return out
    finally:
        con.close()


def _assert_like_a_fresh_build(engine, base, tmp_path, step):
    version = data_version(engine)
    maintained = analytic.copy_for(base, version)
    assert maintained is not None, step
    fresh_base = tmp_path / f"fresh-{step}.duckdb"
    assert analytic.build_copy(engine, fresh_base) == version
    fresh = analytic.copy_for(fresh_base, version)
    mine, theirs = _tables(maintained), _tables(fresh)
    for table in theirs:
        assert mine[table] == theirs[table], f"step {step}: table {table} differs"
    for old in fresh_base.parent.glob(f"{fresh_base.stem}-*"):
        old.unlink()


def _some_persons(engine, rng, n):
    with engine.connect() as conn:
        ids = list(conn.execute(select(person.c.id).order_by(person.c.id)).scalars())
    return rng.sample(ids, n)


# Each step: one change the way a writer of the product or another system makes it.

def _edit(engine, rng):
    (pid,) = _some_persons(engine, rng, 1)
    with change_set_of(engine, "staff", "t") as cs:
        cs.edit_person(pid, {"organization": f"新单位{rng.randint(1, 99)}", "district_code": "330106"})


def _tag(engine, rng):
    pids = _some_persons(engine, rng, 3)
    with change_set_of(engine, "staff", "t") as cs:
        cs.tag_many(pids, rng.choice(["海归", "青年", f"新标签{rng.randint(1, 5)}"]), add=True, create=True)


def _untag(engine, rng):
    (pid,) = _some_persons(engine, rng, 1)
    with change_set_of(engine, "staff", "t") as cs:
        cs.remove_tags(pid, ["海归", "青年"])


def _stage(engine, rng):
    pids = _some_persons(engine, rng, 2)
    with change_set_of(engine, "staff", "t") as cs:
        cs.move_stage_many(pids, rng.choice(["discover", "cultivate", "use", "manage"]))


def _appoint(engine, rng):
    (pid,) = _some_persons(engine, rng, 1)
    with change_set_of(engine, "staff", "t") as cs:
        cs.add_appointment(pid, {"body": "cppcc", "title": "委员", "level": "district", "term_start": dt.date(2024, 1, 1),
                                 "term_end": dt.date(2027, 1, 1)})


def _status(engine, rng):
    (pid,) = _some_persons(engine, rng, 1)
    with change_set_of(engine, "staff", "t") as cs:
        cs.set_status(pid, rng.choice(["deceased", "transferred", "followed"]), dt.date(2026, 10, 1))


def _merge(engine, rng):
    a, b = _some_persons(engine, rng, 2)
    with change_set_of(engine, "merge", "t") as cs:
        cs.merge_persons(a, b)


def _add(engine, rng):
    with change_set_of(engine, "staff", "t") as cs:
        cs.add_person({"name": f"新增{rng.randint(1, 999)}", "category_code": "democratic_party",
                       "district_code": "330106", "stage": "discover"})


def _undo(engine, rng):
    with engine.connect() as conn:
        done = list(conn.execute(select(change_set.c.id).where(change_set.c.status == "done",
                                                               change_set.c.undoes.is_(None))).scalars())
    if done:
        try:
            undo_change_set(engine, rng.choice(done[-5:]), "t")
        except Exception:  # noqa: BLE001 - an undo refused (later changes) is a fine step too
            pass


def _later(conn) -> dt.datetime:
    """A moment after every timestamp stored: another system writes with its own clock, which runs on."""
    latest = [conn.execute(select(func.max(c))).scalar() for c in
              (person.c.updated_at, participation.c.registered_at, participation.c.checked_in_at)]
    return max([NOW, *[v for v in latest if v is not None]]) + dt.timedelta(minutes=1)


def _direct_person(engine, rng):
    with engine.begin() as conn:
        now = _later(conn)
        conn.execute(insert(person).values(name="外部系统", category_code="other", district_code="330106",
                                           created_at=now, updated_at=now))
        (pid,) = _some_persons_conn(conn, rng)
        conn.execute(update(person).where(person.c.id == pid).values(organization="外部改", updated_at=now))


def _some_persons_conn(conn, rng):
    ids = list(conn.execute(select(person.c.id)).scalars())
    return [rng.choice(ids)]


def _direct_checkin(engine, rng):
    with engine.begin() as conn:
        act = conn.execute(select(activity.c.id).order_by(activity.c.id.desc()).limit(1)).scalar()
        present = set(conn.execute(select(participation.c.person_id)
                                   .where(participation.c.activity_id == act)).scalars())
        (pid,) = [p for p in _some_persons_conn(conn, rng) if p not in present] or [None]
        if pid is None:
            return
        now = _later(conn)
        conn.execute(insert(participation).values(activity_id=act, person_id=pid, status="checked_in",
                                                  registered_at=now, checked_in_at=now))


def _refresh_epoch(engine):
    # `python -m loaders refresh`: another system deleted rows; the next refresh builds in full.
    from loaders.commands import run_refresh_command

    class Args:
        db = engine.url.render_as_string(hide_password=False)

    assert run_refresh_command(Args()) == 0


STEPS = [_edit, _tag, _untag, _stage, _appoint, _status, _merge, _add, _undo, _direct_person, _direct_checkin]


@pytest.mark.parametrize("seed", [1, 2])
def test_random_changes_keep_the_copy_exact(demo_engine, tmp_path, seed):
    rng = random.Random(seed)
    base = tmp_path / "copy.duckdb"
    analytic.build_copy(demo_engine, base)
    hows = []
    for step in range(12):
        for _ in range(rng.randint(1, 3)):
            rng.choice(STEPS)(demo_engine, rng)
        version, how = copy_delta.refresh_copy(demo_engine, base)
        hows.append(how)
        assert version == data_version(demo_engine)
        _assert_like_a_fresh_build(demo_engine, base, tmp_path, step)
    # Every step was a delta: no change here needs a full build.
    assert hows == ["delta"] * len(hows)


def test_page_queries_agree_after_deltas(demo_engine, tmp_path):
    rng = random.Random(3)
    base = tmp_path / "copy.duckdb"
    analytic.build_copy(demo_engine, base)
    for fn in STEPS:
        fn(demo_engine, rng)
    version, how = copy_delta.refresh_copy(demo_engine, base)
    assert how == "delta"
    copy = analytic.open_copy(analytic.copy_for(base, version))
    try:
        for fn, args in CHANGE_CALLS:
            for scope in (Scope(), WEST_LAKE):
                assert normalise(fn(copy, scope, *args)) == normalise(fn(demo_engine, scope, *args)), fn.__name__
    finally:
        copy.dispose()


def test_an_import_and_its_undo_apply_as_deltas(demo_engine, tmp_path):
    from loaders.api import import_file, undo_batch
    from tests.data.staff_files import make_id, simple_workbook

    base = tmp_path / "copy.duckdb"
    analytic.build_copy(demo_engine, base)
    rows = [[f"导入{i}", "女", "", make_id("330106", "19880101", f"{i:03d}"), "", "民主党派成员", "西湖区",
             "科技公司", "海归、新标签", "使用"] for i in range(8)]
    header = ["姓名", "性别", "出生日期", "身份证号", "手机", "统战对象类别", "所属区县", "工作单位", "标签", "工作阶段"]
    result = import_file(demo_engine, simple_workbook(tmp_path / "new.xlsx", header, rows, text_columns=("D", "E")))
    assert result.inserted == 8
    assert copy_delta.refresh_copy(demo_engine, base)[1] == "delta"
    _assert_like_a_fresh_build(demo_engine, base, tmp_path, "import")
    undo_batch(demo_engine, result.batch_id)
    assert copy_delta.refresh_copy(demo_engine, base)[1] == "delta"
    _assert_like_a_fresh_build(demo_engine, base, tmp_path, "undo")


def test_what_a_delta_cannot_prove_is_built_in_full(demo_engine, tmp_path):
    base = tmp_path / "copy.duckdb"
    analytic.build_copy(demo_engine, base)
    # Nothing changed: the copy is current as it is.
    assert copy_delta.refresh_copy(demo_engine, base)[1] == "current"
    _refresh_epoch(demo_engine)
    version, how = copy_delta.refresh_copy(demo_engine, base)
    assert how == "build: refresh asked for"
    # A change set that appears below the watermark without having been missing there
    # (committed out of sight, e.g. after its id's grace ran out) is caught by the count.
    with demo_engine.begin() as conn:
        top = conn.execute(select(change_set.c.id).order_by(change_set.c.id.desc()).limit(1)).scalar()
    _edit(demo_engine, random.Random(1))
    with demo_engine.begin() as conn:
        newest = conn.execute(select(change_set.c.id).order_by(change_set.c.id.desc()).limit(1)).scalar()
        assert newest == top + 1
    assert copy_delta.refresh_copy(demo_engine, base)[1] == "delta"
    with demo_engine.begin() as conn:
        conn.execute(insert(change_set).values(id=top + 10, at=NOW, source="staff", actor="t"))
        conn.execute(insert(change_set).values(id=top + 5, at=NOW, source="staff", actor="t"))
        bump_data_version(conn)
    # top+2..top+9 were never seen: ids below top+10 are gaps the next delta looks for again.
    assert copy_delta.refresh_copy(demo_engine, base)[1] == "delta"
    with demo_engine.begin() as conn:
        conn.execute(insert(change_set).values(id=top + 3, at=NOW, source="staff", actor="t"))
        bump_data_version(conn)
    assert copy_delta.refresh_copy(demo_engine, base)[1] == "delta"  # a late set found in a gap
    copy = analytic.copy_for(base, data_version(demo_engine))
    import duckdb

    con = duckdb.connect(str(copy), read_only=True)
    state = copy_delta.read_state(con)
    con.close()
    assert state.change_set_max == top + 10
    assert top + 3 not in [g[0] for g in state.gaps] and top + 4 in [g[0] for g in state.gaps]
    # A gap forgotten (its grace over) and then filled: the count proves the copy incomplete.
    con = duckdb.connect(str(copy))
    state.gaps = [g for g in state.gaps if g[0] != top + 4]
    copy_delta.write_state(con, state)
    con.close()
    with demo_engine.begin() as conn:
        conn.execute(insert(change_set).values(id=top + 4, at=NOW, source="staff", actor="t"))
        bump_data_version(conn)
    assert copy_delta.refresh_copy(demo_engine, base)[1].startswith("build: 1 change set(s) committed out of sight")
    _assert_like_a_fresh_build(demo_engine, base, tmp_path, "after build")


def test_the_maintainer_brings_the_copy_forward_and_is_shared(tmp_path, monkeypatch):
    """The child process app processes start: one per store, it follows every change, then leaves when idle."""
    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=120, seed=3, today=TODAY)
    monkeypatch.setenv("BRAIN_ANALYTIC_IDLE_SECONDS", "8")
    router = analytic.ReadRouter(url)
    version = data_version(engine)
    # The first question for a version starts the maintainer; the store answers meanwhile.
    assert router.engine_for(version, engine) is engine
    child = router.rebuild
    assert child is not None
    try:
        assert router.wait_for(version, timeout=120)
        assert router.engine_for(version, engine).dialect.name == "duckdb"
        # A second app process on the same folder finds it running and starts none.
        assert analytic.start_rebuild(url, router.path) is None
        _edit(engine, random.Random(5))
        moved = data_version(engine)
        # Asked with a wait, the page gets the copy of the new version once the delta is in place.
        assert router.engine_for(moved, engine, wait=60).dialect.name == "duckdb"
        # Nothing changes any more: it leaves, and the lock with it.
        assert child.wait(timeout=120) == 0
        assert not analytic.lock_held(router.path.with_suffix(".lock"))
    finally:
        if child.poll() is None:
            child.kill()
        engine.dispose()


def test_a_recent_copy_answers_for_a_newer_store_within_the_lag(tmp_path, monkeypatch):
    """While the maintainer catches up, the newest copy answers as of its own version, within bounds."""
    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=80, seed=2, today=TODAY)
    started = []
    monkeypatch.setattr(analytic, "start_rebuild", lambda url, p: started.append(p))  # no maintainer here
    router = analytic.ReadRouter(url)
    held = analytic.build_copy(engine, router.path)
    # The copy holds the store's version: nothing to offer, the version is asked for as usual.
    assert router.recent_version(held, max_lag=10) is None
    _edit(engine, random.Random(2))
    now = data_version(engine)
    assert router.recent_version(now, max_lag=10) == held
    assert started, "the maintainer is asked to catch up"
    # Not when the viewer's own write is newer than the copy, nor when the copy's snapshot is too old.
    assert router.recent_version(now, max_lag=10, at_least=analytic.version_counter(now)) is None
    assert router.recent_version(now, max_lag=10, at_least=analytic.version_counter(held)) == held
    assert router.recent_version(now, max_lag=0) is None
    # What it answers is exactly the copy's version: the engine for that version is the copy.
    assert router.engine_for(held, engine).dialect.name == "duckdb"
    engine.dispose()
