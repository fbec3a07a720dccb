"""Migrations: they match the models, and they build a fresh database."""

import uuid

import asyncpg
import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from app.database import connected, migrate
from app.settings import tortoise_config
from models import User
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL


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
    name = f"ras_fresh_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        await migrate(url)
        await migrate(url)  # a second run has nothing to do
        async with connected(url):
            assert await User.all().count() == 0
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
