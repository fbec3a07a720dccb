"""Consecutive login failures, per submitted auth ID whether or not it exists."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of reserving one login attempt.

    ``refused``: the ID is locked, the password must not be checked.
    ``locks``: this attempt is the one that reached the threshold; if its
    password turns out wrong, the answer is the lock.
    """

    refused: bool
    locks: bool = False


class LoginThrottle(Model):
    """A failure counter and lock for one submitted (normalised) auth ID.

    Keyed by what was typed, not by a user row, so neither the answer nor the
    lock tells an attacker whether an ID exists.
    """

    key = fields.CharField(max_length=64, primary_key=True)
    failures = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "login_throttles"

    @classmethod
    async def reserve_attempt(
        cls, key: str, *, now: datetime, threshold: int, lock_for: timedelta
    ) -> Attempt:
        """Count an attempt as failed *before* its password is checked.

        Counting first (and undoing it on success with ``clear``) is what makes
        parallel guesses safe: the row is locked while it is read and written,
        so N simultaneous attempts get at most ``threshold`` password checks.
        The attempt that reaches the threshold sets the lock at once, so a crash
        while its password is being checked cannot leave a counter with no lock.
        """
        async with in_transaction() as conn:
            seed = cls(key=key, failures=0, updated_at=now)
            await cls.bulk_create([seed], ignore_conflicts=True, using_db=conn)
            row = await cls.select_for_update().using_db(conn).get(key=key)
            if row.locked_until is not None and row.locked_until > now:
                return Attempt(refused=True)
            failures = 1 if row.locked_until is not None else row.failures + 1
            locks = failures >= threshold
            await (
                cls.filter(key=key)
                .using_db(conn)
                .update(
                    failures=failures,
                    locked_until=now + lock_for if locks else None,
                    updated_at=now,
                )
            )
            return Attempt(refused=False, locks=locks)

    @classmethod
    async def clear(cls, key: str) -> None:
        """A correct password ends the run of consecutive failures (and any lock)."""
        await cls.filter(key=key).delete()
