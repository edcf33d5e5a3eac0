"""UI texts, one module per area, each defining TEXTS = {key: (zh, en)}.

Split by area so that pages can be worked on side by side; `ui.i18n` merges them
and a test fails on a key missing a language or defined twice.
"""
