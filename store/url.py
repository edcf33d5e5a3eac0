"""Where the database is: one resolution order for the app, the CLI and the tests.

`--db URL` flag > `DATABASE_URL` env > `.streamlit/secrets.toml [connections.sql] url`
> the embedded SQLite file `data/brain.db`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "brain.db"
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"


def default_sqlite_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def url_from_secrets(secrets_path: Path = SECRETS_PATH) -> str | None:
    """The `[connections.sql] url` of a secrets file, or None when absent or unreadable."""
    try:
        with open(secrets_path, "rb") as fh:
            secrets = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    url = secrets.get("connections", {}).get("sql", {}).get("url")
    return url or None


def resolve_database_url(
    cli_url: str | None = None,
    env: Mapping[str, str] | None = None,
    secrets_path: Path = SECRETS_PATH,
) -> str:
    """The database URL by the documented precedence."""
    env = os.environ if env is None else env
    for candidate in (cli_url, env.get("DATABASE_URL"), url_from_secrets(secrets_path)):
        if candidate:
            return normalise_url(candidate)
    return default_sqlite_url()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def describe_url(url: str) -> str:
    """A short, password-free description of the store for the sidebar footer."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite · {Path(parsed.database or ':memory:').name}"
    return f"PostgreSQL · {parsed.host or 'localhost'}/{parsed.database}"
