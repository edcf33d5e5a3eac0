"""The big-screen look for ECharts: deep navy, cyan and gold, large type.

`THEME` is registered in the browser by streamlit-echarts (`st_echarts(theme=THEME)`);
`Style` carries the sizes a builder needs, scaled for the screen it is drawn on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

CYAN = "#00e5ff"
GOLD = "#ffc53d"
TEXT = "#cfe8ff"
MUTED = "#7fa6d1"
GRID_LINE = "rgba(127,166,209,0.18)"
AXIS_LINE = "rgba(127,166,209,0.45)"
# Area with no (or a suppressed) value on the map.
NO_DATA = "#0b2a55"
PALETTE = (CYAN, GOLD, "#3d8bff", "#36cfc9", "#9b7bff", "#ff7a45", "#73d13d", "#f759ab",
           "#40a9ff", "#ffd666", "#5cdbd3", "#b37feb")
# Light to strong: the map's colour ramp.
RAMP = ("#0d3b7a", "#0f63b8", "#1890ff", "#13c2c2", CYAN)

THEME = {
    "color": list(PALETTE),
    "backgroundColor": "transparent",
    "textStyle": {"color": TEXT, "fontFamily": "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"},
    "title": {"textStyle": {"color": TEXT}},
    "legend": {"textStyle": {"color": TEXT}},
    "tooltip": {"backgroundColor": "rgba(4,20,52,0.92)", "borderColor": CYAN, "textStyle": {"color": TEXT}},
    "categoryAxis": {
        "axisLine": {"lineStyle": {"color": AXIS_LINE}},
        "axisTick": {"show": False},
        "axisLabel": {"color": TEXT},
        "splitLine": {"show": False},
    },
    "valueAxis": {
        "axisLine": {"show": False},
        "axisLabel": {"color": MUTED},
        "splitLine": {"lineStyle": {"color": GRID_LINE, "type": "dashed"}},
    },
}


@dataclass(frozen=True)
class Style:
    """Sizes for one screen; `scale` 2 draws for a 3840×2160 page at 100% zoom."""

    scale: float = 1.0
    font: int = 14
    small: int = 12
    label: int = 13

    def px(self, size: float) -> int:
        return round(size * self.scale)

    @property
    def font_px(self) -> int:
        return self.px(self.font)

    @property
    def small_px(self) -> int:
        return self.px(self.small)

    @property
    def label_px(self) -> int:
        return self.px(self.label)


def options_of(chart) -> dict:
    """The chart's ECharts options as plain JSON data (what the browser receives)."""
    return json.loads(chart.dump_options())
