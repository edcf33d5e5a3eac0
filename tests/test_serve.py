"""The launcher's fixes to the server Streamlit makes (ui/serve.py)."""

from __future__ import annotations

import socket

from streamlit.web.server.starlette import starlette_server

from ui.serve import answer_at_once


def test_accepted_connections_send_at_once(monkeypatch):
    """Nagle's algorithm is off on every connection the server accepts: with it on, a kept-alive
    connection waited for the client's delayed ACK before each response (about 40 ms)."""
    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)
    listener = starlette_server._bind_socket("127.0.0.1", 0, 8)
    try:
        # As Streamlit binds it, nothing turns Nagle off: the fix is needed.
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        listener.close()
    answer_at_once()
    answer_at_once()  # once is enough: a second call does not wrap it again
    assert starlette_server._bind_socket.sets_nodelay
    listener = starlette_server._bind_socket("127.0.0.1", 0, 8)
    listener.setblocking(True)
    try:
        with socket.create_connection(listener.getsockname()[:2]):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()
