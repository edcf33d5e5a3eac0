import streamlit as st

from ui.i18n import t

st.title(t("page.data_health"))
st.info(t("shell.coming"))
