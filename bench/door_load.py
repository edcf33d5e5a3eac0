"""The door under load: Locust against the real server on loopback (issue 16's two lines).

    .venv/bin/python bench/door_load.py                      # a fresh SQLite store in bench/cache/
    .venv/bin/python bench/door_load.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

1. 500 sign-ups in one minute through the poster's public form (the import's identity
   cascade, the answers' validation, the sign-up's change set): p95 under 300 ms.
2. 500 sign-ups in one minute on the representatives' phones (/m/): each opens the
   personal link, answers the last four, sees the home page and the activity, signs
   up; the sign-up's POST and all five pages are two lines, p95 under 300 ms.
3. 200 check-ins in five minutes through the door, each a steward's session scanning
   one pass (session check, token, the conditional UPDATE): p95 under 200 ms.

The server is the one `make run` starts (`python -m ui.serve`, sign-in on); its resident
memory is sampled every 0.2 s (/proc, as bench/server_memory.py does): each line reports
the peak during its run, and the process's high-water mark (VmHWM) at its end. Writes
bench/results/door_load.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server_memory import Sampler, _status, mib, server_pid  # noqa: E402 (needs ROOT on sys.path)
from store import accounts, clock, reps  # noqa: E402
from store import activities as act  # noqa: E402
from store.changes import change_set_of  # noqa: E402
from store.engine import create_store_engine  # noqa: E402
from store.migrate import upgrade_to_head  # noqa: E402

CACHE = ROOT / "bench" / "cache"
RESULTS = ROOT / "bench" / "results" / "door_load.json"
LOCUSTFILE = ROOT / "bench" / "door_locustfile.py"
TARGETS = {"sign-up": 300, "phone sign-up": 300, "phone pages": 300, "check-in": 200}  # p95 in ms
QUESTION = [{"id": "meal", "kind": "choice", "label": "是否用餐", "options": ["是", "否"], "required": True}]


def seed(engine, sign_ups: int, check_ins: int, phone_sign_ups: int) -> dict:
    """Persons, an open activity for the poster and one for the phones (with a personal link each), an
    activity with `check_ins` approved sign-ups, a steward."""
    with change_set_of(engine, "staff", "bench") as cs:
        ids = [cs.add_person(dict(name=f"压测{i:04d}", category_code="other", district_code="330106",
                                  phone=f"139{i:08d}")) for i in range(sign_ups + check_ins + phone_sign_ups)]
    start = dt.datetime.combine(clock.today(), dt.time(9))
    plan = dict(kind="onsite", starts_at=start, ends_at=start + dt.timedelta(hours=8), district_code="330106",
                place="市民中心", audience="open", questions=act.parse_questions(QUESTION))
    poster = act.plan_activity(engine, act.Plan(title="压测报名", **plan), actor="bench")
    phone = act.plan_activity(engine, act.Plan(title="压测手机报名", **plan), actor="bench")
    door = act.plan_activity(engine, act.Plan(title="压测签到", **plan), actor="bench")
    for aid in (poster, phone, door):
        act.publish_activity(engine, aid, actor="bench")
    arriving = ids[sign_ups:sign_ups + check_ins]
    for pid in arriving:
        act.sign_up(engine, door, pid, {"meal": "否"})
    phones = ids[sign_ups + check_ins:]
    links = reps.issue_links(engine, phones, actor="bench") if phones else []
    steward = accounts.create_account(engine, "bench_door", accounts.generate_password(), "steward", actor="bench")
    act.assign_steward(engine, "bench_door", door, actor="bench")
    session = accounts.start_session(engine, steward.id, "password")
    return {
        "signup_activity": poster, "door_activity": door, "phone_activity": phone,
        "people": [[f"压测{i:04d}", f"139{i:08d}"] for i in range(sign_ups)],
        "passes": [act.pass_token(engine, door, pid) for pid in arriving],
        "phones": [[link.token, f"{ids.index(link.person_id):08d}"[-4:]] for link in links],  # the mobile's last four
        "cookie": accounts.redeem_handoff(engine, session.handoff, accounts.session_key(engine)),
    }


def locust(base: str, user: str, users: int, rate: float, seconds: int, fixture: Path, prefix: Path,
           names: dict[str, str]) -> dict[str, dict]:
    """Run one Locust user class; the lines named in `names` (line -> Locust's row name) from its stats."""
    env = {**os.environ, "DOOR_LOAD_FIXTURE": str(fixture), "DOOR_LOAD_RATE": str(rate)}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), user, "--headless", "--host", base,
           "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary",
           "--stop-timeout", "10"]
    subprocess.run(cmd, cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    stats = locust_stats(prefix)
    return {line: stats[name] for line, name in names.items()}


def fresh_store(pg: str | None, name: str):
    """(URL, engine) of a new, migrated store for a load run: a new schema in `pg`, else
    bench/cache/<name>.db made anew."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if pg:
        url = pg_store(pg)
    else:
        for stale in CACHE.glob(f"{name}.db*"):
            stale.unlink()
        url = f"sqlite:///{CACHE / f'{name}.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    return url, engine


def locust_stats(prefix: Path) -> dict[str, dict]:
    """Locust's summary rows (its --csv file) by name: requests, failures, percentiles in ms."""
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return {row["Name"]: {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                              "median_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                              "p99_ms": float(row["99%"]), "max_ms": float(row["Max Response Time"])}
                for row in csv.DictReader(f)}


def warm_up(base: str, fixture: dict) -> None:
    """One look at each page first: a server in service has imported its modules and opened its pools."""
    import urllib.request

    for path, cookie in ((f"/_brain/signup/{fixture['signup_activity']}", ""),
                         (f"/_brain/door/{fixture['door_activity']}", fixture["cookie"]), ("/m/", "")):
        request = urllib.request.Request(base + path, headers={"Cookie": f"brain_session={cookie}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


def pg_store(base_url: str) -> str:
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    from store.url import normalise_url

    schema = f"bench_door_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(base_url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base_url else "?"
    return f"{normalise_url(base_url)}{sep}options={quote(f'-csearch_path={schema}')}"


def drop_schema(base_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    from store.url import normalise_url

    schema = url.rsplit("search_path%3D", 1)[-1]
    admin = create_engine(normalise_url(base_url))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL URL: the benchmark runs in a new schema there")
    parser.add_argument("--sign-ups", type=int, default=500)
    parser.add_argument("--sign-up-seconds", type=int, default=60)
    parser.add_argument("--phone-sign-ups", type=int, default=500, help="sign-ups on the phone pages (0: none)")
    parser.add_argument("--phone-sign-up-seconds", type=int, default=60)
    parser.add_argument("--check-ins", type=int, default=200)
    parser.add_argument("--check-in-seconds", type=int, default=300)
    parser.add_argument("--users", type=int, default=20, help="phones signing up at once")
    parser.add_argument("--stewards", type=int, default=4, help="stewards scanning at once")
    args = parser.parse_args(argv)
    from tests.browser_support import streamlit_server

    url, engine = fresh_store(args.pg, "door-load")
    backend = "postgresql" if args.pg else "sqlite"
    fixture = CACHE / "door-load.json"
    fixture.write_text(json.dumps(seed(engine, args.sign_ups, args.check_ins, args.phone_sign_ups),
                                  ensure_ascii=False), encoding="utf-8")
    # Every phone comes from this machine's one address: its per-address limits would stop the run.
    env = {"BRAIN_REQUIRE_LOGIN": "1", "BRAIN_ANALYTIC_COPY": "0", "BRAIN_M_PAGES_PER_ADDRESS": "1000000",
           "BRAIN_M_ANSWERS_PER_ADDRESS": "1000000"}
    # (user class, Locust users, requests a second, seconds, {line: Locust's row name})
    runs = [("SignUpUser", args.users, args.sign_ups / args.sign_up_seconds, args.sign_up_seconds,
             {"sign-up": "sign-up"})]
    if args.phone_sign_ups:
        runs.append(("PhoneSignUpUser", args.users, args.phone_sign_ups / args.phone_sign_up_seconds,
                     args.phone_sign_up_seconds, {"phone sign-up": "phone sign-up", "phone pages": "Aggregated"}))
    runs.append(("CheckInUser", args.stewards, args.check_ins / args.check_in_seconds, args.check_in_seconds,
                 {"check-in": "check-in"}))
    lines = {}
    with streamlit_server(url, env=env, timeout=120) as base:
        sampler = Sampler(server_pid(base))
        sampler.start()
        warm_up(base, json.loads(fixture.read_text(encoding="utf-8")))
        rss_before = mib(sampler.max_since(0))
        for user, users, rate, seconds, names in runs:
            since = sampler.now()
            found = locust(base, user, users, rate / users, seconds, fixture, CACHE / f"door-load-{user}", names)
            memory = {"peak_rss_mib": round(mib(sampler.max_since(since)), 1),
                      "hwm_mib": round(mib(_status(sampler.pid).get("VmHWM", 0)), 1)}
            lines.update({line: {**values, **memory} for line, values in found.items()})
        sampler.stop.set()
    counts = act.status_counts(engine, json.loads(fixture.read_text(encoding="utf-8"))["door_activity"])
    engine.dispose()
    if args.pg:
        drop_schema(args.pg, url)
    result = {"backend": backend, "at": clock.now().isoformat(timespec="seconds"), "phones": args.users,
              "stewards": args.stewards, "load_average": os.getloadavg()[0], "rss_after_warm_up_mib": round(rss_before, 1),
              "lines": {name: {**line, "target_p95_ms": TARGETS[name], "met": line["p95_ms"] < TARGETS[name]
                               and line["failures"] == 0} for name, line in lines.items()},
              "checked_in": counts.get("checked_in", 0)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"| line ({backend}) | requests | failures | median ms | p95 ms | p99 ms | target p95 | met "
          f"| server peak RSS MiB | server VmHWM MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, line in result["lines"].items():
        print(f"| {name} | {line['requests']} | {line['failures']} | {line['median_ms']:.0f} | {line['p95_ms']:.0f} "
              f"| {line['p99_ms']:.0f} | {line['target_p95_ms']} | {'yes' if line['met'] else 'NO'} "
              f"| {line['peak_rss_mib']:.0f} | {line['hwm_mib']:.0f} |")
    print(f"server RSS after warm-up: {rss_before:.0f} MiB; load average at the end: {result['load_average']:.1f}")
    return 0 if all(line["met"] for line in result["lines"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
