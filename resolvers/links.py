"""Mailed one-time links and password storage, shared by registration, reset and
change.

A link's token is handed out once (in the mail) and kept only as its SHA-256. A
link is used up by a conditional update, so of two requests with the same link
exactly one gets it.
"""

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from models import AccountStatus, LinkPurpose, LinkToken, User
from security.tokens import could_be_token, new_token, token_hash


class LinkLost(Exception):
    """Raised inside a transaction when another request used the link (or
    changed the password) first: the transaction is rolled back."""


# What a password or email change voids. Links that undo an email change stay:
# whoever changed the email could otherwise void them by changing it again or
# by resetting the password through the new address.
PASSWORD_LINKS = (LinkPurpose.PASSWORD_SETUP, LinkPurpose.PASSWORD_RESET)


async def issue_link(
    user: User,
    purpose: LinkPurpose,
    *,
    now: datetime,
    lifetime: timedelta,
    using_db: BaseDBAsyncClient,
    restore_email: str | None = None,
) -> tuple[str, datetime]:
    """A new link of ``purpose`` for ``user``. Older unused password links of
    the same purpose are voided (only the newest works); links that undo an
    email change are not (each undoes its own change). Returns token and expiry.

    The user row is locked first: two requests at once would otherwise each
    void the links committed before them and both leave a usable link.
    """
    await User.select_for_update().using_db(using_db).get(id=user.id)
    if purpose in PASSWORD_LINKS:
        await void_links(user.id, now=now, using_db=using_db, purposes=(purpose,))
    token = new_token()
    expires_at = now + lifetime
    await LinkToken.create(
        user_id=user.id,
        purpose=purpose,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=expires_at,
        restore_email=restore_email,
        using_db=using_db,
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


async def use_link(
    link: LinkToken, *, now: datetime, using_db: BaseDBAsyncClient
) -> bool:
    """Use the link up; False when another request used or voided it first, or it
    expired meanwhile."""
    used = await (
        LinkToken.filter(id=link.id, used_at=None, voided_at=None, expires_at__gt=now)
        .using_db(using_db)
        .update(used_at=now)
    )
    return used == 1


async def void_links(
    user_id: int,
    *,
    now: datetime,
    using_db: BaseDBAsyncClient,
    purposes: tuple[LinkPurpose, ...] = PASSWORD_LINKS,
    issued_after: LinkToken | None = None,
) -> int:
    """Void the user's unused links of ``purposes`` (only those issued after
    ``issued_after``, when given)."""
    query = LinkToken.filter(
        user_id=user_id, used_at=None, voided_at=None, purpose__in=purposes
    )
    if issued_after is not None:
        query = query.filter(id__gt=issued_after.id)
    return await query.using_db(using_db).update(voided_at=now)
