"""Command-line parsing; each sub-command is a thin call into a library function.

Exit status: 0 when the work was done (an import with rejected rows included),
1 when an input could not be read at all or the store is unavailable, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loaders",
        description="统战大脑 数据工具 · United-Front Brain data tools",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="生成演示数据 · fill a store with realistic synthetic data")
    demo.add_argument("--db", help="database URL (default: DATABASE_URL, secrets, data/brain.db)")
    demo.add_argument("--persons", type=int, default=20_000, help="number of persons (default 20000)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--if-empty", action="store_true", help="only when the store has no persons yet")
    demo.set_defaults(handler="loaders.demo:run_demo_command")

    imp = sub.add_parser("import", help="导入人员或活动签到表 · import spreadsheets")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--db", help="database URL")
    imp.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    imp.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    imp.add_argument("--error-report", metavar="OUT.xlsx", help="write rejected rows with 错误原因")
    imp.add_argument("--kind", choices=["auto", "persons", "participations"], default="auto",
                     help="what the sheets hold (default: tell by the headers)")
    imp.add_argument("--by", default="cli", help="who is importing (recorded in the batch and audit log)")
    imp.set_defaults(handler="loaders.commands:run_import_command")

    firms = sub.add_parser("enterprises", help="导入企业工商、股东、风险数据 · import enterprise registry or vendor exports")
    firms.add_argument("files", nargs="+", metavar="FILE")
    firms.add_argument("--db", help="database URL")
    firms.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    firms.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    firms.add_argument("--error-report", metavar="OUT.xlsx", help="write rejected rows with 错误原因")
    firms.add_argument("--by", default="cli", help="who is importing (recorded in the batch and audit log)")
    firms.set_defaults(handler="loaders.commands:run_enterprises_command")

    fetch = sub.add_parser("enterprise-fetch", help="从企业信息服务查询企业 · look enterprises up in the licensed service")
    fetch.add_argument("codes", nargs="+", metavar="CODE", help="统一社会信用代码")
    fetch.add_argument("--db", help="database URL")
    fetch.add_argument("--force", action="store_true", help="ask the service even within the refresh age")
    fetch.set_defaults(handler="loaders.commands:run_fetch_command")

    sync = sub.add_parser("sync", help="同步其他部门的名单 · apply another department's roster as a change set")
    sync.add_argument("name", help="whose roster, e.g. 区人大 (names the batch and the change set)")
    origin = sync.add_mutually_exclusive_group(required=True)
    origin.add_argument("--sql", metavar="URL", help="the other department's database URL (with --query)")
    origin.add_argument("--json", dest="feed", metavar="URL_OR_FILE", help="a JSON feed: a list of objects")
    sync.add_argument("--query", help="the SQL query giving the roster (its column names as a sheet's headers)")
    sync.add_argument("--db", help="database URL of this store")
    sync.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    sync.add_argument("--print-json", action="store_true", help="one JSON object with the counts")
    sync.add_argument("--by", default="sync", help="who runs it (recorded in the change set and audit log)")
    sync.set_defaults(handler="loaders.commands:run_sync_command")

    undo = sub.add_parser("undo", help="撤销一次导入 · undo an import batch")
    undo.add_argument("batch_id", type=int)
    undo.add_argument("--db", help="database URL")
    undo.add_argument("--by", default="cli")
    undo.set_defaults(handler="loaders.commands:run_undo_command")

    refresh = sub.add_parser("refresh", help="刷新统计 · rebuild summaries after direct writes by other systems")
    refresh.add_argument("--db", help="database URL")
    refresh.set_defaults(handler="loaders.commands:run_refresh_command")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module_name, func_name = args.handler.split(":")
    module = __import__(module_name, fromlist=[func_name])
    from sqlalchemy.exc import OperationalError

    from store.engine import outage_message

    try:
        return int(getattr(module, func_name)(args) or 0)
    except OperationalError as exc:
        print(outage_message(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断 · interrupted", file=sys.stderr)
        return 130
