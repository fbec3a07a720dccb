"""ASGI middleware: security headers and a request-body cap (the access log
is app.observe's)."""

import json

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def _json_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = {
    # Answers carry session tokens and personal data: no cache keeps them.
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    # Mailed links carry their token in the query string.
    "referrer-policy": "no-referrer",
    # No page of this service may be framed (clickjacking).
    "content-security-policy": "frame-ancestors 'none'",
}
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeaders:
    """The headers every answer carries (a page that needs a policy of its own
    sets its Content-Security-Policy itself), and Strict-Transport-Security
    when the service is reached over https (RAS_PUBLIC_URL)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS | (
            {"strict-transport-security": HSTS} if hsts else {}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 before the app sees them.

    The body is read here (at most ``max_bytes``) and handed on in one piece, so
    neither a declared nor a chunked oversize body costs more than the cap.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"request body over {self.max_bytes} bytes"
        for name, value in scope["headers"]:
            if name != b"content-length":
                continue
            if not value.isdigit():
                await _json_error(send, 400, "invalid Content-Length")
                return
            if int(value) > self.max_bytes:
                await _json_error(send, 413, too_large)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _json_error(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks)}
        handed_on = False

        async def replay() -> Message:
            nonlocal handed_on
            if handed_on:
                return await receive()
            handed_on = True
            return whole

        await self.app(scope, replay, send)
