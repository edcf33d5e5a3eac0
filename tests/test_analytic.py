"""The analytic copy answers every page query exactly as the store does, and is used only while current."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import insert, update

from loaders.demo import generate_demo
from store import analytic, reps  # reps.liveness reads beyond the copy: always the store
from store.filters import PersonFilter
from store.queries import activities, cockpit, common, explorer, health, lifecycle
from store.schema import person
from store.scope import Scope
from store.version import bump_data_version, data_version

TODAY = date(2026, 11, 1)
START = date(2025, 11, 1)
WEST_LAKE = Scope(districts=("330106",))
FILTERS = [
    PersonFilter(),
    PersonFilter(categories=("democratic_party",), districts=("330106",)),
    PersonFilter(age_max=45, tags=("海归", "青年"), tags_mode="any", active_months=12, active=False),
    PersonFilter(keyword="科技", stages=("use", "manage")),
    PersonFilter(followed="no"),
    PersonFilter(followed="any", districts=("330106",)),
]

CALLS = [
    (common.store_summary, ()),
    (cockpit.headline, (TODAY,)),
    (cockpit.by_category, ()),
    (cockpit.by_district, ()),
    (cockpit.top_tags, ()),
    (cockpit.by_stage, ()),
    (cockpit.monthly_participation, (TODAY,)),
    (cockpit.age_gender, (TODAY,)),
    (cockpit.by_education, ()),
    (cockpit.activity_feed, (TODAY,)),
    (health.freshness, (TODAY,)),
    (health.freshness, (TODAY, "category")),
    (health.completeness, ()),
    (health.liveness, (TODAY,)),
    (health.name_birth_duplicates, ()),
    (health.phone_duplicates, ()),
    (health.recent_batches, ()),
    (activities.activity_summary, (START, TODAY)),
    (activities.activity_funnel, (START, TODAY)),
    (activities.monthly_by_kind, (START, TODAY)),
    (activities.activity_page, (START, TODAY)),
    (activities.reach, (START, TODAY, TODAY)),
    (activities.reach_by, ("category", START, TODAY, TODAY)),
    (activities.reach_by, ("district", START, TODAY, TODAY)),
    (lifecycle.lifecycle_overview, ()),
    (lifecycle.time_in_stage, ()),
    (lifecycle.promote_candidates, (TODAY, 2)),
    (lifecycle.term_watch_by_body, (TODAY,)),
    (lifecycle.term_watch_page, (TODAY, "soon")),
    (lifecycle.term_watch_page, (TODAY, "overdue")),
] + [
    (fn, (flt,))
    for flt in FILTERS
    for fn in (explorer.headcount, explorer.count_by_category, explorer.count_by_district,
               explorer.count_by_stage, explorer.top_tags, explorer.age_gender, explorer.person_page,
               explorer.overview)
]


def normalise(value):
    """A comparable form: frames sorted with every cell as text, dataclasses as dicts."""
    if isinstance(value, pd.DataFrame):
        frame = value.astype(object).where(value.notna(), None).map(_text)
        return frame.sort_values(list(frame.columns)).reset_index(drop=True).to_dict("records")
    if dataclasses.is_dataclass(value):
        return {k: normalise(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    return _text(value)


def _text(value):
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.9g}"
    if isinstance(value, (datetime, pd.Timestamp)):
        return pd.Timestamp(value).isoformat()
    return str(value)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head

    folder = tmp_path_factory.mktemp("analytic")
    engine = create_store_engine(f"sqlite:///{folder / 'store.db'}", create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=800, seed=5, today=TODAY)
    # Some persons no longer followed: every headcount leaves them out, on the copy as on the store.
    with engine.begin() as conn:
        conn.execute(person.update().where(person.c.id % 29 == 0).values(status="deceased", status_on=date(2026, 9, 1)))
        conn.execute(person.update().where(person.c.id % 31 == 0).values(status="transferred",
                                                                          status_on=date(2026, 10, 1)))
    base = folder / "copy.duckdb"
    version = analytic.build_copy(engine, base)
    copy = analytic.open_copy(analytic.copy_for(base, version))
    yield engine, copy, base
    copy.dispose()
    engine.dispose()


@pytest.mark.parametrize("scope", [Scope(), WEST_LAKE], ids=["all", "west-lake"])
@pytest.mark.parametrize("fn, args", CALLS, ids=[f"{fn.__module__.split('.')[-1]}.{fn.__name__}-{i}"
                                                  for i, (fn, _) in enumerate(CALLS)])
def test_copy_answers_like_the_store(demo_store, fn, args, scope):
    engine, copy, _ = demo_store
    assert copy.dialect.name == "duckdb"
    assert normalise(fn(copy, scope, *args)) == normalise(fn(engine, scope, *args))


def test_copy_is_stamped_and_router_uses_it_only_while_current(demo_store, tmp_path, monkeypatch):
    engine, _, path = demo_store
    router = analytic.ReadRouter("sqlite:///unused", folder=tmp_path)
    router.path = path
    version = data_version(engine)
    assert analytic.copy_for(path, version) is not None
    assert analytic.copy_for(path, version + "x") is None
    assert router.engine_for(version, engine).dialect.name == "duckdb"
    assert router.engine_for(version, engine, enabled=False) is engine
    # Any other version (an import happened) falls back to the store at once.
    started = []
    monkeypatch.setattr(analytic, "start_rebuild", lambda url, p: started.append(p))  # no child process here
    assert router.engine_for(version + "x", engine) is engine
    assert started == [path]


def test_direct_write_by_another_system_is_seen(demo_store, tmp_path):
    engine, _, _ = demo_store
    path = tmp_path / "copy.duckdb"
    before = analytic.build_copy(engine, path)
    now = datetime(2026, 11, 2, 8, 0)
    with engine.begin() as conn:
        conn.execute(insert(person).values(name="外部系统", category_code="other", created_at=now, updated_at=now))
    assert data_version(engine) != before  # the copy no longer counts as current
    after = analytic.build_copy(engine, path)
    # The one before stays a moment for readers that have just picked it; none older.
    assert analytic.copy_for(path, before) is not None
    copy = analytic.open_copy(analytic.copy_for(path, after))
    try:
        assert normalise(common.store_summary(copy, Scope())) == normalise(common.store_summary(engine, Scope()))
    finally:
        copy.dispose()
    with engine.begin() as conn:
        conn.execute(update(person).where(person.c.name == "外部系统").values(name="外部系统2"))
        bump_data_version(conn)
    latest = analytic.build_copy(engine, path)
    assert analytic.copy_for(path, before) is None  # two back: gone
    assert analytic.copy_for(path, after) is not None and analytic.copy_for(path, latest) is not None
    assert len(list(tmp_path.glob("copy-*.duckdb"))) == 2


# ---------------------------------------------------------------- after every kind of change

# The calls whose answers an import, an undo or a direct write can move (persons, tags, stages).
CHANGE_CALLS = [(fn, args) for fn, args in CALLS if fn.__module__.split(".")[-1] in ("common", "cockpit", "explorer")] + [
    (health.freshness, (TODAY,)), (health.completeness, ()), (health.name_birth_duplicates, ()),
    (health.phone_duplicates, ()), (health.recent_batches, ()), (lifecycle.lifecycle_overview, ()),
]


def _rebuilt_copy_agrees(engine, base, scopes=(Scope(), WEST_LAKE)) -> None:
    version = analytic.build_copy(engine, base)
    assert version == data_version(engine)
    copy = analytic.open_copy(analytic.copy_for(base, version))
    try:
        for fn, args in CHANGE_CALLS:
            for scope in scopes:
                assert normalise(fn(copy, scope, *args)) == normalise(fn(engine, scope, *args)), fn.__name__
    finally:
        copy.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_copy_agrees_after_import_undo_and_direct_write(store_url_factory, backend, tmp_path):
    from loaders.api import import_file, undo_batch
    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head
    from tests.data.staff_files import make_id, simple_workbook

    engine = create_store_engine(store_url_factory(backend), create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=300, seed=7, today=TODAY)
    base = tmp_path / "copy.duckdb"
    _rebuilt_copy_agrees(engine, base)
    before = data_version(engine)

    # An import: new persons in 西湖区 with tags, and an update of a demo person by its ID number.
    with engine.connect() as conn:
        known_id = conn.execute(person.select().where(person.c.id_number.is_not(None)).limit(1)).first().id_number
    rows = [[f"新人{i}", "女", "", make_id("330106", "19880101", f"{i:03d}"), "", "民主党派成员", "西湖区",
             "科技公司", "海归、青年", "使用"] for i in range(12)]
    rows.append(["改名者", "", "", known_id, "", "", "西湖区", "新单位", "专家", ""])
    header = ["姓名", "性别", "出生日期", "身份证号", "手机", "统战对象类别", "所属区县", "工作单位", "标签", "工作阶段"]
    result = import_file(engine, simple_workbook(tmp_path / "new.xlsx", header, rows, text_columns=("D", "E")))
    assert (result.inserted, result.updated, result.rejected) == (12, 1, 0), result.errors
    assert data_version(engine) != before
    _rebuilt_copy_agrees(engine, base)

    # An undo puts everything back.
    after_import = data_version(engine)
    undo_batch(engine, result.batch_id)
    assert data_version(engine) != after_import
    _rebuilt_copy_agrees(engine, base)

    # Another system writes directly (no version bump of its own): the fingerprint still moves.
    after_undo = data_version(engine)
    now = datetime(2026, 11, 2, 9, 0)
    with engine.begin() as conn:
        conn.execute(insert(person).values(name="外部系统", category_code="other", district_code="330106",
                                           created_at=now, updated_at=now))
    assert data_version(engine) != after_undo
    _rebuilt_copy_agrees(engine, base)
    engine.dispose()


def test_queries_reading_beyond_the_copy_are_marked():
    """The representatives' responses are not in the copy (their writers make no change rows a
    delta could follow): the shared cache asks the store for them."""
    assert getattr(reps.liveness, "reads_beyond_copy", False)
    assert "rep_request" not in {t.name for t in analytic.TABLES}
