"""The account: one applicant of the category this service serves."""

from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class UserCategory(StrEnum):
    """利用者区分. This service serves one category; the enum leaves room for more."""

    COUNTER_COE_ELECTRONIC = "counter_coe_electronic"


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

    def usage_expired(self, now: datetime) -> bool:
        return self.usage_expires_at is not None and self.usage_expires_at <= now

    def password_expired(self, now: datetime) -> bool:
        return self.password_expires_at is not None and self.password_expires_at <= now
