"""Request bodies read with a ceiling, so an oversized upload is refused before it fills memory."""

from __future__ import annotations

from starlette.requests import Request


async def read_capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is (or claims to be) larger than `limit` bytes."""
    declared = request.headers.get("content-length", "")
    # isascii: "²" is a digit to isdigit, not to int.
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
