"""The cockpit's charts and number cards: small DataFrames in, pyecharts charts or HTML out.

Every count a builder puts on screen goes through `suppress` first, so a count
under the threshold leaves as null (and is labelled "<N"), never as the number
itself. Counts that store.privacy withheld so that subtraction cannot recover a
small one arrive as marks (`Hidden`) and leave the same way, labelled by their mark.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from typing import Mapping

import pandas as pd
from pyecharts import options as opts
from pyecharts.charts import Bar, Funnel, Line, Map, Pie

from charts.echarts_theme import CYAN, GOLD, GRID_LINE, MUTED, NO_DATA, PALETTE, RAMP, TEXT, Style, js
from charts import values as cell
from store.privacy import is_withheld

DEFAULT_THRESHOLD = 5


# ---- privacy ----------------------------------------------------------------------------

def suppress(n, threshold: int = DEFAULT_THRESHOLD) -> int | None:
    """The count itself when it is at least `threshold`, else None (also for missing and withheld counts)."""
    if cell.is_missing(n) or is_withheld(n):
        return None
    n = int(n)
    return n if n >= threshold else None


def format_count(n, threshold: int = DEFAULT_THRESHOLD) -> str:
    """`12,345`, or `<5` for a suppressed count (a withheld one: its mark)."""
    if is_withheld(n):
        return str(n)
    shown = suppress(n, threshold)
    return f"<{threshold}" if shown is None else f"{shown:,}"


def format_share(part, whole, threshold: int = DEFAULT_THRESHOLD) -> str:
    """`45.6%`, or `—` when either count is suppressed (a share would give the count away)."""
    p, w = suppress(part, threshold), suppress(whole, threshold)
    if p is None or w is None:
        return "—"
    return f"{100 * p / w:.1f}%"


# ---- headline numbers -------------------------------------------------------------------

@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: str
    note: str = ""


def headline_cards(h, labels: Mapping[str, str], threshold: int = DEFAULT_THRESHOLD) -> list[Card]:
    """The six headline cards. `h` is a store.queries.cockpit.Headline; `labels` holds the
    texts `persons`, `new`, `active`, `activities`, `checkins`, `fresh`, `share_of`."""
    return [
        Card("persons", labels["persons"], format_count(h.persons, threshold)),
        Card("new", labels["new"], format_count(h.new_this_year, threshold)),
        Card("active", labels["active"], format_count(h.active_90d, threshold),
             labels["share_of"].format(share=format_share(h.active_90d, h.persons, threshold))),
        Card("activities", labels["activities"], format_count(h.activities_this_year, threshold)),
        Card("checkins", labels["checkins"], format_count(h.checkins_this_year, threshold)),
        Card("fresh", labels["fresh"], format_share(h.fresh_12m, h.persons, threshold),
             labels["fresh_note"].format(n=format_count(h.fresh_12m, threshold))),
    ]


def enterprise_cards(figures, labels: Mapping[str, str], threshold: int = DEFAULT_THRESHOLD) -> list[Card]:
    """Enterprises linked and persons with enterprise risk alerts (a store.queries.enterprises.EnterpriseFigures);
    none while the store links no enterprise. `labels` holds `enterprises`, `alerts`."""
    if figures is None or not cell.count(figures.enterprises_linked):
        return []
    return [Card("enterprises", labels["enterprises"], format_count(figures.enterprises_linked, threshold)),
            Card("risk_alerts", labels["alerts"], format_count(figures.risk_alerts, threshold))]


def reps_cards(shown, labels: Mapping[str, str], threshold: int = DEFAULT_THRESHOLD) -> list[Card]:
    """The representatives' responses (a store.privacy.RepsShown): who confirmed their data in 12
    months, the corrections waiting with their ages, this year's suggestions and those adopted.
    `labels` holds `responded`, `responded_note`, `open`, `open_note`, `suggestions`, `adopted_note`."""
    share = "—" if shown.responded_share is None else f"{100 * shown.responded_share:.1f}%"
    ages = "" if shown.oldest_open_days is None else labels["open_note"].format(
        oldest=shown.oldest_open_days, median=f"{shown.median_open_days:g}")
    return [
        Card("reps_responded", labels["responded"], share,
             labels["responded_note"].format(n=format_count(shown.responded, threshold))),
        Card("reps_open", labels["open"], format_count(shown.open_requests, threshold), ages),
        Card("reps_suggestions", labels["suggestions"], format_count(shown.suggestions, threshold),
             labels["adopted_note"].format(n=format_count(shown.adopted, threshold))),
    ]


# ---- shared pieces ----------------------------------------------------------------------

def _text(style: Style, size: int | None = None, color: str = TEXT) -> opts.TextStyleOpts:
    return opts.TextStyleOpts(color=color, font_size=size or style.font_px)


def _no_animation_init() -> opts.InitOpts:
    # Width and height come from the Streamlit element; the renderer ignores these.
    return opts.InitOpts(bg_color="transparent")


def _dict(part) -> dict:
    """The option dict of a pyecharts options object (or the dict itself)."""
    return part.opts if hasattr(part, "opts") else part


def _rows_that_fit(style: Style, rows: int, pitch: float = 1.35) -> int | None:
    """How many of `rows` label rows fit the box's height (`pitch` × the type's height each), or
    None when all do: a smaller screen shows the top of the same ranking, not squeezed rows."""
    if style.height is None or rows == 0:
        return None
    fit = max(3, int(style.height / (pitch * style.label_px)))
    return fit if fit < rows else None


def _label_box(style: Style, share: float, overflow: str = "truncate") -> dict:
    """Axis or series label options that keep a label within `share` of the box's width:
    cut with an ellipsis (names, with the whole name in the tooltip) or wrapped."""
    if style.width is None:
        return {}
    return {"width": round(style.width * share), "overflow": overflow, "ellipsis": "…"}


def _text_width(text: str, size: float) -> float:
    """About how wide `text` sets at `size` px: a Chinese character a full square, others ~0.6."""
    return sum(size if ord(ch) >= 0x2E80 else 0.6 * size for ch in text)


def _value_axis(style: Style) -> opts.AxisOpts:
    """The count axis of the column and line charts: from zero, faint grid lines."""
    return opts.AxisOpts(type_="value", min_=0,
                         axislabel_opts=opts.LabelOpts(color=MUTED, font_size=style.small_px),
                         splitline_opts=opts.SplitLineOpts(is_show=True,
                                                           linestyle_opts=opts.LineStyleOpts(color=GRID_LINE)))


def _tooltip(trigger: str = "item", style: Style | None = None) -> opts.TooltipOpts:
    size = style.font_px if style else 14
    return opts.TooltipOpts(trigger=trigger, background_color="rgba(4,20,52,0.92)", border_color=CYAN,
                            textstyle_opts=opts.TextStyleOpts(color=TEXT, font_size=size))


# ---- ranked bars (categories, tags, districts without a map) ------------------------------

def ranked_bar(df: pd.DataFrame, *, label_col: str = "label", value_col: str = "n",
               threshold: int = DEFAULT_THRESHOLD, style: Style = Style(), color: str = CYAN,
               series_name: str = "", max_rows: int | None = None) -> Bar:
    """Horizontal bars, largest on top; each bar's count (or "<N") on a right-hand axis."""
    rows = df[[label_col, value_col]].copy()
    rows["_sort"] = [-1 if v is None else v for v in (suppress(n, threshold) for n in rows[value_col])]
    rows = rows.sort_values("_sort", ascending=False, kind="stable")
    if max_rows is not None:
        rows = rows.head(max_rows)
    labels = [cell.text(v, "—") for v in rows[label_col]]
    values = [suppress(v, threshold) for v in rows[value_col]]
    shown = [format_count(v, threshold) for v in rows[value_col]]
    gradient = {
        "type": "linear", "x": 0, "y": 0, "x2": 1, "y2": 0,
        "colorStops": [{"offset": 0, "color": "rgba(0,229,255,0.15)"}, {"offset": 1, "color": color}],
    }
    chart = (
        Bar(init_opts=_no_animation_init())
        .add_xaxis(labels)
        .add_yaxis(series_name, values, bar_max_width=style.px(14), category_gap="35%",
                   label_opts=opts.LabelOpts(is_show=False),
                   itemstyle_opts=opts.ItemStyleOpts(color=gradient, border_radius=[0, 4, 4, 0]))
        .reversal_axis()
        .set_global_opts(
            legend_opts=opts.LegendOpts(is_show=False),
            tooltip_opts=_tooltip("item", style),
            xaxis_opts=opts.AxisOpts(is_show=False, type_="value", min_=0),
            yaxis_opts=opts.AxisOpts(
                type_="category", is_inverse=True,
                axislabel_opts=opts.LabelOpts(color=TEXT, font_size=style.label_px, interval=0),
                axisline_opts=opts.AxisLineOpts(is_show=False), axistick_opts=opts.AxisTickOpts(is_show=False),
                splitline_opts=opts.SplitLineOpts(is_show=False),
            ),
        )
    )
    # The counts as labels of a second category axis: a suppressed bar has no shape to label.
    counts_axis = opts.AxisOpts(
        type_="category", position="right", is_inverse=True,
        axislabel_opts=opts.LabelOpts(color=GOLD, font_size=style.label_px, interval=0, font_weight="bold"),
        axisline_opts=opts.AxisLineOpts(is_show=False), axistick_opts=opts.AxisTickOpts(is_show=False),
        splitline_opts=opts.SplitLineOpts(is_show=False),
    )
    counts_axis.opts["data"] = shown
    chart.extend_axis(yaxis=counts_axis)
    chart.options["grid"] = {"left": style.px(8), "right": style.px(8), "top": style.px(6),
                             "bottom": style.px(6), "containLabel": True}
    chart.options["legend"] = [{"show": False}]
    _dict(_dict(chart.options["yAxis"][0])["axisLabel"]).update(_label_box(style, 0.6))
    fit = _rows_that_fit(style, len(labels))
    if fit is not None:
        # A category axis cut at `fit` rows hides the bars below it as well.
        for axis in chart.options["yAxis"]:
            _dict(axis)["max"] = fit - 1
    return chart


# ---- the map ------------------------------------------------------------------------------

# Fainter than NO_DATA: a district the viewer may not see must not read as an empty one of theirs.
OUTSIDE_SCOPE = "rgba(11,42,85,0.35)"


def district_map(df: pd.DataFrame, area_names: Mapping[str, str], *, map_name: str = "area",
                 label_col: str = "label", threshold: int = DEFAULT_THRESHOLD, style: Style = Style(),
                 unit: str = "", series_name: str = "", callouts: tuple[str, ...] = ()) -> Map:
    """Head counts on the configured area's map, matched by division code (not by name).

    `area_names` maps each GeoJSON feature's `code` to its `name`; `df` has `code`, `n` and
    `label_col` (the display name, which wins over the GeoJSON's own), and optionally
    `in_scope`. A district outside the viewer's scope, or unknown to the store, carries
    no value at all, only its name: "<N" there would claim that it holds a few persons.
    The labels of the districts in `callouts` (see `small_districts`) stand in a strip on the
    right, each tied to its district by a line.
    """
    in_scope = df["in_scope"] if "in_scope" in df else [True] * len(df)
    # A row without a code cannot be placed; without a name it keeps the map's; without
    # `in_scope` it is treated as outside the scope (shown without a value).
    by_code = {cell.text(c): (cell.text(lbl), n, cell.flag(inside))
               for c, lbl, n, inside in zip(df["code"], df[label_col], df["n"], in_scope) if cell.text(c)}
    name_map = {code: by_code[code][0] if by_code.get(code, ("",))[0] else name
                for code, name in area_names.items()}
    items = []
    shown_values = []
    for code in area_names:
        name = name_map[code]
        _, raw, inside = by_code.get(code, (name, None, False))
        if not inside:
            items.append({
                "name": name,
                "value": None,
                "label": {"formatter": name, "color": MUTED},
                "tooltip": {"formatter": name},
                "itemStyle": {"areaColor": OUTSIDE_SCOPE, "borderColor": MUTED},
            })
            continue
        value = suppress(raw, threshold)
        text = format_count(raw, threshold)
        item = {
            "name": name,
            "value": value,
            "label": {"formatter": f"{name}\n{text}"},
            "tooltip": {"formatter": f"{name}：{text}{unit}"},
        }
        items.append(item)
        if value is not None:
            shown_values.append(value)
    top = max(shown_values) if shown_values else threshold
    chart = (
        Map(init_opts=_no_animation_init())
        .add(series_name, [("", 0)], maptype=map_name, is_roam=False, name_property="code", name_map=name_map,
             is_map_symbol_show=False, zoom=1.1,
             label_opts=opts.LabelOpts(is_show=True, color="#ffffff", font_size=style.small_px),
             itemstyle_opts=opts.ItemStyleOpts(area_color=NO_DATA, border_color=CYAN, border_width=1),
             emphasis_label_opts=opts.LabelOpts(color="#ffffff"),
             emphasis_itemstyle_opts=opts.ItemStyleOpts(area_color=GOLD))
        .set_global_opts(
            legend_opts=opts.LegendOpts(is_show=False),
            tooltip_opts=_tooltip("item", style),
            visualmap_opts=opts.VisualMapOpts(
                min_=threshold, max_=max(top, threshold), is_calculable=False, range_color=list(RAMP),
                pos_left=style.px(8), pos_bottom=style.px(8), item_width=style.px(12), item_height=style.px(90),
                textstyle_opts=_text(style, style.small_px, MUTED), range_text=["", ""],
            ),
        )
    )
    chart.options["series"][0]["data"] = items
    # Lines a little apart: two-line labels stacked in the strip must not touch.
    _dict(chart.options["series"][0]["label"])["lineHeight"] = round(style.small_px * 1.3)
    moved = [i for i, code in enumerate(area_names) if code in callouts]
    # Without a strip, labels that would cover each other: the last resort is to drop one.
    chart.options["series"][0]["labelLayout"] = {"hideOverlap": True}
    if moved:
        series = chart.options["series"][0]
        # The map keeps its shape: its width is given, its height follows.
        series.update({"left": "2%", "width": f"{1 - CALLOUT_STRIP - 0.03:.0%}", "top": "center", "zoom": 1,
                       "labelLayout": _callout_layout(moved),
                       "labelLine": {"show": True, "lineStyle": {"color": MUTED, "width": 1}}})
    return chart


# ---- labels of districts too small to hold them ---------------------------------------------

# A district covering less of the area than this cannot hold "name\ncount" on the map.
CALLOUT_SHARE = 0.02
# The strip on the map's right where those labels stand, as a share of the chart's width.
CALLOUT_STRIP = 0.22


def _outer_rings(geometry: dict | None) -> list:
    kind = (geometry or {}).get("type")
    if kind == "Polygon":
        return [geometry["coordinates"][0]]
    if kind == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def _ring_area(ring) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:] + ring[:1]))) / 2


def small_districts(geojson: dict, share: float = CALLOUT_SHARE) -> tuple[str, ...]:
    """Codes of the districts covering less than `share` of the area: too small for their labels,
    which `district_map` stands beside the map with a leader line instead."""
    areas = {}
    for feature in geojson.get("features", []):
        code = (feature.get("properties") or {}).get("code")
        if code:
            areas[str(code)] = sum(_ring_area(r) for r in _outer_rings(feature.get("geometry")))
    total = sum(areas.values())
    return tuple(code for code, area in areas.items() if total and area < share * total)


def _callout_layout(indices: list[int]) -> str:
    """ECharts `labelLayout` (a function, in streamlit-echarts' notation for one): the labels of
    `indices` stand in a column at the chart's right edge, moved apart where they would touch,
    each tied to its district by a line."""
    return js("function (p) { return " + json.dumps(indices) + ".indexOf(p.dataIndex) < 0 ? {} : "
              "{x: '99%', align: 'right', moveOverlap: 'shiftY'}; }")


def area_names(geojson: dict) -> dict[str, str]:
    """code -> name of each feature of a GeoJSON FeatureCollection (features lacking a code are skipped)."""
    out: dict[str, str] = {}
    for feature in geojson.get("features", []):
        props = feature.get("properties") or {}
        code = cell.text(props.get("code"))
        if code:
            out[code] = cell.text(props.get("name")) or code
    return out


# ---- lifecycle funnel ---------------------------------------------------------------------

def funnel_chart(df: pd.DataFrame, stage_names: Mapping[str, str], *, conversion_label: str,
                 threshold: int = DEFAULT_THRESHOLD, style: Style = Style(), series_name: str = "") -> Funnel:
    """发现→培养→使用→管理: each layer counts everyone who reached that stage or a later one
    (a person in 使用 went through 发现 and 培养); the label gives the conversion from the
    layer above. `df` has `stage` and `n` (current stage counts) in lifecycle order, and
    optionally `reached`, the layers as store.privacy.funnel_layers withheld them."""
    if "reached" in df:
        reached = list(df["reached"])
    else:
        current = [cell.count(v) for v in df["n"]]
        reached = [sum(current[i:]) for i in range(len(current))]
    items = []
    for i, (stage, n) in enumerate(zip(df["stage"], reached)):
        name = stage_names.get(stage, cell.text(stage, "—"))
        label = f"{name}  {format_count(n, threshold)}"
        if i > 0:
            share = format_share(n, reached[i - 1], threshold)
            if share != "—":
                label += f"  {conversion_label} {share}"
        items.append({"name": name, "value": suppress(n, threshold), "label": {"formatter": label}})
    # The scale's top is the widest layer as shown: a suppressed count must not leak through it.
    widest = max((i["value"] for i in items if i["value"] is not None), default=threshold)
    chart = (
        Funnel(init_opts=_no_animation_init())
        .add(series_name, [("", 0)], sort_="none", gap=style.px(3), min_=0, max_=widest,
             min_size="18%", max_size="100%",
             pos_left="4%", width="52%", pos_top="6%", height="88%",
             label_opts=opts.LabelOpts(position="right", color=TEXT, font_size=style.label_px),
             itemstyle_opts=opts.ItemStyleOpts(border_width=0, opacity=0.9))
        .set_global_opts(legend_opts=opts.LegendOpts(is_show=False), tooltip_opts=_tooltip("item", style))
    )
    chart.options["series"][0]["data"] = items
    chart.options["color"] = [CYAN, "#3d8bff", "#36cfc9", GOLD]
    # Labels sit right of the funnel: in a narrow box they wrap rather than run out of it.
    _dict(chart.options["series"][0]["label"]).update(_label_box(style, 0.40, "break"))
    return chart


# ---- monthly trend ------------------------------------------------------------------------

def _area(color_rgb: str) -> dict:
    return {"type": "linear", "x": 0, "y": 0, "x2": 0, "y2": 1,
            "colorStops": [{"offset": 0, "color": f"rgba({color_rgb},0.35)"},
                           {"offset": 1, "color": f"rgba({color_rgb},0.02)"}]}


def monthly_lines(df: pd.DataFrame, *, registrations_name: str, checkins_name: str,
                  threshold: int = DEFAULT_THRESHOLD, style: Style = Style()) -> Line:
    """Registrations and check-ins per month; a suppressed month is a gap, not a number."""
    months = [cell.text(m) for m in df["month"]]
    chart = Line(init_opts=_no_animation_init()).add_xaxis(months)
    for name, col, color, rgb in ((registrations_name, "registrations", GOLD, "255,197,61"),
                                  (checkins_name, "checkins", CYAN, "0,229,255")):
        chart.add_yaxis(name, [suppress(v, threshold) for v in df[col]], is_smooth=True, is_symbol_show=False,
                        label_opts=opts.LabelOpts(is_show=False),
                        linestyle_opts=opts.LineStyleOpts(width=style.px(2), color=color),
                        itemstyle_opts=opts.ItemStyleOpts(color=color),
                        areastyle_opts=opts.AreaStyleOpts(opacity=1, color=_area(rgb)))
    chart.set_global_opts(
        legend_opts=opts.LegendOpts(pos_right=style.px(8), pos_top=0, textstyle_opts=_text(style, style.small_px),
                                    item_width=style.px(16), item_height=style.px(8)),
        tooltip_opts=_tooltip("axis", style),
        xaxis_opts=opts.AxisOpts(type_="category", boundary_gap=False,
                                 axislabel_opts=opts.LabelOpts(color=MUTED, font_size=style.small_px),
                                 splitline_opts=opts.SplitLineOpts(is_show=False)),
        yaxis_opts=_value_axis(style),
    )
    chart.options["grid"] = {"left": style.px(8), "right": style.px(16), "top": style.px(30),
                             "bottom": style.px(4), "containLabel": True}
    # The months hang clear of the count axis' "0", which straddles the axis line.
    _dict(_dict(chart.options["xAxis"][0])["axisLabel"])["margin"] = style.px(12)
    return chart


# ---- age bands × gender -------------------------------------------------------------------

def age_gender_bars(df: pd.DataFrame, band_names: Mapping[str, str], *, male_name: str, female_name: str,
                    threshold: int = DEFAULT_THRESHOLD, style: Style = Style()) -> Bar:
    """Men and women side by side per age band (bands in the order given)."""
    bands = [band_names.get(b, cell.text(b, "—")) for b in df["band"]]
    chart = Bar(init_opts=_no_animation_init()).add_xaxis(bands)
    for name, col, color in ((male_name, "male", CYAN), (female_name, "female", GOLD)):
        chart.add_yaxis(name, [suppress(v, threshold) for v in df[col]], bar_max_width=style.px(16),
                        label_opts=opts.LabelOpts(is_show=True, position="top", color=color,
                                                  font_size=style.small_px),
                        itemstyle_opts=opts.ItemStyleOpts(color=color, border_radius=[3, 3, 0, 0]))
    chart.set_global_opts(
        legend_opts=opts.LegendOpts(pos_right=style.px(8), pos_top=0, textstyle_opts=_text(style, style.small_px),
                                    item_width=style.px(14), item_height=style.px(8)),
        tooltip_opts=_tooltip("axis", style),
        xaxis_opts=opts.AxisOpts(type_="category",
                                 axislabel_opts=opts.LabelOpts(color=TEXT, font_size=style.small_px, interval=0),
                                 splitline_opts=opts.SplitLineOpts(is_show=False)),
        yaxis_opts=_value_axis(style),
    )
    chart.options["grid"] = {"left": style.px(8), "right": style.px(8), "top": style.px(30),
                             "bottom": style.px(4), "containLabel": True}
    if bands and style.width is not None:
        # A band's name wraps within its band (the value axis' labels and the margins take ~44 px).
        width = round(max(style.width - 44, 1) / len(bands))
        band = {"width": width, "overflow": "break"}
        if any(_text_width(name, style.small_px) > width for name in bands):
            # ECharts sizes the axis from a sample of its labels: room for a wrapped one is asked for.
            line = round(style.min_font * 1.3)
            band |= {"lineHeight": line, "height": 2 * line, "verticalAlign": "top"}
        _dict(_dict(chart.options["xAxis"][0])["axisLabel"]).update(band)
    for series in chart.options["series"]:
        # Two numbers over neighbouring bars may not both fit a narrow band: one gives way.
        series["labelLayout"] = {"hideOverlap": True}
    return chart


# ---- education ring -----------------------------------------------------------------------

def education_slices(df: pd.DataFrame, *, other_name: str, top: int = 6) -> pd.DataFrame:
    """The `top` most common education levels and the rest as one slice named `other_name`."""
    rows = list(zip((cell.text(e, "—") for e in df["education"]), (cell.count(v) for v in df["n"])))
    head, tail = rows[:top], rows[top:]
    if tail:
        head.append((other_name, sum(n for _, n in tail)))
    return pd.DataFrame(head, columns=["education", "n"])


def education_ring(df: pd.DataFrame, *, other_name: str, top: int | None = 6, threshold: int = DEFAULT_THRESHOLD,
                   style: Style = Style(), series_name: str = "") -> Pie:
    """The `top` most common education levels and the rest as one slice, as a ring
    (`top=None`: `df` is already the slices, see `education_slices`)."""
    if top is not None:
        df = education_slices(df, other_name=other_name, top=top)
    items = [{"name": str(name), "value": suppress(n, threshold)} for name, n in zip(df["education"], df["n"])]
    chart = (
        Pie(init_opts=_no_animation_init())
        .add(series_name, [("", 0)], radius=["26%", "70%"], center=["38%", "50%"],
             label_opts=opts.LabelOpts(is_show=True, position="inside", formatter="{d}%", color="#041434",
                                       font_size=style.small_px, font_weight="bold"),
             itemstyle_opts=opts.ItemStyleOpts(border_color="#041434", border_width=2))
        .set_global_opts(
            legend_opts=opts.LegendOpts(orient="vertical", pos_right=style.px(4), pos_top="middle",
                                        textstyle_opts=_text(style, style.small_px),
                                        item_width=style.px(12), item_height=style.px(8)),
            tooltip_opts=_tooltip("item", style),
        )
    )
    chart.options["series"][0]["data"] = items
    chart.options["legend"][0]["data"] = [i["name"] for i in items]
    chart.options["color"] = list(PALETTE)
    # Inside the ring the shares need no leader lines (which crowd a small box); whole percent
    # fit a thin slice, and a slice too thin for its share leaves it to the tooltip.
    series = chart.options["series"][0]
    series["percentPrecision"] = 0
    series["labelLayout"] = {"hideOverlap": True}
    return chart


# ---- recent and upcoming activities -------------------------------------------------------

def activity_feed_html(df: pd.DataFrame, texts: Mapping[str, str], *, lang: str = "zh",
                       threshold: int = DEFAULT_THRESHOLD, height_px: int = 200) -> str:
    """A self-scrolling list (CSS animation, no script): the rows twice so the loop is seamless.

    `texts` holds `upcoming`, `past`, `online`, `registered`, `checked_in`, `none` and a
    `kind.<kind>` text per activity kind.
    """
    if df.empty:
        return f'<div class="cockpit-feed" style="height:{height_px}px"><div class="feed-empty">' \
               f'{html.escape(texts["none"])}</div></div>'
    rows = []
    for r in df.itertuples(index=False):
        # Any cell may be missing: an activity created from a sign-in sheet has no district.
        starts = cell.moment(r.starts_at)
        when = starts.strftime("%m-%d %H:%M") if starts else ""
        district = cell.text(r.district_en) if lang == "en" else ""
        district = district or cell.text(r.district_zh)
        if cell.flag(r.online):
            district = texts["online"]
        upcoming = cell.flag(r.upcoming)
        chip = texts["upcoming"] if upcoming else texts["past"]
        numbers = f'{texts["registered"]} {format_count(cell.count(r.registered), threshold)}'
        if not upcoming:
            numbers += f' · {texts["checked_in"]} {format_count(cell.count(r.checked_in), threshold)}'
        kind = cell.text(r.kind, "other")
        where = " · ".join(part for part in (texts.get("kind." + kind, kind), district) if part)
        rows.append(
            f'<li class="{"up" if upcoming else "past"}">'
            f'<span class="chip">{html.escape(chip)}</span>'
            f'<span class="when">{html.escape(when)}</span>'
            f'<span class="title">{html.escape(cell.text(r.title))}</span>'
            f'<span class="where">{html.escape(where)}</span>'
            f'<span class="counts">{html.escape(numbers)}</span></li>'
        )
    body = "".join(rows)
    # Scrolling speed follows the list's length: about 2.5 s per row.
    seconds = max(12, round(2.5 * len(rows)))
    return (f'<div class="cockpit-feed" style="height:{height_px}px">'
            f'<ul class="feed-track" style="animation-duration:{seconds}s">{body}{body}</ul></div>')
