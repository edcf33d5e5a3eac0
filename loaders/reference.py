"""Reference data the importer matches against, read once from data/*.csv.

Everything here is replaceable per deployment by editing the CSV files: categories,
parties, regions (with old names as aliases) and column synonyms.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

FIELDS = (
    "name", "gender", "ethnicity", "birth_date", "id_number", "phone", "party", "category",
    "district", "street", "organization", "position", "education", "title", "tags", "stage",
    "source",
)
# The columns of a sign-up / check-in sheet besides the person's identity (name, ID, mobile).
ACTIVITY_FIELDS = (
    "activity_title", "activity_date", "status", "activity_kind", "organizer", "registered_at",
    "checked_in_at",
)
ALL_FIELDS = FIELDS + ACTIVITY_FIELDS
IGNORE = "ignore"  # a mapped column that is deliberately not read (序号)

# Full-width ASCII (！..～) and the ideographic space to half-width.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF_WIDTH[0x3000] = 0x20


def header_key(label: str) -> str:
    """A header label as matched: half-width, lower case, no whitespace, `_`, `-` or `*`."""
    s = str(label).translate(_HALF_WIDTH).lower()
    return re.sub(r"[\s_\-*\u00a0\u200b-\u200d\ufeff\u2060]+", "", s)


_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")


def strip_bracketed(key: str) -> str:
    """`出生年月(例:1975.03)` -> `出生年月` (works on a `header_key`)."""
    prev = None
    while prev != key:
        prev, key = key, _BRACKETED.sub("", key)
    return key


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    parent_code: str | None
    level: str


@dataclass
class Reference:
    synonyms: dict[str, str]  # header_key -> field
    categories: dict[str, str]  # lookup key -> category code
    category_names: dict[str, str]  # code -> name_zh
    parties: dict[str, str]  # lookup key -> party code
    districts: dict[str, str]  # lookup key -> district code (current names)
    district_aliases: dict[str, str]  # lookup key -> district code (old names)
    district_names: dict[str, str]  # code -> name_zh
    streets: dict[str, list[Region]] = field(default_factory=dict)  # lookup key -> streets
    party_names: dict[str, str] = field(default_factory=dict)  # code -> name_zh


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _split_aliases(value: str) -> list[str]:
    return [a.strip() for a in (value or "").split("|") if a.strip()]


def _lookup_key(value: str) -> str:
    return header_key(value)


_ADMIN_SUFFIX = re.compile(r"(区|县|市)$")
_STREET_SUFFIX = re.compile(r"(街道办事处|街道|镇|乡)$")


def district_key(value: str) -> str:
    """`浙江省杭州市西湖区` -> `西湖`: the key both configured names and cells reduce to."""
    key = _lookup_key(value)
    for prefix in ("浙江省杭州市", "杭州市", "浙江省"):
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix):]
            break
    stripped = _ADMIN_SUFFIX.sub("", key)
    return stripped or key


def street_key(value: str) -> str:
    key = _lookup_key(value)
    stripped = _STREET_SUFFIX.sub("", key)
    return stripped or key


@lru_cache(maxsize=4)
def load_reference(data_dir: Path = DATA_DIR) -> Reference:
    synonyms: dict[str, str] = {f: f for f in ALL_FIELDS}
    for row in _read_csv(data_dir / "column_synonyms.csv"):
        fld = row["field"]
        if fld not in ALL_FIELDS and fld != IGNORE:
            raise ValueError(f"column_synonyms.csv: unknown field {fld!r}")
        synonyms[header_key(row["synonym"])] = fld

    categories: dict[str, str] = {}
    category_names: dict[str, str] = {}
    for row in _read_csv(data_dir / "categories.csv"):
        code = row["code"]
        category_names[code] = row["name_zh"]
        for value in [code, row["name_zh"], row.get("name_en", ""), *_split_aliases(row.get("aliases", ""))]:
            if value:
                categories.setdefault(_lookup_key(value), code)

    parties: dict[str, str] = {}
    party_names: dict[str, str] = {}
    for row in _read_csv(data_dir / "parties.csv"):
        code = row["code"]
        party_names[code] = row["name_zh"]
        for value in [code, row["name_zh"], row.get("name_en", ""), *_split_aliases(row.get("aliases", ""))]:
            if value:
                parties.setdefault(_lookup_key(value), code)

    districts: dict[str, str] = {}
    aliases: dict[str, str] = {}
    district_names: dict[str, str] = {}
    streets: dict[str, list[Region]] = {}
    for row in _read_csv(data_dir / "regions.csv"):
        region = Region(row["code"], row["name_zh"], row.get("parent_code") or None, row["level"])
        if region.level == "district":
            district_names[region.code] = region.name
            districts[region.code] = region.code
            districts[_lookup_key(region.name)] = region.code
            districts.setdefault(district_key(region.name), region.code)
            for alias in _split_aliases(row.get("aliases", "")):
                aliases[_lookup_key(alias)] = region.code
                aliases.setdefault(district_key(alias), region.code)
        elif region.level == "street":
            for key in {_lookup_key(region.name), street_key(region.name)}:
                streets.setdefault(key, []).append(region)
            for alias in _split_aliases(row.get("aliases", "")):
                streets.setdefault(street_key(alias), []).append(region)
    return Reference(synonyms, categories, category_names, parties, districts, aliases,
                     district_names, streets, party_names)
