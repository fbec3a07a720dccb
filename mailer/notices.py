"""Mails nobody's request writes: password-expiry reminders and lock notices.

The worker enqueues them from committed state on every sweep. Each carries a
dedupe key (unique in the outbox), so a notice is written once however often,
and by however many workers, the sweep runs.
"""

import math
from datetime import UTC, datetime, timedelta

from mailer.outbox import outbox_row
from mailer.render import AccountLocked, Composer, PasswordExpiring
from models import AccountStatus, LoginThrottle, OutboxMail, User

REMINDER_DAYS = (7, 30)
_PAGE = 500


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")


async def _insert_new(rows: list[OutboxMail]) -> int:
    """Insert the rows whose dedupe key is not taken yet; return how many."""
    if not rows:
        return 0
    keys = [row.dedupe_key for row in rows]
    taken = {
        str(key)
        for key in await OutboxMail.filter(dedupe_key__in=keys).values_list(
            "dedupe_key", flat=True
        )
    }
    fresh = [row for row in rows if row.dedupe_key not in taken]
    # Another worker may insert the same key between the check and here: the
    # unique key turns that into a no-op (ON CONFLICT DO NOTHING / INSERT OR IGNORE).
    await OutboxMail.bulk_create(fresh, ignore_conflicts=True)
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
        rows = []
        for user in users:
            expires_at = user.password_expires_at
            if expires_at is None:  # excluded by the query; keeps mypy honest
                continue
            left = expires_at - now
            window = min(d for d in REMINDER_DAYS if left <= timedelta(days=d))
            days = min(window, math.ceil(left / timedelta(days=1)))
            mail = PasswordExpiring(
                to=user.email,
                name=user.name,
                auth_id=user.auth_id,
                expires_at=expires_at,
                days=days,
            )
            rows.append(
                outbox_row(
                    composer,
                    mail,
                    now=now,
                    user_id=user.id,
                    dedupe_key=f"expiry:{window}:{user.id}:{_stamp(expires_at)}",
                )
            )
        written += await _insert_new(rows)
        last_id = users[-1].id


async def enqueue_lock_notices(composer: Composer, *, now: datetime) -> int:
    """Tell the owner of each locked 認証ID, once per lock.

    Written by the sweep rather than by the login that locked the ID: a write
    that only happens for IDs that exist would make that login measurably slower
    for real IDs than for made-up ones.
    """
    written = 0
    last_key = ""
    while True:
        throttles = (
            await LoginThrottle.filter(key__gt=last_key, locked_until__gt=now)
            .order_by("key")
            .limit(_PAGE)
        )
        if not throttles:
            return written
        locks = {t.key: t.locked_until for t in throttles}
        users = await User.filter(auth_id__in=list(locks)).exclude(
            status=AccountStatus.DELETED
        )
        rows = []
        for user in users:
            locked_until = locks[user.auth_id]
            if locked_until is None:  # excluded by the query; keeps mypy honest
                continue
            mail = AccountLocked(
                to=user.email,
                name=user.name,
                auth_id=user.auth_id,
                locked_until=locked_until,
            )
            rows.append(
                outbox_row(
                    composer,
                    mail,
                    now=now,
                    user_id=user.id,
                    dedupe_key=f"locked:{user.id}:{_stamp(locked_until)}",
                )
            )
        written += await _insert_new(rows)
        last_key = throttles[-1].key
