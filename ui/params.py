"""URL parameters a page reads: a malformed or out-of-range value is dropped with a quiet notice.

A link is typed, pasted, bookmarked and edited by hand; `?scale=nan` or
`?age_min=5000` must not reach a widget or a query (Streamlit's error box, or an
overflow in SQL). Each reader parses its own parameters and hands the names it
could not use to `ignore`, which removes them from the URL (a copied link is then
clean, and the notice shows once) and says so in a toast, in the viewer's language.
"""

from __future__ import annotations

import math
from typing import Iterable

import streamlit as st

from ui.i18n import LANGUAGES, t

FLAG_VALUES = ("1", "true", "yes", "0", "false", "no")
# The largest id a store's integer key holds: a larger "person" would overflow in SQL.
MAX_ID = 2**63 - 1


def ignore(names: Iterable[str]) -> None:
    """Drop these parameters from the URL and say, quietly, that the link's values were not used."""
    dropped = [name for name in dict.fromkeys(names) if name in st.query_params]
    if not dropped:
        return
    for name in dropped:
        del st.query_params[name]
    st.toast(t("params.ignored", names="、".join(dropped)), icon=":material/link_off:")


def number(name: str, low: float, high: float, *, integer: bool = False) -> float | int | None:
    """The parameter as a finite number within [low, high]; None when absent; ignored otherwise."""
    raw = st.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except (ValueError, OverflowError):
        value = None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        ignore([name])
        return None
    return value


def check_common() -> None:
    """The parameters every page reads: `lang` (zh or en) and `kiosk` (a yes or a no)."""
    bad = []
    if "lang" in st.query_params and st.query_params.get("lang") not in LANGUAGES:
        bad.append("lang")
    if "kiosk" in st.query_params and st.query_params.get("kiosk") not in FLAG_VALUES:
        bad.append("kiosk")
    ignore(bad)
