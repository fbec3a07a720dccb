"""The account: one applicant of the category this service serves."""

from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class UserCategory(StrEnum):
    """利用者区分. This service serves one category; the enum leaves room for more."""

    COUNTER_COE_ELECTRONIC = "counter_coe_electronic"


class PreferredLanguage(StrEnum):
    """The language the user chose at registration (portal screens, help desk)."""

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
        PreferredLanguage,
        max_length=2,
        default=PreferredLanguage.JA,
        # Rows made before the column existed get Japanese, the default.
        db_default=PreferredLanguage.JA.value,
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

    class Meta:
        table = "users"
        # For the expiry-reminder sweep.
        indexes = (("password_expires_at",),)

    @staticmethod
    def email_key_of(email: str) -> str:
        """What makes two addresses the same account's: case is ignored."""
        return email.strip().lower()

    def usage_expired(self, now: datetime) -> bool:
        return self.usage_expires_at is not None and self.usage_expires_at <= now

    def password_expired(self, now: datetime) -> bool:
        return self.password_expires_at is not None and self.password_expires_at <= now


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
