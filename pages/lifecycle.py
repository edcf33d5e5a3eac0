import streamlit as st

from ui.i18n import t

st.title(t("page.lifecycle"))
st.info(t("shell.coming"))
