"""One small translation layer: Simplified Chinese by default, English by switch or `?lang=en`."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import streamlit as st

import ui.texts

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


@cache
def all_texts() -> dict[str, tuple[str, str]]:
    """Every text of every ui/texts module, merged (a duplicate key is an error)."""
    merged: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(ui.texts.__path__):
        module = importlib.import_module(f"ui.texts.{info.name}")
        for key, value in module.TEXTS.items():
            if key in merged:
                raise ValueError(f"text key {key!r} defined twice (ui/texts/{info.name}.py)")
            merged[key] = value
    return merged


def current_language() -> str:
    lang = st.session_state.get("lang") or st.query_params.get("lang") or DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, lang: str, **values) -> str:
    """The text for `key` in `lang`; a missing key shows itself rather than failing the page."""
    pair = all_texts().get(key)
    if pair is None:
        return key
    text = pair[LANGUAGES.index(lang)]
    return text.format(**values) if values else text


def t(key: str, **values) -> str:
    return translate(key, current_language(), **values)


def group(prefix: str, lang: str) -> dict[str, str]:
    """Every text whose key starts with `prefix` ("audit.action."), keyed by the rest of its key."""
    return {key[len(prefix):]: translate(key, lang) for key in all_texts() if key.startswith(prefix)}


def language_switch() -> None:
    """A sidebar switch; the choice is kept in the URL so a shared link keeps its language."""
    current = current_language()
    choice = st.sidebar.segmented_control(
        translate("lang.label", current),
        options=list(LANGUAGES),
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
        default=current,
        key="lang_switch",
    )
    if choice and choice != current:
        st.session_state["lang"] = choice
        st.query_params["lang"] = choice
        st.rerun()
