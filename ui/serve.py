"""`python -m ui.serve [streamlit options]`: run the app the safe way.

It serves server.py: app.py through Streamlit's ASGI app, with the routes that
set and clear the HttpOnly session cookie and answer one-time downloads
(ui/web.py) on the same port.

Streamlit still treats a `pages/` folder beside the entry script as an old-style
multipage app until the first `st.navigation` call of the process. Without this
launcher, the very first visitor after a restart who opens a page URL directly
would get that page run on its own, outside app.py's sign-in gate. Every page
also guards itself (ui.auth.guard_page); this closes the gap at the source.

It also turns Nagle's algorithm off on the server's connections (answer_at_once) and tells
Uvicorn which proxies to believe (trust_proxies).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server.py"


def trust_proxies() -> None:
    """Uvicorn believes X-Forwarded-For and X-Forwarded-Proto from loopback unless told otherwise:
    it is told the `trusted_proxies` setting instead (empty: nobody), the list ui/addresses.py reads."""
    from store.settings import get_setting
    from ui.addresses import parse_proxies

    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(str(n) for n in parse_proxies(get_setting("trusted_proxies")))


def answer_at_once() -> None:
    """Streamlit binds its listening socket itself, without naming the protocol, so asyncio does
    not turn Nagle's algorithm off on the connections it accepts: on a kept-alive connection every
    response then waited for the client's delayed ACK, some 40 ms a request. TCP_NODELAY set on the
    listening socket is inherited by those connections (Linux)."""
    import socket

    from streamlit.web.server.starlette import starlette_server

    bind = starlette_server._bind_socket
    if getattr(bind, "sets_nodelay", False):
        return

    def bind_without_delay(*args, **kwargs) -> socket.socket:
        sock = bind(*args, **kwargs)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not a TCP socket: nothing to turn off
            pass
        return sock

    bind_without_delay.sets_nodelay = True
    starlette_server._bind_socket = bind_without_delay


def main() -> int:
    PagesManager.uses_pages_directory = False
    answer_at_once()
    try:
        trust_proxies()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    port = _option("--server.port") or "8501"
    print(f"统战大脑 · United-Front Brain: http://localhost:{port}", flush=True)
    sys.argv = ["streamlit", "run", str(SERVER), *sys.argv[1:]]
    return cli.main()


def _option(name: str) -> str | None:
    """A `--name value` or `--name=value` command-line option, else the config file's value."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    try:
        import tomllib

        with open(ROOT / ".streamlit" / "config.toml", "rb") as fh:
            return str(tomllib.load(fh).get("server", {}).get("port", "")) or None
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
