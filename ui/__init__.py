"""Streamlit helpers shared by the pages: i18n, theme, cached query wrappers, sign-in gate."""
