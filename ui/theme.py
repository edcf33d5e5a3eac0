"""The cockpit's dark big-screen look, its layout for the window it is in, and the live clock.

Every size is written in design pixels of a 1920×1080 screen and scaled in the browser
(`--u`, one design pixel, follows the width of the page and the height of the window), so
the grid fills a laptop, a full-HD or a 4K screen without a URL parameter; type has a
floor, so a small window gets shorter labels rather than unreadable ones. Below 1000 px of
width the panels stack (a phone); in kiosk mode they then take turns in one place.
"""

from __future__ import annotations

import html
import json
import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from charts import cockpit as cockpit_charts
from charts.cockpit import Card
from charts.echarts_theme import CYAN, GOLD, MUTED, TEXT, options_of, responsive
from ui import params

KIOSK_VALUES = ("1", "true", "yes")
GEOJSON_PATH = Path(__file__).resolve().parent.parent / "data" / "hangzhou.geojson"


# ---- query parameters ---------------------------------------------------------------------

def kiosk_requested() -> bool:
    return st.query_params.get("kiosk") in KIOSK_VALUES


def check_legacy_scale() -> None:
    """Older links carry `?scale=2`: no longer needed (the cockpit fits any window) and ignored,
    but a malformed value is dropped with the same notice as any other parameter's."""
    params.number("scale", 0.5, 4.0)


def carousel_seconds() -> int | None:
    """`?carousel=30`: seconds per panel (5 s to an hour), or None for the full grid."""
    return params.number("carousel", 5, 3600, integer=True)


# ---- layout -------------------------------------------------------------------------------

DESIGN_WIDTH, DESIGN_HEIGHT = 1920, 1080
# Below this width (the page's, the sidebar left out) the three columns stack.
STACK_BELOW = 1000
# The panels' order when they take turns (kiosk on a narrow screen, or `?carousel=`).
CAROUSEL = ("district", "category", "monthly", "funnel", "tags", "age", "education", "activities")
# Seconds each panel shows when a narrow kiosk screen shows them in turn.
TURN_SECONDS = 12
# Streamlit's header bar above the page when it is not a kiosk.
HEADER_PX = 60
# Number cards per row: the headline, then the representatives' responses (and the enterprise
# figures, once any enterprise is linked). Below STACK_BELOW they go two abreast.
KPI_ROWS = (6, 3)


def narrow_rows(cards_per_row) -> int:
    return sum(math.ceil(n / 2) for n in cards_per_row)


def _u(n: float, floor: float | None = None) -> str:
    """`n` design pixels in CSS, never below `floor` px."""
    size = f"calc({n:g} * var(--u))"
    return f"max({floor:g}px, {size})" if floor is not None else size


@dataclass(frozen=True)
class Metrics:
    """The grid's fixed parts: (size in design pixels, floor in CSS pixels) each."""

    pad_x: tuple = (14, 8)
    pad_y: tuple = (8, 6)
    gap: tuple = (8, 6)
    col_gap: tuple = (10, 6)
    title: tuple = (36, 22)
    sub: tuple = (14, 11)
    note: tuple = (15, 11)
    clock: tuple = (24, 16)
    kpi_label: tuple = (15, 11)
    kpi_value: tuple = (34, 22)
    kpi_note: tuple = (13, 10)
    kpi_pad_y: tuple = (6, 4)
    kpi_pad_x: tuple = (14, 8)
    kpi_rows: int = len(KPI_ROWS)
    panel_title: tuple = (17, 13)
    panel_pad_y: tuple = (6, 4)
    panel_pad_x: tuple = (8, 6)
    panel_title_gap: tuple = (4, 3)

    # Line heights (× the font size) and borders (CSS px) the heights below are made of.
    title_lh: float = 1.15
    sub_lh: float = 1.5
    kpi_label_lh: float = 1.3
    kpi_value_lh: float = 1.15
    kpi_note_lh: float = 1.3
    panel_title_lh: float = 1.42
    border: int = 1

    def title_h(self) -> float:
        return self.title[0] * self.title_lh + self.sub[0] * self.sub_lh

    def kpi_h(self) -> float:
        card = (self.kpi_label[0] * self.kpi_label_lh + self.kpi_value[0] * self.kpi_value_lh
                + self.kpi_note[0] * self.kpi_note_lh + 2 * self.kpi_pad_y[0] + 2 * self.border)
        return self.kpi_rows * card + (self.kpi_rows - 1) * self.col_gap[0]

    def chrome(self) -> float:
        """A panel's height besides its chart: title, gap, padding, border."""
        return (self.panel_title[0] * self.panel_title_lh + self.panel_title_gap[0]
                + 2 * self.panel_pad_y[0] + 2 * self.border)


@dataclass(frozen=True)
class CockpitLayout:
    """The three columns of charts, top to bottom, with each chart's share of its column's
    chart height; and each chart's height when the panels stack (a phone, a narrow window)."""

    columns: tuple = (("category", "age", "education"), ("map", "monthly"), ("funnel", "tags", "feed"))
    widths: tuple = (1, 1.42, 1)
    shares: tuple = (("category", 0.40), ("age", 0.30), ("education", 0.30), ("map", 0.64), ("monthly", 0.36),
                     ("funnel", 0.27), ("tags", 0.55), ("feed", 0.18))
    stacked_px: tuple = (("category", 330), ("age", 250), ("education", 250), ("map", 320), ("monthly", 260),
                         ("funnel", 220), ("tags", 420), ("feed", 260))
    metrics: Metrics = Metrics()

    def height(self, name: str) -> str:
        """The chart's CSS height: a variable the stylesheet sets for the window."""
        return f"var(--h-{name})"

    def _column_of(self, name: str) -> tuple[int, tuple]:
        for i, column in enumerate(self.columns):
            if name in column:
                return i, column
        raise KeyError(name)

    def design_box(self, name: str) -> tuple[float, float]:
        """The chart's width and height on a 1920×1080 kiosk screen, in px (`carousel`: the one
        panel `?carousel=` shows)."""
        m = self.metrics
        inner = DESIGN_WIDTH - 2 * m.pad_x[0]
        grid = DESIGN_HEIGHT - 2 * m.pad_y[0] - m.title_h() - m.border - m.kpi_h() - 2 * m.gap[0]
        panel_sides = 2 * m.panel_pad_x[0] + 2 * m.border
        if name == "carousel":
            return inner - panel_sides, grid - m.chrome()
        i, column = self._column_of(name)
        column_width = (inner - (len(self.columns) - 1) * m.col_gap[0]) * self.widths[i] / sum(self.widths)
        charts = grid - len(column) * m.chrome() - (len(column) - 1) * m.gap[0]
        return column_width - panel_sides, charts * dict(self.shares)[name]

    def grid_heights_css(self) -> str:
        """`--h-<chart>` for the three-column grid: each column fills the window's height."""
        out = []
        for column in self.columns:
            k = len(column)
            for name in column:
                share = dict(self.shares)[name]
                out.append(f"--h-{name}: calc((var(--grid-h) - {k} * var(--chrome) - {k - 1} * var(--gap))"
                           f" * {share:g});")
        return " ".join(out)

    def stacked_heights_css(self) -> str:
        return " ".join(f"--h-{name}: {px}px;" for name, px in self.stacked_px)

    def turn_heights_css(self) -> str:
        """Every chart as tall as the one place the panels take turns in."""
        return " ".join(f"--h-{name}: calc(var(--grid-h) - var(--chrome));" for name, _ in self.shares)


LAYOUT = CockpitLayout()


@st.cache_data(show_spinner=False, max_entries=256)
def chart_options(builder: str, box: tuple[float, float], *args, **kwargs) -> dict:
    """The options of `charts.cockpit.<builder>(*args, style=…, **kwargs)` for every size its
    box may take (see `responsive`). Cached by its arguments: a refresh with unchanged data
    builds nothing, and every screen showing the same numbers shares one build."""
    build = getattr(cockpit_charts, builder)
    return responsive(lambda style: options_of(build(*args, style=style, **kwargs)), *box)


# ---- CSS ----------------------------------------------------------------------------------

PANEL = '[class*="st-key-cockpit_panel_"]'
GRID = '[data-testid="stHorizontalBlock"]:has([class*="st-key-cockpit_panel_"])'
ROOT = '[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]'


def _variables(m: Metrics, kiosk: bool) -> str:
    def u(pair):
        return _u(*pair)

    top = "0px" if kiosk else f"{HEADER_PX}px"
    return f"""
  --top: {top};
  --u: min(100cqw / {DESIGN_WIDTH}, (100dvh - {top}) / {DESIGN_HEIGHT});
  --pad-x: {u(m.pad_x)}; --pad-y: {u(m.pad_y)}; --gap: {u(m.gap)}; --col-gap: {u(m.col_gap)};
  --fs-title: {u(m.title)}; --fs-sub: {u(m.sub)}; --fs-note: {u(m.note)}; --fs-clock: {u(m.clock)};
  --fs-kpi-label: {u(m.kpi_label)}; --fs-kpi-value: {u(m.kpi_value)}; --fs-kpi-note: {u(m.kpi_note)};
  --kpi-pad-y: {u(m.kpi_pad_y)}; --kpi-pad-x: {u(m.kpi_pad_x)};
  --fs-panel: {u(m.panel_title)}; --panel-pad-y: {u(m.panel_pad_y)}; --panel-pad-x: {u(m.panel_pad_x)};
  --panel-gap: {u(m.panel_title_gap)};
  --fs-feed: {_u(14, 11)}; --fs-feed-small: {_u(12, 10)};
  --title-h: calc(var(--fs-title) * {m.title_lh} + var(--fs-sub) * {m.sub_lh});
  --kpi-rows: {len(KPI_ROWS)};
  --kpi-card-h: calc(var(--fs-kpi-label) * {m.kpi_label_lh} + var(--fs-kpi-value) * {m.kpi_value_lh}
    + var(--fs-kpi-note) * {m.kpi_note_lh} + 2 * var(--kpi-pad-y) + {2 * m.border}px);
  --kpi-h: calc(var(--kpi-rows) * var(--kpi-card-h) + (var(--kpi-rows) - 1) * var(--col-gap));
  --chrome: calc(var(--fs-panel) * {m.panel_title_lh} + var(--panel-gap) + 2 * var(--panel-pad-y)
    + {2 * m.border}px);
  --grid-h: max(320px, calc(100dvh - var(--top) - 2 * var(--pad-y) - var(--title-h) - {m.border}px - var(--kpi-h)
    - 2 * var(--gap)));
"""


def _turns_css() -> str:
    """Narrow kiosk screens: the panels take turns in one place (pure CSS, no reruns)."""
    n = len(CAROUSEL)
    delays = " ".join(
        f"{GRID} .st-key-cockpit_panel_{name} {{ animation-delay: {-((n - i) % n) * TURN_SECONDS}s; }}"
        for i, name in enumerate(CAROUSEL)
    )
    return f"""
  {GRID} {{ display: block !important; position: relative; flex: 0 0 var(--grid-h) !important;
    height: var(--grid-h); }}
  {GRID} [data-testid="stColumn"], {GRID} [data-testid="stColumn"] [data-testid="stVerticalBlock"]:not({PANEL}),
  {GRID} [data-testid="stLayoutWrapper"] {{ position: static !important; }}
  {GRID} {PANEL} {{ position: absolute !important; inset: 0; visibility: hidden;
    animation: cockpit-turn {n * TURN_SECONDS}s infinite; }}
  {delays}
"""


def _css(kiosk: bool, layout: CockpitLayout = LAYOUT) -> str:
    m = layout.metrics
    top_pad = "0" if kiosk else f"{HEADER_PX}px"
    kiosk_css = """
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
footer { display: none !important; }
[data-testid="stMain"] { overflow: hidden; }
""" if kiosk else ""
    narrow = _turns_css() if kiosk else f"""
  {GRID} [data-testid="stColumn"] {{ flex: 1 1 100% !important; min-width: 100% !important; }}
  {GRID} [data-testid="stColumn"]:nth-child(2) {{ order: -1; }}
"""
    return f"""<style>
/* One design pixel, computed where it is declared (a registered length), so the width it
   follows is the page's; the syntax is escaped: the HTML sanitiser drops a style holding a tag-like text. */
@property --u {{ syntax: '\\3C length\\3E'; inherits: true; initial-value: 1px; }}
.stApp, [data-testid="stApp"] {{
  background: radial-gradient(ellipse at 50% 0%, #0a2a5e 0%, #041434 45%, #020b1f 100%) !important;
  color: {TEXT};
}}
.stMainBlockContainer, [data-testid="stMainBlockContainer"] {{
  container: cockpit / inline-size;
  padding: {top_pad} 0 0 0 !important; max-width: 100% !important; }}
{ROOT} {{ {_variables(m, kiosk)}
  padding: var(--pad-y) var(--pad-x); gap: var(--gap);
  {layout.grid_heights_css()}
  --h-carousel: calc(var(--grid-h) - var(--chrome));
}}
/* Streamlit's header bar (the sidebar's button) lies over the page: see-through, not white. */
header[data-testid="stHeader"] {{ background: transparent; }}
[data-testid="stMain"] [data-testid="stVerticalBlock"] {{ gap: var(--gap); }}
[data-testid="stMain"] [data-testid="stHorizontalBlock"] {{ gap: var(--col-gap); }}
[data-testid="stMain"] p, [data-testid="stMain"] span {{ color: {TEXT}; }}
.stElementContainer:has(> .stHtml > style) {{ display: none; }}
{PANEL} {{
  position: relative;
  background: linear-gradient(180deg, rgba(10,48,104,0.55) 0%, rgba(4,22,56,0.55) 100%);
  border: {m.border}px solid rgba(0,229,255,0.28);
  box-shadow: inset 0 0 {_u(18)} rgba(0,229,255,0.10);
  border-radius: {_u(4)};
  padding: var(--panel-pad-y) var(--panel-pad-x);
  gap: var(--panel-gap) !important;
}}
{PANEL}::before, {PANEL}::after {{
  content: ""; position: absolute; width: {_u(14, 8)}; height: {_u(14, 8)}; pointer-events: none;
}}
{PANEL}::before {{ top: -1px; left: -1px; border-top: 2px solid {CYAN}; border-left: 2px solid {CYAN}; }}
{PANEL}::after {{ bottom: -1px; right: -1px; border-bottom: 2px solid {CYAN}; border-right: 2px solid {CYAN}; }}
.panel-title {{
  font-size: var(--fs-panel); font-weight: 700; color: #e6f7ff; letter-spacing: 0.06em;
  padding-left: {_u(10, 6)}; border-left: {_u(4, 3)} solid {CYAN};
  line-height: calc(var(--fs-panel) * {m.panel_title_lh}); height: calc(var(--fs-panel) * {m.panel_title_lh});
  white-space: nowrap; overflow: hidden;
  background: linear-gradient(90deg, rgba(0,229,255,0.16), rgba(0,229,255,0) 70%);
}}
.st-key-cockpit_titlebar_box {{
  display: grid !important; grid-template-columns: 1fr auto 1fr; grid-template-areas: "left title clock";
  align-items: center; column-gap: var(--col-gap); height: var(--title-h);
  border-bottom: {m.border}px solid rgba(0,229,255,0.35);
  background: linear-gradient(90deg, rgba(0,229,255,0) 0%, rgba(0,229,255,0.12) 50%, rgba(0,229,255,0) 100%);
}}
.st-key-cockpit_titlebar_box > .stElementContainer:has(.cockpit-titlebar),
.st-key-cockpit_titlebar_box .stHtml:has(.cockpit-titlebar), .cockpit-titlebar {{ display: contents; }}
.cockpit-titlebar .t-left {{ grid-area: left; font-size: var(--fs-note); color: {MUTED}; line-height: 1.5;
  white-space: nowrap; }}
.cockpit-titlebar .t-center {{ grid-area: title; text-align: center; }}
.cockpit-titlebar h1 {{
  font-size: var(--fs-title); margin: 0; padding: 0; line-height: {m.title_lh}; font-weight: 800;
  letter-spacing: 0.25em; white-space: nowrap;
  background: linear-gradient(180deg, #ffffff 0%, #7fe9ff 100%); -webkit-background-clip: text;
  background-clip: text; color: transparent; text-shadow: 0 0 {_u(18)} rgba(0,229,255,0.35);
}}
.cockpit-titlebar .sub {{ font-size: var(--fs-sub); line-height: {m.sub_lh}; color: {MUTED}; letter-spacing: 0.3em;
  white-space: nowrap; }}
/* Latin type spaced like the Chinese runs wide: the English title keeps clear of the clock. */
.cockpit-titlebar:lang(en) h1 {{ letter-spacing: 0.08em; }}
.cockpit-titlebar:lang(en) .sub {{ letter-spacing: 0.12em; }}
.st-key-cockpit_clock {{ grid-area: clock; justify-self: end; width: auto !important; }}
.brain-clock {{ font-size: var(--fs-clock); font-weight: 700; color: {CYAN}; line-height: 1.2;
  font-variant-numeric: tabular-nums; text-align: right; letter-spacing: 0.04em; white-space: nowrap; }}
.brain-clock .wd {{ font-size: var(--fs-note); color: {MUTED}; margin-right: {_u(10, 6)}; font-weight: 400; }}
.cockpit-kpi-rows {{ display: flex; flex-direction: column; gap: var(--col-gap); height: var(--kpi-h); }}
.cockpit-kpis {{ display: grid; grid-template-columns: repeat(var(--kpi-count, 6), minmax(0, 1fr)); gap: var(--col-gap);
  grid-auto-rows: var(--kpi-card-h); }}
.cockpit-kpi {{
  position: relative; padding: var(--kpi-pad-y) var(--kpi-pad-x); border: {m.border}px solid rgba(0,229,255,0.28);
  background: linear-gradient(180deg, rgba(0,229,255,0.12) 0%, rgba(4,22,56,0.4) 100%);
  border-radius: {_u(4)}; overflow: hidden; min-width: 0;
}}
.cockpit-kpi .label {{ font-size: var(--fs-kpi-label); line-height: {m.kpi_label_lh}; color: {MUTED};
  white-space: nowrap; }}
.cockpit-kpi .value {{ font-size: var(--fs-kpi-value); font-weight: 800; color: {GOLD}; line-height: {m.kpi_value_lh};
  font-variant-numeric: tabular-nums; text-shadow: 0 0 {_u(12)} rgba(255,197,61,0.35); white-space: nowrap; }}
.cockpit-kpi:nth-child(odd) .value {{ color: {CYAN}; text-shadow: 0 0 {_u(12)} rgba(0,229,255,0.35); }}
.cockpit-kpi .note {{ font-size: var(--fs-kpi-note); line-height: {m.kpi_note_lh}; color: {TEXT}; opacity: 0.8;
  white-space: nowrap; }}
/* The list's height as the charts': one panel alone (`?carousel=`), or its share of the grid. */
.st-key-cockpit_panel_activities .cockpit-feed {{ height: var(--h-carousel) !important; }}
{GRID} .st-key-cockpit_panel_activities .cockpit-feed {{ height: var(--h-feed) !important; }}
.cockpit-feed {{ overflow: hidden; position: relative; }}
.cockpit-feed ul {{ list-style: none; margin: 0; padding: 0; animation: cockpit-scroll linear infinite; }}
.cockpit-feed:hover ul {{ animation-play-state: paused; }}
.cockpit-feed li {{
  display: grid; grid-template-columns: auto auto minmax(0, 1fr); grid-template-rows: auto auto;
  column-gap: {_u(8, 6)}; padding: {_u(5, 4)} {_u(4, 3)}; border-bottom: 1px dashed rgba(127,166,209,0.22);
  font-size: var(--fs-feed); line-height: 1.35; margin: 0;
}}
.cockpit-feed li .chip {{ font-size: var(--fs-feed-small); padding: 0 {_u(6, 4)}; border-radius: {_u(3)};
  border: 1px solid {CYAN}; color: {CYAN}; align-self: center; white-space: nowrap; }}
.cockpit-feed li.past .chip {{ border-color: {MUTED}; color: {MUTED}; }}
.cockpit-feed li .when {{ color: {GOLD}; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.cockpit-feed li .title {{ color: #e6f7ff; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }}
.cockpit-feed li .where {{ grid-column: 1 / 3; color: {MUTED}; font-size: var(--fs-feed-small);
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.cockpit-feed li .counts {{ color: {TEXT}; font-size: var(--fs-feed-small); text-align: right; white-space: nowrap; }}
.cockpit-feed .feed-empty {{ color: {MUTED}; padding: {_u(12)}; }}
@keyframes cockpit-scroll {{ from {{ transform: translateY(0); }} to {{ transform: translateY(-50%); }} }}
@keyframes cockpit-turn {{ 0% {{ visibility: visible; }} {100 / len(CAROUSEL):.4f}% {{ visibility: hidden; }}
  100% {{ visibility: hidden; }} }}
.cockpit-note {{ font-size: var(--fs-kpi-note); color: {MUTED}; }}
/* A quick rerun must not dim the screen. */
[data-stale="true"], .stale-element {{ opacity: 1 !important; transition: none !important; }}
/* A narrow page (a phone, a small window): the title over the notes and the clock, the numbers
   two abreast, the panels one above the other. */
@container cockpit (max-width: {STACK_BELOW - 1}px) {{
  {ROOT} {{ --kpi-rows: {narrow_rows(KPI_ROWS)}; {layout.turn_heights_css() if kiosk else layout.stacked_heights_css()}
    --title-h: calc(var(--fs-title) * {m.title_lh} + var(--fs-sub) * {m.sub_lh} + var(--gap)
      + 2 * var(--fs-note) * 1.5); }}
  .st-key-cockpit_titlebar_box {{ grid-template-columns: 1fr auto; grid-template-areas: "title title" "left clock";
    row-gap: var(--gap); }}
  .brain-clock .wd {{ display: block; margin-right: 0; }}
  .cockpit-kpis {{ grid-template-columns: repeat(2, minmax(0, 1fr)); }}
  {narrow}
}}
{kiosk_css}
</style>"""


def apply_cockpit_theme(kiosk: bool) -> None:
    st.html(_css(kiosk))


# ---- title bar, clock, number cards, panels -----------------------------------------------

_CLOCK_JS = """
export default function(component) {
  const { parentElement, data } = component;
  const el = parentElement.querySelector('.brain-clock');
  // One timer per clock, reading the weekday names of the latest run: a rerun in another
  // language calls this again without stopping the first timer, which would go on writing
  // the old names every other second.
  const state = el.brainClock || (el.brainClock = {});
  state.days = (data && data.weekdays) || [];
  // A pinned day (the project's clock, store/clock.py): its date and weekday, the browser's time of day.
  state.pinned = (data && data.day) || null;
  const two = (n) => String(n).padStart(2, '0');
  const tick = () => {
    const d = new Date();
    let date = d;
    if (state.pinned) {
      const [y, m, dd] = state.pinned.split('-').map(Number);
      date = new Date(y, m - 1, dd);
    }
    const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
    const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    el.innerHTML = `<span class="wd">${day} ${state.days[date.getDay()] || ''}</span>${time}`;
  };
  tick();
  if (!state.timer) state.timer = setInterval(tick, 1000);
  return () => { clearInterval(state.timer); state.timer = null; };
}
"""

_clock = st.components.v2.component(
    "brain_cockpit_clock", html='<div class="brain-clock"></div>', js=_CLOCK_JS, isolate_styles=False
)


def title_bar(title: str, subtitle: str, left_lines: list[str], weekdays: list[str], lang: str = "zh",
              day: date | None = None) -> None:
    """The title bar: notes on the left, the title in the middle, a live clock (browser time) on the
    right, in one CSS grid (their cells cannot overlap); a narrow page puts the title above the rest.
    `day`: the project's pinned day (store.clock.pinned()), which the clock shows as its date."""
    left = "<br>".join(html.escape(line) for line in left_lines)
    with st.container(key="cockpit_titlebar_box"):
        st.html(
            f'<div class="cockpit-titlebar" lang="{html.escape(lang)}"><div class="t-left">{left}</div>'
            f'<div class="t-center"><h1>{html.escape(title)}</h1><div class="sub">{html.escape(subtitle)}</div></div>'
            f"</div>"
        )
        _clock(data={"weekdays": weekdays, "day": day.isoformat() if day else None}, key="cockpit_clock")


def kpi_rows(rows: list[list[Card]]) -> None:
    """The number cards, a row each list (an empty one left out). Rows other than KPI_ROWS (the
    enterprise figures joined the second) tell the stylesheet how tall the cards are, wide and narrow."""
    rows = [r for r in rows if r]
    counts = tuple(len(r) for r in rows)
    if counts != KPI_ROWS:
        st.html(f"<style>{ROOT} {{ --kpi-rows: {len(rows)}; }} @container cockpit (max-width: {STACK_BELOW - 1}px) "
                f"{{ {ROOT} {{ --kpi-rows: {narrow_rows(counts)}; }} }}</style>")
    body = "".join(
        f'<div class="cockpit-kpis" style="--kpi-count: {len(cards)}">' + "".join(
            f'<div class="cockpit-kpi" data-kpi="{html.escape(c.key)}"><div class="label">{html.escape(c.label)}</div>'
            f'<div class="value">{html.escape(c.value)}</div><div class="note">{html.escape(c.note)}</div></div>'
            for c in cards) + "</div>"
        for cards in rows)
    st.html(f'<div class="cockpit-kpi-rows">{body}</div>')


@contextmanager
def panel(name: str, title: str):
    """A bordered panel with a title; its key gives it the panel CSS."""
    with st.container(key=f"cockpit_panel_{name}"):
        st.html(f'<div class="panel-title">{html.escape(title)}</div>')
        yield


# ---- the area's GeoJSON -------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _load_geojson(path: str, mtime: float) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not data.get("features"):
        return None
    return data


def area_geojson(path: Path | None = None) -> dict | None:
    """The deployment's district boundaries, or None when the file is missing or unreadable.

    Cached per file modification time, so replacing the file takes effect without a restart.
    Callers must not modify the returned dict (it is shared).
    """
    path = GEOJSON_PATH if path is None else path
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return _load_geojson(str(path), mtime)


def small_districts(path: Path | None = None) -> tuple[str, ...]:
    """The districts of the deployment's GeoJSON too small for their labels (once per file version)."""
    path = GEOJSON_PATH if path is None else path
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return ()
    return _small_districts(str(path), mtime)


@st.cache_resource(show_spinner=False)
def _small_districts(path: str, mtime: float) -> tuple[str, ...]:
    geojson = _load_geojson(path, mtime)
    return cockpit_charts.small_districts(geojson) if geojson else ()
