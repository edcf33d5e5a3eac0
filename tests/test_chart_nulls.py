"""Every chart builder in charts/ survives missing values in every column it reads.

A property test: for each builder, hypothesis draws frames in which any subset of the
cells of its input columns is None or NaN (as a sign-in sheet's activity without a
district, a person without a category, a count a join left empty), and the builder
must return its figure, chart, HTML or table without raising — and what it returns
must reach the browser: ECharts options are strict JSON (no NaN), plotly figures
serialise, tables convert to Arrow (else Streamlit prints every cell as text, "None"
included), and no "nan" or "None" is printed for a missing value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyecharts.charts.chart import Base as EChartsBase

from charts import activities as act
from charts import audit as aud
from charts import cockpit as cp
from charts import explorer as ex
from charts import health as hl
from charts import lifecycle as lc
from charts import surveys as sv
from store.privacy import Hidden, RepsShown
from store.queries.cockpit import Headline
from store.queries.health import FIELDS as HEALTH_FIELDS

NAN = float("nan")

# ---- value strategies ---------------------------------------------------------------------

labels = st.sampled_from(["上城区", "西湖区", "培训 & <讲座>", "海归", "Xihu", "民革"])
codes = st.sampled_from(["330102", "330106", "non_party", "democratic_party", "x"])
counts = st.integers(min_value=0, max_value=100_000)
shares = st.floats(min_value=0, max_value=1, allow_nan=False)
days = st.floats(min_value=0, max_value=5000, allow_nan=False)
datetimes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31))
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
flags = st.booleans()
stages = st.sampled_from(["discover", "cultivate", "use", "manage", "elsewhere"])
kinds = st.sampled_from(["training", "lecture", "onsite", "survey", "other", "unheard-of"])
genders = st.sampled_from(["M", "F", "X"])
months = st.sampled_from(["2025-01", "2025-02", "2026-11", "2026-12"])
bands = st.sampled_from(["u35", "35_44", "45_54", "55_64", "65p"])
band_numbers = st.integers(min_value=0, max_value=5)
years = st.integers(min_value=2000, max_value=2030)
actions = st.sampled_from(["import", "undo", "login", "login_failure", "export", "unmask", "new_action"])
details = st.sampled_from([
    '{"batch_id": 3, "file": "名单.xlsx", "inserted": 12}', '{"reason": "locked"}', "plain text", "{}",
    '{"filters": {"categories": ["non_party"]}, "rows": 5, "masked": true}', "[1, 2]", "{not json",
])


def nullable(values: st.SearchStrategy) -> st.SearchStrategy:
    """A cell that may be missing: None, NaN or pd.NA (NaT too in a date column), the ways pandas
    and SQL hand a gap over (pd.NA: a nullable column such as the term watch's Int64 `days_left`)."""
    gaps = [None, NAN, pd.NA] + ([pd.NaT] if values in (datetimes, dates) else [])
    return st.one_of(st.sampled_from(gaps), values)


def frames(columns: dict[str, st.SearchStrategy], max_rows: int = 6) -> st.SearchStrategy:
    """DataFrames of 0..max_rows rows whose every cell may be missing; dtypes as pandas infers
    them (str with NaN, float for gappy integers, datetime64 with NaT), all-object, or pandas'
    nullable dtypes (Int64, boolean, string: gaps are pd.NA)."""
    row = st.fixed_dictionaries({name: nullable(s) for name, s in columns.items()})

    def build(rows: list[dict], how: str) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=list(columns))
        if how == "object":
            return df.astype(object)
        if how == "nullable":
            return df.convert_dtypes()
        return df

    return st.builds(build, st.lists(row, max_size=max_rows), st.sampled_from(["inferred", "object", "nullable"]))


# ---- what each builder must hand back -------------------------------------------------------

def _no_constant(name: str):
    raise AssertionError(f"{name} in JSON sent to the browser")


def _printed(text: str) -> None:
    for word in ("nan", "None", "NaT", "<NA>"):
        assert word not in text.replace("unheard-of", ""), f"{word!r} printed: {text[:300]}"


def is_echarts(out) -> None:
    assert isinstance(out, EChartsBase)
    json.loads(out.dump_options(), parse_constant=_no_constant)


def is_plotly(out) -> None:
    assert isinstance(out, go.Figure)
    json.loads(out.to_json())


def is_html(out) -> None:
    assert isinstance(out, str)
    _printed(out)


def is_table(out) -> None:
    assert isinstance(out, pd.DataFrame)
    pa.Table.from_pandas(out)  # what st.dataframe needs; a failure makes Streamlit print cells as text
    for column in out.columns:
        for value in out[column]:
            if isinstance(value, str):
                _printed(value)


def is_texts(out) -> None:
    assert all(isinstance(v, str) for v in out)
    for v in out:
        _printed(v)


@dataclass(frozen=True)
class Builder:
    name: str
    columns: dict[str, st.SearchStrategy]
    call: Callable[[pd.DataFrame], Any]
    check: Callable[[Any], None]


KIND_LABELS = {"training": "培训", "lecture": "讲座"}
STAGE_NAMES = {"discover": "发现", "cultivate": "培养", "use": "使用", "manage": "管理"}
FEED_TEXTS = {"upcoming": "即将", "past": "已办", "online": "线上", "registered": "报名", "checked_in": "签到",
              "none": "暂无活动", "kind.training": "培训", "kind.other": "其他"}
HEADERS = lambda cols: {c: f"h_{c}" for c in cols}  # noqa: E731 — a table builder's header texts

BUILDERS = [
    # ---- cockpit (pyecharts and HTML)
    Builder("cockpit.ranked_bar", {"label": labels, "n": counts}, lambda df: cp.ranked_bar(df), is_echarts),
    Builder("cockpit.district_map", {"code": codes, "label": labels, "n": counts, "in_scope": flags},
            lambda df: cp.district_map(df, {"330102": "上城区", "330106": "西湖区", "330182": "建德市"}),
            is_echarts),
    Builder("cockpit.funnel_chart", {"stage": stages, "n": counts},
            lambda df: cp.funnel_chart(df, STAGE_NAMES, conversion_label="转化"), is_echarts),
    Builder("cockpit.funnel_chart[reached]", {"stage": stages, "n": counts, "reached": counts},
            lambda df: cp.funnel_chart(df, STAGE_NAMES, conversion_label="转化"), is_echarts),
    Builder("cockpit.monthly_lines", {"month": months, "registrations": counts, "checkins": counts},
            lambda df: cp.monthly_lines(df, registrations_name="报名", checkins_name="签到"), is_echarts),
    Builder("cockpit.age_gender_bars", {"band": bands, "male": counts, "female": counts},
            lambda df: cp.age_gender_bars(df, {"u35": "35岁以下"}, male_name="男", female_name="女"), is_echarts),
    Builder("cockpit.education_ring", {"education": labels, "n": counts},
            lambda df: cp.education_ring(df, other_name="其他", top=2), is_echarts),
    Builder("cockpit.activity_feed_html",
            {"id": counts, "title": labels, "kind": kinds, "starts_at": datetimes, "online": flags,
             "district_zh": labels, "district_en": labels, "registered": counts, "checked_in": counts,
             "upcoming": flags},
            lambda df: cp.activity_feed_html(df, FEED_TEXTS), is_html),
    Builder("cockpit.activity_feed_html[en]",
            {"id": counts, "title": labels, "kind": kinds, "starts_at": datetimes, "online": flags,
             "district_zh": labels, "district_en": labels, "registered": counts, "checked_in": counts,
             "upcoming": flags},
            lambda df: cp.activity_feed_html(df, FEED_TEXTS, lang="en"), is_html),
    # ---- activities (plotly and tables)
    Builder("activities.monthly_trend",
            {"month": months, "kind": kinds, "activities": counts, "registrations": counts, "checked_in": counts},
            lambda df: act.monthly_trend(df, "checked_in", KIND_LABELS), is_plotly),
    Builder("activities.monthly_trend[period]",
            {"month": months, "kind": kinds, "activities": counts, "registrations": counts, "checked_in": counts},
            lambda df: act.monthly_trend(df, "activities", KIND_LABELS, period=(date(2025, 1, 9), date(2026, 12, 5))),
            is_plotly),
    Builder("activities.participation_funnel",
            {"registrations": counts, "approved": counts, "checked_in": counts, "absent": counts,
             "approval_rate": shares, "checkin_rate": shares, "no_show_rate": shares},
            lambda df: act.participation_funnel(df), is_plotly),
    Builder("activities.reach_rate_bars",
            {"code": codes, "name_zh": labels, "name_en": labels, "persons": counts, "reached": counts,
             "dormant": counts, "rate": shares},
            lambda df: act.reach_rate_bars(df), is_plotly),
    Builder("activities.dormant_bars",
            {"code": codes, "name_zh": labels, "name_en": labels, "persons": counts, "reached": counts,
             "dormant": counts, "rate": shares},
            lambda df: act.dormant_bars(df), is_plotly),
    Builder("activities.name_column", {"code": codes, "name_zh": labels, "name_en": labels},
            lambda df: act.name_column(df, "zh", "未填"), is_texts),
    Builder("activities.activity_table",
            {"title": labels, "kind": kinds, "starts_at": datetimes, "district_zh": labels, "district_en": labels,
             "online": flags, "registrations": counts, "approved": counts, "checked_in": counts, "absent": counts,
             "no_show_rate": shares},
            lambda df: act.activity_table(df, KIND_LABELS, HEADERS(act.ACTIVITY_TABLE_COLUMNS)), is_table),
    # ---- explorer (plotly)
    Builder("explorer.bar_chart", {"code": codes, "label": labels, "n": counts},
            lambda df: ex.bar_chart(df, ex.BarOptions(horizontal=True, selected=("330102",))), is_plotly),
    Builder("explorer.bar_chart[vertical]", {"code": codes, "label": labels, "n": counts},
            lambda df: ex.bar_chart(df), is_plotly),
    Builder("explorer.age_gender_pyramid",
            {"band": band_numbers, "label": labels, "gender": genders, "gender_label": labels, "n": counts},
            lambda df: ex.age_gender_pyramid(df), is_plotly),
    Builder("explorer.stage_timeline", {"stage": stages, "label": labels, "entered_at": datetimes},
            lambda df: ex.stage_timeline(df), is_plotly),
    # ---- data health
    Builder("health.group_labels", {"key": codes, "name_zh": labels, "name_en": labels},
            lambda df: hl.group_labels(df, "zh"), is_texts),
    Builder("health.freshness_bars",
            {"persons": counts, **{f"share_{m}": shares for m in (3, 6, 12)},
             **{f"fresh_{m}": counts for m in (3, 6, 12)}},
            lambda df: hl.freshness_bars(df, ["x"] * len(df), {3: "3个月", 6: "6个月", 12: "12个月"}), is_plotly),
    Builder("health.completeness_heatmap",
            {"key": codes, "name_zh": labels, "name_en": labels, "persons": counts,
             **{f: counts for f in HEALTH_FIELDS}},
            lambda df: hl.completeness_heatmap(df, HEALTH_FIELDS, {}, ["x"] * len(df), "全部"), is_plotly),
    Builder("health.batch_table",
            {"file_name": labels, "imported_at": datetimes, "imported_by": labels, "rows_read": counts,
             "inserted": counts, "updated": counts, "unchanged": counts, "rejected": counts, "reject_rate": shares,
             "status": st.sampled_from(["done", "undone", "failed"])},
            lambda df: hl.batch_table(df, HEADERS(hl.BATCH_TABLE_COLUMNS), {"done": "完成"}), is_table),
    # ---- lifecycle
    Builder("lifecycle.stage_funnel",
            {"stage": stages, "in_order": counts, "in_order_next": shares, "in_order_cum": shares,
             "any_stage": counts, "any_next": shares, "any_cum": shares},
            lambda df: lc.stage_funnel(df, STAGE_NAMES, {}), is_plotly),
    Builder("lifecycle.funnel_table",
            {"stage": stages, "in_order": counts, "in_order_next": shares, "in_order_cum": shares,
             "any_stage": counts, "any_next": shares, "any_cum": shares},
            lambda df: lc.funnel_table(df, STAGE_NAMES, HEADERS(lc.FUNNEL_TABLE_COLUMNS)), is_table),
    Builder("lifecycle.stage_time_bars", {"stage": stages, "median_days": days, "stays": counts},
            lambda df: lc.stage_time_bars(df, STAGE_NAMES), is_plotly),
    Builder("lifecycle.cohort_heatmap",
            {"cohort": years, "discover": counts, "cultivate": counts, "use": counts, "manage": counts},
            lambda df: lc.cohort_heatmap(df, STAGE_NAMES), is_plotly),
    Builder("lifecycle.cohort_table",
            {"cohort": years, "discover": counts, "days_to_cultivate": days, "days_to_use": days},
            lambda df: lc.cohort_table(df, HEADERS(lc.COHORT_TABLE_COLUMNS)), is_table),
    Builder("lifecycle.source_bars",
            {"source": labels, "persons": counts, "cultivate_rate": shares, "use_rate": shares},
            lambda df: lc.source_bars(df), is_plotly),
    Builder("lifecycle.term_watch_bars", {"body": st.sampled_from(["npc", "cppcc", "odd"]), "soon": counts,
                                          "overdue": counts},
            lambda df: lc.term_watch_bars(df, {"npc": "人大"}), is_plotly),
    Builder("lifecycle.candidate_table",
            {"name": labels, "category_zh": labels, "category_en": labels, "district_zh": labels,
             "district_en": labels, "organization": labels, "check_ins": counts},
            lambda df: lc.candidate_table(df, HEADERS(lc.CANDIDATE_TABLE_COLUMNS)), is_table),
    Builder("lifecycle.risk_warnings", {"risks": counts},
            lambda df: pd.DataFrame({"risks": lc.risk_warnings(df)}), is_table),
    Builder("lifecycle.term_table",
            {"name": labels, "district_zh": labels, "district_en": labels, "body": st.sampled_from(["npc", "odd"]),
             "title": labels, "term_start": dates, "term_end": dates, "days_left": st.integers(-500, 500)},
            lambda df: lc.term_table(df, {"npc": "人大"}, HEADERS(lc.TERM_TABLE_COLUMNS)), is_table),
    # ---- survey results
    Builder("surveys.choice_bars", {"value": labels, "n": counts}, lambda df: sv.choice_bars(df), is_plotly),
    Builder("surveys.crosstab_heatmap", {"是": counts, "否": counts},
            lambda df: sv.crosstab_heatmap(df.set_index(pd.Index([f"组{i}" for i in range(len(df))]))), is_plotly),
    # ---- audit log
    Builder("audit.audit_table", {"at": datetimes, "actor": labels, "action": actions, "detail": details},
            lambda df: aud.audit_table(df, aud.AuditTexts(actions={"import": "导入"}, keys={"batch_id": "批次"})),
            is_table),
]

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("builder", BUILDERS, ids=[b.name for b in BUILDERS])
def test_builder_survives_missing_values(builder):
    @FUZZ
    @given(frames(builder.columns))
    def run(df):
        builder.check(builder.call(df))

    run()


def test_every_builder_of_charts_is_covered():
    """A new builder in charts/ must join BUILDERS (helpers with a leading underscore excepted)."""
    import importlib
    import inspect
    import pkgutil

    import charts

    # Every module of charts/ but the two that hold no builders (cell readers, the ECharts theme):
    # a new module's builders count without anyone adding the module here.
    helpers = {"values", "echarts_theme"}
    modules = [importlib.import_module(f"charts.{m.name}") for m in pkgutil.iter_modules(charts.__path__)
               if m.name not in helpers]
    assert {cp, act, ex, hl, lc, aud, sv} <= set(modules)
    public = {f"{m.__name__.split('.')[-1]}.{name}" for m in modules for name, fn in vars(m).items()
              if inspect.isfunction(fn) and fn.__module__ == m.__name__ and not name.startswith("_")}
    covered = {b.name.split("[")[0] for b in BUILDERS}
    # Scalar helpers and non-frame inputs have tests of their own below or in the chart tests.
    scalar = {"cockpit.suppress", "cockpit.format_count", "cockpit.format_share", "cockpit.headline_cards",
              "cockpit.area_names", "health.liveness_gauge", "health.completeness_matrix",
              "activities.apply_layout", "audit.action_label", "audit.readable_detail",
              "activities.month_ticks",  # through monthly_trend[period]
              "cockpit.small_districts",  # reads the GeoJSON, not a frame
              "cockpit.education_slices",  # through education_ring
              "cockpit.enterprise_cards",  # a dataclass of counts: test_enterprise_cards_with_missing_counts
              "cockpit.reps_cards"}  # a store.privacy.RepsShown (test_reps_cards_with_marks_and_gaps below)
    assert public - scalar <= covered, sorted(public - scalar - covered)


@FUZZ
@given(st.fixed_dictionaries({f: nullable(counts) for f in
                              ("persons", "new_this_year", "active_90d", "activities_this_year",
                               "checkins_this_year", "fresh_12m")}))
def test_headline_cards_with_missing_counts(values):
    labels = {k: k for k in ("persons", "new", "active", "activities", "checkins", "fresh")}
    labels |= {"share_of": "share {share}", "fresh_note": "n {n}"}
    cards = cp.headline_cards(Headline(**values, last_change=None), labels)
    assert len(cards) == 6
    for card in cards:
        _printed(card.value + card.note)


@FUZZ
@given(st.fixed_dictionaries({f: nullable(counts) for f in ("enterprises_linked", "persons_linked", "risk_alerts")}))
def test_enterprise_cards_with_missing_counts(values):
    from store.queries.enterprises import EnterpriseFigures

    cards = cp.enterprise_cards(EnterpriseFigures(**values), {"enterprises": "企业", "alerts": "风险"})
    assert len(cards) in (0, 2)
    for card in cards:
        _printed(card.value + card.note)


@FUZZ
@given(nullable(st.integers(min_value=0, max_value=100)))
def test_liveness_gauge_with_a_missing_score(score):
    is_plotly(hl.liveness_gauge(score))


@FUZZ
@given(st.lists(st.fixed_dictionaries({"properties": st.one_of(
    st.none(), st.fixed_dictionaries({"code": nullable(codes), "name": nullable(labels)}))})))
def test_area_names_with_missing_properties(features):
    out = cp.area_names({"features": features})
    assert all(isinstance(k, str) and isinstance(v, str) and v not in ("nan", "None") for k, v in out.items())


def test_the_sign_in_sheet_activity():
    """The reported case: an activity created by an attendance sheet has no district (NaN after the join)."""
    df = pd.DataFrame({
        "id": [1, 2], "title": ["座谈会", "培训班"], "kind": ["other", "training"],
        "starts_at": [datetime(2026, 12, 6, 0, 0), datetime(2026, 11, 1, 9, 0)], "online": [False, False],
        "district_zh": [None, "西湖区"], "district_en": [None, "Xihu"], "registered": [1, 30], "checked_in": [0, 25],
        "upcoming": [True, False],
    })
    assert math.isnan(df["district_zh"][0])  # pandas 3 hands the gap over as NaN, not None
    out = cp.activity_feed_html(df, FEED_TEXTS)
    assert "座谈会" in out and "西湖区" in out
    _printed(out)


@pytest.mark.parametrize("shown", [
    RepsShown(Hidden("<5"), None, Hidden("<5"), None, None, Hidden("<5"), Hidden("<5")),
    RepsShown(Hidden("*"), None, 0, None, None, 40, Hidden("*")),
    RepsShown(120, 0.3, 12, 40, 9.5, 40, 12),
])
def test_reps_cards_with_marks_and_gaps(shown):
    from ui.reps_figures import LABEL_KEYS

    labels = {k: k + " {n}" for k in LABEL_KEYS} | {"open_note": "{oldest} {median}"}
    cards = cp.reps_cards(shown, labels)
    assert [c.key for c in cards] == ["reps_responded", "reps_open", "reps_suggestions"]
    for card in cards:
        _printed(card.value + card.note)
    assert cards[1].note == ("40 9.5" if shown.oldest_open_days else "")
