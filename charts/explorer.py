"""The explorer's charts: DataFrame + options -> plotly Figure, pure and clickable.

Every bar carries its code in `customdata`, so a click or a box/lasso selection
maps back to a filter value without looking labels up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go

from charts import values as cell

PALETTE = ("#b03a2e", "#2e86c1")  # the department's red; a calm blue for the second series


@dataclass(frozen=True)
class BarOptions:
    title: str = ""
    horizontal: bool = False
    height: int = 320
    color: str = PALETTE[0]
    empty_text: str = ""
    # Codes already in the filter are drawn darker, so the chart shows what it is narrowed to.
    selected: tuple[str, ...] = ()


@dataclass(frozen=True)
class PyramidOptions:
    title: str = ""
    height: int = 360
    colors: dict = field(default_factory=lambda: {"M": PALETTE[1], "F": PALETTE[0]})
    empty_text: str = ""


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin={"l": 8, "r": 8, "t": 40 if title else 8, "b": 8},
        showlegend=False,
        bargap=0.25,
    )
    return fig


def _empty(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 14, "color": "#888"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def bar_chart(df: pd.DataFrame, options: BarOptions = BarOptions()) -> go.Figure:
    """Bars of `n` by `label` from rows (code, label, n); customdata holds `code`."""
    fig = go.Figure()
    _layout(fig, options.title, options.height)
    if df.empty:
        return _empty(fig, options.empty_text)
    codes = [cell.text(c) for c in df["code"]]
    labels = [cell.text(x) or cell.text(c, "—") for x, c in zip(df["label"], df["code"])]
    values = [cell.count(v) for v in df["n"]]
    colors = [_darker(options.color) if c in options.selected else options.color for c in codes]
    if options.horizontal:
        # Largest at the top: plotly draws the first category at the bottom.
        codes, labels, values, colors = codes[::-1], labels[::-1], values[::-1], colors[::-1]
        trace = go.Bar(x=values, y=labels, orientation="h", customdata=codes, marker_color=colors,
                       hovertemplate="%{y}: %{x:,}<extra></extra>", text=values, textposition="auto")
    else:
        trace = go.Bar(x=labels, y=values, customdata=codes, marker_color=colors,
                       hovertemplate="%{x}: %{y:,}<extra></extra>", text=values, textposition="auto")
    fig.add_trace(trace)
    if options.horizontal:
        fig.update_yaxes(type="category", automargin=True)
    else:
        fig.update_xaxes(type="category", tickangle=-30 if len(labels) > 6 else 0, automargin=True)
    return fig


def age_gender_pyramid(df: pd.DataFrame, options: PyramidOptions = PyramidOptions()) -> go.Figure:
    """Back-to-back bars from rows (band, label, gender, gender_label, n): men left, women right.

    customdata is [band, gender] so a click on one bar maps to an age band and a gender.
    """
    fig = go.Figure()
    _layout(fig, options.title, options.height)
    # A row without a band or a gender cannot be placed on the pyramid.
    df = pd.DataFrame({
        "band": [cell.count(b, -1) for b in df["band"]],
        "label": [cell.text(x) for x in df["label"]],
        "gender": [cell.text(g) for g in df["gender"]],
        "gender_label": [cell.text(x) for x in df["gender_label"]],
        "n": [cell.count(v) for v in df["n"]],
    }, columns=["band", "label", "gender", "gender_label", "n"])
    df = df[(df["band"] >= 0) & df["gender"].isin(list(options.colors))]
    df = df.assign(label=[lbl or str(b) for lbl, b in zip(df["label"], df["band"])])
    if df.empty or int(df["n"].sum()) == 0:
        return _empty(fig, options.empty_text)
    order = df.drop_duplicates("band").sort_values("band")
    fig.update_layout(barmode="relative", showlegend=True,
                      legend={"orientation": "h", "y": -0.08, "x": 0.5, "xanchor": "center"})
    for gender, sign in (("M", -1), ("F", 1)):
        part = df[df["gender"] == gender].sort_values("band")
        if part.empty:
            continue
        counts = [int(v) for v in part["n"]]
        name = part["gender_label"].iloc[0] or gender
        fig.add_trace(go.Bar(
            y=list(part["label"]),
            x=[sign * v for v in counts],
            orientation="h",
            name=name,
            marker_color=options.colors.get(gender, PALETTE[0]),
            customdata=[[int(b), gender] for b in part["band"]],
            text=[f"{v:,}" for v in counts],
            textposition="auto",
            # Bars to the left are negative only for drawing; the hover shows the count.
            hovertemplate="%{y} " + name + ": %{text}<extra></extra>",
        ))
    peak = max(int(df["n"].max()), 1)
    ticks = _nice_ticks(peak)
    fig.update_xaxes(tickvals=[-t for t in ticks[:0:-1]] + ticks, ticktext=[f"{t:,}" for t in ticks[:0:-1]] + [f"{t:,}" for t in ticks],
                     range=[-peak * 1.1, peak * 1.1])
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(order["label"]))
    return fig


def _nice_ticks(peak: int) -> list[int]:
    """0 and up to three round steps below `peak`."""
    magnitude = 10 ** max(len(str(peak)) - 1, 0)
    step = max(magnitude * (1 if peak / magnitude >= 3 else 0.5), 1)
    step = int(step)
    return [0] + [step * k for k in range(1, 4) if step * k <= peak]


def _darker(hex_color: str, factor: float = 0.65) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return "#{:02x}{:02x}{:02x}".format(int(r * factor), int(g * factor), int(b * factor))


@dataclass(frozen=True)
class TimelineOptions:
    title: str = ""
    height: int = 160
    color: str = PALETTE[0]
    empty_text: str = ""
    # d3 time formats: the axis ticks (the page passes "%Y年%-m月" in Chinese) and the hover.
    tick_format: str = "%Y-%m"
    hover_format: str = "%Y-%m-%d"


# Months between ticks, the first that leaves at most six ticks on the axis.
TICK_MONTHS = (1, 2, 3, 6, 12, 24, 60, 120)


def stage_timeline(df: pd.DataFrame, options: TimelineOptions = TimelineOptions()) -> go.Figure:
    """A person's stage history from rows (stage, label, entered_at): one marker per change."""
    fig = go.Figure()
    _layout(fig, options.title, options.height)
    # A change without a date cannot be placed on the line.
    events = sorted(
        (when, cell.text(label) or cell.text(stage, "—"), cell.text(stage))
        for when, label, stage in zip((cell.moment(x) for x in df["entered_at"]), df["label"], df["stage"])
        if when is not None
    )
    if not events:
        return _empty(fig, options.empty_text)
    when = [e[0] for e in events]
    fig.add_trace(go.Scatter(
        x=when, y=[0] * len(when), mode="lines+markers+text", text=[e[1] for e in events],
        textposition="top center", marker={"size": 14, "color": options.color}, line={"color": "#bbb", "width": 2},
        customdata=[e[2] for e in events],
        hovertemplate="%{text}<br>%{x|" + options.hover_format + "}<extra></extra>",
    ))
    fig.update_yaxes(visible=False, range=[-1, 1.5])
    # One event (or several on one day) leaves plotly a zero-width axis, which it fills with
    # millisecond ticks: the axis always spans months, and ticks fall on whole months.
    first, last = when[0], when[-1]
    pad = max((last - first) * 0.08, timedelta(days=60))
    months = ((last - first) + 2 * pad).days / 30.44
    step = next((m for m in TICK_MONTHS if months / m <= 6), TICK_MONTHS[-1])
    fig.update_xaxes(showgrid=False, type="date", range=[first - pad, last + pad], dtick=f"M{step}",
                     tick0=f"{first.year}-01-01", tickformat=options.tick_format)
    return fig
