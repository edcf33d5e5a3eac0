"""The server `make run` starts (through `python -m ui.serve`): the Streamlit app of app.py
plus the sign-in cookie and download routes of ui/web.py and the representatives' pages under /m/
(ui/mobile.py), in one process on one port."""

import streamlit as st

from ui.web import EXCEPTION_HANDLERS, routes

app = st.App("app.py", routes=routes(st.get_option("server.baseUrlPath")), exception_handlers=EXCEPTION_HANDLERS)
