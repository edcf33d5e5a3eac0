"""Import benchmark: a realistic 100k-row workbook into SQLite (and PostgreSQL when given).

    .venv/bin/python bench/import_bench.py [--rows 100000] [--pg postgresql+psycopg://…] [--file PATH]

Every figure is measured in this run, each phase in a fresh subprocess so peak memory
(ru_maxrss) belongs to that phase alone: the python-calamine read of the file (the
floor), our import into an empty store, and re-importing the same file (all unchanged).
The ratio is of the work on the file; each phase's module loading is shown apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADERS = ["序号", "姓　名", "性别", "民族", "出生年月（例：1975.03）", "公民身份号码", "手机号码", "政治面貌",
           "统战对象类别", "所属区县", "街道", "工作单位", "现任职务", "学历", "职称", "标签", "工作阶段",
           "推荐来源", "备注", "籍贯"]


def _id_number(rng: random.Random, born: dt.date, male: bool) -> str:
    from loaders.normalise import id_check_digit

    area = rng.choice(["330102", "330105", "330106", "330108", "330109", "330110"])
    seq = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def _unique(used: set, make) -> str:
    # One person per ID number, so the re-import is truly "all unchanged".
    value = make()
    while value in used:
        value = make()
    used.add(value)
    return value


def build_workbook(path: Path, rows: int, seed: int = 42) -> None:
    """100k people the way a district office sends them: title row, odd spacing, mixed formats."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌宇浩然子涵欣怡梓轩一诺雨桐"
    categories = ["民主党派成员", "（二）无党派人士", "党外知识分子", "少数民族", "宗教界人士", "6.非公经济人士",
                  "新阶层", "留学人员", "港澳同胞", "台胞台属", "侨界", "其他"]
    parties = ["民革党员", "民盟盟员", "民建会员", "民进会员", "农工党党员", "致公党党员", "九三学社社员", "群众",
               "无党派人士", "中共党员", ""]
    districts = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山", "余杭区", "临平区", "钱塘区", "杭州市富阳区", "下城区"]
    streets = ["湖滨街道", "小营街道", "米市巷街道", "北山街道", "西兴街道", "城厢街道", "五常街道", "临平街道", "白杨街道", ""]
    tags = ["人大代表", "政协委员", "青年", "女性", "海归", "专家", "企业家", "律师", "医生", "教师"]
    stages = ["发现", "培养", "使用", "管理", ""]
    used_ids: set[str] = set()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人员名单")
    ws.append(["杭州市某区党外代表人士信息汇总表"])
    ws.append(HEADERS)
    for i in range(rows):
        male = rng.random() < 0.55
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 50))
        name = rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.choice([1, 2])))
        if rng.random() < 0.05:
            name = name[0] + "　" + name[1:]
        birth = rng.choice([born, born.strftime("%Y.%m"), born.strftime("%Y-%m-%d"), born.strftime("%Y年%m月")])
        ws.append([
            i + 1, name, "男" if male else "女", rng.choice(["汉族", "汉", "回族", "畲族", "满族"]), birth,
            _unique(used_ids, lambda: _id_number(rng, born, male)) if rng.random() < 0.97 else "",
            f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}" if rng.random() < 0.9 else "",
            rng.choice(parties), rng.choice(categories), rng.choice(districts), rng.choice(streets),
            f"杭州{rng.choice(['数字', '智能', '新材料', '医药', '文创'])}{rng.choice(['科技', '发展', '咨询'])}有限公司{rng.randrange(1, 500)}",
            rng.choice(["董事长", "总经理", "主任医师", "教授", "律师", "工程师", ""]),
            rng.choice(["本科", "硕士研究生", "博士研究生", "大专"]), rng.choice(["高级工程师", "副教授", "", "主任医师"]),
            "、".join(rng.sample(tags, rng.randrange(0, 3))), rng.choice(stages),
            rng.choice(["街道推荐", "统战部摸排", "单位推荐", ""]), "", rng.choice(["浙江杭州", "浙江宁波", "江苏苏州"]),
        ])
    ws.append(["填表人：张三", "", "审核人：李四"])
    wb.save(path)


def _cpu() -> float:
    # The workbook is parsed in a child process (loaders/workbook.py): its CPU is the import's too.
    return sum(u.ru_utime + u.ru_stime
               for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(args) -> None:
    """One measured phase, run in its own process; prints a JSON line.

    Loading the phase's Python modules is timed apart ("modules"): a running app has
    them loaded when staff import, and a CLI run pays it once, whatever the file.
    """
    started = time.perf_counter()
    if args.phase == "floor":
        import python_calamine
    else:
        from loaders.api import apply_import, prepare_import, undo_batch
        from store.engine import create_store_engine
    modules = time.perf_counter() - started
    start = time.perf_counter()
    cpu_start = _cpu()
    out: dict = {}
    if args.phase == "floor":
        wb = python_calamine.CalamineWorkbook.from_path(args.file)
        n = 0
        for name in wb.sheet_names:
            n += len(wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
        out["rows"] = n
    elif args.phase == "undo":
        # The first batch: the re-import after it changed nothing, so nothing blocks its undo.
        engine = create_store_engine(args.db)
        result = undo_batch(engine, 1, actor="bench")
        out = {"removed": result.removed, "restored": result.restored}
        engine.dispose()
    else:
        engine = create_store_engine(args.db)
        plan = prepare_import(args.file)
        result = apply_import(engine, plan, imported_by="bench")
        out = {k: v for k, v in result.to_json().items() if k not in ("errors", "warning_list")}
        engine.dispose()
    out["seconds"] = time.perf_counter() - start
    out["cpu"] = _cpu() - cpu_start
    out["modules"] = modules
    out["peak_mb"] = _maxrss_mb()
    print(json.dumps(out))


def _run_phase(name: str, file: Path, db: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--phase", name, "--file", str(file)] + (["--db", db] if db else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fresh_store(backend: str, pg_url: str | None, tmp: Path) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    from store.engine import create_store_engine
    from store.migrate import upgrade_to_head
    from store.url import normalise_url

    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
        cleanup = lambda: None  # noqa: E731
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        base = normalise_url(pg_url)
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"

        def cleanup():
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    engine.dispose()
    return url, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", help="workbook to use (built, and cached, when missing)")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL"), help="PostgreSQL URL (optional)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase(args)
        return
    file = Path(args.file or Path(tempfile.gettempdir()) / f"import_bench_{args.rows}.xlsx")
    if not file.exists():
        t = time.perf_counter()
        build_workbook(file, args.rows)
        print(f"built {file} ({file.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    floor = _run_phase("floor", file)
    table = [("python-calamine read (floor)", "-", floor, None)]
    backends = ["sqlite"] + (["postgresql"] if args.pg else [])
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            url, cleanup = _fresh_store(backend, args.pg, Path(tmp))
            try:
                first = _run_phase("import", file, url)
                again = _run_phase("import", file, url)
                undone = _run_phase("undo", file, url)
            finally:
                cleanup()
            table.append(("import, empty store", backend, first, first["seconds"] / floor["seconds"]))
            table.append(("re-import (all unchanged)", backend, again, again["seconds"] / floor["seconds"]))
            table.append(("undo of the first import", backend, undone, undone["seconds"] / floor["seconds"]))
    rows = floor["rows"]
    print(f"\n{rows} rows incl. header/title/notes; {file.stat().st_size / 1e6:.1f} MB\n")
    # Wall time is what staff wait for; CPU time (user+sys of that process) is also shown
    # because on a shared machine the wall clock mostly measures the neighbours.
    # "with modules" adds the one-off module loading a CLI run pays (the floor's own import
    # of python-calamine included), for comparison.
    print(f"| {'phase':<28} | {'store':<10} | {'wall s':>7} | {'× floor':>7} | {'cpu s':>6} | {'cpu ×':>5} "
          f"| {'modules s':>9} | {'× floor with modules':>20} | {'rows/s':>7} | {'peak MB':>7} | counts |")
    print(f"|{'-' * 30}|{'-' * 12}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 7}|{'-' * 11}|{'-' * 22}|{'-' * 9}"
          f"|{'-' * 9}|--------|")
    floor_total = floor["seconds"] + floor["modules"]
    for label, backend, m, ratio in table:
        counts = f"removed {m['removed']} restored {m['restored']}" if "removed" in m else "" if "inserted" not in m \
            else f"ins {m['inserted']} upd {m['updated']} unch {m['unchanged']} rej {m['rejected']}"
        cpu_ratio = "" if ratio is None else f"{m['cpu'] / floor['cpu']:.2f}"
        with_modules = "" if ratio is None else f"{(m['seconds'] + m['modules']) / floor_total:.2f}"
        print(f"| {label:<28} | {backend:<10} | {m['seconds']:>7.2f} | {'' if ratio is None else f'{ratio:.2f}':>7} "
              f"| {m['cpu']:>6.2f} | {cpu_ratio:>5} | {m['modules']:>9.2f} | {with_modules:>20} "
              f"| {rows / m['seconds']:>7.0f} | {m['peak_mb']:>7.0f} | {counts} |")


if __name__ == "__main__":
    main()
