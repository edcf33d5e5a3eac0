"""A person's enterprise card: the linked enterprises, their shareholders and risk records."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from store.queries.enterprises import EnterpriseCard
from ui.i18n import t
from ui.markdown import escape_markdown
from ui.tables import table


def _fact(label: str, value) -> str:
    return f"**{t(label)}**  \n{escape_markdown('' if value is None or pd.isna(value) else value)}"


def enterprise_card(card: EnterpriseCard) -> None:
    st.markdown(f"**{t('enterprise.card')}**")
    if card.enterprises.empty:
        st.caption(t("enterprise.none"))
        return
    for link in card.enterprises.itertuples():
        with st.container(border=True, key=f"enterprise_card_{link.link_id}"):
            state = t("enterprise.confirmed") if link.confirmed else t("enterprise.suggested",
                                                                        confidence=link.confidence)
            role = t(f"enterprise.role.{link.role}")
            st.markdown(f"**{escape_markdown(link.name)}** · {role} · {state}")
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
