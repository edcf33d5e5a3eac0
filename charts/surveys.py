"""Charts of survey results (plotly): one horizontal bar chart per question, and a cross-tab heatmap.

Texts arrive as arguments (the page translates them); builders only shape data. A choice
nobody chose is a bar of zero, not a missing bar; a missing count reads as zero.
Choices are respondents' staff-written texts: plotly shows them as text, never as markup.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from charts import values as cell
from charts.activities import Layout, apply_layout

BAR = "#a61b1b"


def _label(value) -> str:
    # Plotly reads a few HTML tags in labels (<b>, <br>, <a>): a choice's text is escaped to stay text.
    return html.escape(cell.text(value, "—"))


def choice_bars(counts: pd.DataFrame, layout: Layout = Layout(height=260)) -> go.Figure:
    """Bars of `n` per `value`, in the question's order of choices (first on top)."""
    values = [_label(v) for v in counts["value"]] if not counts.empty else []
    ns = [cell.count(n) for n in counts["n"]] if not counts.empty else []
    total = sum(ns)
    fig = go.Figure(go.Bar(
        x=ns, y=values, orientation="h", marker_color=BAR,
        text=[f"{n} ({n / total:.0%})" if total else str(n) for n in ns], textposition="auto",
        hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(rangemode="tozero", tickformat="d")
    return apply_layout(fig, layout)


def crosstab_heatmap(table: pd.DataFrame, layout: Layout = Layout(height=320)) -> go.Figure:
    """Counts of each choice (columns) within each group (rows: categories or districts)."""
    if table.empty:
        return apply_layout(go.Figure(), layout)
    z = table.fillna(0).astype(int)
    fig = go.Figure(go.Heatmap(z=z.values, x=[_label(c) for c in z.columns], y=[_label(r) for r in z.index],
                               colorscale="Reds", text=z.values, texttemplate="%{text}", showscale=False,
                               hovertemplate="%{y} · %{x}: %{z}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", automargin=True)
    return apply_layout(fig, layout)
