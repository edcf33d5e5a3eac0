"""Charts of the activities page (plotly): trend by kind, participation funnel, reach bars.

Texts arrive as arguments (the page translates them); names are picked from a
query's `name_zh` / `name_en` columns by `lang`. A count store.privacy withheld
arrives as its mark (`Hidden`): it draws no bar and reads as its mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd
import plotly.graph_objects as go

from store.privacy import count_column, is_withheld, shown_number, shown_rate, shown_text

# Kinds keep their colour whatever subset a period shows.
KIND_COLOURS = {
    "training": "#1f6feb",
    "lecture": "#2da44e",
    "onsite": "#d29922",
    "survey": "#8250df",
    "other": "#8c959f",
}
BAR_COLOUR = "#1f6feb"
WARN_COLOUR = "#cf222e"


@dataclass(frozen=True)
class Layout:
    height: int = 360
    title: str = ""


def apply_layout(fig: go.Figure, layout: Layout) -> go.Figure:
    fig.update_layout(
        height=layout.height,
        title=layout.title or None,
        margin=dict(l=10, r=10, t=40 if layout.title else 10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig


def monthly_trend(
    df: pd.DataFrame,
    metric: str,
    kind_labels: Mapping[str, str],
    axis_title: str = "",
    layout: Layout = Layout(),
) -> go.Figure:
    """Stacked bars: `metric` (activities, registrations or checked_in) per month, one colour per kind."""
    fig = go.Figure()
    months = sorted(df["month"].unique().tolist()) if len(df) else []
    kinds = [k for k in KIND_COLOURS if k in set(df["kind"])] + sorted(set(df["kind"]) - set(KIND_COLOURS))
    for kind in kinds:
        part = df[df["kind"] == kind].set_index("month")[metric].reindex(months, fill_value=0)
        fig.add_bar(
            x=months,
            y=[shown_number(v) for v in part],
            customdata=[shown_text(v) for v in part],
            hovertemplate="%{x} · %{fullData.name}: %{customdata}<extra></extra>",
            name=kind_labels.get(kind, kind),
            marker_color=KIND_COLOURS.get(kind, "#8c959f"),
        )
    fig.update_layout(barmode="stack", yaxis_title=axis_title or None, xaxis_type="category")
    return apply_layout(fig, layout)


@dataclass(frozen=True)
class FunnelTexts:
    registered: str = "registered"
    approved: str = "approved"
    checked_in: str = "checked in"
    # Placeholder {rate}: the no-show rate, or "—".
    no_show: str = "no-show rate {rate}"


def participation_funnel(df: pd.DataFrame, texts: FunnelTexts = FunnelTexts(), layout: Layout = Layout(height=300)) -> go.Figure:
    """Registered → approved → checked-in of the first row of `df`, its no-show rate as a note."""
    row = df.iloc[0] if len(df) else pd.Series({"registrations": 0, "approved": 0, "checked_in": 0, "absent": 0})
    values = [row["registrations"], row["approved"], row["checked_in"]]
    # Each layer's count and its share of the first; a withheld count shows its mark alone.
    text = [shown_text(v) if i == 0 or shown_rate(v, values[0], 0) is None
            else f"{shown_text(v)} · {shown_rate(v, values[0], 0):.0%}" for i, v in enumerate(values)]
    fig = go.Figure(
        go.Funnel(
            y=[texts.registered, texts.approved, texts.checked_in],
            x=[shown_number(v) or 0 for v in values],
            text=text,
            textinfo="text",
            marker_color=[BAR_COLOUR, "#54aeff", "#2da44e"],
        )
    )
    no_show = shown_rate(row["absent"], row["approved"], 0)
    rate = "—" if no_show is None else f"{no_show:.1%}"
    fig.add_annotation(
        text=texts.no_show.format(rate=rate), xref="paper", yref="paper", x=1, y=0, showarrow=False,
        font=dict(color=WARN_COLOUR),
    )
    return apply_layout(fig, layout)


def name_column(df: pd.DataFrame, lang: str, missing: str) -> list[str]:
    """Display names for `code`/`name_zh`/`name_en` rows: the language's name, else the code, else `missing`."""
    names = []
    for code, zh, en in zip(df["code"], df["name_zh"], df["name_en"]):
        name = en if lang == "en" else zh
        if name is None or name != name:  # NaN from a missing join
            name = code if code is not None and code == code else missing
        names.append(str(name))
    return names


@dataclass(frozen=True)
class BarTexts:
    lang: str = "zh"
    missing: str = "—"
    value_title: str = ""


def reach_rate_bars(df: pd.DataFrame, texts: BarTexts = BarTexts(), layout: Layout = Layout()) -> go.Figure:
    """Horizontal bars: share of persons with at least one check-in, per category or district."""
    names = name_column(df, texts.lang, texts.missing)
    rates = [0.0 if r != r else float(r) for r in df["rate"]]
    withheld = [is_withheld(a) or is_withheld(b) for a, b in zip(df["reached"], df["persons"])]
    fig = go.Figure(
        go.Bar(
            y=names,
            x=rates,
            orientation="h",
            marker_color=BAR_COLOUR,
            text=["—" if w else f"{r:.0%}" for w, r in zip(withheld, rates)],
            customdata=[(shown_text(a), shown_text(b)) for a, b in zip(df["reached"], df["persons"])],
            hovertemplate="%{y}: %{text} (%{customdata[0]} / %{customdata[1]})<extra></extra>",
        )
    )
    fig.update_layout(xaxis=dict(tickformat=".0%", title=texts.value_title or None), yaxis=dict(autorange="reversed"))
    return apply_layout(fig, layout)


def dormant_bars(df: pd.DataFrame, texts: BarTexts = BarTexts(), layout: Layout = Layout()) -> go.Figure:
    """Horizontal bars: persons without a check-in in 12 months, per category or district."""
    names = name_column(df, texts.lang, texts.missing)
    fig = go.Figure(
        go.Bar(
            y=names,
            x=[shown_number(d) for d in df["dormant"]],
            orientation="h",
            marker_color=WARN_COLOUR,
            text=[shown_text(d) for d in df["dormant"]],
            customdata=[shown_text(n) for n in df["persons"]],
            hovertemplate="%{y}: %{text} / %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(xaxis=dict(title=texts.value_title or None), yaxis=dict(autorange="reversed"))
    return apply_layout(fig, layout)


ACTIVITY_TABLE_COLUMNS = ("title", "kind", "starts_at", "district", "online", "registrations", "approved",
                          "checked_in", "absent", "no_show_rate")


def activity_table(
    rows: pd.DataFrame, kind_labels: Mapping[str, str], headers: Mapping[str, str], lang: str = "zh"
) -> pd.DataFrame:
    """A page of activities for display: kinds and districts as names, headers translated.

    `headers` maps each of ACTIVITY_TABLE_COLUMNS to its header text.
    """
    district = rows["district_en"] if lang == "en" else rows["district_zh"]
    data = {
        "title": rows["title"].tolist(),
        "kind": [kind_labels.get(k, k) for k in rows["kind"]],
        "starts_at": rows["starts_at"].tolist(),
        "district": [None if d != d else d for d in district],
        "online": [bool(v) for v in rows["online"]],
        "registrations": count_column(rows["registrations"]),
        "approved": count_column(rows["approved"]),
        "checked_in": count_column(rows["checked_in"]),
        "absent": count_column(rows["absent"]),
        "no_show_rate": rows["no_show_rate"].astype(float).tolist(),
    }
    return pd.DataFrame({headers[c]: data[c] for c in ACTIVITY_TABLE_COLUMNS})
