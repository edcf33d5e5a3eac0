"""Page benchmark: every page at 100k and 1M persons, on SQLite and PostgreSQL.

For each page it measures, in one run:
- cold render: fresh caches, the page script run by AppTest, answers from the
  analytic copy (the structure built for reading). Two figures: the whole page
  (AppTest, charts and tables included) and its query layer alone (the time
  spent inside store/queries functions during that same render);
- warm render: the same page again (the shared cache answers);
- SQL statements of each (a SQLAlchemy event listener on every engine);
- the SQL floor: the plain statements the page issues against the store
  itself (copy off), captured once and then replayed alone;
- before any of it, one unmeasured render opens the store and the copy, as a
  running server has (cold means empty query caches, not a new process);
- the naive baseline: the tables the page needs read whole into pandas, then
  the page's main numbers computed with groupby (in a child process, so its
  memory is its own);
- peak memory of the process serving the pages: each store is served by its
  own process, as in production, and its copy is built by another (as the app
  does), whose peak is reported apart.

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


class QueryClock:
    """Seconds spent inside store/queries functions (the page's query layer)."""

    def __init__(self):
        self.seconds = 0.0
        self.depth = 0

    def install(self) -> None:
        import functools
        import importlib
        import inspect
        import pkgutil

        import store.queries

        for info in pkgutil.iter_modules(store.queries.__path__):
            module = importlib.import_module(f"store.queries.{info.name}")
            for name, fn in list(vars(module).items()):
                if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_"):
                    setattr(module, name, functools.wraps(fn)(self._timed(fn)))

    def _timed(self, fn):
        def timed(*args, **kwargs):
            # Nested calls (a query using another) count once.
            self.depth += 1
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - started
        return timed


CLOCK = QueryClock()


# ---------------------------------------------------------------- stores

def ensure_store(url: str, persons: int, seed: int) -> None:
    """Generate the demo store unless it already holds `persons` persons."""
    from sqlalchemy import func, select

    from loaders.demo import generate_demo
    from store.engine import open_store
    from store.schema import person

    engine = open_store(url, create=True)
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
    cold_queries_s: float
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
        # The floor is statements alone; the like-for-like figure is the query layer's.
        return self.cold_queries_s / self.floor_s if self.floor_s else float("nan")

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
    os.environ["DATABASE_URL"] = url
    os.environ["BRAIN_REQUIRE_LOGIN"] = "0"
    # A running server has opened the store and the copy (about 0.1 s each, once per
    # process): one render, not measured, does that here, so "cold" means what it
    # does for a viewer, empty query caches, not a process that just started.
    os.environ["BRAIN_ANALYTIC_COPY"] = "1"
    run_page("pages/data_health.py", {})
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
        CLOCK.seconds = 0.0
        with LOG.window() as log:
            at, cold_s = run_page(script, params)
            cold_sql = log.count
        cold_queries_s = CLOCK.seconds
        with LOG.window() as log:
            started = time.perf_counter()
            at.run()
            warm_s = time.perf_counter() - started
            warm_sql = log.count

        row = Row(backend, persons, label, cold_s, cold_queries_s, cold_sql, warm_s, warm_sql, floor_s,
                  len(base_statements), float("nan"), float("nan"))
        rows.append(row)
        print(f"  {label}: cold {cold_s:.2f}s (queries {cold_queries_s:.2f}s, {cold_sql} sql), "
              f"warm {warm_s:.2f}s ({warm_sql} sql), floor {floor_s:.2f}s", flush=True)
    # The naive baseline last: reading whole tables into another process evicts the
    # machine's file cache, which would make the next page's "cold" colder than a viewer's.
    for row in rows if with_naive else ():
        row.naive_s, row.naive_peak_mb = naive(url, NAIVE_TABLES[row.page.split(":")[0]])
        print(f"  {row.page}: naive {row.naive_s:.1f}s", flush=True)
    return rows


def build_copy_apart(url: str, rebuild: bool = False) -> tuple[float, float]:
    """Build the analytic copy in a child process, as the app does; (seconds, its peak MB)."""
    code = ("import json, resource, sys, time\n"
            "from store.analytic import build_copy, copy_for, copy_path_for\n"
            "from store.engine import open_store\n"
            "from store.version import data_version\n"
            "started = time.perf_counter()\n"
            "engine, base = open_store(sys.argv[1]), copy_path_for(sys.argv[1])\n"
            "if copy_for(base, data_version(engine)) is None or '--rebuild' in sys.argv:\n"
            "    build_copy(engine, base)\n"
            "print(json.dumps([time.perf_counter() - started, "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))")
    command = [sys.executable, "-c", code, url] + (["--rebuild"] if rebuild else [])
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, peak


def markdown(rows: list[Row], peaks: dict[str, dict]) -> str:
    lines = [
        "| store | persons | page | cold page s | cold queries s | floor s | cold/floor | naive s | naive/cold "
        "| warm s | warm SQL | cold SQL |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.persons:,} | {r.page} | {r.cold_s:.3f} | {r.cold_queries_s:.3f} | {r.floor_s:.3f} | "
            f"{r.cold_vs_floor:.2f}× | {r.naive_s:.1f} | {r.naive_vs_cold:.0f}× | {r.warm_s:.3f} | "
            f"{r.warm_sql} | {r.cold_sql} |"
        )
    lines.append("")
    lines.append("cold/floor = cold queries / floor; naive/cold = naive / cold page.")
    lines.append("")
    lines.append("| store | persons | serving process peak MB | copy build s | copy builder peak MB |")
    lines.append("|---|---:|---:|---:|---:|")
    for key, p in peaks.items():
        lines.append(f"| {p['backend']} | {p['persons']:,} | {p['peak_mb']:.0f} | {p['copy_s']:.1f} | "
                     f"{p['copy_peak_mb']:.0f} |")
    return "\n".join(lines)


def serve_one(backend: str, url: str, persons: int, with_naive: bool, only: str | None,
              rebuild_copy: bool = False) -> dict:
    """One store, measured by this process alone (a fresh interpreter per store)."""
    import logging

    # AppTest's bare-mode warnings would bury the figures.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    install_listener()
    CLOCK.install()
    copy_s, copy_peak_mb = build_copy_apart(url, rebuild_copy)
    print(f"  analytic copy ready in {copy_s:.1f}s (built or found current) by its own process (peak {copy_peak_mb:.0f} MB)", flush=True)
    rows = measure_store(backend, url, persons, with_naive, only)
    return {"rows": [asdict(r) for r in rows], "backend": backend, "persons": persons, "copy_s": copy_s,
            "copy_peak_mb": copy_peak_mb, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated person counts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg", help="PostgreSQL URL (a schema per size is created inside it)")
    parser.add_argument("--no-naive", action="store_true", help="skip the whole-tables-into-pandas baseline")
    parser.add_argument("--only", help="measure only pages whose label contains this text")
    parser.add_argument("--rebuild-copy", action="store_true", help="build the analytic copy even when current")
    parser.add_argument("--out", default=str(RESULTS_DIR / "pages.json"))
    parser.add_argument("--serve-one", nargs=3, metavar=("BACKEND", "URL", "PERSONS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    if args.serve_one:
        backend, url, persons = args.serve_one
        result = serve_one(backend, url, int(persons), not args.no_naive, args.only, args.rebuild_copy)
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return 0

    rows: list[Row] = []
    peaks: dict[str, dict] = {}
    for persons in [int(s) for s in args.sizes.split(",") if s]:
        stores = [("SQLite", sqlite_url(persons, args.seed))]
        if args.pg:
            stores.append(("PostgreSQL", postgres_url(args.pg, persons, args.seed)))
        for backend, url in stores:
            print(f"{backend}, {persons:,} persons", flush=True)
            ensure_store(url, persons, args.seed)
            command = [sys.executable, "-m", "bench", "--serve-one", backend, url, str(persons)]
            command += (["--no-naive"] if args.no_naive else []) + (["--only", args.only] if args.only else [])
            command += ["--rebuild-copy"] if args.rebuild_copy else []
            result = None
            with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:
                for line in child.stdout:
                    if line.startswith("RESULT "):
                        result = json.loads(line[len("RESULT "):])
                    else:
                        print(line, end="", flush=True)
            if child.returncode or result is None:
                raise SystemExit(f"measuring {backend} {persons:,} failed (exit {child.returncode})")
            rows += [Row(**r) for r in result.pop("rows")]
            peaks[f"{backend}-{persons}"] = result
    table = markdown(rows, peaks)
    print()
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": [asdict(r) for r in rows], "stores": peaks}, indent=1,
                              ensure_ascii=False), encoding="utf-8")
    out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    return 0
