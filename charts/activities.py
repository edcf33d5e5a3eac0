"""Charts of the activities page (plotly): trend by kind, participation funnel, reach bars.

Texts arrive as arguments (the page translates them); names are picked from a
query's `name_zh` / `name_en` columns by `lang`. A count store.privacy withheld
arrives as its mark (`Hidden`): it draws no bar and reads as its mark.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Mapping

import pandas as pd
import plotly.graph_objects as go

from charts import values as cell
from store.privacy import count_column, is_withheld, shown_number, shown_text

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


@dataclass(frozen=True)
class PartialMonthTexts:
    """Tick labels of a month the period covers in part; placeholders {month} and {day}."""

    starts: str = "{month} (from day {day})"
    ends: str = "{month} (to day {day})"


def month_ticks(months: list[str], period: tuple[date, date], texts: PartialMonthTexts) -> list[str]:
    """The months ("YYYY-MM") as tick labels; the period's first and last month say when they are
    only partly in it, so a short last bar reads as "so far", not as a collapse."""
    start, end = period
    first, last = f"{start:%Y-%m}", f"{end:%Y-%m}"
    ticks = []
    for month in months:
        if month == last and end.day < calendar.monthrange(end.year, end.month)[1]:
            month = texts.ends.format(month=month, day=end.day)
        elif month == first and start.day > 1:
            month = texts.starts.format(month=month, day=start.day)
        ticks.append(month)
    return ticks


def monthly_trend(
    df: pd.DataFrame,
    metric: str,
    kind_labels: Mapping[str, str],
    axis_title: str = "",
    layout: Layout = Layout(),
    period: tuple[date, date] | None = None,
    partial: PartialMonthTexts = PartialMonthTexts(),
) -> go.Figure:
    """Stacked bars: `metric` (activities, registrations or checked_in) per month, one colour per kind.

    With `period`, a month the period covers only in part is labelled so (see month_ticks).
    """
    fig = go.Figure()
    # A row without a month cannot be placed; a row without a kind counts as "other".
    # A withheld count (store.privacy) keeps its mark: one month × kind cell is one row.
    totals: dict[tuple[str, str], object] = {}
    for m, k, v in zip(df["month"], df["kind"], df[metric]):
        month, kind = cell.text(m), cell.text(k, "other")
        if not month:
            continue
        before = totals.get((kind, month), 0)
        totals[(kind, month)] = v if is_withheld(v) or is_withheld(before) else before + cell.count(v)
    months = sorted({m for _, m in totals})
    present = {k for k, _ in totals}
    kinds = [k for k in KIND_COLOURS if k in present] + sorted(present - set(KIND_COLOURS))
    for kind in kinds:
        fig.add_bar(
            x=months,
            y=[shown_number(totals.get((kind, m), 0)) for m in months],
            customdata=[shown_text(totals.get((kind, m), 0)) for m in months],
            hovertemplate="%{x} · %{fullData.name}: %{customdata}<extra></extra>",
            name=kind_labels.get(kind, kind),
            marker_color=KIND_COLOURS.get(kind, "#8c959f"),
        )
    fig.update_layout(barmode="stack", yaxis_title=axis_title or None, xaxis_type="category")
    if period is not None and months:
        fig.update_xaxes(tickvals=months, ticktext=month_ticks(months, period, partial))
    return apply_layout(fig, layout)


@dataclass(frozen=True)
class FunnelTexts:
    registered: str = "registered"
    approved: str = "approved"
    checked_in: str = "checked in"
    # Placeholder {rate}: the no-show rate, or "—".
    no_show: str = "no-show rate {rate}"
    # Placeholders {n} and {rate}: a layer's count and its rate (the page's headline rates).
    layer: str = "{n} · {rate}"


FUNNEL_RATES = {"approved": "approval_rate", "checked_in": "checkin_rate"}


def participation_funnel(df: pd.DataFrame, texts: FunnelTexts = FunnelTexts(), layout: Layout = Layout(height=300)) -> go.Figure:
    """Registered → approved → checked-in of the first row of `df`, its no-show rate as a note.

    The rates come with the counts (store.queries.activities.activity_funnel takes them from
    ActivitySummary): approved shows the approval rate, checked in the check-in rate (of the
    approved), exactly as the page's headline numbers, so one screen never shows two check-in
    rates. Counts are written out in full ("10,756"), never abbreviated ("10.756k"). A withheld
    count shows its mark alone, and no rate that would give it (or its base) away.
    """
    row = df.iloc[0] if len(df) else pd.Series(dtype=object)
    values = [row.get(c) for c in ("registrations", "approved", "checked_in")]
    text = [shown_text(values[0])]
    for base, value, column in zip(values, values[1:], ("approved", "checked_in")):
        if is_withheld(value) or is_withheld(base):
            text.append(shown_text(value))
            continue
        rate = row.get(FUNNEL_RATES[column]) if FUNNEL_RATES[column] in row else _share(value, base)
        text.append(texts.layer.format(n=shown_text(value, "0"), rate=cell.percent(rate)))
    fig = go.Figure(
        go.Funnel(
            y=[texts.registered, texts.approved, texts.checked_in],
            x=[shown_number(v) or 0 for v in values],
            text=text,
            textinfo="text",
            hovertemplate="%{y}: %{text}<extra></extra>",
            marker_color=[BAR_COLOUR, "#54aeff", "#2da44e"],
        )
    )
    withheld = any(is_withheld(row.get(c)) for c in ("approved", "absent"))
    rate = row.get("no_show_rate") if "no_show_rate" in row else _share(row.get("absent"), row.get("approved"))
    no_show = "—" if withheld else cell.percent(rate)
    fig.add_annotation(
        text=texts.no_show.format(rate=no_show), xref="paper", yref="paper", x=1, y=0,
        showarrow=False, font=dict(color=WARN_COLOUR),
    )
    return apply_layout(fig, layout)


def _share(count, base) -> float | None:
    # Totals without their rates (a leader's period, store.privacy): the same rate, from the counts.
    count, base = shown_number(count), shown_number(base)
    return None if count is None or not base else count / base


def name_column(df: pd.DataFrame, lang: str, missing: str) -> list[str]:
    """Display names for `code`/`name_zh`/`name_en` rows: the language's name, else the code, else `missing`."""
    return [cell.text(en if lang == "en" else zh) or cell.text(code, missing)
            for code, zh, en in zip(df["code"], df["name_zh"], df["name_en"])]


@dataclass(frozen=True)
class BarTexts:
    lang: str = "zh"
    missing: str = "—"
    value_title: str = ""


def reach_rate_bars(df: pd.DataFrame, texts: BarTexts = BarTexts(), layout: Layout = Layout()) -> go.Figure:
    """Horizontal bars: share of persons with at least one check-in, per category or district."""
    names = name_column(df, texts.lang, texts.missing)
    rates = [cell.number(r) or 0.0 for r in df["rate"]]
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
        "title": [cell.optional_text(v) for v in rows["title"]],
        "kind": [kind_labels.get(k, k) if k else None for k in (cell.text(v) for v in rows["kind"])],
        "starts_at": pd.to_datetime(pd.Series([cell.moment(v) for v in rows["starts_at"]], dtype=object)),
        "district": [cell.optional_text(d) for d in district],
        "online": [cell.flag(v) for v in rows["online"]],
        **{c: count_column(rows[c]) for c in ("registrations", "approved", "checked_in", "absent")},
        "no_show_rate": [cell.number(v) for v in rows["no_show_rate"]],
    }
    table = pd.DataFrame({headers[c]: data[c] for c in ACTIVITY_TABLE_COLUMNS})
    table[headers["no_show_rate"]] = table[headers["no_show_rate"]].astype("float64")
    return table
