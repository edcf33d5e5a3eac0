"""A licensed enterprise-data service over HTTP/JSON: look an enterprise up by credit code, store what it says.

Configured in `.streamlit/secrets.toml`:

    [enterprise_provider]
    url = "https://vendor.example/api/enterprise/{code}"   # {code}: the 统一社会信用代码
    token = "…"                                            # sent as Authorization: Bearer …
    refresh_days = 30       # answers younger than this are served from provider_cache
    rate_per_minute = 30    # calls to the service per minute from one process
    timeout_seconds = 10

An answer is kept in `provider_cache` (found or not found, with the time): within the
refresh age a lookup does not call the service. A found enterprise is written through
the write path as a change set (source `sync`): the enterprise, its shareholders and its
risk records (store.enterprises), so history, undo and caches are right. Every call to
the service is in the audit log (`provider_fetch`: code, outcome), never the token.
The service's JSON is read by `parse_answer`; a deployment whose vendor words it
differently adapts that one function.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, insert, select

from store import audit, clock
from store import enterprises as ent
from store.api_keys import RateLimiter
from store.changes import change_set_of
from store.credit_code import parse
from store.schema import RISK_KINDS, provider_cache
from store.url import SECRETS_PATH
from loaders.enterprises import RISK_WORDS, holder_kind, parse_amount, parse_share, word_kind
from loaders.normalise import normalise_date

MAX_ANSWER_BYTES = 5 << 20


class ProviderProblem(Exception):
    """The service could not answer; `message` says why, in Chinese and English."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProviderConfig:
    url: str
    token: str = ""
    refresh_days: int = 30
    rate_per_minute: int = 30
    timeout_seconds: float = 10


def provider_config(path=SECRETS_PATH) -> ProviderConfig | None:
    """The `[enterprise_provider]` section of the secrets, or None when the service is not configured."""
    try:
        with open(path, "rb") as fh:
            section = tomllib.load(fh).get("enterprise_provider")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if not section or not section.get("url"):
        return None
    return ProviderConfig(url=str(section["url"]), token=str(section.get("token", "")),
                          refresh_days=int(section.get("refresh_days", 30)),
                          rate_per_minute=int(section.get("rate_per_minute", 30)),
                          timeout_seconds=float(section.get("timeout_seconds", 10)))


@dataclass
class EnterpriseAnswer:
    values: dict
    shareholders: list[dict] = field(default_factory=list)
    risks: list[dict] = field(default_factory=list)


def parse_answer(body: dict) -> EnterpriseAnswer:
    """The service's JSON as the store's values (the one place that knows the vendor's wording)."""
    capital, currency, _w = parse_amount(body.get("registered_capital"))
    values = {
        "credit_code": body.get("credit_code"), "name": body.get("name"),
        "legal_representative": body.get("legal_representative"), "registered_capital": capital,
        "capital_currency": body.get("currency") or currency, "founded_on": normalise_date(body.get("founded_on"))[0],
        "status": body.get("status"), "industry": body.get("industry"), "address": body.get("address"),
    }
    holders = [{"name": h["name"], "kind": holder_kind(h.get("kind"), h["name"]),
                "subscribed_amount": parse_amount(h.get("subscribed_amount"))[0], "share": parse_share(h.get("share"))[0]}
               for h in body.get("shareholders") or [] if h.get("name")]
    risks = []
    for r in body.get("risks") or []:
        kind = r.get("kind") if r.get("kind") in RISK_KINDS else word_kind(r.get("kind"), RISK_WORDS)
        if kind:
            risks.append({"kind": kind, "case_number": r.get("case_number"), "authority": r.get("authority"),
                          "filed_on": normalise_date(r.get("filed_on"))[0], "obligation": r.get("obligation"),
                          "performance": r.get("performance"), "published_on": normalise_date(r.get("published_on"))[0]})
    return EnterpriseAnswer(values, holders, risks)


@dataclass(frozen=True)
class Lookup:
    code: str
    outcome: str        # cached | fetched | not_found
    enterprise_id: int | None
    change_set_id: int | None = None


class EnterpriseProvider:
    """Lookups against the service, cached in the store, rate-limited in this process, audited."""

    def __init__(self, engine: Engine, config: ProviderConfig, *, limiter: RateLimiter | None = None,
                 actor: str = "enterprise-provider"):
        self.engine = engine
        self.config = config
        self.limiter = limiter or RateLimiter(config.rate_per_minute)
        self.actor = actor

    def lookup(self, code: str, *, force: bool = False) -> Lookup:
        code = parse(code).code  # InvalidCreditCode for a bad code: no call is made for it
        cached = self._cached(code)
        if cached is not None and not force:
            return cached
        body = self._fetch(code)
        now = clock.now()
        with self.engine.begin() as conn:
            conn.execute(delete(provider_cache).where(provider_cache.c.credit_code == code))
            conn.execute(insert(provider_cache).values(credit_code=code, fetched_at=now,
                                                       status="not_found" if body is None else "found",
                                                       body=None if body is None else json.dumps(body, ensure_ascii=False)))
        if body is None:
            return Lookup(code, "not_found", None)
        eid, set_id = self._store(code, parse_answer(body))
        return Lookup(code, "fetched", eid, set_id)

    def _cached(self, code: str) -> Lookup | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(provider_cache).where(provider_cache.c.credit_code == code)).first()
        if row is None or clock.now() - row.fetched_at > dt.timedelta(days=self.config.refresh_days):
            return None
        if row.status == "not_found":
            return Lookup(code, "not_found", None)
        with self.engine.connect() as conn:
            from store.schema import enterprise

            eid = conn.execute(select(enterprise.c.id).where(enterprise.c.credit_code == code)).scalar()
        return None if eid is None else Lookup(code, "cached", eid)

    def _fetch(self, code: str) -> dict | None:
        if not self.limiter.allow(0):
            raise ProviderProblem("企业信息服务调用过于频繁，请稍后再试 · too many calls to the enterprise-data "
                                  "service: try again in a minute")
        request = urllib.request.Request(self.config.url.replace("{code}", code),
                                         headers={"Accept": "application/json",
                                                  **({"Authorization": f"Bearer {self.config.token}"}
                                                     if self.config.token else {})})
        outcome = "error"
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_seconds) as resp:
                raw = resp.read(MAX_ANSWER_BYTES + 1)
            if len(raw) > MAX_ANSWER_BYTES:
                raise ProviderProblem("企业信息服务的应答过大 · the service's answer is too large")
            body = json.loads(raw)
            if not isinstance(body, dict) or parse(body.get("credit_code")).code != code or not body.get("name"):
                raise ProviderProblem("企业信息服务的应答无法识别 · the service's answer is not understood")
            outcome = "found"
            return body
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                outcome = "not_found"
                return None
            raise ProviderProblem(f"企业信息服务出错（HTTP {exc.code}） · the service failed (HTTP {exc.code})") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ProviderProblem(f"无法连接企业信息服务：{getattr(exc, 'reason', exc)} · "
                                  f"cannot reach the enterprise-data service") from None
        except ValueError:
            raise ProviderProblem("企业信息服务的应答无法识别 · the service's answer is not understood") from None
        finally:
            audit.record_now(self.engine, self.actor, "provider_fetch", {"code": code, "outcome": outcome})

    def _store(self, code: str, answer: EnterpriseAnswer) -> tuple[int, int]:
        with change_set_of(self.engine, "sync", self.actor, f"企业信息服务 {code} · enterprise-data service") as cs:
            eid, _ = ent.save_enterprise(cs, answer.values | {"source": "企业信息服务"})
            for holder in answer.shareholders:
                ent.save_shareholder(cs, eid, holder | {"source": "企业信息服务"})
            for risk in answer.risks:
                ent.save_risk(cs, eid, risk | {"source": "企业信息服务"})
            ent.suggest_links(cs, [eid])
        return eid, cs.id
