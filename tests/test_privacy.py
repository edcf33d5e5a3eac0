"""store.privacy's withholding on a few inline rows: which cells go, and with which mark."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from charts import cockpit as c
from charts.echarts_theme import options_of
from store import privacy
from store.privacy import COMPLEMENT, Hidden, derivable, withhold

SMALL = privacy.small_mark(5)


def counts(*values) -> dict:
    return {chr(ord("a") + i): v for i, v in enumerate(values)}


@pytest.mark.parametrize("values,expected", [
    # Nothing small: nothing withheld.
    ((10, 20, 30), {}),
    # The street: one small category beside a known total gives it away, so the
    # next smallest goes with it.
    ((2, 8, 30, 40), {"a": SMALL, "b": COMPLEMENT}),
    # Two small ones cover each other...
    ((2, 3, 30, 40), {"a": SMALL, "b": SMALL}),
    # ... unless both are 4: the sum 8 pins them (two 1s could be 2 and 0, or 0 and 2).
    ((4, 4, 30, 40), {"a": SMALL, "b": SMALL, "c": COMPLEMENT}),
    ((1, 1, 30, 40), {"a": SMALL, "b": SMALL}),
    # "*" claims no size, so a complement of exactly 5 covers a 1 as well as a larger one.
    ((1, 5, 6, 40), {"a": SMALL, "b": COMPLEMENT}),
    # Nothing left to withhold and the total still pins both 4s: one "*" says less than "<5".
    ((4, 4), {"a": COMPLEMENT, "b": SMALL}),
    # Ties are broken by key, so every page withholds the same cell.
    ((3, 9, 9, 40), {"a": SMALL, "b": COMPLEMENT}),
])
def test_withhold_with_a_known_total(values, expected):
    cells = counts(*values)
    got = withhold(cells, 5, zeros_public=True)
    assert got == expected
    assert derivable(cells, got, 5, zeros_public=True) == []


def test_empty_groups_are_no_secret_but_cover_others():
    cells = counts(0, 0, 30, 40)
    # Empty groups: withheld on screen ("<5"), pinned at 0, but an empty group discloses nobody.
    assert withhold(cells, 5, zeros_public=True) == {"a": SMALL, "b": SMALL}
    # Zeros that are secret (a column of a withheld group): their sum 0 pins them both.
    assert withhold(cells, 5) == {"a": SMALL, "b": SMALL, "c": COMPLEMENT}
    # A reader cannot tell an empty "<5" from a small one: a 3 beside two of them is covered.
    assert withhold(counts(3, 0, 0, 30, 40), 5, zeros_public=True) == {"a": SMALL, "b": SMALL, "c": SMALL}


def test_forced_cells_and_unknown_totals():
    # A row withheld in another column is withheld here too, marked by its own size.
    assert withhold(counts(12, 30, 40), 5, forced={"a"}) == {"a": COMPLEMENT, "b": COMPLEMENT}
    assert withhold(counts(3, 30, 40), 5, total_known=False) == {"a": SMALL}


def test_withhold_rows_withholds_a_small_group_in_every_column():
    df = pd.DataFrame({"code": ["x", "y", "z", "w"], "persons": [3, 9, 50, 60], "dormant": [1, 7, 20, 0],
                       "rate": [0.3, 0.2, 0.1, 0.05]})
    out = privacy.withhold_rows(df, ["persons", "dormant"], 5, key="code", base="persons",
                                rates={"rate": ("dormant", "persons")})
    assert list(out["persons"]) == [SMALL, COMPLEMENT, 50, 60]
    # x and y go with their groups, w's 0 is small: three withheld cover each other.
    assert list(out["dormant"]) == [SMALL, COMPLEMENT, 20, SMALL]
    assert [math.isnan(r) for r in out["rate"]] == [True, True, False, True]
    assert df["persons"].tolist() == [3, 9, 50, 60]  # the input is left as it was


def test_grid_is_one_breakdown():
    df = pd.DataFrame({"band": ["u35", "35_44"], "male": [2, 40], "female": [30, 50]})
    out = privacy.withhold_grid(df, ["male", "female"], 5, key="band")
    assert out.loc[0, "male"] == SMALL and out.loc[0, "female"] == COMPLEMENT
    assert out.loc[1, "male"] == 40


@pytest.mark.parametrize("stages,expected", [
    ((50, 30, 17, 8), [105, 55, 25, 8]),
    # 使用 small: it and 管理 (next smallest) are withheld; the layer between them would
    # give 使用 away, the layers around both only their sum.
    ((50, 30, 3, 8), [91, 41, 11, COMPLEMENT]),
    # 管理 small and 发现 its complement: every inner layer straddles them.
    ((6, 30, 40, 2), [78, COMPLEMENT, COMPLEMENT, SMALL]),
    # Nobody in 管理: a public zero, the layer is just small.
    ((50, 30, 17, 0), [97, 47, 17, SMALL]),
])
def test_funnel_layers(stages, expected):
    df = pd.DataFrame({"stage": ["discover", "cultivate", "use", "manage"], "n": list(stages)})
    assert list(privacy.funnel_layers(df, 5)["reached"]) == expected


def test_districts_count_those_in_no_district():
    df = pd.DataFrame({"code": ["330102", "330106", "330110"], "n": [40, 3, 30], "in_scope": [True, True, False]})
    # 2 persons in no district: with the 3 they cover each other, no complement needed.
    assert list(privacy.cockpit_districts(df, 45, 5)["n"]) == [40, SMALL, 30]
    # Everyone in a district: the 3 needs a complement, and outside districts are left alone.
    assert list(privacy.cockpit_districts(df, 43, 5)["n"]) == [COMPLEMENT, SMALL, 30]


def test_monthly_checkins_of_this_year_add_up_to_the_headline():
    from datetime import date

    df = pd.DataFrame({"month": ["2025-12", "2026-01", "2026-02"], "registrations": [3, 50, 60],
                       "checkins": [3, 2, 40]})
    out = privacy.cockpit_monthly(df, date(2026, 2, 10), 5)
    assert list(out["registrations"]) == [SMALL, 50, 60]
    # Last year's small month stands alone; this year's needs a complement.
    assert list(out["checkins"]) == [SMALL, SMALL, COMPLEMENT]


def test_shown_number_and_text():
    assert privacy.shown_number(COMPLEMENT) is None and privacy.shown_number(float("nan")) is None
    assert privacy.shown_number(7) == 7
    assert privacy.shown_text(1234) == "1,234" and privacy.shown_text(SMALL) == "<5"
    assert privacy.shown_text(None) == "—"


# ---- the cockpit's builders draw a withheld count as its mark

def test_builders_draw_marks():
    assert c.suppress(COMPLEMENT) is None and c.format_count(COMPLEMENT) == "*"
    assert c.format_share(COMPLEMENT, 100) == "—"
    df = pd.DataFrame({"label": ["甲", "乙", "丙"], "n": pd.Series([100, COMPLEMENT, SMALL], dtype=object)})
    o = options_of(c.ranked_bar(df))
    assert o["series"][0]["data"] == [100, None, None]
    assert o["yAxis"][1]["data"] == ["100", "*", "<5"]
    stages = pd.DataFrame({"stage": ["discover", "cultivate", "use", "manage"], "n": [50, 30, 3, 8]})
    layers = privacy.funnel_layers(stages, 5)
    o = options_of(c.funnel_chart(layers, {}, conversion_label="转化"))
    data = o["series"][0]["data"]
    assert [d.get("value") for d in data] == [91, 41, 11, None]
    assert data[3]["label"]["formatter"] == "manage  *"
    assert isinstance(layers["reached"][3], Hidden)


def test_a_list_of_groups_with_persons_leaves_the_small_ones_out():
    # Listed as "<5", a small group would tell that it is not empty: the reader could count them.
    df = pd.DataFrame({"key": ["a", "b", "c", "d"], "persons": [3, 9, 50, 60], "fresh": [1, 5, 20, 30]})
    out = privacy.withhold_rows(df, ["persons", "fresh"], 5, key="key", base="persons", drop_small=True)
    assert list(out["key"]) == ["b", "c", "d"]
    assert list(out["persons"]) == [COMPLEMENT, 50, 60]
    # Staff and admins (threshold 0) see every group.
    assert len(privacy.withhold_rows(df, ["persons"], 0, key="key", base="persons", drop_small=True)) == 4
    # Nothing at all: still the columns, no rows.
    empty = privacy.withhold_rows(df.iloc[:0], ["persons"], 5, key="key", base="persons", drop_small=True)
    assert list(empty.columns) == list(df.columns) and empty.empty


def test_liveness_goes_with_a_withheld_share():
    from store.queries.health import KEY_FIELDS, Liveness

    filled = tuple((f, 40) for f in KEY_FIELDS)
    live = Liveness(persons=40, fresh=30, active=20, key_filled=filled)
    assert privacy.liveness_parts(live, 5) == (live.score, 0.75, 1.0, 0.5)
    # Three persons checked in: the share would say so, and the score would give the share back.
    few = Liveness(persons=40, fresh=30, active=3, key_filled=filled)
    assert privacy.liveness_parts(few, 5) == (None, 0.75, 1.0, None)
    assert privacy.liveness_parts(few, 0)[0] == few.score


SMALL = Hidden("<5")


@pytest.mark.parametrize("persons,responded,expected", [
    (200, 60, (60, 0.3)),
    (200, 3, (SMALL, None)),         # a small count, and its share
    (200, 197, (COMPLEMENT, None)),  # three who did not respond: 200 - 197 would tell
    (200, 200, (200, 1.0)),          # nobody silent: an empty group gives nobody away
    (4, 4, (SMALL, None)),           # a scope of four persons
])
def test_who_responded_is_withheld_as_a_part_of_the_persons(persons, responded, expected):
    from store.reps import Liveness

    shown = privacy.reps_liveness(Liveness(persons, responded, 0, None, None, 0, 0), 5)
    assert (shown.responded, shown.responded_share) == expected
    # Staff and admins see the counts as they are.
    assert privacy.reps_liveness(Liveness(persons, responded, 0, None, None, 0, 0), 0).responded == responded


@pytest.mark.parametrize("received,adopted,expected", [
    (40, 12, (40, 12)),
    (40, 2, (40, SMALL)),
    (40, 37, (40, COMPLEMENT)),  # three not adopted: 40 - 37 would tell
    (40, 40, (40, 40)),
    (3, 1, (SMALL, SMALL)),
])
def test_adopted_suggestions_are_withheld_as_a_part_of_those_received(received, adopted, expected):
    from store.reps import Liveness

    shown = privacy.reps_liveness(Liveness(100, 50, 0, None, None, received, adopted), 5)
    assert (shown.suggestions, shown.adopted) == expected


def test_the_queues_ages_go_with_its_count():
    from store.reps import Liveness

    few = privacy.reps_liveness(Liveness(100, 50, 3, 40, 9.0, 0, 0), 5)
    assert (few.open_requests, few.oldest_open_days, few.median_open_days) == (SMALL, None, None)
    many = privacy.reps_liveness(Liveness(100, 50, 12, 40, 9.5, 0, 0), 5)
    assert (many.open_requests, many.oldest_open_days, many.median_open_days) == (12, 40, 9.5)
    assert privacy.reps_liveness(Liveness(100, 50, 3, 40, 9.0, 0, 0), 0).median_open_days == 9.0


def test_a_period_total_that_would_pin_a_month_is_withheld():
    from datetime import date

    def row(i, month, kind, n):
        return {"id": i, "starts_at": pd.Timestamp(f"{month}-10"), "kind": kind, "registrations": n,
                "approved": n, "rejected": 0, "checked_in": n, "absent": 0, "no_show_rate": 0.0}

    # November has one activity of 3 sign-ups: its month's cells cannot cover it, and month
    # totals are not shown, but the period's total minus December's shown cells would be it.
    rows = pd.DataFrame([row(1, "2026-11", "lecture", 3), row(2, "2026-12", "lecture", 30),
                         row(3, "2026-12", "training", 40)])
    counts = privacy.activity_counts(rows, {}, 5)
    assert counts.cells["registrations"][("2026-11", "lecture")] == SMALL
    assert privacy.pinned_by_total(rows, counts, "registrations", 5)
    monthly = pd.DataFrame({"month": ["2026-11", "2026-12"], "registrations": [3, 70], "checkins": [3, 70]})
    shown = privacy.period_totals({"registrations": 73}, 5, monthly=monthly, months=["2026-11", "2026-12"],
                                  today=date(2026, 12, 5), pinning=["registrations"])
    assert shown == {"registrations": COMPLEMENT}
    # Two such months cover each other.
    rows = pd.concat([rows, pd.DataFrame([row(4, "2026-10", "survey", 2)])], ignore_index=True)
    assert not privacy.pinned_by_total(rows, privacy.activity_counts(rows, {}, 5), "registrations", 5)
