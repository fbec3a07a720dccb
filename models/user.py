"""The account: one applicant of the category this service serves."""

from datetime import datetime, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model

from models.audit import AuditEvent, AuditType, Origin


class UserCategory(StrEnum):
    """利用者区分. This service serves one category; the enum leaves room for more."""

    COUNTER_COE_ELECTRONIC = "counter_coe_electronic"


class Lang(StrEnum):
    """A language the service answers in (messages, mails, notices), and the one
    a user chose at registration (portal screens, help desk)."""

    JA = "ja"
    EN = "en"


class AccountStatus(StrEnum):
    """What staff decided about the account; checked only after a correct password."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"
    INVALID = "invalid"


class User(Model):
    """利用者: identified by the system-generated 認証ID (auth_id)."""

    id = fields.IntField(primary_key=True)
    auth_id = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=104)
    email = fields.CharField(max_length=254)
    # The address folded to lower case: one account per address (registration
    # mails the owner instead of making a second one). Null only on rows made
    # before the column existed whose address another row already had.
    email_key = fields.CharField(max_length=254, null=True, unique=True)
    date_of_birth = fields.DateField(null=True)
    # ISO 3166-1 alpha-3, as in the passport.
    nationality = fields.CharField(max_length=3, null=True)
    language = fields.CharEnumField(
        Lang,
        max_length=2,
        default=Lang.JA,
        # Rows made before the column existed get Japanese, the default.
        db_default=Lang.JA.value,
    )
    phone = fields.CharField(max_length=12, null=True)
    municipality_code = fields.CharField(max_length=6, null=True)
    prefecture_name = fields.CharField(max_length=16, null=True)
    municipality_name = fields.CharField(max_length=64, null=True)
    street = fields.CharField(max_length=85, null=True)
    category = fields.CharEnumField(
        UserCategory, max_length=32, default=UserCategory.COUNTER_COE_ELECTRONIC
    )
    status = fields.CharEnumField(
        AccountStatus, max_length=16, default=AccountStatus.ACTIVE
    )
    usage_expires_at = fields.DatetimeField(null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    password_changed_at = fields.DatetimeField(null=True)
    password_expires_at = fields.DatetimeField(null=True)
    last_login_at = fields.DatetimeField(null=True)
    previous_login_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    # Two-step login (TOTP): the secret encrypted under RAS_SECRET_KEY (see
    # security.secretbox), the time step of the last accepted code (a code is
    # accepted only for a later step: no replay), and since when it is on. A
    # begun enrolment keeps its secret, also encrypted, until its first code
    # confirms it or it runs out.
    totp_secret = fields.CharField(max_length=255, null=True)
    totp_last_step = fields.BigIntField(null=True)
    totp_enabled_at = fields.DatetimeField(null=True)
    totp_pending_secret = fields.CharField(max_length=255, null=True)
    totp_pending_until = fields.DatetimeField(null=True)

    class Meta:
        table = "users"
        # For the expiry-reminder sweep.
        indexes = (("password_expires_at",),)

    @staticmethod
    def email_key_of(email: str) -> str:
        """What makes two addresses the same account's: case is ignored."""
        return email.strip().lower()

    @property
    def two_step(self) -> bool:
        """Whether login asks for a one-time code after the password."""
        return self.totp_enabled_at is not None and self.totp_secret is not None

    async def use_totp_step(self, step: int) -> bool:
        """Mark ``step`` used, if no code of it or a later step was accepted
        before (one statement: two requests with one code cannot both win)."""
        fresh = Q(totp_last_step=None) | Q(totp_last_step__lt=step)
        used = await User.filter(fresh, id=self.id).update(totp_last_step=step)
        if used:
            self.totp_last_step = step
        return used == 1

    def usage_expired(self, now: datetime) -> bool:
        return self.usage_expires_at is not None and self.usage_expires_at <= now

    def password_expired(self, now: datetime) -> bool:
        return self.password_expires_at is not None and self.password_expires_at <= now

    async def recent_password_hashes(self, *, keep: int) -> list[str | None]:
        """The current password's hash and the ones before it: ``keep`` in all
        (for the rule that a new password is not one of the last few)."""
        older = (
            await PasswordHistory.filter(user_id=self.id)
            .order_by("-replaced_at", "-id")
            .limit(max(keep - 1, 0))
            .values_list("password_hash", flat=True)
        )
        return [self.password_hash, *(str(h) for h in older)][:keep]

    async def store_password(
        self,
        new_hash: str,
        *,
        expected_hash: str | None,
        now: datetime,
        max_age: timedelta,
        keep: int,
        event: AuditType,
        origin: Origin,
        using_db: BaseDBAsyncClient,
    ) -> bool:
        """Replace the password, if it is still ``expected_hash`` (False
        otherwise: another request changed it first), and record ``event``
        (registered, changed, reset). The old hash joins the history, of which
        only the newest ``keep - 1`` stay."""
        still = (
            Q(password_hash=expected_hash) if expected_hash else Q(password_hash=None)
        )
        changed = await (
            User.filter(still, id=self.id)
            .using_db(using_db)
            .update(
                password_hash=new_hash,
                password_changed_at=now,
                password_expires_at=now + max_age,
            )
        )
        if not changed:
            return False
        if expected_hash is not None:
            await PasswordHistory.create(
                user_id=self.id,
                password_hash=expected_hash,
                replaced_at=now,
                using_db=using_db,
            )
        await self._keep_history(keep, using_db)
        self.password_hash = new_hash
        self.password_changed_at = now
        self.password_expires_at = now + max_age
        await AuditEvent.record(
            event, at=now, origin=origin, user_id=self.id, using_db=using_db
        )
        return True

    async def forget_password(
        self, *, now: datetime, keep: int, using_db: BaseDBAsyncClient
    ) -> None:
        """Remove the password (the account can log in again only after a
        reset); it joins the history, so it cannot come back. The caller holds
        the row lock."""
        if self.password_hash is not None:
            await PasswordHistory.create(
                user_id=self.id,
                password_hash=self.password_hash,
                replaced_at=now,
                using_db=using_db,
            )
            await self._keep_history(keep, using_db)
        await (
            User.filter(id=self.id)
            .using_db(using_db)
            .update(password_hash=None, password_expires_at=None)
        )
        self.password_hash = self.password_expires_at = None

    async def _keep_history(self, keep: int, using_db: BaseDBAsyncClient) -> None:
        stale = (
            await PasswordHistory.filter(user_id=self.id)
            .using_db(using_db)
            .order_by("-replaced_at", "-id")
            .offset(max(keep - 1, 0))
            .values_list("id", flat=True)
        )
        if stale:
            await PasswordHistory.filter(id__in=list(stale)).using_db(using_db).delete()


class PasswordHistory(Model):
    """A password the user had before, as its argon2 hash.

    For the rule that a new password is not one of the last few; only the
    newest are kept.
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="old_passwords", on_delete=fields.CASCADE
    )
    password_hash = fields.CharField(max_length=255)
    replaced_at = fields.DatetimeField()

    class Meta:
        table = "password_history"
        indexes = (("user_id", "replaced_at"),)
