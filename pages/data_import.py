from ui.auth import guard_page

viewer = guard_page("data_import")

import io
import logging
import math
from pathlib import PurePath

import streamlit as st

from loaders.api import (
    DRY_RUN_SCOPE_NOTICE,
    BatchNotFound,
    ImportProblem,
    UndoRefused,
    UnreadableFile,
    apply_import,
    prepare_import,
    undo_batch,
    write_error_report,
)
from loaders.enterprises import link_persons_by_code
from loaders.plan import READ_FIELDS
from loaders.reference import ALL_FIELDS, IGNORE
from store import mappings
from store.queries.health import recent_batches
from store.queries.imports import batch_effect, same_file_batches
from store.settings import get_setting
from ui.auth import current_scope
from ui.cache import current_data_version, data_changed, get_engine, query
from ui.i18n import t
from ui.markdown import escape_markdown
from ui.tables import MISSING

log = logging.getLogger("brain.import")

HISTORY_PAGE_SIZE = 20
ROWS_SHOWN = 1000
FILE_TYPES = ["xlsx", "xlsm", "xls", "csv"]
# Session keys: the file being reviewed, a message for the next run, the batch awaiting confirmation.
STATE, FLASH, PENDING_UNDO, UPLOADER_GENERATION = "imp_state", "imp_flash", "imp_undo_pending", "imp_uploader_generation"


def status_label(status: str) -> str:
    return t(f"import.status.{status}") if status in ("done", "running", "failed", "undone", "undoing") else status


def field_label(field: str | None) -> str:
    return t(f"import.field.{field}") if field and field != IGNORE else t("import.field.none")


def sheet_title(sheet) -> str:
    """「name」 as markdown text (a sheet name is the workbook author's text)."""
    return t("import.sheet.name", name=escape_markdown(sheet.name)) if sheet.name else t("import.sheet.csv")


def show_flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        kind, text = flash
        getattr(st, kind)(text)


def report_bytes(result) -> bytes:
    buf = io.BytesIO()
    write_error_report(result, buf)
    return buf.getvalue()


def report_button(result, file_name: str, key: str) -> None:
    stem = PurePath(file_name).stem or "import"
    st.download_button(
        t("import.report.download"),
        data=lambda: report_bytes(result),  # built only when clicked
        file_name=f"{stem}-{t('import.report.file')}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key=key,
    )


# ---------------------------------------------------------------- reading the file

def read_file(name: str, data: bytes) -> dict:
    """Plan the file; a saved mapping for any of its headers is applied at once."""
    base = prepare_import(data, name)
    signatures = [mappings.header_signature(c.label for c in s.columns) for s in base.sheets]
    saved = mappings.load_mappings(get_engine(), signatures)
    overrides: dict = {}
    for signature in signatures:
        if signature in saved:
            overrides.update(saved[signature].mapping)
    plan = base
    if overrides:
        try:
            plan = prepare_import(data, name, overrides)
        except (ValueError, UnreadableFile):
            # A saved mapping naming a field this version no longer has: fall back to automatic.
            log.warning("saved mapping not applicable to %s", name, exc_info=True)
            overrides, saved = {}, {}
    auto = {c.label: (None if c.field == IGNORE else c.field) for s in base.sheets for c in s.columns}
    return {"sha": base.sha256, "name": name, "auto": auto, "overrides": overrides, "plan": plan,
            "saved": list(saved.values()), "generation": 0, "dry": None, "dry_version": None}


def state_for(upload) -> dict | None:
    """The reviewed file's state, re-planned only when a different file arrives."""
    limit_mb = get_setting("upload_limit_mb")
    if upload.size > limit_mb * 1024 * 1024:
        st.error(t("import.too_large", size=f"{upload.size / 1024 / 1024:.1f}", mb=limit_mb))
        return None
    data = upload.getvalue()
    state = st.session_state.get(STATE)
    if state is not None and state["name"] == upload.name and state.get("file_id") == upload.file_id:
        return state
    try:
        state = read_file(upload.name, data)
    except UnreadableFile as exc:
        st.session_state.pop(STATE, None)
        st.error(t("import.unreadable", reason=escape_markdown(exc.message)))
        return None
    except Exception:  # a hostile file must never show a traceback
        log.exception("reading %s failed", upload.name)
        st.session_state.pop(STATE, None)
        st.error(t("import.unexpected"))
        return None
    state["file_id"] = upload.file_id
    st.session_state[STATE] = state
    return state


# ---------------------------------------------------------------- sections

def same_file_warning(place, state: dict, result) -> None:
    """The earlier batches of this very file, in `place` (above the sections).

    Whether importing again changes anything is the dry run's answer, not the file's: after
    an undo, or when the store moved on since, the same file writes again.
    """
    earlier = query(same_file_batches, current_scope(), state["sha"], viewer=viewer.name)
    if earlier.empty:
        return
    last = earlier.iloc[0]
    unchanged = result.inserted == 0 and result.updated == 0
    text = t("import.same_file" if unchanged else "import.same_file.changes",
             at=f"{last['imported_at']:%Y-%m-%d %H:%M}", by=escape_markdown(last["imported_by"] or t("import.nobody")),
             batch=int(last["id"]), status=status_label(last["status"]), inserted=f"{result.inserted:,}",
             updated=f"{result.updated:,}")
    if len(earlier) > 1:
        text += " " + t("import.same_file.more", n=len(earlier))
    place.warning(text)


def detected_section(state: dict, upload) -> None:
    plan = state["plan"]
    st.subheader(t("import.detected"))
    for saved in state["saved"]:
        st.success(t("import.mapping.applied", by=escape_markdown(saved.saved_by or t("import.nobody")),
                     at=f"{saved.saved_at:%Y-%m-%d %H:%M}"))
    for notice in plan.notices:
        st.info(escape_markdown(notice))
    for sheet in plan.sheets:
        where = sheet_title(sheet)
        header = "–".join(str(r) for r in sorted({sheet.header_rows[0], sheet.header_rows[-1]}))
        st.markdown("**" + t("import.sheet.summary", where=where, hidden="" if sheet.visible else t("import.sheet.hidden"),
                             header=header, rows=sheet.rows_read) + "**")
        st.dataframe(
            [{"letter": c.letter, "label": c.label, "field": field_label(c.field), "note": c.note or ""}
             for c in sheet.columns if c.label],
            hide_index=True,
            column_config={k: t(f"import.col.{k}") for k in ("letter", "label", "field", "note")},
            placeholder=MISSING,
        )
        if sheet.unmapped:
            st.caption(t("import.sheet.unmapped", labels="、".join(map(escape_markdown, sheet.unmapped))))
    mapping_form(state, upload)


def mapping_form(state: dict, upload) -> None:
    plan = state["plan"]
    unmapped = any(s.unmapped for s in plan.sheets)
    with st.expander(t("import.mapping.title"), expanded=unmapped):
        st.caption(t("import.mapping.help"))
        # "" is "not imported" (a None option cannot be chosen back in tests); an attendance
        # sheet offers its own fields (活动名称 …), a person list the person fields.
        options = ["", *(f for f in ALL_FIELDS if f in READ_FIELDS[plan.content])]
        with st.form(f"imp_mapping_{state['generation']}"):
            chosen: list[tuple[int, str, str | None]] = []
            for s, sheet in enumerate(plan.sheets):
                if len(plan.sheets) > 1:
                    st.markdown(sheet_title(sheet))
                grid = st.columns(4)
                for i, col in enumerate(c for c in sheet.columns if c.label):
                    current = "" if col.field in (None, IGNORE) else col.field
                    value = grid[i % 4].selectbox(
                        t("import.mapping.column", letter=col.letter, label=escape_markdown(col.label)), options,
                        index=options.index(current) if current in options else 0, format_func=field_label,
                        key=f"imp_map_{state['generation']}_{s}_{col.index}")
                    chosen.append((s, col.label, value or None))
            submitted = st.form_submit_button(t("import.mapping.apply"), type="primary")
    if submitted:
        apply_mapping(state, upload, chosen)


def apply_mapping(state: dict, upload, chosen: list[tuple[int, str, str | None]]) -> None:
    """Keep what differs from the automatic mapping, save it per sheet header, and re-plan."""
    per_sheet: dict[int, dict] = {}
    for s, label, value in chosen:
        if value != state["auto"].get(label):
            per_sheet.setdefault(s, {})[label] = value
    overrides = {label: value for mapping in per_sheet.values() for label, value in mapping.items()}
    try:
        plan = prepare_import(upload.getvalue(), upload.name, overrides or None)
    except (ValueError, ImportProblem) as exc:
        st.error(t("import.bad_mapping", reason=escape_markdown(getattr(exc, "message", str(exc)))))
        return
    engine = get_engine()
    for s, sheet in enumerate(state["plan"].sheets):
        mappings.save_mapping(engine, [c.label for c in sheet.columns], per_sheet.get(s, {}), viewer.name)
    state.update(plan=plan, overrides=overrides, saved=[], generation=state["generation"] + 1, dry=None)
    st.session_state[FLASH] = ("success", t("import.mapping.saved" if overrides else "import.mapping.cleared"))
    st.rerun()


def progress_bar(label: str):
    bar = st.progress(0.0, text=label)
    return bar, lambda fraction, message: bar.progress(min(1.0, max(0.0, fraction)), text=f"{label} {message}")


def dry_run(state: dict):
    """The dry run for the current plan, repeated when the store changed since."""
    version = current_data_version()
    if state["dry"] is None or state["dry_version"] != version:
        bar, progress = progress_bar(t("import.dry.running"))
        state["dry"] = apply_import(get_engine(), state["plan"], dry_run=True, imported_by=viewer.name, progress=progress,
                                    scope=current_scope())
        state["dry_version"] = version
        bar.empty()
    return state["dry"]


def summary_section(state: dict, result) -> None:
    st.subheader(t("import.dry.title"))
    keys = ("rows_read", "inserted", "updated", "unchanged", "rejected", "warnings")
    for column, key in zip(st.columns(len(keys)), keys):
        column.metric(t(f"import.metric.{key}"), f"{getattr(result, key):,}")
    if result.rows_read == 0:
        st.warning(t("import.no_rows"))
    if DRY_RUN_SCOPE_NOTICE in result.notices:  # a scoped importer: what this dry run cannot say
        st.info(DRY_RUN_SCOPE_NOTICE)
    if result.errors:
        st.markdown("**" + t("import.rejected.title") + "**")
        st.caption(t("import.rejected.caption", n=f"{len(result.errors):,}"))
        rows_table(result.errors)
        report_button(result, state["name"], key=f"imp_report_{state['generation']}")
    if result.warning_list:
        with st.expander(t("import.warnings.title", n=f"{len(result.warning_list):,}")):
            rows_table(result.warning_list)


def rows_table(rows: list[dict]) -> None:
    st.dataframe(
        rows[:ROWS_SHOWN], hide_index=True,
        column_config={"sheet": t("import.err.sheet"), "row": st.column_config.NumberColumn(t("import.err.row"), format="%d"),
                       "column": t("import.err.column"),
                       "message": st.column_config.TextColumn(t("import.err.message"), width="large")},
        placeholder=MISSING,
    )
    if len(rows) > ROWS_SHOWN:
        st.caption(t("import.rejected.truncated", shown=ROWS_SHOWN))


def commit_section(state: dict, result) -> None:
    accepted = result.inserted + result.updated + result.unchanged
    if accepted == 0:
        st.info(t("import.commit.nothing"))
        return
    if not st.button(t("import.commit", n=f"{accepted:,}"), type="primary", key="imp_commit"):
        return
    bar, progress = progress_bar(t("import.commit.running"))
    try:
        done = apply_import(get_engine(), state["plan"], imported_by=viewer.name, progress=progress,
                            scope=current_scope())
        link_persons_by_code(get_engine(), state["plan"], done, imported_by=viewer.name, scope=current_scope())
    except ImportProblem as exc:
        bar.empty()
        st.error(t("import.commit.failed", reason=escape_markdown(exc.message)))
        return
    data_changed()
    st.session_state[FLASH] = ("success", t(
        "import.committed", file=escape_markdown(done.file), batch=done.batch_id, inserted=done.inserted,
        updated=done.updated, unchanged=done.unchanged, rejected=done.rejected))
    st.session_state.pop(STATE, None)
    # A fresh uploader: the file just imported is not reviewed again.
    st.session_state[UPLOADER_GENERATION] = st.session_state.get(UPLOADER_GENERATION, 0) + 1
    st.rerun()


def history_section() -> None:
    st.subheader(t("import.history.title"))
    scope = current_scope()
    first = query(recent_batches, scope, 0, HISTORY_PAGE_SIZE, viewer=viewer.name)
    if first.total == 0:
        st.info(t("import.history.none"))
        return
    st.caption(t("import.history.caption", n=f"{first.total:,}"))
    pages = math.ceil(first.total / HISTORY_PAGE_SIZE)
    number = st.number_input(t("import.history.page"), 1, pages, 1, key="imp_history_page") if pages > 1 else 1
    batches = query(recent_batches, scope, (number - 1) * HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE,
                    viewer=viewer.name) if number > 1 else first
    rows = batches.rows.to_dict("records")
    st.dataframe(
        [{"batch": r["id"], "file": r["file_name"], "at": r["imported_at"], "by": r["imported_by"],
          "rows_read": r["rows_read"], "inserted": r["inserted"], "updated": r["updated"],
          "unchanged": r["unchanged"], "rejected": r["rejected"], "status": status_label(r["status"])} for r in rows],
        hide_index=True,
        column_config={
            "batch": st.column_config.NumberColumn(t("import.col.batch"), format="%d"),
            "at": st.column_config.DatetimeColumn(t("import.col.at"), format="YYYY-MM-DD HH:mm"),
            **{k: t(f"import.col.{k}") for k in ("file", "by", "rows_read", "inserted", "updated", "unchanged",
                                                  "rejected", "status")},
        },
        placeholder=MISSING,
    )
    undo_section([r for r in rows if r["status"] == "done"])


def undo_section(undoable: list[dict]) -> None:
    if not undoable:
        st.caption(t("import.undo.none"))
        return
    by_id = {int(r["id"]): r for r in undoable}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    batch = left.selectbox(t("import.undo.choose"), list(by_id), key="imp_undo_choice",
                           format_func=lambda b: t("import.undo.option", batch=b, file=by_id[b]["file_name"],
                                                   at=f"{by_id[b]['imported_at']:%Y-%m-%d %H:%M}"))
    if right.button(t("import.undo.button"), key="imp_undo"):
        st.session_state[PENDING_UNDO] = batch
    pending = st.session_state.get(PENDING_UNDO)
    if pending is None or pending not in by_id:
        return
    row = by_id[pending]
    effect = query(batch_effect, pending)  # what this kind of batch changed: persons, or sign-ups and activities
    confirm = "import.undo.confirm" if effect.kind == "persons" else "import.undo.confirm.participations"
    st.warning(t(confirm, batch=pending, file=escape_markdown(row["file_name"]), inserted=effect.inserted,
                 updated=effect.updated, activities=effect.activities))
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button(t("import.undo.yes"), type="primary", key="imp_undo_yes"):
        st.session_state.pop(PENDING_UNDO, None)
        try:
            done = undo_batch(get_engine(), pending, actor=viewer.name, scope=current_scope())
        except (UndoRefused, BatchNotFound) as exc:
            st.session_state[FLASH] = ("error", t("import.undo.refused", reason=escape_markdown(exc.message)))
        else:
            data_changed()
            done_key = "import.undo.done" if done.kind == "persons" else "import.undo.done.participations"
            st.session_state[FLASH] = ("success", t(done_key, batch=done.batch_id, removed=done.removed,
                                                    restored=done.restored))
        st.rerun()
    if no.button(t("import.undo.no"), key="imp_undo_no"):
        st.session_state.pop(PENDING_UNDO, None)
        st.rerun()


# ---------------------------------------------------------------- the page

st.title(t("page.data_import"))
st.caption(t("import.caption"))
show_flash()
limit = get_setting("upload_limit_mb")
upload = st.file_uploader(t("import.upload.label"), type=FILE_TYPES, max_upload_size=limit,
                          help=t("import.upload.help", mb=limit),
                          key=f"imp_upload_{st.session_state.get(UPLOADER_GENERATION, 0)}")
if upload is None:
    st.session_state.pop(STATE, None)
else:
    reviewed = state_for(upload)
    if reviewed is not None:
        earlier_notice = st.empty()
        detected_section(reviewed, upload)
        outcome = dry_run(reviewed)
        same_file_warning(earlier_notice, reviewed, outcome)
        summary_section(reviewed, outcome)
        commit_section(reviewed, outcome)
history_section()
