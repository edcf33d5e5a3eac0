"""Pages while data streams in: the analytic copy kept current by deltas.

Per store (SQLite, and PostgreSQL with --pg), on the cached demo store:
- floor: the cockpit's queries on the store itself, at rest (the copy off);
- rest: the same queries from the copy, at rest;
- a write stream for --minutes: one sign-up a second (a participation through
  the write path), a person edit every 10 s, and a burst of 5 check-ins a
  second for the first fifth of the run;
- meanwhile, once a second, a cold render of the cockpit's queries as a page
  asks them: the newest copy if it is at most `analytic_lag_seconds` behind,
  else the copy of the store's version after waiting up to
  `analytic_wait_seconds` once, else the store;
- how long after each write's commit a copy holding it was in place;
- the maintainer's CPU share and peak memory, and this process's.

    .venv/bin/python bench/live.py --persons 1000000 --minutes 10 [--pg URL]

Prints a markdown table (ratios against the floor measured in the same run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = dt.date(2026, 11, 1)


def page_calls():
    from store.queries import cockpit

    return [
        (cockpit.headline, (TODAY,)), (cockpit.by_category, ()), (cockpit.by_district, ()),
        (cockpit.top_tags, ()), (cockpit.by_stage, ()), (cockpit.monthly_participation, (TODAY,)),
        (cockpit.age_gender, (TODAY,)), (cockpit.by_education, ()), (cockpit.activity_feed, (TODAY,)),
    ]


def render(engine) -> float:
    from store.scope import Scope

    started = time.perf_counter()
    for fn, args in page_calls():
        fn(engine, Scope(), *args)
    return time.perf_counter() - started


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Writer(threading.Thread):
    """The stream: sign-ups, edits and a check-in burst, each a change set as the app's writers make them."""

    def __init__(self, engine, seconds: float):
        super().__init__(daemon=True)
        self.engine, self.seconds = engine, seconds
        # (monotonic time of commit, data version after it); the only writer, so every version is here.
        self.commits: list[tuple[float, str]] = []
        self.errors = 0

    def run(self) -> None:
        import random

        from sqlalchemy import func, insert, select

        from store.changes import change_set_of
        from store.schema import activity, participation, person
        from store.version import data_version

        rng = random.Random(7)
        with self.engine.begin() as conn:
            top = conn.execute(select(func.max(person.c.id))).scalar()
            act = conn.execute(insert(activity).values(
                title="现场活动（基准）", kind="meeting", starts_at=dt.datetime(2026, 11, 1, 9),
                ends_at=dt.datetime(2026, 11, 1, 17)).returning(activity.c.id)).scalar_one()
        signed: list[int] = []
        started = time.monotonic()
        tick = 0
        while time.monotonic() - started < self.seconds:
            tick += 1
            writes = [("sign_up", None)]
            if tick % 10 == 0:
                writes.append(("edit", None))
            if time.monotonic() - started < self.seconds / 5:
                writes += [("check_in", None)] * 5
            for kind, _ in writes:
                try:
                    now = dt.datetime(2026, 11, 1, 9) + dt.timedelta(seconds=time.monotonic() - started)
                    with change_set_of(self.engine, "checkin" if kind == "check_in" else "self", "bench") as cs:
                        if kind == "sign_up":
                            pid = rng.randint(1, top)
                            while pid in signed:
                                pid = rng.randint(1, top)
                            cs.insert("participation", {"activity_id": act, "person_id": pid,
                                                        "status": "registered", "registered_at": now})
                            signed.append(pid)
                        elif kind == "edit":
                            cs.edit_person(rng.randint(1, top), {"organization": f"基准单位{tick}"})
                        elif signed:
                            pid = signed.pop(0)
                            cs.update("participation", (act, pid), {"status": "checked_in", "checked_in_at": now})
                    self.commits.append((time.monotonic(), data_version(self.engine)))
                except Exception as exc:  # noqa: BLE001 - counted; the table says how many failed
                    self.errors += 1
                    print(f"  write failed: {str(exc).splitlines()[0]}", file=sys.stderr)
            time.sleep(max(0.0, tick - (time.monotonic() - started)))
        self.activity = act

    def clean_up(self) -> None:
        """Leave the cached store as it was found (a deletion the marks cannot see: a full build follows)."""
        from store.copy_delta import ask_full_refresh
        from store.schema import activity, participation

        with self.engine.begin() as conn:
            conn.execute(participation.delete().where(participation.c.activity_id == self.activity))
            conn.execute(activity.delete().where(activity.c.id == self.activity))
            ask_full_refresh(conn)


class CopyWatch(threading.Thread):
    """When each copy file appeared (a file's name says which version it holds: store/analytic.versioned)."""

    def __init__(self, base: Path, stop: threading.Event):
        super().__init__(daemon=True)
        self.base, self.stop = base, stop
        self.appeared: dict[str, float] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            for path in self.base.parent.glob(f"{self.base.stem}-*.duckdb"):
                self.appeared.setdefault(path.name, time.monotonic())
            time.sleep(0.05)


def measure(url: str, label: str, minutes: float, wait: float, lag: float) -> dict:
    from store import analytic
    from store.engine import open_store
    from store.version import data_version

    engine = open_store(url)
    router = analytic.ReadRouter(url)
    print(f"  {label}: building the copy", flush=True)
    started = time.perf_counter()
    version = analytic.build_copy(engine, router.path)
    build_s = time.perf_counter() - started
    floor = statistics.median(render(engine) for _ in range(3))
    copy_engine = router.engine_for(version, engine)
    assert copy_engine is not engine
    rest = statistics.median(render(copy_engine) for _ in range(3))
    maintainer = router.rebuild
    if maintainer is None:
        router.engine_for(version + "?", engine)  # no copy of that version: starts the maintainer
        maintainer = router.rebuild
    cpu0 = proc_cpu_seconds(maintainer.pid)

    stop = threading.Event()
    watch = CopyWatch(router.path, stop)
    watch.start()
    writer = Writer(engine, minutes * 60)
    writer.start()
    renders: list[tuple[float, bool]] = []
    t0 = time.monotonic()
    print(f"  {label}: streaming for {minutes:g} min", flush=True)
    while writer.is_alive():
        tick = time.monotonic()
        version = data_version(engine)
        began = time.perf_counter()
        # As the shared cache asks (ui/cache.query): a copy at most `lag` seconds behind answers at its version.
        answering = (router.recent_version(version, lag) if lag > 0 else None) or version
        chosen = router.engine_for(answering, engine, wait=wait)
        render(chosen)
        # From the version check on: a wait for the copy is the viewer's time too.
        renders.append((time.perf_counter() - began, chosen is not engine))
        time.sleep(max(0.0, 1 - (time.monotonic() - tick)))
    wall = time.monotonic() - t0
    time.sleep(3)
    stop.set()
    watch.join()
    cpu1 = proc_cpu_seconds(maintainer.pid) if maintainer.poll() is None else cpu0
    maintainer_peak = peak_mb(maintainer.pid) if maintainer.poll() is None else float("nan")
    writer.clean_up()

    shown = [watch.appeared.get(analytic.versioned(router.path, v).name) for _, v in writer.commits]
    lags = []
    for i, (at, _) in enumerate(writer.commits):
        # A copy holding this write: the first copy of this version or of any later one.
        later = [t for t in shown[i:] if t is not None]
        if later:
            lags.append(max(0.0, min(later) - at))
    times = [s for s, _ in renders]
    engine.dispose()
    return {
        "store": label, "build_s": build_s, "floor_s": floor, "rest_s": rest,
        "p50_s": pct(times, 0.5), "p95_s": pct(times, 0.95), "from_copy": sum(c for _, c in renders) / len(renders),
        "renders": len(renders), "writes": len(writer.commits), "write_errors": writer.errors,
        "lag_p50_s": pct(lags, 0.5), "lag_p95_s": pct(lags, 0.95), "unseen": len(writer.commits) - len(lags),
        "maintainer_cpu": (cpu1 - cpu0) / wall, "maintainer_peak_mb": maintainer_peak,
        "bench_peak_mb": peak_mb(os.getpid()),
    }


def main(argv=None) -> int:
    from bench.pages import ensure_store, postgres_url, sqlite_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--wait", type=float, default=2.0, help="analytic_wait_seconds")
    parser.add_argument("--lag", type=float, default=10.0, help="analytic_lag_seconds (0: only a current copy)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--pg", help="PostgreSQL URL (a schema per size is made in it)")
    args = parser.parse_args(argv)
    os.environ.setdefault("BRAIN_ANALYTIC_IDLE_SECONDS", "120")
    targets = [] if args.no_sqlite else [("SQLite", sqlite_url(args.persons, args.seed))]
    if args.pg:
        targets.append(("PostgreSQL", postgres_url(args.pg, args.persons, args.seed)))
    rows = []
    for label, url in targets:
        ensure_store(url, args.persons, args.seed)
        rows.append(measure(url, label, args.minutes, args.wait, args.lag))
    print()
    print(f"{args.persons:,} persons, {args.minutes:g} min stream (1 sign-up/s, 1 edit/10 s, 5 check-ins/s "
          f"in the first fifth); cockpit queries, seconds; ratios against the floor of the same run; "
          f"analytic_lag_seconds {args.lag:g}, analytic_wait_seconds {args.wait:g}")
    print()
    print("| store | full build s | floor s | copy at rest s | stream p50 s | stream p95 s | p95/floor | "
          "from copy | writes (failed) | write→copy p50 s | p95 s | maintainer CPU | maintainer peak MB | "
          "app peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['store']} | {r['build_s']:.1f} | {r['floor_s']:.3f} | {r['rest_s']:.3f} | {r['p50_s']:.3f} | "
              f"{r['p95_s']:.3f} | {r['p95_s'] / r['floor_s']:.2f}× | {r['from_copy']:.0%} | "
              f"{r['writes']} ({r['write_errors']}) | {r['lag_p50_s']:.2f} | {r['lag_p95_s']:.2f} | "
              f"{r['maintainer_cpu']:.0%} | {r['maintainer_peak_mb']:.0f} | {r['bench_peak_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
