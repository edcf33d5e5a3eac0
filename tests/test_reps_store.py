"""The representatives' store: personal links and their security, corrections through the write path,
suggestions and records through every state change, liveness; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from store import changes as ch
from store import clock, reps, tokens
from store.schema import audit_log, change_set, person, rep_link, rep_request, rep_request_field
from store.scope import Scope

WEST, UPTOWN = "330106", "330102"


def add(engine, name="张三", district=WEST, phone="13812345678", **extra) -> int:
    with ch.change_set_of(engine, "staff", "setup") as cs:
        return cs.add_person(dict(name=name, gender="M", category_code="non_party", district_code=district,
                                  phone=phone, stage="discover", **extra))


def link(engine, pid, **kw) -> str:
    return reps.issue_links(engine, [pid], actor="staff1", **kw)[0].token


# ---------------------------------------------------------------- links

def test_a_link_opens_for_its_person_only(engine):
    a, b = add(engine, "甲"), add(engine, "乙", phone="13900001111")
    token_a = link(engine, a)
    assert reps.open_link(engine, token_a).subject == a
    assert reps.confirm_last_four(engine, reps.open_link(engine, token_a), "1111")[0] is reps.Answer.WRONG
    assert reps.confirm_last_four(engine, reps.open_link(engine, token_a), "5678")[0] is reps.Answer.RIGHT
    assert "甲" not in token_a and "5678" not in token_a and str(13812345678) not in token_a


@pytest.mark.calendar
def test_forged_expired_revoked_reissued_and_other_purpose_links_are_refused(engine, monkeypatch):
    pid = add(engine)
    first = link(engine, pid, days=3)
    body, _, sig = first.rpartition(".")
    forged = body + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    with pytest.raises(tokens.TokenRefused) as refused:
        reps.open_link(engine, forged)
    assert refused.value.reason == "forged"
    # Another person's id under the same signature.
    parts = first.split(".")
    parts[1] = "zz"
    with pytest.raises(tokens.TokenRefused):
        reps.open_link(engine, ".".join(parts))
    # A token of another purpose for the same person and version.
    other = tokens.issue(engine, "pass", pid, 1, clock.today() + dt.timedelta(days=3))
    with pytest.raises(tokens.TokenRefused) as refused:
        reps.open_link(engine, other)
    assert refused.value.reason == "forged"
    # Re-issued: the first link is dead, the second holds.
    second = link(engine, pid)
    with pytest.raises(tokens.TokenRefused) as refused:
        reps.open_link(engine, first)
    assert refused.value.reason == "revoked"
    assert reps.open_link(engine, second).version == 2
    # Revoked: nothing holds.
    assert reps.revoke_link(engine, pid, actor="staff1")
    with pytest.raises(tokens.TokenRefused) as refused:
        reps.open_link(engine, second)
    assert refused.value.reason == "revoked"
    # Expired: a fresh link, read four days later.
    third = link(engine, pid, days=3)
    later = clock.today() + dt.timedelta(days=4)
    monkeypatch.setattr(clock, "today", lambda: later)
    with pytest.raises(tokens.TokenRefused) as refused:
        reps.open_link(engine, third)
    assert refused.value.reason == "expired"
    assert not reps.link_holds(engine, pid, 4)


def test_the_link_locks_after_the_limit_and_staff_see_it(engine):
    pid = add(engine)
    token = link(engine, pid)
    claim = reps.open_link(engine, token)
    for left in range(reps.MAX_TRIES - 1, 0, -1):
        assert reps.confirm_last_four(engine, claim, "0000") == (reps.Answer.WRONG, left)
    assert reps.confirm_last_four(engine, claim, "0000") == (reps.Answer.LOCKED, 0)
    # Even the right answer no longer opens it.
    assert reps.confirm_last_four(engine, claim, "5678") == (reps.Answer.LOCKED, 0)
    with pytest.raises(reps.LinkLocked):
        reps.open_link(engine, token)
    assert not reps.link_holds(engine, pid, claim.version)
    locked = reps.links(engine, Scope(), locked_only=True)
    assert locked["person_id"].tolist() == [pid]
    # Re-issuing unlocks with a new link; the old one stays dead.
    fresh = link(engine, pid)
    assert reps.confirm_last_four(engine, reps.open_link(engine, fresh), "5678")[0] is reps.Answer.RIGHT
    with pytest.raises(tokens.TokenRefused):
        reps.open_link(engine, token)


def test_no_phone_on_record_never_opens(engine):
    pid = add(engine, phone=None)
    claim = reps.open_link(engine, link(engine, pid))
    assert reps.confirm_last_four(engine, claim, "")[0] is reps.Answer.NO_PHONE
    assert reps.confirm_last_four(engine, claim, "0000")[0] is reps.Answer.NO_PHONE


def test_links_only_for_persons_in_scope_and_the_sheet(engine):
    west, up = add(engine, "西"), add(engine, "上", district=UPTOWN)
    issued = reps.issue_links(engine, [west, up], actor="w", scope=Scope(districts=(WEST,)))
    assert [i.person_id for i in issued] == [west]
    assert issued[0].masked_phone == "138****5678"
    with pytest.raises(ch.WriteRefused):
        reps.revoke_link(engine, up, actor="w", scope=Scope(districts=(WEST,)))
    with pytest.raises(ch.WriteRefused):
        reps.issue_links(engine, [west], actor="w", days=0)
    data = reps.link_sheet(issued, "https://brain.example")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = load_workbook(io.BytesIO(zf.read("links.xlsx"))).active
        row = [c.value for c in sheet[2]]
        assert row[0] == "西" and row[1] == "138****5678"
        assert row[2] == "https://brain.example/m/" + issued[0].token
        assert Image.open(io.BytesIO(zf.read(row[4]))).format == "PNG"
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.action).where(audit_log.c.action == "reps.link_issue")).first()


# ---------------------------------------------------------------- corrections

def test_a_correction_goes_pending_then_through_the_write_path_field_by_field(engine):
    pid = add(engine, organization="旧单位", position="工程师")
    assert reps.propose_changes(engine, pid, {"organization": "旧单位", "position": "工程师"}) is None
    # Cleaned as an import cleans a cell: the space between Chinese characters goes too.
    rid = reps.propose_changes(engine, pid, {"organization": " 新  单位 ", "position": "总工", "title": "高工",
                                             "name": "改名"})
    pending = reps.pending_fields(engine, Scope())
    assert sorted(pending["field"]) == ["organization", "position", "title"]  # the name is never proposed
    assert set(pending["request_id"]) == {rid}
    org = pending.set_index("field").loc["organization"]
    assert org["old_value"] == "旧单位" and org["new_value"] == "新单位" and org["current_value"] == "旧单位"
    ids = pending.set_index("field")["field_id"]
    with pytest.raises(ch.WriteRefused):
        reps.decide_fields(engine, [reps.Decision(int(ids["position"]), False)], actor="s")
    counts = reps.decide_fields(engine, [reps.Decision(int(ids["organization"]), True),
                                         reps.Decision(int(ids["title"]), True, value="高级工程师"),
                                         reps.Decision(int(ids["position"]), False, reason="与单位文件不符")],
                                actor="s")
    assert counts == {"accepted": 2, "rejected": 1}
    with engine.connect() as conn:
        row = conn.execute(select(person).where(person.c.id == pid)).mappings().one()
        assert (row["organization"], row["title"], row["position"], row["updated_via"]) == \
            ("新单位", "高级工程师", "工程师", "self")
        sources = conn.execute(select(change_set.c.source)).scalars().all()
        assert sources.count("self") == 1
        assert conn.execute(select(rep_request.c.status).where(rep_request.c.id == rid)).scalar() == "done"
    mine = {r["field"]: r for r in reps.my_requests(engine, pid)}
    assert mine["position"]["status"] == "rejected" and mine["position"]["reason"] == "与单位文件不符"
    assert mine["title"]["accepted_value"] == "高级工程师"
    # Decided once only.
    with pytest.raises(ch.WriteRefused):
        reps.decide_fields(engine, [reps.Decision(int(ids["organization"]), True)], actor="s")
    history = ch.person_history(engine, pid)
    mine_rows = history[history["source"] == "self"]
    assert set(mine_rows["field"]) >= {"organization", "title"} and "position" not in set(mine_rows["field"])


def test_a_partly_decided_request_stays_pending(engine):
    pid = add(engine)
    rid = reps.propose_changes(engine, pid, {"organization": "甲", "position": "乙"})
    first = int(reps.pending_fields(engine, Scope())["field_id"].iloc[0])
    reps.decide_fields(engine, [reps.Decision(first, True)], actor="s")
    with engine.connect() as conn:
        assert conn.execute(select(rep_request.c.status).where(rep_request.c.id == rid)).scalar() == "pending"
        assert conn.execute(select(rep_request_field.c.status).where(rep_request_field.c.id == first)).scalar() == \
            "accepted"


def test_review_is_scoped(engine):
    up = add(engine, "上", district=UPTOWN)
    reps.propose_changes(engine, up, {"organization": "X"})
    west = Scope(districts=(WEST,))
    assert reps.pending_fields(engine, west).empty
    fid = int(reps.pending_fields(engine, Scope())["field_id"].iloc[0])
    with pytest.raises(ch.WriteRefused):
        reps.decide_fields(engine, [reps.Decision(fid, True)], actor="w", scope=west)


def test_bad_proposals_are_refused_in_words(engine):
    pid = add(engine)
    with pytest.raises(ch.WriteRefused, match="phone"):
        reps.propose_changes(engine, pid, {"phone": "<script>"})
    with pytest.raises(ch.WriteRefused, match="too long"):
        reps.propose_changes(engine, pid, {"title": "x" * 65})


def test_confirmation_counts_for_liveness(engine):
    a, b = add(engine, "甲"), add(engine, "乙")
    reps.confirm_correct(engine, a)
    reps.propose_changes(engine, b, {"organization": "新"})
    reps.submit_suggestion(engine, a, "suggestion", "题", "文", "交通")
    sid = reps.submit_suggestion(engine, b, "opinion", "题", "文", None)
    reps.handle_suggestion(engine, sid, actor="s", status="adopted", reply="采纳")
    live = reps.liveness(engine, Scope())
    assert (live.persons, live.responded_12m, live.open_requests, live.oldest_open_days) == (2, 2, 1, 0)
    assert (live.suggestions_this_year, live.adopted_this_year) == (2, 1)
    assert reps.last_confirmed(engine, a) is not None and reps.last_confirmed(engine, b) is None
    assert reps.liveness(engine, Scope(districts=(UPTOWN,))).persons == 0


def test_liveness_matches_brute_force(engine):
    """Every figure against the same rules spelled out over the rows: followed persons only in the
    share, requests and suggestions of anyone in scope, ages in whole days, the median of an even
    queue the mean of its middle two."""
    import random
    import statistics

    from sqlalchemy import insert, update

    from store.schema import rep_suggestion

    rng = random.Random(19)
    today = clock.today()
    now = dt.datetime.combine(today, dt.time(15))
    ids = [add(engine, f"人{i}", WEST if i % 3 else UPTOWN, f"1380000{i:04d}") for i in range(24)]
    status = {pid: rng.choice(["followed", "followed", None, "left"]) for pid in ids}
    requests, suggestions = [], []
    for pid in ids:
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice(["confirm", "change"])
            requests.append(dict(person_id=pid, kind=kind, submitted_at=now - dt.timedelta(days=rng.randint(0, 500),
                                                                                         hours=rng.randint(0, 20)),
                                 status="pending" if kind == "change" and rng.random() < 0.6 else "done"))
        for _ in range(rng.randint(0, 2)):
            suggestions.append(dict(person_id=pid, kind="suggestion", title="题", body="文",
                                    status=rng.choice(["received", "adopted", "declined"]),
                                    submitted_at=now - dt.timedelta(days=rng.randint(0, 600)), updated_at=now))
    with engine.begin() as conn:
        for pid, st in status.items():
            conn.execute(update(person).where(person.c.id == pid).values(status=st))
        conn.execute(insert(rep_request), requests)
        conn.execute(insert(rep_suggestion), suggestions)
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time())
    queues = []
    for scope, district in ((Scope(), None), (Scope(districts=(WEST,)), WEST), (Scope(districts=(UPTOWN,)), UPTOWN)):
        inside = {pid for i, pid in enumerate(ids) if district is None or (WEST if i % 3 else UPTOWN) == district}
        followed = {pid for pid in inside if status[pid] in ("followed", None)}
        ages = sorted((today - r["submitted_at"].date()).days for r in requests
                      if r["person_id"] in inside and r["status"] == "pending")
        year = [s for s in suggestions if s["person_id"] in inside and s["submitted_at"].year == today.year]
        expected = reps.Liveness(
            len(followed), len({r["person_id"] for r in requests if r["person_id"] in followed
                                and r["submitted_at"] >= since}),
            len(ages), max(ages) if ages else None, statistics.median(ages) if ages else None,
            len(year), sum(s["status"] == "adopted" for s in year))
        assert reps.liveness(engine, scope, today) == expected, scope
        queues.append(len(ages))
    assert {q % 2 for q in queues if q > 1} == {0, 1}, queues  # medians of odd and even queues


# ---------------------------------------------------------------- suggestions

def test_a_suggestion_moves_received_reviewing_outcome(engine):
    pid = add(engine)
    sid = reps.submit_suggestion(engine, pid, "suggestion", "关于停车", "建议增加车位", "交通")
    assert reps.my_suggestions(engine, pid)[0]["status"] == "received"
    reps.handle_suggestion(engine, sid, actor="s", status="reviewing", assignee="李四")
    assert reps.suggestions(engine, Scope()).iloc[0]["assignee"] == "李四"
    with pytest.raises(ch.WriteRefused, match="reply"):
        reps.handle_suggestion(engine, sid, actor="s", status="forwarded")
    reps.handle_suggestion(engine, sid, actor="s", status="forwarded", reply="已转交交通局")
    mine = reps.my_suggestions(engine, pid)[0]
    assert (mine["status"], mine["reply"]) == ("forwarded", "已转交交通局")
    with pytest.raises(ch.WriteRefused):
        reps.handle_suggestion(engine, sid, actor="s", status="received")
    with pytest.raises(ch.WriteRefused):
        reps.handle_suggestion(engine, sid, actor="s", status="adopted")
    counts = reps.suggestion_counts(engine, Scope(), "status")
    assert dict(zip(counts["status"], counts["n"])) == {"forwarded": 1}
    for by, key in (("category_code", "non_party"), ("kind", "suggestion"), ("topic", "交通")):
        counts = reps.suggestion_counts(engine, Scope(), by)
        assert dict(zip(counts[by], counts["n"])) == {key: 1}
    with pytest.raises(ch.WriteRefused):
        reps.handle_suggestion(engine, sid, actor="s", scope=Scope(districts=(UPTOWN,)), reply="x")


def test_suggestion_input_is_checked(engine):
    pid = add(engine)
    with pytest.raises(ch.WriteRefused, match="title"):
        reps.submit_suggestion(engine, pid, "suggestion", " ", "文", None)
    with pytest.raises(ch.WriteRefused):
        reps.submit_suggestion(engine, pid, "other", "题", "文", None)


# ---------------------------------------------------------------- records

def _jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (3000, 1000), "red")
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    exif[0x8825] = {1: "N"}  # GPS
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_record_with_a_photo_is_stripped_and_pending_until_accepted(engine):
    pid = add(engine)
    raw = _jpeg_with_exif()
    assert b"SecretCamera" in raw
    rid = reps.add_record(engine, pid, "honour", "2026-11-01", "优秀代表", raw)
    data, kind = reps.record_photo(engine, rid, person_id=pid)
    assert kind == "image/jpeg" and b"SecretCamera" not in data
    assert max(Image.open(io.BytesIO(data)).size) == reps.PHOTO_MAX_SIDE
    assert reps.record_photo(engine, rid, person_id=pid + 1) is None
    assert reps.record_photo(engine, rid, scope=Scope(districts=(UPTOWN,))) is None
    assert reps.records(engine, Scope())["id"].tolist() == [rid]
    with pytest.raises(ch.WriteRefused):
        reps.decide_record(engine, rid, False, actor="s")
    reps.decide_record(engine, rid, True, actor="s")
    assert reps.my_records(engine, pid)[0]["status"] == "accepted"
    assert reps.records(engine, Scope()).empty
    with pytest.raises(ch.WriteRefused):
        reps.decide_record(engine, rid, False, actor="s", reason="重复")
    other = reps.add_record(engine, pid, "welfare", dt.date(2026, 10, 1), "献血")
    reps.decide_record(engine, other, False, actor="s", reason="请补充证明")
    mine = {r["id"]: r for r in reps.my_records(engine, pid)}
    assert (mine[other]["status"], mine[other]["reason"], mine[other]["has_photo"]) == ("rejected", "请补充证明", False)


@pytest.mark.calendar
def test_non_images_and_bad_dates_are_refused(engine):
    pid = add(engine)
    past, tomorrow = clock.today() - dt.timedelta(days=30), clock.today() + dt.timedelta(days=1)
    with pytest.raises(ch.WriteRefused, match="JPEG"):
        reps.add_record(engine, pid, "honour", past.isoformat(), "x", b"<svg onload=alert(1)></svg>")
    with pytest.raises(ch.WriteRefused):
        reps.add_record(engine, pid, "honour", tomorrow.isoformat(), "x")  # a record of a day still to come
    with pytest.raises(ch.WriteRefused):
        reps.add_record(engine, pid, "honour", "soon", "x")
    with pytest.raises(ch.WriteRefused, match="large"):
        reps.clean_photo(b"\xff" * (reps.PHOTO_MAX_BYTES + 1))


def test_a_proposal_is_cleaned_as_an_import_cleans_it(engine):
    """Bidi and zero-width characters (a name or unit that reads reversed, or looks the same and is not)
    are dropped from what a representative proposes, as the importer drops them (issue 19, item 9)."""
    pid = add(engine)
    reps.propose_changes(engine, pid, {"organization": "\u202e司公\u200b科技\u2066", "title": "\u200d教授\u00a0 ",
                                       "phone": "１３９\u200b１１１１２２２２"})
    got = dict(zip(reps.pending_fields(engine, Scope())["field"], reps.pending_fields(engine, Scope())["new_value"]))
    assert got == {"organization": "司公科技", "title": "教授", "phone": "13911112222"}
