"""The office keeps the store alive, in a real browser, signed in as a staff member.

Through the sign-in form, then: add a person past the duplicate warning, correct a field,
tag, promote to 使用 with a 政协委员 post, bulk-tag ten persons from the explorer, merge two
duplicates and undo the merge from the history. After each step the next visit of the
cockpit, explorer, lifecycle and data-health pages shows the change: every figure read off
the page equals the same figure counted in plain SQL on the store.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from sqlalchemy import text

from store import accounts, clock
from store import changes as ch
from store.engine import create_store_engine, writing
from store.migrate import upgrade_to_head
from store.queries.cockpit import FRESH_MONTHS
from store.queries.health import months_before
from store.queries.lifecycle import TERM_WATCH_MONTHS, add_months
from tests.browser_support import browser_page, is_local, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "people"
USER, PASSWORD = "wang.staff", "Staff-pass-2026"
WAIT_MS = 90_000  # the machine may be busy: a page is given this long to show a figure
NEW_ORG = "西溪湿地艺术中心"  # the added person's organisation: a keyword that finds only them
BULK_ORG = "临江数字研究院"  # the ten persons the explorer bulk-tags
TAG, BULK_TAG = "文艺工作者", "科技创新"  # tags the demo data has: staff do not create tags


@dataclass(frozen=True)
class Seeded:
    existing: int  # 陈静怡, whom the added person resembles
    bulk: list[int]  # the ten of BULK_ORG
    keep: int  # 周文博 and his duplicate
    duplicate: int


def seed_own_persons(engine) -> Seeded:
    """Persons of this test, imported long ago: the bulk tag makes ten of them fresh again."""
    long_ago = dt.datetime.combine(clock.today() - dt.timedelta(days=800), dt.time(9))
    with writing(engine) as conn:
        cs = ch.open_change_set(conn, "import", "clerk", "旧名单.xlsx", now=long_ago)
        existing = cs.add_person(dict(name="陈静怡", gender="F", birth_date=dt.date(1982, 6, 15),
                                      phone="13905710001", organization="浙江工商大学",
                                      category_code="intellectual", district_code="330106"))
        bulk = [cs.add_person(dict(name=f"临江{i}号", organization=BULK_ORG, category_code="new_social_stratum",
                                   district_code="330106")) for i in range(10)]
        keep, duplicate = (cs.add_person(dict(name="周文博", gender="M", birth_date=dt.date(1975, 3, 8), phone=phone,
                                              organization=org, category_code="non_party", district_code="330106"))
                           for phone, org in (("13905710002", "杭州某律所"), (None, "杭州某律师事务所")))
        cs.add_tags(duplicate, ["律师"])  # the merge has something to move
        cs.close()
    return Seeded(existing, bulk, keep, duplicate)


@pytest.fixture
def office(tmp_path, streamlit_app):
    """(base URL, engine, seeded ids): a few hundred demo persons plus our own; sign-in required."""
    from loaders.demo import generate_demo

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_store_engine(url, create=True)
    upgrade_to_head(engine)
    generate_demo(engine, persons=300, seed=7, today=clock.today())
    accounts.create_account(engine, USER, PASSWORD, "staff")
    seeded = seed_own_persons(engine)
    base = streamlit_app(url, BRAIN_REQUIRE_LOGIN="1")
    yield base, engine, seeded
    engine.dispose()


# ---------------------------------------------------------------- the truth, in plain SQL

@dataclass(frozen=True)
class Truth:
    persons: int
    new_this_year: int
    fresh_12m: int
    fresh_3m: int
    reached: dict[str, int]  # stage -> persons with an event of it (the lifecycle's "any stage")
    terms_soon: int
    dup_groups: int
    dup_persons: int

    def fresh_3m_shown(self) -> str:
        return f"{self.fresh_3m / self.persons:.1%}"


def truth(engine) -> Truth:
    today = clock.today()
    year = dt.datetime(today.year, 1, 1)
    with engine.connect() as conn:
        def one(sql: str, **params):
            return conn.execute(text(sql), params).one()

        (persons,) = one("SELECT count(*) FROM person")
        (new_this_year,) = one("SELECT count(*) FROM person WHERE created_at >= :a AND created_at < :b",
                               a=str(year), b=str(year.replace(year=today.year + 1)))
        fresh = "SELECT count(*) FROM person WHERE updated_at >= :since"
        (fresh_12m,) = one(fresh, since=str(months_before(today, FRESH_MONTHS)))
        (fresh_3m,) = one(fresh, since=str(months_before(today, 3)))
        reached = dict(conn.execute(text(
            "SELECT e.stage, count(DISTINCT e.person_id) FROM stage_event e JOIN person p ON p.id = e.person_id "
            "GROUP BY e.stage")).all())
        (terms_soon,) = one("SELECT count(*) FROM appointment a JOIN person p ON p.id = a.person_id "
                            "WHERE a.term_end >= :a AND a.term_end <= :b",
                            a=str(today), b=str(add_months(today, TERM_WATCH_MONTHS)))
        dup_groups, dup_persons = one(
            "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM person "
            "WHERE birth_date IS NOT NULL GROUP BY name, birth_date HAVING count(*) > 1) AS g")
    return Truth(persons, new_this_year, fresh_12m, fresh_3m, reached, terms_soon, dup_groups, int(dup_persons))


def tags_of_matches(engine, keyword: str) -> dict[str, int]:
    """Tag -> persons, among the persons whose name or organisation holds `keyword` (the explorer's top tags)."""
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT t.name, count(*) FROM person_tag pt JOIN tag t ON t.id = pt.tag_id "
            "JOIN person p ON p.id = pt.person_id WHERE p.name LIKE :k OR p.organization LIKE :k GROUP BY t.name"),
            {"k": f"%{keyword}%"}).all())


def tagged_with(engine, name: str) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT pt.person_id FROM person_tag pt JOIN tag t ON t.id = pt.tag_id "
                                     "WHERE t.name = :n"), {"n": name}).scalars())


def matches(engine, keyword: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM person WHERE name LIKE :k OR organization LIKE :k"),
                            {"k": f"%{keyword}%"}).scalar_one()


def appointments(engine, pid: int) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(map(str, r)) for r in conn.execute(text(
            "SELECT body, title, level, term_start, term_end FROM appointment WHERE person_id = :id"), {"id": pid})]


def person_id_at(engine, organization: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM person WHERE organization = :o"), {"o": organization}).scalar()


def person_row(engine, pid: int) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM person WHERE id = :id"), {"id": pid}).first()
    return None if row is None else dict(row._mapping)


def wait_until(condition, what: str, timeout: float = WAIT_MS / 1000, *, page=None):
    """Poll the store until `condition()` is truthy (the page's write has landed); returns its value.

    With `page`, a timeout reports what the page's alerts said (a refusal or a warning explains most).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            said = page.get_by_test_id("stAlert").all_inner_texts() if page is not None else []
            raise AssertionError(f"timed out waiting for: {what}; the page said: {said}")
        time.sleep(0.25)


# ---------------------------------------------------------------- reading the pages

def shot(page, name: str, *, at: str | None = None) -> None:
    """A screenshot of the window, scrolled first to the heading `at`."""
    if at:
        page.get_by_role("heading", name=at).scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def sign_in(page, base: str) -> None:
    page.goto(base)
    wait_for_app(page)
    page.get_by_label("用户名").fill(USER)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_test_id("stSidebar").get_by_text(f"当前用户：{USER}（工作人员）").wait_for(timeout=WAIT_MS)
    wait_for_app(page)


def visit(page, title: str, path: str) -> None:
    """Open a page from the sidebar: a fresh run of its script, in the same signed-in session."""
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title)
    for _ in range(3):
        link.click()
        try:
            page.wait_for_url(re.compile(rf"/{path}(\?.*)?$"), timeout=20_000)
            break
        except PlaywrightTimeout:
            continue  # a click while a run is finishing can be dropped: click again
    wait_for_app(page, timeout_ms=WAIT_MS)


def sees(locator, expected: str) -> None:
    expect(locator).to_contain_text(expected, timeout=WAIT_MS)


def metric(page, label: str):
    named = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=named).get_by_test_id("stMetricValue")


PLOT_JS = """([key, trace]) => {
    const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    if (!gd || !gd.data) return null;
    const t = typeof trace === 'number' ? gd.data[trace] : gd.data.find(d => d.name === trace);
    if (!t) return null;
    const flip = t.type === 'funnel' || t.orientation === 'h';
    const labels = Array.from((flip ? t.y : t.x) || []), values = Array.from((flip ? t.x : t.y) || []);
    return Object.fromEntries(labels.map((l, i) => [l, Number(values[i])]));
}"""


def plot_shows(page, key: str, trace, expected: dict) -> None:
    """Wait until the plotly chart `key` (trace by index or name) shows `expected` among its bars."""
    try:
        page.wait_for_function(f"""(arg) => {{
            const got = ({PLOT_JS})(arg[0]);
            return got && Object.entries(arg[1]).every(([k, v]) => got[k] === v);
        }}""", arg=[[key, trace], expected], timeout=WAIT_MS)
    except PlaywrightTimeout:
        raise AssertionError(f"{key} shows {page.evaluate(PLOT_JS, [key, trace])}, expected {expected}") from None


def sidebar_shows_persons(page, n: int) -> None:
    sees(page.get_by_test_id("stSidebar"), f"人员总数：{n:,}")


def check_cockpit(page, now: Truth) -> None:
    visit(page, "驾驶舱", "cockpit")
    sees(page.locator('.cockpit-kpi[data-kpi="persons"] .value'), f"{now.persons:,}")
    sees(page.locator('.cockpit-kpi[data-kpi="new"] .value'), f"{now.new_this_year:,}")
    sees(page.locator('.cockpit-kpi[data-kpi="fresh"] .note'), f"已更新 {now.fresh_12m:,} 人")
    sidebar_shows_persons(page, now.persons)


def check_explorer_totals(page, now: Truth) -> None:
    visit(page, "人员查询", "explorer")
    sees(metric(page, "全部人员"), f"{now.persons:,}")
    sidebar_shows_persons(page, now.persons)


def check_lifecycle(page, now: Truth) -> None:
    visit(page, "发现培养使用管理", "lifecycle")
    reached = {"发现": now.reached.get("discover", 0), "使用": now.reached.get("use", 0)}
    plot_shows(page, "lc_funnel", "到达即计", reached)
    sees(page.get_by_test_id("stCaptionContainer").filter(has_text="已过任期"), f"6个月内到期 {now.terms_soon:,} 个")
    sidebar_shows_persons(page, now.persons)


def check_health(page, now: Truth) -> None:
    visit(page, "数据健康", "data_health")
    sees(metric(page, "3 个月内更新"), now.fresh_3m_shown())
    sees(page.get_by_test_id("stCaptionContainer").filter(has_text="同名同出生日期："),
         f"同名同出生日期：{now.dup_groups:,} 组，涉及 {now.dup_persons:,} 人")
    sidebar_shows_persons(page, now.persons)


def check_every_page(page, now: Truth) -> None:
    check_cockpit(page, now)
    check_explorer_totals(page, now)
    check_lifecycle(page, now)
    check_health(page, now)


def explorer_keyword(page, keyword: str, expected: int) -> None:
    visit(page, "人员查询", "explorer")
    box = page.get_by_test_id("stSidebar").get_by_role("textbox", name="姓名或单位关键词")
    box.fill(keyword)
    box.press("Enter")
    page.wait_for_url(re.compile("keyword="), timeout=WAIT_MS)
    wait_for_app(page, timeout_ms=WAIT_MS)
    sees(metric(page, "符合条件人数"), f"{expected:,}")


def open_first_row(page) -> None:
    """Tick the list's first row (its row marker, drawn on the grid's canvas) to open the profile."""
    # The list's key carries a generation (a closed profile gives the list a fresh key).
    grid = page.locator('[class*="st-key-explorer_list"] [data-testid="data-grid-canvas"]')
    grid.wait_for(timeout=WAIT_MS)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    page.get_by_text(re.compile("人员详情：")).wait_for(timeout=WAIT_MS)
    wait_for_app(page, timeout_ms=WAIT_MS)


# ---------------------------------------------------------------- the people page

def people_page(page) -> None:
    visit(page, "人员维护", "people")
    page.get_by_role("heading", name="新增人员").wait_for(timeout=WAIT_MS)


def form_with(page, button: str):
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button, exact=True))


def pick(page, container, option: str, *, typed: str | None = None) -> None:
    """Choose `option` in a select or multiselect box (typing part of it first narrows a long list)."""
    for attempt in range(3):
        if typed:
            container.locator("input").fill(typed)
        else:
            container.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=15_000)
            return
        except PlaywrightTimeout:
            # The list was redrawn under the pointer (a run finishing): open it again.
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r}")


def type_date(page, form, label: str, day: dt.date) -> None:
    """Type a day into a date box: its year, month and day segments take the digits in turn."""
    box = form.get_by_test_id("stDateInput").filter(has_text=label)
    box.get_by_role("spinbutton").first.click()
    page.keyboard.type(day.strftime("%Y%m%d"))
    page.keyboard.press("Tab")


def tick(container, label: str) -> None:
    """Tick a checkbox by its label and see it ticked (a click landing while the page re-renders is lost)."""
    box = container.get_by_role("checkbox", name=label)
    for _ in range(3):
        container.get_by_text(label).click()
        try:
            expect(box).to_be_checked(timeout=10_000)
            return
        except AssertionError:
            continue
    expect(box).to_be_checked()


def flash(page, message: str) -> None:
    wait_for_app(page, timeout_ms=WAIT_MS)
    sees(page.get_by_test_id("stAlertContentSuccess"), message)


def open_person(page, pid: int, name: str) -> None:
    """The people page with one person open, through the id box."""
    people_page(page)
    box = page.get_by_label("打开人员（编号）")
    box.fill(str(pid))
    box.press("Enter")
    page.get_by_role("heading", name=f"{name} · #{pid}").wait_for(timeout=WAIT_MS)
    wait_for_app(page, timeout_ms=WAIT_MS)


# ---------------------------------------------------------------- the day's work, step by step

def add_past_the_duplicate_warning(page, engine, seeded: Seeded, before: Truth) -> tuple[int, Truth]:
    people_page(page)
    add = form_with(page, "保存").last  # the add form comes last on the page
    for label, value in (("姓名", "陈静怡"), ("性别", "女"), ("出生日期", "1982-06-15"), ("手机", "13905710009"),
                         ("统战对象类别", "党外知识分子"), ("所属区县", "西湖区"), ("工作单位", NEW_ORG)):
        add.get_by_label(label, exact=True).fill(value)
    add.get_by_role("button", name="保存").click()
    # Same name and birth date as a stored person: shown before anything is saved.
    sees(page.get_by_test_id("stAlertContentWarning"), f"库中可能已有此人：#{seeded.existing}")
    open_existing = page.get_by_role("button", name=f"打开 #{seeded.existing}")
    open_existing.wait_for(timeout=WAIT_MS)
    shot(page, "01-duplicate-warning")
    assert truth(engine).persons == before.persons
    # Open the existing one to compare; the form keeps what was typed ...
    open_existing.click()
    page.get_by_role("heading", name=f"陈静怡 · #{seeded.existing}").wait_for(timeout=WAIT_MS)
    wait_for_app(page, timeout_ms=WAIT_MS)
    expect(add.get_by_label("工作单位", exact=True)).to_have_value(NEW_ORG)
    # ... it is someone else (another mobile, another organisation): add anyway.
    add.get_by_text("不是同一人，仍然新增").click()
    add.get_by_role("button", name="保存").click()
    pid = wait_until(lambda: person_id_at(engine, NEW_ORG), "the new person", page=page)
    flash(page, f"已新增：陈静怡（编号 {pid}）")
    page.get_by_role("heading", name=f"陈静怡 · #{pid}").wait_for(timeout=WAIT_MS)  # opened, ready for more
    row = person_row(engine, pid)
    assert (row["gender"], row["category_code"], row["district_code"], str(row["birth_date"])) == (
        "F", "intellectual", "330106", "1982-06-15")
    expect(add.get_by_label("姓名", exact=True)).to_have_value("")  # emptied: no second add by accident
    shot(page, "02-added")
    now = truth(engine)
    assert now.persons == before.persons + 1 and now.new_this_year == before.new_this_year + 1
    assert now.dup_groups == before.dup_groups + 1 and now.reached["discover"] == before.reached["discover"] + 1
    check_every_page(page, now)
    return pid, now


def correct_and_tag(page, engine, pid: int) -> None:
    open_person(page, pid, "陈静怡")
    edit = form_with(page, "保存").first  # the person's form comes before the add form
    expect(edit.get_by_label("统战对象类别", exact=True)).to_have_value("党外知识分子")
    edit.get_by_label("职务", exact=True).fill("副馆长")
    edit.get_by_role("button", name="保存").click()
    wait_until(lambda: person_row(engine, pid)["position"] == "副馆长", "the corrected position", page=page)
    flash(page, "已保存 1 项修改")
    tags = form_with(page, "保存标签")
    pick(page, tags.get_by_test_id("stMultiSelect"), TAG, typed=TAG[:3])
    page.keyboard.press("Escape")
    tags.get_by_role("button", name="保存标签").click()
    wait_until(lambda: tags_of_matches(engine, NEW_ORG).get(TAG) == 1, "the tag", page=page)
    flash(page, "已保存 1 项修改")
    shot(page, "03-corrected-and-tagged")
    # The explorer: the tag among the top tags of the person's organisation, and in the profile.
    explorer_keyword(page, NEW_ORG, matches(engine, NEW_ORG))
    plot_shows(page, "explorer_chart_tags", 0, tags_of_matches(engine, NEW_ORG))
    open_first_row(page)
    sees(page.get_by_test_id("stMarkdown").filter(has_text="职务"), "副馆长")
    sees(page.get_by_test_id("stText"), TAG)
    shot(page, "04-explorer-profile", at="人员详情：陈静怡")


def promote_and_appoint(page, engine, pid: int, added: Truth) -> Truth:
    open_person(page, pid, "陈静怡")
    stage = form_with(page, "记录阶段")
    pick(page, stage.get_by_test_id("stSelectbox"), "使用")
    stage.get_by_label("推荐单位").fill("民盟西湖区基层委员会")
    stage.get_by_role("button", name="记录阶段").click()
    wait_until(lambda: person_row(engine, pid)["stage"] == "use", "the stage move", page=page)
    flash(page, "已保存 1 项修改")
    post = form_with(page, "记录任职")
    pick(page, post.get_by_test_id("stSelectbox"), "政协")
    post.get_by_label("职务").fill("政协委员")
    post.get_by_label("级别").fill("区级")
    term_end = add_months(clock.today(), 2)  # inside the lifecycle's term watch
    term_start = add_months(term_end, -60)
    type_date(page, post, "任期开始", term_start)
    type_date(page, post, "任期结束", term_end)
    post.get_by_role("button", name="记录任职").click()
    posts = wait_until(lambda: appointments(engine, pid), "the post", page=page)
    assert posts == [("cppcc", "政协委员", "区级", str(term_start), str(term_end))]
    flash(page, "已保存 1 项修改")
    shot(page, "05-promoted-and-appointed", at="任职")
    shot(page, "06-history", at="变更记录")
    now = truth(engine)
    assert now.reached["use"] == added.reached["use"] + 1 and now.terms_soon == added.terms_soon + 1
    check_lifecycle(page, now)
    shot(page, "07-lifecycle")
    return now


def bulk_tag_ten(page, engine, seeded: Seeded, promoted: Truth) -> Truth:
    assert matches(engine, BULK_ORG) == 10 and BULK_TAG not in tags_of_matches(engine, BULK_ORG)
    explorer_keyword(page, BULK_ORG, 10)
    page.get_by_text("批量操作（当前筛选的 10 人）").click()
    bulk = form_with(page, "执行")
    tag_box = bulk.get_by_label("标签", exact=True)
    tag_box.fill(BULK_TAG)
    expect(tag_box).to_have_value(BULK_TAG)
    tick(bulk, "确认修改这 10 人")
    bulk.get_by_role("button", name="执行").click()
    wait_until(lambda: tags_of_matches(engine, BULK_ORG).get(BULK_TAG) == 10, "the bulk tag", page=page)
    assert set(seeded.bulk) <= tagged_with(engine, BULK_TAG)
    flash(page, "已修改 10 人")
    plot_shows(page, "explorer_chart_tags", 0, tags_of_matches(engine, BULK_ORG))
    shot(page, "08-bulk-tagged")
    now = truth(engine)
    assert now.fresh_3m == promoted.fresh_3m + 10  # the ten were last touched long ago
    check_cockpit(page, now)
    check_health(page, now)
    return now


def tick_row(page, row: int) -> None:
    """Tick row `row` (0-based) of the explorer list by its row marker on the grid's canvas."""
    grid = page.locator('[class*="st-key-explorer_list"] [data-testid="data-grid-canvas"]')
    grid.wait_for(timeout=WAIT_MS)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * row + 17)
    wait_for_app(page, timeout_ms=WAIT_MS)


def untag_two_ticked(page, engine, seeded: Seeded) -> None:
    """Tick two rows of the list: the bulk action offers the ticked two beside the ten filtered."""
    explorer_keyword(page, BULK_ORG, 10)
    tick_row(page, 0)
    page.get_by_text(re.compile("人员详情：")).wait_for(timeout=WAIT_MS)  # one ticked row opens its person
    tick_row(page, 1)
    page.get_by_text("批量操作（勾选的 2 人，或当前筛选的 10 人）").wait_for(timeout=WAIT_MS)
    # Two ticked: a selection, no profile (waited for: the old profile stays until the run ends).
    expect(page.get_by_text(re.compile("人员详情："))).to_have_count(0, timeout=WAIT_MS)
    page.get_by_test_id("stRadio").filter(has_text="勾选的 2 人").get_by_text("勾选的 2 人").click()
    bulk = form_with(page, "执行")
    tick(bulk, "确认修改这 2 人")
    pick(page, bulk.get_by_test_id("stSelectbox").first, "移除标签")
    tag_box = bulk.get_by_label("标签", exact=True)
    tag_box.fill(BULK_TAG)
    expect(tag_box).to_have_value(BULK_TAG)
    bulk.get_by_role("button", name="执行").click()
    wait_until(lambda: tags_of_matches(engine, BULK_ORG).get(BULK_TAG) == 8, "the untag of two ticked", page=page)
    assert len(set(seeded.bulk) - tagged_with(engine, BULK_TAG)) == 2
    flash(page, "已修改 2 人")
    shot(page, "08b-bulk-untag-ticked")


def merge_then_undo(page, engine, seeded: Seeded, tagged: Truth) -> None:
    open_person(page, seeded.keep, "周文博")
    other = page.get_by_label("重复人员的编号（合并后删除）")
    other.fill(str(seeded.duplicate))
    other.press("Enter")
    merge = form_with(page, "合并")
    merge.get_by_test_id("stRadio").filter(has_text="工作单位").get_by_text(f"#{seeded.duplicate}").click()
    shot(page, "09-merge-side-by-side", at="合并重复人员")
    merge.get_by_role("button", name="合并").click()
    wait_until(lambda: person_row(engine, seeded.duplicate) is None, "the merge", page=page)
    flash(page, f"已将 #{seeded.duplicate} 合并到 #{seeded.keep}")
    assert person_row(engine, seeded.keep)["organization"] == "杭州某律师事务所"
    assert seeded.keep in tagged_with(engine, "律师")  # the duplicate's tag moved to the survivor
    merged = truth(engine)
    assert merged.persons == tagged.persons - 1 and merged.dup_groups == tagged.dup_groups - 1
    check_every_page(page, merged)

    open_person(page, seeded.keep, "周文博")
    shot(page, "10-history-after-merge", at="变更记录")
    page.get_by_role("button", name="撤销整次变更").click()  # the newest change: the merge
    wait_until(lambda: person_row(engine, seeded.duplicate) is not None, "the undo", page=page)
    flash(page, "已撤销")
    assert seeded.duplicate in tagged_with(engine, "律师") and seeded.keep not in tagged_with(engine, "律师")
    undone = truth(engine)
    assert (undone.persons, undone.dup_groups, undone.dup_persons) == (
        tagged.persons, tagged.dup_groups, tagged.dup_persons)
    check_every_page(page, undone)
    shot(page, "11-health-after-undo")


def test_staff_change_people_and_every_page_follows(office, chromium):
    base, engine, seeded = office
    start = time.monotonic()
    before = truth(engine)
    with browser_page(chromium, width=1440, height=1800) as (page, requests):
        try:
            sign_in(page, base)
            pid, added = add_past_the_duplicate_warning(page, engine, seeded, before)
            correct_and_tag(page, engine, pid)
            promoted = promote_and_appoint(page, engine, pid, added)
            bulk_tag_ten(page, engine, seeded, promoted)
            untag_two_ticked(page, engine, seeded)
            merge_then_undo(page, engine, seeded, truth(engine))
        except Exception:
            shot(page, "failure")  # where it stopped, for whoever reads the report
            raise
        assert page.get_by_test_id("stException").count() == 0
        assert all(is_local(u) for u in requests)
    print(f"people browser flow: {time.monotonic() - start:.0f} s")
