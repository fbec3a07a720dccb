"""A dead mail keeps its body for DEAD_BODY_KEEP, so staff can queue it again;
then ``erase_dead_bodies`` erases it, since it may hold a one-time link.

Each test runs on a real SQLite file and on real PostgreSQL.
"""

from datetime import datetime, timedelta

from mailer.outbox import (
    DEAD_BODY_KEEP,
    claim,
    erase_dead_bodies,
    mark_dead,
    mark_sent,
    outbox_row,
)
from models import MailStatus, OutboxMail, User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import reset_mail

LEASE = timedelta(minutes=5)
REFUSAL = "550 5.1.1 <t***@example.com>: no such user"


async def written(services: Services, user: User, *, at: datetime) -> OutboxMail:
    """A PENDING mail with a one-time link in its body, written at ``at``."""
    row = outbox_row(
        services.composer,
        reset_mail(user, token=f"secret-token-{at.isoformat()}"),
        now=at,
        user_id=user.id,
    )
    await row.save()
    return row


async def dead(services: Services, user: User, *, at: datetime) -> OutboxMail:
    """A mail written at ``at`` and refused for good at once, as the worker does:
    claimed, then marked DEAD under that claim."""
    row = await written(services, user, at=at)
    [claimed] = await claim(now=at, limit=1, lease=LEASE)
    assert claimed.id == row.id
    await mark_dead(claimed, error=REFUSAL)
    return row


async def test_a_mail_marked_dead_keeps_its_body(
    user: User, services: Services, clock: SettableClock
) -> None:
    row = await dead(services, user, at=clock.now())

    stored = await OutboxMail.get(id=row.id)
    assert stored.status is MailStatus.DEAD
    assert stored.last_error == REFUSAL
    assert stored.claim is None
    assert stored.message is not None
    assert stored.message == row.message  # byte for byte what a retry would send


async def test_only_dead_bodies_older_than_the_keep_time_are_erased(
    user: User, services: Services, clock: SettableClock
) -> None:
    now = clock.now() + DEAD_BODY_KEEP + timedelta(hours=6)
    long_ago = now - DEAD_BODY_KEEP - timedelta(hours=1)
    # Rows marked dead first: ``claim`` takes the oldest due row.
    old_dead = await dead(services, user, at=long_ago)
    older_dead = await dead(services, user, at=long_ago - timedelta(days=3))
    at_the_limit = await dead(services, user, at=now - DEAD_BODY_KEEP)
    young_dead = await dead(services, user, at=now - timedelta(hours=1))
    sent = await written(services, user, at=long_ago)
    [claimed] = await claim(now=long_ago, limit=1, lease=LEASE)
    assert claimed.id == sent.id
    assert await mark_sent([sent.id], now=long_ago) == 1
    # Still waiting for the server (an outage): it has yet to be sent.
    old_pending = await written(services, user, at=long_ago)

    erased = await erase_dead_bodies(now=now)

    assert erased == 2
    after = {row.id: row for row in await OutboxMail.all()}
    for row in (old_dead, older_dead):
        assert after[row.id].message is None
        # Only the body goes: the row and what became of it stay.
        assert after[row.id].status is MailStatus.DEAD
        assert after[row.id].last_error == REFUSAL
    for row in (at_the_limit, young_dead, old_pending):
        assert after[row.id].message == row.message
    assert after[old_pending.id].status is MailStatus.PENDING
    assert after[sent.id].status is MailStatus.SENT
    assert after[sent.id].sent_at == long_ago


async def test_erasing_again_counts_only_bodies_still_kept(
    user: User, services: Services, clock: SettableClock
) -> None:
    start = clock.now()
    await dead(services, user, at=start)

    assert await erase_dead_bodies(now=start) == 0
    assert await erase_dead_bodies(now=start + DEAD_BODY_KEEP) == 0
    later = start + DEAD_BODY_KEEP + timedelta(seconds=1)
    assert await erase_dead_bodies(now=later) == 1
    assert await erase_dead_bodies(now=later) == 0  # nothing left to erase
    assert await erase_dead_bodies(now=later + timedelta(days=30)) == 0
