"""The representatives' front end under load: Locust against the real server on loopback.

    .venv/bin/python -m bench.reps_load                      # a fresh SQLite store in bench/cache/
    .venv/bin/python -m bench.reps_load --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

300 representatives within one minute (one started every 0.2 s, by 20 Locust users taking them
in turn), each on a fresh phone and address of their own: opens their personal link, answers the last four digits (timed with the home page the
answer leads to), opens the correction form and sends it (timed with the form shown again,
saying it arrived). One server process, the one `make run` starts
(`python -m ui.serve`), behind a trusted proxy: each representative's X-Forwarded-For gives
them an address of their own, so the limits per address stay at their defaults. Bounded:
the run stops after the minute plus `--grace` seconds, whatever is still running.

Reports per step and overall the requests, failures, median, p95 and p99, and the server
process's peak memory (VmHWM) with its memory before the run; checks that every
correction arrived. Writes bench/results/reps_load.json and prints a markdown table.
Goal: p95 under 300 ms, no failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402 (needs ROOT on sys.path)

from bench.door_load import drop_schema, fresh_store, locust_stats  # noqa: E402
from bench.server_memory import server_pid  # noqa: E402
from store import changes as ch  # noqa: E402
from store import clock, reps  # noqa: E402
from store.schema import rep_request  # noqa: E402

CACHE = ROOT / "bench" / "cache"
RESULTS = ROOT / "bench" / "results" / "reps_load.json"
LOCUSTFILE = ROOT / "bench" / "reps_locustfile.py"
TARGET_P95_MS = 300
STEPS = ("open link", "last four -> home", "correction form", "send correction")


def seed(engine, n: int) -> dict:
    """`n` persons with a personal link each: (number, token, last four, mobile) per representative."""
    phones = [f"139{i:08d}" for i in range(n)]
    with ch.change_set_of(engine, "staff", "bench") as cs:
        ids = [cs.add_person(dict(name=f"代表{i:04d}", category_code="non_party", district_code="330106",
                                  phone=phone, organization="某单位", stage="discover")) for i, phone in enumerate(phones)]
    issued = reps.issue_links(engine, ids, actor="bench")
    return {"links": [[i, link.token, phones[i][-4:], phones[i]] for i, link in enumerate(issued)]}


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak) of a process, in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in fh) if k in ("VmRSS", "VmHWM")}


def warm_up(base: str, token: str) -> None:
    """One look at a link page first: a server in service has imported its modules and opened its pools."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/m/{token}", timeout=60) as response:
        response.read()


def locust(base: str, reps_n: int, phones: int, seconds: float, grace: int, fixture: Path,
           prefix: Path) -> dict[str, dict]:
    """`phones` Locust users, started one every seconds/reps_n, each playing a representative every
    phones*seconds/reps_n seconds: the starts spread evenly over `seconds`."""
    pacing = phones * seconds / reps_n
    env = {**os.environ, "REPS_LOAD_FIXTURE": str(fixture), "REPS_LOAD_PACING": f"{pacing:g}"}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
           "-u", str(phones), "-r", f"{phones / pacing:g}", "-t", f"{int(seconds) + grace}s", "--csv", str(prefix),
           "--only-summary", "--stop-timeout", "10"]
    subprocess.run(cmd, cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    stats = locust_stats(prefix)
    return {name: stats[name] for name in (*STEPS, "Aggregated") if name in stats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL URL: the benchmark runs in a new schema there")
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60, help="the representatives start within this time")
    parser.add_argument("--grace", type=int, default=30, help="seconds the last ones have to finish")
    parser.add_argument("--phones", type=int, default=20, help="Locust users taking the representatives in turn")
    args = parser.parse_args(argv)
    from tests.browser_support import streamlit_server

    url, engine = fresh_store(args.pg, "reps-load")
    backend = "PostgreSQL" if args.pg else "SQLite"
    fixture = CACHE / "reps-load.json"
    fixture.write_text(json.dumps(seed(engine, args.reps)), encoding="utf-8")
    env = {"BRAIN_ANALYTIC_COPY": "0", "BRAIN_TRUSTED_PROXIES": "127.0.0.1"}
    with streamlit_server(url, env=env, timeout=120) as base:
        pid = server_pid(base)
        warm_up(base, json.loads(fixture.read_text(encoding="utf-8"))["links"][0][1])
        before = memory_kib(pid)
        steps = locust(base, args.reps, args.phones, args.seconds, args.grace, fixture, CACHE / "reps-load")
        after = memory_kib(pid)
    with engine.connect() as conn:
        arrived = conn.execute(select(func.count()).select_from(rep_request)
                               .where(rep_request.c.kind == "change")).scalar_one()
    engine.dispose()
    if args.pg:
        drop_schema(args.pg, url)
    overall = steps.pop("Aggregated")
    result = {"backend": backend, "at": clock.now().isoformat(timespec="seconds"), "representatives": args.reps,
              "seconds": args.seconds, "phones": args.phones, "load_average": os.getloadavg()[0], "steps": steps, "overall": overall,
              "corrections_arrived": arrived, "server_rss_before_mib": round(before["VmRSS"] / 1024),
              "server_peak_rss_mib": round(after["VmHWM"] / 1024)}
    result["met"] = (overall["p95_ms"] < TARGET_P95_MS and overall["failures"] == 0 and arrived == args.reps)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print("| store | step | requests | failures | median ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, line in [*steps.items(), ("all", overall)]:
        print(f"| {backend} | {name} | {line['requests']} | {line['failures']} | {line['median_ms']:.0f} "
              f"| {line['p95_ms']:.0f} | {line['p99_ms']:.0f} | {line['max_ms']:.0f} |")
    print(f"server process: {result['server_rss_before_mib']} MiB before, peak {result['server_peak_rss_mib']} MiB; "
          f"corrections arrived: {arrived} of {args.reps}; load average {result['load_average']:.1f}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
