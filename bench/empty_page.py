"""The empty Streamlit page the browser-side times are measured against (bench/server_memory.py)."""

import streamlit as st

st.title("空白页 · empty page")
