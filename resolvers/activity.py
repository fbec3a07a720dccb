"""mySecurityActivity: what happened to the logged-in user's account."""

from typing import Annotated

import strawberry

from models import AuditEvent, AuditType, Lang
from resolvers.context import Info
from resolvers.session import Authenticated, authenticate
from schema.activity import (
    ACTIVITY_PAGE_DEFAULT,
    ACTIVITY_PAGE_MAX,
    MySecurityActivityResult,
    SecurityActivity,
    SecurityEvent,
    SecurityEventEdge,
)
from schema.errors import InputProblem, InvalidFieldError
from schema.messages import FieldLabel
from schema.types import PageInfo

# What the user sees of their account's events, in their words (ja, en). Links
# issued and used, limits hit and purges are the service's own business.
LABELS: dict[AuditType, tuple[str, str]] = {
    AuditType.LOGIN_SUCCEEDED: ("ログイン", "Login"),
    AuditType.LOGIN_FAILED: ("ログインの失敗", "Failed login"),
    AuditType.LOGIN_LOCKED: (
        "ログイン失敗の回数超過によるロック",
        "Locked after failed logins",
    ),
    AuditType.SESSION_DISPLACED: (
        "別の画面でのログインによる終了",
        "Ended by a login elsewhere",
    ),
    AuditType.SESSION_TIMED_OUT: ("タイムアウトによる終了", "Ended by time-out"),
    AuditType.LOGGED_OUT: ("ログアウト", "Logout"),
    AuditType.REAUTHENTICATED: ("パスワードの再入力", "Password entered again"),
    AuditType.PASSWORD_REGISTERED: ("パスワード登録", "Password set"),
    AuditType.PASSWORD_CHANGED: ("パスワード変更", "Password changed"),
    AuditType.PASSWORD_RESET: ("パスワード再設定", "Password reset"),
    AuditType.EMAIL_CHANGED: ("メールアドレスの変更", "Email address changed"),
    AuditType.ADDRESS_CHANGED: ("住居地の変更", "Address changed"),
    AuditType.PHONE_CHANGED: ("連絡先の変更", "Phone number changed"),
    AuditType.EMAIL_CHANGE_REVERTED: (
        "メールアドレス変更の取消し",
        "Email change undone",
    ),
    AuditType.REGISTERED: (
        "このメールアドレスでの利用者登録",
        "Registration with this email address",
    ),
}


async def my_security_activity(
    info: Info,
    first: Annotated[
        int | None,
        strawberry.argument(
            description=f"Page size, 1 to {ACTIVITY_PAGE_MAX}; default "
            f"{ACTIVITY_PAGE_DEFAULT}."
        ),
    ] = None,
    after: Annotated[
        str | None,
        strawberry.argument(
            description="Continue after this cursor (`pageInfo.endCursor` of the "
            "previous page): older events."
        ),
    ] = None,
) -> MySecurityActivityResult:
    """The caller's logins (time, client address, user agent, outcome) and
    account changes, newest first, paged by keyset on the event.

    - an AuthError: no usable session.
    - InvalidFieldError (005E): ``first`` outside 1-100, ``after`` not a cursor.
    - SecurityActivity: only this account's events, never another's.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    size = ACTIVITY_PAGE_DEFAULT if first is None else first
    if not 1 <= size <= ACTIVITY_PAGE_MAX:
        return InvalidFieldError.build(
            lang, FieldLabel.PAGE_SIZE, field="first", reason=InputProblem.OUT_OF_RANGE
        )
    events = AuditEvent.filter(user_id=auth.user.id, type__in=list(LABELS))
    if after is not None:
        if not (after.isascii() and after.isdigit() and len(after) <= 19):
            return InvalidFieldError.build(
                lang, FieldLabel.CURSOR, field="after", reason=InputProblem.MALFORMED
            )
        events = events.filter(id__lt=int(after))
    rows = await events.order_by("-id").limit(size + 1)
    edges = [
        SecurityEventEdge(
            cursor=str(row.id),
            node=SecurityEvent(
                at=row.at,
                type=row.type,
                label=LABELS[row.type][0 if lang is Lang.JA else 1],
                outcome=row.outcome,
                client_address=row.client,
                user_agent=row.user_agent,
            ),
        )
        for row in rows[:size]
    ]
    return SecurityActivity(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
