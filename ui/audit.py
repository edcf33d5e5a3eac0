"""The audit page's words: action names, detail keys and coded values in the viewer's language."""

from __future__ import annotations

from charts.audit import AUDIT_TABLE_COLUMNS, AuditTexts
from ui.i18n import current_language, group, translate


def audit_texts(lang: str | None = None) -> AuditTexts:
    lang = lang or current_language()
    return AuditTexts(actions=group("audit.action.", lang), keys=group("audit.key.", lang),
                      values=group("audit.value.", lang),
                      headers={c: translate(f"audit.col.{c}", lang) for c in AUDIT_TABLE_COLUMNS},
                      yes=translate("audit.yes", lang), no=translate("audit.no", lang))
