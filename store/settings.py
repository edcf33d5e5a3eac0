"""Every setting in one registry, with its default and help; a test checks each is documented.

Precedence, spelled out once: environment variable `BRAIN_<NAME>` (upper case)
> `.streamlit/secrets.toml` section `[brain]` key `<name>` > the default here.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass

from store.url import SECRETS_PATH


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | float | str | bool
    help: str


SETTINGS = [
    Setting("privacy_threshold", 5, "Counts below this are withheld ('<N') on the cockpit and, for leaders, on every page."),
    Setting("cockpit_refresh_seconds", 300, "How often the cockpit refreshes itself."),
    Setting("version_check_seconds", 10, "How long a data-version check is reused before asking the store again."),
    Setting("upload_limit_mb", 50, "Largest spreadsheet the import page accepts."),
    Setting("promote_min_checkins", 3, "Check-ins in 12 months that make a 培养 person a candidate to promote."),
    Setting("session_idle_minutes", 30, "Idle minutes after which a signed-in session must sign in again."),
    Setting("login_max_failures", 5, "Failed sign-ins in a row that lock an account for 15 minutes."),
    Setting("analytic_copy", True, "Answer aggregates from a DuckDB copy of the store, rebuilt in the background after changes."),
    Setting("analytic_dir", "", "Folder of a server store's analytic copies; empty: data/analytic/ in the project."),
    Setting("analytic_idle_seconds", 900, "How long the copy's maintainer keeps watching a store in which nothing changed."),
    Setting("analytic_lag_seconds", 10.0, "How far behind the store the copy may answer (never behind a viewer's own writes); 0: only a current copy."),
    Setting("analytic_wait_seconds", 2.0, "How long a page waits, once per change, for the copy to catch up before asking the store itself."),
    Setting("require_login", True, "Whether pages need a signed-in account (turn off only for a closed demo)."),
    Setting("public_url", "", "The address representatives' personal links start with (https://brain.example.gov.cn); empty: the address the staff page is open at."),
    Setting("m_pages_per_address", 600, "Pages of the representatives' front end one network address may open a minute."),
    Setting("m_answers_per_address", 30, "Last-four answers one network address may send in 10 minutes."),
    Setting("trusted_proxies", "", "Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are believed; empty: none, the socket's peer is the client."),
    Setting("api_rate_per_minute", 120, "Requests a minute each API key may make (per server process)."),
    Setting("api_settle_seconds", 5, "The API lists changes up to this many seconds ago, so late commits are not passed over."),
    Setting("today", "", "Pins the date the app and the demo take as today (YYYY-MM-DD); empty: the calendar's."),
]
_BY_NAME = {s.name: s for s in SETTINGS}


def _secrets_section() -> dict:
    try:
        with open(SECRETS_PATH, "rb") as fh:
            return tomllib.load(fh).get("brain", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def get_setting(name: str, env: dict[str, str] | None = None):
    """The setting's value, converted to the type of its default."""
    setting = _BY_NAME[name]
    env = os.environ if env is None else env
    raw = env.get(f"BRAIN_{name.upper()}")
    if raw is None:
        raw = _secrets_section().get(name)
    if raw is None:
        return setting.default
    kind = type(setting.default)
    if kind is bool:
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    return kind(raw)
