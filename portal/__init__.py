"""The applicants' portal: the manual's screens in the browser, served from the
service's own origin and talking to it over the public GraphQL API only
(`/graphql` in cookie mode, app.view), in Japanese and English.

One page (static/index.html) with a small script (static/app.js, no framework,
nothing from a CDN): every screen path below answers the same page, which
shows the screen of its path. Mails link to /password/setup, /password/reset
and /email/revert on RAS_PUBLIC_URL.
"""

import html
import re
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.sink import stored_mails

STATIC = Path(__file__).with_name("static")

# Every screen of the portal (the script decides which one a path shows).
SCREENS = (
    "/",
    "/login",
    "/menu",
    "/register",
    "/password/setup",
    "/password/forgot",
    "/password/reset",
    "/password/change",
    "/email/revert",
    "/user",
    "/two-step",
    "/activity",
)

# The page runs only its own script and style, sends requests only to this
# origin, and may not be framed.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


async def page(request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"content-security-policy": PAGE_POLICY},
    )


def _asset(name: str, media_type: str) -> Route:
    async def serve(request: Request) -> Response:
        return FileResponse(STATIC / name, media_type=media_type)

    return Route(f"/portal/{name}", serve, methods=["GET"])


def routes() -> list[BaseRoute]:
    """The portal's routes: its screens and its assets."""
    screens: list[BaseRoute] = [Route(path, page, methods=["GET"]) for path in SCREENS]
    return [*screens, *(_asset(name, kind) for name, kind in ASSETS.items())]


# --- development: the embedded sink's mail, in the browser -------------------

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
MAIL_PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_URL = re.compile(r"https?://[^\s<>\"']+")
SHOWN_MAILS = 20


def _linked(text: str) -> str:
    """``text`` escaped for HTML, with its web addresses as links."""
    parts: list[str] = []
    position = 0
    for found in _URL.finditer(text):
        parts.append(html.escape(text[position : found.start()]))
        url = html.escape(found.group(0))
        parts.append(f'<a href="{url}">{url}</a>')
        position = found.end()
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def mail_page(mail_dir: Path) -> Route:
    """/dev/mail: the newest messages of the development sink (RAS_MAIL_DIR),
    so that a newcomer who registers in the portal can open the mailed link
    without another tool. Only in development with the embedded sink (app.main
    adds the route then), and only to clients on this machine: the messages
    hold one-time links."""

    async def serve(request: Request) -> Response:
        proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
        # The Host a browser sent must name this machine too: a page of any
        # site could otherwise point its own name at 127.0.0.1 (DNS
        # rebinding) and read this page as its own.
        host = request.url.hostname or ""
        if (
            proxied
            or host.strip("[]") not in LOOPBACK
            or request.client is None
            or request.client.host not in LOOPBACK
        ):
            # A proxy on this machine would make every client look local.
            raise HTTPException(404)  # as for any unknown path
        articles = [
            "<article class='notice'>"
            f"<h2>{html.escape(mail.subject)}</h2>"
            f"<p>To: {html.escape(mail.to)}<br>{html.escape(mail.date)}</p>"
            f"<pre>{_linked(mail.text())}</pre></article>"
            for mail in stored_mails(mail_dir, limit=SHOWN_MAILS)
        ]
        body = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Development mail | ras-identity</title>"
            "<link rel='icon' href='data:,'>"
            "<link rel='stylesheet' href='/portal/app.css'></head><body><main>"
            "<h1>Development mail (the embedded sink)</h1>"
            f"<p>The newest {SHOWN_MAILS} messages of {html.escape(str(mail_dir))}, "
            "newest first. Only in development, only on this machine.</p>"
            + ("".join(articles) or "<p>No mail yet.</p>")
            + "</main></body></html>"
        )
        return HTMLResponse(body, headers={"content-security-policy": MAIL_PAGE_POLICY})

    return Route("/dev/mail", serve, methods=["GET"])
