"""Two app processes on one PostgreSQL store, as behind a load balancer.

Each process has its own caches and version watch. A write (here through the
write path, as either process's page would make it) shows in both within a few
version checks; their caches agree; the analytic copy is maintained once for
the store, by one maintainer both processes share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store.changes import change_set_of
from store.queries.common import store_summary
from store.scope import Scope

pytestmark = pytest.mark.postgresql

ROOT = Path(__file__).resolve().parent.parent
# One app process's view, once every 0.2 s: what its cached query answers and where from.
VIEWER = """
import json, sys, time
import ui.cache as cache
from store.queries.common import store_summary
from store.scope import Scope

end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    summary = cache.query(store_summary, Scope())
    print(json.dumps({"persons": summary.persons, "version": cache.current_data_version(),
                      "engine": cache.read_engine().dialect.name}), flush=True)
    time.sleep(0.2)
"""


def _maintainers(folder: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--maintain" in cmd and any(str(folder).encode() in part for part in cmd):
            found.append(int(proc.name))
    return found


def _last(viewer: subprocess.Popen, lines: list[dict]) -> dict | None:
    line = viewer.stdout.readline()
    if line:
        lines.append(json.loads(line))
    return lines[-1] if lines else None


def test_a_write_shows_in_both_processes_and_the_copy_is_kept_once(store_url_factory, tmp_path):
    from loaders.demo import generate_demo
    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head

    url = store_url_factory("postgresql")
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=150, seed=4)
    before = store_summary(engine, Scope()).persons
    env = {**os.environ, "DATABASE_URL": url, "BRAIN_VERSION_CHECK_SECONDS": "1",
           "BRAIN_ANALYTIC_DIR": str(tmp_path / "copies"), "BRAIN_ANALYTIC_WAIT_SECONDS": "0",
           "BRAIN_ANALYTIC_IDLE_SECONDS": "15", "PYTHONPATH": str(ROOT)}
    viewers = [subprocess.Popen([sys.executable, "-c", VIEWER, "40"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    seen: list[list[dict]] = [[], []]
    try:
        # Both answer, and both end up on the copy, which one maintainer built.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = [_last(v, s) for v, s in zip(viewers, seen)]
            if all(s and s["engine"] == "duckdb" for s in states):
                break
        assert all(s["persons"] == before and s["engine"] == "duckdb" for s in states), states
        assert len(_maintainers(tmp_path / "copies")) == 1

        with change_set_of(engine, "staff", "test") as cs:
            cs.add_person({"name": "两台服务器", "category_code": "other", "district_code": "330106"})
        written = time.monotonic()
        # Each process sees it within a few of its 1 s version checks, and then from the copy again.
        deadline = written + 20
        while time.monotonic() < deadline:
            states = [_last(v, s) for v, s in zip(viewers, seen)]
            if all(s["persons"] == before + 1 and s["engine"] == "duckdb" for s in states):
                break
        assert all(s["persons"] == before + 1 for s in states), states
        assert states[0]["version"] == states[1]["version"]
        assert all(s["engine"] == "duckdb" for s in states), states
        # Still one maintainer for the store: the copy is kept once, not once per process.
        assert len(_maintainers(tmp_path / "copies")) == 1
        # Neither ever answered with a count it could not have had.
        assert {r["persons"] for s in seen for r in s} <= {before, before + 1}
    finally:
        for viewer in viewers:
            viewer.kill()
            viewer.wait()
        for pid in _maintainers(tmp_path / "copies"):
            os.kill(pid, 9)
