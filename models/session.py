"""Login sessions and password-change tickets, stored only as token hashes."""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class SessionKind(StrEnum):
    """A full session, or a ticket that allows nothing but changing the password."""

    SESSION = "session"
    CHANGE_TICKET = "change_ticket"


class RevokeReason(StrEnum):
    """Why a session ended; DISPLACED answers WZBAM099E on its next use."""

    LOGOUT = "logout"
    DISPLACED = "displaced"
    IDLE_TIMEOUT = "idle_timeout"
    LIFETIME = "lifetime"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_LOCKED = "account_locked"
    EMAIL_REVERTED = "email_reverted"


class UserSession(Model):
    """One bearer token. The token itself is never stored, only its SHA-256."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(SessionKind, max_length=16)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharEnumField(RevokeReason, max_length=24, null=True)

    class Meta:
        table = "user_sessions"
        indexes = (("user_id", "revoked_at"),)
