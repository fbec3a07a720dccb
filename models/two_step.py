"""Two-step login's stored parts besides the user's columns: recovery codes
and the code step of a login in progress."""

from datetime import datetime

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from models.user import User


class RecoveryCode(Model):
    """One single-use recovery code, kept only as its keyed hash (see
    security.secretbox); shown to the user once, when made."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "recovery_codes"

    @classmethod
    async def use(cls, user_id: int, code_hash: str, *, now: datetime) -> bool:
        """Use the code up if it is this user's and unused (one statement: two
        requests with one code cannot both win)."""
        used = await cls.filter(
            user_id=user_id, code_hash=code_hash, used_at=None
        ).update(used_at=now)
        return used == 1

    @classmethod
    async def replace_all(
        cls,
        user_id: int,
        hashes: list[str],
        *,
        now: datetime,
        using_db: BaseDBAsyncClient,
    ) -> None:
        """The user's codes become ``hashes``; every earlier one stops working."""
        await cls.filter(user_id=user_id).using_db(using_db).delete()
        await cls.bulk_create(
            [cls(user_id=user_id, code_hash=h, created_at=now) for h in hashes],
            using_db=using_db,
        )

    @classmethod
    async def left(cls, user_id: int) -> int:
        return await cls.filter(user_id=user_id, used_at=None).count()


class LoginChallenge(Model):
    """The code step of a login: the password was right, a one-time code is
    still owed. Kept as the SHA-256 of its token; single use, short-lived, and
    tied to the password that was checked (a password change or reset
    meanwhile voids it)."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    # SHA-256 of the password hash the login verified.
    password_check = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    # Used up or voided: for good.
    used_at = fields.DatetimeField(null=True)
    # Held by a request while it checks a code (a second request on the same
    # challenge is refused meanwhile); given back after a wrong code.
    claimed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "login_challenges"

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at

    @classmethod
    async def claim(cls, challenge_id: int, *, now: datetime) -> bool:
        """Hold the challenge while a code is checked, if it is neither used
        nor held (one statement: of two requests, one gets it)."""
        held = await cls.filter(id=challenge_id, used_at=None, claimed_at=None).update(
            claimed_at=now
        )
        return held == 1

    @classmethod
    async def release(cls, challenge_id: int) -> None:
        """Give a held challenge back after a wrong code: unless it was voided
        meanwhile, it stays usable for another try (until it expires)."""
        await cls.filter(id=challenge_id).update(claimed_at=None)

    @classmethod
    async def use(cls, challenge_id: int, *, now: datetime) -> bool:
        """Use the challenge up (or void it) for good, if that did not happen
        already (one statement)."""
        used = await cls.filter(id=challenge_id, used_at=None).update(used_at=now)
        return used == 1

    @classmethod
    async def void_all(
        cls, user_id: int, *, now: datetime, using_db: BaseDBAsyncClient | None = None
    ) -> None:
        """End every open code step of the user (two-step login removed)."""
        await (
            cls.filter(user_id=user_id, used_at=None)
            .using_db(using_db)
            .update(used_at=now)
        )

    @classmethod
    async def purge(cls, *, before: datetime) -> int:
        return await cls.filter(expires_at__lt=before).delete()


async def remove_two_step(
    user_id: int, *, now: datetime, using_db: BaseDBAsyncClient
) -> None:
    """Two-step login off for the user (themselves, staff, or deletion): the
    secret, a begun set-up, the recovery codes and open code steps go."""
    await (
        User.filter(id=user_id)
        .using_db(using_db)
        .update(
            totp_secret=None,
            totp_last_step=None,
            totp_enabled_at=None,
            totp_pending_secret=None,
            totp_pending_until=None,
        )
    )
    await RecoveryCode.filter(user_id=user_id).using_db(using_db).delete()
    await LoginChallenge.void_all(user_id, now=now, using_db=using_db)
