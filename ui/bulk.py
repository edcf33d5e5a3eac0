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
from ui.filters import clear_ticks
from ui.i18n import t
from ui.markdown import escape_markdown

ACTIONS = ("tag_add", "tag_remove", "stage")


def bulk_actions(flt: PersonFilter, matched: int, ticked: list[int] | None = None) -> None:
    """A form under the list, for the filtered set or the rows ticked in it; the confirmation
    states how many persons the action targets."""
    viewer = current_viewer()
    ticked = ticked or []
    if viewer.role not in ("staff", "admin") or (matched == 0 and not ticked):
        return
    if done := st.session_state.pop("bulk_flash", None):
        st.success(done)
        # Applied once: doing it again takes a new confirmation.
        st.session_state["bulk_sure"] = False
    title = t("bulk.title_ticked", k=f"{len(ticked):,}", n=f"{matched:,}") if ticked else \
        t("bulk.title", n=f"{matched:,}")
    with st.expander(title, expanded=bool(ticked)):
        on_ticked = False
        if ticked:
            # Outside the form: the confirmation below names the count of the target chosen here.
            on_ticked = st.radio(t("bulk.target"), (True, False), horizontal=True, key="bulk_on_ticked",
                                 format_func=lambda yes: t("bulk.target.ticked", k=f"{len(ticked):,}") if yes
                                 else t("bulk.target.filtered", n=f"{matched:,}"))
        targets = len(ticked) if on_ticked else matched
        with st.form("bulk_form"):
            action = st.selectbox(t("bulk.action"), ACTIONS, format_func=lambda a: t(f"bulk.{a}"), key="bulk_action")
            name = st.text_input(t("bulk.tag"), key="bulk_tag")
            stage = st.selectbox(t("bulk.stage"), STAGES, format_func=lambda s: t(f"lifecycle.stage.{s}"),
                                 key="bulk_stage")
            reason = st.text_input(t("people.reason"), key="bulk_reason")
            sure = st.checkbox(t("bulk.confirm", n=f"{targets:,}"), key="bulk_sure")
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
    # Ticked rows are re-checked against the scope by the write path (ChangeSet.in_scope).
    ids = list(ticked) if on_ticked else q.matching_ids(engine, viewer.scope, flt, clock.today())
    try:
        with ch.change_set_of(engine, "staff", viewer.name, reason or None, scope=viewer.scope,
                              detail={"bulk": action, "targets": len(ids),
                                      "selected": "ticked" if on_ticked else "filter"}) as cs:
            if action == "stage":
                n = cs.move_stage_many(ids, stage, note=reason or None)
            else:
                n = cs.tag_many(ids, name, add=action == "tag_add", create=viewer.role == "admin")
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    data_changed()
    if on_ticked:
        clear_ticks()
    st.session_state["bulk_flash"] = t("bulk.done", n=f"{n:,}", set=cs.id)
    st.rerun()
