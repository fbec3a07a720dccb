"""Mailed one-time links, shared by registration, reset and email changes.

A link's token is handed out once (in the mail) and kept only as its SHA-256;
LinkToken's methods issue, use up and void links.
"""

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from models import AccountStatus, LinkPurpose, LinkToken, Origin, User
from security.tokens import could_be_token, new_token, token_hash


class LinkLost(Exception):
    """Raised inside a transaction when another request used the link (or
    changed the password) first: the transaction is rolled back."""


async def issue_link(
    user: User,
    purpose: LinkPurpose,
    *,
    now: datetime,
    lifetime: timedelta,
    origin: Origin,
    using_db: BaseDBAsyncClient,
    restore_email: str | None = None,
) -> tuple[str, datetime]:
    """A new link of ``purpose`` for ``user`` (see LinkToken.issue): its token,
    handed out once, and its expiry. Locks the user row first."""
    await User.select_for_update().using_db(using_db).get(id=user.id)
    token = new_token()
    expires_at = await LinkToken.issue(
        user.id,
        purpose,
        token_hash(token),
        now=now,
        lifetime=lifetime,
        origin=origin,
        using_db=using_db,
        restore_email=restore_email,
    )
    return token, expires_at


async def find_link(
    token: str, purpose: LinkPurpose, *, now: datetime
) -> LinkToken | None:
    """The usable link of ``purpose`` with this token, its user loaded, or None
    (also when the account may no longer be used: not active, or its usage
    period ended)."""
    if not could_be_token(token):
        return None
    link = await LinkToken.get_or_none(
        token_hash=token_hash(token), purpose=purpose
    ).select_related("user")
    if link is None or not link.usable(now):
        return None
    if link.user.status is not AccountStatus.ACTIVE or link.user.usage_expired(now):
        return None
    return link
