"""CLI handlers for `python -m loaders import|undo|refresh`: thin calls into the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from loaders.api import apply_import, prepare_import, undo_batch, write_error_report
from loaders.enterprises import link_persons_by_code
from loaders.errors import ImportProblem, UnreadableFile


def _open(url):
    from store.engine import open_store

    return open_store(url)


def _report_path(base: str, file: str, many: bool) -> Path:
    out = Path(base)
    if not many:
        return out
    return out.with_name(f"{out.stem}-{Path(file).stem}{out.suffix}")


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹，不是文件 · this is a folder, not a file"
    if isinstance(exc, FileNotFoundError):
        return "找不到文件 · file not found"
    return exc.message


def run_import_command(args) -> int:
    engine = _open(args.db)
    status = 0
    many = len(args.files) > 1
    try:
        for file in args.files:
            try:
                plan = prepare_import(file, kind=getattr(args, "kind", "auto"))
                result = apply_import(engine, plan, dry_run=args.dry_run, imported_by=args.by)
                link_persons_by_code(engine, plan, result, imported_by=args.by, dry_run=args.dry_run)
            except (FileNotFoundError, IsADirectoryError, UnreadableFile) as exc:
                print(f"{file}: {_unreadable(exc)}", file=sys.stderr)
                status = 1
                continue
            report = None
            if args.error_report:
                report = _report_path(args.error_report, file, many)
                write_error_report(result, report)
            if args.json:
                print(json.dumps(result.to_json(), ensure_ascii=False, default=str), flush=True)
                for notice in result.notices:
                    print(f"{file}: {notice}", file=sys.stderr)
            else:
                print(format_result(result, report))
    finally:
        engine.dispose()
    return status


def format_result(result, report=None) -> str:
    """The human-readable table for one file."""
    lines = [f"文件 · file: {result.file}" + ("   （演练，未写入 · dry run, nothing written）" if result.dry_run else "")]
    if result.content == "participations":
        lines.append("  类型 · kind: 活动报名/签到表 · participations (counts are participations)")
    for sheet in result.sheets:
        where = f"工作表 sheet {sheet.name}" if sheet.name else "CSV"
        rows = "-".join(str(r) for r in (sheet.header_rows[0], sheet.header_rows[-1])) \
            if len(sheet.header_rows) > 1 else str(sheet.header_row)
        mapped = ", ".join(f"{label}→{fld}" for label, fld in sheet.mapping.items())
        lines.append(f"  {where}: 表头行 header row {rows}; {sheet.rows_read} 行 rows; {mapped}")
        if sheet.unmapped:
            lines.append(f"    未识别的列 · unmapped: {', '.join(sheet.unmapped)}")
    for notice in result.notices:
        lines.append(f"  ! {notice}")
    counts = [("读取 rows_read", result.rows_read), ("新增 inserted", result.inserted),
              ("更新 updated", result.updated), ("未变 unchanged", result.unchanged),
              ("拒绝 rejected", result.rejected), ("警告 warnings", result.warnings),
              ("人员总数 persons_total", result.persons_total), ("批次 batch_id", result.batch_id)]
    width = max(len(k) for k, _ in counts)
    for key, value in counts:
        lines.append(f"  {key:<{width}}  {'-' if value is None else value}")
    for title, entries in (("被拒绝的行 · rejected rows:", result.errors), ("警告 · warnings:", result.warning_list)):
        if entries:
            lines.append(f"  {title}")
            lines.extend(_entry_lines(entries))
    if report:
        lines.append(f"  错误报告 · error report: {report}")
    return "\n".join(lines)


def _entry_lines(entries: list[dict], shown: int = 50) -> list[str]:
    """`errors` or `warning_list` entries, one line each, the first `shown` of them."""
    lines = []
    for entry in entries[:shown]:
        where = f"{entry['sheet']}!" if entry["sheet"] else ""
        lines.append(f"    {where}第 {entry['row']} 行 row {entry['row']} [{entry['column'] or '-'}] {entry['message']}")
    if len(entries) > shown:
        lines.append(f"    … 另有 {len(entries) - shown} 条 · {len(entries) - shown} more")
    return lines


def run_enterprises_command(args) -> int:
    from loaders.enterprises import (apply_enterprise_import, prepare_enterprise_import, result_line, to_json_line,
                                     write_enterprise_error_report)

    engine = _open(args.db)
    status = 0
    try:
        for file in args.files:
            try:
                result = apply_enterprise_import(engine, prepare_enterprise_import(file), dry_run=args.dry_run,
                                                 imported_by=args.by)
            except (FileNotFoundError, IsADirectoryError, UnreadableFile) as exc:
                print(f"{file}: {_unreadable(exc)}", file=sys.stderr)
                status = 1
                continue
            if args.error_report:
                write_enterprise_error_report(result, _report_path(args.error_report, file, len(args.files) > 1))
            print(to_json_line(result) if args.json else result_line(result), flush=True)
            if not args.json:
                print("\n".join(_entry_lines(result.errors)))
            for notice in result.notices:
                print(f"{file}: {notice}", file=sys.stderr)
    finally:
        engine.dispose()
    return status


def run_fetch_command(args) -> int:
    from loaders.provider import EnterpriseProvider, ProviderProblem, provider_config
    from store.credit_code import InvalidCreditCode

    config = provider_config()
    if config is None:
        print("未配置企业信息服务：请在 .streamlit/secrets.toml 的 [enterprise_provider] 中填写 url · "
              "the enterprise-data service is not configured ([enterprise_provider] url in the secrets)",
              file=sys.stderr)
        return 1
    engine = _open(args.db)
    status = 0
    try:
        provider = EnterpriseProvider(engine, config, actor="cli")
        for code in args.codes:
            try:
                found = provider.lookup(code, force=args.force)
            except (InvalidCreditCode, ProviderProblem) as exc:
                print(f"{code}: {getattr(exc, 'message', exc)}", file=sys.stderr)
                status = 1
                continue
            print(f"{found.code}\t{found.outcome}\t{found.enterprise_id or ''}")
    finally:
        engine.dispose()
    return status


def run_sync_command(args) -> int:
    from loaders.sync import apply_sync, prepare_sync, roster_from_json, roster_from_sql, sync_line

    if args.sql and not args.query:
        print("--sql 需要 --query · --sql needs --query", file=sys.stderr)
        return 2
    engine = _open(args.db)
    try:
        columns, rows = roster_from_sql(args.sql, args.query) if args.sql else roster_from_json(args.feed)
        result = apply_sync(engine, prepare_sync(args.name, columns, rows), args.name, actor=args.by,
                            dry_run=args.dry_run)
    except UnreadableFile as exc:
        print(f"{args.name}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if args.print_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    else:
        print(sync_line(result))
        for error in result.errors[:50]:
            print(f"    第 {error['row']} 条 record {error['row']}: {error['message']}")
    for notice in result.notices:
        print(f"{args.name}: {notice}", file=sys.stderr)
    return 0


def run_undo_command(args) -> int:
    engine = _open(args.db)
    try:
        result = undo_batch(engine, args.batch_id, actor=args.by)
    except ImportProblem as exc:
        print(exc.message, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if result.kind == "changes":
        print(f"已撤销第 {result.batch_id} 批：还原 {result.changes} 项 · "
              f"undid batch {result.batch_id}: {result.changes} changes put back")
        return 0
    if result.kind == "participations":
        print(f"已撤销第 {result.batch_id} 批：删除新增的活动记录 {result.removed} 条，恢复 {result.restored} 条 · "
              f"undid batch {result.batch_id}: removed {result.removed} participations, restored {result.restored}")
        return 0
    print(f"已撤销第 {result.batch_id} 批：删除新增 {result.removed} 人，恢复 {result.restored} 人 · "
          f"undid batch {result.batch_id}: removed {result.removed} inserted, restored {result.restored} updated")
    return 0


def run_refresh_command(args) -> int:
    from store.copy_delta import ask_full_refresh

    engine = _open(args.db)
    try:
        with engine.begin() as conn:
            ask_full_refresh(conn)
    finally:
        engine.dispose()
    print("已刷新 · refreshed")
    return 0
