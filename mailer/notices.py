"""Mails nobody's request writes: password-expiry reminders and lock notices.

The worker enqueues them from committed state on every sweep. Each carries a
dedupe key (unique in the outbox), so a notice is written once however often,
and by however many workers, the sweep runs.
"""

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from mailer.outbox import outbox_row
from mailer.render import AccountLocked, Composer, Mail, PasswordExpiring
from mailer.smtp import clean_text
from models import AccountStatus, LoginThrottle, OutboxMail, User

logger = logging.getLogger("ras_identity.mail")

REMINDER_DAYS = (7, 30)
_PAGE = 500


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")


# (dedupe key, the account's id, how to compose the row)
Pending = list[tuple[str, int, Callable[[], OutboxMail]]]


async def _insert_new(candidates: Pending) -> int:
    """Compose and insert the notices whose dedupe key is not taken yet, for
    accounts not deleted meanwhile.

    The candidates were read before; a deletion (抹消) may have committed
    since, or be under way. Under the accounts' row locks, in the insert's
    transaction, a committed deletion is seen and one under way is waited
    for: a notice composed from the old row must not put the erased address
    and name back into the outbox."""
    if not candidates:
        return 0
    async with in_transaction() as conn:
        ids = sorted({user_id for _, user_id, _ in candidates})
        alive = {
            user.id
            for user in await User.select_for_update().using_db(conn).filter(id__in=ids)
            if user.status is not AccountStatus.DELETED
        }
        taken = {
            str(key)
            for key in await OutboxMail.filter(
                dedupe_key__in=[key for key, _, _ in candidates]
            )
            .using_db(conn)
            .values_list("dedupe_key", flat=True)
        }
        fresh = []
        for key, user_id, build in candidates:
            if key in taken or user_id not in alive:
                continue
            try:
                fresh.append(build())
            except ValueError as exc:
                # One bad row (an address imported around the checks) must not
                # stop everyone else's notices.
                logger.error("notice %s not written: %s", key, clean_text(str(exc)))

        # Another worker may insert the same key between the check and here: the
        # unique key turns that into a no-op (ON CONFLICT DO NOTHING / INSERT OR
        # IGNORE).
        await OutboxMail.bulk_create(fresh, ignore_conflicts=True, using_db=conn)
    return len(fresh)


async def enqueue_expiry_reminders(composer: Composer, *, now: datetime) -> int:
    """Remind active users whose password expires within 30 (then 7) days.

    Once per password and window: the key holds the password's expiry time, so a
    new password gets new reminders. A user first seen inside 7 days gets only the
    7-day reminder.
    """
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    written = 0
    last_id = 0
    while True:
        users = (
            await User.filter(
                id__gt=last_id,
                status=AccountStatus.ACTIVE,
                password_hash__isnull=False,
                password_expires_at__gt=now,
                password_expires_at__lte=horizon,
            )
            .order_by("id")
            .limit(_PAGE)
        )
        if not users:
            return written
        candidates: Pending = []
        for user in users:
            expires_at = user.password_expires_at
            if expires_at is None:  # excluded by the query; keeps mypy honest
                continue
            left = expires_at - now
            window = min(d for d in REMINDER_DAYS if left <= timedelta(days=d))
            mail = PasswordExpiring(
                to=user.email,
                name=user.name,
                auth_id=user.auth_id,
                expires_at=expires_at,
                days=min(window, math.ceil(left / timedelta(days=1))),
            )
            key = f"expiry:{window}:{user.id}:{_stamp(expires_at)}"
            candidates.append(
                (key, user.id, _builder(composer, mail, now, user.id, key))
            )
        written += await _insert_new(candidates)
        last_id = users[-1].id


def _builder(
    composer: Composer, mail: Mail, now: datetime, user_id: int, key: str
) -> Callable[[], OutboxMail]:
    return lambda: outbox_row(composer, mail, now=now, user_id=user_id, dedupe_key=key)


async def enqueue_lock_notices(composer: Composer, *, now: datetime) -> int:
    """Tell the owner of each locked 認証ID, once per lock.

    Written by the sweep rather than by the login that locked the ID: a write
    that only happens for IDs that exist would make that login measurably slower
    for real IDs than for made-up ones. The database joins the locks to real
    accounts, so locks on made-up IDs (however many an attacker makes) cost the
    sweep nothing.
    """
    locked_keys = Subquery(LoginThrottle.filter(locked_until__gt=now).values("key"))
    written = 0
    last_id = 0
    while True:
        users = (
            await User.filter(id__gt=last_id, auth_id__in=locked_keys)
            .exclude(status=AccountStatus.DELETED)
            .order_by("id")
            .limit(_PAGE)
        )
        if not users:
            return written
        locks = dict(
            await LoginThrottle.filter(
                key__in=[user.auth_id for user in users], locked_until__gt=now
            ).values_list("key", "locked_until")
        )
        candidates: Pending = []
        for user in users:
            locked_until = locks.get(user.auth_id)
            if locked_until is None:  # the lock ran out between the two queries
                continue
            mail = AccountLocked(
                to=user.email,
                name=user.name,
                auth_id=user.auth_id,
                locked_until=locked_until,
            )
            key = f"locked:{user.id}:{_stamp(locked_until)}"
            candidates.append(
                (key, user.id, _builder(composer, mail, now, user.id, key))
            )
        written += await _insert_new(candidates)
        last_id = users[-1].id
