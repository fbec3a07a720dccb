"""Expiry reminders (30 and 7 days) and lock notices, enqueued by the worker's
sweep once per password / per lock, whatever the number of sweeps and workers."""

import asyncio
from datetime import timedelta

from mailer.notices import (
    _builder,
    _insert_new,
    enqueue_expiry_reminders,
    enqueue_lock_notices,
)
from mailer.render import PasswordExpiring
from models import AccountStatus, MailKind, OutboxMail, User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import LOGIN, Caller, MakeWorker, SmtpServer

DAY = timedelta(days=1)


async def expire_in(user: User, clock: SettableClock, left: timedelta) -> None:
    user.password_expires_at = clock.now() + left
    await user.save()


async def reminders() -> list[tuple[str, str]]:
    rows = await OutboxMail.filter(kind=MailKind.PASSWORD_EXPIRING).order_by("id")
    return [(row.recipient, str(row.dedupe_key).split(":")[1]) for row in rows]


async def test_no_reminder_while_more_than_30_days_are_left(
    user: User, services: Services, clock: SettableClock
) -> None:
    await expire_in(user, clock, 31 * DAY)

    written = await enqueue_expiry_reminders(services.composer, now=clock.now())

    assert written == 0
    assert await OutboxMail.all().count() == 0


async def test_30_then_7_day_reminders_go_out_once_each(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    await expire_in(user, clock, 30 * DAY)
    worker = make_worker()

    for _ in range(3):  # sweeps repeat, and restarts repeat them too
        await worker.sweep()
        clock.advance(timedelta(hours=1))
    clock.advance(23 * DAY)  # now 7 days (minus three hours) are left
    for _ in range(3):
        await worker.sweep()
    await worker.deliver_batch()

    assert await reminders() == [("taro@example.com", "30"), ("taro@example.com", "7")]
    subjects = [m["Subject"] for m in smtp.handler.received]
    assert subjects == [
        "【在留申請オンラインシステム】パスワードの有効期限が近づいています（残り30日）"
        " / Your password expires soon (days left: 30)",
        "【在留申請オンラインシステム】パスワードの有効期限が近づいています（残り7日）"
        " / Your password expires soon (days left: 7)",
    ]
    assert user.auth_id in smtp.handler.received[0].get_content()


async def test_a_user_first_seen_within_7_days_gets_only_the_7_day_reminder(
    user: User, services: Services, clock: SettableClock
) -> None:
    await expire_in(user, clock, 3 * DAY)

    await enqueue_expiry_reminders(services.composer, now=clock.now())
    await enqueue_expiry_reminders(services.composer, now=clock.now() + DAY)

    assert await reminders() == [("taro@example.com", "7")]


async def test_a_new_password_gets_new_reminders(
    user: User, services: Services, clock: SettableClock
) -> None:
    await expire_in(user, clock, 20 * DAY)
    await enqueue_expiry_reminders(services.composer, now=clock.now())

    # The user changes the password; later the new one nears expiry too.
    clock.advance(5 * DAY)
    await expire_in(user, clock, 25 * DAY)
    await enqueue_expiry_reminders(services.composer, now=clock.now())

    assert await reminders() == [("taro@example.com", "30")] * 2


async def test_no_reminder_for_expired_unset_or_inactive_passwords(
    user: User, services: Services, clock: SettableClock
) -> None:
    await expire_in(user, clock, -DAY)
    others: list[User] = []
    for status, has_password in [
        (AccountStatus.SUSPENDED, True),
        (AccountStatus.DELETED, True),
        (AccountStatus.ACTIVE, False),
    ]:
        others.append(
            await User.create(
                auth_id=f"X{len(others)}ABCDEFGH",
                name="HANAKO",
                email=f"h{len(others)}@example.com",
                status=status,
                password_hash=user.password_hash if has_password else None,
                password_expires_at=clock.now() + 10 * DAY,
                created_at=clock.now(),
            )
        )

    written = await enqueue_expiry_reminders(services.composer, now=clock.now())

    assert written == 0


async def test_concurrent_sweeps_write_each_reminder_once(
    db: str, services: Services, clock: SettableClock
) -> None:
    for n in range(30):
        await User.create(
            auth_id=f"R{n:02d}ABCDEFG",
            name="HANAKO",
            email=f"r{n}@example.com",
            password_hash="$argon2id$placeholder",
            password_expires_at=clock.now() + (5 + n) * DAY,
            created_at=clock.now(),
        )

    await asyncio.gather(
        *(
            enqueue_expiry_reminders(services.composer, now=clock.now())
            for _ in range(4)
        )
    )

    owners = await OutboxMail.filter(kind=MailKind.PASSWORD_EXPIRING).values_list(
        "user_id", flat=True
    )
    assert len(owners) == 26  # those with 30 days or fewer left
    assert len(set(owners)) == 26


async def test_a_locked_id_gets_one_notice_per_lock(
    execute: Caller,
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> None:
    for _ in range(services.policy.lockout_threshold):
        await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong-pass1$"})
    worker = make_worker()

    await worker.sweep()
    await worker.sweep()
    await worker.deliver_batch()

    [notice] = smtp.handler.received
    assert notice["Subject"] == (
        "【在留申請オンラインシステム】認証IDがロックされました"
        " / Your auth ID has been locked"
    )
    assert notice["To"] == user.email
    assert f"認証ID {user.auth_id} をロックしました" in notice.get_content()

    # The lock runs out; a new run of failures locks again: a second notice.
    clock.advance(services.policy.lockout_duration + timedelta(minutes=1))
    for _ in range(services.policy.lockout_threshold):
        await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong-pass1$"})
    await worker.sweep()
    assert await OutboxMail.filter(kind=MailKind.ACCOUNT_LOCKED).count() == 2


async def test_locking_an_id_nobody_has_mails_nobody(
    execute: Caller, user: User, services: Services, clock: SettableClock
) -> None:
    for _ in range(services.policy.lockout_threshold):
        await execute(LOGIN, {"authId": "NOSUCHID23", "password": "Wrong-pass1$"})

    written = await enqueue_lock_notices(services.composer, now=clock.now())

    assert written == 0
    assert await OutboxMail.all().count() == 0


async def test_users_whose_passwords_expire_together_each_get_a_reminder(
    db: str, services: Services, clock: SettableClock
) -> None:
    expires_at = clock.now() + 10 * DAY  # e.g. accounts created in one batch
    await User.bulk_create(
        [
            User(
                auth_id=f"B{n:03d}ABCDEF",
                name="HANAKO",
                email=f"b{n}@example.com",
                password_hash="$argon2id$placeholder",
                password_expires_at=expires_at,
                created_at=clock.now(),
            )
            for n in range(501)  # more than one page of the sweep
        ]
    )

    written = await enqueue_expiry_reminders(services.composer, now=clock.now())
    again = await enqueue_expiry_reminders(services.composer, now=clock.now())

    assert (written, again) == (501, 0)
    assert await OutboxMail.filter(kind=MailKind.PASSWORD_EXPIRING).count() == 501


async def test_one_unmailable_account_does_not_stop_the_others(
    db: str, services: Services, clock: SettableClock
) -> None:
    for n, email in enumerate(["a@example.com", "壊れた@example.com", "c@example.com"]):
        await User.create(
            auth_id=f"P{n}ABCDEFGH",
            name="HANAKO",
            email=email,  # the middle one came in around the checks
            password_hash="$argon2id$placeholder",
            password_expires_at=clock.now() + 3 * DAY,
            created_at=clock.now(),
        )

    written = await enqueue_expiry_reminders(services.composer, now=clock.now())

    assert written == 2
    assert sorted(r for r, _ in await reminders()) == ["a@example.com", "c@example.com"]


async def test_no_lock_notice_for_a_deleted_account_or_a_lock_that_ran_out(
    execute: Caller, user: User, services: Services, clock: SettableClock
) -> None:
    for _ in range(services.policy.lockout_threshold):
        await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong-pass1$"})
    user.status = AccountStatus.DELETED
    await user.save()

    deleted = await enqueue_lock_notices(services.composer, now=clock.now())
    user.status = AccountStatus.ACTIVE
    await user.save()
    clock.advance(services.policy.lockout_duration + timedelta(seconds=1))
    ran_out = await enqueue_lock_notices(services.composer, now=clock.now())

    assert (deleted, ran_out) == (0, 0)


async def test_a_notice_read_before_a_deletion_is_not_written_after_it(
    user: User, services: Services, clock: SettableClock
) -> None:
    """The sweep reads accounts, then inserts: a deletion (抹消) committed in
    between must not get the erased address back into the outbox."""
    await expire_in(user, clock, timedelta(days=5))
    stale = await User.get(id=user.id)  # what the sweep read
    mail = PasswordExpiring(
        to=stale.email,
        name=stale.name,
        auth_id=stale.auth_id,
        expires_at=clock.now() + timedelta(days=5),
        days=5,
    )
    key = f"expiry:7:{user.id}:test"
    build = _builder(services.composer, mail, clock.now(), user.id, key)
    await User.filter(id=user.id).update(
        status=AccountStatus.DELETED, email="", email_key=None, name=""
    )

    written = await _insert_new([(key, user.id, build)])

    assert written == 0
    assert not await OutboxMail.filter(recipient="taro@example.com").exists()
    # The same candidate for an account still there is written.
    await User.filter(id=user.id).update(status=AccountStatus.ACTIVE)
    assert await _insert_new([(key, user.id, build)]) == 1
