"""mySecurityActivity: what happened to the logged-in user's account."""

from models import AuditEvent, AuditType, Lang
from resolvers.context import Info
from resolvers.paging import After, First, page_info, page_request
from resolvers.session import Authenticated, authenticate
from schema.activity import (
    MySecurityActivityResult,
    SecurityActivity,
    SecurityEvent,
    SecurityEventEdge,
)
from schema.errors import InvalidFieldError

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
    # The password was right: a user who did not log in learns that someone
    # knows it.
    AuditType.TWO_STEP_CHALLENGED: (
        "パスワード確認済み（ワンタイムコード待ち）",
        "Password right, one-time code asked",
    ),
    AuditType.TWO_STEP_ENROLLMENT_BEGUN: (
        "2段階認証の設定開始",
        "Two-step login set-up begun",
    ),
    AuditType.TWO_STEP_ENABLED: ("2段階認証の有効化", "Two-step login turned on"),
    AuditType.TWO_STEP_DISABLED: ("2段階認証の無効化", "Two-step login turned off"),
    AuditType.TWO_STEP_RESET: (
        "職員による2段階認証の解除",
        "Two-step login removed by staff",
    ),
    AuditType.RECOVERY_CODE_USED: ("リカバリーコードの使用", "Recovery code used"),
    AuditType.RECOVERY_CODES_REGENERATED: (
        "リカバリーコードの再発行",
        "New recovery codes",
    ),
    AuditType.REGISTERED: (
        "このメールアドレスでの利用者登録",
        "Registration with this email address",
    ),
}


async def my_security_activity(
    info: Info,
    first: First = None,
    after: After = None,
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
    page = page_request(info, first, after)
    if isinstance(page, InvalidFieldError):
        return page
    size, cursor = page
    events = AuditEvent.filter(user_id=auth.user.id, type__in=list(LABELS))
    if cursor is not None:
        events = events.filter(id__lt=cursor)
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
        page_info=page_info([edge.cursor for edge in edges], len(rows) > size),
    )
