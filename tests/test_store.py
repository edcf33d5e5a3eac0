"""The store: contract schema, reference data, migrations, URL precedence, data version."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, insert, select, func

from store.engine import create_store_engine
from store.migrate import current_revision, head_revision, upgrade_to_head
from store.schema import category, meta, person, region
from store.scope import Scope
from store.url import default_sqlite_url, normalise_url, resolve_database_url
from store.version import bump_data_version, data_version

# The contract of DESIGN.md ("The store"), table by table.
CONTRACT = {
    "category": {"code", "name_zh", "name_en", "sort_order"},
    "region": {"code", "name_zh", "name_en", "parent_code", "level"},
    "person": {
        "id", "name", "gender", "ethnicity", "birth_date", "id_number", "phone", "party",
        "category_code", "district_code", "street", "organization", "position", "education",
        "title", "stage", "source", "created_at", "updated_at", "updated_via", "import_batch_id",
    },
    "tag": {"id", "name"},
    "person_tag": {"person_id", "tag_id"},
    "stage_event": {"id", "person_id", "stage", "entered_at", "note"},
    "appointment": {"id", "person_id", "body", "title", "level", "term_start", "term_end"},
    "activity": {"id", "title", "kind", "organizer", "district_code", "starts_at", "ends_at", "capacity", "online"},
    "participation": {"activity_id", "person_id", "status", "registered_at", "checked_in_at"},
    "import_batch": {
        "id", "file_name", "sha256", "imported_at", "imported_by", "rows_read",
        "inserted", "updated", "unchanged", "rejected", "status",
    },
    "audit_log": {"id", "at", "actor", "action", "detail"},
}

HANGZHOU = {
    "330102": "上城区", "330105": "拱墅区", "330106": "西湖区", "330108": "滨江区",
    "330109": "萧山区", "330110": "余杭区", "330113": "临平区", "330114": "钱塘区",
    "330111": "富阳区", "330112": "临安区", "330122": "桐庐县", "330127": "淳安县",
    "330182": "建德市",
}


def test_schema_has_every_contract_table_and_column(engine):
    inspector = inspect(engine)
    for table, columns in CONTRACT.items():
        actual = {c["name"] for c in inspector.get_columns(table)}
        assert columns <= actual, f"{table} lacks {columns - actual}"


def test_id_number_is_unique(engine):
    uniques = inspect(engine).get_unique_constraints("person")
    indexes = [i for i in inspect(engine).get_indexes("person") if i["unique"]]
    assert any(u["column_names"] == ["id_number"] for u in uniques + indexes)


def test_dashboard_indexes_exist(engine):
    inspector = inspect(engine)
    def leading(table):
        return {tuple(i["column_names"])[0] for i in inspector.get_indexes(table)}
    assert {"category_code", "district_code", "stage", "updated_at"} <= leading("person")
    assert {"person_id", "status", "checked_in_at", "registered_at"} <= leading("participation")
    assert "tag_id" in leading("person_tag")


def test_reference_data_loaded(engine):
    with engine.connect() as conn:
        cats = conn.execute(select(category.c.code, category.c.name_zh).order_by(category.c.sort_order)).all()
        districts = dict(conn.execute(select(region.c.code, region.c.name_zh).where(region.c.level == "district")).all())
        orphans = conn.execute(
            select(func.count()).select_from(region).where(
                region.c.level == "street",
                region.c.parent_code.not_in(select(region.c.code).where(region.c.level == "district")),
            )
        ).scalar()
        streets = conn.execute(select(func.count()).select_from(region).where(region.c.level == "street")).scalar()
    assert len(cats) == 12
    assert cats[0] == ("democratic_party", "民主党派成员") and cats[-1][0] == "other"
    assert districts == HANGZHOU
    assert streets > 150 and orphans == 0


def test_migration_is_idempotent_and_at_head(engine):
    assert current_revision(engine) == head_revision()
    upgrade_to_head(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(category)).scalar() == 12


def test_data_version_changes_on_bump_and_on_direct_write(engine):
    v1 = data_version(engine)
    assert data_version(engine) == v1
    with engine.begin() as conn:
        bump_data_version(conn)
    v2 = data_version(engine)
    assert v2 != v1
    # Another system writes a person without touching `meta`: the version still moves.
    now = datetime(2026, 1, 2, 3, 4, 5)
    with engine.begin() as conn:
        conn.execute(insert(person).values(name="张三", category_code="other", created_at=now, updated_at=now))
    assert data_version(engine) != v2


def test_scope_clause_restricts_persons(engine):
    now = datetime(2026, 1, 1)
    rows = [
        dict(name="甲", category_code="other", district_code="330106", street="西溪街道", created_at=now, updated_at=now),
        dict(name="乙", category_code="other", district_code="330106", street="北山街道", created_at=now, updated_at=now),
        dict(name="丙", category_code="other", district_code="330102", street="湖滨街道", created_at=now, updated_at=now),
    ]
    with engine.begin() as conn:
        conn.execute(insert(person), rows)

    def names(scope):
        stmt = select(person.c.name).order_by(person.c.name)
        clause = scope.person_clause(person)
        if clause is not None:
            stmt = stmt.where(clause)
        with engine.connect() as conn:
            return set(conn.execute(stmt).scalars())

    assert names(Scope()) == {"甲", "乙", "丙"}
    assert names(Scope(districts=("330106",))) == {"甲", "乙"}
    assert names(Scope(streets=(("330106", "北山街道"),))) == {"乙"}
    assert names(Scope(districts=("330102",), streets=(("330106", "西溪街道"),))) == {"甲", "丙"}


XIHU, SHANGCHENG = "330106", "330102"


@pytest.mark.parametrize("outer, inner, contained", [
    # Districts: a subset is within, a superset or a neighbour is not.
    (Scope(districts=(XIHU, SHANGCHENG)), Scope(districts=(XIHU,)), True),
    (Scope(districts=(XIHU,)), Scope(districts=(XIHU,)), True),
    (Scope(districts=(XIHU,)), Scope(districts=(XIHU, SHANGCHENG)), False),
    (Scope(districts=(XIHU,)), Scope(districts=(SHANGCHENG,)), False),
    # Streets: the same street only; a name is only unique within its district.
    (Scope(streets=((XIHU, "北山街道"),)), Scope(streets=((XIHU, "北山街道"),)), True),
    (Scope(streets=((XIHU, "北山街道"),)), Scope(streets=((XIHU, "西溪街道"),)), False),
    (Scope(streets=((XIHU, "北山街道"),)), Scope(streets=((SHANGCHENG, "北山街道"),)), False),
    # A street lies within its district, but a district is not within one of its streets.
    (Scope(districts=(XIHU,)), Scope(streets=((XIHU, "北山街道"), (XIHU, "西溪街道"))), True),
    (Scope(districts=(SHANGCHENG,)), Scope(streets=((XIHU, "北山街道"),)), False),
    (Scope(streets=((XIHU, "北山街道"),)), Scope(districts=(XIHU,)), False),
    # Mixed: every part of the inner scope must be covered.
    (Scope(districts=(XIHU,), streets=((SHANGCHENG, "湖滨街道"),)),
     Scope(districts=(XIHU,), streets=((SHANGCHENG, "湖滨街道"),)), True),
    (Scope(districts=(XIHU,)), Scope(districts=(XIHU,), streets=((SHANGCHENG, "湖滨街道"),)), False),
    # Unscoped: contains everything, and lies within nothing scoped.
    (Scope(), Scope(districts=(XIHU,)), True),
    (Scope(), Scope(), True),
    (Scope(districts=(XIHU,)), Scope(), False),
    (Scope(streets=((XIHU, "北山街道"),)), Scope(), False),
])
def test_scope_contains(outer, inner, contained):
    assert outer.contains(inner) is contained


def test_audit_page_shows_a_scoped_viewer_only_accounts_within_its_scope(engine):
    from store import accounts
    from store.audit import audit_actions, audit_page, record_now

    for username, role, scope in (("d_admin", "admin", Scope(districts=(XIHU,))),
                                  ("s_staff", "staff", Scope(streets=((XIHU, "北山街道"),))),
                                  ("o_admin", "admin", Scope(districts=(SHANGCHENG,))),
                                  ("both", "staff", Scope(districts=(XIHU, SHANGCHENG))),
                                  ("u_admin", "admin", Scope())):
        accounts.create_account(engine, username, "a-long-password", role, scope=scope)
    for actor in ("d_admin", "s_staff", "o_admin", "both", "u_admin", "bench", "screen#1", "nobody"):
        record_now(engine, actor, "export", {"by": actor})

    xihu = Scope(districts=(XIHU,))
    total, rows = audit_page(engine, xihu, ("export",), viewer="d_admin")
    assert total == 2 and [r["actor"] for r in rows] == ["s_staff", "d_admin"]  # newest first
    assert audit_page(engine, Scope(), ("export",))[0] == 8
    # Paging and the actor filter stay inside the scope, and the count matches.
    assert audit_page(engine, xihu, ("export",), limit=1, offset=1, viewer="d_admin") == (2, [rows[1]])
    assert audit_page(engine, xihu, (), "o_admin", viewer="d_admin") == (0, [])
    # A street viewer does not read its district's admin; the viewer's own entries always show.
    street = Scope(streets=((XIHU, "北山街道"),))
    assert [r["actor"] for r in audit_page(engine, street, ("export",), viewer="s_staff")[1]] == ["s_staff"]
    assert {r["actor"] for r in audit_page(engine, street, ("export",), viewer="u_admin")[1]} == \
        {"s_staff", "u_admin"}
    # Account changes made from the command line are not an account's: only the unscoped see them.
    assert audit_actions(engine, xihu, viewer="d_admin") == ["export"]
    assert audit_actions(engine, Scope()) == ["account_create", "export"]


def test_sqlite_pragmas(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_transaction_rolls_back_whole(sqlite_engine):
    now = datetime(2026, 1, 1)
    with pytest.raises(RuntimeError):
        with sqlite_engine.begin() as conn:
            conn.execute(insert(person).values(name="甲", category_code="other", created_at=now, updated_at=now))
            raise RuntimeError("crash mid-file")
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person)).scalar() == 0


@pytest.mark.parametrize(
    "cli, env, secrets, expected",
    [
        ("sqlite:///cli.db", {"DATABASE_URL": "sqlite:///env.db"}, "sqlite:///secret.db", "sqlite:///cli.db"),
        (None, {"DATABASE_URL": "sqlite:///env.db"}, "sqlite:///secret.db", "sqlite:///env.db"),
        (None, {}, "sqlite:///secret.db", "sqlite:///secret.db"),
        (None, {}, None, None),
        (None, {"DATABASE_URL": "postgresql://u@h/db"}, None, "postgresql+psycopg://u@h/db"),
    ],
)
def test_url_precedence(tmp_path, cli, env, secrets, expected):
    secrets_path = tmp_path / "secrets.toml"
    if secrets:
        secrets_path.write_text(f'[connections.sql]\nurl = "{secrets}"\n', encoding="utf-8")
    got = resolve_database_url(cli, env=env, secrets_path=secrets_path)
    assert got == (expected or default_sqlite_url())


def test_default_url_is_the_embedded_file():
    assert default_sqlite_url().endswith("data/brain.db")
    assert normalise_url("postgres://x@y/z") == "postgresql+psycopg://x@y/z"


def test_fresh_sqlite_file_is_created_and_migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'brain.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    with engine.connect() as conn:
        assert conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).scalar() == "1"
    engine.dispose()
    assert (tmp_path / "nested" / "brain.db").exists()
