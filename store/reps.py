"""The representatives' side of the store: personal links, corrections, suggestions, records.

A representative reaches the light front end (/m/, ui/mobile.py) through a personal link:
a token of purpose "profile" (store/tokens.py) naming the person and their link version.
`rep_link` keeps the one valid version; issuing again or revoking bumps it, so every older
link stops working. Before any personal data shows, the visitor types the last four digits
of the mobile on record; after MAX_TRIES wrong answers the link locks until staff re-issue.

What a representative proposes is stored pending (rep_request / rep_request_field,
rep_suggestion, rep_record) and reaches person data only through staff's decision, and
then only through the write path (store/changes.py, source "self", so updated_via = self).
Staff functions take the viewer's scope and see, and decide for, only persons in it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from enum import Enum

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update

from store import audit, changes, clock, photo, tokens
from store.cells import neutralise
from store.changes import WriteRefused
from store.engine import writing
from store.privacy import mask_phone
from store.schema import (
    RECORD_KINDS,
    SUGGESTION_KINDS,
    SUGGESTION_STATUSES,
    category,
    counted,
    person,
    region,
    rep_link,
    rep_record,
    rep_request,
    rep_request_field,
    rep_suggestion,
)
from store.scope import EVERYTHING, Scope
from store.sql import reads_beyond_copy
from store.version import bump_data_version

PURPOSE = "profile"
DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_TRIES = 5
# The fields a representative may correct; name, ID number and category go through staff only.
SELF_EDITABLE = ("organization", "position", "title", "education", "phone")
FIELD_LENGTHS = {"organization": 200, "position": 200, "title": 64, "education": 32, "phone": 32}
PHONE = re.compile(r"^[0-9+\-() ]{5,32}$")
TITLE_LENGTH = 200
TEXT_LENGTH = 5000
TOPIC_LENGTH = 64
REASON_LENGTH = 500
# Suggestion statuses a handled suggestion may move to; the three outcomes are final.
FINAL = ("adopted", "forwarded", "declined")
NEXT_STATUS = {"received": ("reviewing", *FINAL), "reviewing": FINAL}
PHOTO_MAX_BYTES, PHOTO_MAX_SIDE, PHOTO_MAX_PIXELS = photo.MAX_BYTES, photo.MAX_SIDE, photo.MAX_PIXELS
PHOTO_REFUSALS = {
    "unreadable": ("照片无法读取：请上传 JPEG、PNG、GIF 或 WebP 图片",
                   "the photo cannot be read: upload a JPEG, PNG, GIF or WebP image"),
    "pixels": (f"照片像素过多（最多 {PHOTO_MAX_PIXELS // 1_000_000:,} 百万像素）：请缩小后再上传",
               f"the photo has too many pixels (at most {PHOTO_MAX_PIXELS // 1_000_000:,} million): shrink it and "
               "upload it again"),
    "memory": ("照片解码所需内存过多，已拒绝：请另存为普通的 JPEG 后再上传",
               "decoding the photo would take too much memory and was refused: save it as an ordinary JPEG and "
               "upload that"),
    "time": ("照片处理超时，已停止：请另存为普通的 JPEG 后再上传",
             "processing the photo took too long and was stopped: save it as an ordinary JPEG and upload that"),
}


def _in_scope(scope: Scope):
    clause = scope.person_clause(person)
    return [] if clause is None else [clause]


def _insert_counted(engine: Engine, table, values: dict) -> int:
    """One row a representative sent, and the data version moved: the figures counting it follow."""
    with writing(engine) as conn:
        new_id = conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
        bump_data_version(conn)
    return new_id


def refusal(zh: str, en: str) -> WriteRefused:
    """A refusal in the house form: Chinese, then English."""
    return WriteRefused(f"{zh} · {en}")


# ---------------------------------------------------------------- personal links

@dataclass(frozen=True)
class IssuedLink:
    person_id: int
    name: str
    masked_phone: str | None
    token: str
    expires: dt.date


def issue_links(engine: Engine, person_ids, *, days: int = DEFAULT_DAYS, actor: str | None,
                scope: Scope = EVERYTHING) -> list[IssuedLink]:
    """A new link for each person in scope; every older link of theirs stops working, a lock is lifted."""
    if not 1 <= int(days) <= MAX_DAYS:
        raise refusal(f"有效天数应在 1 到 {MAX_DAYS} 之间", f"a link is valid for 1 to {MAX_DAYS} days")
    ids = sorted({int(i) for i in person_ids})
    now, expires = clock.now(), clock.today() + dt.timedelta(days=int(days))
    key = tokens.store_key(engine)
    out: list[IssuedLink] = []
    with writing(engine) as conn:
        rows = conn.execute(select(person.c.id, person.c.name, person.c.phone)
                            .where(person.c.id.in_(ids), *_in_scope(scope)).order_by(person.c.id)).all()
        versions = dict(conn.execute(select(rep_link.c.person_id, rep_link.c.version)
                                     .where(rep_link.c.person_id.in_([r.id for r in rows]))).all())
        for r in rows:
            version = versions.get(r.id, 0) + 1
            values = dict(version=version, expires=expires, issued_at=now, issued_by=actor, revoked_at=None,
                          failed_tries=0, locked_at=None, confirmed_at=None)
            if r.id in versions:
                conn.execute(update(rep_link).where(rep_link.c.person_id == r.id).values(**values))
            else:
                conn.execute(insert(rep_link).values(person_id=r.id, **values))
            out.append(IssuedLink(r.id, r.name, mask_phone(r.phone), tokens.sign(key, PURPOSE, r.id, version, expires),
                                  expires))
        if out:
            audit.record(conn, actor, "reps.link_issue", {"persons": len(out), "days": int(days)}, at=now)
    return out


def selected_ids(engine: Engine, scope: Scope, flt, *, limit: int = 5000) -> list[int]:
    """The persons an explorer filter selects in scope (at most `limit`), for issuing links to all."""
    stmt = flt.where(select(person.c.id), scope, clock.today()).order_by(person.c.id).limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


def in_scope(engine: Engine, person_ids, scope: Scope) -> list[int]:
    """Those of `person_ids` inside the scope."""
    ids = sorted({int(i) for i in person_ids})
    with engine.connect() as conn:
        return list(conn.execute(select(person.c.id).where(person.c.id.in_(ids), *_in_scope(scope))
                                 .order_by(person.c.id)).scalars())


def revoke_link(engine: Engine, person_id: int, *, actor: str | None, scope: Scope = EVERYTHING) -> bool:
    """Every link of the person stops working (until a new one is issued); False when none was issued."""
    with writing(engine) as conn:
        allowed = conn.execute(select(person.c.id).where(person.c.id == person_id, *_in_scope(scope))).first()
        if allowed is None:
            raise refusal("此人不在您的管辖范围内", "this person is outside your scope")
        done = conn.execute(update(rep_link).where(rep_link.c.person_id == person_id)
                            .values(version=rep_link.c.version + 1, revoked_at=clock.now())).rowcount
        if done:
            audit.record(conn, actor, "reps.link_revoke", {"person": person_id})
    return bool(done)


class LinkLocked(Exception):
    """Too many wrong last-four answers: staff must issue a new link."""


def open_link(engine: Engine, token: str) -> tokens.Claim:
    """The claim of a link that holds now (signature, purpose, expiry, newest version, not locked).

    Raises TokenRefused (malformed, forged, expired, revoked) or LinkLocked.
    """
    claim = tokens.verify(engine, token, PURPOSE, today=clock.today())
    with engine.connect() as conn:
        row = conn.execute(select(rep_link).where(rep_link.c.person_id == claim.subject)).first()
    if row is None or row.version != claim.version or row.revoked_at is not None:
        raise tokens.TokenRefused("revoked")
    if row.locked_at is not None:
        raise LinkLocked()
    return claim


class Answer(Enum):
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED = "locked"
    NO_PHONE = "no_phone"


def last_four(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits[-4:] if len(digits) >= 4 else None


def confirm_last_four(engine: Engine, claim: tokens.Claim, typed: str) -> tuple[Answer, int]:
    """Check the typed digits against the mobile on record: (answer, tries left)."""
    import hmac

    typed = re.sub(r"\s", "", typed or "")[:8]
    with writing(engine) as conn:
        link = conn.execute(select(rep_link).where(rep_link.c.person_id == claim.subject)).first()
        if link is None or link.version != claim.version or link.revoked_at is not None:
            raise tokens.TokenRefused("revoked")
        if link.locked_at is not None:
            return Answer.LOCKED, 0
        expected = last_four(conn.execute(select(person.c.phone).where(person.c.id == claim.subject)).scalar())
        if expected is None:
            return Answer.NO_PHONE, MAX_TRIES - link.failed_tries
        now = clock.now()
        if hmac.compare_digest(typed.encode(), expected.encode()):
            conn.execute(update(rep_link).where(rep_link.c.person_id == claim.subject)
                         .values(failed_tries=0, confirmed_at=now))
            return Answer.RIGHT, MAX_TRIES
        tries = link.failed_tries + 1
        values = {"failed_tries": tries}
        if tries >= MAX_TRIES:
            values["locked_at"] = now
            audit.record(conn, None, "reps.link_locked", {"person": claim.subject}, at=now)
        conn.execute(update(rep_link).where(rep_link.c.person_id == claim.subject).values(**values))
    return (Answer.LOCKED, 0) if tries >= MAX_TRIES else (Answer.WRONG, MAX_TRIES - tries)


def link_holds(engine: Engine, person_id: int, version: int) -> bool:
    """Whether a confirmed visitor's session (for this person and link version) still stands."""
    with engine.connect() as conn:
        row = conn.execute(select(rep_link).where(rep_link.c.person_id == person_id)).first()
    return (row is not None and row.version == version and row.revoked_at is None and row.locked_at is None
            and row.expires >= clock.today())


def links(engine: Engine, scope: Scope, *, locked_only: bool = False) -> pd.DataFrame:
    """Issued links in scope, for staff: who, until when, tries, locked, last confirmed."""
    stmt = (select(person.c.id.label("person_id"), person.c.name, rep_link.c.version, rep_link.c.expires,
                   rep_link.c.issued_at, rep_link.c.issued_by, rep_link.c.revoked_at, rep_link.c.failed_tries,
                   rep_link.c.locked_at, rep_link.c.confirmed_at)
            .join(person, person.c.id == rep_link.c.person_id).where(*_in_scope(scope))
            .order_by(rep_link.c.issued_at.desc(), person.c.id))
    if locked_only:
        stmt = stmt.where(rep_link.c.locked_at.is_not(None), rep_link.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt.limit(5000)).mappings().all(),
                            columns=["person_id", "name", "version", "expires", "issued_at", "issued_by",
                                     "revoked_at", "failed_tries", "locked_at", "confirmed_at"])


def link_sheet(issued: list[IssuedLink], base_url: str) -> bytes:
    """A zip: an Excel list (name, masked mobile, link, valid until) and one QR image per person."""
    import zipfile

    import segno
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "links"
    sheet.append(["姓名 · name", "手机（隐去） · mobile (masked)", "个人链接 · personal link", "有效至 · valid until",
                  "二维码文件 · QR file"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for link in issued:
            url = base_url.rstrip("/") + "/m/" + link.token
            qr_name = f"qr/{link.person_id}.png"
            sheet.append([neutralise(link.name), link.masked_phone or "", url, link.expires.isoformat(), qr_name])
            png = io.BytesIO()
            segno.make(url, error="m").save(png, kind="png", scale=6, border=4)
            zf.writestr(qr_name, png.getvalue())
        sheet.column_dimensions["C"].width = 70
        xlsx = io.BytesIO()
        book.save(xlsx)
        zf.writestr("links.xlsx", xlsx.getvalue())
    return out.getvalue()


# ---------------------------------------------------------------- the representative's own data

def profile(engine: Engine, person_id: int) -> dict | None:
    """The person's record as the representative sees it (names, not codes)."""
    district = region.alias("district")
    stmt = (select(person.c.id, person.c.name, person.c.gender, person.c.birth_date, person.c.party,
                   person.c.street, *(person.c[f] for f in SELF_EDITABLE),
                   category.c.name_zh.label("category_zh"), category.c.name_en.label("category_en"),
                   district.c.name_zh.label("district_zh"), district.c.name_en.label("district_en"))
            .select_from(person.outerjoin(category, category.c.code == person.c.category_code)
                         .outerjoin(district, district.c.code == person.c.district_code))
            .where(person.c.id == person_id))
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def check_proposal(values: dict) -> dict[str, str | None]:
    """The self-editable fields of a form, cleaned as an import cleans a cell (invisible, bidi and control
    characters dropped, full-width letters and digits made half-width, spaces tidied); WriteRefused names
    a field that cannot be stored."""
    # The importer's cleaning: a correction lands in the person's record as an imported value would.
    from loaders.normalise import clean_text

    out: dict[str, str | None] = {}
    for name in SELF_EDITABLE:
        if name not in values:
            continue
        text = clean_text(values[name])
        if len(text) > FIELD_LENGTHS[name]:
            raise refusal(f"「{name}」过长（最多 {FIELD_LENGTHS[name]} 字）",
                          f"{name} is too long (at most {FIELD_LENGTHS[name]} characters)")
        if name == "phone" and text and not PHONE.fullmatch(text):
            raise refusal("电话号码只能包含数字、空格、+、-、括号", "a phone number holds digits, spaces, + - ( ) only")
        out[name] = text or None
    return out


def propose_changes(engine: Engine, person_id: int, values: dict) -> int | None:
    """A pending change request of the fields that differ from the record; None when nothing differs."""
    proposed = check_proposal(values)
    now = clock.now()
    with writing(engine) as conn:
        current = conn.execute(select(*(person.c[f] for f in SELF_EDITABLE)).where(person.c.id == person_id)).mappings().one()
        diff = {f: v for f, v in proposed.items() if (current[f] or None) != v}
        if not diff:
            return None
        rid = conn.execute(insert(rep_request).values(person_id=person_id, kind="change", submitted_at=now,
                                                      status="pending").returning(rep_request.c.id)).scalar_one()
        conn.execute(insert(rep_request_field), [dict(request_id=rid, field=f, old_value=current[f], new_value=v,
                                                      status="pending") for f, v in diff.items()])
        bump_data_version(conn)
    return rid


def confirm_correct(engine: Engine, person_id: int) -> int:
    """The representative says their data is correct: recorded (liveness), nothing changes."""
    now = clock.now()
    return _insert_counted(engine, rep_request, dict(person_id=person_id, kind="confirm", submitted_at=now,
                                                     status="done", closed_at=now))


def my_requests(engine: Engine, person_id: int, *, limit: int = 50) -> list[dict]:
    """The person's proposed fields, newest first, with status and staff's reason."""
    stmt = (select(rep_request.c.id.label("request_id"), rep_request.c.submitted_at, rep_request_field.c.field,
                   rep_request_field.c.new_value, rep_request_field.c.status, rep_request_field.c.accepted_value,
                   rep_request_field.c.reason)
            .join(rep_request_field, rep_request_field.c.request_id == rep_request.c.id)
            .where(rep_request.c.person_id == person_id)
            .order_by(rep_request.c.submitted_at.desc(), rep_request_field.c.id).limit(limit))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def last_confirmed(engine: Engine, person_id: int) -> dt.datetime | None:
    with engine.connect() as conn:
        return conn.execute(select(func.max(rep_request.c.submitted_at))
                            .where(rep_request.c.person_id == person_id, rep_request.c.kind == "confirm")).scalar()


# ---------------------------------------------------------------- staff: the review desk

def pending_fields(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Every undecided proposed field in scope: the person, the value when proposed, now, and proposed."""
    stmt = (select(rep_request_field.c.id.label("field_id"), rep_request.c.id.label("request_id"),
                   person.c.id.label("person_id"), person.c.name, person.c.district_code,
                   rep_request.c.submitted_at, rep_request_field.c.field, rep_request_field.c.old_value,
                   rep_request_field.c.new_value)
            .join(rep_request, rep_request.c.id == rep_request_field.c.request_id)
            .join(person, person.c.id == rep_request.c.person_id)
            .where(rep_request_field.c.status == "pending", *_in_scope(scope))
            .order_by(rep_request.c.submitted_at, rep_request_field.c.id).limit(2000))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).mappings().all(),
                          columns=["field_id", "request_id", "person_id", "name", "district_code", "submitted_at",
                                   "field", "old_value", "new_value"])
        if not df.empty:
            now = conn.execute(select(person.c.id, *(person.c[f] for f in SELF_EDITABLE))
                               .where(person.c.id.in_(df["person_id"].unique().tolist()))).mappings().all()
            current = {r["id"]: r for r in now}
            df["current_value"] = [current[p][f] for p, f in zip(df["person_id"], df["field"])]
        else:
            df["current_value"] = []
    return df


@dataclass(frozen=True)
class Decision:
    field_id: int
    accept: bool
    # Staff's edit of the proposal (accepted as edited); None keeps the proposal.
    value: str | None = None
    reason: str | None = None


def decide_fields(engine: Engine, decisions: list[Decision], *, actor: str | None, scope: Scope = EVERYTHING) -> dict:
    """Accept or reject proposed fields. Accepted ones are written through the write path, one change set
    per person (source "self"); a rejection needs a reason the representative sees. All or nothing."""
    if not decisions:
        return {"accepted": 0, "rejected": 0}
    for d in decisions:
        if not d.accept and not (d.reason or "").strip():
            raise refusal("拒绝时请填写理由（代表可以看到）", "a rejection needs a reason (the representative sees it)")
        if d.reason and len(d.reason) > REASON_LENGTH:
            raise refusal(f"理由过长（最多 {REASON_LENGTH} 字）", f"the reason is too long (at most {REASON_LENGTH})")
    now = clock.now()
    counts = {"accepted": 0, "rejected": 0}
    with writing(engine) as conn:
        ids = [d.field_id for d in decisions]
        rows = {r.id: r for r in conn.execute(
            select(rep_request_field.c.id, rep_request_field.c.field, rep_request_field.c.new_value,
                   rep_request_field.c.status, rep_request.c.id.label("request_id"), rep_request.c.person_id)
            .join(rep_request, rep_request.c.id == rep_request_field.c.request_id)
            .where(rep_request_field.c.id.in_(ids)))}
        allowed = set(conn.execute(select(person.c.id).where(
            person.c.id.in_({r.person_id for r in rows.values()}), *_in_scope(scope))).scalars())
        by_person: dict[int, list[tuple[Decision, object]]] = {}
        for d in decisions:
            row = rows.get(d.field_id)
            if row is None or row.person_id not in allowed:
                raise refusal("要处理的更正不存在或不在您的管辖范围内", "that correction does not exist or is outside your scope")
            if row.status != "pending":
                raise refusal("此更正已由他人处理，请刷新", "someone has already decided this correction; refresh")
            by_person.setdefault(row.person_id, []).append((d, row))
        for pid, items in by_person.items():
            accepted = {}
            for d, row in items:
                if d.accept:
                    value = check_proposal({row.field: row.new_value if d.value is None else d.value})[row.field]
                    accepted[row.field] = value
            set_id = None
            if accepted:
                cs = changes.open_change_set(conn, "self", actor, "代表自助更正 · self-service correction",
                                             scope=scope, now=now)
                cs.edit_person(pid, accepted)
                cs.close(action="change.self", detail={"requests": sorted({r.request_id for _, r in items})})
                set_id = cs.id
            for d, row in items:
                values = dict(status="accepted" if d.accept else "rejected", decided_at=now, decided_by=actor,
                              reason=(d.reason or "").strip() or None)
                if d.accept:
                    values.update(accepted_value=accepted[row.field], change_set_id=set_id)
                    counts["accepted"] += 1
                else:
                    counts["rejected"] += 1
                conn.execute(update(rep_request_field).where(rep_request_field.c.id == d.field_id).values(**values))
        requests = {r.request_id for r in rows.values()}
        still_open = set(conn.execute(select(rep_request_field.c.request_id).where(
            rep_request_field.c.request_id.in_(requests), rep_request_field.c.status == "pending")).scalars())
        for rid in requests - still_open:
            conn.execute(update(rep_request).where(rep_request.c.id == rid).values(status="done", closed_at=now))
        audit.record(conn, actor, "reps.review", counts, at=now)
        bump_data_version(conn)
    return counts


# ---------------------------------------------------------------- suggestions

def _text(value, limit: int, zh: str, en: str, *, required: bool = True) -> str | None:
    text = str(value or "").strip()
    if required and not text:
        raise refusal(f"请填写{zh}", f"please fill in the {en}")
    if len(text) > limit:
        raise refusal(f"{zh}过长（最多 {limit} 字）", f"the {en} is too long (at most {limit} characters)")
    return text or None


def submit_suggestion(engine: Engine, person_id: int, kind: str, title: str, body: str, topic: str | None) -> int:
    if kind not in SUGGESTION_KINDS:
        raise refusal("请选择类别", "please choose a kind")
    values = dict(person_id=person_id, kind=kind, title=_text(title, TITLE_LENGTH, "标题", "title"),
                  body=_text(body, TEXT_LENGTH, "内容", "text"),
                  topic=_text(topic, TOPIC_LENGTH, "主题", "topic", required=False), status="received",
                  submitted_at=clock.now(), updated_at=clock.now())
    return _insert_counted(engine, rep_suggestion, values)


def my_suggestions(engine: Engine, person_id: int, *, limit: int = 50) -> list[dict]:
    stmt = (select(rep_suggestion.c.id, rep_suggestion.c.kind, rep_suggestion.c.title, rep_suggestion.c.topic,
                   rep_suggestion.c.status, rep_suggestion.c.reply, rep_suggestion.c.submitted_at)
            .where(rep_suggestion.c.person_id == person_id).order_by(rep_suggestion.c.submitted_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def my_suggestion(engine: Engine, person_id: int, suggestion_id: int) -> dict | None:
    """One of the person's own suggestions in full (None for anyone else's)."""
    stmt = select(rep_suggestion).where(rep_suggestion.c.id == suggestion_id, rep_suggestion.c.person_id == person_id)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


SUGGESTION_COLUMNS = ["id", "person_id", "name", "district_code", "kind", "title", "body", "topic", "status",
                      "assignee", "reply", "submitted_at", "updated_at"]


def suggestions(engine: Engine, scope: Scope, *, status: str | None = None) -> pd.DataFrame:
    stmt = (select(rep_suggestion.c.id, person.c.id.label("person_id"), person.c.name, person.c.district_code,
                   rep_suggestion.c.kind, rep_suggestion.c.title, rep_suggestion.c.body, rep_suggestion.c.topic,
                   rep_suggestion.c.status, rep_suggestion.c.assignee, rep_suggestion.c.reply,
                   rep_suggestion.c.submitted_at, rep_suggestion.c.updated_at)
            .join(person, person.c.id == rep_suggestion.c.person_id).where(*_in_scope(scope))
            .order_by(rep_suggestion.c.submitted_at.desc()).limit(2000))
    if status:
        stmt = stmt.where(rep_suggestion.c.status == status)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=SUGGESTION_COLUMNS)


def suggestion_counts(engine: Engine, scope: Scope, by: str) -> pd.DataFrame:
    """Counts by `by` (kind, status, topic or category_code), in SQL."""
    column = person.c.category_code if by == "category_code" else rep_suggestion.c[by]
    stmt = (select(column.label(by), func.count().label("n"))
            .select_from(rep_suggestion).join(person, person.c.id == rep_suggestion.c.person_id).where(*_in_scope(scope))
            .group_by(column).order_by(func.count().desc()))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=[by, "n"])


def handle_suggestion(engine: Engine, suggestion_id: int, *, actor: str | None, scope: Scope = EVERYTHING,
                      status: str | None = None, assignee: str | None = None, reply: str | None = None) -> None:
    """Staff's handling: assign, reply, move the status forward (an outcome is final)."""
    with writing(engine) as conn:
        row = conn.execute(select(rep_suggestion.c.status).join(person, person.c.id == rep_suggestion.c.person_id)
                           .where(rep_suggestion.c.id == suggestion_id, *_in_scope(scope))).first()
        if row is None:
            raise refusal("此建议不存在或不在您的管辖范围内", "that suggestion does not exist or is outside your scope")
        values: dict = {"updated_at": clock.now(), "updated_by": actor}
        if status is not None and status != row.status:
            if status not in SUGGESTION_STATUSES or status not in NEXT_STATUS.get(row.status, ()):
                raise refusal(f"状态不能从「{row.status}」改为「{status}」",
                              f"the status cannot move from {row.status} to {status}")
            values["status"] = status
        if assignee is not None:
            values["assignee"] = _text(assignee, 64, "承办人", "assignee", required=False)
        if reply is not None:
            values["reply"] = _text(reply, TEXT_LENGTH, "答复", "reply", required=False)
        if values.get("status") in FINAL and not (values.get("reply") or conn.execute(
                select(rep_suggestion.c.reply).where(rep_suggestion.c.id == suggestion_id)).scalar()):
            raise refusal("办结时请填写答复（代表可以看到）", "an outcome needs a reply (the representative sees it)")
        conn.execute(update(rep_suggestion).where(rep_suggestion.c.id == suggestion_id).values(**values))
        bump_data_version(conn)
        audit.record(conn, actor, "reps.suggestion", {"suggestion": suggestion_id,
                                                      **({"status": values["status"]} if "status" in values else {})})


# ---------------------------------------------------------------- records (honours, contributions, public welfare)

def clean_photo(data: bytes) -> tuple[bytes, str]:
    """An uploaded photo re-encoded as JPEG (or PNG when it has transparency): no metadata survives,
    nothing but an image is stored, and it is at most PHOTO_MAX_SIDE pixels on its longer side.
    Decoded in a child process under a memory limit (store/photo.py): no image takes the server down."""
    if len(data) > PHOTO_MAX_BYTES:
        raise refusal(f"照片过大（最多 {PHOTO_MAX_BYTES // 1024 // 1024} MB）",
                      f"the photo is too large (at most {PHOTO_MAX_BYTES // 1024 // 1024} MB)")
    try:
        return photo.clean(data)
    except photo.PhotoRefused as refused:
        raise refusal(*PHOTO_REFUSALS[refused.code]) from None


def add_record(engine: Engine, person_id: int, kind: str, day: dt.date | str, body: str,
               photo: bytes | None = None) -> int:
    if kind not in RECORD_KINDS:
        raise refusal("请选择类别", "please choose a kind")
    try:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day).strip())
    except ValueError as exc:
        raise refusal("日期格式应为 年-月-日", "the date reads year-month-day") from exc
    if day > clock.today() or day.year < 1900:
        raise refusal("日期不能晚于今天", "the date cannot be later than today")
    values = dict(person_id=person_id, kind=kind, day=day, body=_text(body, TEXT_LENGTH, "内容", "text"),
                  status="pending", submitted_at=clock.now())
    if photo:
        values["photo"], values["photo_type"] = clean_photo(photo)
    return _insert_counted(engine, rep_record, values)


def my_records(engine: Engine, person_id: int, *, limit: int = 50) -> list[dict]:
    stmt = (select(rep_record.c.id, rep_record.c.kind, rep_record.c.day, rep_record.c.body, rep_record.c.status,
                   rep_record.c.reason, (rep_record.c.photo_type.is_not(None)).label("has_photo"))
            .where(rep_record.c.person_id == person_id).order_by(rep_record.c.submitted_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def records(engine: Engine, scope: Scope, *, status: str | None = "pending") -> pd.DataFrame:
    stmt = (select(rep_record.c.id, person.c.id.label("person_id"), person.c.name, rep_record.c.kind,
                   rep_record.c.day, rep_record.c.body, rep_record.c.status, rep_record.c.reason,
                   (rep_record.c.photo_type.is_not(None)).label("has_photo"), rep_record.c.submitted_at)
            .join(person, person.c.id == rep_record.c.person_id).where(*_in_scope(scope))
            .order_by(rep_record.c.submitted_at).limit(2000))
    if status:
        stmt = stmt.where(rep_record.c.status == status)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(),
                            columns=["id", "person_id", "name", "kind", "day", "body", "status", "reason", "has_photo",
                                     "submitted_at"])


def record_photo(engine: Engine, record_id: int, *, scope: Scope | None = None,
                 person_id: int | None = None) -> tuple[bytes, str] | None:
    """A record's photo for staff in scope, or for the representative it belongs to."""
    stmt = (select(rep_record.c.photo, rep_record.c.photo_type).join(person, person.c.id == rep_record.c.person_id)
            .where(rep_record.c.id == record_id, rep_record.c.photo.is_not(None)))
    if scope is not None:
        stmt = stmt.where(*_in_scope(scope))
    if person_id is not None:
        stmt = stmt.where(rep_record.c.person_id == person_id)
    if scope is None and person_id is None:
        raise ValueError("a photo is read for a scope or for its own person")
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return (bytes(row.photo), row.photo_type) if row else None


def decide_record(engine: Engine, record_id: int, accept: bool, *, actor: str | None, scope: Scope = EVERYTHING,
                  reason: str | None = None) -> None:
    reason = (reason or "").strip() or None
    if not accept and not reason:
        raise refusal("拒绝时请填写理由（代表可以看到）", "a rejection needs a reason (the representative sees it)")
    with writing(engine) as conn:
        row = conn.execute(select(rep_record.c.status).join(person, person.c.id == rep_record.c.person_id)
                           .where(rep_record.c.id == record_id, *_in_scope(scope))).first()
        if row is None:
            raise refusal("此记录不存在或不在您的管辖范围内", "that record does not exist or is outside your scope")
        if row.status != "pending":
            raise refusal("此记录已由他人处理，请刷新", "someone has already decided this record; refresh")
        conn.execute(update(rep_record).where(rep_record.c.id == record_id).values(
            status="accepted" if accept else "rejected", reason=reason, decided_at=clock.now(), decided_by=actor))
        audit.record(conn, actor, "reps.record", {"record": record_id, "accepted": accept})
        bump_data_version(conn)


# ---------------------------------------------------------------- liveness

@dataclass(frozen=True)
class Liveness:
    """The representatives' responses, one definition for the cockpit and the data-health page
    (README, "Figures"). Counts are raw here; store.privacy.reps_liveness withholds."""

    # Persons in scope still followed (as every headcount), and those of them who confirmed
    # their data or proposed a correction through their link in the last 12 months.
    persons: int
    responded_12m: int
    # Correction requests in scope with a field still undecided, and their ages in whole days.
    open_requests: int
    oldest_open_days: int | None
    median_open_days: float | None
    # Suggestions and 社情民意 sent since 1 January, and those of them adopted.
    suggestions_this_year: int
    adopted_this_year: int

    @property
    def responded_share(self) -> float | None:
        return self.responded_12m / self.persons if self.persons else None


@reads_beyond_copy
def liveness(engine: Engine, scope: Scope, today: dt.date | None = None) -> Liveness:
    """One statement of scalar subqueries (the cockpit's rule: one statement per number block). The
    median age comes from the one or two middle requests of the queue in submission order: those
    whose rank r, of n, has n <= 2r <= n + 2."""
    today = today or clock.today()
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time())
    year_start = dt.datetime(today.year, 1, 1)
    where = _in_scope(scope)
    followed = [counted(person), *where]
    requests = rep_request.join(person, person.c.id == rep_request.c.person_id)
    pending = select(rep_request.c.id, rep_request.c.submitted_at).select_from(requests) \
        .where(rep_request.c.status == "pending", *where).subquery()
    ranked = select(pending.c.submitted_at,
                    func.row_number().over(order_by=(pending.c.submitted_at, pending.c.id)).label("rank"),
                    func.count().over().label("n")).subquery()
    middle = (ranked.c.rank * 2 >= ranked.c.n, ranked.c.rank * 2 <= ranked.c.n + 2)
    this_year = select(rep_suggestion.c.status).select_from(
        rep_suggestion.join(person, person.c.id == rep_suggestion.c.person_id)).where(
        rep_suggestion.c.submitted_at >= year_start, *where).subquery()
    stmt = select(
        select(func.count()).select_from(person).where(*followed).scalar_subquery().label("persons"),
        select(func.count(func.distinct(rep_request.c.person_id))).select_from(requests)
        .where(rep_request.c.submitted_at >= since, *followed).scalar_subquery().label("responded"),
        select(func.count()).select_from(pending).scalar_subquery().label("open"),
        select(func.min(pending.c.submitted_at)).scalar_subquery().label("oldest"),
        select(func.min(ranked.c.submitted_at)).where(*middle).scalar_subquery().label("middle_first"),
        select(func.max(ranked.c.submitted_at)).where(*middle).scalar_subquery().label("middle_last"),
        select(func.count()).select_from(this_year).scalar_subquery().label("suggestions"),
        select(func.count()).select_from(this_year).where(this_year.c.status == "adopted")
        .scalar_subquery().label("adopted"),
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    middle_ages = [_age(m, today) for m in (row.middle_first, row.middle_last) if m is not None]
    return Liveness(int(row.persons), int(row.responded), int(row.open), _age(row.oldest, today),
                    sum(middle_ages) / 2 if middle_ages else None, int(row.suggestions), int(row.adopted))


def _age(moment, today: dt.date) -> int | None:
    """Whole days from a moment (as any driver returns it) to today."""
    if moment is None:
        return None
    return (today - pd.Timestamp(moment).date()).days
