"""Consecutive login failures, per submitted auth ID whether or not it exists."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

# An attempt whose process died between reserve and finish stops holding a slot
# after this long without a new reservation; argon2 never takes near this long.
IN_FLIGHT_STALE_AFTER = timedelta(seconds=30)


class Reservation(Enum):
    """Whether an attempt may check its password now."""

    GRANTED = "granted"
    LOCKED = "locked"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class Limits:
    """The lockout rule in force."""

    threshold: int
    lock_for: timedelta


class LoginThrottle(Model):
    """Failures, in-flight attempts and the lock of one submitted auth ID.

    Keyed by what was typed (normalised), not by a user row, so neither the
    answer nor the lock tells an attacker whether an ID exists.

    Attempts reserve a slot before their password is checked, and failures plus
    in-flight attempts never exceed the threshold, so N parallel guesses get at
    most ``threshold`` password checks. An attempt that finds every slot taken by
    in-flight attempts is BUSY (it waits and asks again) rather than locked: a
    burst of correct logins must not be told the account is locked.
    """

    key = fields.CharField(max_length=32, primary_key=True)
    failures = fields.IntField(default=0)
    in_flight = fields.IntField(default=0)
    in_flight_until = fields.DatetimeField(null=True)
    locked_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "login_throttles"

    @classmethod
    async def reserve(cls, key: str, *, now: datetime, limits: Limits) -> Reservation:
        async with in_transaction() as conn:
            seed = cls(key=key, updated_at=now)
            await cls.bulk_create([seed], ignore_conflicts=True, using_db=conn)
            row = await cls.select_for_update().using_db(conn).get(key=key)
            if row.locked_until is not None and row.locked_until > now:
                return Reservation.LOCKED
            failures = 0 if row.locked_until is not None else row.failures
            in_flight = row.in_flight
            if row.in_flight_until is not None and row.in_flight_until <= now:
                in_flight = 0
            if failures + in_flight >= limits.threshold:
                return Reservation.BUSY
            await (
                cls.filter(key=key)
                .using_db(conn)
                .update(
                    failures=failures,
                    in_flight=in_flight + 1,
                    in_flight_until=now + IN_FLIGHT_STALE_AFTER,
                    locked_until=None,
                    updated_at=now,
                )
            )
            return Reservation.GRANTED

    @classmethod
    async def record_failure(cls, key: str, *, now: datetime, limits: Limits) -> bool:
        """Release the slot and count a failure; True when this one locks the ID."""
        async with in_transaction() as conn:
            # The row may be gone if this attempt outlived IN_FLIGHT_STALE_AFTER.
            seed = cls(key=key, updated_at=now)
            await cls.bulk_create([seed], ignore_conflicts=True, using_db=conn)
            row = await cls.select_for_update().using_db(conn).get(key=key)
            failures = row.failures + 1
            locks = failures >= limits.threshold
            await (
                cls.filter(key=key)
                .using_db(conn)
                .update(
                    failures=failures,
                    in_flight=max(row.in_flight - 1, 0),
                    locked_until=now + limits.lock_for if locks else None,
                    updated_at=now,
                )
            )
            return locks

    @classmethod
    async def record_success(cls, key: str, *, now: datetime) -> None:
        """Release the slot; a correct password ends the run of failures."""
        async with in_transaction() as conn:
            row = await cls.select_for_update().using_db(conn).get_or_none(key=key)
            if row is None:
                return
            in_flight = max(row.in_flight - 1, 0)
            if in_flight == 0:
                await cls.filter(key=key).using_db(conn).delete()
                return
            await (
                cls.filter(key=key)
                .using_db(conn)
                .update(failures=0, in_flight=in_flight, updated_at=now)
            )

    @classmethod
    async def purge(cls, *, now: datetime, idle_for: timedelta) -> int:
        """Delete rows with no lock and no activity for ``idle_for``: a run of
        failures that old no longer counts as consecutive guessing."""
        unlocked = Q(locked_until=None) | Q(locked_until__lte=now)
        return await cls.filter(
            unlocked, updated_at__lt=now - idle_for, in_flight=0
        ).delete()
