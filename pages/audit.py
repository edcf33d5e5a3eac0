import math
from datetime import datetime, time

import pandas as pd
import streamlit as st

from store.audit import audit_actions, audit_page
from ui.auth import guard_page
from ui.cache import get_engine
from ui.i18n import t

viewer = guard_page("audit")
st.title(t("page.audit"))

PAGE_SIZE = 100
engine = get_engine()
left, mid, right = st.columns([2, 1, 1])
actions = left.multiselect(t("audit.actions"), audit_actions(engine, viewer.scope, viewer=viewer.name))
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
    frame = pd.DataFrame(rows)[["at", "actor", "action", "detail"]]
    frame.columns = [t("audit.col.at"), t("audit.col.actor"), t("audit.col.action"), t("audit.col.detail")]
    st.dataframe(frame, hide_index=True, width="stretch")
else:
    st.info(t("audit.empty"))
