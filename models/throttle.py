"""Consecutive login failures, per submitted auth ID whether or not it exists."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.audit import AuditEvent, AuditType, Origin
from models.staff import STAFF_KEY_PREFIX, Staff
from models.user import User

# A slot whose attempt has not finished after this long is taken for dead (its
# process died between reserve and finish); argon2 never takes near this long.
SLOT_LIFETIME = timedelta(seconds=30)


class Reservation(Enum):
    """Whether an attempt may check its password now."""

    GRANTED = "granted"
    LOCKED = "locked"
    BUSY = "busy"


class Verdict(Enum):
    """What a finished attempt amounts to."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who checks a password, for the audit event the outcome writes: where
    from, the auth ID as it may be shown (None unless it has the form of an
    issued one), the account once known, the codes a failure and a lock are
    answered with, and what was being done (login, changePassword…)."""

    origin: Origin
    auth_id: str | None
    rejected: str
    locked: str
    detail: str | None = None
    user_id: int | None = None
    staff_id: int | None = None
    # A one-time or recovery code (not a password) was what was wrong.
    wrong_code: bool = False

    async def record(
        self,
        type: AuditType,
        outcome: str,
        *,
        at: datetime,
        using_db: BaseDBAsyncClient | None = None,
    ) -> None:
        await AuditEvent.record(
            type,
            at=at,
            origin=self.origin,
            outcome=outcome,
            user_id=self.user_id,
            auth_id=self.auth_id,
            detail=self.detail,
            staff_id=self.staff_id,
            using_db=using_db,
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """The lockout rule in force."""

    threshold: int
    lock_for: timedelta


class LoginSlot(Model):
    """One password check in progress for an auth ID, with its own expiry."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=32, db_index=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "login_slots"


class LoginThrottle(Model):
    """Consecutive failures and the lock of one submitted auth ID.

    Keyed by what was typed (normalised), not by a user row, so neither the
    answer nor the lock tells an attacker whether an ID exists.

    An attempt takes a slot (a LoginSlot row) before its password is checked;
    failures plus live slots never exceed the threshold, so N parallel guesses
    get at most ``threshold`` password checks. All reads and writes happen with
    this row locked, and the row is only ever deleted by ``purge``.
    """

    key = fields.CharField(max_length=32, primary_key=True)
    failures = fields.IntField(default=0)
    # Of ``failures``, those of wrong one-time or recovery codes (two-step
    # login): a password reset does not forget them (see ``clear_for_reset``).
    code_failures = fields.IntField(default=0, db_default=0)
    locked_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "login_throttles"

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def current_failures(self) -> int:
        """Failures that still count: a lock that has run out starts a new run."""
        return 0 if self.locked_until is not None else self.failures

    def current_code_failures(self) -> int:
        return 0 if self.locked_until is not None else self.code_failures

    @classmethod
    async def _locked_row(
        cls, key: str, now: datetime, conn: BaseDBAsyncClient
    ) -> "LoginThrottle":
        # An upsert takes the row lock in one statement, so a concurrent purge
        # cannot delete the row between "make sure it exists" and "lock it".
        seed = cls(key=key, updated_at=now)
        await cls.bulk_create(
            [seed], on_conflict=["key"], update_fields=["updated_at"], using_db=conn
        )
        return await cls.select_for_update().using_db(conn).get(key=key)

    @classmethod
    async def reserve(
        cls, key: str, *, now: datetime, limits: Limits, attempt: Attempt
    ) -> tuple[Reservation, int | None]:
        """A slot for one password check, or why not (with the slot's ID). A
        locked ID's attempt is recorded as a failure answered as locked."""
        async with in_transaction() as conn:
            row = await cls._locked_row(key, now, conn)
            if row.locked(now):
                # The account or staff member (if the ID is one) sees the
                # refused attempt too; every locked ID, real or not, pays the
                # same lookup.
                if key.startswith(STAFF_KEY_PREFIX):
                    staff = await (
                        Staff.filter(login_id=key.removeprefix(STAFF_KEY_PREFIX))
                        .using_db(conn)
                        .first()
                    )
                    attempt = replace(
                        attempt, staff_id=staff.id if staff else attempt.staff_id
                    )
                else:
                    owner = await User.filter(auth_id=key).using_db(conn).first()
                    attempt = replace(
                        attempt, user_id=owner.id if owner else attempt.user_id
                    )
                await attempt.record(
                    AuditType.LOGIN_FAILED, attempt.locked, at=now, using_db=conn
                )
                return Reservation.LOCKED, None
            live = (
                await LoginSlot.filter(key=key, expires_at__gt=now)
                .using_db(conn)
                .count()
            )
            if row.current_failures() + live >= limits.threshold:
                return Reservation.BUSY, None
            slot = await LoginSlot.create(
                key=key, expires_at=now + SLOT_LIFETIME, using_db=conn
            )
            return Reservation.GRANTED, slot.id

    @classmethod
    async def finish(
        cls,
        key: str,
        slot: int,
        *,
        correct: bool,
        now: datetime,
        limits: Limits,
        attempt: Attempt,
        clears: bool = True,
    ) -> Verdict:
        """Give the slot back and record the outcome, with its audit event (a
        failure, or the lock it set; a right password's event is its caller's,
        who knows what the login amounts to).

        A right secret ends the run of failures only when it ``clears``: a
        password alone does not, for an account whose login also needs a
        one-time code (else each right password would buy the code guesser
        a fresh run).

        A lock in force wins over the outcome: a late failure does not extend
        it, and a late correct password does not lift it (nor is it accepted).
        """
        async with in_transaction() as conn:
            row = await cls._locked_row(key, now, conn)
            await LoginSlot.filter(id=slot).using_db(conn).delete()
            if row.locked(now):
                await attempt.record(
                    AuditType.LOGIN_FAILED, attempt.locked, at=now, using_db=conn
                )
                return Verdict.LOCKED
            if correct and not clears:
                return Verdict.ACCEPTED
            if correct:
                await (
                    cls.filter(key=key)
                    .using_db(conn)
                    .update(
                        failures=0, code_failures=0, locked_until=None, updated_at=now
                    )
                )
                return Verdict.ACCEPTED
            failures = row.current_failures() + 1
            code_failures = row.current_code_failures() + int(attempt.wrong_code)
            locks = failures >= limits.threshold
            await (
                cls.filter(key=key)
                .using_db(conn)
                .update(
                    failures=failures,
                    code_failures=code_failures,
                    locked_until=now + limits.lock_for if locks else None,
                    updated_at=now,
                )
            )
            if locks:
                await attempt.record(
                    AuditType.LOGIN_LOCKED, attempt.locked, at=now, using_db=conn
                )
                return Verdict.LOCKED
            await attempt.record(
                AuditType.LOGIN_FAILED, attempt.rejected, at=now, using_db=conn
            )
            return Verdict.REJECTED

    @classmethod
    async def clear(
        cls, key: str, *, now: datetime, using_db: BaseDBAsyncClient | None = None
    ) -> None:
        """Forget the run of failures and lift the lock (a completed password
        reset; a staff unlock)."""
        await (
            cls.filter(key=key)
            .using_db(using_db)
            .update(failures=0, code_failures=0, locked_until=None, updated_at=now)
        )

    @classmethod
    async def clear_for_reset(
        cls, key: str, *, now: datetime, using_db: BaseDBAsyncClient
    ) -> bool:
        """What a completed password reset of an account with two-step login
        does to its counter: clear it, unless wrong codes are part of the
        current run or of the lock in force. Whoever holds the mailbox can make
        resets; each must not buy a code guesser another run. Such a lock
        lifts with time or a staff unlock. True when cleared."""
        row = await cls.select_for_update().using_db(using_db).get_or_none(key=key)
        if row is None:
            return True
        in_run = row.locked_until is None or row.locked(now)
        if in_run and row.code_failures > 0:
            return False
        await cls.clear(key, now=now, using_db=using_db)
        return True

    @classmethod
    async def purge(cls, *, now: datetime, idle_for: timedelta) -> int:
        """Delete counters with no lock in force and no activity for ``idle_for``
        (a run of failures that old is no longer consecutive guessing), and
        slots that have expired. Returns how many counters went."""
        await LoginSlot.filter(expires_at__lte=now).delete()
        unlocked = Q(locked_until=None) | Q(locked_until__lte=now)
        return await cls.filter(unlocked, updated_at__lt=now - idle_for).delete()


class RequestThrottle(Model):
    """Requests of one kind for one key within a sliding window.

    Password-reset requests per auth ID and registrations per address (nobody
    can guess addresses or flood a mailbox through the service), email changes
    per account, and the limits per client address. Each counted request is a
    RequestEvent row; this row is what a request locks while it counts, so two
    at once cannot both take the last place. The window slides: at most
    ``limit`` requests in any ``window`` (a fixed window let 39 failed logins
    through in two seconds around its end).
    """

    key = fields.CharField(max_length=80, primary_key=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "request_throttles"

    @classmethod
    async def _lock(cls, key: str, now: datetime, conn: BaseDBAsyncClient) -> None:
        # An upsert takes the row lock in one statement (see LoginThrottle).
        seed = cls(key=key, updated_at=now)
        await cls.bulk_create(
            [seed], on_conflict=["key"], update_fields=["updated_at"], using_db=conn
        )
        await cls.select_for_update().using_db(conn).get(key=key)

    @staticmethod
    async def _wait(
        key: str,
        *,
        now: datetime,
        window: timedelta,
        limit: int,
        conn: BaseDBAsyncClient | None = None,
    ) -> timedelta | None:
        """How long until one of ``limit`` requests in the window leaves it,
        or None when fewer were made."""
        recent = (
            await RequestEvent.filter(key=key, at__gt=now - window)
            .using_db(conn)
            .order_by("-at", "-id")
            .limit(limit)
            .values_list("at", flat=True)
        )
        if len(recent) < limit:
            return None
        oldest: datetime = recent[-1]  # type: ignore[assignment]  # values_list
        return oldest + window - now

    @classmethod
    async def take(
        cls, key: str, *, now: datetime, window: timedelta, limit: int
    ) -> timedelta | None:
        """Count one request: None when counted, or, when ``limit`` requests
        were already made within ``window`` before ``now``, how long until the
        oldest of them leaves it (and nothing is counted)."""
        async with in_transaction() as conn:
            await cls._lock(key, now, conn)
            wait = await cls._wait(key, now=now, window=window, limit=limit, conn=conn)
            if wait is None:
                await RequestEvent.create(key=key, at=now, using_db=conn)
            return wait

    @classmethod
    async def give_back(cls, key: str, *, now: datetime, window: timedelta) -> None:
        """Uncount the newest request still in the window (a login whose
        password proved right was no failure)."""
        async with in_transaction() as conn:
            await cls._lock(key, now, conn)
            newest = (
                await RequestEvent.filter(key=key, at__gt=now - window)
                .using_db(conn)
                .order_by("-at", "-id")
                .first()
            )
            if newest is not None:
                await RequestEvent.filter(id=newest.id).using_db(conn).delete()

    @classmethod
    async def exhausted(
        cls, key: str, *, now: datetime, window: timedelta, limit: int
    ) -> timedelta | None:
        """How long until a place frees up when ``limit`` requests were made
        within the window, else None (nothing is counted)."""
        return await cls._wait(key, now=now, window=window, limit=limit)

    @classmethod
    async def purge(cls, *, now: datetime, older_than: timedelta) -> int:
        """Delete requests older than any window (``older_than``), and the keys
        that have none left. Returns how many requests went."""
        cutoff = now - older_than
        events = await RequestEvent.filter(at__lte=cutoff).delete()
        await cls.filter(updated_at__lte=cutoff).delete()
        return events


class RequestEvent(Model):
    """One counted request of a RequestThrottle key."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=80)
    at = fields.DatetimeField()

    class Meta:
        table = "request_events"
        indexes = (("key", "at"),)
