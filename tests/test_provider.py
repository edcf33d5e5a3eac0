"""The enterprise-data service client against a small local stand-in server: cache, refresh, limits, audit."""

from __future__ import annotations

import datetime as dt
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from loaders.provider import EnterpriseProvider, ProviderConfig, ProviderProblem, parse_answer, provider_config
from store import changes as ch
from store import clock
from store.api_keys import RateLimiter
from store.credit_code import InvalidCreditCode
from store.schema import audit_log, change_set, enterprise, enterprise_link, provider_cache, risk_record, shareholder

A, B, C = "91350100M000100Y43", "91110000600037341L", "91440300708461136T"
ANSWERS = {
    A: {"credit_code": A, "name": "杭州甲科技有限公司", "legal_representative": "王老板", "registered_capital": "1000万元人民币",
        "founded_on": "2015-03-01", "status": "存续", "industry": "软件业", "address": "杭州市西湖区",
        "shareholders": [{"name": "王老板", "kind": "自然人", "subscribed_amount": 600, "share": "60%"}],
        "risks": [{"kind": "失信被执行人", "case_number": "(2025)浙0106执1号", "authority": "西湖区人民法院",
                   "published_on": "2025-06-01", "performance": "全部未履行"}]},
}


class StandIn(BaseHTTPRequestHandler):
    calls: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        code = self.path.rsplit("/", 1)[-1]
        StandIn.calls.append((code, self.headers.get("Authorization")))
        if code == C:
            self.send_response(500)
            self.end_headers()
            return
        body = ANSWERS.get(code)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if body:
            self.wfile.write(json.dumps(body, ensure_ascii=False).encode())

    def log_message(self, *args):
        pass


@contextmanager
def stand_in():
    StandIn.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/enterprise/{{code}}"
    finally:
        server.shutdown()
        server.server_close()


def provider(engine, url, **kw) -> EnterpriseProvider:
    return EnterpriseProvider(engine, ProviderConfig(url=url, token="secret-token", **kw))


def rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(table)).all()


def test_a_lookup_stores_the_enterprise_through_the_write_path_and_is_cached(engine):
    with ch.change_set_of(engine, "staff", "clerk") as cs:
        boss = cs.add_person(dict(name="王老板", category_code="private_economy", organization="杭州甲科技有限公司"))
    with stand_in() as url:
        p = provider(engine, url)
        first = p.lookup(" 91350100m000100y43 ")
        assert first.outcome == "fetched" and StandIn.calls == [(A, "Bearer secret-token")]
        assert p.lookup(A).outcome == "cached" and len(StandIn.calls) == 1
        assert p.lookup(A, force=True).outcome == "fetched" and len(StandIn.calls) == 2
    [firm] = rows(engine, enterprise)
    assert (firm.name, firm.registered_capital, firm.source) == ("杭州甲科技有限公司", 1000.0, "企业信息服务")
    assert [(h.name, h.kind, h.share) for h in rows(engine, shareholder)] == [("王老板", "person", 60.0)]
    assert [(r.kind, r.case_number) for r in rows(engine, risk_record)] == [("dishonest", "(2025)浙0106执1号")]
    with engine.connect() as conn:
        assert conn.execute(select(change_set.c.source).where(change_set.c.id == first.change_set_id)).scalar() == "sync"
    assert [(link.person_id, link.method) for link in rows(engine, enterprise_link)] == [(boss, "name")]


@pytest.mark.calendar
def test_the_refresh_age_and_not_found(engine):
    with stand_in() as url:
        p = provider(engine, url, refresh_days=30)
        assert p.lookup(B).outcome == "not_found"
        assert p.lookup(B).outcome == "not_found" and len(StandIn.calls) == 1  # a miss is cached too
        p.lookup(A)
        with engine.begin() as conn:
            # A year back (a date's replace(year=…) has no 29 February to go to).
            conn.execute(update(provider_cache).values(fetched_at=clock.now() - dt.timedelta(days=365)))
        assert p.lookup(A).outcome == "fetched" and p.lookup(B).outcome == "not_found"
        assert len(StandIn.calls) == 4


def test_failures_are_messages_and_audited_without_the_token(engine):
    with stand_in() as url:
        p = provider(engine, url)
        with pytest.raises(ProviderProblem) as err:
            p.lookup(C)
        assert "HTTP 500" in err.value.message and " · " in err.value.message
        with pytest.raises(InvalidCreditCode):
            p.lookup("91350100M000100Y44")
        assert [c for c, _ in StandIn.calls] == [C]
    with pytest.raises(ProviderProblem) as down:
        provider(engine, "http://127.0.0.1:9/{code}", timeout_seconds=2).lookup(A)
    assert "无法连接" in down.value.message
    with engine.connect() as conn:
        details = [json.loads(d) for d in conn.execute(select(audit_log.c.detail)
                                                        .where(audit_log.c.action == "provider_fetch")).scalars()]
        everything = " ".join(conn.execute(select(audit_log.c.detail)).scalars())
    assert details == [{"code": C, "outcome": "error"}, {"code": A, "outcome": "error"}]
    assert "secret-token" not in everything
    assert rows(engine, provider_cache) == []


def test_rate_limited(engine):
    now = [0.0]
    with stand_in() as url:
        p = EnterpriseProvider(engine, ProviderConfig(url=url), limiter=RateLimiter(1, clock_fn=lambda: now[0]))
        p.lookup(B)
        with pytest.raises(ProviderProblem) as err:
            p.lookup(A)
        assert "频繁" in err.value.message and len(StandIn.calls) == 1
        now[0] = 60.0
        assert p.lookup(A).outcome == "fetched"


def test_configuration_from_the_secrets(tmp_path):
    path = tmp_path / "secrets.toml"
    assert provider_config(path) is None
    path.write_text('[enterprise_provider]\nurl = "https://vendor/{code}"\ntoken = "t"\nrefresh_days = 7\n')
    assert provider_config(path) == ProviderConfig(url="https://vendor/{code}", token="t", refresh_days=7)


def test_the_answer_is_read_in_one_place():
    answer = parse_answer(ANSWERS[A] | {"risks": [{"kind": "行政处罚", "obligation": "罚款"}, {"kind": "未知"}]})
    assert answer.values["capital_currency"] == "人民币" and [r["kind"] for r in answer.risks] == ["penalty"]


def test_cli_without_configuration_says_so(store_url, monkeypatch, tmp_path, capsys):
    from loaders import provider as module
    from loaders.cli import main as cli

    monkeypatch.setattr(module, "provider_config", lambda path=None: None)
    assert cli(["enterprise-fetch", A, "--db", store_url]) == 1
    assert "未配置企业信息服务" in capsys.readouterr().err
    with stand_in() as url:
        monkeypatch.setattr(module, "provider_config", lambda path=None: ProviderConfig(url=url))
        assert cli(["enterprise-fetch", A, "91350100M000100Y44", "--db", store_url]) == 1
    out = capsys.readouterr()
    assert f"{A}\tfetched" in out.out and "校验位不符" in out.err
