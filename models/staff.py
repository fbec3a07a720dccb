"""Staff: the people behind the admin dashboards, apart from applicants.

A staff member logs in with a login ID, a password and a current TOTP code
(RFC 6238: 30-second steps, one step of drift either way). The last accepted
step is stored, and a code is accepted only for a later step: a code seen over
a shoulder or in a proxy's log cannot be replayed, not even within its 30
seconds.
"""

from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.audit import AuditEvent, AuditType, Origin
from security import totp

TOTP_ISSUER = "ras-identity"


class StaffRole(StrEnum):
    """What a staff member may do; each role includes the ones before it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(StaffRole).index(self)

    def allows(self, needed: "StaffRole") -> bool:
        return self.rank >= needed.rank


class Staff(Model):
    """One staff member. The TOTP secret is kept as the authenticator app has
    it (a TOTP check needs the secret itself, not a hash of it); the password
    as its argon2id hash."""

    id = fields.IntField(primary_key=True)
    login_id = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=104)
    role = fields.CharEnumField(StaffRole, max_length=16)
    password_hash = fields.CharField(max_length=255)
    totp_secret = fields.CharField(max_length=64)
    # The time step of the last accepted code (replay refused at or before it).
    totp_last_step = fields.BigIntField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "staff"

    @property
    def lockout_key(self) -> str:
        return lockout_key(self.login_id)

    def provisioning_uri(self) -> str:
        """What an authenticator app scans: otpauth://totp/…?secret=…&issuer=…"""
        return totp.provisioning_uri(
            self.totp_secret, account=self.login_id, issuer=TOTP_ISSUER
        )

    def matching_step(self, code: str, now: datetime) -> int | None:
        """The time step (within the drift) whose code ``code`` is, or None."""
        return totp.matching_step(self.totp_secret, code, now)

    async def use_step(self, step: int) -> bool:
        """Mark ``step`` used, if no code of it or a later step was accepted
        before (one statement: two requests with one code cannot both win)."""
        fresh = Q(totp_last_step=None) | Q(totp_last_step__lt=step)
        used = await Staff.filter(fresh, id=self.id).update(totp_last_step=step)
        return used == 1


# Staff lockout counters are keyed "staff:<login ID>" (applicants' counters by
# 認証IDs, which never contain a colon).
STAFF_KEY_PREFIX = "staff:"


def lockout_key(login_id: str) -> str:
    """The lockout counter of a staff login ID."""
    return f"{STAFF_KEY_PREFIX}{login_id}"


class StaffSession(Model):
    """A staff login, kept as the SHA-256 of its token. Ends when idle for the
    staff idle limit, at its maximum lifetime, at logout, or when the staff
    member is disabled."""

    id = fields.IntField(primary_key=True)
    staff_id = fields.IntField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_sessions"

    @classmethod
    async def end(
        cls,
        session_id: int,
        staff_id: int,
        event: AuditType,
        *,
        now: datetime,
        origin: Origin,
    ) -> bool:
        """End one staff session if it is still active, with its audit event
        (logout, time-out); False when it had ended already."""
        async with in_transaction() as conn:
            ended = await (
                cls.filter(id=session_id, revoked_at=None)
                .using_db(conn)
                .update(revoked_at=now)
            )
            if ended:
                await AuditEvent.record(
                    event,
                    at=now,
                    origin=origin,
                    staff_id=staff_id,
                    detail="staff",
                    using_db=conn,
                )
        return ended == 1


class Notice(Model):
    """お知らせ: a notice on the portal's top page, shown while its window
    (starts_at ≤ now < ends_at) includes now, unless withdrawn."""

    id = fields.IntField(primary_key=True)
    title_ja = fields.CharField(max_length=200)
    title_en = fields.CharField(max_length=200)
    body_ja = fields.TextField()
    body_en = fields.TextField()
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    published_at = fields.DatetimeField()
    published_by = fields.IntField()
    withdrawn_at = fields.DatetimeField(null=True)
    withdrawn_by = fields.IntField(null=True)

    class Meta:
        table = "notices"
        indexes = (("ends_at", "starts_at"),)
