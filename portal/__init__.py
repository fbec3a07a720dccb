"""The applicants' portal: the manual's screens in the browser, served from the
service's own origin and talking to it over the public GraphQL API only
(`/graphql` in cookie mode, app.view), in Japanese and English.

One page (static/index.html) with a small script (static/app.js, no framework,
nothing from a CDN): every screen path below answers the same page, which
shows the screen of its path. Mails link to /password/setup, /password/reset
and /email/revert on RAS_PUBLIC_URL.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

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
