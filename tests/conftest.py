"""Typed fixtures: a real database per test (SQLite file, and PostgreSQL when it is
reachable), a settable clock, a counting password hasher, a user with a known
password, an ``execute`` helper over the real schema, a real SMTP server and a
delivery worker. What tests import (documents, helpers, types) is in
``tests/support.py``."""

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app.database import connected
from app.main import create_app
from app.settings import Settings
from mailer.sink import start_sink
from mailer.smtp import SmtpTarget, SmtpTransport
from mailer.worker import DeliveryWorker
from models import Staff, StaffRole, User
from resolvers.context import Services
from resolvers.operator import create_user
from security.clock import SettableClock
from security.policy import Policy
from tests.admin_support import make_staff
from tests.support import (
    BACKENDS,
    CHEAP_ARGON2,
    FAST_DELIVERY,
    PASSWORD,
    PRODUCTION_ARGON2,
    Caller,
    CountingHasher,
    Mailbox,
    MakeWorker,
    RecordingHandler,
    SmtpServer,
    WithPolicy,
    empty_postgres_database,
    empty_user_tables,
    migrate_with_addresses,
    serve,
    snapshot_without_postal_codes,
)


@pytest.fixture(scope="session")
def hasher() -> CountingHasher:
    """argon2id at its cheapest: what the resolvers do, not what it costs."""
    return CountingHasher(**CHEAP_ARGON2)


@pytest.fixture(scope="session")
def real_hasher() -> CountingHasher:
    """argon2id with production's parameters, for the tests about them."""
    return CountingHasher(**PRODUCTION_ARGON2)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file with prefectures and municipalities; every test
    gets a copy. The postal codes would make each copy 16 MB instead of 0.5."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(
        migrate_with_addresses(f"sqlite://{path}", snapshot_without_postal_codes)
    )
    return path


@pytest.fixture(scope="session")
def sqlite_postal_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same with the postal codes, for tests marked ``postal_codes``."""
    path = tmp_path_factory.mktemp("template") / "postal.sqlite3"
    asyncio.run(migrate_with_addresses(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this run, migrated once, dropped at the end."""
    database = empty_postgres_database("ras_test")
    runner = asyncio.Runner()
    with runner:
        url = runner.run(database.__aenter__())
        try:
            runner.run(migrate_with_addresses(url))
            yield url
        finally:
            runner.run(database.__aexit__(None, None, None))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of the parametrised kind (emptied by ``db``)."""
    if request.param == "sqlite":
        postal = request.node.get_closest_marker("postal_codes") is not None
        template: Path = request.getfixturevalue(
            "sqlite_postal_template" if postal else "sqlite_template"
        )
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite://{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """The ORM connected to a fresh database; yields the database URL."""
    # Tortoise caches each model's SQL per connection *name*, not per dialect;
    # this run switches between SQLite and PostgreSQL under the name "default".
    EXECUTOR_CACHE.clear()
    async with connected(database_url):
        if database_url.startswith("postgres"):
            await empty_user_tables()
        yield database_url


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def services(clock: SettableClock, hasher: CountingHasher) -> Services:
    """The app's services on the test clock and the cheap hasher, with no answer
    floor: the tests that measure the floor set one (``with_policy``)."""
    hasher.verifications = 0
    policy = Policy(answer_floor=timedelta(0))
    return Services(policy=policy, clock=clock, hasher=hasher)


@pytest.fixture
def execute(db: str, services: Services) -> Caller:
    return Caller(services=services)


@pytest.fixture
def with_policy(services: Services) -> WithPolicy:
    """Services with some policy numbers changed (as RAS_ settings would)."""

    def make(**changes: Any) -> Services:
        return replace(services, policy=replace(services.policy, **changes))

    return make


@pytest.fixture
async def user(db: str, services: Services) -> User:
    """An active account with the password PASSWORD, valid for a year."""
    created = await create_user(
        services, email="taro@example.com", name="Yamada Taro", password=PASSWORD
    )
    assert isinstance(created, User)
    return created


@pytest.fixture
async def http(db: str, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app served by uvicorn on a free loopback port."""
    app = create_app(
        Settings(database_url=db), services=services, manage_database=False
    )
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    handler = RecordingHandler()
    sink = await start_sink(handler)
    server = SmtpServer(handler=handler, port=sink.port, sink=sink)
    yield server
    await server.stop()


@pytest.fixture
def make_worker(db: str, services: Services, smtp: SmtpServer) -> MakeWorker:
    """A delivery worker on the test clock, sending to the ``smtp`` server."""

    def make(target: SmtpTarget | None = None, **policy: Any) -> DeliveryWorker:
        return DeliveryWorker(
            transport=SmtpTransport(
                target or SmtpTarget(host="127.0.0.1", port=smtp.port, timeout=10)
            ),
            composer=services.composer,
            clock=services.clock,
            policy=replace(FAST_DELIVERY, **policy),
        )

    return make


@pytest.fixture
def mailbox(smtp: SmtpServer, make_worker: MakeWorker) -> Mailbox:
    return Mailbox(smtp=smtp, worker=make_worker())


@pytest.fixture
async def operator(db: str, services: Services) -> Staff:
    """A staff member with the role operator (login ID ops.sato)."""
    return await make_staff(services, "ops.sato", StaffRole.OPERATOR)


@pytest.fixture
async def admin_staff(db: str, services: Services) -> Staff:
    """A staff member with the role admin (login ID root.admin)."""
    return await make_staff(services, "root.admin", StaffRole.ADMIN)


@pytest.fixture
async def viewer(db: str, services: Services) -> Staff:
    """A staff member with the role viewer (login ID view.only)."""
    return await make_staff(services, "view.only", StaffRole.VIEWER)
