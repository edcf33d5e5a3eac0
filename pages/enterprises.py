"""企业数据: suggested person–enterprise links for staff to confirm, and (admins) importing registry exports."""

from ui.auth import guard_page

viewer = guard_page("enterprises")

import math

import streamlit as st

from loaders.enterprises import (
    apply_enterprise_import,
    prepare_enterprise_import,
    write_enterprise_error_report,
)
from loaders.errors import ImportProblem, UnreadableFile
from loaders.undo import undo_batch
from store.queries import enterprises as qe
from store.settings import get_setting
from ui.cache import data_changed, get_engine, query
from ui.enterprises import FLASH, decide_link, show_flash
from ui.i18n import t
from ui.markdown import escape_markdown
from ui.tables import table

PAGE_SIZE = 20


def suggestions_section() -> None:
    st.subheader(t("enterprises.suggestions"))
    first = query(qe.link_suggestions, viewer.scope, 0, PAGE_SIZE)
    st.caption(t("enterprises.suggestions.caption", n=f"{first.total:,}"))
    if first.total == 0:
        st.info(t("enterprises.suggestions.none"))
        return
    pages = max(1, math.ceil(first.total / PAGE_SIZE))
    page_no = int(st.number_input(t("health.page"), min_value=1, max_value=pages, value=1, key="ent_page")) \
        if pages > 1 else 1
    page = query(qe.link_suggestions, viewer.scope, (page_no - 1) * PAGE_SIZE, PAGE_SIZE) if page_no > 1 else first
    for s in page.rows.itertuples():
        with st.container(border=True, key=f"ent_suggestion_{s.link_id}"):
            left, yes, no = st.columns([6, 1, 1], vertical_alignment="center")
            risk = " · " + t("enterprise.risk_warning", n=int(s.risks)) if s.risks else ""
            left.markdown(t("enterprises.suggestion", person=escape_markdown(s.person),
                            organization=escape_markdown(s.organization), enterprise=escape_markdown(s.enterprise),
                            code=s.credit_code, role=t(f"enterprise.role.{s.role}"), confidence=s.confidence) + risk)
            yes.button(t("enterprise.confirm"), key=f"ent_confirm_{s.link_id}", on_click=decide_link,
                       args=(int(s.link_id), True), type="primary")
            no.button(t("enterprise.dismiss"), key=f"ent_dismiss_{s.link_id}", on_click=decide_link,
                      args=(int(s.link_id), False))


def import_section() -> None:
    st.subheader(t("enterprises.import"))
    st.caption(t("enterprises.import.caption"))
    limit = get_setting("upload_limit_mb")
    upload = st.file_uploader(t("import.upload.label"), type=["xlsx", "xlsm", "xls", "csv"], max_upload_size=limit,
                              key=f"ent_upload_{st.session_state.get('ent_generation', 0)}")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        plan = prepare_enterprise_import(data, upload.name)
    except UnreadableFile as exc:
        st.error(escape_markdown(exc.message))
        return
    dry = apply_enterprise_import(get_engine(), plan, dry_run=True, imported_by=viewer.name, scope=viewer.scope)
    a, b, c, d = st.columns(4)
    a.metric(t("enterprises.rows"), f"{dry.rows_read:,}")
    b.metric(t("enterprises.new"), f"{dry.inserted:,}")
    c.metric(t("enterprises.changed"), f"{dry.updated:,}")
    d.metric(t("enterprises.rejected"), f"{dry.rejected:,}")
    for notice in dry.notices:
        st.info(escape_markdown(notice))
    if dry.errors:
        table(dry.errors, column_config={"sheet": t("enterprises.col.sheet"), "row": t("enterprises.col.row"),
                                         "column": t("enterprises.col.column"),
                                         "message": t("enterprises.col.message")})
        st.download_button(t("enterprises.report"), report_bytes(dry), file_name="企业数据-错误行.xlsx",
                           key="ent_report")
    if dry.warning_list:
        with st.expander(t("enterprises.warnings", n=len(dry.warning_list))):
            table(dry.warning_list)
    accepted = dry.inserted + dry.updated + dry.unchanged
    if accepted and st.button(t("enterprises.commit", n=f"{accepted:,}"), type="primary", key="ent_commit"):
        try:
            done = apply_enterprise_import(get_engine(), plan, imported_by=viewer.name, scope=viewer.scope)
        except ImportProblem as exc:
            st.error(escape_markdown(exc.message))
            return
        data_changed()
        st.session_state[FLASH] = ("success", t("enterprises.committed", batch=done.batch_id, inserted=done.inserted,
                                                updated=done.updated, rejected=done.rejected,
                                                links=done.links_suggested))
        st.session_state["ent_generation"] = st.session_state.get("ent_generation", 0) + 1
        st.rerun()


def report_bytes(result) -> bytes:
    import io

    buf = io.BytesIO()
    write_enterprise_error_report(result, buf)
    return buf.getvalue()


def batches_section() -> None:
    st.subheader(t("enterprises.batches"))
    batches = query(qe.change_set_batches, PAGE_SIZE)
    if batches.empty:
        st.caption(t("enterprises.batches.none"))
        return
    table(batches, column_config={"batch_id": t("enterprises.col.batch"), "file_name": t("enterprises.col.file"),
                                  "imported_at": st.column_config.DatetimeColumn(t("enterprises.col.at"),
                                                                                 format="YYYY-MM-DD HH:mm"),
                                  "imported_by": t("enterprises.col.by"), "status": t("enterprises.col.status")})
    done = batches[batches["status"] == "done"]["batch_id"].tolist()
    if not done:
        return
    pick, go = st.columns([2, 1], vertical_alignment="bottom")
    batch = pick.selectbox(t("enterprises.undo.pick"), done, key="ent_undo_pick")
    if go.button(t("enterprises.undo"), key="ent_undo"):
        try:
            outcome = undo_batch(get_engine(), int(batch), viewer.name, scope=viewer.scope)
        except ImportProblem as exc:
            st.error(escape_markdown(exc.message))
            return
        data_changed()
        st.session_state[FLASH] = ("success", t("enterprises.undone", batch=batch, n=outcome.changes))
        st.rerun()


st.title(t("page.enterprises"))
st.caption(t("enterprises.caption"))
show_flash()
suggestions_section()
if viewer.role == "admin":
    import_section()
    batches_section()
