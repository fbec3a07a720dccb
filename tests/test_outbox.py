"""The outbox and the delivery worker, against a real aiosmtpd server on 127.0.0.1.

Each test runs on a real SQLite file and on real PostgreSQL.
"""

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from mailer.outbox import claim, enqueue
from mailer.render import PasswordChanged
from mailer.worker import DeliveryPolicy, DeliveryWorker
from models import MailKind, MailStatus, OutboxMail, User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import MakeWorker, SmtpServer, enqueue_mails, reset_mail


async def test_committed_mail_arrives_with_correct_mime(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    changed_at = services.clock.now()
    async with in_transaction() as conn:
        user.name = "SATO HANAKO"
        await user.save(using_db=conn)
        row = await enqueue(
            services.composer,
            PasswordChanged(to=user.email, name=user.name, changed_at=changed_at),
            now=changed_at,
            using_db=conn,
            user_id=user.id,
        )

    handled = await make_worker().deliver_batch()

    assert handled == 1
    [message] = smtp.handler.received
    assert message["Message-ID"] == row.message_id
    assert message["To"] == user.email
    assert message["Subject"] == (
        "【在留申請オンラインシステム】パスワード変更完了のお知らせ"
        " / Your password has been changed"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert "SATO HANAKO 様" in message.get_content()
    stored = await OutboxMail.get(id=row.id)
    assert stored.status is MailStatus.SENT
    assert stored.sent_at == services.clock.now()
    assert stored.attempts == 1
    assert stored.message is None  # the body leaves the database once sent
    assert stored.kind is MailKind.PASSWORD_CHANGED


async def test_rolled_back_transaction_sends_nothing(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    class Abort(Exception):
        pass

    async def change_email_then_fail() -> None:
        async with in_transaction() as conn:
            user.email = "changed@example.com"
            await user.save(using_db=conn)
            await enqueue(
                services.composer,
                reset_mail(user),
                now=services.clock.now(),
                using_db=conn,
            )
            raise Abort

    with pytest.raises(Abort):
        await change_email_then_fail()

    handled = await make_worker().deliver_batch()

    assert handled == 0
    assert await OutboxMail.all().count() == 0
    assert smtp.handler.received == []
    assert (await User.get(id=user.id)).email == "taro@example.com"


async def test_smtp_down_keeps_mail_pending_then_delivers_all(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    rows = await enqueue_mails(services, user, count=5)
    worker = make_worker()
    await smtp.stop()  # the port is closed now

    for _ in range(3):
        assert await worker.deliver_batch() == 0
        clock.advance(timedelta(seconds=10))

    pending = await OutboxMail.all().order_by("id")
    assert [r.status for r in pending] == [MailStatus.PENDING] * 5
    assert [r.attempts for r in pending] == [0] * 5  # an outage uses up no attempts
    assert all(r.message is not None for r in pending)
    assert all(r.last_error and "Connect" in r.last_error for r in pending)

    await smtp.start()
    clock.advance(timedelta(seconds=10))
    assert await worker.deliver_batch() == 5

    assert sorted(smtp.handler.message_ids()) == sorted(r.message_id for r in rows)
    statuses = [row.status for row in await OutboxMail.all()]
    assert statuses == [MailStatus.SENT] * 5


async def test_unreachable_server_backs_off_from_about_a_second(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    await enqueue_mails(services, user)
    worker = make_worker(
        retry_base=timedelta(seconds=1), retry_max=timedelta(seconds=4)
    )
    await smtp.stop()
    waits = []

    for _ in range(6):
        # Move to the moment the row is due again, and try.
        row = await OutboxMail.get()
        clock.advance(max(row.next_attempt_at - clock.now(), timedelta(0)))
        start = clock.now()
        await worker.deliver_batch()
        row = await OutboxMail.get()
        waits.append((row.next_attempt_at - start).total_seconds())

    assert 0.5 <= waits[0] <= 1.0
    assert 1.0 <= waits[1] <= 2.0
    assert 2.0 <= waits[2] <= 4.0
    assert all(2.0 <= w <= 4.0 for w in waits[3:])  # capped


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = DeliveryPolicy(
        retry_base=timedelta(seconds=1), retry_max=timedelta(seconds=60)
    )

    samples = {
        n: [policy.backoff(n).total_seconds() for _ in range(200)]
        for n in (1, 2, 3, 7, 50, 10_000)
    }

    assert all(0.5 <= s <= 1 for s in samples[1])
    assert all(1 <= s <= 2 for s in samples[2])
    assert all(2 <= s <= 4 for s in samples[3])
    assert all(30 <= s <= 60 for s in samples[7] + samples[50] + samples[10_000])
    assert len(set(samples[3])) > 100  # jitter, so workers do not retry in step


async def test_permanent_refusal_makes_the_mail_dead_with_the_error(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    [row] = await enqueue_mails(services, user)
    smtp.handler.data_replies.append("554 5.7.1 Message refused by policy")

    await make_worker().deliver_batch()

    dead = await OutboxMail.get(id=row.id)
    assert dead.status is MailStatus.DEAD
    assert dead.last_error == "554 5.7.1 Message refused by policy"
    assert dead.attempts == 1
    assert dead.message == row.message  # kept a while, so staff can retry it
    assert smtp.handler.received == []


async def test_refused_recipient_is_dead_and_its_address_is_not_kept(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    [row] = await enqueue_mails(services, user)
    smtp.handler.rcpt_replies.append("550 5.1.1 <taro@example.com>: no such user")

    await make_worker().deliver_batch()

    dead = await OutboxMail.get(id=row.id)
    assert dead.status is MailStatus.DEAD
    assert dead.last_error == "550 5.1.1 <t***@example.com>: no such user"


async def test_temporary_refusal_retries_then_dies_at_the_attempt_limit(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    [row] = await enqueue_mails(services, user)
    smtp.handler.data_replies.extend(["451 4.3.0 Try again later"] * 3)
    worker = make_worker(max_attempts=3)

    await worker.deliver_batch()
    first = await OutboxMail.get(id=row.id)
    assert first.status is MailStatus.PENDING
    assert first.attempts == 1
    assert first.last_error == "451 4.3.0 Try again later"
    assert first.message is not None
    # Not due yet: nothing is claimed before the backoff has passed.
    assert await worker.deliver_batch() == 0

    for _ in range(2):
        clock.advance(timedelta(seconds=30))
        await worker.deliver_batch()

    dead = await OutboxMail.get(id=row.id)
    assert dead.status is MailStatus.DEAD
    assert dead.attempts == 3
    assert dead.last_error == "451 4.3.0 Try again later"
    assert smtp.handler.received == []


async def test_temporary_refusal_then_success_delivers_once(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    [row] = await enqueue_mails(services, user)
    smtp.handler.data_replies.append("452 4.3.1 Insufficient system storage")
    worker = make_worker()

    await worker.deliver_batch()
    clock.advance(timedelta(seconds=30))
    await worker.deliver_batch()

    sent = await OutboxMail.get(id=row.id)
    assert sent.status is MailStatus.SENT
    assert sent.attempts == 2
    assert smtp.handler.message_ids() == [row.message_id]


async def test_a_connection_closed_mid_batch_hands_back_the_rest_uncounted(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    rows = await enqueue_mails(services, user, count=4)
    delivered = 0

    def close_after_two(server: object) -> None:
        nonlocal delivered
        delivered += 1
        if delivered == 3:
            smtp.handler.data_replies.append("421 4.3.2 Shutting down")

    smtp.handler.on_data = close_after_two
    worker = make_worker()

    await worker.deliver_batch()

    after = {r.id: r for r in await OutboxMail.all()}
    assert [after[r.id].status for r in rows[:2]] == [MailStatus.SENT] * 2
    assert after[rows[2].id].status is MailStatus.PENDING
    assert after[rows[2].id].attempts == 1
    assert after[rows[3].id].status is MailStatus.PENDING
    assert after[rows[3].id].attempts == 0  # never offered to the server

    clock.advance(timedelta(seconds=30))
    await worker.deliver_batch()
    assert sorted(smtp.handler.message_ids()) == sorted(r.message_id for r in rows)


async def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(
    user: User, services: Services, clock: SettableClock
) -> None:
    [row] = await enqueue_mails(services, user)
    lease = timedelta(minutes=5)

    first = await claim(now=clock.now(), limit=10, lease=lease)
    second = await claim(now=clock.now(), limit=10, lease=lease)
    clock.advance(lease + timedelta(seconds=1))
    after_lease = await claim(now=clock.now(), limit=10, lease=lease)

    assert [r.id for r in first] == [row.id]
    assert second == []
    assert [r.id for r in after_lease] == [row.id]
    assert after_lease[0].attempts == 2
    assert after_lease[0].claim != first[0].claim


async def test_parallel_claims_never_share_a_row(
    user: User, services: Services, clock: SettableClock
) -> None:
    await enqueue_mails(services, user, count=40)

    batches = await asyncio.gather(
        *(claim(now=clock.now(), limit=7, lease=timedelta(minutes=5)) for _ in range(8))
    )

    ids = [row.id for batch in batches for row in batch]
    assert len(ids) == len(set(ids)) == 40


async def test_two_workers_deliver_n_mails_exactly_n_times(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    rows = await enqueue_mails(services, user, count=60)
    workers = [make_worker(batch_size=5), make_worker(batch_size=5)]

    async def drain(worker: DeliveryWorker) -> None:
        while await worker.deliver_batch():
            pass

    await asyncio.gather(*(drain(w) for w in workers))

    assert sorted(smtp.handler.message_ids()) == sorted(r.message_id for r in rows)
    assert await OutboxMail.filter(status=MailStatus.SENT).count() == 60


async def test_worker_run_delivers_until_stopped(
    user: User, services: Services, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(make_worker().run(stop))

    rows = await enqueue_mails(services, user, count=3)
    await smtp.handler.wait_for(3)
    stop.set()
    await asyncio.wait_for(task, 10)

    assert sorted(smtp.handler.message_ids()) == sorted(r.message_id for r in rows)


async def test_delivery_logs_hold_neither_addresses_nor_links(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await enqueue_mails(services, user)
    smtp.handler.rcpt_replies.append("550 5.1.1 <taro@example.com>: no such user")

    with caplog.at_level("INFO"):
        await make_worker().deliver_batch()

    assert "dead" in caplog.text
    assert "taro@example.com" not in caplog.text
    assert "token" not in caplog.text
