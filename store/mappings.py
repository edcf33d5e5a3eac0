"""Column mappings staff corrected once, remembered per header signature.

A unit sends the same spreadsheet layout month after month. When a header is unusual
(`移动电话号` for the mobile, say) and staff map it by hand on the import page, the
mapping is saved under the sheet's header signature; the next file whose header has
the same labels (in any order, whatever the spacing) maps itself.

Only the columns staff changed are stored: the built-in synonyms keep working for the
rest, and improve for everyone when the synonym file is extended.

The error report repeats a sheet's header and adds 错误原因 (the reason a row was
rejected): that column is not part of the layout, so a corrected report finds the
mapping its original was imported with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from store import clock
from store.schema import column_mapping

_SPACE = re.compile(r"[\s\u00a0\u200b-\u200d\ufeff\u2060]+")
# The column the error report adds to a sheet's own header (loaders/report.py writes it).
REASON_COLUMN = "错误原因"


def normalise_label(label: str) -> str:
    """`姓　　名` and `姓名`, `ＩＤ` and `id` are the same header label."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(label))).casefold()


_NOT_LAYOUT = frozenset({normalise_label(REASON_COLUMN)})


def header_signature(labels: Iterable[str]) -> str:
    """A stable id for a header: the SHA-256 of its sorted, normalised, non-empty labels (错误原因 aside)."""
    keys = sorted({normalise_label(label) for label in labels if label and normalise_label(label)} - _NOT_LAYOUT)
    return hashlib.sha256(json.dumps(keys, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SavedMapping:
    signature: str
    mapping: dict[str, str | None]  # header label -> field, None = not read
    saved_at: dt.datetime
    saved_by: str | None


def save_mapping(engine: Engine, labels: Iterable[str], mapping: Mapping[str, str | None],
                 saved_by: str | None = None, *, now: dt.datetime | None = None) -> str | None:
    """Remember `mapping` for the header made of `labels`; returns its signature.

    An empty mapping forgets what was saved (staff went back to the automatic mapping).
    """
    labels = [label for label in labels if label]
    signature = header_signature(labels)
    now = now or clock.now()
    with engine.begin() as conn:
        if not mapping:
            conn.execute(delete(column_mapping).where(column_mapping.c.signature == signature))
            return None
        values = dict(labels=json.dumps(labels, ensure_ascii=False),
                      mapping=json.dumps(dict(mapping), ensure_ascii=False), saved_at=now, saved_by=saved_by)
        done = conn.execute(update(column_mapping).where(column_mapping.c.signature == signature).values(**values))
        if done.rowcount == 0:
            conn.execute(insert(column_mapping).values(signature=signature, **values))
    return signature


def load_mappings(engine: Engine, signatures: Iterable[str]) -> dict[str, SavedMapping]:
    """The saved mappings among `signatures` (one query), by signature."""
    wanted = sorted(set(signatures))
    if not wanted:
        return {}
    c = column_mapping.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.signature, c.mapping, c.saved_at, c.saved_by).where(c.signature.in_(wanted))).all()
    return {r.signature: SavedMapping(r.signature, json.loads(r.mapping), r.saved_at, r.saved_by) for r in rows}


def load_mapping(engine: Engine, labels: Iterable[str]) -> SavedMapping | None:
    signature = header_signature(list(labels))
    return load_mappings(engine, [signature]).get(signature)
