"""Housekeeping: stale lockout counters and long-ended sessions are deleted."""

from datetime import timedelta

from models import (
    Limits,
    LinkToken,
    LoginSlot,
    LoginThrottle,
    RequestThrottle,
    User,
    UserSession,
)
from resolvers.admin import purge_stale
from schema.context import Services
from tests.support import Caller, log_in

LIMITS = Limits(threshold=5, lock_for=timedelta(hours=24))


async def _failed(key: str, services: Services, times: int = 1) -> None:
    for _ in range(times):
        now = services.clock.now()
        _, slot = await LoginThrottle.reserve(key, now=now, limits=LIMITS)
        assert slot is not None
        await LoginThrottle.finish(key, slot, correct=False, now=now, limits=LIMITS)


async def test_purge_keeps_recent_and_locked_counters(
    execute: Caller, services: Services
) -> None:
    await _failed("OLDFAIL", services)
    await _failed("LOCKED", services, times=5)
    services.clock.advance(timedelta(hours=23))  # type: ignore[attr-defined]
    await _failed("RECENT", services)
    services.clock.advance(timedelta(hours=1, seconds=1))  # type: ignore[attr-defined]

    purged = await purge_stale(services)

    remaining = {row.key async for row in LoginThrottle.all()}
    assert remaining == {"RECENT"}
    assert purged.throttles == 2


async def test_purge_keeps_a_lock_that_is_still_in_force(
    services: Services, db: str
) -> None:
    await _failed("LOCKED", services, times=5)
    services.clock.advance(timedelta(hours=23))  # type: ignore[attr-defined]
    await _failed("OTHER", services)  # activity elsewhere does not matter

    await purge_stale(services)

    assert await LoginThrottle.filter(key="LOCKED").exists()


async def test_a_dead_slot_does_not_keep_old_failures_alive(
    services: Services, db: str
) -> None:
    await LoginThrottle.reserve("DEADSLOT", now=services.clock.now(), limits=LIMITS)
    await _failed("DEADSLOT", services, times=3)
    services.clock.advance(timedelta(hours=25))  # type: ignore[attr-defined]

    purged = await purge_stale(services)

    assert purged.throttles == 1
    assert await LoginSlot.all().count() == 0


async def test_purge_deletes_sessions_ended_over_30_days_ago(
    execute: Caller, user: User, services: Services
) -> None:
    await log_in(execute, user.auth_id)
    services.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    fresh = await log_in(execute, user.auth_id)

    purged = await purge_stale(services)

    assert purged.sessions == 1
    assert await UserSession.all().count() == 1
    me = await execute("query { me { __typename } }", token=fresh)
    assert me["me"]["__typename"] == "User"


async def test_purge_deletes_ended_request_windows_and_links_expired_long_ago(
    execute: Caller, user: User, services: Services
) -> None:
    ask = (
        "mutation($a: String!, $e: String!) { requestPasswordReset(input: "
        "{authId: $a, email: $e}) { __typename } }"
    )
    await execute(ask, {"a": user.auth_id, "e": user.email})
    services.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    await execute(ask, {"a": "ABCDEFGH23", "e": user.email})

    purged = await purge_stale(services)

    assert (purged.requests, purged.links) == (1, 1)
    assert [row.key async for row in RequestThrottle.all()] == ["reset-miss:ABCDEFGH23"]
    assert await LinkToken.all().count() == 0
