"""Page benchmark: every page at 100k and 1M persons, on SQLite and PostgreSQL.

For each page it measures, in one run:
- cold render: fresh caches, the page script run by AppTest, answers from the
  analytic copy (the structure built for reading);
- warm render: the same page again (the shared cache answers);
- SQL statements of each (a SQLAlchemy event listener on every engine);
- the SQL floor: the plain statements the page issues against the store
  itself (copy off), captured once and then replayed alone;
- the naive baseline: the tables the page needs read whole into pandas, then
  the page's main numbers computed with groupby (in a child process, so its
  memory is its own);
- peak memory of the process serving the pages.

Prints a markdown table and writes JSON. Stores are cached by size and seed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "bench" / "cache"
RESULTS_DIR = ROOT / "bench" / "results"

# (label, page script, query parameters); the explorer's three typical questions.
PAGES = [
    ("cockpit", "pages/cockpit.py", {}),
    ("explorer: 民主党派 in 西湖区", "pages/explorer.py",
     {"categories": ["democratic_party"], "districts": ["330106"]}),
    ("explorer: under 45, tag 海归, not active 12m", "pages/explorer.py",
     {"age_max": "45", "tags": ["海归"], "active_months": "12", "active": "0"}),
    ("explorer: keyword 科技 + stage 使用", "pages/explorer.py", {"keyword": "科技", "stages": ["use"]}),
    ("activities", "pages/activities.py", {}),
    ("lifecycle", "pages/lifecycle.py", {}),
    ("data health", "pages/data_health.py", {}),
]

# What the naive way would read whole for each page.
NAIVE_TABLES = {
    "cockpit": ["person", "person_tag", "tag", "participation", "activity"],
    "explorer": ["person", "person_tag", "tag", "participation", "appointment"],
    "activities": ["person", "participation", "activity"],
    "lifecycle": ["person", "stage_event", "appointment", "participation"],
    "data health": ["person", "person_tag", "participation", "import_batch"],
}


# ---------------------------------------------------------------- statements

class StatementLog:
    """Counts (and optionally keeps) every statement any engine sends."""

    def __init__(self):
        self.count = 0
        self.keep = False
        self.kept: list[tuple[str, str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.kept.append((str(conn.engine.url), statement, parameters))

    @contextmanager
    def window(self, keep: bool = False):
        self.count, self.keep, self.kept = 0, keep, []
        yield self
        self.keep = False


LOG = StatementLog()


def install_listener() -> None:
    from sqlalchemy import Engine, event

    event.listen(Engine, "before_cursor_execute", LOG)


# ---------------------------------------------------------------- stores

def ensure_store(url: str, persons: int, seed: int) -> None:
    """Generate the demo store unless it already holds `persons` persons."""
    from sqlalchemy import func, select

    from loaders.demo import generate_demo
    from store.engine import open_store
    from store.schema import person

    engine = open_store(url)
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(person)).scalar_one()
    if have != persons:
        if have:
            raise SystemExit(f"{url} holds {have} persons, expected {persons}: remove it to rebuild")
        started = time.perf_counter()
        generate_demo(engine, persons=persons, seed=seed, today=date(2026, 11, 1))
        print(f"  generated {persons:,} persons in {time.perf_counter() - started:.0f}s", flush=True)
    engine.dispose()


def sqlite_url(persons: int, seed: int) -> str:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{CACHE_DIR / f'demo-{persons}-{seed}.db'}"


def postgres_url(base: str, persons: int, seed: int) -> str:
    """A schema per size and seed inside the given database."""
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    from store.url import normalise_url

    schema = f"bench_{persons}_{seed}"
    admin = create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    base = normalise_url(base)
    return f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"


# ---------------------------------------------------------------- measuring

@dataclass
class Row:
    backend: str
    persons: int
    page: str
    cold_s: float
    cold_sql: int
    warm_s: float
    warm_sql: int
    floor_s: float
    floor_sql: int
    naive_s: float
    naive_peak_mb: float
    notes: list[str] = field(default_factory=list)

    @property
    def cold_vs_floor(self) -> float:
        return self.cold_s / self.floor_s if self.floor_s else float("nan")

    @property
    def naive_vs_cold(self) -> float:
        return self.naive_s / self.cold_s if self.cold_s else float("nan")


def clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()


def run_page(script: str, params: dict, timeout: float = 600):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / script), default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{script} raised: {at.exception[0].message}")
    return at, elapsed


def replay(statements) -> float:
    """Run captured statements alone, on a fresh connection per store; seconds."""
    from sqlalchemy import create_engine

    from store.engine import create_store_engine

    engines: dict[str, object] = {}
    started = time.perf_counter()
    for url, statement, parameters in statements:
        engine = engines.get(url)
        if engine is None:
            engine = engines[url] = (create_engine(url) if url.startswith("duckdb") else create_store_engine(url))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
    elapsed = time.perf_counter() - started
    for engine in engines.values():
        engine.dispose()
    return elapsed


def naive_worker(url: str, tables: list[str]) -> tuple[float, float]:
    """Whole tables into pandas, then the page's main numbers with groupby."""
    import pandas as pd
    from sqlalchemy import create_engine

    from store.url import normalise_url

    started = time.perf_counter()
    engine = create_engine(normalise_url(url))
    frames = {name: pd.read_sql_table(name, engine) for name in tables}
    p = frames["person"]
    p.groupby("category_code").size()
    p.groupby("district_code").size()
    p.groupby("stage").size()
    p.groupby(["gender", p["birth_date"].astype("datetime64[s]").dt.year // 10]).size()
    if "person_tag" in frames:
        frames["person_tag"].groupby("tag_id").size().nlargest(20)
    if "participation" in frames:
        part = frames["participation"]
        checked = part[part["status"] == "checked_in"]
        checked.groupby(checked["checked_in_at"].astype("datetime64[s]").dt.to_period("M")).size()
        checked.groupby("person_id")["checked_in_at"].max()
        part.groupby(["activity_id", "status"]).size()
    if "stage_event" in frames:
        frames["stage_event"].groupby(["person_id", "stage"])["entered_at"].min().unstack()
    elapsed = time.perf_counter() - started
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive(url: str, tables: list[str]) -> tuple[float, float]:
    """Run naive_worker in a fresh interpreter, so its memory and imports are its own."""
    code = ("import json, sys; from bench.pages import naive_worker; "
            "print(json.dumps(naive_worker(sys.argv[1], sys.argv[2:])))")
    out = subprocess.run([sys.executable, "-c", code, url, *tables], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    elapsed, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return elapsed, peak


def measure_store(backend: str, url: str, persons: int, with_naive: bool, only: str | None = None) -> list[Row]:
    from store.analytic import build_copy, copy_path_for
    from store.engine import open_store

    os.environ["DATABASE_URL"] = url
    os.environ["BRAIN_REQUIRE_LOGIN"] = "0"
    engine = open_store(url)
    started = time.perf_counter()
    build_copy(engine, copy_path_for(url))
    print(f"  analytic copy built in {time.perf_counter() - started:.1f}s", flush=True)
    engine.dispose()

    rows = []
    for label, script, params in PAGES:
        if only and only not in label:
            continue
        # The floor: the page's own statements against the store, replayed alone.
        os.environ["BRAIN_ANALYTIC_COPY"] = "0"
        clear_caches()
        with LOG.window(keep=True) as log:
            run_page(script, params)
        base_statements = [s for s in log.kept if not s[0].startswith("duckdb")]
        floor_s = replay(base_statements)

        # Cold and warm, reading the analytic copy.
        os.environ["BRAIN_ANALYTIC_COPY"] = "1"
        clear_caches()
        with LOG.window() as log:
            at, cold_s = run_page(script, params)
            cold_sql = log.count
        with LOG.window() as log:
            started = time.perf_counter()
            at.run()
            warm_s = time.perf_counter() - started
            warm_sql = log.count

        naive_s, naive_mb = (float("nan"), float("nan"))
        if with_naive:
            naive_s, naive_mb = naive(url, NAIVE_TABLES[label.split(":")[0]])
        row = Row(backend, persons, label, cold_s, cold_sql, warm_s, warm_sql, floor_s,
                  len(base_statements), naive_s, naive_mb)
        rows.append(row)
        print(f"  {label}: cold {cold_s:.2f}s ({cold_sql} sql), warm {warm_s:.2f}s ({warm_sql} sql), "
              f"floor {floor_s:.2f}s, naive {naive_s:.1f}s", flush=True)
    return rows


def markdown(rows: list[Row], peak_mb: float) -> str:
    lines = [
        "| store | persons | page | cold s | floor s | cold/floor | naive s | naive/cold | warm s | warm SQL | cold SQL |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.persons:,} | {r.page} | {r.cold_s:.3f} | {r.floor_s:.3f} | "
            f"{r.cold_vs_floor:.2f}× | {r.naive_s:.1f} | {r.naive_vs_cold:.0f}× | {r.warm_s:.3f} | "
            f"{r.warm_sql} | {r.cold_sql} |"
        )
    lines.append("")
    lines.append(f"Peak memory of the process serving the pages: {peak_mb:.0f} MB "
                 "(the naive baseline runs in its own process).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated person counts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg", help="PostgreSQL URL (a schema per size is created inside it)")
    parser.add_argument("--no-naive", action="store_true", help="skip the whole-tables-into-pandas baseline")
    parser.add_argument("--only", help="measure only pages whose label contains this text")
    parser.add_argument("--out", default=str(RESULTS_DIR / "pages.json"))
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    install_listener()
    rows: list[Row] = []
    for persons in [int(s) for s in args.sizes.split(",") if s]:
        stores = [("SQLite", sqlite_url(persons, args.seed))]
        if args.pg:
            stores.append(("PostgreSQL", postgres_url(args.pg, persons, args.seed)))
        for backend, url in stores:
            print(f"{backend}, {persons:,} persons", flush=True)
            ensure_store(url, persons, args.seed)
            rows += measure_store(backend, url, persons, with_naive=not args.no_naive, only=args.only)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = markdown(rows, peak_mb)
    print()
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": [asdict(r) for r in rows], "peak_mb": peak_mb}, indent=1,
                              ensure_ascii=False), encoding="utf-8")
    out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    return 0
