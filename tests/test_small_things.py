"""Small things users saw (issue 13 item 7): "None" in empty cells, English in the audit filter,
raw action codes and JSON, English month names and millisecond ticks on the stage timeline,
emoji icons. The row selection and the table toolbar need a browser: tests/test_explorer_rows_browser.py."""

from __future__ import annotations

import ast
import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from charts.explorer import TimelineOptions, stage_timeline
from store.engine import create_store_engine
from store.schema import person, stage_event

pytestmark = pytest.mark.calendar

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo_url(demo_sqlite):
    return demo_sqlite(2000, 11)


# ---- empty cells -----------------------------------------------------------------------------

# The data-health page's one table (import batches) goes through the same ui.tables.table.
@pytest.mark.parametrize("name, params", [("explorer", {"person": "1"}), ("lifecycle", {}), ("activities", {}),
                                          ("audit", {})])
def test_every_table_shows_a_dash_for_a_missing_cell(open_page, demo_url, name, params):
    at = open_page(demo_url, name, **params)
    assert at.dataframe
    # Streamlit prints "None" unless a placeholder is given.
    assert [d.proto.placeholder for d in at.dataframe] == ["—"] * len(at.dataframe)


def test_every_grid_in_the_code_has_the_placeholder():
    """Every st.dataframe and st.data_editor of the pages (and of the helpers they call) shows a dash
    for a missing cell: it goes through ui.tables.table or names the placeholder itself (the import
    page's rejected rows once printed "None" in their column cell, the people page's posts in an
    open term's end)."""
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]
    bare = []
    for f in files:
        if f.relative_to(ROOT).as_posix() == "ui/tables.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("dataframe", "data_editor")
                    and "placeholder" not in {k.arg for k in node.keywords}):
                bare.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert not bare, "use ui.tables.table or placeholder=MISSING:\n" + "\n".join(bare)


def test_the_explorer_list_has_gaps_to_show(demo_url):
    """The demo has persons without an education or a position: the list does meet missing cells."""
    engine = create_store_engine(demo_url)
    with engine.connect() as conn:
        gaps = conn.execute(select(func.count()).where(person.c.education.is_(None) | person.c.position.is_(None))
                            ).scalar_one()
    engine.dispose()
    assert gaps > 0


# ---- the audit page ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang, placeholder, label", [("zh", "全部操作", "生成演示数据"), ("en", "All actions", "Demo data")])
def test_audit_filter_speaks_the_language_and_names_actions(open_page, demo_url, lang, placeholder, label):
    at = open_page(demo_url, "audit", lang=lang)
    chooser = at.multiselect[0]
    assert chooser.proto.placeholder == placeholder
    assert chooser.proto.select_all == 0  # Streamlit's "Select all" is English only
    assert label in chooser.options and "demo" not in chooser.options


def test_audit_details_are_words_not_json(open_page, demo_url):
    at = open_page(demo_url, "audit")
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["时间", "操作人", "操作", "详情"]
    demo = shown[shown["操作"] == "生成演示数据"]["详情"].iloc[0]
    assert demo.startswith("随机种子: 11 · ") and "{" not in demo and '"' not in demo


def test_audit_detail_in_words():
    from charts.audit import AuditTexts, readable_detail

    texts = AuditTexts(keys={"batch_id": "批次", "file": "文件", "filters": "筛选条件", "masked": "已脱敏",
                             "reason": "原因", "categories": "类别"},
                       values={"wrong_password": "密码错误"})
    detail = json.dumps({"batch_id": 3, "file": "名单.xlsx", "sha256": None}, ensure_ascii=False)
    assert readable_detail(detail, texts) == "批次: 3 · 文件: 名单.xlsx"
    export = json.dumps({"filters": {"categories": ["non_party", "religious"]}, "masked": True})
    assert readable_detail(export, texts) == "筛选条件: 类别: non_party、religious · 已脱敏: 是"
    assert readable_detail('{"reason": "wrong_password"}', texts) == "原因: 密码错误"
    assert readable_detail("plain words", texts) == "plain words"
    assert readable_detail(None, texts) == ""


# ---- the stage timeline -----------------------------------------------------------------------

def one_event() -> pd.DataFrame:
    return pd.DataFrame({"stage": ["discover"], "label": ["发现"], "entered_at": [datetime(2024, 3, 5, 10, 30)]})


def test_a_one_event_timeline_has_month_ticks():
    fig = stage_timeline(one_event(), TimelineOptions(tick_format="%Y年%-m月"))
    axis = fig.layout.xaxis
    lo, hi = (pd.Timestamp(x) for x in axis.range)
    # Plotly fills a zero-width date axis with millisecond ticks; this one spans months, ticked by month.
    assert hi - lo >= pd.Timedelta(days=120) and lo < pd.Timestamp(2024, 3, 5) < hi
    assert re.fullmatch(r"M\d+", axis.dtick) and axis.tickformat == "%Y年%-m月"


def test_a_long_history_keeps_a_few_ticks():
    df = pd.DataFrame({"stage": ["discover", "manage"], "label": ["发现", "管理"],
                       "entered_at": [datetime(2005, 1, 1), datetime(2025, 1, 1)]})
    axis = stage_timeline(df).layout.xaxis
    span_months = (pd.Timestamp(axis.range[1]) - pd.Timestamp(axis.range[0])).days / 30.44
    assert span_months / int(axis.dtick[1:]) <= 6


@pytest.mark.parametrize("lang, tick, hover", [("zh", "%Y年%-m月", "%Y年%-m月%-d日"), ("en", "%b %Y", "%Y-%m-%d")])
def test_the_profile_timeline_dates_follow_the_language(open_page, demo_url, lang, tick, hover):
    engine = create_store_engine(demo_url)
    with engine.connect() as conn:
        pid = conn.execute(select(stage_event.c.person_id).group_by(stage_event.c.person_id)
                           .having(func.count() == 1).limit(1)).scalar_one()
    engine.dispose()
    at = open_page(demo_url, "explorer", person=str(pid), lang=lang)
    [timeline] = [json.loads(el.proto.spec) for el in at.get("plotly_chart")
                  if el.proto.id.endswith("explorer_timeline")]
    assert timeline["layout"]["xaxis"]["tickformat"] == tick
    assert timeline["layout"]["xaxis"]["dtick"].startswith("M")
    assert f"%{{x|{hover}}}" in timeline["data"][0]["hovertemplate"]


# ---- icons ------------------------------------------------------------------------------------

EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")


def test_no_emoji_anywhere_on_screen():
    """Emoji render as boxes on a machine without an emoji font; Material symbols ship with Streamlit."""
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]
    found = [f"{f.relative_to(ROOT)}:{n}" for f in files
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if EMOJI.search(line)]
    assert not found


def test_every_page_has_a_material_icon():
    from streamlit.string_util import validate_icon_or_emoji

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    pages = next(node.value for node in ast.walk(tree)
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES")
    icons = [ast.literal_eval(entry)[2] for entry in pages.elts]
    assert icons and all(icon.startswith(":material/") for icon in icons)
    for icon in icons:
        validate_icon_or_emoji(icon)  # a name Streamlit does not bundle raises


# ---- a new search closes the profile ----------------------------------------------------------

def test_a_new_search_closes_the_open_profile(open_page, demo_url):
    at = open_page(demo_url, "explorer", person="1")
    assert any(s.value.startswith("人员详情") for s in at.subheader)
    at.text_input(key="pf_keyword").input("张").run()
    assert not at.exception, at.exception
    assert "person" not in at.query_params and at.query_params["keyword"] == "张"
    assert not any(s.value.startswith("人员详情") for s in at.subheader)
