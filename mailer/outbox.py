"""Writing mails into the outbox, the state changes of a delivery, and erasing
the bodies of dead mails once they may no longer be retried.

A flow calls ``enqueue`` with the connection of its own transaction, so the mail
exists exactly when the change it reports does. Nothing here talks to SMTP.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from mailer.render import Composer, Mail
from models import MailStatus, OutboxMail

# How long a DEAD row keeps its body, so staff can queue it again (retryMail)
# once the cause is fixed. The body may hold a one-time link, which must not stay
# in the database for good; a link in a mail is at most a day old in the common
# case, so a retry after this would mostly send a link that no longer works.
DEAD_BODY_KEEP = timedelta(hours=24)


def outbox_row(
    composer: Composer,
    mail: Mail,
    *,
    now: datetime,
    user_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMail:
    """The unsaved row for ``mail``, due at once."""
    composed = composer.compose(mail, now=now)
    return OutboxMail(
        message_id=composed.message_id,
        kind=mail.KIND,
        user_id=user_id,
        recipient=composed.recipient,
        message=composed.message,
        next_attempt_at=now,
        dedupe_key=dedupe_key,
        created_at=now,
    )


async def enqueue(
    composer: Composer,
    mail: Mail,
    *,
    now: datetime,
    using_db: BaseDBAsyncClient,
    user_id: int | None = None,
) -> OutboxMail:
    """Write ``mail`` in the caller's transaction; the worker sends it after commit.

    ``using_db`` is required so that no flow can write a mail outside the
    transaction of the change it reports.
    """
    row = outbox_row(composer, mail, now=now, user_id=user_id)
    await row.save(using_db=using_db)
    return row


def _due(now: datetime) -> Q:
    return Q(status=MailStatus.PENDING, next_attempt_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


async def claim(*, now: datetime, limit: int, lease: timedelta) -> list[OutboxMail]:
    """Take up to ``limit`` due rows for this worker until ``now + lease``.

    On PostgreSQL rows another worker is claiming are skipped (FOR UPDATE SKIP
    LOCKED), so workers neither wait for nor double-claim each other. The update
    repeats the due condition, and the rows are read back by claim token, so a
    database without row locks (SQLite) cannot hand one row to two workers either.
    The attempt is counted here; ``release`` gives it back if the server turns out
    to be unreachable.
    """
    token = uuid.uuid4().hex
    async with in_transaction() as conn:
        # only(), not values_list(): Tortoise drops FOR UPDATE from the latter.
        due = (
            await OutboxMail.filter(_due(now))
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .only("id")
            .using_db(conn)
        )
        ids = [row.id for row in due]
        if not ids:
            return []
        await (
            OutboxMail.filter(_due(now), id__in=ids)
            .using_db(conn)
            .update(
                claim=token,
                claimed_until=now + lease,
                attempts=F("attempts") + 1,
            )
        )
    return await OutboxMail.filter(claim=token).order_by("next_attempt_at", "id")


async def extend(rows: Sequence[OutboxMail], *, until: datetime) -> int:
    """Keep a long batch's remaining rows claimed; return how many are still
    this worker's (fewer than ``rows`` means the lease ran out and another worker
    has taken some over)."""
    if not rows:
        return 0
    return await OutboxMail.filter(
        id__in=[row.id for row in rows], claim=rows[0].claim, status=MailStatus.PENDING
    ).update(claimed_until=until)


async def mark_sent(ids: Iterable[int], *, now: datetime) -> int:
    """The server took these: SENT, and the body (which may hold a link) erased.

    Not limited to this worker's claim: the mail went out, whoever holds the row.
    """
    ids = list(ids)
    if not ids:
        return 0
    return await OutboxMail.filter(id__in=ids, status=MailStatus.PENDING).update(
        status=MailStatus.SENT,
        sent_at=now,
        message=None,
        claim=None,
        claimed_until=None,
        last_error=None,
    )


async def mark_dead(row: OutboxMail, *, error: str) -> None:
    """Given up: DEAD with the error kept, never deleted.

    The body stays, so staff can queue the mail again once the cause is fixed
    (a full mailbox, a typo in the address); ``erase_dead_bodies`` erases it
    after DEAD_BODY_KEEP.

    This and the changes below touch a row only while this worker's claim holds,
    so a worker whose lease ran out cannot undo the claim of the one that took
    the row over.
    """
    await OutboxMail.filter(
        id=row.id, claim=row.claim, status=MailStatus.PENDING
    ).update(
        status=MailStatus.DEAD,
        claim=None,
        claimed_until=None,
        last_error=error,
    )


async def erase_dead_bodies(*, now: datetime) -> int:
    """Erase the bodies of DEAD rows written more than DEAD_BODY_KEEP before
    ``now``; return how many.

    Counted from ``created_at``, not from when the row died: the links in a body
    age from when the mail was written, and a row that took long to die should
    not keep its link longer for it. A row staff queue again is PENDING, so it
    keeps its body until it is sent or dies again.
    """
    return await OutboxMail.filter(
        status=MailStatus.DEAD,
        message__isnull=False,
        created_at__lt=now - DEAD_BODY_KEEP,
    ).update(message=None)


async def defer(row: OutboxMail, *, error: str, retry_at: datetime) -> None:
    """A temporary failure: try again at ``retry_at``."""
    await OutboxMail.filter(
        id=row.id, claim=row.claim, status=MailStatus.PENDING
    ).update(
        failures=F("failures") + 1,
        next_attempt_at=retry_at,
        claim=None,
        claimed_until=None,
        last_error=error,
    )


async def release(
    rows: Sequence[OutboxMail], *, error: str | None, retry_at: datetime
) -> None:
    """Hand rows back untried (server unreachable, batch cut short): the attempt
    counted at claim is given back, so an outage never uses up attempts."""
    ids = [row.id for row in rows]
    if not ids:
        return
    changes: dict[str, object] = {
        "attempts": F("attempts") - 1,
        "next_attempt_at": retry_at,
        "claim": None,
        "claimed_until": None,
    }
    if error is not None:
        changes["failures"] = F("failures") + 1
        changes["last_error"] = error
    await OutboxMail.filter(
        id__in=ids, claim=rows[0].claim, status=MailStatus.PENDING
    ).update(**changes)
