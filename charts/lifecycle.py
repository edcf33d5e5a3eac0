"""Charts of the lifecycle page (plotly): two-reading funnel, time in stage, cohorts, sources, terms.

Texts arrive as arguments (the page translates them); builders only shape data.
A count store.privacy withheld arrives as its mark (`Hidden`): no bar, its mark as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd
import plotly.graph_objects as go

from charts import values as cell
from charts.activities import BAR_COLOUR, WARN_COLOUR, Layout, apply_layout
from store.privacy import count_column, is_withheld, shown_number, shown_text

READING_COLOURS = {"in_order": "#1f6feb", "any_stage": "#8c959f"}


def _pct(value) -> str:
    share = cell.number(value)
    return "—" if share is None else f"{share:.0%}"


def stage_funnel(
    table: pd.DataFrame,
    stage_labels: Mapping[str, str],
    reading_labels: Mapping[str, str],
    layout: Layout = Layout(height=380),
) -> go.Figure:
    """Both readings side by side; each bar's text: count · next-step · cumulative conversion."""
    fig = go.Figure()
    stages = [stage_labels.get(s, s) for s in (cell.text(v, "—") for v in table["stage"])]
    for reading, nxt, cum in (("in_order", "in_order_next", "in_order_cum"), ("any_stage", "any_next", "any_cum")):
        counts = [v if is_withheld(v) else cell.count(v) for v in table[reading]]
        # The first stage has no previous one: its bar shows the count alone.
        text = [
            shown_text(n) if _pct(a) == "—" else f"{shown_text(n)} · {_pct(a)} · {_pct(b)}"
            for n, a, b in zip(counts, table[nxt], table[cum])
        ]
        fig.add_trace(
            go.Funnel(
                name=reading_labels.get(reading, reading),
                y=stages,
                x=[shown_number(n) or 0 for n in counts],
                text=text,
                textinfo="text",
                marker_color=READING_COLOURS[reading],
            )
        )
    fig.update_layout(funnelmode="group")
    return apply_layout(fig, layout)


def stage_time_bars(
    df: pd.DataFrame, stage_labels: Mapping[str, str], axis_title: str = "", layout: Layout = Layout(height=300)
) -> go.Figure:
    """Median days per stage (completed stays only); the bar text gives the number of stays."""
    medians = [cell.number(m) for m in df["median_days"]]
    fig = go.Figure(
        go.Bar(
            x=[stage_labels.get(s, s) for s in (cell.text(v, "—") for v in df["stage"])],
            y=[0 if m is None else m for m in medians],
            text=["—" if m is None else f"{m:g}" for m in medians],
            customdata=count_column(df["stays"]),
            hovertemplate="%{x}: %{text} (n=%{customdata})<extra></extra>",
            marker_color=BAR_COLOUR,
        )
    )
    fig.update_layout(yaxis_title=axis_title or None)
    return apply_layout(fig, layout)


def cohort_heatmap(
    df: pd.DataFrame, stage_labels: Mapping[str, str], layout: Layout = Layout(height=320)
) -> go.Figure:
    """Rows: year of discovery; columns: later stages; colour: share of the year's finds that got there."""
    stages = ["cultivate", "use", "manage"]
    # A cohort without a year cannot be placed in the heatmap's rows.
    df = df.loc[[not cell.is_missing(c) for c in df["cohort"]]]
    finds = list(df["discover"])

    def share(count, n):
        # A withheld count (or year) has no share to colour or print.
        count, n = shown_number(count), shown_number(n)
        return None if count is None or n is None else (count / n if n else 0.0)

    z = [[share(row[s], n) for s in stages] for n, (_, row) in zip(finds, df.iterrows())]
    text = [[shown_text(row[s]) if share(row[s], n) is None else f"{shown_text(row[s])} ({share(row[s], n):.0%})"
             for s in stages] for n, (_, row) in zip(finds, df.iterrows())]
    fig = go.Figure(
        go.Heatmap(
            x=[stage_labels.get(s, s) for s in stages],
            y=[f"{int(c)} (n={shown_text(n)})" for c, n in zip(df["cohort"], finds)],
            z=z,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            showscale=False,
        )
    )
    fig.update_layout(yaxis=dict(autorange="reversed", type="category"))
    return apply_layout(fig, layout)


@dataclass(frozen=True)
class SourceTexts:
    missing: str = "—"
    cultivate: str = "reached cultivate"
    use: str = "reached use"


def source_bars(df: pd.DataFrame, texts: SourceTexts = SourceTexts(), layout: Layout = Layout()) -> go.Figure:
    """Per source: share of its persons that reached 培养 and 使用 (best converting on top)."""
    ordered = df.sort_values(["use_rate", "persons"], ascending=[False, False], kind="stable", na_position="last")
    names = [f"{cell.text(s) or texts.missing} (n={shown_text(n)})" for s, n in zip(ordered["source"], ordered["persons"])]
    fig = go.Figure()
    for column, label, colour in (("cultivate_rate", texts.cultivate, "#54aeff"), ("use_rate", texts.use, BAR_COLOUR)):
        values = [cell.number(v) or 0.0 for v in ordered[column]]
        fig.add_bar(y=names, x=values, name=label, orientation="h", marker_color=colour,
                    text=[_pct(v) for v in values])
    fig.update_layout(barmode="group", xaxis=dict(tickformat=".0%"), yaxis=dict(autorange="reversed"))
    return apply_layout(fig, layout)


@dataclass(frozen=True)
class TermTexts:
    soon: str = "ending within 6 months"
    overdue: str = "past end, no successor"


def term_watch_bars(
    df: pd.DataFrame, body_labels: Mapping[str, str], texts: TermTexts = TermTexts(), layout: Layout = Layout(height=300)
) -> go.Figure:
    """Per body: posts ending soon and posts overdue, side by side."""
    bodies = [body_labels.get(b, b) for b in (cell.text(v, "—") for v in df["body"])]
    fig = go.Figure()
    for column, label, colour in (("soon", texts.soon, "#d29922"), ("overdue", texts.overdue, WARN_COLOUR)):
        fig.add_bar(x=bodies, y=[shown_number(v) for v in df[column]], name=label, marker_color=colour,
                    text=[shown_text(v) for v in df[column]])
    fig.update_layout(barmode="group")
    return apply_layout(fig, layout)


def _texts(values) -> list[str | None]:
    return [cell.optional_text(v) for v in values]


def _day(value):
    moment = cell.moment(value)
    return None if moment is None else moment.date()


CANDIDATE_TABLE_COLUMNS = ("name", "category", "district", "organization", "check_ins", "risks")
TERM_TABLE_COLUMNS = ("name", "district", "body", "title", "term_start", "term_end", "days_left", "risks")
# Words, not a warning sign: a symbol font may be missing on an office machine.
RISK_MARK = "risks: {n}"


def risk_warnings(rows: pd.DataFrame, mark: str = RISK_MARK) -> list[str | None]:
    """A warning per row for the risk records of the person's enterprises; None without any (or no column)."""
    if "risks" not in rows:
        return [None] * len(rows)
    return [None if cell.is_missing(v) or not cell.count(v) else mark.format(n=cell.count(v)) for v in rows["risks"]]


def candidate_table(rows: pd.DataFrame, headers: Mapping[str, str], lang: str = "zh",
                    risk_mark: str = RISK_MARK) -> pd.DataFrame:
    """Candidates for display: name, category, district, organization, check-ins, a risk warning — nothing else."""
    en = lang == "en"
    data = {
        "name": _texts(rows["name"]),
        "category": _texts(rows["category_en"] if en else rows["category_zh"]),
        "district": _texts(rows["district_en"] if en else rows["district_zh"]),
        "organization": _texts(rows["organization"]),
        "check_ins": [cell.count(v) for v in rows["check_ins"]],
        "risks": risk_warnings(rows, risk_mark),
    }
    return pd.DataFrame({headers[c]: data[c] for c in CANDIDATE_TABLE_COLUMNS})


def term_table(
    rows: pd.DataFrame, body_labels: Mapping[str, str], headers: Mapping[str, str], lang: str = "zh",
    risk_mark: str = RISK_MARK,
) -> pd.DataFrame:
    """Posts for display, bodies as names; days_left is negative for overdue posts."""
    data = {
        "name": _texts(rows["name"]),
        "district": _texts(rows["district_en"] if lang == "en" else rows["district_zh"]),
        "body": [body_labels.get(b, b) if b else None for b in (cell.text(v) for v in rows["body"])],
        "title": _texts(rows["title"]),
        # Dates as dates (None for a gap): a column mixing dates and NaN cannot go to Arrow.
        "term_start": [_day(v) for v in rows["term_start"]],
        "term_end": [_day(v) for v in rows["term_end"]],
        "days_left": pd.array([None if cell.is_missing(v) else cell.count(v) for v in rows["days_left"]],
                              dtype="Int64"),
        "risks": risk_warnings(rows, risk_mark),
    }
    return pd.DataFrame({headers[c]: data[c] for c in TERM_TABLE_COLUMNS})


FUNNEL_TABLE_COLUMNS = ("stage", "in_order", "in_order_next", "in_order_cum", "any_stage", "any_next", "any_cum")
FUNNEL_RATE_COLUMNS = ("in_order_next", "in_order_cum", "any_next", "any_cum")
COHORT_TABLE_COLUMNS = ("cohort", "discover", "days_to_cultivate", "days_to_use")


def funnel_table(table: pd.DataFrame, stage_labels: Mapping[str, str], headers: Mapping[str, str]) -> pd.DataFrame:
    """The funnel's numbers for display: stage names, counts and conversion shares (0–1)."""
    data = {c: table[c].tolist() for c in FUNNEL_TABLE_COLUMNS}
    data["stage"] = [stage_labels.get(s, s) if s else None for s in (cell.text(v) for v in table["stage"])]
    for counts in ("in_order", "any_stage"):
        data[counts] = count_column(table[counts])
    return pd.DataFrame({headers[c]: data[c] for c in FUNNEL_TABLE_COLUMNS})


def cohort_table(df: pd.DataFrame, headers: Mapping[str, str]) -> pd.DataFrame:
    """Cohort years with their finds and median days to 培养 / 使用 (None when nobody got there)."""
    data = {c: df[c].tolist() for c in COHORT_TABLE_COLUMNS}
    data["cohort"] = [None if cell.is_missing(y) else str(cell.count(y)) for y in df["cohort"]]
    data["discover"] = count_column(df["discover"])
    return pd.DataFrame({headers[c]: data[c] for c in COHORT_TABLE_COLUMNS})
