"""The pages' tables of stored data go through `table`: one look for a missing value.

Streamlit prints a missing cell as "None" unless told otherwise; a dash reads as
"not recorded" in both languages.
"""

from __future__ import annotations

import streamlit as st

MISSING = "—"


def table(data, **kwargs):
    """st.dataframe with the missing-value placeholder and without the index (both overridable)."""
    kwargs.setdefault("placeholder", MISSING)
    kwargs.setdefault("hide_index", True)
    return st.dataframe(data, **kwargs)
