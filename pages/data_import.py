import streamlit as st

from ui.i18n import t

st.title(t("page.data_import"))
st.info(t("shell.coming"))
