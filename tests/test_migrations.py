"""Migrations: they match the models, and they build a fresh database."""

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from app.database import connected, migrate
from app.settings import tortoise_config
from models import User
from tests.conftest import BACKENDS, empty_postgres_database


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
