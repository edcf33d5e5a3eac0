"""The person filter on screen: widgets <-> PersonFilter <-> the URL query string.

The URL is the source of truth. Each run reads the filter from `st.query_params`
and brings the widgets in line with it; each widget change, chart click or
"clear" writes the new filter back to the URL in a callback, before the script
runs again. So a copied link reproduces the view, and any page can link to the
explorer pre-filtered:

    st.page_link("pages/explorer.py", query_params=PersonFilter(tags=("海归",)).to_query_params())
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from typing import Any, Callable, Mapping

import streamlit as st

from store import clock
from store.filters import (
    ACTIVE_MONTHS_RANGE,
    AGE_RANGE,
    EARLIEST_UPDATE,
    FOLLOWED_CHOICES,
    KEYWORD_MAX_CHARS,
    PersonFilter,
)
from store.queries.explorer import AGE_BANDS, FilterOptions
from ui import params
from ui.i18n import t
from ui.markdown import escape_markdown  # noqa: F401  (pages call it as uf.escape_markdown)

FIELDS = tuple(f.name for f in fields(PersonFilter))
MULTI = ("categories", "districts", "streets", "stages", "parties", "tags", "genders", "educations", "bodies")
PREFIX = "pf_"
AGE_LIMITS = AGE_RANGE  # the slider's ends stand for "no limit"
ACTIVE_CHOICES = ("any", "yes", "no")
DEFAULT_ACTIVE_MONTHS = 12
PAGE_KEY = "explorer_page"
PERSON_PARAM = "person"
LIST_KEY = "explorer_list"
LIST_GENERATION = "explorer_list_generation"


# ---------------------------------------------------------------- URL


def read_filter() -> PersonFilter:
    """The filter in the current URL; malformed or out-of-range values are dropped with a notice."""
    found = {name: st.query_params.get_all(name) for name in FIELDS if name in st.query_params}
    flt, ignored = PersonFilter.parse_query_params(found)
    params.ignore(ignored)
    return flt


def write_filter(flt: PersonFilter) -> None:
    """Replace the filter part of the URL; other parameters (language, person) stay."""
    wanted = flt.to_query_params()
    for name in FIELDS:
        if name in st.query_params and name not in wanted:
            del st.query_params[name]
    for name, value in wanted.items():
        st.query_params[name] = value
    st.session_state[PAGE_KEY] = 1


def sanitize(flt: PersonFilter, opts: FilterOptions) -> PersonFilter:
    """Drop values the widgets cannot show (a stale link, a street outside the chosen districts)."""
    offered = {
        "categories": {c for c, _ in opts.categories},
        "districts": {c for c, _ in opts.districts},
        "streets": set(opts.streets_of(tuple(v for v in flt.districts if v in {c for c, _ in opts.districts}))),
        "stages": {c for c, _ in opts.stages},
        "parties": {c for c, _ in opts.parties},
        "tags": set(opts.tags),
        "genders": {c for c, _ in opts.genders},
        "educations": set(opts.educations),
        "bodies": {c for c, _ in opts.bodies},
    }
    changes = {}
    for name, allowed in offered.items():
        values = getattr(flt, name)
        kept = tuple(dict.fromkeys(v for v in values if v in allowed))
        if kept != values:
            changes[name] = kept
    return replace(flt, **changes) if changes else flt


# ---------------------------------------------------------------- widgets <-> filter (pure)


def widget_state(flt: PersonFilter) -> dict[str, Any]:
    """The widget values that show `flt`."""
    state: dict[str, Any] = {PREFIX + name: list(getattr(flt, name)) for name in MULTI}
    lo = AGE_LIMITS[0] if flt.age_min is None else min(max(flt.age_min, AGE_LIMITS[0]), AGE_LIMITS[1])
    hi = AGE_LIMITS[1] if flt.age_max is None else min(max(flt.age_max, AGE_LIMITS[0]), AGE_LIMITS[1])
    state[PREFIX + "age"] = (min(lo, hi), max(lo, hi))
    state[PREFIX + "tags_mode"] = flt.tags_mode
    if flt.active_months is None or flt.active is None:
        state[PREFIX + "active"] = "any"
    else:
        state[PREFIX + "active"] = "yes" if flt.active else "no"
    state[PREFIX + "active_months"] = flt.active_months or DEFAULT_ACTIVE_MONTHS
    state[PREFIX + "updated_since"] = flt.updated_since
    state[PREFIX + "keyword"] = flt.keyword
    state[PREFIX + "has_risk"] = "any" if flt.has_risk is None else "yes" if flt.has_risk else "no"
    state[PREFIX + "followed"] = flt.followed
    return state


def filter_from_widgets(state: Mapping[str, Any]) -> PersonFilter:
    """The inverse of widget_state: read every filter widget's value."""
    values: dict[str, Any] = {name: tuple(state.get(PREFIX + name) or ()) for name in MULTI}
    lo, hi = state.get(PREFIX + "age") or AGE_LIMITS
    values["age_min"] = None if lo <= AGE_LIMITS[0] else int(lo)
    values["age_max"] = None if hi >= AGE_LIMITS[1] else int(hi)
    values["tags_mode"] = state.get(PREFIX + "tags_mode") or "any"
    active = state.get(PREFIX + "active") or "any"
    if active != "any":
        values["active_months"] = int(state.get(PREFIX + "active_months") or DEFAULT_ACTIVE_MONTHS)
        values["active"] = active == "yes"
    since = state.get(PREFIX + "updated_since")
    values["updated_since"] = since if isinstance(since, date) else None
    values["keyword"] = str(state.get(PREFIX + "keyword") or "")[:KEYWORD_MAX_CHARS]
    risk = state.get(PREFIX + "has_risk") or "any"
    values["has_risk"] = None if risk == "any" else risk == "yes"
    values["followed"] = state.get(PREFIX + "followed") or "yes"
    return PersonFilter(**values)


# ---------------------------------------------------------------- chart clicks (pure)


def _customdata(point: Mapping) -> Any:
    data = point.get("customdata")
    if isinstance(data, (list, tuple)) and len(data) == 1:
        return data[0]
    return data


def add_selection(flt: PersonFilter, field: str, points: list[Mapping]) -> PersonFilter:
    """The filter narrowed to the clicked or box-selected bars of the chart for `field`.

    A category, district or stage selection replaces the field's values with the
    selected ones that the filter already allows (narrowing, never widening). Tags are many per person: a clicked tag is
    added, and once there is more than one tag the match becomes "all of".
    The pyramid's points carry [band, gender] and set the age range and gender.
    """
    data = [_customdata(p) for p in points]
    data = [d for d in data if d not in (None, "", [])]
    if not data:
        return flt
    if field == "age_gender":
        cells = [d for d in data if isinstance(d, (list, tuple)) and len(d) == 2]
        bands = sorted({int(b) for b, _ in cells if 0 <= int(b) < len(AGE_BANDS)})
        if not bands:
            return flt
        los = [AGE_BANDS[b][0] for b in bands]
        his = [AGE_BANDS[b][1] for b in bands]
        return replace(
            flt,
            age_min=None if None in los else min(los),
            age_max=None if None in his else max(his),
            genders=tuple(sorted({str(g) for _, g in cells})),
        )
    codes = tuple(dict.fromkeys(str(d) for d in data))
    if field == "tags":
        merged = tuple(dict.fromkeys(flt.tags + codes))
        mode = "all" if flt.tags and merged != flt.tags else flt.tags_mode
        return replace(flt, tags=merged, tags_mode=mode)
    if field in MULTI:
        current = getattr(flt, field)
        if current:
            # A zero bar outside the filter (the stage chart shows all four) narrows nothing.
            codes = tuple(c for c in codes if c in current)
        return replace(flt, **{field: codes}) if codes else flt
    return flt


# ---------------------------------------------------------------- rendering


def _sync_widgets(flt: PersonFilter) -> None:
    for key, value in widget_state(flt).items():
        if st.session_state.get(key) != value:
            st.session_state[key] = value


def _on_widget_change(opts: FilterOptions) -> None:
    write_filter(sanitize(filter_from_widgets(st.session_state), opts))
    # A new search: the previous search's person is no longer what the page is about.
    close_person()


def clear_filters() -> None:
    write_filter(PersonFilter())
    close_person()


def _labels(pairs) -> Callable[[str], str]:
    names = dict(pairs)
    return lambda code: names.get(code, code)


def filter_sidebar(opts: FilterOptions) -> PersonFilter:
    """Render the filter widgets in the sidebar and return the filter they show (= the URL's)."""
    flt = read_filter()
    clean = sanitize(flt, opts)
    if clean != flt:
        # Values no widget offers (a stale link, a district outside the viewer's scope).
        params.ignore(name for name in MULTI if getattr(clean, name) != getattr(flt, name))
        write_filter(clean)
    _sync_widgets(clean)
    changed = {"on_change": _on_widget_change, "args": (opts,)}
    bar = st.sidebar
    bar.subheader(t("explorer.filters"))
    bar.text_input(t("explorer.f.keyword"), key=PREFIX + "keyword", help=t("explorer.f.keyword_help"),
                   max_chars=KEYWORD_MAX_CHARS, **changed)
    any_ = t("explorer.f.placeholder")

    def multi(name: str, options, format_func=None) -> None:
        # Streamlit's "Select all" is English only, and all of a field's values is no filter at all.
        bar.multiselect(t(f"explorer.f.{name}"), options, key=PREFIX + name, placeholder=any_,
                        format_func=format_func or str, select_all=False, **changed)

    multi("categories", [c for c, _ in opts.categories], _labels(opts.categories))
    multi("districts", [c for c, _ in opts.districts], _labels(opts.districts))
    multi("streets", list(opts.streets_of(tuple(st.session_state.get(PREFIX + "districts") or ()))))
    multi("stages", [c for c, _ in opts.stages], _labels(opts.stages))
    multi("parties", [c for c, _ in opts.parties], _labels(opts.parties))
    multi("tags", list(opts.tags))
    bar.segmented_control(t("explorer.f.tags_mode"), ["any", "all"], key=PREFIX + "tags_mode",
                          format_func=lambda m: t(f"explorer.f.tags_{m}"), required=True, **changed)
    multi("genders", [c for c, _ in opts.genders], _labels(opts.genders))
    bar.slider(t("explorer.f.age"), min_value=AGE_LIMITS[0], max_value=AGE_LIMITS[1], step=1,
               key=PREFIX + "age", **changed)
    multi("educations", list(opts.educations))
    multi("bodies", [c for c, _ in opts.bodies], _labels(opts.bodies))
    left, right = bar.columns([3, 2])
    left.selectbox(t("explorer.f.active"), ACTIVE_CHOICES, key=PREFIX + "active",
                   format_func=lambda c: t(f"explorer.f.active_{c}"), **changed)
    right.number_input(t("explorer.f.active_months"), min_value=ACTIVE_MONTHS_RANGE[0],
                       max_value=ACTIVE_MONTHS_RANGE[1], step=1,
                       key=PREFIX + "active_months", **changed)
    bar.selectbox(t("explorer.f.has_risk"), ACTIVE_CHOICES, key=PREFIX + "has_risk",
                  format_func=lambda c: t(f"explorer.f.has_risk_{c}"), **changed)
    bar.date_input(t("explorer.f.updated_since"), value=None, key=PREFIX + "updated_since", min_value=EARLIEST_UPDATE,
                   **changed)
    bar.selectbox(t("explorer.f.followed"), FOLLOWED_CHOICES, key=PREFIX + "followed",
                  format_func=lambda c: t(f"explorer.f.followed_{c}"), **changed)
    bar.button(t("explorer.f.clear"), on_click=clear_filters, icon=":material/filter_alt_off:",
               disabled=clean.is_empty(), width="stretch")
    return clean


def on_chart_select(chart_key: str, field: str) -> Callable[[], None]:
    """A callback for st.plotly_chart(on_select=...) that adds the selection to the URL's filter."""

    def callback() -> None:
        event = st.session_state.get(chart_key)
        points = list(event["selection"]["points"]) if event else []
        new = add_selection(read_filter(), field, points)
        if new != read_filter():
            write_filter(new)
            close_person()

    return callback


# ---------------------------------------------------------------- list helpers


def current_page(pages: int) -> None:
    """Keep the page number within 1..pages before its widget is drawn."""
    page = st.session_state.get(PAGE_KEY, 1)
    if not isinstance(page, int) or page < 1 or page > pages:
        st.session_state[PAGE_KEY] = max(1, min(int(page) if isinstance(page, int) else 1, pages))


def opened_person() -> int | None:
    """The `person` of the URL: an id the store's key can hold, else dropped with a notice."""
    return params.number(PERSON_PARAM, 1, params.MAX_ID, integer=True)


def close_person() -> None:
    if PERSON_PARAM in st.query_params:
        del st.query_params[PERSON_PARAM]
    # A fresh list widget: the closed person's row would otherwise stay ticked, and ticking
    # it again would change nothing, so the profile could not be reopened.
    st.session_state[LIST_GENERATION] = st.session_state.get(LIST_GENERATION, 0) + 1


def list_key(*view) -> str:
    """The person list's widget key: new after a profile closes and for every page, sort and size
    of the list (`view`), so a ticked row always belongs to the rows on screen."""
    return "_".join([LIST_KEY, str(st.session_state.get(LIST_GENERATION, 0)), *map(str, view)])


TICKED_KEY = "explorer_ticked"


def on_row_select(list_key: str, ids: tuple[int, ...]) -> Callable[[], None]:
    """A callback for st.dataframe(on_select=...): one ticked row opens its person; several
    (where the list allows it) are a selection for the bulk actions, kept in TICKED_KEY."""

    def callback() -> None:
        event = st.session_state.get(list_key)
        rows = [r for r in (event["selection"]["rows"] if event else []) if 0 <= r < len(ids)]
        st.session_state[TICKED_KEY] = [ids[r] for r in rows]
        if len(rows) == 1:
            st.query_params[PERSON_PARAM] = str(ids[rows[0]])
        elif rows:
            # Several ticked: no profile, and the ticks stay (close_person would start a fresh list).
            if PERSON_PARAM in st.query_params:
                del st.query_params[PERSON_PARAM]
        else:
            close_person()

    return callback


def clear_ticks() -> None:
    """A fresh list with nothing ticked (after a bulk action: the rows move, the ticks would not)."""
    st.session_state.pop(TICKED_KEY, None)
    st.session_state[LIST_GENERATION] = st.session_state.get(LIST_GENERATION, 0) + 1


def ticked(list_key: str) -> list[int]:
    """The persons ticked in the list now on screen (none once the list changed page, sort or filter)."""
    event = st.session_state.get(list_key)
    if not event or not event["selection"]["rows"]:
        return []
    return list(st.session_state.get(TICKED_KEY, []))


# ---------------------------------------------------------------- export


def export_button(flt: PersonFilter, matched: int, *, sort: str, descending: bool) -> None:
    """An export button; its click makes a one-time download link for this session (ui/downloads.py).

    The workbook is built when the link is fetched, and audited then.
    """
    from store.export import EXPORT_MAX_ROWS
    from store.privacy import may_see_personal
    from ui.auth import current_viewer
    from ui.downloads import offer_export

    if matched == 0:
        st.caption(t("explorer.export.none"))
        return
    if matched > EXPORT_MAX_ROWS:
        st.warning(t("explorer.export.too_many", n=f"{matched:,}", limit=f"{EXPORT_MAX_ROWS:,}"))
        return
    if st.button(t("explorer.export", n=f"{matched:,}"), icon=":material/download:", key="explorer_export"):
        offer_export(flt, sort=sort, descending=descending, today=clock.today())
    unmasked = may_see_personal(current_viewer().role)
    st.caption(t("explorer.export.unmasked" if unmasked else "explorer.export.masked"))
