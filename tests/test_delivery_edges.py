"""The delivery worker at the edges: slow servers and lost leases, cancellation
and shutdown mid-batch, dropped connections, refused senders, undecodable
replies, per-row backoff. Real aiosmtpd server, real databases."""

import asyncio
from datetime import timedelta
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP

from mailer.outbox import claim, defer
from mailer.sink import MailDirHandler, start_sink
from mailer.smtp import MAX_ERROR, SmtpTarget, clean_text, describe_error
from models import MailStatus, OutboxMail, User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import MakeWorker, SmtpServer, enqueue_mails


async def by_id() -> dict[int, OutboxMail]:
    return {row.id: row for row in await OutboxMail.all()}


async def test_a_temporary_failure_backs_off_per_row_from_about_a_second(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    [row] = await enqueue_mails(services, user)
    smtp.handler.rcpt_replies.extend(["450 4.2.1 <taro@example.com> busy"] * 3)
    worker = make_worker(retry_base=timedelta(seconds=1), max_attempts=10)
    waits = []

    with caplog.at_level("INFO"):
        for _ in range(3):
            start = clock.now()
            await worker.deliver_batch()
            current = await OutboxMail.get(id=row.id)
            waits.append((current.next_attempt_at - start).total_seconds())
            clock.advance(current.next_attempt_at - start)

    assert 0.5 <= waits[0] <= 1.0
    assert 1.0 <= waits[1] <= 2.0
    assert 2.0 <= waits[2] <= 4.0
    assert current.failures == 3
    assert current.last_error == "450 4.2.1 <t***@example.com> busy"
    assert "deferred" in caplog.text
    assert "taro@example.com" not in caplog.text


async def test_a_refused_sender_is_a_session_failure_not_a_dead_mail(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    rows = await enqueue_mails(services, user, count=3)
    smtp.handler.mail_replies.append("553 5.7.1 Sender address rejected")

    assert await make_worker().deliver_batch() == 0

    after = await by_id()
    assert [after[r.id].status for r in rows] == [MailStatus.PENDING] * 3
    assert [after[r.id].attempts for r in rows] == [0, 0, 0]
    assert all(after[r.id].message is not None for r in rows)
    assert after[rows[0].id].last_error == "553 5.7.1 Sender address rejected"


async def test_a_dropped_connection_defers_the_mail_and_pauses_the_worker(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    rows = await enqueue_mails(services, user, count=100)

    def hang_up(server: SMTP) -> None:
        assert server.transport is not None
        server.transport.close()

    smtp.handler.on_data = hang_up
    stop = asyncio.Event()
    task = asyncio.create_task(make_worker(batch_size=10).run(stop))
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.wait_for(task, 10)

    after = await by_id()
    # Not a connection per row, or per batch: the worker backs off (about 1 s).
    assert 1 <= smtp.handler.data_commands <= 3
    tried = [after[r.id] for r in rows if after[r.id].attempts]
    assert len(tried) == smtp.handler.data_commands
    assert all(r.status is MailStatus.PENDING for r in after.values())
    assert all(r.last_error and "Disconnected" in r.last_error for r in tried)


async def test_a_batch_renews_its_claim_on_a_slow_server(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    rows = await enqueue_mails(services, user, count=3)
    lease = timedelta(seconds=0.3)
    seen: list[OutboxMail] = []

    async def slow(server: object) -> None:
        if smtp.handler.data_commands == 2:
            clock.advance(timedelta(minutes=1))
        if smtp.handler.data_commands == 3:
            seen.append(await OutboxMail.get(id=rows[2].id))
        await asyncio.sleep(0.2)  # more than half the lease per message

    smtp.handler.on_data = slow

    await make_worker(claim_lease=lease).deliver_batch()

    assert seen[0].claimed_until == clock.now() + lease  # renewed, not the first
    assert [r.status for r in (await by_id()).values()] == [MailStatus.SENT] * 3


async def test_a_batch_that_lost_its_claim_stops_sending(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    rows = await enqueue_mails(services, user, count=3)

    async def taken_over(server: object) -> None:
        # Meanwhile the lease ran out and another worker claimed the second row.
        await OutboxMail.filter(id=rows[1].id).update(claim="another-worker")
        await asyncio.sleep(0.2)

    smtp.handler.on_data = taken_over

    await make_worker(claim_lease=timedelta(seconds=0.3)).deliver_batch()

    after = await by_id()
    assert len(smtp.handler.received) == 1
    assert after[rows[0].id].status is MailStatus.SENT
    assert after[rows[1].id].claim == "another-worker"  # left alone
    assert after[rows[2].id].claim is None  # still ours: handed back
    assert after[rows[2].id].attempts == 0


async def test_stopping_finishes_the_message_and_hands_back_the_rest(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    rows = await enqueue_mails(services, user, count=4)
    stop = asyncio.Event()
    smtp.handler.on_data = lambda _: stop.set()

    await make_worker().deliver_batch(stop)

    after = await by_id()
    assert after[rows[0].id].status is MailStatus.SENT
    for row in rows[1:]:
        assert after[row.id].status is MailStatus.PENDING
        assert after[row.id].claim is None  # another worker may take it now
        assert after[row.id].attempts == 0


async def test_a_cancelled_batch_still_records_what_was_sent(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    rows = await enqueue_mails(services, user, count=4)
    worker = make_worker()
    task = asyncio.create_task(worker.deliver_batch())

    def cancel_at_second(server: object) -> None:
        if smtp.handler.data_commands == 2:
            task.cancel()

    smtp.handler.on_data = cancel_at_second
    with pytest.raises(asyncio.CancelledError):
        await task

    after = await by_id()
    assert after[rows[0].id].status is MailStatus.SENT
    assert after[rows[0].id].message is None
    # The second was in flight: it stays claimed (and is sent again after the
    # lease: at-least-once). The rest go back untried.
    assert after[rows[1].id].claim is not None
    assert [(after[r.id].claim, after[r.id].attempts) for r in rows[2:]] == [
        (None, 0),
        (None, 0),
    ]


def test_server_replies_are_cleaned_for_the_database_and_logs() -> None:
    # aiosmtplib keeps undecodable bytes (a Shift_JIS reply) as lone surrogates.
    shift_jis = aiosmtplib.SMTPResponseException(451, "4.3.0 \udc83T\udc81[ busy\x00")
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "o'brien@example.com no", "x@y.z")]
    )

    assert describe_error(shift_jis) == "451 4.3.0 ?T?[ busy"
    assert describe_error(refused) == "550 o***@example.com no"
    assert len(clean_text("x" * 2000)) == MAX_ERROR


async def test_cleaned_replies_fit_the_error_column(
    user: User, services: Services, clock: SettableClock
) -> None:
    await enqueue_mails(services, user)
    [row] = await claim(now=clock.now(), limit=1, lease=timedelta(minutes=5))
    error = describe_error(
        aiosmtplib.SMTPResponseException(451, "\udc83\x00" + "ｴﾗｰ" * 400)
    )

    await defer(row, error=error, retry_at=clock.now())

    assert (await OutboxMail.get(id=row.id)).last_error == error


async def test_a_sink_that_cannot_write_defers_instead_of_refusing(
    tmp_path: Path,
    user: User,
    services: Services,
    make_worker: MakeWorker,
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    sink = await start_sink(MailDirHandler(not_a_folder))
    [row] = await enqueue_mails(services, user)
    try:
        await make_worker(SmtpTarget(host="127.0.0.1", port=sink.port)).deliver_batch()
    finally:
        await sink.close()

    pending = await OutboxMail.get(id=row.id)
    assert pending.status is MailStatus.PENDING
    assert pending.last_error == "451 4.3.0 Cannot store the message now"
