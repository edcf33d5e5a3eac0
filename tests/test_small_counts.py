"""No withheld count can be recovered by subtraction, in any scope of the demo city (issue 19.4).

For every district and every street, the test reads what a viewer of aggregates sees —
the cockpit and the leader's pages, through the same store.privacy functions the pages
call — into tests/disclosure.py's Sheet, with every sum that links the numbers (a total
and its breakdown, on one page or across pages), and lets the attacker subtract.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store import clock, privacy
from store.engine import create_store_engine
from store.privacy import small_mark
from store.queries import cockpit as qc
from store.schema import person
from store.scope import EVERYTHING, Scope
from tests.disclosure import Sheet

THRESHOLD = 5


@pytest.fixture(scope="module")
def city(demo_sqlite):
    engine = create_store_engine(demo_sqlite(3000, 11))
    yield engine
    engine.dispose()


def scopes_of(engine) -> list[Scope]:
    with engine.connect() as conn:
        districts = conn.execute(select(person.c.district_code).distinct()
                                 .where(person.c.district_code.is_not(None))).scalars().all()
        streets = conn.execute(select(person.c.district_code, person.c.street).distinct()
                               .where(person.c.district_code.is_not(None), person.c.street.is_not(None))).all()
    return [EVERYTHING] + [Scope(districts=(d,)) for d in sorted(districts)] + \
        [Scope(streets=((d, s),)) for d, s in sorted(streets)]


def card(n: int, t: int = THRESHOLD):
    """A headline number as charts.cockpit.format_count shows it."""
    return n if n >= t else small_mark(t)


def breakdown(sheet: Sheet, total, name: str, keys, shown, raw, *, zeros_public: bool, rest: int | None = None):
    """Cells `name:key` shown as `shown`, adding up (with `rest`, known to the reader) to `total`."""
    parts = []
    for key, s, n in zip(keys, shown, raw):
        var = (name, key)
        sheet.shown(var, s, int(n))
        if zeros_public and int(n) == 0:
            sheet.public_zero(var)
        parts.append(var)
    if rest is not None:
        sheet.known((name, "rest"), rest)
        parts.append((name, "rest"))
    if total is not None:
        sheet.total(total, parts)
    return parts


def read_cockpit(sheet: Sheet, engine, scope: Scope, today, t: int = THRESHOLD) -> None:
    h = qc.headline(engine, scope, today)
    T = ("persons",)
    # Headline cards: each stands alone, or is the total of a breakdown below.
    cards = {"persons": h.persons, "new_this_year": h.new_this_year, "active_90d": h.active_90d,
             "activities_this_year": h.activities_this_year, "fresh_12m": h.fresh_12m,
             "checkins_year": h.checkins_this_year}
    breakdown(sheet, None, "card", cards, [card(n, t) for n in cards.values()], cards.values(), zeros_public=True)
    T = ("card", "persons")

    raw = qc.by_category(engine, scope)
    shown = privacy.cockpit_categories(raw, t)
    breakdown(sheet, T, "category", raw["code"], shown["n"], raw["n"], zeros_public=True)

    raw = qc.by_district(engine, scope)
    shown = privacy.cockpit_districts(raw, h.persons, t)
    inside = raw["in_scope"]
    breakdown(sheet, T, "district", raw["code"][inside], shown["n"][inside], raw["n"][inside], zeros_public=True,
              rest=h.persons - int(raw["n"][inside].sum()))

    raw = qc.by_stage(engine, scope)
    shown = privacy.funnel_layers(raw, t)
    stages = []
    for s, n in zip(raw["stage"], raw["n"]):
        var = ("stage", s)
        if 0 < n < t:
            sheet.secret(var, int(n))
        else:
            sheet.known(var, int(n)) if n == 0 else sheet.shown(var, None, int(n))
        stages.append(var)
    sheet.total(T, stages)
    for i, layer in enumerate(shown["reached"]):
        reached = int(raw["n"][i:].sum())
        sheet.shown(("reached", i), layer, reached)
        if reached == 0:
            sheet.public_zero(("reached", i))
        sheet.total(("reached", i), stages[i:])

    raw = qc.age_gender(engine, scope, today)
    shown = privacy.withhold_grid(raw, ["male", "female"], t, key="band")
    cells = [(b, g) for b in raw["band"] for g in ("male", "female")]
    breakdown(sheet, T, "age", cells, [shown.set_index("band").at[b, g] for b, g in cells],
              [raw.set_index("band").at[b, g] for b, g in cells], zeros_public=True,
              rest=h.persons - int(raw[["male", "female"]].to_numpy().sum()))

    from charts.cockpit import education_slices
    slices = education_slices(qc.by_education(engine, scope), other_name="其他", top=6)
    shown = privacy.withhold_rows(slices, ["n"], t, key="education", base="n")
    breakdown(sheet, T, "education", slices["education"], shown["n"], slices["n"], zeros_public=True,
              rest=h.persons - int(slices["n"].sum()))

    raw = qc.top_tags(engine, scope, 20)
    shown = privacy.withhold_rows(raw, ["n"], t, key="tag", total_known=False)
    breakdown(sheet, None, "tag", raw["tag"], shown["n"], raw["n"], zeros_public=False)

    raw = qc.monthly_participation(engine, scope, today)
    shown = privacy.cockpit_monthly(raw, today, t)
    breakdown(sheet, None, "registrations", raw["month"], shown["registrations"], raw["registrations"],
              zeros_public=True)
    months = breakdown(sheet, None, "checkins", raw["month"], shown["checkins"], raw["checkins"], zeros_public=True)
    sheet.total(("card", "checkins_year"), [m for m in months if str(m[1]).startswith(f"{today.year}-")])

    raw = qc.activity_feed(engine, scope, today)
    shown = privacy.cockpit_feed(raw, t)
    breakdown(sheet, None, "feed_registered", raw["id"], shown["registered"], raw["registered"], zeros_public=False)
    breakdown(sheet, None, "feed_checked_in", raw["id"], shown["checked_in"], raw["checked_in"], zeros_public=False)


def recovered(engine, scope: Scope, today) -> dict:
    sheet = Sheet(THRESHOLD)
    read_cockpit(sheet, engine, scope, today)
    return sheet.attack()


def test_no_withheld_count_is_recovered_by_subtraction(city):
    today = clock.today()
    leaks = {}
    for scope in scopes_of(city):
        found = recovered(city, scope, today)
        if found:
            leaks[scope] = found
    assert not leaks, {str(k): v for k, v in list(leaks.items())[:5]}


def test_without_complements_subtraction_recovers_small_counts(city, monkeypatch):
    """The attack is no formality: with small counts withheld alone (as before), it recovers them."""
    monkeypatch.setattr(privacy, "derivable", lambda *args, **kwargs: [])
    today = clock.today()
    leaky = [scope for scope in scopes_of(city) if recovered(city, scope, today)]
    print(f"scopes with a recovered count, small counts withheld alone: {len(leaky)}")
    assert len(leaky) >= 7
