"""Check-in: the activities this account may check people in at, each with its door (ui/checkin_web.py).

A steward sees only the activities given to them; staff and admins those of their scope.
"""

from __future__ import annotations

import streamlit as st

from store import accounts
from store import activities as act
from ui.auth import guard_page
from ui.cache import get_engine
from ui.i18n import t
from ui.markdown import escape_markdown
from ui.web import route_path

viewer = guard_page("checkin")
engine = get_engine()
st.title(t("page.checkin"))
st.caption(t("checkin.caption"))

account = accounts.get_account(engine, viewer.name)
door = act.Door(viewer.name, viewer.role, viewer.scope, account.id if account else None)
# Not cached: an assignment moves the accounts epoch, not the data version.
mine = act.door_activities(engine, door)
if mine.empty:
    st.info(t("checkin.none"))
base = st.get_option("server.baseUrlPath")
for row in mine.itertuples():
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(row.title)}**  \n{row.starts_at:%Y-%m-%d %H:%M} · "
                    f"{escape_markdown(row.place) if row.place else ''}")
        st.link_button(t("checkin.open"), route_path(base, "door", str(row.id)), type="primary",
                       icon=":material/qr_code_scanner:")
