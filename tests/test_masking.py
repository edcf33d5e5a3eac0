"""A masked ID number stays masked: nothing a masked role sees fills in its hidden digits (issue 19.3).

The eight digits `330106********1234` hides are the birth date (YYYYMMDD). Every field a
staff account sees — list, profile, export, the duplicate report — is checked against
them; the admin, who sees ID numbers in full, still sees the birth date.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from store import accounts, clock
from store.engine import create_store_engine
from store.export import export_persons
from store.filters import PersonFilter
from store.migrate import upgrade_to_head
from store.privacy import may_see_personal, shown_birth
from store.queries import explorer as q
from store.schema import person
from store.scope import EVERYTHING
from tests.test_cockpit_page import walk
from tests.test_scope_pages import PASSWORD, sign_in

DISTRICT = "330106"
DUP_NAME = "丙测掩码"


def hidden_digits(id_number: str) -> str:
    """What the mask hides: the middle eight digits of an 18-digit ID number."""
    return id_number[6:14]


def texts_of(value) -> list[str]:
    """A shown value as the texts a reader could take from it (a date in any usual spelling)."""
    if value is None or value is pd.NaT:
        return []
    if isinstance(value, (date, datetime)):
        return [value.strftime("%Y%m%d"), value.isoformat()]
    if isinstance(value, (list, tuple, set)):
        return [t for v in value for t in texts_of(v)]
    text = str(value)
    return [text, re.sub(r"[-/.年月日\s:\\]", "", text)]


def fills_in(id_number: str, shown) -> list[str]:
    """The shown texts that contain the hidden digits of `id_number` (none, for a mask that holds)."""
    secret = hidden_digits(id_number)
    return [t for t in texts_of(shown) if secret in t]


@pytest.mark.parametrize("unmasked", [False, True])
def test_shown_birth(unmasked):
    born = date(1986, 10, 5)
    assert shown_birth(born, unmasked) == (born if unmasked else 1986)
    assert shown_birth(None, unmasked) is None
    assert shown_birth(born, may_see_personal("staff")) == 1986
    assert shown_birth(born, may_see_personal("admin")) == born


def test_fills_in_sees_a_date_in_every_spelling():
    number = "330106198610053481"
    assert fills_in(number, date(1986, 10, 5)) and fills_in(number, "1986-10-05") and fills_in(number, "1986年10月05日")
    assert fills_in(number, "1986\\-10\\-05")  # as markdown escapes it
    assert not fills_in(number, "330106********3481") and not fills_in(number, 1986) and not fills_in(number, 40)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """A small demo city (ID numbers encode the birth date), a duplicate pair, and staff/admin accounts."""
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('masking') / 'town.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=300, seed=5)
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(person), [
            dict(name=DUP_NAME, birth_date=date(1979, 4, 23), category_code="other", district_code=DISTRICT,
                 stage="discover", id_number=number, created_at=now, updated_at=now)
            for number in ("330106197904230013", "330106197904230021")
        ])
    for role in ("staff", "admin"):
        accounts.create_account(engine, role, PASSWORD, role)
    yield url, engine
    engine.dispose()


def persons_with_ids(engine) -> list[tuple[int, str, date]]:
    with engine.connect() as conn:
        rows = conn.execute(select(person.c.id, person.c.id_number, person.c.birth_date)
                            .where(person.c.id_number.is_not(None), person.c.birth_date.is_not(None))).all()
    # The demo's numbers encode the birth date, as real ones do: the premise of this test.
    encoded = [r for r in rows if hidden_digits(r.id_number) == r.birth_date.strftime("%Y%m%d")]
    assert len(encoded) > 200
    return encoded


def test_nothing_a_masked_role_sees_fills_in_the_id_number(town):
    """Every field of the list, the profile and the export, for every person, as staff sees them."""
    _, engine = town
    people = persons_with_ids(engine)
    today = clock.today()
    seen: dict[int, list] = {pid: [] for pid, _, _ in people}
    listed = q.person_page(engine, EVERYTHING, PersonFilter(), page_size=500, today=today)
    for row in listed.to_dict("records"):
        seen.setdefault(int(row["id"]), []).extend(row.values())
    for pid, _, _ in people:
        profile = q.person_profile(engine, EVERYTHING, pid, unmasked=False, today=today)
        seen[pid].extend(profile.facts.values())
        for table in (profile.stages, profile.appointments, profile.participations):
            seen[pid].extend(table.to_numpy().ravel().tolist())
    export = export_persons(engine, EVERYTHING, PersonFilter(), actor="staff", unmasked=False, today=today)
    sheet = load_workbook(io.BytesIO(export.data)).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    for row in rows:
        seen[int(row[header.index("系统编号")])].extend(row)
    leaks = {pid: fills_in(number, seen[pid]) for pid, number, _ in people}
    assert not {pid: found for pid, found in leaks.items() if found}
    # What the profile shows of the birth date: the year, nothing finer.
    pid, number, born = people[0]
    assert q.person_profile(engine, EVERYTHING, pid, unmasked=False, today=today).facts["birth_date"] == born.year
    # The admin sees ID numbers in full and the birth date with them.
    facts = q.person_profile(engine, EVERYTHING, pid, unmasked=True, today=today).facts
    assert facts["birth_date"] == born and facts["id_number"] == number


# ---- the pages, as a signed-in account sees them


def signed_in(url: str, username: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BRAIN_REQUIRE_LOGIN", "1")
    monkeypatch.setenv("BRAIN_ANALYTIC_COPY", "0")
    return sign_in(username)


def page_texts(at: AppTest) -> list[str]:
    """Every text on the page: markdown, captions, links, metrics and every dataframe cell."""
    out = []
    for node in walk(at._tree):
        for attr in ("value", "label", "body"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                out.append(value)
        frame = getattr(node, "value", None)
        if hasattr(frame, "to_numpy"):
            out.extend(str(v) for v in frame.to_numpy().ravel())
        proto = getattr(node, "proto", None)
        for field in ("body", "label", "help"):
            value = getattr(proto, field, None)
            if isinstance(value, str):
                out.append(value)
    return out


@pytest.mark.parametrize("username", ["staff", "admin"])
def test_profile_page_shows_the_birth_date_to_the_admin_only(town, username, monkeypatch):
    url, engine = town
    pid, number, born = persons_with_ids(engine)[0]
    at = signed_in(url, username, monkeypatch)
    at.query_params["person"] = str(pid)
    at.switch_page("pages/explorer.py").run()
    assert not at.exception, at.exception
    texts = page_texts(at)
    assert any(q.person_profile(engine, EVERYTHING, pid).facts["name"] in t for t in texts)
    if username == "admin":
        assert fills_in(number, texts) and any(number in t for t in texts)
    else:
        assert fills_in(number, texts) == []
        assert any(f"**出生年份**  \n{born.year}" == t for t in texts), [t for t in texts if "出生" in t]


@pytest.mark.parametrize("username", ["staff", "admin"])
def test_duplicate_report_shows_the_birth_date_to_the_admin_only(town, username, monkeypatch):
    url, _ = town
    at = signed_in(url, username, monkeypatch)
    at.switch_page("pages/data_health.py").run()
    assert not at.exception, at.exception
    shown = [t for t in page_texts(at) if DUP_NAME in t]
    assert shown, "the duplicate pair is listed"
    assert bool(fills_in("330106197904230013", shown)) is (username == "admin")
    assert any("1979" in t for t in shown)
