"""The floor under `me`: a bare Starlette route doing the same database work.

POST /graphql with a Bearer token: the session looked up by the token's
SHA-256 with its user (the service's own query), the idle time touched when
the service would (the same conditional UPDATE, at most every TOUCH_EVERY),
and the user's auth ID and name answered as
JSON. No GraphQL, no middleware, no audit: what is left of a request when the
framework costs nothing. bench/harness.py serves it with uvicorn (uvloop and
httptools, one process) on the service's database and compares `me` with it.

    .venv/bin/python bench/bare_me.py --port 8001 --database-url sqlite:///…
"""

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.database import connected
from models import UserSession
from resolvers.session import TOUCH_EVERY
from security.tokens import token_hash

DENIED = {"data": {"me": {"__typename": "NotAuthenticatedError"}}}


async def me(request: Request) -> JSONResponse:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    session = await UserSession.with_user(token_hash(token))
    if session is None or session.revoked_at is not None:
        return JSONResponse(DENIED)
    now = datetime.now(UTC)
    if now - session.last_seen_at >= TOUCH_EVERY and not await UserSession.touch(
        session.id, now=now
    ):
        return JSONResponse(DENIED)
    user = session.user
    return JSONResponse(
        {
            "data": {
                "me": {"__typename": "User", "authId": user.auth_id, "name": user.name}
            }
        }
    )


def app(database_url: str) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with connected(database_url):
            yield

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/graphql", me, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    uvicorn.run(
        app(args.database_url),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
