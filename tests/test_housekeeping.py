"""Housekeeping: stale lockout counters and long-ended sessions are deleted."""

from datetime import timedelta

from mailer.outbox import outbox_row
from models import (
    Limits,
    LinkToken,
    LoginSlot,
    LoginThrottle,
    MailStatus,
    OutboxMail,
    RequestThrottle,
    StaffRole,
    StaffSession,
    User,
    UserSession,
)
from resolvers.context import Services
from resolvers.housekeeping import purge_stale
from security.clock import SettableClock
from tests.admin_support import make_staff
from tests.support import ATTEMPT, Caller, log_in, request_reset, reset_mail

LIMITS = Limits(threshold=5, lock_for=timedelta(hours=24))


async def _failed(key: str, services: Services, times: int = 1) -> None:
    for _ in range(times):
        now = services.clock.now()
        _, slot = await LoginThrottle.reserve(
            key, now=now, limits=LIMITS, attempt=ATTEMPT
        )
        assert slot is not None
        await LoginThrottle.finish(
            key, slot, correct=False, now=now, limits=LIMITS, attempt=ATTEMPT
        )


async def test_purge_keeps_recent_and_locked_counters(
    execute: Caller, services: Services, clock: SettableClock
) -> None:
    await _failed("OLDFAIL", services)
    await _failed("LOCKED", services, times=5)
    clock.advance(timedelta(hours=23))
    await _failed("RECENT", services)
    clock.advance(timedelta(hours=1, seconds=1))

    purged = await purge_stale(services)

    remaining = {row.key async for row in LoginThrottle.all()}
    assert remaining == {"RECENT"}
    assert purged.throttles == 2


async def test_purge_keeps_a_lock_that_is_still_in_force(
    services: Services, clock: SettableClock, db: str
) -> None:
    await _failed("LOCKED", services, times=5)
    clock.advance(timedelta(hours=23))
    await _failed("OTHER", services)  # activity elsewhere does not matter

    await purge_stale(services)

    assert await LoginThrottle.filter(key="LOCKED").exists()


async def test_a_dead_slot_does_not_keep_old_failures_alive(
    services: Services, clock: SettableClock, db: str
) -> None:
    await LoginThrottle.reserve(
        "DEADSLOT", now=services.clock.now(), limits=LIMITS, attempt=ATTEMPT
    )
    await _failed("DEADSLOT", services, times=3)
    clock.advance(timedelta(hours=25))

    purged = await purge_stale(services)

    assert purged.throttles == 1
    assert await LoginSlot.all().count() == 0


async def test_purge_deletes_sessions_ended_over_30_days_ago(
    execute: Caller, user: User, services: Services, clock: SettableClock
) -> None:
    await log_in(execute, user.auth_id)
    clock.advance(timedelta(days=31))
    fresh = await log_in(execute, user.auth_id)

    purged = await purge_stale(services)

    assert purged.sessions == 1
    assert await UserSession.all().count() == 1
    me = await execute("query { me { __typename } }", token=fresh)
    assert me["me"]["__typename"] == "User"


async def test_purge_deletes_ended_request_windows_and_links_expired_long_ago(
    execute: Caller, user: User, services: Services, clock: SettableClock
) -> None:
    await request_reset(execute, user.auth_id, user.email)
    clock.advance(timedelta(days=31))
    await request_reset(execute, "ABCDEFGH23", user.email)

    purged = await purge_stale(services)

    assert (purged.requests, purged.links) == (1, 1)
    assert [row.key async for row in RequestThrottle.all()] == ["reset-miss:ABCDEFGH23"]
    assert await LinkToken.all().count() == 0


async def test_purge_deletes_staff_sessions_ended_long_ago_and_old_dead_bodies(
    execute: Caller, user: User, services: Services, clock: SettableClock
) -> None:
    staff = await make_staff(services, "ops.sato", StaffRole.OPERATOR)

    async def session(n: int) -> StaffSession:
        now = clock.now()
        return await StaffSession.create(
            staff_id=staff.id,
            token_hash=str(n) * 64,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=8),
            revoked_at=now,
        )

    old = await session(1)
    row = outbox_row(services.composer, reset_mail(user), now=clock.now())
    row.status = MailStatus.DEAD
    await row.save()
    clock.advance(timedelta(days=31))
    recent = await session(2)

    await purge_stale(services)

    assert not await StaffSession.exists(id=old.id)
    assert await StaffSession.exists(id=recent.id)
    assert await OutboxMail.filter(
        id=row.id, status=MailStatus.DEAD, message__isnull=True
    ).exists()
