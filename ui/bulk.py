"""Bulk actions on the explorer's filtered set: add or remove a tag, move stage — one undoable change set."""

from __future__ import annotations

import streamlit as st

from store import changes as ch
from store import clock
from store.filters import PersonFilter
from store.queries import explorer as q
from store.schema import STAGES
from ui.auth import current_viewer
from ui.cache import data_changed, get_engine
from ui.i18n import t

ACTIONS = ("tag_add", "tag_remove", "stage")


def bulk_actions(flt: PersonFilter, matched: int) -> None:
    """A form under the list; the confirmation states how many persons the action targets."""
    viewer = current_viewer()
    if viewer.role not in ("staff", "admin") or matched == 0:
        return
    if done := st.session_state.pop("bulk_flash", None):
        st.success(done)
        # Applied once: doing it again takes a new confirmation.
        st.session_state["bulk_sure"] = False
    with st.expander(t("bulk.title", n=f"{matched:,}")):
        with st.form("bulk_form"):
            action = st.selectbox(t("bulk.action"), ACTIONS, format_func=lambda a: t(f"bulk.{a}"), key="bulk_action")
            name = st.text_input(t("bulk.tag"), key="bulk_tag")
            stage = st.selectbox(t("bulk.stage"), STAGES, format_func=lambda s: t(f"lifecycle.stage.{s}"),
                                 key="bulk_stage")
            reason = st.text_input(t("people.reason"), key="bulk_reason")
            sure = st.checkbox(t("bulk.confirm", n=f"{matched:,}"), key="bulk_sure")
            submitted = st.form_submit_button(t("bulk.apply"), type="primary")
    if not submitted:
        return
    if not sure:
        st.warning(t("bulk.unconfirmed"))
        return
    if action != "stage" and not name.strip():
        st.warning(t("bulk.no_tag"))
        return
    engine = get_engine()
    ids = q.matching_ids(engine, viewer.scope, flt, clock.today())
    try:
        with ch.change_set_of(engine, "staff", viewer.name, reason or None, scope=viewer.scope,
                              detail={"bulk": action, "targets": len(ids)}) as cs:
            if action == "stage":
                n = cs.move_stage_many(ids, stage, note=reason or None)
            else:
                n = cs.tag_many(ids, name, add=action == "tag_add", create=viewer.role == "admin")
    except ch.WriteRefused as refused:
        st.error(str(refused))
        return
    data_changed()
    st.session_state["bulk_flash"] = t("bulk.done", n=f"{n:,}", set=cs.id)
    st.rerun()
