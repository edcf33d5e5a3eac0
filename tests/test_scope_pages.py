"""Each role and district scope sees exactly what it should, on every page (issue #9).

Accounts sign in through the real form of the whole app (AppTest of app.py) on a
small demo city. What a scoped account should see is counted here with plain SQL
on the base tables, never through store/queries: a scope bug in the query layer
cannot then agree with itself. Each scoped check is paired with the unscoped
number it must differ from, so a test that passes is one that could have failed.
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit
from openpyxl import load_workbook
from sqlalchemy import Engine, and_, distinct, exists, false, func, insert, not_, select
from streamlit.testing.v1 import AppTest

from store import clock
from charts.audit import action_label, readable_detail
from charts.cockpit import format_count
from loaders.api import apply_import, prepare_import
from loaders.demo import generate_demo
from store import accounts
from store.engine import create_store_engine
from store.migrate import upgrade_to_head
from store.privacy import mask_id_number, mask_phone
from store.audit import record_now
from store.schema import STAGES, activity, appointment, audit_log, import_batch, import_change, participation, person, region, stage_event
from store.scope import EVERYTHING, Scope
from ui.auth import ROLE_PAGES, ROLES, Viewer
from tests.test_cockpit_page import walk
from ui.audit import audit_texts
from ui.i18n import translate

# Reads the project's clock: proven at every day of conftest.DATES (tests/test_calendar.py).
pytestmark = pytest.mark.calendar

ROOT = Path(__file__).resolve().parent.parent
APP_PATH = str(ROOT / "app.py")
PASSWORD = "a-long-password"
PAGES = ("cockpit", "explorer", "people", "activities", "lifecycle", "data_health", "data_import", "audit", "reps",
         "enterprises", "activity_desk", "hall", "checkin")
DISTRICT, OTHER = "330106", "330102"  # 西湖区, and a district the scoped accounts must never see
DUP_IN, DUP_OUT = "甲测重", "乙测重"  # a suspected duplicate pair inside DISTRICT, and one in OTHER
# Activities held in DISTRICT and in OTHER that nobody signed up for: only "held there" can bring them in.
HELD_IN, HELD_OUT = "西湖区无人报名座谈会", "上城区无人报名座谈会"
# Held in the last days with one person of the street account's street: every scope has an
# activity in the activities page's default period, whatever day the demo was made on.
HELD_STREET = "街道人士座谈会"


# ---------------------------------------------------------------- the city and its accounts


@dataclass(frozen=True)
class Who:
    """A scoped account and, independently of store/scope.py, the persons it may see."""

    username: str
    role: str
    scope: Scope
    district: str
    street: str | None = None

    def persons(self):
        """The WHERE condition on `person`, written out by hand."""
        cond = person.c.district_code == self.district
        return cond if self.street is None else and_(cond, person.c.street == self.street)

    def held_here(self):
        """An activity is held in a district scope's district; a street cannot be told from an activity."""
        return activity.c.district_code == self.district if self.street is None else false()


# Scoped accounts: username -> (role, scoped to DISTRICT or to one street of it).
SCOPED_ACCOUNTS = {"d_staff": ("staff", "district"), "d_leader": ("leader", "district"),
                   "d_admin": ("admin", "district"), "s_staff": ("staff", "street"), "s_leader": ("leader", "street")}


@dataclass
class City:
    url: str
    engine: Engine
    token: str
    street: str  # the street of the street accounts, in DISTRICT
    district_names: dict[str, str] = field(default_factory=dict)

    def who(self, username: str) -> Who:
        role, kind = SCOPED_ACCOUNTS[username]
        if kind == "district":
            return Who(username, role, Scope(districts=(DISTRICT,)), DISTRICT)
        return Who(username, role, Scope(streets=((DISTRICT, self.street),)), DISTRICT, self.street)


def _csv(rows: list[tuple[str, ...]]) -> bytes:
    lines = ["姓名,性别,手机号码,统战对象类别,所属区县"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('scope_city') / 'city.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=500, seed=23)
    # Two import batches: data health must list a batch only to the scopes whose persons it touched.
    for k, (name, district) in enumerate((("西湖名单.csv", "西湖区"), ("上城名单.csv", "上城区"))):
        rows = [(f"{district[:2]}导入{i}", "男", f"1990000{k}{i:03d}", "其他", district) for i in range(3)]
        plan = prepare_import(_csv(rows), name)
        result = apply_import(engine, plan, imported_by="seed")
        assert (result.inserted, result.rejected) == (3, 0), result.errors
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(person), [
            dict(name=n, birth_date=date(1970, 1, 1), category_code="other", district_code=d, stage="discover",
                 created_at=now, updated_at=now)
            for n, d in ((DUP_IN, DISTRICT), (DUP_IN, DISTRICT), (DUP_OUT, OTHER), (DUP_OUT, OTHER))
        ])
        # Two days ago, but never in last year: the cockpit counts this year's activities.
        today = clock.today()
        held = datetime.combine(max(today - timedelta(days=2), date(today.year, 1, 1)), datetime.min.time())
        conn.execute(insert(activity), [dict(title=t, kind="survey", district_code=d, starts_at=held)
                                        for t, d in ((HELD_IN, DISTRICT), (HELD_OUT, OTHER))])
        # The street account's street: the busiest one of DISTRICT, so every count is a real one.
        street = conn.execute(
            select(person.c.street).where(person.c.district_code == DISTRICT, person.c.street.is_not(None))
            .group_by(person.c.street).order_by(func.count().desc(), person.c.street).limit(1)
        ).scalar_one()
        street_person = conn.execute(
            select(person.c.id).where(person.c.district_code == DISTRICT, person.c.street == street)
            .order_by(person.c.id).limit(1)
        ).scalar_one()
        street_activity = conn.execute(
            insert(activity).values(title=HELD_STREET, kind="survey", district_code=DISTRICT, starts_at=held)
        ).inserted_primary_key[0]
        conn.execute(insert(participation).values(activity_id=street_activity, person_id=street_person,
                                                  status="checked_in", registered_at=held, checked_in_at=held))
        # And a post ending within weeks: the street's lifecycle lists are never empty by chance.
        conn.execute(insert(appointment).values(person_id=street_person, body="cppcc", title="政协委员",
                                                level="district", term_start=date(today.year - 4, 1, 1),
                                                term_end=today + timedelta(days=60)))
        names = dict(conn.execute(select(region.c.code, region.c.name_zh).where(region.c.level == "district")).all())
    for role in ("leader", "staff", "admin", "steward"):
        accounts.create_account(engine, role, PASSWORD, role)
    c = City(url=url, engine=engine, token=accounts.create_screen_token(engine, "大厅"), street=street,
             district_names=names)
    for username in SCOPED_ACCOUNTS:
        w = c.who(username)
        accounts.create_account(engine, username, PASSWORD, w.role, scope=w.scope)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("BRAIN_REQUIRE_LOGIN", "1")
        mp.setenv("BRAIN_ANALYTIC_COPY", "0")
        yield c
    engine.dispose()


# ---------------------------------------------------------------- the truth, in SQL


def scalar(engine: Engine, stmt) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one() or 0)


def column(engine: Engine, stmt) -> list:
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


def count_persons(engine: Engine, cond=None) -> int:
    stmt = select(func.count()).select_from(person)
    return scalar(engine, stmt if cond is None else stmt.where(cond))


def person_ids(engine: Engine, cond) -> set[int]:
    return set(column(engine, select(person.c.id).where(cond)))


def in_scope_ids(who: Who):
    return select(person.c.id).where(who.persons())


def count_activities(engine: Engine, who: Who | None, lo: datetime, hi: datetime) -> int:
    stmt = select(func.count()).select_from(activity).where(activity.c.starts_at >= lo, activity.c.starts_at < hi)
    if who is not None:
        reached = exists().where(participation.c.activity_id == activity.c.id,
                                 participation.c.person_id.in_(in_scope_ids(who)))
        stmt = stmt.where(who.held_here() | reached)
    return scalar(engine, stmt)


def count_registrations(engine: Engine, who: Who, lo: datetime, hi: datetime) -> int:
    return scalar(engine, select(func.count()).select_from(
        participation.join(activity, activity.c.id == participation.c.activity_id)
        .join(person, person.c.id == participation.c.person_id)
    ).where(activity.c.starts_at >= lo, activity.c.starts_at < hi, who.persons()))


def count_dormant(engine: Engine, who: Who, since: datetime) -> int:
    checked_in = exists().where(participation.c.person_id == person.c.id, participation.c.status == "checked_in",
                                participation.c.checked_in_at >= since)
    return count_persons(engine, and_(who.persons(), not_(checked_in)))


def reached_stage(engine: Engine, cond, stage: str) -> int:
    return scalar(engine, select(func.count(distinct(stage_event.c.person_id)))
                  .join(person, person.c.id == stage_event.c.person_id)
                  .where(stage_event.c.stage == stage, cond))


def duplicate_groups(engine: Engine, cond) -> tuple[int, int, int, int]:
    """(name+birth groups, their persons, shared-mobile groups, their persons) among the persons of `cond`."""
    by_name = (select(func.count().label("n")).where(cond, person.c.birth_date.is_not(None))
               .group_by(person.c.name, person.c.birth_date).having(func.count() > 1).subquery())
    mobile = and_(person.c.phone.like("1%"), func.length(person.c.phone) == 11)
    by_phone = (select(func.count().label("n")).where(cond, mobile)
                .group_by(person.c.phone).having(func.count(distinct(person.c.name)) > 1).subquery())
    with_totals = [select(func.count(), func.coalesce(func.sum(s.c.n), 0)) for s in (by_name, by_phone)]
    with engine.connect() as conn:
        (g1, p1), (g2, p2) = (conn.execute(s).one() for s in with_totals)
    return int(g1), int(p1), int(g2), int(p2)


def batch_files(engine: Engine, cond) -> set[str]:
    return set(column(engine, select(import_batch.c.file_name).distinct().select_from(
        import_batch.join(import_change, import_change.c.batch_id == import_batch.c.id)
        .join(person, person.c.id == import_change.c.person_id)).where(cond)))


# ---------------------------------------------------------------- driving the app


def sign_in(username: str) -> AppTest:
    at = AppTest.from_file(APP_PATH, default_timeout=120)
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def open_page(at: AppTest, page: str, **params) -> AppTest:
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def nodes(at: AppTest, kind: str) -> list:
    return [n for n in walk(at._tree) if getattr(n, "type", "") == kind]


def page_text(at: AppTest) -> str:
    """Everything the page sends, as text (every element's protobuf)."""
    return "\n".join(str(getattr(n, "proto", "")) for n in walk(at._tree))


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, (label, [m.label for m in at.metric])
    return found[0]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def shows(text: str, n: int, role: str) -> bool:
    """Whether `text` shows the count `n` as `role` may see it: in full, or for a leader (who
    sees aggregates only, store/privacy.py) "<5" when small and the number or "*" otherwise."""
    if role != "leader":
        return text == f"{n:,}"
    return text == "<5" if n < 5 else text in (f"{n:,}", "*")


def frame(at: AppTest, columns: set[str]):
    """The one dataframe on the page that has all of `columns`."""
    found = [d.value for d in at.dataframe if columns <= set(d.value.columns)]
    assert len(found) == 1, (columns, [list(d.value.columns) for d in at.dataframe])
    return found[0]


def widget(at: AppTest, kind: str, key: str):
    found = [w for w in getattr(at, kind) if w.key == key]
    assert len(found) == 1, key
    return found[0]


def kpi(at: AppTest, name: str) -> str:
    body = "\n".join(n.proto.body for n in nodes(at, "html"))
    found = re.search(rf'data-kpi="{name}"><div class="label">[^<]*</div><div class="value">([^<]*)</div>', body)
    assert found, f"no {name} card on the cockpit"
    return found.group(1).replace("&lt;", "<")


def district_map(at: AppTest) -> dict[str, object]:
    """The cockpit map's value per district name."""
    for n in nodes(at, "bidi_component"):
        data = json.loads(n.proto.json)
        if data.get("map"):
            # A count under the privacy threshold (zero too) travels without a value.
            return {item["name"]: item.get("value") for item in data["options"]["series"][0]["data"]}
    raise AssertionError("no map on the cockpit")


def period_of(at: AppTest) -> tuple[datetime, datetime]:
    """The activities page's period, read off the page: [first day 00:00, day after the last 00:00)."""
    for text in captions(at):
        found = re.fullmatch(r"(\d{4}-\d{2}-\d{2}) 至 (\d{4}-\d{2}-\d{2})（按活动开始时间）", text)
        if found:
            start, end = (date.fromisoformat(d) for d in found.groups())
            return datetime.combine(start, datetime.min.time()), datetime.combine(end + timedelta(days=1),
                                                                                  datetime.min.time())
    raise AssertionError(f"no period caption in {captions(at)}")


# ---------------------------------------------------------------- 1. role × page


def readme_pages() -> dict[str, set[str]]:
    """The README's page table: page -> the roles it is for ("everyone" includes the lobby screen)."""
    english = {"cockpit": "cockpit", "explorer": "explorer", "people": "people", "activities": "activities",
               "lifecycle": "lifecycle", "data health": "data_health", "import": "data_import", "audit": "audit",
               "representatives": "reps", "enterprises": "enterprises",
               "activity desk": "activity_desk", "hall screen": "hall", "check-in": "checkin"}
    table = (ROOT / "README.md").read_text(encoding="utf-8").split("## Pages", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            continue
        name = next((page for label, page in english.items() if cells[0].endswith(label)), None)
        if name:
            out[name] = set(ROLES) if cells[1] == "everyone" else {r.strip() for r in cells[1].split(",")}
    return out


def test_role_pages_are_the_documented_ones():
    documented = readme_pages()
    assert set(documented) == set(PAGES)
    assert {role: {p for p in PAGES if role in documented[p]} for role in ROLES} == \
        {role: set(pages) for role, pages in ROLE_PAGES.items()}


def _landing(role: str, city: City) -> AppTest:
    if role == "screen":
        at = AppTest.from_file(APP_PATH, default_timeout=120)
        at.query_params["token"] = city.token
        at.run()
        assert not at.exception and not at.error and not at.text_input  # no sign-in form for a screen
        return at
    return sign_in(role)


def _landmark(at: AppTest, page: str) -> bool:
    if page == "cockpit":
        return "cockpit-kpis" in "\n".join(n.proto.body for n in nodes(at, "html"))
    return translate(f"page.{page}", "zh") in [x.value for x in at.title]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_role_reaches_a_page_iff_allowed(city, role, page):
    at = _landing(role, city)
    if page in ROLE_PAGES[role]:
        open_page(at, page)
        assert not at.error, [e.value for e in at.error]
        assert _landmark(at, page)
        return
    # Not in this role's navigation: no URL leads there ...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"pages/{page}.py").run()
    # ... and the page refuses by itself when its script is run without app.py in front of it.
    alone = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=60)
    alone.session_state["viewer"] = Viewer(name=f"{role}1", role=role, scope=EVERYTHING)
    alone.session_state["last_seen"] = time.time()
    alone.run()
    assert not alone.exception, alone.exception
    assert [e.value for e in alone.error] == [translate("auth.forbidden", "zh")]
    assert not _landmark(alone, page)
    assert not alone.dataframe and not alone.metric and not nodes(alone, "plotly_chart")


# ---------------------------------------------------------------- 2. scope on every page

SCOPED = ("d_staff", "s_staff", "d_leader", "s_leader")


def test_a_street_scope_allows_its_street_only():
    street = Scope(streets=((DISTRICT, "北山街道"),))
    assert street.allows_street(DISTRICT, "北山街道")
    assert not street.allows_street(DISTRICT, "西溪街道") and not street.allows_street(OTHER, "北山街道")
    assert Scope(districts=(DISTRICT,)).allows_street(DISTRICT, "西溪街道")
    assert EVERYTHING.allows_street(OTHER, "湖滨街道")


@pytest.mark.parametrize("username", SCOPED)
def test_cockpit_counts_only_the_scope(city, username):
    who = city.who(username)
    at = sign_in(username)  # the cockpit is every role's first page
    expected = count_persons(city.engine, who.persons())
    assert 5 <= expected < count_persons(city.engine)
    assert kpi(at, "persons") == format_count(expected, 5)
    # The sidebar footer counts the same persons.
    assert translate("footer.persons", "zh", n=f"{expected:,}") in " ".join(captions(at))
    # Held this year so far (README, "Figures"): from 1 January to the end of today.
    year = datetime(clock.today().year, 1, 1)
    tomorrow = datetime.combine(clock.today() + timedelta(days=1), datetime.min.time())
    activities = count_activities(city.engine, who, year, tomorrow)
    assert activities != count_activities(city.engine, None, year, tomorrow)
    assert kpi(at, "activities") == format_count(activities, 5)
    # The map colours only the scope's district.
    shown = district_map(at)
    own = city.district_names[DISTRICT]
    assert shown[own] == expected
    assert all(value in (None, 0) for name, value in shown.items() if name != own), shown


def _explorer(username: str, **params) -> AppTest:
    at = open_page(sign_in(username), "explorer", **params)
    # One page of 100 holds every person of a scope this size.
    widget(at, "selectbox", "explorer_page_size").set_value(100).run()
    assert not at.exception
    return at


def _listed_ids(at: AppTest) -> set[int]:
    return set(frame(at, {"id", "name", "district"})["id"].astype(int))


@pytest.mark.parametrize("username", ("d_staff", "s_staff"))
def test_explorer_lists_only_the_scope(city, username):
    who = city.who(username)
    at = _explorer(username)
    expected = person_ids(city.engine, who.persons())
    assert 0 < len(expected) <= 100
    assert number(metric(at, "全部人员")) == number(metric(at, "符合条件人数")) == len(expected)
    rows = frame(at, {"id", "name", "district"})
    assert set(rows["id"].astype(int)) == expected
    assert set(rows["district"]) == {city.district_names[DISTRICT]}
    if who.street:
        assert set(rows["street"]) == {who.street}
    # The filters offer the scope's district only, and a street account its street only.
    assert widget(at, "multiselect", "pf_districts").options == [city.district_names[DISTRICT]]
    streets = widget(at, "multiselect", "pf_streets").options
    if who.street:
        assert streets == [who.street]
    else:
        district_streets = column(city.engine, select(region.c.name_zh).where(
            region.c.level == "street", region.c.parent_code == DISTRICT))
        assert streets and set(streets) == set(district_streets)


def _other_street(city: City) -> str:
    return column(city.engine, select(person.c.street).where(
        person.c.district_code == OTHER, person.c.street.is_not(None)).limit(1))[0]


@pytest.mark.parametrize("username", ("d_staff", "s_staff"))
@pytest.mark.parametrize("params", [
    {"districts": [OTHER]},
    {"districts": [OTHER, DISTRICT]},
    {"streets": ["<other street>"]},
    {"districts": [OTHER], "streets": ["<other street>"], "stages": ["discover", "cultivate", "use", "manage"]},
], ids=["other-district", "both-districts", "other-street", "other-everything"])
def test_explorer_url_naming_another_district_does_not_widen(city, username, params):
    who = city.who(username)
    params = {k: [_other_street(city) if v == "<other street>" else v for v in vs] for k, vs in params.items()}
    assert count_persons(city.engine, person.c.district_code == OTHER) > 0
    at = _explorer(username, **params)
    listed = _listed_ids(at) if at.dataframe else set()
    # Never the other district's rows: the in-scope answer (the foreign values are dropped) or nothing.
    assert listed in (person_ids(city.engine, who.persons()), set())
    assert not listed & person_ids(city.engine, person.c.district_code == OTHER)
    assert number(metric(at, "全部人员")) == count_persons(city.engine, who.persons())


def test_explorer_url_district_does_filter_an_unscoped_account(city):
    """The control for the test above: the same parameter is not simply ignored."""
    at = _explorer("staff", districts=[OTHER])
    assert _listed_ids(at) == person_ids(city.engine, person.c.district_code == OTHER)


def test_explorer_url_naming_an_outside_person_or_name_shows_nothing(city):
    who = city.who("d_staff")
    outside_id, outside_name = (column(city.engine, select(c).where(person.c.name == DUP_OUT).limit(1))[0]
                                for c in (person.c.id, person.c.name))
    at = _explorer("d_staff", person=str(outside_id))
    assert translate("explorer.profile.missing", "zh") in [w.value for w in at.warning]
    assert outside_name not in page_text(at)
    # A keyword naming only persons elsewhere matches nobody here.
    at = _explorer("d_staff", keyword=outside_name)
    assert number(metric(at, "符合条件人数")) == 0
    assert number(metric(at, "全部人员")) == count_persons(city.engine, who.persons())
    # The unscoped staff account does find that person: the refusal above is the scope's doing.
    at = _explorer("staff", person=str(outside_id))
    assert translate("explorer.profile.missing", "zh") not in [w.value for w in at.warning]
    assert outside_name in page_text(at)


@pytest.fixture
def exports(monkeypatch):
    """The bytes of every explorer export the page offers: each run clicks the button, and the
    one-time link it makes is opened for the session that clicked, as the download route does."""
    from ui import downloads
    from ui.auth import idle_timeout
    from ui.cache import get_engine

    made: list[bytes] = []
    original_button = streamlit.button
    original_issue = downloads.TicketBook.issue

    def button(label, *args, **kwargs):
        return original_button(label, *args, **kwargs) or kwargs.get("key") == "explorer_export"

    def issue(self, order):
        ticket = original_issue(self, order)
        held = accounts.check_session(get_engine(), session_id=order.session_id, idle=idle_timeout())
        made.append(downloads.download_of(ticket, held).data)
        return ticket

    monkeypatch.setattr(streamlit, "button", button)
    monkeypatch.setattr(downloads.TicketBook, "issue", issue)
    return made


def read_export(data: bytes) -> list[dict]:
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    header, *rows = list(ws.values)
    return [dict(zip(header, r)) for r in rows]


@pytest.mark.parametrize("params", [{}, {"districts": [OTHER, DISTRICT]}], ids=["no-filter", "url-names-other"])
@pytest.mark.parametrize("username", ("d_staff", "s_staff", "d_admin"))
def test_explorer_export_holds_only_the_scope(city, exports, username, params):
    who = city.who(username)
    _explorer(username, **params)
    assert exports  # one per run of the page
    for data in exports:
        rows = read_export(data)
        assert {int(r["系统编号"]) for r in rows} == person_ids(city.engine, who.persons())
        assert {r["区县"] for r in rows} == {city.district_names[DISTRICT]}
        if who.street:
            assert {r["街道（乡镇）"] for r in rows} == {who.street}


def _personal(city: City, cond) -> dict[int, tuple[str, str]]:
    with city.engine.connect() as conn:
        return {i: (n, p) for i, n, p in conn.execute(
            select(person.c.id, person.c.id_number, person.c.phone)
            .where(cond, person.c.id_number.is_not(None), person.c.phone.is_not(None)))}


@pytest.mark.parametrize("username, unmasked", [("d_staff", False), ("d_admin", True)])
def test_staff_sees_masked_numbers_and_admin_the_real_ones(city, exports, username, unmasked):
    who = city.who(username)
    personal = _personal(city, who.persons())
    pid, (id_number, phone) = sorted(personal.items())[0]
    at = _explorer(username, person=str(pid))
    profile = " ".join(m.value for m in at.markdown)
    masked = [mask_id_number(id_number), mask_phone(phone)]
    # The profile escapes markdown specials, so a mask's * arrives as \*.
    shown_masked = [m.replace("*", "\\*") for m in masked]
    for real, mask in zip((id_number, phone), shown_masked):
        assert (real in profile) is unmasked and (mask in profile) is not unmasked
    # The list is masked for everybody; the export like the profile.
    rows = frame(at, {"id", "id_number", "phone"})
    listed = {int(i): (n, p) for i, n, p in zip(rows["id"], rows["id_number"], rows["phone"])}
    assert listed[pid] == tuple(masked)
    exported = {int(r["系统编号"]): (r["身份证号"], r["手机号"]) for r in read_export(exports[-1])}
    for i, (n, p) in personal.items():
        assert exported[i] == ((n, p) if unmasked else (mask_id_number(n), mask_phone(p)))


@pytest.mark.parametrize("username", SCOPED)
def test_activities_count_only_the_scope(city, username):
    who = city.who(username)
    at = open_page(sign_in(username), "activities")
    lo, hi = period_of(at)
    n = count_activities(city.engine, who, lo, hi)
    assert n != count_activities(city.engine, None, lo, hi)
    assert number(metric(at, "活动场次")) == n
    assert shows(metric(at, "报名人次"), count_registrations(city.engine, who, lo, hi), who.role)
    assert any(c.startswith(f"共 {n:,} 场活动") for c in captions(at)), captions(at)
    titles = set(frame(at, {"活动名称"})["活动名称"])
    assert HELD_OUT not in titles
    assert (HELD_IN in titles) is (who.street is None)
    assert HELD_STREET in titles
    since = datetime.combine(clock.today() - timedelta(days=round(12 * 30.44)), datetime.min.time())
    dormant = count_dormant(city.engine, who, since)
    shown = [re.match(r"近12个月没有任何签到记录的人员共 (\S+) 人", c) for c in captions(at)]
    assert any(m and shows(m.group(1), dormant, who.role) for m in shown), captions(at)
    # The reach chart's districts and the explorer links offer the scope's district only.
    others = [name for code, name in city.district_names.items() if code != DISTRICT]
    reach = [json.loads(n.proto.spec) for n in nodes(at, "plotly_chart") if "act_reach_district" in n.proto.id]
    assert reach
    for fig in reach:
        labels = {str(v) for trace in fig["data"] for axis in ("x", "y") for v in trace.get(axis) or []}
        assert city.district_names[DISTRICT] in labels and not labels & set(others), labels
    for box in at.selectbox:
        if box.key == "act_dormant_group":
            assert not any(name in option for option in box.options for name in others), box.options


@pytest.mark.parametrize("username", SCOPED)
def test_lifecycle_counts_only_the_scope(city, username):
    who = city.who(username)
    at = open_page(sign_in(username), "lifecycle")
    funnel = frame(at, {"阶段", "到达人数"})
    reached = [reached_stage(city.engine, who.persons(), s) for s in STAGES]
    assert all(shows(str(v) if isinstance(v, str) else f"{int(v):,}", n, who.role)
               for v, n in zip(funnel["到达人数"], reached)), (list(funnel["到达人数"]), reached)
    assert reached != [reached_stage(city.engine, person.c.id.is_not(None), s) for s in STAGES]
    no_history = count_persons(city.engine, and_(who.persons(), not_(
        exists().where(stage_event.c.person_id == person.c.id))))
    shown = [re.search(r"([\d,]+|<5|\*) 人没有阶段记录", c) for c in captions(at)]
    assert any(m and shows(m.group(1), no_history, who.role) for m in shown), captions(at)
    if who.role == "staff":
        # Named lists: every name in them is a person of the scope.
        names = set(column(city.engine, select(person.c.name).where(who.persons())))
        listed = [d.value for d in at.dataframe if "姓名" in d.value.columns]
        assert listed and all(set(df["姓名"]) <= names for df in listed)
        assert all(set(df["区县"]) <= {city.district_names[DISTRICT]} for df in listed)


@pytest.mark.parametrize("username", SCOPED + ("staff",))
def test_data_health_counts_only_the_scope(city, username):
    everything = username == "staff"
    cond = person.c.id.is_not(None) if everything else city.who(username).persons()
    kind = "everything" if everything else ("street" if city.who(username).street else "district")
    at = open_page(sign_in(username), "data_health")
    persons = count_persons(city.engine, cond)
    role = "staff" if everything else city.who(username).role
    helps = {m.proto.help for m in at.metric if " / " in m.proto.help}
    assert helps and all(shows(h.split(" / ")[1], persons, role) for h in helps), helps
    counts = duplicate_groups(city.engine, cond)
    pattern = translate("health.dup.summary", "zh", groups="(\\S+)", persons="(\\S+)", phone_groups="(\\S+)",
                        phone_persons="(\\S+)")
    found = [re.fullmatch(pattern, c) for c in captions(at)]
    assert any(m and all(shows(text, n, role) for text, n in zip(m.groups(), counts)) for m in found), captions(at)
    text = page_text(at)
    # The duplicate pair elsewhere never shows; ours shows to staff only (the leader sees counts).
    assert (DUP_OUT in text) is everything
    if not everything and city.who(username).street is None:
        assert (DUP_IN in text) is (username.endswith("staff"))
    expected = batch_files(city.engine, cond)
    # Sanity of the seed: the unscoped view has both files, a district one its own, a street one none.
    assert expected == {"everything": {"西湖名单.csv", "上城名单.csv"}, "district": {"西湖名单.csv"},
                        "street": set()}[kind]
    files = set(frame(at, {"文件"})["文件"]) if at.dataframe else set()
    assert files == expected


@pytest.mark.parametrize("username", ("d_leader", "s_leader"))
def test_leader_sees_no_personal_lists(city, username):
    names = set(column(city.engine, select(person.c.name).distinct()))
    at = sign_in(username)
    for page in ("cockpit", "activities", "lifecycle", "data_health"):
        open_page(at, page)
        for df in (d.value for d in at.dataframe):
            cells = {str(v) for v in df.astype(str).to_numpy().ravel()}
            assert not cells & names, (page, sorted(cells & names)[:5])
        labels = [n.proto.label for n in nodes(at, "page_link") + nodes(at, "link_button")]
        assert not any(name in label for label in labels for name in names), (page, labels)
        options = [o for w in list(at.selectbox) + list(at.multiselect) for o in w.options]
        assert not set(map(str, options)) & names, page


# ---------------------------------------------------------------- 3. the audit log (admins only)

# Accounts a DISTRICT admin must not read: another district's admin, and staff spanning both districts.
OUTSIDE_ACCOUNTS = {"o_admin": ("admin", Scope(districts=(OTHER,))),
                    "both_staff": ("staff", Scope(districts=(DISTRICT, OTHER)))}
# Not accounts at all, or unscoped ones: only an unscoped admin reads them.
UNSCOPED_ACTORS = ("admin", "staff", "bench", "system", "seed", "screen#1")
SEED_ACTION = "scope_seed"


def audit_truth(engine: Engine, actors, action: str | None = None, actor_part: str = "") -> list[tuple]:
    """(actor, action, detail) of the entries of `actors`, newest first, read straight from audit_log
    (as codes and JSON; `as_shown` gives them as the page words them)."""
    stmt = select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
    if actors is not None:
        stmt = stmt.where(audit_log.c.actor.in_(actors))
    if action:
        stmt = stmt.where(audit_log.c.action == action)
    if actor_part:
        stmt = stmt.where(audit_log.c.actor.contains(actor_part))
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt.order_by(audit_log.c.at.desc(), audit_log.c.id.desc()))]


def as_shown(rows: list[tuple]) -> list[tuple]:
    """audit_truth's rows as the page shows them: action names, details in words."""
    texts = audit_texts("zh")
    return [(actor, action_label(action, texts), readable_detail(detail, texts)) for actor, action, detail in rows]


def audit_shown(at: AppTest) -> tuple[int, list[tuple]]:
    """(the count in the caption, the rows of the table) of the audit page."""
    totals = [c for c in captions(at) if re.fullmatch(r"共 [\d,]+ 条", c)]
    assert len(totals) == 1, captions(at)
    cols = [translate(f"audit.col.{c}", "zh") for c in ("actor", "action", "detail")]
    rows = [tuple(r) for r in frame(at, set(cols))[cols].itertuples(index=False)] if at.dataframe else []
    return number(totals[0][2:-2]), rows


def audit_filter(at: AppTest, label_key: str):
    label = translate(label_key, "zh")
    found = [w for w in list(at.multiselect) + list(at.text_input) + list(at.number_input) if w.label == label]
    assert len(found) == 1, label
    return found[0]


@pytest.fixture(scope="module")
def audit_seeded(city):
    for username, (role, scope) in OUTSIDE_ACCOUNTS.items():
        accounts.create_account(city.engine, username, PASSWORD, role, scope=scope)
    detail = {"rows": 12, "districts": [OTHER]}
    for actor in (*SCOPED_ACCOUNTS, *OUTSIDE_ACCOUNTS, *UNSCOPED_ACTORS):
        record_now(city.engine, actor, "export", {**detail, "marker": f"export-by-{actor}"})
    # More than a page of entries of an account within the district, so paging is exercised.
    for i in range(130):
        record_now(city.engine, "d_staff", SEED_ACTION, {"i": i})
    return city


def test_a_district_admin_reads_only_the_audit_entries_of_its_district(audit_seeded):
    city = audit_seeded
    at = open_page(sign_in("d_admin"), "audit")
    # Every scoped account of the city lies within DISTRICT (a district, or one of its streets).
    within = tuple(SCOPED_ACCOUNTS)
    total, rows = audit_shown(at)
    expected = audit_truth(city.engine, within)
    assert total == len(expected) > 100 and len(expected) < len(audit_truth(city.engine, None))
    assert rows == as_shown(expected[:100])
    text = page_text(at)
    for outsider in (*OUTSIDE_ACCOUNTS, *UNSCOPED_ACTORS):
        assert f"export-by-{outsider}" not in text
    # The action filter offers only actions of entries it may show.
    assert set(audit_filter(at, "audit.actions").options) == {a for _, a, _ in as_shown(expected)}

    audit_filter(at, "audit.page").set_value(2).run()
    assert audit_shown(at) == (len(expected), as_shown(expected[100:200]))

    audit_filter(at, "audit.actions").set_value(["export"]).run()
    exports = audit_truth(city.engine, within, "export")
    assert {f"export-by-{a}" for a in SCOPED_ACCOUNTS} <= {json.loads(d)["marker"] for _, _, d in exports
                                                          if "marker" in json.loads(d)}
    assert audit_shown(at) == (len(exports), as_shown(exports[:100]))

    # Naming another district's admin finds nothing, rather than their export.
    audit_filter(at, "audit.actor").input("o_admin").run()
    assert audit_shown(at) == (0, [])
    assert translate("audit.empty", "zh") in [i.value for i in at.info]


def test_an_unscoped_admin_reads_every_audit_entry(audit_seeded):
    """The control for the test above: the other district's export is there to be hidden."""
    city = audit_seeded
    at = open_page(sign_in("admin"), "audit")
    audit_filter(at, "audit.actions").set_value(["export"]).run()
    exports = audit_truth(city.engine, None, "export")
    assert audit_shown(at) == (len(exports), as_shown(exports[:100]))
    text = page_text(at)
    for actor in (*SCOPED_ACCOUNTS, *OUTSIDE_ACCOUNTS, *UNSCOPED_ACTORS):
        assert f"export-by-{actor}" in text


@pytest.mark.parametrize("username", ("d_staff", "s_staff"))
def test_reps_desk_shows_only_the_scope(city, username):
    from store import reps

    who = city.who(username)
    inside = min(person_ids(city.engine, who.persons()))
    outside = min(set(column(city.engine, select(person.c.id))) - person_ids(city.engine, who.persons()))
    reps.propose_changes(city.engine, inside, {"organization": f"范围内单位{username}"})
    reps.propose_changes(city.engine, outside, {"organization": f"范围外单位{username}"})
    at = open_page(sign_in(username), "reps")
    # One table per request waiting (the oldest twenty), the proposals in its last column.
    proposed = {p for d in at.dataframe if "代表提出" in d.value.columns for p in d.value["代表提出"]}
    assert f"范围内单位{username}" in proposed
    assert not any(p.startswith("范围外单位") for p in proposed)
