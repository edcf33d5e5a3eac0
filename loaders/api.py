"""The importer's public API, shared by `python -m loaders` and the import page.

    plan = prepare_import(path_or_bytes, file_name, mapping_overrides=None, kind="auto")   # no database
    result = apply_import(engine, plan, dry_run=False, imported_by="...", progress=callback)
    write_error_report(result_or_plan, "rejected.xlsx")
    undo_batch(engine, batch_id, actor="...")
"""

from loaders.apply import DRY_RUN_SCOPE_NOTICE, ImportResult, apply_import, match_person
from loaders.errors import (
    BatchNotFound,
    CorruptFile,
    EmptyFile,
    ImportProblem,
    InvalidDate,
    InvalidIdNumber,
    NoHeaderFound,
    PasswordProtected,
    PrecisionLost,
    SheetTooLarge,
    SuspiciousArchive,
    UndoRefused,
    UnknownCategory,
    UnknownEncoding,
    UnknownStatus,
    UnreadableFile,
    WrongFileType,
)
from loaders.attendance import next_status
from loaders.enterprises import link_persons_by_code
from loaders.plan import (
    KINDS,
    PARTICIPATIONS,
    PERSONS,
    ColumnInfo,
    ImportPlan,
    RowPlan,
    SheetInfo,
    SkippedSheet,
    find_header,
    map_columns,
    prepare_import,
)
from loaders.read import read_sheets
from loaders.report import write_error_report
from loaders.undo import UndoResult, undo_batch


def import_file(engine, source, file_name=None, *, dry_run=False, imported_by=None, mapping_overrides=None,
                progress=None, kind="auto") -> ImportResult:
    """prepare_import + apply_import in one call; `kind` is auto, persons or participations.

    A person sheet's 统一社会信用代码 column links its persons to stored enterprises afterwards."""
    plan = prepare_import(source, file_name, mapping_overrides, kind=kind)
    result = apply_import(engine, plan, dry_run=dry_run, imported_by=imported_by, progress=progress)
    link_persons_by_code(engine, plan, result, imported_by=imported_by, dry_run=dry_run)
    return result


__all__ = [
    "BatchNotFound", "ColumnInfo", "DRY_RUN_SCOPE_NOTICE", "CorruptFile", "EmptyFile", "ImportPlan", "ImportProblem", "ImportResult",
    "InvalidDate", "InvalidIdNumber", "KINDS", "PARTICIPATIONS", "PERSONS", "UnknownStatus", "next_status", "NoHeaderFound", "PasswordProtected", "PrecisionLost", "RowPlan", "SheetInfo",
    "SheetTooLarge", "SkippedSheet", "SuspiciousArchive", "UndoRefused", "UndoResult", "UnknownCategory", "UnknownEncoding",
    "UnreadableFile", "WrongFileType", "apply_import", "find_header", "import_file", "map_columns",
    "match_person", "prepare_import", "read_sheets", "undo_batch", "write_error_report",
]
