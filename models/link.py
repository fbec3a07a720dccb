"""One-time links mailed to users (first password, password reset)."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from models.audit import AuditEvent, AuditType, Origin

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

    @classmethod
    async def issue(
        cls,
        user_id: int,
        purpose: "LinkPurpose",
        token_hash: str,
        *,
        now: datetime,
        lifetime: timedelta,
        origin: Origin,
        using_db: BaseDBAsyncClient,
        restore_email: str | None = None,
    ) -> datetime:
        """A new link (its token's hash) of ``purpose``; returns its expiry.
        Older unused password links of the same purpose are voided (only the
        newest works); links that undo an email change are not (each undoes
        its own change). The caller holds the user row's lock: two requests at
        once would otherwise each void the links committed before them and
        both leave a usable link."""
        if purpose in PASSWORD_LINKS:
            await cls.void(
                user_id, now=now, origin=origin, using_db=using_db, purposes=(purpose,)
            )
        expires_at = now + lifetime
        await cls.create(
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
            restore_email=restore_email,
            using_db=using_db,
        )
        await AuditEvent.record(
            AuditType.LINK_ISSUED,
            at=now,
            origin=origin,
            user_id=user_id,
            detail=purpose.value,
            using_db=using_db,
        )
        return expires_at

    async def use(
        self, *, now: datetime, origin: Origin, using_db: BaseDBAsyncClient
    ) -> bool:
        """Use the link up; False when another request used or voided it first,
        or it expired meanwhile (a conditional update: of two requests with
        one link exactly one gets it)."""
        used = await (
            LinkToken.filter(
                id=self.id, used_at=None, voided_at=None, expires_at__gt=now
            )
            .using_db(using_db)
            .update(used_at=now)
        )
        if used != 1:
            return False
        await AuditEvent.record(
            AuditType.LINK_USED,
            at=now,
            origin=origin,
            user_id=self.user_id,  # type: ignore[attr-defined]  # Tortoise adds it
            detail=self.purpose.value,
            using_db=using_db,
        )
        return True

    @classmethod
    async def void(
        cls,
        user_id: int,
        *,
        now: datetime,
        origin: Origin,
        using_db: BaseDBAsyncClient,
        purposes: tuple["LinkPurpose", ...] | None = None,
        issued_after: "LinkToken | None" = None,
    ) -> int:
        """Void the user's unused links of ``purposes`` (the password links by
        default; only those issued after ``issued_after``, when given)."""
        query = cls.filter(
            user_id=user_id,
            used_at=None,
            voided_at=None,
            purpose__in=purposes or PASSWORD_LINKS,
        )
        if issued_after is not None:
            query = query.filter(id__gt=issued_after.id)
        voided = await query.using_db(using_db).update(voided_at=now)
        if voided:
            await AuditEvent.record(
                AuditType.LINK_VOIDED,
                at=now,
                origin=origin,
                user_id=user_id,
                detail=",".join(p.value for p in purposes or PASSWORD_LINKS),
                using_db=using_db,
            )
        return voided


# What a password or email change voids. Links that undo an email change stay:
# whoever changed the email could otherwise void them by changing it again or
# by resetting the password through the new address.
PASSWORD_LINKS = (LinkPurpose.PASSWORD_SETUP, LinkPurpose.PASSWORD_RESET)
