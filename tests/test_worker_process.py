"""`ras-identity worker` as a real process: killed between send and mark, and
several of them on one PostgreSQL database."""

import asyncio
import os
import signal
import sys

import pytest

from models import MailStatus, OutboxMail, User
from resolvers.context import Services
from tests.support import BACKENDS, SmtpServer, enqueue_mails


class WorkerProcess:
    """`python -m app.cli worker`, with its log collected as it runs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.started = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, database_url: str, smtp_url: str, **env: str
    ) -> "WorkerProcess":
        environment = {
            **os.environ,
            "RAS_DATABASE_URL": database_url,
            "RAS_SMTP_URL": smtp_url,
            "RAS_MAIL_POLL_SECONDS": "0.05",
            "RAS_MAIL_SWEEP_SECONDS": "3600",
            **env,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "worker",
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        worker = cls(process)
        async with asyncio.timeout(60):
            await worker.started.wait()
        return worker

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            if "mail worker started" in line:
                self.started.set()

    def sent(self) -> int:
        return sum(1 for line in self.lines if ") sent" in line)

    async def stop(self) -> int:
        """SIGTERM, and the exit status once it has finished its batch."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await self.process.wait()
            await self._reader
        return code


async def enqueue_changes(services: Services, user: User, count: int) -> list[str]:
    # The worker processes run on the real clock and sweep at start-up: a
    # password without expiry keeps a reminder out of the count in any year.
    user.password_expires_at = None
    await user.save()
    return [row.message_id for row in await enqueue_mails(services, user, count)]


async def test_worker_killed_between_send_and_mark_redelivers_same_message(
    db: str, user: User, services: Services, smtp: SmtpServer
) -> None:
    [message_id] = await enqueue_changes(services, user, 1)
    # A short lease (and so a short SMTP timeout: the lease must hold ten), so
    # the next worker takes the orphaned row over quickly.
    env = {"RAS_MAIL_CLAIM_SECONDS": "3", "RAS_SMTP_TIMEOUT_SECONDS": "0.3"}
    first = await WorkerProcess.start(db, smtp.url, **env)

    # The server has the whole message; the worker dies before hearing "250".
    smtp.handler.on_data = lambda _: os.kill(first.process.pid, signal.SIGKILL)
    await smtp.handler.wait_for(1)
    assert await first.stop() == -signal.SIGKILL
    smtp.handler.on_data = None

    row = await OutboxMail.get(message_id=message_id)
    assert row.status is MailStatus.PENDING  # never marked: the worker died

    second = await WorkerProcess.start(db, smtp.url, **env)
    await smtp.handler.wait_for(2)
    assert await second.stop() == 0

    assert smtp.handler.message_ids() == [message_id, message_id]
    assert smtp.handler.raw[0] == smtp.handler.raw[1]
    row = await OutboxMail.get(message_id=message_id)
    assert row.status is MailStatus.SENT
    assert row.attempts == 2


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL not reachable")
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_worker_processes_deliver_n_mails_exactly_n_times(
    db: str, user: User, services: Services, smtp: SmtpServer
) -> None:
    env = {"RAS_MAIL_BATCH_SIZE": "10"}
    workers = await asyncio.gather(
        WorkerProcess.start(db, smtp.url, **env),
        WorkerProcess.start(db, smtp.url, **env),
    )

    expected = await enqueue_changes(services, user, 400)
    await smtp.handler.wait_for(400)
    await asyncio.sleep(1)  # room for a duplicate to show up, if there were one
    codes = [await worker.stop() for worker in workers]

    assert codes == [0, 0]
    assert len(smtp.handler.received) == 400
    assert sorted(smtp.handler.message_ids()) == sorted(expected)
    assert await OutboxMail.filter(status=MailStatus.SENT).count() == 400
    # Both took part: the rows were shared out, not sent by one of them alone.
    assert all(worker.sent() > 0 for worker in workers)
    assert sum(worker.sent() for worker in workers) == 400
