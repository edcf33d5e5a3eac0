"""Schema upgrades (Alembic) and reference data, run by the app and the CLI on start."""

from __future__ import annotations

import threading

import csv
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, select, text

from store.schema import category, meta, region
from store.url import PROJECT_ROOT

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DATA_DIR = PROJECT_ROOT / "data"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# Alembic's migration context is global to the process: two threads migrating at once (a page
# and a background watch opening a new store) mix their connections up.
_MIGRATING = threading.Lock()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to head and (re)load the reference CSVs; cheap when already current."""
    with _MIGRATING:
        _upgrade(engine)


def upgrade_to(engine: Engine, revision: str) -> None:
    """Bring the schema to `revision` only (a migration's tests start from the one before it)."""
    with _MIGRATING:
        _migrate(engine, revision)


def _upgrade(engine: Engine) -> None:
    if current_revision(engine) != head_revision():
        _migrate(engine, "head")
    sync_reference_data(engine)


def _migrate(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two app processes starting at once must not both run the migration.
            conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def sync_reference_data(engine: Engine, data_dir: Path = DATA_DIR) -> None:
    """Make the category and region tables equal to data/*.csv (a deployment edits the CSVs)."""
    categories = [
        {"code": r["code"], "name_zh": r["name_zh"], "name_en": r["name_en"], "sort_order": int(r["sort_order"])}
        for r in read_csv_rows(data_dir / "categories.csv")
    ]
    regions = [
        {
            "code": r["code"],
            "name_zh": r["name_zh"],
            "name_en": r.get("name_en") or None,
            "parent_code": r.get("parent_code") or None,
            "level": r["level"],
        }
        for r in read_csv_rows(data_dir / "regions.csv")
    ]
    with engine.begin() as conn:
        for table, rows in ((category, categories), (region, regions)):
            current = {tuple(r._mapping.values()) for r in conn.execute(select(*table.c))}
            wanted = {tuple(r[c.name] for c in table.c) for r in rows}
            if current == wanted:
                continue
            if table is category:
                # Categories are referenced by person rows: update in place, never delete a used code.
                existing = {r[0] for r in current}
                for r in rows:
                    if r["code"] in existing:
                        conn.execute(table.update().where(table.c.code == r["code"]).values(**r))
                    else:
                        conn.execute(table.insert().values(**r))
            else:
                conn.execute(delete(table))
                conn.execute(table.insert(), rows)
        if conn.execute(select(meta.c.value).where(meta.c.key == "data_version")).first() is None:
            conn.execute(meta.insert().values(key="data_version", value="1"))
