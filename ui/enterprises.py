"""A person's enterprise card: the linked enterprises, their shareholders and risk records."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from store import changes as ch
from store import enterprises as ent
from store.queries.enterprises import EnterpriseCard
from ui.auth import current_viewer
from ui.cache import data_changed, get_engine
from ui.i18n import t
from ui.markdown import escape_markdown
from ui.tables import table


def _fact(label: str, value) -> str:
    return f"**{t(label)}**  \n{escape_markdown('' if value is None or pd.isna(value) else value)}"


FLASH = "enterprise_flash"


def decide_link(link_id: int, confirm: bool) -> None:
    """A suggested link confirmed or dismissed by staff: one change set of theirs, undoable from the history.

    A button callback; the outcome waits in the session for `show_flash`."""
    viewer = current_viewer()
    try:
        with ch.change_set_of(get_engine(), "staff", viewer.name, scope=viewer.scope) as cs:
            (ent.confirm_link if confirm else ent.dismiss_link)(cs, link_id)
    except ch.WriteRefused as refused:
        st.session_state[FLASH] = ("error", escape_markdown(str(refused)))
        return
    data_changed()
    st.session_state[FLASH] = ("success", t("enterprise.confirmed_done" if confirm else "enterprise.dismissed_done"))


def show_flash() -> None:
    if flash := st.session_state.pop(FLASH, None):
        getattr(st, flash[0])(flash[1])


def enterprise_card(card: EnterpriseCard) -> None:
    st.markdown(f"**{t('enterprise.card')}**")
    show_flash()
    may_decide = current_viewer().role in ("staff", "admin")
    if card.enterprises.empty:
        st.caption(t("enterprise.none"))
        return
    for link in card.enterprises.itertuples():
        with st.container(border=True, key=f"enterprise_card_{link.link_id}"):
            state = t("enterprise.confirmed") if link.confirmed else t("enterprise.suggested",
                                                                        confidence=link.confidence)
            role = t(f"enterprise.role.{link.role}")
            st.markdown(f"**{escape_markdown(link.name)}** · {role} · {state}")
            if not link.confirmed and may_decide:
                yes, no, _ = st.columns([1, 1, 3])
                yes.button(t("enterprise.confirm"), key=f"enterprise_confirm_{link.link_id}", on_click=decide_link,
                           args=(int(link.link_id), True), type="primary")
                no.button(t("enterprise.dismiss"), key=f"enterprise_dismiss_{link.link_id}", on_click=decide_link,
                          args=(int(link.link_id), False))
            if link.risks:
                st.warning(t("enterprise.risk_warning", n=int(link.risks)), icon=":material/warning:")
            capital = (t("enterprise.capital_value", amount=link.registered_capital,
                         currency=link.capital_currency or "")
                       if link.registered_capital is not None and not pd.isna(link.registered_capital) else None)
            cols = st.columns(4)
            for i, (label, value) in enumerate([
                    ("enterprise.credit_code", link.credit_code), ("enterprise.legal_representative",
                                                                   link.legal_representative),
                    ("enterprise.capital", capital), ("enterprise.founded_on", link.founded_on),
                    ("enterprise.status", link.status), ("enterprise.industry", link.industry),
                    ("enterprise.address", link.address)]):
                cols[i % 4].markdown(_fact(label, value))
            holders = card.shareholders[card.shareholders["enterprise_id"] == link.enterprise_id].copy()
            if not holders.empty:
                st.markdown(f"**{t('enterprise.shareholders')}**")
                holders["kind"] = [t(f"enterprise.holder_kind.{k}") if k else None for k in holders["kind"]]
                table(holders, column_order=["name", "kind", "subscribed_amount", "share"], column_config={
                    "name": t("enterprise.holder"), "kind": t("enterprise.holder_kind"),
                    "subscribed_amount": st.column_config.NumberColumn(t("enterprise.subscribed"), format="%.2f"),
                    "share": st.column_config.NumberColumn(t("enterprise.share"), format="%.2f")})
            risks = card.risks[card.risks["enterprise_id"] == link.enterprise_id].copy()
            if not risks.empty:
                st.markdown(f"**{t('enterprise.risks')}**")
                risks["kind"] = [t(f"enterprise.risk.{k}") for k in risks["kind"]]
                table(risks, column_order=["kind", "case_number", "authority", "obligation", "performance",
                                           "recorded_on", "source"], column_config={
                    c: t(f"enterprise.risk.{c}") for c in
                    ("kind", "case_number", "authority", "obligation", "performance", "source")} | {
                    "recorded_on": st.column_config.DateColumn(t("enterprise.risk.recorded_on"), format="YYYY-MM-DD")})
