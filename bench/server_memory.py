"""Server memory benchmark: the real app server, driven by a real browser through every page.

    .venv/bin/python bench/server_memory.py --db URL [--db URL2 ...]

For each store:
1. the analytic copy is built first by `python -m store.analytic --db URL` in a
   child process (as the app does after a change), so the server reads the copy
   from its first page; that child's peak memory is reported apart;
2. the app is served as `make run` serves it (`python -m ui.serve`, no sign-in,
   analytic copy on) on a free port;
3. Debian's chromium (Playwright, no browser download) opens every page, then
   every page again (warm). A page counts as rendered once the server has sent
   the end of its script run and the browser has drawn its charts and tables.
   The same browser first opens an empty Streamlit page (bench/empty_page.py,
   served by Streamlit alone) three times, cold then warm: each page's time is
   also given as a ratio to that page's median, what Streamlit itself costs;
4. a thread samples the server's VmRSS every 0.2 s; its VmHWM (peak RSS) is
   read at the end. Children of the server (a copy rebuild after a data
   change) are sampled too and reported apart.

Prints a markdown table and writes bench/results/server_memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import PAGES as EXPLORER_SOURCE  # noqa: E402 (needs ROOT on sys.path)

RESULTS = ROOT / "bench" / "results" / "server_memory.json"
SAMPLE_SECONDS = 0.2
LIMIT_MIB = 1024

# (label, URL path and query): the app's pages in navigation order, with the
# explorer's three typical questions of the page benchmark as URL filters.
PAGE_VISITS: list[tuple[str, str]] = [("cockpit", "cockpit"), ("explorer", "explorer")]
PAGE_VISITS += [(label, f"explorer?{urlencode(params, doseq=True)}")
                for label, script, params in EXPLORER_SOURCE if script == "pages/explorer.py" and params]
PAGE_VISITS += [("people", "people"), ("activities", "activities"), ("activity desk", "activity_desk"),
                ("hall", "hall"), ("check-in", "checkin"), ("lifecycle", "lifecycle"),
                ("representatives", "reps"), ("enterprises", "enterprises"), ("data health", "data_health"),
                ("data import", "data_import"), ("audit", "audit")]

# Drawn, not merely present: Plotly has put its SVG in, ECharts and the data
# grid have sized their canvases. Streamlit mounts elements after the script
# run has ended (Plotly's code even loads on first use), so "script finished"
# alone is too early: the page counts as rendered once the browser has drawn
# as many of each as the server sent during the run.
DRAWN_JS = """(want) => {
    const all = (sel) => [...document.querySelectorAll(sel)];
    // A canvas has a pixel size; an SVG chart (the cockpit's) a drawn box.
    const sized = (c) => c && ((c.width > 0 && c.height > 0) || c.getBoundingClientRect().width > 0);
    // In a tab not shown (or a closed expander) there is nothing to draw until it is opened.
    const hidden = (e) => e.getClientRects().length === 0;
    const drawn = {
        plotly: all('[data-testid="stPlotlyChart"]').filter(e => hidden(e) || e.querySelector('.main-svg')).length,
        echarts: all('.echarts-container').filter(e => hidden(e) || sized(e.querySelector('canvas, svg'))).length,
        tables: all('[data-testid="stDataFrame"]').filter(e => hidden(e) || sized(e.querySelector('canvas'))).length,
    };
    return Object.keys(want).every(k => drawn[k] >= want[k]);
}"""

COUNTS_JS = """() => ({
    plotly: document.querySelectorAll('[data-testid="stPlotlyChart"]').length,
    echarts: document.querySelectorAll('.echarts-container').length,
    tables: document.querySelectorAll('[data-testid="stDataFrame"]').length,
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    errors: document.querySelectorAll('[data-testid="stAlertContentError"]').length,
})"""


# ---------------------------------------------------------------- /proc

def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process in KiB ({} once it has gone)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [part.decode(errors="replace") for part in fh.read().split(b"\0") if part]
    except (FileNotFoundError, ProcessLookupError):
        return []


def _direct_children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                kids += [int(k) for k in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return kids


def descendants(pid: int) -> list[int]:
    found, todo = [], _direct_children(pid)
    while todo:
        kid = todo.pop()
        found.append(kid)
        todo += _direct_children(kid)
    return found


def server_pid(base_url: str) -> int:
    """The server process the test helper started for `base_url` (a child of this process)."""
    port = str(urlparse(base_url).port)
    for pid in _direct_children(os.getpid()):
        args = _cmdline(pid)
        if "ui.serve" in args or "streamlit" in " ".join(args):
            if port in args or any(a == f"--server.port={port}" for a in args):
                return pid
    raise RuntimeError(f"no server process found for {base_url}")


def mib(kib: float) -> float:
    return kib / 1024


class Sampler(threading.Thread):
    """VmRSS of the server every 0.2 s; children of the server kept apart, by pid."""

    def __init__(self, pid: int):
        super().__init__(daemon=True, name="rss-sampler")
        self.pid = pid
        self.stop = threading.Event()
        self.samples: list[tuple[float, int]] = []
        self.children: dict[int, dict] = {}
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        rss = _status(self.pid).get("VmRSS")
        now = time.monotonic() - self.started
        with self.lock:
            if rss is not None:
                self.samples.append((now, rss))
            for kid in descendants(self.pid):
                st = _status(kid)
                if not st:
                    continue
                seen = self.children.setdefault(kid, {"pid": kid, "command": " ".join(_cmdline(kid))[:200],
                                                      "first_seen_s": round(now, 1), "max_rss_kib": 0,
                                                      "hwm_kib": 0})
                if not seen["command"]:
                    # Caught between fork and exec: the command line is not there yet.
                    seen["command"] = " ".join(_cmdline(kid))[:200]
                seen["max_rss_kib"] = max(seen["max_rss_kib"], st.get("VmRSS", 0))
                seen["hwm_kib"] = max(seen["hwm_kib"], st.get("VmHWM", 0))
                seen["last_seen_s"] = round(now, 1)

    def max_since(self, since: float) -> int:
        with self.lock:
            return max((rss for t, rss in self.samples if t >= since), default=0)

    def now(self) -> float:
        return time.monotonic() - self.started


# ---------------------------------------------------------------- the copy

def build_copy(url: str) -> tuple[float, float]:
    """`python -m store.analytic --db URL` in a child; (seconds, its peak MiB).

    os.wait4 gives that one child's own rusage, so a larger earlier child (a
    previous store's server) cannot hide its peak as RUSAGE_CHILDREN would.
    """
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "store.analytic", "--db", url], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stdout:
        proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(f"building the analytic copy failed ({proc.returncode}):\n{out[-3000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def count_persons(url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from store.schema import person
    from store.url import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(person)).scalar_one()
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the browser

@dataclass
class Visit:
    store: str
    persons: int
    page: str
    path: str
    round: str  # cold | warm
    seconds: float
    rss_after_mib: float
    rss_max_during_mib: float
    elements: dict = field(default_factory=dict)  # on screen at the end, and as sent by the server
    notes: list[str] = field(default_factory=list)


class ScriptRuns:
    """Watches the app's websockets for the end of a full script run of the current visit."""

    def __init__(self, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.ForwardMsg = ForwardMsg
        self.visit = 0
        self.finished: dict[int, int] = {}
        self.not_found: set[int] = set()
        # Per visit: delta path -> kind of element there (None for the kinds not waited for);
        # a later element on the same path replaces the earlier one, as in the browser.
        self.elements: dict[int, dict[tuple, str | None]] = {}
        # Per visit: how many of each kind the first full run sent (what the browser must draw).
        self.expected: dict[int, dict[str, int]] = {}
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        # A websocket belongs to the visit during which the browser opened it:
        # a late message of the previous page can never end this one.
        visit = self.visit
        ws.on("framereceived", lambda payload: self._on_frame(visit, payload))

    def _on_frame(self, visit: int, payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        try:
            msg = self.ForwardMsg.FromString(bytes(payload))
        except Exception:  # noqa: BLE001 - a frame this version cannot parse is not an end of run
            return
        kind = msg.WhichOneof("type")
        if kind == "page_not_found":
            self.not_found.add(visit)
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self.elements.setdefault(visit, {})[tuple(msg.metadata.delta_path)] = _watched(msg.delta.new_element)
        # A fragment's own rerun (the cockpit's refresh) or a run cut short for a rerun is not the page.
        if kind == "script_finished" and msg.script_finished == self.ForwardMsg.FINISHED_SUCCESSFULLY:
            self.finished[visit] = self.finished.get(visit, 0) + 1
            if visit not in self.expected:
                sent = list(self.elements.get(visit, {}).values())
                self.expected[visit] = {k: sent.count(k) for k in ("plotly", "echarts", "tables")}


def _watched(element) -> str | None:
    """The kind of a sent element whose drawing the benchmark waits for, else None."""
    kind = element.WhichOneof("type")
    if kind == "plotly_chart":
        return "plotly"
    if kind == "dataframe":
        return "tables"
    if kind == "bidi_component" and "echarts" in element.bidi_component.component_name.lower():
        return "echarts"
    return None


def visit(page, runs: ScriptRuns, base: str, path: str, timeout_s: float) -> tuple[float, dict, list[str]]:
    from tests.browser_support import wait_for_app

    notes: list[str] = []
    runs.visit += 1
    current = runs.visit
    started = time.perf_counter()
    page.goto(f"{base}/{path}", timeout=timeout_s * 1000)
    deadline = started + timeout_s
    while not runs.finished.get(current):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"/{path}: the script run did not finish within {timeout_s:.0f}s")
        page.wait_for_timeout(20)
    wait_for_app(page, timeout_ms=int(timeout_s * 1000))
    want = runs.expected.get(current, {})
    try:
        page.wait_for_function(DRAWN_JS, arg=want, polling=50,
                               timeout=int(max(1.0, deadline - time.perf_counter()) * 1000))
    except Exception:  # noqa: BLE001 - report the page, do not lose the whole run
        notes.append(f"not all of {want} drawn before the timeout")
    elapsed = time.perf_counter() - started
    counts = page.evaluate(COUNTS_JS)
    if current in runs.not_found:
        notes.append("page not found")
    if counts["exceptions"]:
        notes.append(f"{counts['exceptions']} exception(s) on screen")
    if counts["errors"]:
        notes.append(f"{counts['errors']} error message(s) on screen")
    counts["expected"] = want
    return elapsed, counts, notes


def measure_store(url: str, browser, timeout_s: float) -> tuple[list[Visit], dict]:
    from store.url import describe_url
    from tests.browser_support import browser_page, streamlit_server

    label = describe_url(url)
    persons = count_persons(url)
    print(f"{label}: {persons:,} persons", flush=True)
    copy_s, copy_peak = build_copy(url)
    print(f"  analytic copy built in {copy_s:.1f}s by its own process (peak {copy_peak:.0f} MiB)", flush=True)

    visits: list[Visit] = []
    env = {"BRAIN_REQUIRE_LOGIN": "0", "BRAIN_ANALYTIC_COPY": "1"}
    started = time.perf_counter()
    with streamlit_server(url, env=env, timeout=120) as base, browser_page(browser) as (page, _requests):
        pid = server_pid(base)
        startup_s = time.perf_counter() - started
        sampler = Sampler(pid)
        sampler.start()
        idle_rss = mib(_status(pid).get("VmRSS", 0))
        print(f"  server pid {pid} healthy in {startup_s:.1f}s, RSS {idle_rss:.0f} MiB", flush=True)
        runs = ScriptRuns(page)
        try:
            for round_ in ("cold", "warm"):
                for name, path in PAGE_VISITS:
                    since = sampler.now()
                    seconds, counts, notes = visit(page, runs, base, path, timeout_s)
                    sampler.sample()
                    after = mib(_status(pid).get("VmRSS", 0))
                    during = mib(sampler.max_since(since))
                    row = Visit(label, persons, name, path, round_, seconds, after, max(during, after),
                                {k: counts[k] for k in ("plotly", "echarts", "tables", "expected")}, notes)
                    visits.append(row)
                    print(f"  {round_} {name}: {seconds:.2f}s, RSS after {after:.0f} MiB, "
                          f"max {row.rss_max_during_mib:.0f} MiB" + (f" ({'; '.join(notes)})" if notes else ""),
                          flush=True)
        finally:
            sampler.stop.set()
            sampler.join()
            # Read while the server is still alive: the peak is gone with the process.
            final = _status(pid)
    children = [
        {**c, "max_rss_mib": round(mib(c.pop("max_rss_kib")), 1), "peak_mib": round(mib(c.pop("hwm_kib")), 1)}
        for c in sampler.children.values()
    ]
    summary = {
        "store": label, "persons": persons, "server_startup_s": round(startup_s, 2),
        "server_idle_rss_mib": round(idle_rss, 1),
        "server_peak_mib": round(mib(final.get("VmHWM", 0)), 1),
        "server_final_rss_mib": round(mib(final.get("VmRSS", 0)), 1),
        "server_max_sampled_rss_mib": round(mib(max((r for _, r in sampler.samples), default=0)), 1),
        "samples": len(sampler.samples),
        "copy_build_s": round(copy_s, 2), "copy_builder_peak_mib": round(copy_peak, 1),
        "server_children": children,
        "under_limit": mib(final.get("VmHWM", 0)) < LIMIT_MIB,
    }
    return visits, summary


@contextmanager
def empty_server():
    """Streamlit alone serving bench/empty_page.py on a free port; yields its base URL."""
    from tests.browser_support import free_port

    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "bench" / "empty_page.py"), "--server.port",
           str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def empty_page_seconds(browser, timeout_s: float) -> dict[str, float]:
    """The empty page's median time in this browser: cold (first visit of a tab) and warm."""
    from tests.browser_support import browser_page

    times: dict[str, list[float]] = {"cold": [], "warm": []}
    with empty_server() as base:
        for _ in range(3):
            with browser_page(browser) as (page, _requests):
                runs = ScriptRuns(page)
                for round_ in ("cold", "warm"):
                    times[round_].append(visit(page, runs, base, "", timeout_s)[0])
    return {k: statistics.median(v) for k, v in times.items()}


# ---------------------------------------------------------------- report

def markdown(visits: list[Visit], summaries: list[dict], empty: dict[str, float]) -> str:
    cold = {(v.store, v.page): v for v in visits if v.round == "cold"}
    warm = {(v.store, v.page): v for v in visits if v.round == "warm"}
    lines = [f"Empty Streamlit page in the same browser: cold {empty['cold']:.2f} s, warm {empty['warm']:.2f} s.", "",
             "| store | persons | page | cold s | cold ×empty | server RSS after cold (MiB) | warm s | warm ×empty | "
             "server RSS after warm (MiB) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for key, c in cold.items():
        w = warm.get(key)
        notes = "; ".join(c.notes + (w.notes if w else []))
        warm_s = w.seconds if w else float("nan")
        lines.append(f"| {c.store} | {c.persons:,} | {c.page}{f' ⚠ {notes}' if notes else ''} | {c.seconds:.2f} | "
                     f"{c.seconds / empty['cold']:.1f}× | {c.rss_after_mib:.0f} | {warm_s:.2f} | "
                     f"{warm_s / empty['warm']:.1f}× | {w.rss_after_mib if w else float('nan'):.0f} |")
    lines.append("")
    for s in summaries:
        verdict = "under" if s["under_limit"] else "OVER"
        lines.append(f"- {s['store']} ({s['persons']:,} persons): server peak (VmHWM) "
                     f"**{s['server_peak_mib']:.0f} MiB** ({verdict} {LIMIT_MIB} MiB); idle after start {s['server_idle_rss_mib']:.0f} MiB, "
                     f"at the end {s['server_final_rss_mib']:.0f} MiB; analytic copy built in "
                     f"{s['copy_build_s']:.1f}s by its own process, peak {s['copy_builder_peak_mib']:.0f} MiB")
        for c in s["server_children"]:
            lines.append(f"  - child of the server, pid {c['pid']} (`{c['command']}`): peak seen "
                         f"{c['peak_mib']:.0f} MiB (sampled every {SAMPLE_SECONDS}s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True, metavar="URL", help="store URL (repeatable)")
    parser.add_argument("--out", default=str(RESULTS), help="JSON results file")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a page may take to render")
    args = parser.parse_args(argv)
    os.chdir(ROOT)

    from store.url import normalise_url
    from tests.browser_support import launch_chromium

    visits: list[Visit] = []
    summaries: list[dict] = []
    with launch_chromium() as browser:
        empty = empty_page_seconds(browser, args.timeout)
        print(f"empty page: cold {empty['cold']:.2f}s, warm {empty['warm']:.2f}s", flush=True)
        for url in args.db:
            store_visits, summary = measure_store(normalise_url(url), browser, args.timeout)
            visits += store_visits
            summaries.append(summary)
    report = markdown(visits, summaries, empty)
    print()
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"visits": [asdict(v) for v in visits], "stores": summaries, "empty_page_s": empty, "limit_mib": LIMIT_MIB},
                              ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0 if all(s["under_limit"] for s in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
