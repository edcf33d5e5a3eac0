"""The big-screen look for ECharts: deep navy, cyan and gold, large type.

`THEME` is registered in the browser by streamlit-echarts (`st_echarts(theme=THEME)`);
`Style` carries the sizes a builder needs, scaled for the screen it is drawn on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

CYAN = "#00e5ff"
GOLD = "#ffc53d"
TEXT = "#cfe8ff"
MUTED = "#7fa6d1"
GRID_LINE = "rgba(127,166,209,0.18)"
AXIS_LINE = "rgba(127,166,209,0.45)"
# Area with no (or a suppressed) value on the map.
NO_DATA = "#0b2a55"
PALETTE = (CYAN, GOLD, "#3d8bff", "#36cfc9", "#9b7bff", "#ff7a45", "#73d13d", "#f759ab",
           "#40a9ff", "#ffd666", "#5cdbd3", "#b37feb")
# Light to strong: the map's colour ramp.
RAMP = ("#0d3b7a", "#0f63b8", "#1890ff", "#13c2c2", CYAN)

THEME = {
    "color": list(PALETTE),
    "backgroundColor": "transparent",
    "textStyle": {"color": TEXT, "fontFamily": "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"},
    "title": {"textStyle": {"color": TEXT}},
    "legend": {"textStyle": {"color": TEXT}},
    "tooltip": {"backgroundColor": "rgba(4,20,52,0.92)", "borderColor": CYAN, "textStyle": {"color": TEXT}},
    "categoryAxis": {
        "axisLine": {"lineStyle": {"color": AXIS_LINE}},
        "axisTick": {"show": False},
        "axisLabel": {"color": TEXT},
        "splitLine": {"show": False},
    },
    "valueAxis": {
        "axisLine": {"show": False},
        "axisLabel": {"color": MUTED},
        "splitLine": {"lineStyle": {"color": GRID_LINE, "type": "dashed"}},
    },
}


@dataclass(frozen=True)
class Style:
    """Sizes for one chart box: `scale` 1 is the box on a 1920×1080 screen, 2 on a 3840×2160 one.

    `width` × `height` is the box (px) these sizes are meant for, when known: a builder
    fits labels and rows to it. Type never shrinks below `min_font`: a smaller box gets
    shorter labels, fewer rows or a wrap instead of smaller type.
    """

    scale: float = 1.0
    font: int = 14
    small: int = 12
    label: int = 13
    min_font: int = 11
    width: float | None = None
    height: float | None = None

    def px(self, size: float) -> int:
        return round(size * self.scale)

    def text_px(self, size: float) -> int:
        return max(self.min_font, self.px(size))

    @property
    def font_px(self) -> int:
        return self.text_px(self.font)

    @property
    def small_px(self) -> int:
        return self.text_px(self.small)

    @property
    def label_px(self) -> int:
        return self.text_px(self.label)


# ---- options that follow the size of their box ----------------------------------------------

# Box sizes, as fractions of the box on a 1920×1080 screen, at which a chart's options change.
# Type and spacing grow with the box's shorter side (2 on a 3840×2160 screen) and shrink to
# their floor on laptops and phones; label widths follow the width, and the rows a ranking
# shows the height, in finer steps (below 1 is where they matter).
GROW = (1.25, 1.5, 2.0, 2.5)
SCALE_SHRINK = (0.75, 0.5)
SHRINK = (0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35)
# ECharts applies a rule when every condition of its query holds; this one always does.
ALWAYS = {"minWidth": 0}


def _leaf_paths(a, b, path=()):
    """Paths (key and index tuples) where `a` and `b` differ; a `data` list and a list of
    plain values count as one value (ECharts replaces them whole)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            if key == "data" or key not in a or key not in b:
                if a.get(key) != b.get(key):
                    yield path + (key,)
            else:
                yield from _leaf_paths(a[key], b[key], path + (key,))
    elif (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
          and any(isinstance(x, dict) for x in a + b)):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _leaf_paths(x, y, path + (i,))
    elif a != b:
        yield path


def _empty_like(value):
    return [_empty_like(x) for x in value] if isinstance(value, list) else {}


def _pick(options: dict, paths) -> dict:
    """The values of `options` at `paths`, in the same nesting; lists keep their length, with `{}`
    for untouched items (ECharts merges components and series by index)."""
    out: dict = {}
    for path in paths:
        src, dst = options, out
        for key in path[:-1]:
            src = src[key]
            if isinstance(dst, dict) and key not in dst:
                dst[key] = _empty_like(src)
            elif isinstance(dst, list) and not isinstance(dst[key], type(src)):
                dst[key] = _empty_like(src)
            dst = dst[key]
        leaf = path[-1]
        dst[leaf] = src[leaf] if isinstance(src, list) and leaf < len(src) else (
            src.get(leaf) if isinstance(src, dict) else None)
    return out


def _differing(base: dict, others) -> list:
    return sorted({p for o in others for p in _leaf_paths(base, o)}, key=lambda p: [str(k) for k in p])


def _rules(paths, at_least, at_most, build, *, nested: bool = True):
    """Media rules for one dimension, each setting every path of it (so whichever matches
    last, nothing of another size stays behind): `at_least(f)` is the query of growth step
    `f`, `at_most` the (query, step) pairs of shrinking, narrowest last; `build(f)` the options
    for step `f`. The first rule always matches: the base size. `nested`: each shrinking
    query implies the one before it."""
    if not paths:
        return []
    first = {"query": ALWAYS, "option": _pick(build(1.0), paths)}
    rules = [first]
    for chain, dedupe in (([(at_least(f), f) for f in GROW], True), (at_most, nested)):
        before = first
        for query, f in chain:
            rule = {"query": query, "option": _pick(build(f), paths)}
            # A rule repeating the one it narrows (which matches whenever it does) changes nothing.
            if rule["option"] != before["option"] or not dedupe:
                rules.append(rule)
            before = rule
    return rules


def responsive(build: Callable[[Style], dict], width: float, height: float) -> dict:
    """ECharts options that fit type, spacing, labels and rows to the box they are drawn in.

    `build(style)` gives the options for a `Style`; `width` × `height` is the box on a
    1920×1080 screen. The result is those options plus `media` rules (ECharts' own
    container queries, evaluated in the browser whenever the box changes size: no URL
    parameter, no round trip) in three independent sets: type and spacing by the box's
    shorter side, label widths by its width, rows by its height.
    """
    def box(w: float = 1.0, h: float = 1.0, scale: float = 1.0) -> Style:
        return Style(scale=scale, width=width * w, height=height * h)

    base = build(box())
    media = []

    # Type and spacing, built without a box (no label widths, no row limits).
    def typeset(s: float) -> dict:
        return build(Style(scale=s))
    plain = {s: typeset(s) for s in (1.0, *GROW, *SCALE_SHRINK)}
    scale_paths = _differing(plain[1.0], plain.values())
    bounds = (1.0,) + GROW
    lower = {s: (prev + s) / 2 for prev, s in zip(bounds, bounds[1:])}
    shrink_bounds = (1.0,) + SCALE_SHRINK
    media += _rules(
        scale_paths,
        lambda s: {"minWidth": round(width * lower[s]), "minHeight": round(height * lower[s])},
        [(q, s) for s, up in zip(SCALE_SHRINK, shrink_bounds) for q in
         ({"maxWidth": round(width * (up + s) / 2) - 1}, {"maxHeight": round(height * (up + s) / 2) - 1})],
        plain.get, nested=False)

    # Label widths by the width, rows by the height: each rule is built for the smallest box it serves.
    steps = (1.0,) + SHRINK
    taken = set(scale_paths)
    # Rows are counted in lines of the type the height implies, hence `scale=f` there; a value
    # that follows both sides stays with the width.
    for side, make in (("Width", lambda f: build(box(w=f))), ("Height", lambda f: build(box(h=f, scale=f)))):
        probe = make(SHRINK[-1])
        if not _differing(base, [probe]):
            continue
        made = {f: make(f) for f in (*GROW, *SHRINK)} | {1.0: base}
        paths = [p for p in _differing(base, made.values()) if p not in taken]
        taken.update(paths)
        extent = width if side == "Width" else height
        media += _rules(
            paths,
            lambda f, side=side, extent=extent: {f"min{side}": int(extent * f * 0.99)},
            [({f"max{side}": round(extent * up) - 1}, f) for up, f in zip(steps, SHRINK)],
            made.get)
    if media:
        base = {**base, "media": media}
    return base


# How streamlit-echarts marks a string of options as JavaScript to evaluate. pyecharts strips
# that mark when it dumps a chart, so builders write JS_TAG and `options_of` turns it into the mark.
JS_MARK = "--x_x--0_0--"
JS_TAG = "~~js~~"


def js(code: str) -> str:
    """A JavaScript function in a builder's options, as plain (JSON) data."""
    return f"{JS_TAG}{code}{JS_TAG}"


def options_of(chart) -> dict:
    """The chart's ECharts options as plain JSON data (what the browser receives); a `js` function
    is a string marked for streamlit-echarts to evaluate."""
    return json.loads(chart.dump_options_with_quotes().replace(JS_TAG, JS_MARK))
