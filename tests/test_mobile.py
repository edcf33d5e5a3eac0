"""The representatives' front end over HTTP (Starlette's test client): the personal link and its
last-four check, the session, CSRF, every form, escaping, and page weight; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import changes as ch
from store import reps
from store.scope import Scope
from ui import mobile

PAGE_LIMIT = 60 * 1024
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> **bold** {{ 7*7 }} [x](javascript:alert(3))'


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(mobile, "LIMITS", {name: mobile.RateLimit(limit.limit, limit.window)
                                           for name, limit in mobile.LIMITS.items()})


def add(engine, name="张三", phone="13812345678", **extra) -> int:
    with ch.change_set_of(engine, "staff", "setup") as cs:
        return cs.add_person(dict(name=name, gender="M", category_code="non_party", district_code="330106",
                                  phone=phone, stage="discover", organization="旧单位", **extra))


@pytest.fixture
def client(engine):
    app = Starlette(routes=mobile.routes("", lambda: engine))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, engine, pid) -> str:
    token = reps.issue_links(engine, [pid], actor="s")[0].token
    page = client.get(f"/m/{token}")
    assert page.status_code == 200 and "张三" not in page.text
    answer = client.post(f"/m/{token}", data={"csrf": csrf(page.text), "digits": "5678"})
    assert answer.status_code == 303 and answer.headers["location"] == "/m/home"
    return token


def test_the_link_confirms_then_shows_only_its_person(client, engine):
    a = add(engine)
    b = add(engine, "李四", phone="13900001111", id_number="110101199001011234")
    sign_in(client, engine, a)
    cookie = client.cookies.get(mobile.SESSION_COOKIE)
    assert cookie and "张三" not in cookie
    home = client.get("/m/home")
    assert home.status_code == 200 and "张三" in home.text and "李四" not in home.text
    assert "110101" not in home.text
    header = home.headers["set-cookie"]
    assert "httponly" in header.lower() and "samesite=lax" in header.lower() and "Path=/m/" in header
    assert home.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in home.headers["content-security-policy"]
    # Another person's link with this session: asked to confirm again, never shown.
    token_b = reps.issue_links(engine, [b], actor="s")[0].token
    assert "李四" not in client.get(f"/m/{token_b}").text


def test_no_session_no_data(client, engine):
    add(engine)
    for path in ("/m/home", "/m/edit", "/m/suggest", "/m/records", "/m/photo/1"):
        page = client.get(path)
        assert page.status_code == 401 and "张三" not in page.text
    client.cookies.set(mobile.SESSION_COOKIE, "1.1.0123456789abcdef.9999999999.AAAAAAAAAAAAAAAA")
    assert client.get("/m/home").status_code == 401


@pytest.mark.parametrize("token", ["nonsense", "profile.1.1.zz.AAAAAAAAAAAAAAAA", "a" * 200])
def test_bad_links_are_refused_in_words(client, engine, token):
    page = client.get(f"/m/{token}")
    assert page.status_code == 403 and "链接" in page.text and "Traceback" not in page.text


def test_wrong_digits_lock_the_link(client, engine):
    pid = add(engine)
    token = reps.issue_links(engine, [pid], actor="s")[0].token
    form = csrf(client.get(f"/m/{token}").text)
    for _ in range(reps.MAX_TRIES - 1):
        assert client.post(f"/m/{token}", data={"csrf": form, "digits": "0000"}).status_code == 400
    locked = client.post(f"/m/{token}", data={"csrf": form, "digits": "0000"})
    assert locked.status_code == 403 and "锁定" in locked.text
    assert client.get(f"/m/{token}").status_code == 403
    assert client.post(f"/m/{token}", data={"csrf": form, "digits": "5678"}).status_code == 403


def test_answers_are_rate_limited_per_link_and_address(client, engine, monkeypatch):
    monkeypatch.setitem(mobile.LIMITS, "link_answers", mobile.RateLimit(2, 600))
    pid = add(engine)
    token = reps.issue_links(engine, [pid], actor="s")[0].token
    form = csrf(client.get(f"/m/{token}").text)
    statuses = [client.post(f"/m/{token}", data={"csrf": form, "digits": "0000"}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    monkeypatch.setitem(mobile.LIMITS, "address", mobile.RateLimit(1, 60))
    client.get(f"/m/{token}")
    assert client.get(f"/m/{token}").status_code == 429


def test_revoking_ends_an_open_session(client, engine):
    pid = add(engine)
    sign_in(client, engine, pid)
    assert client.get("/m/home").status_code == 200
    reps.revoke_link(engine, pid, actor="s")
    assert client.get("/m/home").status_code == 401


def test_the_session_expires(client, engine, monkeypatch):
    pid = add(engine)
    sign_in(client, engine, pid)
    later = mobile.now_seconds() + mobile.SESSION_SECONDS + 5
    monkeypatch.setattr(mobile, "now_seconds", lambda: later)
    assert client.get("/m/home").status_code == 401


def test_forms_need_their_csrf_value(client, engine):
    pid = add(engine)
    sign_in(client, engine, pid)
    assert client.post("/m/confirm", data={"csrf": "x"}).status_code == 403
    good = csrf(client.get("/m/home").text)
    assert client.post("/m/confirm", data={"csrf": good}, headers={"origin": "https://evil.example"}).status_code == 403
    assert client.post("/m/confirm", data={"csrf": good}).status_code == 303
    assert reps.last_confirmed(engine, pid) is not None


def test_correction_suggestion_record_from_the_phone(client, engine):
    pid = add(engine)
    sign_in(client, engine, pid)
    form = csrf(client.get("/m/edit").text)
    sent = client.post("/m/edit", data={"csrf": form, "organization": "新单位", "position": "",
                                        "title": "", "education": "", "phone": "13812345678"})
    assert sent.status_code == 303 and sent.headers["location"] == "/m/edit?done=sent"
    pending = reps.pending_fields(engine, Scope())
    assert pending["field"].tolist() == ["organization"]
    bad = client.post("/m/edit", data={"csrf": form, "phone": "abc"})
    assert bad.status_code == 400 and "phone" in bad.text
    reps.decide_fields(engine, [reps.Decision(int(pending["field_id"].iloc[0]), False, reason="请附证明")], actor="s")
    assert "请附证明" in client.get("/m/edit").text

    form = csrf(client.get("/m/suggest").text)
    assert client.post("/m/suggest", data={"csrf": form, "kind": "suggestion", "title": "停车难", "topic": "交通",
                                           "body": "建议"}).status_code == 303
    sid = int(reps.suggestions(engine, Scope())["id"].iloc[0])
    reps.handle_suggestion(engine, sid, actor="s", status="adopted", reply="已纳入计划")
    page = client.get("/m/suggest").text
    assert "已纳入计划" in page and "已采纳" in page
    assert "建议" in client.get(f"/m/suggest/{sid}").text
    other = add(engine, "李四", phone="13900001111")
    theirs = reps.submit_suggestion(engine, other, "suggestion", "李四的建议", "内容", None)
    assert client.get(f"/m/suggest/{theirs}").status_code == 404

    img = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(img, "PNG")
    form = csrf(client.get("/m/records").text)
    sent = client.post("/m/records", data={"csrf": form, "kind": "honour", "day": "2026-11-30", "body": "先进个人"},
                       files={"photo": ("a.png", img.getvalue(), "image/png")})
    assert sent.status_code == 303
    rid = int(reps.records(engine, Scope())["id"].iloc[0])
    photo = client.get(f"/m/photo/{rid}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    refused = client.post("/m/records", data={"csrf": form, "kind": "honour", "day": "2026-11-30", "body": "x"},
                          files={"photo": ("a.svg", b"<svg/>", "image/svg+xml")})
    assert refused.status_code == 400 and "JPEG" in refused.text


def test_a_photo_of_someone_else_is_not_found(client, engine):
    other = add(engine, "李四", phone="13900001111")
    rid = reps.add_record(engine, other, "honour", "2026-11-01", "x", _png())
    sign_in(client, engine, add(engine))
    assert client.get(f"/m/photo/{rid}").status_code == 404


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


def test_submissions_come_back_inert(client, engine):
    pid = add(engine)
    sign_in(client, engine, pid)
    form = csrf(client.get("/m/suggest").text)
    client.post("/m/suggest", data={"csrf": form, "kind": "opinion", "title": HOSTILE[:200], "body": HOSTILE,
                                    "topic": "<b>t</b>"})
    page = client.get("/m/suggest").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>t</b>" not in page
    assert "&lt;script&gt;" in page and "{{ 7*7 }}" in page and "49" not in page


def test_english_on_request_and_kept(client, engine):
    pid = add(engine)
    sign_in(client, engine, pid)
    assert "My data is correct" in client.get("/m/home?lang=en").text
    assert "My data is correct" in client.get("/m/home").text
    assert "我的信息无误" in client.get("/m/home?lang=zh").text


def test_every_page_is_light(client, engine):
    """Page weight: every /m/ page, CSS included (there is nothing else to load), under 60 KB."""
    pid = add(engine)
    token = reps.issue_links(engine, [pid], actor="s")[0].token
    sizes = {"confirm": len(client.get(f"/m/{token}").content)}
    sign_in(client, engine, pid)
    # The longest texts the store takes, more items than a page lists.
    for n in range(30):
        sid = reps.submit_suggestion(engine, pid, "suggestion", "题" * 200, "文" * 5000, "主" * 64)
        reps.handle_suggestion(engine, sid, actor="s", status="declined", reply="复" * 5000)
        rid = reps.add_record(engine, pid, "honour", "2026-11-01", "记" * 5000)
        reps.decide_record(engine, rid, False, actor="s", reason="因" * 500)
        reps.propose_changes(engine, pid, {"organization": f"{n}" + "单" * 190, "position": f"{n}" + "职" * 190})
    fields = reps.pending_fields(engine, Scope())["field_id"]
    reps.decide_fields(engine, [reps.Decision(int(f), False, reason="因" * 500) for f in fields], actor="s")
    from store import surveys as sv

    # The largest survey the store takes: every question a multiple choice, the text budget spent.
    per = sv.TEXT_BUDGET // sv.MAX_QUESTIONS
    option = (per - 10) // sv.MAX_OPTIONS
    big = [sv.Question("multiple", f"{n:02d}" + "问" * 8, tuple(f"{k}" + "选" * (option - 1) for k in range(sv.MAX_OPTIONS)))
           for n in range(sv.MAX_QUESTIONS)]
    sid = sv.create_survey(engine, "题" * 200, big, intro="介" * sv.INTRO_LENGTH, actor="s")
    sv.send_survey(engine, sid, [pid], actor="s")
    page = client.get(f"/m/survey/{sid}")
    assert page.status_code == 200
    sizes["survey"] = len(page.content)
    longest = reps.suggestions(engine, Scope())["id"].iloc[0]
    page = client.get(f"/m/suggest/{longest}")
    assert page.status_code == 200 and "复" * 5000 in page.text
    sizes["suggestion"] = len(page.content)
    weigh(client, sizes, {name: f"/m/{name}" for name in ("home", "edit", "suggest", "records")})


def weigh(client, sizes: dict, paths: dict[str, str]) -> None:
    """Open each page (it answers, loads nothing from elsewhere), add its bytes to `sizes`; all under the limit."""
    for name, path in paths.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert not re.search(r'(src|href)="(https?:)?//', page.text)
        sizes[name] = len(page.content)
    print("page bytes:", sizes)
    assert max(sizes.values()) <= PAGE_LIMIT, sizes


def test_a_survey_answered_from_the_phone(client, engine):
    from store import surveys as sv

    pid = add(engine)
    other = add(engine, "李四", phone="13900001111")
    sid = sv.create_survey(engine, "满意度 <b>调查</b>", [sv.Question("single", "满意吗", ("是", "否")),
                                                         sv.Question("multiple", "领域", ("教育", "医疗")),
                                                         sv.Question("rating", "评分"),
                                                         sv.Question("text", "意见")], actor="s")
    hidden = sv.create_survey(engine, "未发给你", [sv.Question("text", "q")], actor="s")
    sv.send_survey(engine, sid, [pid], actor="s")
    sv.send_survey(engine, hidden, [other], actor="s")
    sign_in(client, engine, pid)
    home = client.get("/m/home").text
    assert f"/m/survey/{sid}" in home and "&lt;b&gt;" in home and f"/m/survey/{hidden}" not in home
    assert client.get(f"/m/survey/{hidden}").status_code == 404
    page = client.get(f"/m/survey/{sid}")
    assert page.status_code == 200 and 'type="checkbox"' in page.text
    qs = sv.questions_of(engine, sid)
    bad = client.post(f"/m/survey/{sid}", data={"csrf": csrf(page.text), f"q{qs[2].id}": "9"})
    assert bad.status_code == 400 and "1 到 5" in bad.text
    sent = client.post(f"/m/survey/{sid}", data={"csrf": csrf(page.text), f"q{qs[0].id}": "0",
                                                 f"q{qs[1].id}": ["0", "1"], f"q{qs[2].id}": "5",
                                                 f"q{qs[3].id}": "很好"})
    assert sent.status_code == 303 and sent.headers["location"] == "/m/home?done=answered"
    assert sv.response_rate(engine, sid, Scope()) == (1, 1)
    counts = sv.choice_counts(engine, sid, Scope())
    assert counts[counts["question_id"] == qs[1].id]["n"].tolist() == [1, 1]
    assert counts[(counts["question_id"] == qs[0].id) & (counts["value"] == "是")]["n"].tolist() == [1]
    assert f"/m/survey/{sid}" not in client.get("/m/home").text
    assert "已填写" in client.get(f"/m/survey/{sid}").text


def test_under_a_base_url_path(engine):
    app = Starlette(routes=mobile.routes("brain", lambda: engine))
    pid = add(engine)
    token = reps.issue_links(engine, [pid], actor="s")[0].token
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        page = c.get(f"/brain/m/{token}")
        answer = c.post(f"/brain/m/{token}", data={"csrf": csrf(page.text), "digits": "5678"})
        assert answer.headers["location"] == "/brain/m/home"
        assert "Path=/brain/m/" in answer.headers["set-cookie"]
        home = c.get("/brain/m/home")
        assert home.status_code == 200 and 'href="/brain/m/edit"' in home.text
        assert c.get(f"/m/{token}").status_code == 404
