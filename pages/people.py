"""人员维护 · People: add, correct, tag, move stage, record posts, and undo from the history.

Every save goes through the write path (store.changes): one change set each, audited,
undoable, shown in the person's history.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from loaders.person_form import check_person, form_text, likely_duplicates
from store import changes as ch
from store import clock
from store.privacy import mask_id_number, mask_phone, may_see_personal
from store.queries.people import ADMIN_ONLY, person_record, tag_names, tags_by_id
from store.schema import APPOINTMENT_BODIES, PERSON_STATUSES, STAGES
from ui import params
from ui.auth import guard_page
from ui.cache import data_changed, get_engine
from ui.filters import escape_markdown
from ui.i18n import t
from ui.tables import MISSING

viewer = guard_page("people")
engine = get_engine()
is_admin = viewer.role == "admin"
FORM_FIELDS = ("name", "gender", "ethnicity", "birth_date", "id_number", "phone", "party", "category", "district",
               "street", "organization", "position", "education", "title", "stage", "source")
# The stage moves through 调整阶段 only: with a stage event, so the lifecycle follows it.
EDIT_FIELDS = tuple(f for f in FORM_FIELDS if f != "stage")
ADD_KEYS = tuple(f"add_{name}" for name in FORM_FIELDS + ("tags", "reason"))
COLUMN_OF = {"category": "category_code", "district": "district_code"}
MASKS = {"id_number": mask_id_number, "phone": mask_phone}


def field_label(column: str) -> str:
    from loaders.normalise import FIELD_LABELS

    name = {"category_code": "category", "district_code": "district"}.get(column, column)
    return FIELD_LABELS.get(name, name)


CODED = {"gender": "gender", "category_code": "category", "district_code": "district", "party": "party"}


def in_words(column: str | None, value) -> str:
    """A stored value as staff read it: names, not the store's codes."""
    if value is None:
        return ""
    if column == "stage":
        return t(f"lifecycle.stage.{value}")
    if column == "body":
        return t(f"people.body.{value}")
    if column in CODED:
        return form_text(CODED[column], value)
    return str(value)


def shown(column: str | None, text: str | None, tags: dict[int, str] | None = None) -> str:
    """A change row's value as this viewer may see it: masked IDs and phones, birth years only."""
    if text is None or pd.isna(text):
        return ""
    value = json.loads(text)
    if isinstance(value, dict):  # a whole row: what names it
        if "tag_id" in value:
            return (tags or {}).get(value["tag_id"], "")
        column = next((k for k in ("name", "title", "stage", "body") if value.get(k)), None)
        value = value.get(column)
    if not may_see_personal(viewer.role):
        if column in MASKS:
            return MASKS[column](value) or ""
        if column == "birth_date" and value:
            return str(value)[:4]
    return in_words(column, value)


def problems_box(problems) -> None:
    st.error(t("people.problems") + "\n\n" + "\n".join(f"- {escape_markdown(msg)}" for _, msg in problems))


def open_person(pid: int) -> None:
    """Open a person (0: none). The URL says who is open; the id box follows it on the next run."""
    if pid:
        st.query_params["person"] = str(pid)
    else:
        st.query_params.pop("person", None)


def after_write(message: str, *, reset: dict | None = None) -> None:
    """Show the message on the next run; `reset` (widget key -> value) starts the saved form afresh,
    so one more click does not save the same thing twice."""
    data_changed()
    st.session_state["people_flash"] = message
    st.session_state["people_reset"] = reset or {}
    st.session_state["people_reload"] = True
    st.rerun()


def editable_fields() -> list[str]:
    return [n for n in EDIT_FIELDS if is_admin or COLUMN_OF.get(n, n) not in ADMIN_ONLY]


def fill_forms(record: dict, *, reload: bool) -> None:
    """The person's forms show the stored record when first drawn and after this page wrote (a save,
    an undo, a merge); on other runs they keep what was typed, and a save compares with what they showed."""
    pid, values = record["id"], record["values"]
    masked_phone = not may_see_personal(viewer.role)
    state = {f"edit_{pid}_{n}": "" if n == "phone" and masked_phone else form_text(n, values.get(COLUMN_OF.get(n, n)))
             for n in editable_fields()}
    state |= {f"edit_{pid}_reason": "", f"tags_{pid}": list(record["tags"]), f"stage_{pid}": values["stage"]}
    if reload or any(key not in st.session_state for key in state):
        st.session_state.update(state)
        st.session_state[f"people_seen_{pid}"] = dict(values)
    for post in record["appointments"]:
        aid = post["id"]
        shown = {f"post_edit_title_{aid}": post["title"] or "", f"post_edit_level_{aid}": post["level"] or "",
                 f"post_edit_start_{aid}": post["term_start"], f"post_edit_end_{aid}": post["term_end"]}
        if reload or any(key not in st.session_state for key in shown):
            st.session_state.update(shown)
            st.session_state[f"post_edit_seen_{aid}"] = {k: post[k] for k in POST_FIELDS}


# ---------------------------------------------------------------- add

def add_section() -> None:
    st.subheader(t("people.add.title"))
    # Kept after a refused save, so nothing typed is lost; emptied after a save (after_write).
    with st.form("people_add", clear_on_submit=False):
        cols = st.columns(3)
        form = {}
        for i, name in enumerate(FORM_FIELDS + ("tags",)):
            form[name] = cols[i % 3].text_input(field_label(name), key=f"add_{name}")
        reason = st.text_input(t("people.reason"), key="add_reason")
        anyway = st.checkbox(t("people.add.anyway"), key="add_anyway")
        submitted = st.form_submit_button(t("people.add.save"), type="primary")
    if not submitted:
        return
    checked = check_person(form)
    if not checked.ok:
        problems_box(checked.problems)
        return
    dupes = [d for d in likely_duplicates(engine, checked) if person_record(engine, viewer.scope, d)]
    if dupes and not anyway:
        st.warning(t("people.add.duplicate", names="、".join(f"#{d}" for d in dupes)))
        for d in dupes:
            st.button(t("people.add.open", id=d), key=f"add_open_{d}", on_click=open_person, args=(d,))
        return
    try:
        with ch.change_set_of(engine, "staff", viewer.name, reason or None, scope=viewer.scope) as cs:
            pid = cs.add_person(checked.values)
            if checked.tags:
                cs.add_tags(pid, checked.tags, create=is_admin)
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    open_person(pid)
    after_write(t("people.add.saved", name=escape_markdown(checked.values["name"]), id=pid),
                reset={key: "" for key in ADD_KEYS} | {"add_anyway": False})


# ---------------------------------------------------------------- edit

def edit_section(record: dict) -> None:
    pid, values = record["id"], record["values"]
    st.subheader(t("people.edit.title"))
    if not is_admin:
        st.caption(t("people.edit.admin_only"))
    # What the form showed when it was filled (fill_forms): a save compares against it (optimistic concurrency).
    seen_key = f"people_seen_{pid}"
    with st.form(f"people_edit_{pid}"):
        cols = st.columns(3)
        form = {}
        for i, name in enumerate(editable_fields()):
            column = COLUMN_OF.get(name, name)
            current = values.get(column)
            if name == "phone" and not may_see_personal(viewer.role):
                form[name] = cols[i % 3].text_input(field_label(column), placeholder=mask_phone(current) or "",
                                                    help=t("people.edit.phone_hint"), key=f"edit_{pid}_{name}")
                continue
            form[name] = cols[i % 3].text_input(field_label(column), key=f"edit_{pid}_{name}")
        reason = st.text_input(t("people.reason"), key=f"edit_{pid}_reason")
        submitted = st.form_submit_button(t("people.add.save"), type="primary")
    if not submitted:
        return
    # The whole person goes through the import's checks; fields the viewer may not edit keep their value.
    merged = {name: values.get(COLUMN_OF.get(name, name)) for name in FORM_FIELDS}
    merged.update({k: v for k, v in form.items() if not (k == "phone" and v == "" and not may_see_personal(viewer.role))})
    checked = check_person(merged)
    if not checked.ok:
        problems_box(checked.problems)
        return
    new = {c: checked.values.get(c) for c in (COLUMN_OF.get(n, n) for n in form) if c not in ADMIN_ONLY or is_admin}
    # A birth date the ID number fills in is the import's rule, not an edit of the viewer's.
    seen = {k: v for k, v in st.session_state[seen_key].items() if k != "updated_at"}
    try:
        with ch.change_set_of(engine, "staff", viewer.name, reason or None, scope=viewer.scope,
                              may_leave_scope=is_admin) as cs:
            changed = cs.edit_person(pid, new, seen=seen)
    except ch.EditConflict as conflict:
        # Nothing is lost: the fields the other save changed and this viewer did not touch now show the
        # other's value; what was typed stays, and saving again (having seen it) keeps both.
        st.session_state[seen_key].update({f: now for f, (_, now) in conflict.changed.items()})
        theirs = conflict.changed
        untouched = {f"edit_{pid}_{n}": form_text(n, theirs[c][1]) for n in form
                     if (c := COLUMN_OF.get(n, n)) in theirs and form[n] == form_text(n, theirs[c][0])}
        st.session_state["people_error"] = t("people.conflict", fields="、".join(field_label(f) for f in theirs))
        st.session_state["people_reset"] = untouched
        st.rerun()
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    shown_fields = [f for f in changed if f not in ch.BOOKKEEPING]
    after_write(t("people.edit.saved", n=len(shown_fields)) if shown_fields else t("people.edit.nothing"))


def tags_section(record: dict) -> None:
    pid = record["id"]
    st.subheader(t("people.tags.title"))
    with st.form(f"people_tags_{pid}"):
        picked = st.multiselect(t("people.tags.pick"), options=tag_names(engine), key=f"tags_{pid}", placeholder="")
        new = st.text_input(t("people.tags.new"), key=f"tags_new_{pid}") if is_admin else ""
        submitted = st.form_submit_button(t("people.tags.save"))
    if not submitted:
        return
    wanted = set(picked) | {x.strip() for x in new.replace(",", "、").replace("，", "、").split("、") if x.strip()}
    have = set(record["tags"])
    try:
        with ch.change_set_of(engine, "staff", viewer.name, scope=viewer.scope) as cs:
            added = cs.add_tags(pid, wanted - have, create=is_admin)
            removed = cs.remove_tags(pid, have - wanted)
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    after_write(t("people.edit.saved", n=added + removed))


def stage_section(record: dict) -> None:
    pid = record["id"]
    st.subheader(t("people.stage.title"))
    with st.form(f"people_stage_{pid}"):
        c1, c2 = st.columns(2)
        stage = c1.selectbox(t("people.stage.pick"), STAGES, format_func=lambda s: t(f"lifecycle.stage.{s}"),
                             key=f"stage_{pid}")
        day = c2.date_input(t("people.stage.date"), value=clock.today(), key=f"stage_day_{pid}")
        unit = c1.text_input(t("people.stage.unit"), key=f"stage_unit_{pid}")
        note = c2.text_input(t("people.stage.note"), key=f"stage_note_{pid}")
        submitted = st.form_submit_button(t("people.stage.save"))
    if not submitted:
        return
    text = "；".join(x for x in (f"推荐单位：{unit}" if unit else "", note) if x) or None
    try:
        with ch.change_set_of(engine, "staff", viewer.name, text, scope=viewer.scope) as cs:
            cs.move_stage(pid, stage, at=dt.datetime.combine(day, dt.time(9)), note=text)
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    after_write(t("people.edit.saved", n=1), reset={f"stage_unit_{pid}": "", f"stage_note_{pid}": ""})


def status_section(record: dict) -> None:
    """Mark the person no longer followed (left, transferred, deceased), or followed again; undoable."""
    pid = record["id"]
    st.subheader(t("people.state.title"))
    with st.form(f"people_state_{pid}"):
        c1, c2 = st.columns(2)
        state = c1.selectbox(t("people.state.pick"), PERSON_STATUSES, index=PERSON_STATUSES.index(record["status"] or "followed"),
                             format_func=lambda s: t(f"person.state.{s}"), key=f"state_{pid}")
        on = c2.date_input(t("people.state.on"), value=record["status_on"], key=f"state_on_{pid}")
        reason = st.text_input(t("people.reason"), key=f"state_reason_{pid}")
        submitted = st.form_submit_button(t("people.state.save"))
    if not submitted:
        return
    if state != "followed" and on is None:
        st.warning(t("people.state.need_date"))
        return
    try:
        with ch.change_set_of(engine, "staff", viewer.name, reason or None, scope=viewer.scope) as cs:
            changed = cs.set_status(pid, state, on)
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    after_write(t("people.edit.saved", n=len([f for f in changed if f not in ch.BOOKKEEPING])),
                reset={f"state_reason_{pid}": ""})


def posts_section(record: dict) -> None:
    pid = record["id"]
    st.subheader(t("people.post.title"))
    if record["appointments"]:
        posts = pd.DataFrame(record["appointments"])
        posts["body"] = [t(f"people.body.{b}") for b in posts["body"]]
        day = st.column_config.DateColumn
        st.dataframe(posts, hide_index=True, column_order=["body", "title", "level", "term_start", "term_end"],
                     column_config={"body": t("people.post.body"), "title": t("people.post.name"),
                                    "level": t("people.post.level"),
                                    "term_start": day(t("people.post.start"), format="YYYY-MM-DD"),
                                    "term_end": day(t("people.post.end"), format="YYYY-MM-DD")},
                     placeholder=MISSING)
    with st.form(f"people_post_{pid}"):
        c1, c2, c3 = st.columns(3)
        body = c1.selectbox(t("people.post.body"), APPOINTMENT_BODIES, format_func=lambda b: t(f"people.body.{b}"),
                            key=f"post_body_{pid}")
        title = c2.text_input(t("people.post.name"), key=f"post_title_{pid}")
        level = c3.text_input(t("people.post.level"), key=f"post_level_{pid}")
        start = c1.date_input(t("people.post.start"), value=None, key=f"post_start_{pid}")
        end = c2.date_input(t("people.post.end"), value=None, key=f"post_end_{pid}")
        submitted = st.form_submit_button(t("people.post.save"))
    if submitted and not title.strip():
        st.warning(t("people.post.no_title"))
    elif submitted:
        try:
            with ch.change_set_of(engine, "staff", viewer.name, scope=viewer.scope) as cs:
                cs.add_appointment(pid, dict(body=body, title=title.strip(), level=level or None,
                                             term_start=start, term_end=end))
        except ch.WriteRefused as refused:
            st.error(escape_markdown(str(refused)))
            return
        after_write(t("people.edit.saved", n=1), reset={f"post_title_{pid}": "", f"post_level_{pid}": "",
                                                        f"post_start_{pid}": None, f"post_end_{pid}": None})
    if record["appointments"]:
        edit_post(record)
    open_posts = [a for a in record["appointments"] if a["term_end"] is None or a["term_end"] > clock.today()]
    if open_posts:
        c1, c2 = st.columns([3, 1])
        which = c1.selectbox(t("people.post.which"), [a["id"] for a in open_posts], key=f"post_pick_{pid}",
                             format_func=lambda i: next((a["title"] or "") + " · " + t(f"people.body.{a['body']}")
                                                        for a in open_posts if a["id"] == i))
        if c2.button(t("people.post.end_now"), key=f"post_end_now_{pid}"):
            with ch.change_set_of(engine, "staff", viewer.name, scope=viewer.scope) as cs:
                cs.edit_appointment(which, {"term_end": clock.today()})
            after_write(t("people.edit.saved", n=1))


POST_FIELDS = ("title", "level", "term_start", "term_end")
# post field -> its widget's key part (post_edit_<part>_<id>), and its label (people.post.<label>)
POST_WIDGETS = {"title": "title", "level": "level", "term_start": "start", "term_end": "end"}
POST_LABELS = {"title": "name", "level": "level", "term_start": "start", "term_end": "end"}


def edit_post(record: dict) -> None:
    """Correct a post: title, level and term; saved only if nobody changed it since the form showed it."""
    posts = {a["id"]: a for a in record["appointments"]}
    with st.expander(t("people.post.edit")):
        which = st.selectbox(t("people.post.which"), list(posts), key=f"post_edit_pick_{record['id']}",
                             format_func=lambda i: (posts[i]["title"] or "") + " · " + t(f"people.body.{posts[i]['body']}"))
        # Keys carry the post's id: choosing another post shows its own values.
        with st.form(f"people_post_edit_{which}"):
            c1, c2 = st.columns(2)
            title = c1.text_input(t("people.post.name"), key=f"post_edit_title_{which}")
            level = c2.text_input(t("people.post.level"), key=f"post_edit_level_{which}")
            start = c1.date_input(t("people.post.start"), key=f"post_edit_start_{which}")
            end = c2.date_input(t("people.post.end"), key=f"post_edit_end_{which}")
            submitted = st.form_submit_button(t("people.post.update"))
    if not submitted:
        return
    if not title.strip():
        st.warning(t("people.post.no_title"))
        return
    if start and end and end < start:
        st.warning(t("people.post.end_before_start"))
        return
    # As the form showed it (fill_forms): a save made by someone since is a conflict, not overwritten.
    seen = st.session_state[f"post_edit_seen_{which}"]
    try:
        with ch.change_set_of(engine, "staff", viewer.name, scope=viewer.scope) as cs:
            changed = cs.edit_appointment(which, dict(title=title.strip(), level=level.strip() or None,
                                                      term_start=start, term_end=end), seen=seen)
    except ch.EditConflict as conflict:
        # As for the person's fields: the other's values show where this viewer typed nothing, and
        # saving again, having seen them, keeps both.
        theirs = conflict.changed
        seen.update({f: now for f, (_, now) in theirs.items()})
        typed = {"title": title.strip() or None, "level": level.strip() or None, "term_start": start, "term_end": end}
        st.session_state["people_reset"] = {
            f"post_edit_{POST_WIDGETS[f]}_{which}": now if f.startswith("term") else (now or "")
            for f, (was, now) in theirs.items() if typed[f] == (was or None)}
        st.session_state["people_error"] = t("people.conflict", fields="、".join(t(f"people.post.{POST_LABELS[f]}")
                                                                              for f in theirs))
        st.rerun()
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    after_write(t("people.edit.saved", n=len(changed)))


# ---------------------------------------------------------------- merge

def merge_section(record: dict) -> None:
    pid = record["id"]
    st.subheader(t("people.merge.title"))
    other_id = st.number_input(t("people.merge.other"), min_value=0, step=1, key=f"merge_other_{pid}",
                               value=params.number("merge", 1, params.MAX_ID, integer=True) or 0)
    if not other_id:
        return
    other = person_record(engine, viewer.scope, int(other_id)) if other_id != pid else None
    if other is None:
        st.warning(t("people.not_found"))
        return
    mine, theirs = record["values"], other["values"]
    differing = [c for c in mine if c != "updated_at" and mine[c] != theirs[c] and theirs[c] is not None]
    st.dataframe(pd.DataFrame({
        t("people.col.what"): [field_label(c) for c in differing],
        f"#{pid}": [shown(c, _json(mine[c])) for c in differing],
        f"#{other_id}": [shown(c, _json(theirs[c])) for c in differing],
    }), hide_index=True, placeholder=MISSING)
    with st.form(f"people_merge_{pid}_{other_id}"):
        take = {c: st.radio(field_label(c), (f"#{pid}", f"#{other_id}"), horizontal=True, key=f"merge_{pid}_{c}")
                for c in differing}
        st.caption(t("people.merge.caption", other=other_id, keep=pid))
        submitted = st.form_submit_button(t("people.merge.save"), type="primary")
    if not submitted:
        return
    chosen = {c: theirs[c] for c, side in take.items() if side == f"#{other_id}"}
    try:
        with ch.change_set_of(engine, "merge", viewer.name, f"合并 #{other_id} → #{pid} · merge",
                              scope=viewer.scope) as cs:
            cs.merge_persons(pid, int(other_id), chosen)
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
        return
    st.query_params.pop("merge", None)
    after_write(t("people.merge.done", other=other_id, keep=pid))


def _json(value) -> str | None:
    return ch.encode(value)


# ---------------------------------------------------------------- history

def undo(fn, target: int) -> None:
    """Undo a change set or revert one change; a refusal is shown, not raised."""
    try:
        fn(engine, target, viewer.name, scope=viewer.scope)
    except ch.WriteRefused as refused:
        st.error(escape_markdown(str(refused)))
    else:
        after_write(t("people.history.undone"))


def history_section(pid: int) -> None:
    st.subheader(t("people.history.title"))
    history = ch.person_history(engine, pid)
    if history.empty:
        st.info(t("people.history.none"))
        return
    tags = tags_by_id(engine) if (history["entity"] == "person_tag").any() else {}
    rows = []
    for r in history.itertuples():
        if r.op == "update":
            what = field_label(r.field) if r.entity == "person" else t(f"people.entity.{r.entity}") + " · " + field_label(r.field)
        else:
            what = t(f"people.entity.{r.entity}") + " " + t(f"people.op.{r.op}")
        rows.append({
            t("people.col.at"): pd.Timestamp(r.at).strftime("%Y-%m-%d %H:%M"),
            t("people.col.via"): t(f"people.source.{r.source}")
            + (f" · {r.file_name}" if isinstance(r.file_name, str) else "")
            + (f" · {t('people.op.undo')}" if pd.notna(r.undoes) else ""),
            t("people.col.actor"): r.actor or "",
            t("people.col.what"): what,
            t("people.col.old"): shown(r.field, r.old_value, tags),
            t("people.col.new"): shown(r.field, r.new_value, tags),
            t("people.col.reason"): r.reason if isinstance(r.reason, str) else "",
            t("people.col.status"): t(f"people.status.{r.status}"),
        })
    visible = history[~history["field"].isin(ch.BOOKKEEPING)]
    st.dataframe(pd.DataFrame(rows)[[f not in ch.BOOKKEEPING for f in history["field"]]], hide_index=True,
                 placeholder=MISSING)
    undoable = visible[(visible["status"] == "done") & visible["undoes"].isna()]
    if undoable.empty:
        return
    sets = list(dict.fromkeys(int(s) for s in undoable["change_set_id"]))
    c1, c2 = st.columns([3, 1])
    # Keyed by the newest set: after a new change the choice starts again from the newest one.
    chosen = c1.selectbox(t("people.history.pick_set"), sets, key=f"undo_set_{pid}_{sets[0]}",
                          format_func=lambda s: f"#{s} · " + pd.Timestamp(
                              undoable[undoable["change_set_id"] == s]["at"].iloc[0]).strftime("%Y-%m-%d %H:%M"))
    if c2.button(t("people.history.undo_set"), key=f"undo_set_btn_{pid}"):
        undo(ch.undo_change_set, chosen)
    items = undoable[undoable["op"] == "update"]
    if not items.empty:
        c1, c2 = st.columns([3, 1])
        one = c1.selectbox(t("people.history.pick_one"), [int(i) for i in items["change_id"]], key=f"undo_one_{pid}_{sets[0]}",
                           format_func=lambda i: (lambda r: f"#{int(r.change_set_id)} · {field_label(r.field)}: "
                                                  f"{shown(r.field, r.old_value)} → {shown(r.field, r.new_value)}")(
                               items[items["change_id"] == i].iloc[0]))
        if c2.button(t("people.history.undo_one"), key=f"undo_one_btn_{pid}"):
            undo(ch.revert_change, one)


def main() -> None:
    st.title(t("page.people"))
    st.caption(t("people.intro"))
    if flash := st.session_state.pop("people_flash", None):
        st.success(flash)
    if refused := st.session_state.pop("people_error", None):
        st.error(refused)
    st.session_state.update(st.session_state.pop("people_reset", {}))
    reload = st.session_state.pop("people_reload", False)
    # Set before the box is drawn: after an add, or a click on a likely duplicate, it shows the new one.
    # An id the store's key cannot hold (or no number at all) is dropped from the URL with a notice.
    st.session_state["people_open"] = params.number("person", 1, params.MAX_ID, integer=True) or 0
    chosen = st.number_input(t("people.open"), min_value=0, step=1, key="people_open",
                             on_change=lambda: open_person(int(st.session_state["people_open"] or 0)))
    if chosen:
        record = person_record(engine, viewer.scope, int(chosen))
        if record is None:
            st.warning(t("people.not_found"))
        else:
            fill_forms(record, reload=reload)
            values = record["values"]
            st.markdown(f"### {escape_markdown(values['name'])} · #{record['id']}")
            if record["status"] not in (None, "followed"):
                st.warning(t("person.state.note", state=t(f"person.state.{record['status']}"),
                             on=record["status_on"] or "—"))
            edit_section(record)
            tags_section(record)
            stage_section(record)
            posts_section(record)
            status_section(record)
            merge_section(record)
            history_section(record["id"])
        st.divider()
    add_section()


main()
