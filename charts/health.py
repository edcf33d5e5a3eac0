"""Charts of the data-health page (plotly): liveness gauge, freshness bars, completeness heatmap,
and the import-batch table.

Texts arrive as arguments (the page translates them); builders only shape data.
A count store.privacy withheld arrives as its mark (`Hidden`): no share, its mark as text.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd
import plotly.graph_objects as go

from charts import values as cell
from charts.activities import Layout, apply_layout
from store.privacy import count_column, is_withheld, shown_number, shown_text

# Darker = fresher: the 3-month bar is the strictest reading.
WINDOW_COLOURS = {3: "#0a3069", 6: "#1f6feb", 12: "#80ccff"}
GAUGE_STEPS = ((0, 40, "#ffebe9"), (40, 70, "#fff8c5"), (70, 100, "#dafbe1"))


def group_labels(df: pd.DataFrame, lang: str, labels: Mapping[str, str] | None = None, unknown: str = "—") -> list[str]:
    """A row's display name: `labels[key]` if given, else name_zh / name_en by `lang`, else the key."""
    labels = labels or {}
    names = df["name_en"] if lang == "en" else df["name_zh"]
    out = []
    for key, name in zip(df["key"], names):
        if cell.is_missing(key):
            out.append(unknown)
        elif key in labels:
            out.append(labels[key])
        else:
            out.append(cell.text(name) or str(key))
    return out


def liveness_gauge(score: int | None, title: str = "", layout: Layout = Layout(height=260)) -> go.Figure:
    """A 0–100 gauge; red below 40, amber below 70, green above."""
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=cell.count(score),
            number=dict(suffix="", valueformat="d"),
            title=dict(text=title) if title else None,
            gauge=dict(
                axis=dict(range=[0, 100]),
                bar=dict(color="#1f6feb"),
                steps=[dict(range=[lo, hi], color=c) for lo, hi, c in GAUGE_STEPS],
            ),
        )
    )
    return apply_layout(fig, layout)


def freshness_bars(
    df: pd.DataFrame,
    names: list[str],
    window_labels: Mapping[int, str],
    layout: Layout = Layout(),
) -> go.Figure:
    """One row per group; bars: share of its persons updated within each window (text: share · count)."""
    rows = [f"{name} (n={shown_text(n)})" for name, n in zip(names, df["persons"])]
    fig = go.Figure()
    for months, label in window_labels.items():
        shares = [cell.number(s) or 0.0 for s in df[f"share_{months}"]]
        counts = df[f"fresh_{months}"]
        withheld = [is_withheld(c) or is_withheld(n) for c, n in zip(counts, df["persons"])]
        fig.add_bar(
            y=rows, x=shares, name=label, orientation="h", marker_color=WINDOW_COLOURS.get(months, "#8c959f"),
            text=["—" if w else f"{s:.0%}" for w, s in zip(withheld, shares)], textposition="outside",
            cliponaxis=False, customdata=count_column(counts),
            hovertemplate="%{y} · " + label + ": %{text} (%{customdata})<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        xaxis=dict(tickformat=".0%", range=[0, 1.08]),
        yaxis=dict(autorange="reversed", type="category"),
    )
    height = max(layout.height, 60 + 28 * len(rows) * max(1, len(window_labels)) // 2)
    return apply_layout(fig, Layout(height=height, title=layout.title))


def completeness_matrix(df: pd.DataFrame, fields: tuple[str, ...],
                        overall: tuple | None = None) -> tuple[list, list[list[float | None]], list[list]]:
    """(persons per row, share filled, count filled) with an 'all categories' row first.

    `overall`: that row's (persons, counts) when `df` holds withheld counts, which add up to nothing.
    """
    if overall is None:
        overall = (int(df["persons"].sum()), [int(df[f].sum()) for f in fields])
    persons = [overall[0]] + list(df["persons"])
    counts = [list(overall[1])] + [[row[f] for f in fields] for _, row in df.iterrows()]

    def share(count, n):
        count, n = shown_number(count), shown_number(n)
        return None if count is None or n is None else (count / n if n else 0.0)

    shares = [[share(c, n) for c in row] for n, row in zip(persons, counts)]
    return persons, shares, counts


def completeness_heatmap(
    df: pd.DataFrame,
    fields: tuple[str, ...],
    field_labels: Mapping[str, str],
    row_names: list[str],
    overall_label: str,
    layout: Layout = Layout(),
    overall: tuple | None = None,
) -> go.Figure:
    """Rows: all categories, then each category; columns: fields; colour and text: share filled."""
    persons, shares, counts = completeness_matrix(df, fields, overall)
    y = [f"{name} (n={shown_text(n)})" for name, n in zip([overall_label, *row_names], persons)]
    fig = go.Figure(
        go.Heatmap(
            x=[field_labels.get(f, f) for f in fields],
            y=y,
            z=shares,
            text=[["—" if s is None else f"{s:.0%}" for s in row] for row in shares],
            customdata=[[shown_text(c) for c in row] for row in counts],
            texttemplate="%{text}",
            hovertemplate="%{y} · %{x}: %{text} (%{customdata})<extra></extra>",
            colorscale=[[0, "#cf222e"], [0.5, "#fff8c5"], [1, "#2da44e"]],
            zmin=0,
            zmax=1,
            showscale=False,
        )
    )
    fig.update_layout(yaxis=dict(autorange="reversed", type="category"), xaxis=dict(side="top", type="category"))
    height = max(layout.height, 80 + 30 * len(y))
    return apply_layout(fig, Layout(height=height, title=layout.title))


BATCH_TABLE_COLUMNS = ("file_name", "imported_at", "imported_by", "rows_read", "inserted", "updated",
                       "unchanged", "rejected", "reject_rate", "status")


def batch_table(rows: pd.DataFrame, headers: Mapping[str, str], status_labels: Mapping[str, str]) -> pd.DataFrame:
    """Import batches for display; reject_rate stays a 0–1 share for a percent column format."""
    data = {c: rows[c].tolist() for c in BATCH_TABLE_COLUMNS}
    data["file_name"] = [cell.optional_text(v) for v in rows["file_name"]]
    data["imported_by"] = [cell.optional_text(v) for v in rows["imported_by"]]
    data["imported_at"] = pd.to_datetime(pd.Series([cell.moment(v) for v in rows["imported_at"]], dtype=object))
    for c in ("rows_read", "inserted", "updated", "unchanged", "rejected"):
        data[c] = [cell.count(v) for v in rows[c]]
    data["reject_rate"] = pd.Series([cell.number(v) for v in rows["reject_rate"]], dtype="float64")
    data["status"] = [status_labels.get(s, s) if s else None for s in (cell.text(v) for v in rows["status"])]
    return pd.DataFrame({headers[c]: list(data[c]) for c in BATCH_TABLE_COLUMNS})
