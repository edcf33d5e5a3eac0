"""Request bodies read up to a limit: no POST can make the server hold more than its route needs.

The ASGI server under Streamlit sets no limit on a request's body, and a body sent in
chunks declares no length, so a check of Content-Length alone lets any size through:
`await request.body()` would hold all of it in memory, and a multipart form spools its
files to disk without end. Every route that reads a body reads it through `bounded_body`,
which stops at the route's limit; `request.body()` and `request.form()` then parse the
bytes already read.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

# The door's, the poster's and the sign-in cookie's forms: a few short fields.
SMALL_FORM_BYTES = 64 * 1024
TOO_LARGE = "提交的内容过大 · what you sent is too large"


async def bounded_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is longer than `limit` bytes (or says so): nothing more is read."""
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        return None
    if declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return None
    body = b"".join(chunks)
    # Where Request.body() keeps what it read: body(), form() and stream() answer from it.
    request._body = body
    return body
