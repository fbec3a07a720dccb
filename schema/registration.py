"""利用者登録 (manual 2.1.2) and the first password: inputs, success types,
result unions."""

from datetime import datetime
from typing import Annotated

import strawberry

from schema.enums import Lang
from schema.errors import (
    EmailMismatchError,
    GaijiError,
    LinkInvalidError,
    MalformedFieldError,
    NoSuchDateError,
    PasswordPolicyError,
    PasswordReentryMismatchError,
    RequiredFieldError,
    TermsNotAgreedError,
    TooManyRequestsError,
)


@strawberry.input(description="利用者情報入力: what the registration form asks for.")
class RegisterUserInput:
    name: str = strawberry.field(
        description="氏名 as in the passport: half-width letters and spaces (at "
        "most 104, stored in upper case), or full-width characters (at most 26)."
    )
    date_of_birth: str = strawberry.field(
        description="生年月日 as `yyyymmdd` or `yyyy-mm-dd` (a string, so that a "
        "date that does not exist is answered as WZBAM111E)."
    )
    nationality: str = strawberry.field(
        description="国籍: the ISO 3166-1 alpha-3 code printed in the passport "
        "(JPN, VNM, USA …)."
    )
    email: str = strawberry.field(
        description="メールアドレス: half-width, at most 60 characters. The auth ID "
        "and the password-setup link are mailed here."
    )
    email_confirm: str = strawberry.field(
        description="メールアドレス（確認）: the same address again."
    )
    phone: str = strawberry.field(
        description="連絡先: phone number, half-width digits, at most 12, no "
        "hyphens (full-width digits are accepted and folded)."
    )
    language: Lang = strawberry.field(
        description="The language the user prefers (portal screens, help desk)."
    )
    agreed_to_terms: bool = strawberry.field(
        description="利用規約への同意: must be true (else WZBAM256E)."
    )


@strawberry.type(
    description="The registration was accepted and a mail is on its way to the "
    "address entered. The same answer whether or not the address already had an "
    "account (its owner is told by mail instead)."
)
class RegisterUserSuccess:
    email: str = strawberry.field(
        description="The address the mail goes to, as entered (for the "
        "completion screen)."
    )
    link_expires_at: datetime = strawberry.field(
        description="Until when (UTC) the mailed password-setup link works."
    )


RegisterUserResult = Annotated[
    RegisterUserSuccess
    | TermsNotAgreedError
    | RequiredFieldError
    | GaijiError
    | MalformedFieldError
    | NoSuchDateError
    | EmailMismatchError
    | TooManyRequestsError,
    strawberry.union(
        "RegisterUserResult",
        description="Accepted, or the first problem found, in this order: WZBAM256E "
        "terms, WZBAM001E empty items (all listed), WZBAM011E 外字, WZBAM018E format, "
        "WZBAM111E no such date, WZBAM159E confirmation, RASX004E too many "
        "registrations from this client address or for the email address.",
    ),
]


@strawberry.input(
    description="パスワード登録: the first password, from the mailed link."
)
class RegisterPasswordInput:
    token: str = strawberry.field(
        description="The `token` query parameter of the link in the registration mail."
    )
    password: str = strawberry.field(
        description="The new password (see `passwordPolicy`)."
    )
    password_confirm: str = strawberry.field(
        description="パスワード（再入力）: the same password again."
    )


@strawberry.type(description="The password is set; the user can log in now.")
class RegisterPasswordSuccess:
    auth_id: str = strawberry.field(description="The 認証ID to log in with.")
    password_expires_at: datetime = strawberry.field(
        description="When the new password expires (UTC)."
    )


RegisterPasswordResult = Annotated[
    RegisterPasswordSuccess
    | RequiredFieldError
    | LinkInvalidError
    | PasswordReentryMismatchError
    | PasswordPolicyError
    | TooManyRequestsError,
    strawberry.union(
        "RegisterPasswordResult",
        description="Set, or why not: WZBAM001E empty items, RASX004E too many "
        "links redeemed from this client address, RASX003E link "
        "unknown/used/expired, WZBAM160E re-entry differs, WZBAM005E policy.",
    ),
]
