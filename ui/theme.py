"""The cockpit's dark big-screen look, its kiosk layout and the live clock.

Heights are pixels computed for a 1080-pixel-tall screen and multiplied by
`scale` (2 for a 3840×2160 browser at 100% zoom; a 4K screen at 200% zoom needs
none), so the whole grid fits the screen without scrolling.
"""

from __future__ import annotations

import html
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from charts.cockpit import Card
from charts.echarts_theme import CYAN, GOLD, MUTED, TEXT
from ui import params

KIOSK_VALUES = ("1", "true", "yes")
GEOJSON_PATH = Path(__file__).resolve().parent.parent / "data" / "hangzhou.geojson"


# ---- query parameters ---------------------------------------------------------------------

def kiosk_requested() -> bool:
    return st.query_params.get("kiosk") in KIOSK_VALUES


def scale_requested() -> float:
    """`?scale=2` for a 3840×2160 page at 100% zoom (0.5–4); anything else is ignored: 1."""
    return params.number("scale", 0.5, 4.0) or 1.0


def carousel_seconds() -> int | None:
    """`?carousel=30`: seconds per panel (5 s to an hour), or None for the full grid."""
    return params.number("carousel", 5, 3600, integer=True)


# ---- layout -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CockpitLayout:
    """Chart heights in px. The columns of a 1080-px screen hold (after the title bar, the
    number cards and each panel's title and padding) 714 px of charts on the left and right
    and 772 px in the middle."""

    scale: float = 1.0
    category: int = 288
    age: int = 210
    education: int = 208
    map: int = 494
    monthly: int = 270
    funnel: int = 180
    tags: int = 352
    feed: int = 176
    carousel: int = 760

    def px(self, name: str) -> int:
        return round(getattr(self, name) * self.scale)


def cockpit_layout(scale: float = 1.0) -> CockpitLayout:
    return CockpitLayout(scale=scale)


# ---- CSS ----------------------------------------------------------------------------------

def _css(kiosk: bool, s: float) -> str:
    def px(v: float) -> str:
        return f"{round(v * s)}px"

    kiosk_css = f"""
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
footer {{ display: none !important; }}
[data-testid="stMain"] {{ overflow: hidden; }}
.stMainBlockContainer, [data-testid="stMainBlockContainer"] {{
  padding: {px(8)} {px(14)} {px(6)} {px(14)} !important; max-width: 100% !important; }}
""" if kiosk else ""
    return f"""<style>
.stApp, [data-testid="stApp"] {{
  background: radial-gradient(ellipse at 50% 0%, #0a2a5e 0%, #041434 45%, #020b1f 100%) !important;
  color: {TEXT};
}}
[data-testid="stMain"] [data-testid="stVerticalBlock"] {{ gap: {px(8)}; }}
[data-testid="stMain"] [data-testid="stHorizontalBlock"] {{ gap: {px(10)}; }}
[data-testid="stMain"] p, [data-testid="stMain"] span {{ color: {TEXT}; }}
.stElementContainer:has(> .stHtml > style) {{ display: none; }}
[class*="st-key-cockpit_panel_"] {{
  position: relative;
  background: linear-gradient(180deg, rgba(10,48,104,0.55) 0%, rgba(4,22,56,0.55) 100%);
  border: 1px solid rgba(0,229,255,0.28);
  box-shadow: inset 0 0 {px(18)} rgba(0,229,255,0.10);
  border-radius: {px(4)};
  padding: {px(6)} {px(8)} {px(6)} {px(8)};
  gap: {px(4)} !important;
}}
[class*="st-key-cockpit_panel_"]::before, [class*="st-key-cockpit_panel_"]::after {{
  content: ""; position: absolute; width: {px(14)}; height: {px(14)}; pointer-events: none;
}}
[class*="st-key-cockpit_panel_"]::before {{ top: -1px; left: -1px;
  border-top: 2px solid {CYAN}; border-left: 2px solid {CYAN}; }}
[class*="st-key-cockpit_panel_"]::after {{ bottom: -1px; right: -1px;
  border-bottom: 2px solid {CYAN}; border-right: 2px solid {CYAN}; }}
.panel-title {{
  font-size: {px(17)}; font-weight: 700; color: #e6f7ff; letter-spacing: 0.06em;
  padding-left: {px(10)}; border-left: {px(4)} solid {CYAN}; line-height: {px(24)}; height: {px(24)};
  background: linear-gradient(90deg, rgba(0,229,255,0.16), rgba(0,229,255,0) 70%);
}}
.cockpit-titlebar {{
  display: grid; grid-template-columns: 1fr auto 1fr; align-items: center; height: {px(62)};
  border-bottom: 1px solid rgba(0,229,255,0.35);
  background: linear-gradient(90deg, rgba(0,229,255,0) 0%, rgba(0,229,255,0.12) 50%, rgba(0,229,255,0) 100%);
}}
.cockpit-titlebar .t-left {{ font-size: {px(15)}; color: {MUTED}; line-height: 1.5; }}
.cockpit-titlebar .t-center {{ text-align: center; }}
.cockpit-titlebar h1 {{
  font-size: {px(36)}; margin: 0; padding: 0; line-height: 1.15; font-weight: 800; letter-spacing: 0.25em;
  background: linear-gradient(180deg, #ffffff 0%, #7fe9ff 100%); -webkit-background-clip: text;
  background-clip: text; color: transparent; text-shadow: 0 0 {px(18)} rgba(0,229,255,0.35);
}}
.cockpit-titlebar .sub {{ font-size: {px(14)}; color: {MUTED}; letter-spacing: 0.3em; }}
.st-key-cockpit_titlebar_box {{ position: relative; }}
.st-key-cockpit_clock {{ position: absolute; right: {px(16)}; top: {px(14)}; width: auto !important; z-index: 5; }}
.brain-clock {{ font-size: {px(24)}; font-weight: 700; color: {CYAN};
  font-variant-numeric: tabular-nums; text-align: right; letter-spacing: 0.04em; white-space: nowrap; }}
.brain-clock .wd {{ font-size: {px(15)}; color: {MUTED}; margin-right: {px(10)}; font-weight: 400; }}
.cockpit-kpis {{ display: grid; grid-template-columns: repeat(6, 1fr); gap: {px(10)}; height: {px(98)}; }}
.cockpit-kpi {{
  position: relative; padding: {px(8)} {px(14)}; border: 1px solid rgba(0,229,255,0.28);
  background: linear-gradient(180deg, rgba(0,229,255,0.12) 0%, rgba(4,22,56,0.4) 100%);
  border-radius: {px(4)}; overflow: hidden;
}}
.cockpit-kpi .label {{ font-size: {px(15)}; color: {MUTED}; white-space: nowrap; }}
.cockpit-kpi .value {{ font-size: {px(40)}; font-weight: 800; color: {GOLD}; line-height: 1.15;
  font-variant-numeric: tabular-nums; text-shadow: 0 0 {px(12)} rgba(255,197,61,0.35); white-space: nowrap; }}
.cockpit-kpi:nth-child(odd) .value {{ color: {CYAN}; text-shadow: 0 0 {px(12)} rgba(0,229,255,0.35); }}
.cockpit-kpi .note {{ font-size: {px(13)}; color: {TEXT}; opacity: 0.8; white-space: nowrap; }}
.cockpit-feed {{ overflow: hidden; position: relative; }}
.cockpit-feed ul {{ list-style: none; margin: 0; padding: 0; animation: cockpit-scroll linear infinite; }}
.cockpit-feed:hover ul {{ animation-play-state: paused; }}
.cockpit-feed li {{
  display: grid; grid-template-columns: auto auto 1fr; grid-template-rows: auto auto;
  column-gap: {px(8)}; padding: {px(5)} {px(4)}; border-bottom: 1px dashed rgba(127,166,209,0.22);
  font-size: {px(14)}; line-height: 1.35; margin: 0;
}}
.cockpit-feed li .chip {{ font-size: {px(12)}; padding: 0 {px(6)}; border-radius: {px(3)};
  border: 1px solid {CYAN}; color: {CYAN}; align-self: center; }}
.cockpit-feed li.past .chip {{ border-color: {MUTED}; color: {MUTED}; }}
.cockpit-feed li .when {{ color: {GOLD}; font-variant-numeric: tabular-nums; }}
.cockpit-feed li .title {{ color: #e6f7ff; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }}
.cockpit-feed li .where {{ grid-column: 1 / 3; color: {MUTED}; font-size: {px(12)}; }}
.cockpit-feed li .counts {{ color: {TEXT}; font-size: {px(12)}; text-align: right; }}
.cockpit-feed .feed-empty {{ color: {MUTED}; padding: {px(12)}; }}
@keyframes cockpit-scroll {{ from {{ transform: translateY(0); }} to {{ transform: translateY(-50%); }} }}
.cockpit-note {{ font-size: {px(13)}; color: {MUTED}; }}
/* A quick rerun must not dim the screen. */
[data-stale="true"], .stale-element {{ opacity: 1 !important; transition: none !important; }}
{kiosk_css}
</style>"""


def apply_cockpit_theme(kiosk: bool, scale: float = 1.0) -> None:
    st.html(_css(kiosk, scale))


# ---- title bar, clock, number cards, panels -----------------------------------------------

_CLOCK_JS = """
export default function(component) {
  const { parentElement, data } = component;
  const el = parentElement.querySelector('.brain-clock');
  const days = (data && data.weekdays) || [];
  const two = (n) => String(n).padStart(2, '0');
  const tick = () => {
    const d = new Date();
    const day = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
    const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    el.innerHTML = `<span class="wd">${day} ${days[d.getDay()] || ''}</span>${time}`;
  };
  tick();
  const id = setInterval(tick, 1000);
  return () => clearInterval(id);
}
"""

_clock = st.components.v2.component(
    "brain_cockpit_clock", html='<div class="brain-clock"></div>', js=_CLOCK_JS, isolate_styles=False
)


def title_bar(title: str, subtitle: str, left_lines: list[str], weekdays: list[str]) -> None:
    """The title bar: notes on the left, the title in the middle, a live clock (browser time) on the right."""
    left = "<br>".join(html.escape(line) for line in left_lines)
    with st.container(key="cockpit_titlebar_box"):
        st.html(
            f'<div class="cockpit-titlebar"><div class="t-left">{left}</div>'
            f'<div class="t-center"><h1>{html.escape(title)}</h1><div class="sub">{html.escape(subtitle)}</div></div>'
            f"<div></div></div>"
        )
        with st.container(key="cockpit_clock"):
            _clock(data={"weekdays": weekdays}, key="cockpit_clock_component")


def kpi_row(cards: list[Card]) -> None:
    items = "".join(
        f'<div class="cockpit-kpi" data-kpi="{html.escape(c.key)}"><div class="label">{html.escape(c.label)}</div>'
        f'<div class="value">{html.escape(c.value)}</div><div class="note">{html.escape(c.note)}</div></div>'
        for c in cards
    )
    st.html(f'<div class="cockpit-kpis">{items}</div>')


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
