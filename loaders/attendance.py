"""Sign-up and check-in sheets: participations of known persons in activities.

A row names a person (found by the people import's identity cascade; an unknown person
is a rejected row, never a new person), an activity (found by title and date, or
created) and a status. Statuses only move forward:

    registered  <  approved | rejected  <  checked_in | absent

A row with a higher rank moves the participation; a row with a lower rank changes
nothing. Within a rank: approved and rejected replace each other (the later review
decision wins); absent -> checked_in is allowed (a late arrival signed in), but
checked_in -> absent is not (a check-in is evidence and is never undone by a sheet).
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from loaders.matching import (
    AMBIGUOUS,
    ImportResult,
    Progress,
    _reject,
    add_warning,
    load_candidates,
    match_person,
    record_warnings,
    where_in_file,
)
from loaders.normalise import STATUS_RANK
from loaders.plan import ImportPlan, RowPlan
from store.changes import ChangeSet, encode, encode_row, same_value
from store.schema import activity, import_change, participation
from store.scope import EVERYTHING, Scope

UNKNOWN_PERSON = ("库中没有此人：签到表只登记已有人员，请先导入人员名单，或核对姓名、身份证号、手机 · "
                  "unknown person: attendance sheets only record persons already in the store; "
                  "import them first or check the name, ID number and mobile")
AMBIGUOUS_ACTIVITY = ("这一天有多个同名活动，无法确定是哪一场：请在活动日期中写明开始时间 · "
                      "several activities share this title on that day: add the start time to the activity date")
CHUNK = 1000

# import_change.action values of an attendance batch (a person list uses insert/update);
# at most 16 characters, the column's width.
ACTIONS = ("attend_insert", "attend_update", "activity_insert")


def same_attendance_warning(earlier: RowPlan, row: RowPlan) -> str:
    zh, en = where_in_file(earlier, row)
    return (f"本文件{zh}已登记此人参加同一活动：按文件顺序处理，状态只前进 · {en} of this file records the same "
            f"person at the same activity: applied in file order, the status only moves forward")


def next_status(current: str | None, new: str) -> str:
    """The status after a row saying `new` meets a stored `current` (see the module doc)."""
    # A status only recorded online (waitlisted, declined, withdrawn) ranks with registered: a sheet's
    # decision or check-in moves it on, a sheet's sign-up leaves it as it is.
    rank = STATUS_RANK.get(current, 0) if current is not None else None
    if current is None or STATUS_RANK[new] > rank:
        return new
    if STATUS_RANK[new] == rank and new != current:
        if {current, new} == {"approved", "rejected"} or (current, new) == ("absent", "checked_in"):
            return new
    return current


class Activities:
    """The store's activities with the file's titles, by (title, day); new ones get temp ids < 0."""

    def __init__(self, conn: Connection, titles: list[str]):
        self.by_day: dict[tuple[str, dt.date], list[tuple[int, dt.datetime]]] = {}
        self.starts: dict[int, dt.datetime] = {}
        self.created: dict[int, dict] = {}
        for start in range(0, len(titles), CHUNK):
            for aid, title, starts_at in conn.execute(
                    select(activity.c.id, activity.c.title, activity.c.starts_at)
                    .where(activity.c.title.in_(titles[start:start + CHUNK])).order_by(activity.c.id)):
                self.by_day.setdefault((title, starts_at.date()), []).append((aid, starts_at))
                self.starts[aid] = starts_at

    def resolve(self, fields: tuple) -> int | None:
        """The activity id for a row's (title, when, …), creating it when unknown; None: ambiguous."""
        title, (moment, has_time), _status, kind, organizer = fields[:5]
        found = self.by_day.get((title, moment.date()))
        if found:
            if len(found) == 1:
                return found[0][0]
            exact = [aid for aid, starts_at in found if has_time and starts_at == moment]
            return exact[0] if len(exact) == 1 else None
        aid = -1 - len(self.created)
        kind_code, online = kind if kind else ("other", False)
        self.created[aid] = {"title": title, "kind": kind_code, "organizer": organizer, "starts_at": moment,
                             "online": online}
        self.by_day[(title, moment.date())] = [(aid, moment)]
        self.starts[aid] = moment
        return aid


def _stored(conn: Connection, aids: list[int], pids: list[int]) -> dict[tuple[int, int], list]:
    out: dict[tuple[int, int], list] = {}
    for a in range(0, len(aids), CHUNK):
        for p in range(0, len(pids), CHUNK * 5):
            for rec in conn.execute(
                    select(participation.c.activity_id, participation.c.person_id, participation.c.status,
                           participation.c.registered_at, participation.c.checked_in_at)
                    .where(participation.c.activity_id.in_(aids[a:a + CHUNK]),
                           participation.c.person_id.in_(pids[p:p + CHUNK * 5]))):
                out[(rec[0], rec[1])] = [rec[2], rec[3], rec[4]]
    return out


def apply_participations(conn: Connection, plan: ImportPlan, result: ImportResult, cs: ChangeSet | None,
                         progress: Progress | None, scope: Scope = EVERYTHING) -> int:
    """Record an attendance plan; writes nothing when `cs` is None (dry run). Returns 0 (no new persons).

    A person outside the importer's `scope` is no candidate: their row is an unknown
    person, word for word as for someone not in the store at all.
    """
    if progress:
        progress(0.1, "读取已有人员和活动 · loading persons and activities")
    accepted = [r for r in plan.rows if not r.problems]
    view = load_candidates(conn, accepted, with_tags=False, scope=scope)
    activities = Activities(conn, sorted({r.activity[0] for r in accepted}))

    resolved: list[tuple[RowPlan, int, int]] = []
    for row in plan.rows:
        if row.problems:
            _reject(result, row, row.problems)
            continue
        pid, ambiguous = match_person(row, view)
        if ambiguous or pid is None:
            _reject(result, row, [(None, AMBIGUOUS if ambiguous else UNKNOWN_PERSON)])
            continue
        aid = activities.resolve(row.activity)
        if aid is None:
            _reject(result, row, [(None, AMBIGUOUS_ACTIVITY)])
            continue
        resolved.append((row, aid, pid))

    state = _stored(conn, sorted({a for _r, a, _p in resolved if a > 0}), sorted({p for _r, _a, p in resolved}))
    before: dict[tuple[int, int], tuple | None] = {}  # None: inserted by this batch
    first_row: dict[tuple[int, int], RowPlan] = {}
    for row, aid, pid in resolved:
        _title, _when, status, _kind, _organizer, registered, checked_in = row.activity
        start = activities.starts[aid]
        key = (aid, pid)
        current = state.get(key)
        if current is None:
            state[key] = [status, registered[0] if registered else start,
                          (checked_in[0] if checked_in else start) if status == "checked_in" else None]
            before[key] = None
            result.inserted += 1
        else:
            moved = next_status(current[0], status)
            if moved == current[0]:
                result.unchanged += 1
            else:
                if key not in before:
                    before[key] = tuple(current)
                current[0] = moved
                if current[1] is None:
                    current[1] = registered[0] if registered else start
                current[2] = (checked_in[0] if checked_in else start) if moved == "checked_in" else None
                result.updated += 1
        record_warnings(result, row)
        earlier = first_row.setdefault(key, row)
        if earlier is not row:
            add_warning(result, row, None, same_attendance_warning(earlier, row))

    if cs is not None:
        if progress:
            progress(0.75, "写入 · writing")
        _write(conn, activities, state, before, cs)
    return 0


def _write(conn: Connection, activities: Activities, state: dict, before: dict, cs: ChangeSet) -> None:
    batch_id = cs.import_batch_id
    real: dict[int, int] = {}
    used = {aid for aid, _pid in before}
    for temp, values in activities.created.items():
        if temp in used:  # an activity all of whose rows were rejected later is not created
            real[temp] = int(cs.insert("activity", values))
    links = [{"batch_id": batch_id, "person_id": 0, "action": "activity_insert",
              "previous": json.dumps({"activity_id": aid})} for aid in real.values()]
    inserts, updates, record = [], [], []
    for (aid, pid), old in before.items():
        status, registered_at, checked_in_at = state[(aid, pid)]
        aid = real.get(aid, aid)
        key = f"{aid}:{pid}"
        now = {"status": status, "registered_at": registered_at, "checked_in_at": checked_in_at}
        if old is None:
            inserts.append({"activity_id": aid, "person_id": pid, **now})
            record.append(("participation", key, pid, "insert", None, None,
                           encode_row({"activity_id": aid, "person_id": pid, **now})))
        else:
            updates.append({"b_aid": aid, "b_pid": pid, "b_status": status, "b_registered_at": registered_at,
                            "b_checked_in_at": checked_in_at})
            record += [("participation", key, pid, "update", f, encode(was), encode(now[f]))
                       for f, was in zip(("status", "registered_at", "checked_in_at"), old)
                       if not same_value(was, now[f])]
        links.append({"batch_id": batch_id, "person_id": pid, "action": "attend_insert" if old is None else "attend_update",
                      "previous": json.dumps({"activity_id": aid})})
    statement = update(participation).where(and_(participation.c.activity_id == bindparam("b_aid"),
                                                 participation.c.person_id == bindparam("b_pid"))).values(
        status=bindparam("b_status"), registered_at=bindparam("b_registered_at"),
        checked_in_at=bindparam("b_checked_in_at"))
    for rows, stmt in ((inserts, insert(participation)), (updates, statement), (links, insert(import_change))):
        for start in range(0, len(rows), 5000):
            conn.execute(stmt, rows[start:start + 5000])
    cs.record_many(record)
