"""The server memory benchmark's own parts: which pages it visits, what it reads from /proc, what it waits for."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from bench import server_memory as sm
from bench.pages import PAGES
from store.filters import PersonFilter

ROOT = Path(__file__).resolve().parent.parent


def test_every_page_of_the_app_is_visited():
    # A page added to pages/ without a visit would leave its memory unmeasured.
    visited = {urlparse(path).path for _, path in sm.PAGE_VISITS}
    assert visited == {p.stem for p in (ROOT / "pages").glob("*.py")}


def test_explorer_visits_carry_the_page_benchmarks_filters():
    expected = [PersonFilter.from_query_params(params) for _, script, params in PAGES
                if script == "pages/explorer.py" and params]
    urls = [path for _, path in sm.PAGE_VISITS if "?" in path]
    got = [PersonFilter.from_query_params(parse_qs(urlparse(url).query)) for url in urls]
    assert len(expected) == 3
    assert got == expected
    assert all(f != PersonFilter() for f in got)


def test_status_reads_this_process_memory():
    status = sm._status(os.getpid())
    assert status["VmRSS"] > 1024  # more than 1 MiB: a Python interpreter with pytest loaded
    assert status["VmHWM"] >= status["VmRSS"]
    assert sm._status(2**22 + 12345) == {}  # beyond any pid: gone, not an error


def test_descendants_finds_grandchildren():
    code = ("import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)")
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while len(sm.descendants(child.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        grandchildren = sm.descendants(child.pid)
        assert len(grandchildren) == 1
        assert child.pid in sm.descendants(os.getpid())
        assert grandchildren[0] in sm.descendants(os.getpid())
    finally:
        for pid in sm.descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()


def test_sampler_records_a_child_apart():
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(64 << 20); time.sleep(30)"])
    try:
        sampler = sm.Sampler(os.getpid())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            sampler.sample()
            seen = sampler.children.get(child.pid)
            if seen and seen["hwm_kib"] > 64 * 1024:
                break
            time.sleep(0.05)
        assert sampler.samples and all(rss > 0 for _, rss in sampler.samples)
        seen = sampler.children[child.pid]
        assert "time.sleep(30)" in seen["command"]
        assert seen["hwm_kib"] > 64 * 1024  # the child's 64 MiB is its own, not this process's
    finally:
        child.kill()
        child.wait()


def test_build_copy_reports_the_child_peak(tmp_path):
    from loaders.demo import generate_demo
    from store.engine import open_store

    url = f"sqlite:///{tmp_path / 'small.db'}"
    generate_demo(open_store(url, create=True), persons=200, seed=1)
    seconds, peak = sm.build_copy(url)
    assert seconds > 0
    assert 20 < peak < 2048  # a Python with DuckDB loaded, in MiB (not KiB, not bytes)
    assert list(tmp_path.glob("small.db-copy-*.duckdb"))


def test_build_copy_failure_is_reported(tmp_path):
    with pytest.raises(RuntimeError, match="building the analytic copy failed"):
        sm.build_copy("nosuchdriver://nowhere")


class _Element:
    def __init__(self, kind, name=""):
        self.kind = kind
        self.bidi_component = type("B", (), {"component_name": name})()

    def WhichOneof(self, _):
        return self.kind


@pytest.mark.parametrize(("kind", "name", "expected"), [
    ("plotly_chart", "", "plotly"),
    ("dataframe", "", "tables"),
    ("bidi_component", "streamlit-echarts.streamlit_echarts", "echarts"),
    ("bidi_component", "brain_cockpit_clock", None),
    ("markdown", "", None),
])
def test_watched_kinds(kind, name, expected):
    assert sm._watched(_Element(kind, name)) == expected


def test_markdown_flags_a_store_over_the_limit():
    visit = sm.Visit("SQLite · x.db", 10, "cockpit", "cockpit", "cold", 1.5, 300.0, 310.0)
    warm = sm.Visit("SQLite · x.db", 10, "cockpit", "cockpit", "warm", 0.5, 320.0, 320.0)
    summary = {"store": "SQLite · x.db", "persons": 10, "server_peak_mib": 1500.0, "under_limit": False,
               "server_idle_rss_mib": 70.0, "server_final_rss_mib": 900.0, "copy_build_s": 1.0,
               "copy_builder_peak_mib": 200.0, "server_children": []}
    text = sm.markdown([visit, warm], [summary], {"cold": 0.5, "warm": 0.25})
    # Each page's time also as a ratio to the empty page's in the same browser run.
    assert "| SQLite · x.db | 10 | cockpit | 1.50 | 3.0× | 300 | 0.50 | 2.0× | 320 |" in text
    assert "**1500 MiB** (OVER 1024 MiB)" in text
