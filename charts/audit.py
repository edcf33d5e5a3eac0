"""The audit log for people: actions by name, details as words instead of JSON.

The store keeps each entry's detail as JSON text (store.audit.record); the page
shows it as "批次: 3 · 文件: 名单.xlsx · 新增: 12", keys and actions translated by
the texts the page passes in, unknown ones shown as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from charts import values as cell

AUDIT_TABLE_COLUMNS = ("at", "actor", "action", "detail")


@dataclass(frozen=True)
class AuditTexts:
    actions: Mapping[str, str] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)
    # Coded string values ("wrong_password", "oidc") and their words.
    values: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    yes: str = "是"
    no: str = "否"


def action_label(code, texts: AuditTexts) -> str:
    """An action code as its name ("import" → "导入"); an unknown code as itself."""
    code = cell.text(code)
    return texts.actions.get(code, code)


def _words(value, texts: AuditTexts, nested: bool = False) -> str:
    if isinstance(value, dict):
        sep = "，" if nested else " · "
        return sep.join(f"{texts.keys.get(str(k), str(k))}: {_words(v, texts, True)}"
                        for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list):
        return "、".join(_words(v, texts, True) for v in value)
    if isinstance(value, bool):
        return texts.yes if value else texts.no
    if isinstance(value, str):
        return texts.values.get(value, value)
    return cell.text(value)


def readable_detail(detail, texts: AuditTexts) -> str:
    """An entry's detail as words; text that is not JSON stays as written."""
    raw = cell.text(detail)
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    return _words(data, texts)


def audit_table(rows: pd.DataFrame, texts: AuditTexts = AuditTexts()) -> pd.DataFrame:
    """Audit entries for display: time, actor, the action's name and its detail in words."""
    data = {
        "at": [cell.moment(v) for v in rows["at"]],
        "actor": [cell.text(v) for v in rows["actor"]],
        "action": [action_label(v, texts) for v in rows["action"]],
        "detail": [readable_detail(v, texts) for v in rows["detail"]],
    }
    frame = pd.DataFrame(data, columns=list(AUDIT_TABLE_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"])
    return frame.rename(columns={c: texts.headers.get(c, c) for c in AUDIT_TABLE_COLUMNS})
