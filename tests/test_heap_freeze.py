"""The serving process keeps what start-up built out of the collector's full
passes (app.main.freeze_startup_heap); an app built without asking does not."""

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite's garbage must stay collectable


@pytest.mark.parametrize("freeze", [True, False])
async def test_start_up_freezes_the_heap_only_when_asked(
    tmp_path: Path, unfrozen: None, freeze: bool
) -> None:
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'db.sqlite3'}",
        mail_dir=tmp_path / "mail",
        secret_key_file=tmp_path / "secret.key",
    )
    app = create_app(settings, mail_worker=False, freeze_heap=freeze)

    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()

    assert (frozen > 100_000) is freeze
