"""お知らせ: the public list (no login) and the staff's view of all notices."""

from datetime import datetime
from typing import Annotated

import strawberry

from models import Lang
from models.staff import Notice, Staff
from resolvers.context import Info
from resolvers.staff import StaffAuthenticated, authenticate_staff
from schema.admin import ManagedNotice, ManagedNoticeList, ManagedNoticesResult
from schema.notices import Notice as NoticeType

# The public list shows at most this many (newest first).
PUBLIC_NOTICES_MAX = 50


def shown(notice: Notice, now: datetime) -> bool:
    return notice.withdrawn_at is None and notice.starts_at <= now < notice.ends_at


async def notices(info: Info) -> list[NoticeType]:
    """The notices shown now (their window includes now, not withdrawn), newest
    first, in the request's language. No login needed."""
    now = info.context.services.clock.now()
    rows = (
        await Notice.filter(withdrawn_at=None, starts_at__lte=now, ends_at__gt=now)
        .order_by("-starts_at", "-id")
        .limit(PUBLIC_NOTICES_MAX)
    )
    ja = info.context.lang is Lang.JA
    return [
        NoticeType(
            id=strawberry.ID(str(row.id)),
            title=row.title_ja if ja else row.title_en,
            body=row.body_ja if ja else row.body_en,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
        )
        for row in rows
    ]


async def managed_notices(rows: list[Notice], now: datetime) -> list[ManagedNotice]:
    staff_ids = {row.published_by for row in rows}
    logins = dict(
        await Staff.filter(id__in=staff_ids).values_list("id", "login_id")
        if staff_ids
        else []
    )
    return [
        ManagedNotice(
            id=str(row.id),
            title_ja=row.title_ja,
            title_en=row.title_en,
            body_ja=row.body_ja,
            body_en=row.body_en,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            published_at=row.published_at,
            published_by=str(logins.get(row.published_by, "")),
            withdrawn_at=row.withdrawn_at,
            shown=shown(row, now),
        )
        for row in rows
    ]


async def managed_notice(notice: Notice, now: datetime) -> ManagedNotice:
    return (await managed_notices([notice], now))[0]


async def staff_notices(
    info: Info,
    include_expired: Annotated[
        bool,
        strawberry.argument(
            description="Also notices whose window has ended, and withdrawn ones."
        ),
    ] = False,
) -> ManagedNoticesResult:
    """Every notice not yet over (scheduled and shown), newest first; with
    `includeExpired`, all of them."""
    auth = await authenticate_staff(info)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    now = info.context.services.clock.now()
    rows = Notice.all()
    if not include_expired:
        rows = rows.filter(withdrawn_at=None, ends_at__gt=now)
    found = await rows.order_by("-starts_at", "-id").limit(500)
    return ManagedNoticeList(notices=await managed_notices(found, now))
