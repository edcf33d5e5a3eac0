import math
from datetime import datetime, time

import pandas as pd
import streamlit as st

from charts.audit import AUDIT_TABLE_COLUMNS, action_label, audit_table
from store.audit import audit_actions, audit_page
from ui.auth import guard_page
from ui.cache import get_engine
from ui.audit import audit_texts
from ui.i18n import t
from ui.panels import guarded
from ui.tables import table

viewer = guard_page("audit")
st.title(t("page.audit"))

PAGE_SIZE = 100
engine = get_engine()
texts = audit_texts()
left, mid, right = st.columns([2, 1, 1])
# Streamlit's own "Choose options" and "Select all" are English only: our placeholder, no select-all.
actions = left.multiselect(t("audit.actions"), audit_actions(engine, viewer.scope, viewer=viewer.name),
                           format_func=lambda code: action_label(code, texts), placeholder=t("audit.placeholder"),
                           select_all=False)
actor = mid.text_input(t("audit.actor"))
since = right.date_input(t("audit.since"), value=None)
since_at = datetime.combine(since, time.min) if since else None

total, _ = audit_page(engine, viewer.scope, tuple(actions), actor, since_at, limit=1, viewer=viewer.name)
pages = max(1, math.ceil(total / PAGE_SIZE))
page = st.number_input(t("audit.page"), min_value=1, max_value=pages, value=1) if pages > 1 else 1
_, rows = audit_page(engine, viewer.scope, tuple(actions), actor, since_at, limit=PAGE_SIZE,
                     offset=(page - 1) * PAGE_SIZE, viewer=viewer.name)
st.caption(t("audit.total", n=f"{total:,}"))
if rows:
    with guarded("audit.table"):
        table(audit_table(pd.DataFrame(rows, columns=list(AUDIT_TABLE_COLUMNS)), texts), width="stretch",
              column_config={texts.headers["at"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
else:
    st.info(t("audit.empty"))
