"""Migrations: they match the models, and they build a fresh database."""

import sqlite3
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.autodetector import MigrationAutodetector

from app.database import connected, migrate
from app.settings import tortoise_config
from models import User
from tests.support import BACKENDS, empty_postgres_database


async def test_models_have_no_changes_without_a_migration() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert ctx.apps is not None
        detector = MigrationAutodetector(ctx.apps, config["apps"])

        writers = await detector.changes()

    assert writers == [], "run `tortoise makemigrations` and commit the file"


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL not reachable")
async def test_migrate_builds_a_fresh_postgres_database() -> None:
    async with empty_postgres_database("ras_fresh") as url:
        await migrate(url)
        await migrate(url)  # a second run has nothing to do
        async with connected(url):
            assert await User.all().count() == 0


_OLD_USER = (
    "INSERT INTO users (auth_id, name, email, category, status, created_at) "
    "VALUES ({0}, 'A', {1}, 'counter_coe_electronic', 'active', "
    "'2026-01-01 00:00:00+00:00')"
)
_OLD_EMAILS = ["Taro@Example.com", "taro@example.com", "jiro@x.jp"]


async def _accounts_made_before_0004(url: str) -> None:
    async with TortoiseContext():
        await migrate_api(config=tortoise_config(url), target="models.0003_addresses")
    rows = [(f"ID{n}", email) for n, email in enumerate(_OLD_EMAILS)]
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            conn.executemany(_OLD_USER.format("?", "?"), rows)
        return
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(_OLD_USER.format("$1", "$2"), rows)
    finally:
        await conn.close()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_accounts_migration_keys_existing_addresses_and_survives_duplicates(
    tmp_path: Path, backend: str
) -> None:
    async with AsyncExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite://{tmp_path / 'old.sqlite3'}"
        else:
            url = await stack.enter_async_context(empty_postgres_database("ras_old"))
        await _accounts_made_before_0004(url)

        await migrate(url)

        async with connected(url):
            users = await User.all().order_by("id")
    assert [u.email_key for u in users] == ["taro@example.com", None, "jiro@x.jp"]
    assert {u.language.value for u in users} == {"ja"}
