"""Per-person values the analytic copy keeps as columns: same answers on the store and on the copy.

CheckedInSince, LastCheckIn and KeywordMatch compile to subqueries on SQLite and
PostgreSQL and to the copy's own columns on DuckDB. Each is asked twice with
different values on one engine, so a cached compilation must carry the new value.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import and_, insert, not_, select

from store import analytic
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.schema import activity, participation, person
from store.sql import CheckedInSince, KeywordMatch, LastCheckIn
from tests.conftest import BACKENDS

NOW = datetime(2026, 11, 1, 9, 0)
PERSONS = [
    # id, name, organization
    (1, "王伟", "杭州科技有限公司"),
    (2, "李娜", "浙江大学"),
    (3, "张三", "100%_股东/科技"),
    (4, "Zhao Lei", "ACME Tech"),
    (5, "钱七", None),
]
# (person, status, checked_in_at): person 2 only registered recently; person 5 never came.
PARTICIPATIONS = [
    (1, "checked_in", datetime(2026, 10, 20, 14, 0)),
    (1, "checked_in", datetime(2025, 3, 1, 9, 0)),
    (2, "registered", None),
    (2, "checked_in", datetime(2024, 6, 1, 9, 0)),
    (3, "checked_in", datetime(2026, 5, 5, 10, 0)),
    (4, "absent", None),
]


@pytest.fixture(params=BACKENDS)
def engines(request, store_url_factory, tmp_path):
    """(store engine, copy engine) holding the same few persons and participations."""
    engine = create_store_engine(store_url_factory(request.param), create=True)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        conn.execute(insert(person), [{"id": pid, "name": name, "organization": org, "category_code": "other",
                                       "stage": "discover", "created_at": NOW, "updated_at": NOW}
                                      for pid, name, org in PERSONS])
        conn.execute(insert(activity), [{"id": i, "title": f"座谈会{i}", "kind": "meeting", "starts_at": NOW}
                                        for i in range(1, len(PARTICIPATIONS) + 1)])
        conn.execute(insert(participation), [
            {"activity_id": i, "person_id": pid, "status": status, "checked_in_at": at, "registered_at": NOW}
            for i, (pid, status, at) in enumerate(PARTICIPATIONS, start=1)])
    base = tmp_path / "copy.duckdb"
    copy = analytic.open_copy(analytic.copy_for(base, analytic.build_copy(engine, base)))
    yield engine, copy
    copy.dispose()
    engine.dispose()


def ids(engine, condition) -> list[int]:
    with engine.connect() as conn:
        return conn.execute(select(person.c.id).where(condition).order_by(person.c.id)).scalars().all()


@pytest.mark.parametrize("side", ["store", "copy"])
def test_checked_in_since_and_its_negation(engines, side):
    engine = engines[0] if side == "store" else engines[1]
    # Only check-ins count (person 2's recent registration does not); never-seen persons are "not active".
    assert ids(engine, CheckedInSince(person, datetime(2026, 1, 1))) == [1, 3]
    assert ids(engine, not_(CheckedInSince(person, datetime(2026, 1, 1)))) == [2, 4, 5]
    # The same statement shape with another value: the cached compilation must use the new one.
    assert ids(engine, CheckedInSince(person, datetime(2024, 1, 1))) == [1, 2, 3]
    assert ids(engine, not_(CheckedInSince(person, datetime(2024, 1, 1)))) == [4, 5]


@pytest.mark.parametrize("side", ["store", "copy"])
def test_last_check_in(engines, side):
    engine = engines[0] if side == "store" else engines[1]
    with engine.connect() as conn:
        rows = dict(conn.execute(select(person.c.id, LastCheckIn(person)).order_by(person.c.id)).all())
    as_datetime = {k: (datetime.fromisoformat(v) if isinstance(v, str) else v) for k, v in rows.items()}
    assert as_datetime == {1: datetime(2026, 10, 20, 14, 0), 2: datetime(2024, 6, 1, 9, 0),
                           3: datetime(2026, 5, 5, 10, 0), 4: None, 5: None}


@pytest.mark.parametrize("side", ["store", "copy"])
def test_keyword_match(engines, side):
    engine = engines[0] if side == "store" else engines[1]
    assert ids(engine, KeywordMatch(person, "科技")) == [1, 3]
    assert ids(engine, KeywordMatch(person, "浙江")) == [2]
    assert ids(engine, KeywordMatch(person, "acme")) == [4]  # case-blind
    assert ids(engine, KeywordMatch(person, "zhao")) == [4]
    # Wildcards and the escape character are text.
    assert ids(engine, KeywordMatch(person, "100%_")) == [3]
    assert ids(engine, KeywordMatch(person, "%")) == [3]
    assert ids(engine, KeywordMatch(person, "_")) == [3]
    assert ids(engine, KeywordMatch(person, "/")) == [3]
    # A keyword never spans name and organization.
    assert ids(engine, KeywordMatch(person, "王伟杭州")) == []
    # ANDed with another condition, the OR inside stays inside.
    assert ids(engine, and_(person.c.id > 1, KeywordMatch(person, "科技"))) == [3]
