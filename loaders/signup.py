"""Sign-up from an open activity's public poster: a name and a mobile, matched as an import matches.

The two fields go through the people import itself — read, normalised and validated
as a one-row sheet, then matched by its identity cascade (name and mobile) — so a
poster sign-up finds exactly the person an import of the same line would. Someone the
store does not know becomes a discovered person (stage discover, category `other`,
the activity's district and street, source 活动海报报名), written by the representative
(`self`); either way the sign-up waits for staff review, so accepting the newcomer is
approving the sign-up. No pass is shown to the public: it comes with approval.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import Engine

from loaders.apply import load_candidates, match_person
from loaders.plan import F, prepare_import
from store import activities as act
from store.changes import change_set_of

POSTER_SOURCE = "活动海报报名"
OTHER = "other"


class PosterRefused(act.ActivityRefused):
    """A poster sign-up that cannot be taken; the message says why (bilingual)."""


@dataclass(frozen=True)
class PosterSignUp:
    person_id: int
    known: bool  # matched an existing person; False: a discovered person was added
    status: str


def _one_row(name: str, mobile: str):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["姓名", "手机号码"])
    writer.writerow([(name or "").strip()[:64], (mobile or "").strip()[:32]])
    plan = prepare_import(text.getvalue().encode("utf-8"), "poster.csv", kind="persons")
    if not plan.rows:
        raise PosterRefused("请填写姓名和手机号 · give your name and mobile")
    row = plan.rows[0]
    if row.problems:
        raise PosterRefused("；".join(message for _column, message in row.problems))
    if not row.mobile:
        raise PosterRefused("请填写11位手机号 · give your 11-digit mobile number")
    return row


def poster_sign_up(engine: Engine, activity_id: int, name: str, mobile: str,
                   answers: dict[str, object] | None = None) -> PosterSignUp:
    """Sign up from the poster; raises PosterRefused, InvalidAnswers or ActivityRefused with the reason."""
    row = _one_row(name, mobile)
    plan = act.activity_plan(engine, activity_id)
    if plan["audience"] != "open":
        raise PosterRefused("此活动仅限受邀人员参加 · this activity is by invitation only")
    kept = act.check_sign_up(engine, activity_id, answers)  # before anyone is added
    with engine.connect() as conn:
        pid, ambiguous = match_person(row, load_candidates(conn, [row], False))
    if ambiguous:
        raise PosterRefused("有多位同名且同手机号的人员，请联系工作人员报名 · more than one person has this name and "
                            "mobile: please sign up through the staff")
    known = pid is not None
    if not known:
        values = {"name": row.values[F["name"]], "phone": row.values[F["phone"]]}
        with change_set_of(engine, "self", "poster", f"活动海报报名 · poster sign-up for {activity_id}",
                           action="person.discovered", detail={"activity": activity_id}) as cs:
            pid = cs.add_person(dict(values, category_code=OTHER, district_code=plan["district_code"],
                                     street=plan["street"], stage="discover", source=POSTER_SOURCE))
    outcome = act.sign_up(engine, activity_id, pid, kept, source="self", actor="poster", review=True)
    return PosterSignUp(pid, known, outcome.status)
