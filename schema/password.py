"""Password change (manual 2.4.5-2.4.7), reset (2.5) and the policy: inputs,
success types, result unions."""

from datetime import datetime
from typing import Annotated

import strawberry

from schema.enums import PasswordRule
from schema.errors import (
    AccountLockedError,
    AuthError,
    AuthIdEmailMismatchError,
    CurrentPasswordWrongError,
    LinkInvalidError,
    PasswordConfirmMismatchError,
    PasswordPolicyError,
    PasswordReentryMismatchError,
    RequiredFieldError,
    TooManyRequestsError,
)
from schema.types import User


@strawberry.input(description="パスワード入力: the password-change form.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="現在のパスワード.")
    new_password: str = strawberry.field(
        description="新しいパスワード (see `passwordPolicy`)."
    )
    new_password_confirm: str = strawberry.field(
        description="新しいパスワード（確認）: the new password again."
    )


@strawberry.type(
    description="The password is changed; a completion mail is on its way and "
    "every other session of the user has ended."
)
class ChangePasswordSuccess:
    password_expires_at: datetime = strawberry.field(
        description="When the new password expires (UTC)."
    )
    user: User = strawberry.field(description="The user, as now stored.")
    session_ended: bool = strawberry.field(
        description="True when the call came with a WZBAM158E change ticket: the "
        "ticket is used up, so log in with the new password. False for a normal "
        "session, which goes on with `token`."
    )
    token: str | None = strawberry.field(
        description="The session's new token: the one this call was made with "
        "no longer works (RASX002E); send this one from now on. Null when "
        "`sessionEnded`. In cookie mode (header `X-RAS-Session: cookie`) an empty "
        "string: the new token is set as the HttpOnly session cookie."
    )


ChangePasswordResult = Annotated[
    ChangePasswordSuccess
    | RequiredFieldError
    | PasswordConfirmMismatchError
    | PasswordPolicyError
    | CurrentPasswordWrongError
    | AccountLockedError
    | TooManyRequestsError
    | AuthError,
    strawberry.union(
        "ChangePasswordResult",
        description="Changed, or why not, in this order: not logged in (a session "
        "or a WZBAM158E change ticket is needed), WZBAM001E empty items, WZBAM162E "
        "confirmation differs, WZBAM005E policy, WZBAM154E current password wrong "
        "(counts toward the lockout; WZBAM153E when it locks, which also ends the "
        "sessions), WZBAM005E reuse of a recent password.",
    ),
]


@strawberry.input(description="利用者情報確認: who forgot their password.")
class RequestPasswordResetInput:
    auth_id: str = strawberry.field(
        description="認証ID (full-width and lower case are folded)."
    )
    email: str = strawberry.field(description="The registered email address.")


@strawberry.type(
    description="A reset link is on its way to the registered address (the "
    "answer does not wait for the mail server)."
)
class RequestPasswordResetSuccess:
    link_expires_at: datetime = strawberry.field(
        description="Until when (UTC) the link works. Only the newest link works."
    )


RequestPasswordResetResult = Annotated[
    RequestPasswordResetSuccess
    | RequiredFieldError
    | AuthIdEmailMismatchError
    | TooManyRequestsError,
    strawberry.union(
        "RequestPasswordResetResult",
        description="Mailed, or why not: WZBAM001E empty items, WZBAM168E the pair "
        "is not an active account's, RASX004E too many requests from this client "
        "address or for this auth ID.",
    ),
]


@strawberry.input(
    description="パスワード再設定: the new password, from the mailed link."
)
class ResetPasswordInput:
    token: str = strawberry.field(
        description="The `token` query parameter of the link in the reset mail."
    )
    new_password: str = strawberry.field(
        description="新しいパスワード (see `passwordPolicy`)."
    )
    new_password_confirm: str = strawberry.field(
        description="パスワード（再入力）: the new password again."
    )


@strawberry.type(
    description="The password is set: a lock (WZBAM153E) is lifted, every session "
    "has ended and a completion mail is on its way. Log in with the new password."
)
class ResetPasswordSuccess:
    auth_id: str = strawberry.field(description="The 認証ID to log in with.")
    password_expires_at: datetime = strawberry.field(
        description="When the new password expires (UTC)."
    )


ResetPasswordResult = Annotated[
    ResetPasswordSuccess
    | RequiredFieldError
    | LinkInvalidError
    | PasswordReentryMismatchError
    | PasswordPolicyError
    | TooManyRequestsError,
    strawberry.union(
        "ResetPasswordResult",
        description="Reset, or why not: WZBAM001E empty items, RASX004E too many "
        "links redeemed from this client address, RASX003E link "
        "unknown/used/voided/expired, WZBAM160E re-entry differs, WZBAM005E policy "
        "(including reuse of a recent password).",
    ),
]


@strawberry.type(description="One rule of the password policy in both languages.")
class PasswordRuleText:
    rule: PasswordRule = strawberry.field(description="Which rule.")
    ja: str = strawberry.field(description="The rule in Japanese.")
    en: str = strawberry.field(description="The rule in English.")


@strawberry.type(
    description="The password policy in force, for portals to show before the "
    "user types (every number is a RAS_ setting)."
)
class PasswordPolicy:
    min_length: int = strawberry.field(description="Fewest characters.")
    max_length: int = strawberry.field(description="Most characters.")
    symbols: str = strawberry.field(
        description="The symbols allowed (at least one is required)."
    )
    history: int = strawberry.field(
        description="A new password must differ from this many: the current one "
        "and those before it."
    )
    valid_days: int = strawberry.field(
        description="Days a password stays valid; after that login answers WZBAM158E."
    )
    rules: list[PasswordRuleText] = strawberry.field(
        description="Every rule, in the order violations are reported."
    )
