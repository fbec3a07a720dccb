"""Start and stop the ORM, and apply migrations."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from app.settings import tortoise_config


def ensure_sqlite_directory(database_url: str) -> None:
    """SQLite creates the file but not its folder (e.g. ./var/ on a clean clone)."""
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        return
    path = (parts.netloc + parts.path) if parts.netloc else parts.path
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


async def migrate(database_url: str) -> None:
    """Apply every migration not yet applied (a fresh database gets them all)."""
    ensure_sqlite_directory(database_url)
    async with TortoiseContext():
        await migrate_api(config=tortoise_config(database_url))


@asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[TortoiseContext]:
    """The ORM for the life of the app.

    The context is also the global fallback, because the ASGI server runs the
    lifespan in one task and each request in another.
    """
    ctx = TortoiseContext()
    async with ctx:
        await ctx.init(
            config=tortoise_config(database_url), _enable_global_fallback=True
        )
        yield ctx
