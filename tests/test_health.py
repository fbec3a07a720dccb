"""/livez, /readyz and /healthz over real HTTP, and the mail worker's heartbeat
that /readyz reads."""

import asyncio
import importlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.recorder import MigrationRecorder

from addresses.load import DATA_SET
from app.main import create_app
from app.settings import (
    MIN_READY_WORKER_SECONDS,
    MODELS_APP,
    Settings,
    SettingsError,
    connection_config,
    load_settings,
)
from mailer.worker import DeliveryPolicy
from models import ReferenceData, User, WorkerHeartbeat, WorkerIdentity
from models.heartbeat import BEAT_INTERVAL, HEARTBEAT_RETENTION
from resolvers.context import Services
from resolvers.housekeeping import purge_stale
from security.clock import SettableClock
from tests.support import MakeWorker, SmtpServer, enqueue_mails, free_port, serve

T = TypeVar("T")

ALL_OK = {
    "database": {"ok": True},
    "migrations": {"ok": True},
    "addressData": {"ok": True},
    "mailWorker": {"ok": True},
}
NOT_CHECKED = {"ok": False, "reason": "not checked: the database did not answer"}
SECRET = "hunter2-db-password"
NEWEST_MIGRATION = sorted(
    path.stem
    for path in (Path(__file__).parent.parent / "models" / "migrations").glob("0*.py")
)[-1]


@asynccontextmanager
async def client(
    db: str, services: Services, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with these settings, served by uvicorn on a free port."""
    app = create_app(
        Settings(database_url=db, **settings), services=services, manage_database=False
    )
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield http


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 10) -> T:
    """The first truthy answer of ``probe`` (the test fails after ``within`` s)."""
    async with asyncio.timeout(within):
        while True:
            if answer := await probe():
                return answer
            await asyncio.sleep(0.01)


async def beat_now(services: Services, name: str = "web-1:1:aa") -> WorkerIdentity:
    worker = WorkerIdentity(id=name, host=name.split(":")[0], pid=1)
    now = services.clock.now()
    await WorkerHeartbeat.beat(worker, started_at=now, now=now)
    return worker


@asynccontextmanager
async def without_address_data() -> AsyncIterator[None]:
    """The address data set's marker deleted (put back after: PostgreSQL's test
    database keeps its address data for the whole run)."""
    marker = await ReferenceData.get(name=DATA_SET)
    await marker.delete()
    try:
        yield
    finally:
        await ReferenceData.create(
            name=marker.name,
            version=marker.version,
            rows=marker.rows,
            loaded_at=marker.loaded_at,
        )


def db_client(url: str) -> BaseDBAsyncClient:
    """A Tortoise client for ``url`` as the app would make it (not connected)."""
    config = connection_config(url)
    info = expand_db_url(config) if isinstance(config, str) else config
    engine = importlib.import_module(info["engine"])
    get_class = getattr(engine, "get_client_class", None)
    cls = get_class(info) if get_class else engine.client_class
    made: BaseDBAsyncClient = cls(connection_name="default", **info["credentials"])
    return made


@asynccontextmanager
async def database_at(url: str) -> AsyncIterator[None]:
    """Within the block, this task (and the tasks it starts, such as the
    server's) reach the database "default" at ``url`` instead."""
    replacement = db_client(url)
    token = connections.set("default", replacement)
    try:
        yield
    finally:
        connections.reset(token)
        await replacement.close()


def unreachable_url(db: str, tmp_path: Path) -> str:
    """A database of the same kind that cannot be opened: SQLite in a folder
    that does not exist, PostgreSQL on a port nobody listens on (with a
    password, which no answer may show)."""
    if db.startswith("sqlite"):
        return f"sqlite://{tmp_path / 'missing' / 'ras.sqlite3'}"
    return f"postgres://ras:{SECRET}@127.0.0.1:{free_port()}/ras"


# --- /livez and /healthz -----------------------------------------------------


async def test_livez_answers_ok(http: httpx.AsyncClient) -> None:
    response = await http.get("/livez")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_healthz_still_answers_as_before(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- /readyz -----------------------------------------------------------------


async def test_readyz_is_ready_with_a_running_worker(
    http: httpx.AsyncClient, make_worker: MakeWorker
) -> None:
    worker = make_worker()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await eventually(lambda: WorkerHeartbeat.exists(id=worker.identity.id))

        response = await http.get("/readyz")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ALL_OK}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_reports_missing_address_data(
    http: httpx.AsyncClient, services: Services
) -> None:
    await beat_now(services)

    async with without_address_data():
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unready",
        "checks": ALL_OK
        | {
            "addressData": {
                "ok": False,
                "reason": "no address data loaded (the address search finds "
                "nothing): run `ras-identity data load-municipalities`",
            }
        },
    }


async def test_readyz_reports_a_stale_heartbeat(
    http: httpx.AsyncClient, services: Services, clock: SettableClock
) -> None:
    await beat_now(services)
    clock.advance(timedelta(seconds=60))
    fresh = await http.get("/readyz")
    clock.advance(timedelta(seconds=15))

    stale = await http.get("/readyz")

    assert fresh.status_code == 200
    assert stale.status_code == 503
    assert stale.json()["checks"] == ALL_OK | {
        "mailWorker": {
            "ok": False,
            "reason": "no mail worker has reported for 75 s (limit 60 s)",
        }
    }


async def test_readyz_judges_by_the_newest_of_several_heartbeats(
    http: httpx.AsyncClient, services: Services, clock: SettableClock
) -> None:
    await beat_now(services, "dead-1:7:aa")
    clock.advance(timedelta(minutes=10))
    await beat_now(services, "alive-1:8:bb")

    response = await http.get("/readyz")

    assert response.status_code == 200


async def test_readyz_reports_no_heartbeat_at_all(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == ALL_OK | {
        "mailWorker": {
            "ok": False,
            "reason": "no mail worker has reported (limit 60 s)",
        }
    }


async def test_readyz_follows_the_worker_limit_setting(
    db: str, services: Services, clock: SettableClock
) -> None:
    await beat_now(services)
    clock.advance(timedelta(seconds=100))

    async with client(db, services, ready_worker_seconds=120) as http:
        response = await http.get("/readyz")

    assert response.status_code == 200


async def test_readyz_skips_the_worker_check_when_no_worker_is_expected(
    db: str, services: Services
) -> None:
    async with client(db, services, ready_worker_seconds=0) as http:
        response = await http.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["mailWorker"] == {
        "ok": True,
        "reason": "not checked: RAS_READY_WORKER_SECONDS is 0 (no worker expected)",
    }


async def test_readyz_reports_a_pending_migration(
    http: httpx.AsyncClient, services: Services
) -> None:
    await beat_now(services)
    recorder = MigrationRecorder(connections.get("default"))
    await recorder.record_unapplied(MODELS_APP, NEWEST_MIGRATION)
    try:
        response = await http.get("/readyz")
    finally:
        await recorder.record_applied(MODELS_APP, NEWEST_MIGRATION)
    after = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == ALL_OK | {
        "migrations": {
            "ok": False,
            "reason": f"1 migration not applied: {NEWEST_MIGRATION} "
            "(run `ras-identity migrate`)",
        }
    }
    assert after.status_code == 200


async def test_readyz_stays_ready_when_a_newer_release_migrated_the_database(
    http: httpx.AsyncClient, services: Services
) -> None:
    await beat_now(services)
    recorder = MigrationRecorder(connections.get("default"))
    await recorder.record_applied(MODELS_APP, "0999_from_the_future")
    try:
        response = await http.get("/readyz")
    finally:
        await recorder.record_unapplied(MODELS_APP, "0999_from_the_future")

    assert response.status_code == 200
    assert response.json()["checks"]["migrations"] == {
        "ok": True,
        "reason": "the database also has 1 migration this release does not "
        "ship: 0999_from_the_future",
    }


async def test_an_unreachable_database_fails_readyz_and_healthz_not_livez(
    db: str, services: Services, tmp_path: Path
) -> None:
    url = unreachable_url(db, tmp_path)

    async with database_at(url), client(db, services) as http:
        ready = await http.get("/readyz")
        health = await http.get("/healthz")
        live = await http.get("/livez")

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unready"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["reason"].startswith("failed (")
    assert {name: body["checks"][name] for name in ALL_OK if name != "database"} == {
        "migrations": NOT_CHECKED,
        "addressData": NOT_CHECKED,
        "mailWorker": NOT_CHECKED,
    }
    assert SECRET not in ready.text
    assert url.rsplit(":", 1)[-1] not in ready.text  # neither port nor path
    assert (health.status_code, health.json()) == (503, {"status": "unavailable"})
    assert (live.status_code, live.json()) == (200, {"status": "ok"})


async def test_a_database_that_does_not_answer_fails_readyz_within_the_timeout(
    db: str, services: Services
) -> None:
    # A server that accepts connections and never says a word.
    accepted: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(
        lambda _, writer: accepted.append(writer), "127.0.0.1", 0
    )
    port = silent.sockets[0].getsockname()[1]
    url = f"postgres://ras:{SECRET}@127.0.0.1:{port}/ras"
    try:
        async with (
            database_at(url),
            client(db, services, ready_timeout_seconds=0.3) as http,
        ):
            started = asyncio.get_running_loop().time()
            response = await http.get("/readyz")
            took = asyncio.get_running_loop().time() - started
    finally:
        silent.close()
        for writer in accepted:
            writer.close()
        await silent.wait_closed()

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "reason": "no answer within 0.3 s",
    }
    assert took < 5
    assert SECRET not in response.text


# --- the worker's heartbeat --------------------------------------------------


async def test_worker_writes_its_heartbeat_at_start_and_removes_it_on_clean_stop(
    db: str, make_worker: MakeWorker, clock: SettableClock
) -> None:
    worker = make_worker()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))

    row = await eventually(lambda: WorkerHeartbeat.get_or_none(id=worker.identity.id))
    stop.set()
    await asyncio.wait_for(task, 10)

    host = socket.gethostname()[:200]
    assert (row.host, row.pid) == (host, os.getpid())
    assert row.id.startswith(f"{host}:{os.getpid()}:")
    assert row.started_at == row.beat_at == clock.now()
    assert await WorkerHeartbeat.all().count() == 0


async def test_each_worker_has_a_heartbeat_of_its_own(
    db: str, make_worker: MakeWorker
) -> None:
    workers = [make_worker(), make_worker()]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    ids = [w.identity.id for w in workers]

    async def both_beat() -> bool:
        return await WorkerHeartbeat.filter(id__in=ids).count() == 2

    try:
        await eventually(both_beat)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)

    assert ids[0] != ids[1]


async def test_worker_renews_its_heartbeat_after_the_interval_not_on_every_pass(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: SettableClock,
) -> None:
    worker = make_worker()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        first = await eventually(
            lambda: WorkerHeartbeat.get_or_none(id=worker.identity.id)
        )
        clock.advance(BEAT_INTERVAL - timedelta(seconds=1))
        # A mail delivered proves passes ran on the moved clock.
        await enqueue_mails(services, user)
        await smtp.handler.wait_for(1)
        early = await WorkerHeartbeat.get(id=worker.identity.id)
        clock.advance(timedelta(seconds=1))
        renewed_at = clock.now()

        renewed = await eventually(
            lambda: WorkerHeartbeat.get_or_none(
                id=worker.identity.id, beat_at=renewed_at
            )
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)

    assert early.beat_at == first.beat_at
    assert renewed.started_at == first.started_at


async def test_worker_keeps_beating_through_a_long_backoff(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: SettableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await smtp.stop()
    await enqueue_mails(services, user)
    worker = make_worker(
        retry_base=timedelta(seconds=60),
        retry_max=timedelta(seconds=60),
        heartbeat_interval=timedelta(milliseconds=50),
    )
    stop = asyncio.Event()

    async def backing_off() -> bool:
        return "session failed" in caplog.text

    with caplog.at_level("INFO"):
        task = asyncio.create_task(worker.run(stop))
        try:
            await eventually(backing_off)
            clock.advance(timedelta(seconds=1))
            renewed_at = clock.now()

            renewed = await eventually(
                lambda: WorkerHeartbeat.exists(
                    id=worker.identity.id, beat_at=renewed_at
                ),
                within=5,
            )
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    assert renewed


async def test_worker_keeps_beating_while_an_smtp_exchange_hangs(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: SettableClock,
) -> None:
    """A server that takes its time over DATA (under the SMTP timeout) holds
    the delivery pass; the heartbeat has a task of its own."""
    answer = asyncio.Event()
    arrived = asyncio.Event()

    async def slow(envelope: object) -> None:
        arrived.set()
        await answer.wait()

    smtp.handler.on_data = slow
    await enqueue_mails(services, user)
    worker = make_worker(heartbeat_interval=timedelta(milliseconds=50))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(arrived.wait(), 10)
        clock.advance(timedelta(seconds=1))
        renewed_at = clock.now()
        renewed = await eventually(
            lambda: WorkerHeartbeat.exists(id=worker.identity.id, beat_at=renewed_at),
            within=5,
        )
        still_sending = not answer.is_set()
    finally:
        answer.set()
        stop.set()
        await asyncio.wait_for(task, 10)

    assert renewed
    assert still_sending
    assert len(smtp.handler.received) == 1


async def test_worker_delivers_when_its_heartbeat_cannot_be_written(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: SettableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = WorkerHeartbeat._meta.db_table
    db = connections.get("default")
    await db.execute_script(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    worker = make_worker()
    stop = asyncio.Event()
    try:
        with caplog.at_level("INFO"):
            task = asyncio.create_task(worker.run(stop))
            rows = await enqueue_mails(services, user, count=2)
            await smtp.handler.wait_for(2)
    finally:
        await db.execute_script(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')
    try:
        clock.advance(BEAT_INTERVAL)
        recovered = await eventually(
            lambda: WorkerHeartbeat.exists(id=worker.identity.id)
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)

    assert sorted(smtp.handler.message_ids()) == sorted(r.message_id for r in rows)
    assert "mail worker heartbeat not recorded" in caplog.text
    assert "delivery goes on" in caplog.text
    assert recovered


async def test_deliver_batch_alone_writes_no_heartbeat(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    await enqueue_mails(services, user)

    await make_worker().deliver_batch()

    assert len(smtp.handler.received) == 1
    assert await WorkerHeartbeat.all().count() == 0


# --- housekeeping and settings -----------------------------------------------


async def test_housekeeping_deletes_heartbeats_of_long_dead_workers(
    db: str, services: Services, clock: SettableClock
) -> None:
    await beat_now(services, "dead-1:7:aa")
    clock.advance(HEARTBEAT_RETENTION - timedelta(seconds=1))
    await beat_now(services, "late-1:8:bb")
    clock.advance(timedelta(seconds=2))

    await purge_stale(services)

    assert [row.id for row in await WorkerHeartbeat.all()] == ["late-1:8:bb"]


def test_worker_limit_is_zero_or_a_few_heartbeats() -> None:
    with pytest.raises(SettingsError, match="RAS_READY_WORKER_SECONDS"):
        load_settings(ready_worker_seconds=MIN_READY_WORKER_SECONDS - 1)

    assert load_settings(ready_worker_seconds=0).ready_worker_seconds == 0
    assert load_settings().ready_worker_seconds == 60
    assert 3 * BEAT_INTERVAL.total_seconds() <= MIN_READY_WORKER_SECONDS
    assert DeliveryPolicy().heartbeat_interval == BEAT_INTERVAL


def test_worker_identities_differ_within_one_process() -> None:
    ids = {WorkerIdentity.of_this_process().id for _ in range(20)}

    assert len(ids) == 20
