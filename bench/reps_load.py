"""Load benchmark of the representatives' front end: N representatives in S seconds on the real server.

    .venv/bin/python -m bench.reps_load [--reps 300] [--seconds 60] [--db URL]

A store with N persons (a fresh SQLite file unless --db names one) gets a personal link each;
the app is served as `make run` serves it (`python -m ui.serve`) on a free port. Starts are spread
evenly over S seconds; each representative, on its own cookie jar, opens the link, answers the
last four, sees the home page, opens the suggestions page, sends a suggestion and sees it listed
(5 timed steps, 7 requests with the redirects followed). Every request is timed; every page's bytes are counted (decompressed). The per-address
limits are raised for the run: all the traffic comes from one address here.

Prints a markdown table and writes bench/results/reps_load.json. Goal: p95 < 300 ms, pages ≤ 60 KB.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from store import changes as ch  # noqa: E402
from store import reps  # noqa: E402
from store.engine import create_store_engine  # noqa: E402
from store.migrate import upgrade_to_head  # noqa: E402
from tests.browser_support import streamlit_server  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "reps_load.json"
PAGE_LIMIT = 60 * 1024
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def seed(url: str, n: int) -> list[str]:
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    with ch.change_set_of(engine, "staff", "bench") as cs:
        ids = [cs.add_person(dict(name=f"代表{i:04d}", category_code="non_party", district_code="330106",
                                  phone=f"139{i:08d}", organization="某单位", stage="discover")) for i in range(n)]
    tokens = [link.token for link in reps.issue_links(engine, ids, actor="bench")]
    engine.dispose()
    return tokens


def one_representative(base: str, token: str, i: int, timings: list, sizes: dict, failures: list) -> None:
    with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as client:
        def timed(name: str, method: str, path: str, **kw) -> httpx.Response:
            start = time.perf_counter()
            response = client.request(method, path, **kw)
            timings.append((name, time.perf_counter() - start))
            if response.status_code != 200:
                failures.append((name, response.status_code))
            elif response.headers.get("content-type", "").startswith("text/html"):
                sizes[name] = max(sizes.get(name, 0), len(response.content))
            return response

        page = timed("link", "GET", f"/m/{token}")
        csrf = CSRF.search(page.text).group(1)
        # The POST answers with a redirect that the client follows: the home page is timed with it.
        timed("answer+home", "POST", f"/m/{token}", data={"csrf": csrf, "digits": f"{i:08d}"[-4:]})
        timed("home", "GET", "/m/home")
        page = timed("suggest", "GET", "/m/suggest")
        csrf = CSRF.search(page.text).group(1)
        timed("send+list", "POST", "/m/suggest", data={"csrf": csrf, "kind": "suggestion", "title": f"建议{i}",
                                                        "topic": "交通", "body": "内容" * 100})


def run(reps_n: int, seconds: float, db: str | None) -> dict:
    with TemporaryDirectory() as tmp:
        url = db or f"sqlite:///{Path(tmp) / 'reps.db'}"
        tokens = seed(url, reps_n)
        env = {"BRAIN_M_PAGES_PER_ADDRESS": "100000", "BRAIN_M_ANSWERS_PER_ADDRESS": "100000",
               "BRAIN_ANALYTIC_COPY": "0"}
        with streamlit_server(url, env=env) as base:
            timings: list = []
            sizes: dict = {}
            failures: list = []
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=64) as pool:
                for i, token in enumerate(tokens):
                    delay = start + i * seconds / reps_n - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(one_representative, base, token, i, timings, sizes, failures)
            elapsed = time.perf_counter() - start
    all_times = sorted(t for _, t in timings)
    by_step = {}
    for name in dict.fromkeys(n for n, _ in timings):
        ts = sorted(t for n, t in timings if n == name)
        by_step[name] = {"n": len(ts), "p50_ms": 1000 * statistics.median(ts),
                         "p95_ms": 1000 * ts[int(0.95 * (len(ts) - 1))], "max_ms": 1000 * ts[-1]}
    return {
        "representatives": reps_n, "seconds": round(elapsed, 1), "requests": len(all_times),
        "failures": failures[:20], "failed": len(failures),
        "p50_ms": 1000 * statistics.median(all_times), "p95_ms": 1000 * all_times[int(0.95 * (len(all_times) - 1))],
        "max_ms": 1000 * all_times[-1], "steps": by_step, "page_bytes": sizes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    result = run(args.reps, args.seconds, args.db)
    print(f"{result['representatives']} representatives in {result['seconds']} s: {result['requests']} requests, "
          f"{result['failed']} failed")
    print("| step | n | p50 ms | p95 ms | max ms | page bytes |")
    print("|---|---|---|---|---|---|")
    for name, s in result["steps"].items():
        print(f"| {name} | {s['n']} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['max_ms']:.0f} | "
              f"{result['page_bytes'].get(name, '')} |")
    print(f"| all | {result['requests']} | {result['p50_ms']:.0f} | {result['p95_ms']:.0f} | {result['max_ms']:.0f} | "
          f"max {max(result['page_bytes'].values(), default=0)} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    ok = (result["failed"] == 0 and result["p95_ms"] < 300
          and max(result["page_bytes"].values(), default=0) <= PAGE_LIMIT)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
