"""Every staff write action × role × in/out of scope, through the write path as the pages call it.

Staff and admins write within their scope; moving a person out of it, new tags and
merges across scopes are for admins (an admin of the whole area merges anything);
leaders and screens never write (they cannot open the people page).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from store import changes as ch
from store.schema import person
from store.scope import EVERYTHING, Scope
from ui.auth import ROLE_PAGES

WEST, UPTOWN = "330106", "330102"
ROLES = {
    "staff, whole area": ("staff", EVERYTHING),
    "staff, 西湖区": ("staff", Scope(districts=(WEST,))),
    "admin, 西湖区": ("admin", Scope(districts=(WEST,))),
    "admin, whole area": ("admin", EVERYTHING),
}


def write(engine, role: str, scope: Scope, action):
    with ch.change_set_of(engine, "staff", role, scope=scope, may_leave_scope=role == "admin") as cs:
        return action(cs)


ACTIONS = {
    "add": lambda cs, mine, theirs, district: cs.add_person(dict(name="新人", category_code="other",
                                                                 district_code=district)),
    "edit": lambda cs, mine, theirs, district: cs.edit_person(mine if district == WEST else theirs, {"title": "教授"}),
    "tag": lambda cs, mine, theirs, district: cs.add_tags(mine if district == WEST else theirs, ["海归"]),
    "stage": lambda cs, mine, theirs, district: cs.move_stage(mine if district == WEST else theirs, "use"),
    "post": lambda cs, mine, theirs, district: cs.add_appointment(mine if district == WEST else theirs,
                                                                  dict(body="cppcc", title="政协委员")),
    "merge": lambda cs, mine, theirs, district: cs.merge_persons(mine, theirs if district != WEST else mine + 2),
    # In scope: to another street of the district; out of scope: to another district.
    "move out": lambda cs, mine, theirs, district: cs.edit_person(mine, {"district_code": district,
                                                                         "street": "西溪街道"}),
}
# (action, target district) -> which roles may
ALLOWED = {
    ("add", WEST): set(ROLES), ("add", UPTOWN): {"staff, whole area", "admin, whole area"},
    ("edit", WEST): set(ROLES), ("edit", UPTOWN): {"staff, whole area", "admin, whole area"},
    ("tag", WEST): set(ROLES), ("tag", UPTOWN): {"staff, whole area", "admin, whole area"},
    ("stage", WEST): set(ROLES), ("stage", UPTOWN): {"staff, whole area", "admin, whole area"},
    ("post", WEST): set(ROLES), ("post", UPTOWN): {"staff, whole area", "admin, whole area"},
    ("merge", WEST): set(ROLES), ("merge", UPTOWN): {"staff, whole area", "admin, whole area"},
    # A scoped admin may move its own person out of its scope; scoped staff may not.
    ("move out", WEST): set(ROLES), ("move out", UPTOWN): {"staff, whole area", "admin, 西湖区", "admin, whole area"},
}


@pytest.fixture
def people(engine):
    with ch.change_set_of(engine, "import", "clerk") as cs:
        cs.tag_ids(["海归"], create=True)
        mine = cs.add_person(dict(name="西湖人", category_code="other", district_code=WEST))
        theirs = cs.add_person(dict(name="上城人", category_code="other", district_code=UPTOWN))
        cs.add_person(dict(name="西湖人", category_code="other", district_code=WEST))  # mine + 2: a duplicate
    return mine, theirs


@pytest.mark.parametrize("who", list(ROLES))
@pytest.mark.parametrize("target", [WEST, UPTOWN], ids=["in scope", "out of scope"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_write_action_by_role_and_scope(engine, people, action, target, who):
    role, scope = ROLES[who]
    mine, theirs = people
    before = _persons(engine)
    allowed = who in ALLOWED[(action, target)]
    if allowed:
        write(engine, role, scope, lambda cs: ACTIONS[action](cs, mine, theirs, target))
        assert _persons(engine) != before or action in ("tag", "post")
    else:
        with pytest.raises(ch.OutOfScope):
            write(engine, role, scope, lambda cs: ACTIONS[action](cs, mine, theirs, target))
        assert _persons(engine) == before


@pytest.mark.parametrize("who", list(ROLES))
def test_undo_by_role_and_scope(engine, people, who):
    role, scope = ROLES[who]
    mine, theirs = people
    with ch.change_set_of(engine, "staff", "admin") as west_edit:
        west_edit.edit_person(mine, {"title": "教授"})
    with ch.change_set_of(engine, "staff", "admin") as uptown_edit:
        uptown_edit.edit_person(theirs, {"title": "教授"})
    ch.undo_change_set(engine, west_edit.id, role, scope=scope)
    if scope.is_everything:
        ch.undo_change_set(engine, uptown_edit.id, role, scope=scope)
    else:
        with pytest.raises(ch.UndoRefused, match="管辖范围以外"):
            ch.undo_change_set(engine, uptown_edit.id, role, scope=scope)


def test_only_admins_create_tags(engine, people):
    mine, _ = people
    with pytest.raises(ch.WriteRefused, match="只能由管理员创建"):
        with ch.change_set_of(engine, "staff", "wang") as cs:
            cs.add_tags(mine, ["全新标签"], create=False)


@pytest.mark.parametrize("role", ["leader", "screen"])
def test_leaders_and_screens_have_no_page_that_writes(role):
    assert not ROLE_PAGES[role] & {"people", "explorer", "data_import"}


def _persons(engine):
    with engine.connect() as conn:
        return conn.execute(select(person).order_by(person.c.id)).all()


def test_the_stage_move_keeps_its_day(engine, people):
    mine, _ = people
    with ch.change_set_of(engine, "staff", "wang") as cs:
        cs.move_stage(mine, "use", at=dt.datetime(2026, 3, 1, 9), note="推荐单位：区工商联")
    history = ch.person_history(engine, mine)
    assert "推荐单位：区工商联" in history[history["entity"] == "stage_event"]["new_value"].iloc[0]


# ---------------------------------------------------------------- the writers added since: each × role × in/out of scope

def _tables(engine):
    from store.schema import appointment, enterprise_link, person_tag, stage_event

    with engine.connect() as conn:
        return [conn.execute(select(t).order_by(*t.primary_key.columns)).all()
                for t in (person, person_tag, stage_event, appointment, enterprise_link)]


@pytest.fixture
def world(engine, people):
    """Both persons with a post, a tag and a suggested enterprise link (made by name, not yet confirmed)."""
    mine, theirs = people
    now = dt.datetime(2026, 11, 1, 9)
    with ch.change_set_of(engine, "import", "clerk") as cs:
        firm = int(cs.insert("enterprise", dict(credit_code="91330106MA2XXXXX0A", name="西湖科技", name_key="西湖科技",
                                                updated_at=now)))
        links, posts = {}, {}
        for district, pid in ((WEST, mine), (UPTOWN, theirs)):
            cs.add_tags(pid, ["海归"])
            posts[district] = cs.add_appointment(pid, dict(body="cppcc", title="政协委员"))
            links[district] = int(cs.insert("enterprise_link", dict(
                person_id=pid, enterprise_id=firm, role="employee", confidence=0.6, method="name", created_at=now)))
    return {"persons": {WEST: mine, UPTOWN: theirs}, "duplicate": mine + 2, "links": links, "posts": posts}


def _confirm(cs, link):
    from store import enterprises as ent

    return ent.confirm_link(cs, link)


def _dismiss(cs, link):
    from store import enterprises as ent

    return ent.dismiss_link(cs, link)


MORE_ACTIONS = {
    # The survivor is the target; the duplicate is always the writer's own.
    "merge into": lambda cs, w, d: cs.merge_persons(w["persons"][d], w["duplicate"]),
    "remove tag": lambda cs, w, d: cs.remove_tags(w["persons"][d], ["海归"]),
    "status": lambda cs, w, d: cs.set_status(w["persons"][d], "left", dt.date(2026, 11, 30)),
    "edit post": lambda cs, w, d: cs.edit_appointment(w["posts"][d], {"title": "常委"}),
    "confirm link": lambda cs, w, d: _confirm(cs, w["links"][d]),
    "dismiss link": lambda cs, w, d: _dismiss(cs, w["links"][d]),
}
WHOLE_AREA = {"staff, whole area", "admin, whole area"}


@pytest.mark.parametrize("who", list(ROLES))
@pytest.mark.parametrize("target", [WEST, UPTOWN], ids=["in scope", "out of scope"])
@pytest.mark.parametrize("action", list(MORE_ACTIONS))
def test_more_write_actions_by_role_and_scope(engine, world, action, target, who):
    """Every role writes within its scope and nowhere else: a person of another district is refused
    whole, nothing written (ALLOWED above, by hand: out of scope only for the whole area's roles)."""
    role, scope = ROLES[who]
    before = _tables(engine)
    if target == WEST or who in WHOLE_AREA:
        write(engine, role, scope, lambda cs: MORE_ACTIONS[action](cs, world, target))
        assert _tables(engine) != before
    else:
        with pytest.raises(ch.OutOfScope):
            write(engine, role, scope, lambda cs: MORE_ACTIONS[action](cs, world, target))
        assert _tables(engine) == before


@pytest.mark.parametrize("who", list(ROLES))
def test_bulk_actions_touch_only_the_scope(engine, world, who):
    """The explorer's bulk actions (a filter or ticked rows) leave out persons outside the scope."""
    role, scope = ROLES[who]
    ids = list(world["persons"].values())
    with ch.change_set_of(engine, "staff", role, scope=scope) as cs:
        untagged = cs.tag_many(ids, "海归", add=False)
        moved = cs.move_stage_many(ids, "use")
    expected = 2 if scope.is_everything else 1
    assert (untagged, moved) == (expected, expected)
    with engine.connect() as conn:
        stages = dict(conn.execute(select(person.c.district_code, person.c.stage).where(person.c.id.in_(ids))).all())
    assert stages == {WEST: "use", UPTOWN: "use" if scope.is_everything else "discover"}
