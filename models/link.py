"""One-time links mailed to users (first password, password reset)."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class LinkPurpose(StrEnum):
    """What a mailed link lets its holder do."""

    PASSWORD_SETUP = "password_setup"  # noqa: S105 (a purpose, not a secret)
    PASSWORD_RESET = "password_reset"  # noqa: S105
    EMAIL_REVERT = "email_revert"


class LinkToken(Model):
    """One mailed link, kept only as the SHA-256 of its token.

    Usable once, before it expires, and only while no newer link or password
    change has voided it.
    """

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="links", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(LinkPurpose, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    voided_at = fields.DatetimeField(null=True)
    # EMAIL_REVERT only: the address the link puts back (the one it was sent to).
    restore_email = fields.CharField(max_length=254, null=True)

    class Meta:
        table = "link_tokens"
        indexes = (("user_id", "purpose"),)

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.voided_at is None and now < self.expires_at
