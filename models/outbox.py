"""The transactional outbox: every mail the service sends is first a row here."""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class MailKind(StrEnum):
    """What a mail is about; each kind has its own bilingual template."""

    REGISTRATION = "registration"
    REGISTRATION_EXISTING = "registration_existing"
    PASSWORD_REGISTERED = "password_registered"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    EMAIL_CHANGED = "email_changed"
    EMAIL_CHANGED_NOTICE = "email_changed_notice"
    PASSWORD_EXPIRING = "password_expiring"
    ACCOUNT_LOCKED = "account_locked"
    CREDENTIALS_REISSUED = "credentials_reissued"
    TWO_STEP_ENABLED = "two_step_enabled"
    TWO_STEP_DISABLED = "two_step_disabled"
    RECOVERY_CODE_USED = "recovery_code_used"
    TWO_STEP_RESET = "two_step_reset"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"


class MailStatus(StrEnum):
    """PENDING until the SMTP server took it (SENT) or refused it for good (DEAD)."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMail(Model):
    """One mail, written in the same transaction as the change it reports.

    ``message`` is the complete RFC 5322 text, Message-ID included, so a
    redelivery is byte-for-byte the same mail. It can hold a one-time link, which
    cannot be rebuilt from the hash the service keeps, so it is erased as soon as
    the row is SENT. A DEAD row keeps it for a while (mailer.outbox.DEAD_BODY_KEEP)
    so staff can queue the mail again once the cause is fixed; then housekeeping
    erases it too (``erase_dead_bodies``). Rows are never deleted.
    """

    id = fields.BigIntField(primary_key=True)
    message_id = fields.CharField(max_length=255, unique=True)
    kind = fields.CharEnumField(MailKind, max_length=32)
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="mails", null=True, on_delete=fields.SET_NULL
    )
    recipient = fields.CharField(max_length=254)
    message = fields.TextField(null=True)
    status = fields.CharEnumField(MailStatus, max_length=16, default=MailStatus.PENDING)
    # Hand-overs to a reachable server (counted at claim, given back when the
    # server could not be reached); MAX_ATTEMPTS of them end in DEAD.
    attempts = fields.IntField(default=0)
    # Temporary failures of any kind; sets the backoff before the next try.
    failures = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # A worker's claim: other workers leave the row alone until it runs out.
    claim = fields.CharField(max_length=32, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    # Makes "enqueue once" notices (expiry reminders, lock notices) idempotent
    # across restarts and across several workers.
    dedupe_key = fields.CharField(max_length=128, null=True, unique=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_mails"
        indexes = (("status", "next_attempt_at"),)
