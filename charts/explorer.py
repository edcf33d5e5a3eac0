"""The explorer's charts: DataFrame + options -> plotly Figure, pure and clickable.

Every bar carries its code in `customdata`, so a click or a box/lasso selection
maps back to a filter value without looking labels up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

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
    codes = [str(c) for c in df["code"]]
    labels = [str(x) for x in df["label"]]
    values = [int(v) for v in df["n"]]
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
        fig.add_trace(go.Bar(
            y=[str(x) for x in part["label"]],
            x=[sign * v for v in counts],
            orientation="h",
            name=str(part["gender_label"].iloc[0]),
            marker_color=options.colors.get(gender, PALETTE[0]),
            customdata=[[int(b), gender] for b in part["band"]],
            text=[f"{v:,}" for v in counts],
            textposition="auto",
            # Bars to the left are negative only for drawing; the hover shows the count.
            hovertemplate="%{y} " + str(part["gender_label"].iloc[0]) + ": %{text}<extra></extra>",
        ))
    peak = max(int(df["n"].max()), 1)
    ticks = _nice_ticks(peak)
    fig.update_xaxes(tickvals=[-t for t in ticks[:0:-1]] + ticks, ticktext=[f"{t:,}" for t in ticks[:0:-1]] + [f"{t:,}" for t in ticks],
                     range=[-peak * 1.1, peak * 1.1])
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=[str(x) for x in order["label"]])
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


def stage_timeline(df: pd.DataFrame, options: TimelineOptions = TimelineOptions()) -> go.Figure:
    """A person's stage history from rows (stage, label, entered_at): one marker per change."""
    fig = go.Figure()
    _layout(fig, options.title, options.height)
    if df.empty:
        return _empty(fig, options.empty_text)
    when = [pd.Timestamp(x).to_pydatetime() for x in df["entered_at"]]
    labels = [str(x) for x in df["label"]]
    fig.add_trace(go.Scatter(
        x=when, y=[0] * len(when), mode="lines+markers+text", text=labels, textposition="top center",
        marker={"size": 14, "color": options.color}, line={"color": "#bbb", "width": 2},
        customdata=[str(s) for s in df["stage"]], hovertemplate="%{text}<br>%{x|%Y-%m-%d}<extra></extra>",
    ))
    fig.update_yaxes(visible=False, range=[-1, 1.5])
    fig.update_xaxes(showgrid=False)
    return fig
