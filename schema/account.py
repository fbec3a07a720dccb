"""User information (manual 2.4.1-2.4.4 利用者情報表示・変更)."""

from datetime import datetime
from typing import Annotated

import strawberry

from schema.errors import (
    AddressIncompleteError,
    AuthError,
    EmailMismatchError,
    GaijiError,
    InvalidFieldError,
    LinkInvalidError,
    MunicipalityCodeRequiredError,
    NothingToChangeError,
    ReauthenticationRequiredError,
    RequiredFieldError,
    TooManyRequestsError,
)
from schema.types import User

MeResult = Annotated[
    User | AuthError,
    strawberry.union(
        "MeResult", description="The logged-in user's information, or why not."
    ),
]


@strawberry.input(description="新しい住居地: both parts, or neither.")
class NewAddressInput:
    municipality_code: str | None = strawberry.field(
        default=None,
        description="新しい住居地（都道府県市区町村）: the 全国地方公共団体コード "
        "chosen with the address search (`municipalities`); 6 digits, or the "
        "5-digit JIS X 0402 form.",
    )
    street: str | None = strawberry.field(
        default=None,
        description="新しい住居地（町名丁目番地号等）: full-width, at most 85 "
        "characters; half-width letters, digits and symbols are turned into "
        "full-width.",
    )


@strawberry.input(
    description="利用者情報入力: the items to change; leave out (or send empty) "
    "what stays as it is."
)
class UpdateUserInfoInput:
    new_address: NewAddressInput | None = strawberry.field(
        default=None, description="新しい住居地."
    )
    new_phone: str | None = strawberry.field(
        default=None,
        description="新しい連絡先: half-width digits, at most 12, no hyphens.",
    )
    new_email: str | None = strawberry.field(
        default=None,
        description="新しいメールアドレス: half-width, at most 60 characters.",
    )
    new_email_confirm: str | None = strawberry.field(
        default=None, description="新しいメールアドレス（確認）: the same again."
    )


@strawberry.type(description="更新完了: the information as now stored.")
class UpdateUserInfoSuccess:
    user: User = strawberry.field(
        description="The user's information after the change."
    )
    mail_sent: bool = strawberry.field(
        description="True when the email address changed: a completion notice goes "
        "to the new address and a security notice to the old one. Changing only "
        "the address or phone sends no mail (manual 2.4.1)."
    )


UpdateUserInfoResult = Annotated[
    UpdateUserInfoSuccess
    | NothingToChangeError
    | AddressIncompleteError
    | MunicipalityCodeRequiredError
    | GaijiError
    | InvalidFieldError
    | EmailMismatchError
    | ReauthenticationRequiredError
    | TooManyRequestsError
    | AuthError,
    strawberry.union(
        "UpdateUserInfoResult",
        description="Changed, or the first problem, in this order: not logged in, "
        "WZBAM245E nothing entered, WZBAM244E one address part only (with "
        "WZBAM103E/104E for it), WZBAM011E 外字, WZBAM005E format or unknown "
        "municipality code, WZBAM159E confirmation differs, RASX006E the email "
        "address would change but the password was not entered on this session "
        "recently (`reauthenticate`), RASX004E too many email changes. Nothing "
        "is changed unless everything is right.",
    ),
]


@strawberry.input(description="The link in the notice to the old address.")
class RevertEmailChangeInput:
    token: str = strawberry.field(
        description="The `token` query parameter of the link in the notice that "
        "the email address was changed."
    )


@strawberry.type(
    description="The change is undone: the address is the old one again, every "
    "session has ended, the password is removed, and a reset link is on its way "
    "to the restored address."
)
class RevertEmailChangeSuccess:
    auth_id: str = strawberry.field(description="The account's 認証ID.")
    email: str = strawberry.field(description="The restored address.")
    link_expires_at: datetime = strawberry.field(
        description="Until when (UTC) the mailed reset link works."
    )


RevertEmailChangeResult = Annotated[
    RevertEmailChangeSuccess
    | RequiredFieldError
    | LinkInvalidError
    | TooManyRequestsError,
    strawberry.union(
        "RevertEmailChangeResult",
        description="Undone, or why not: WZBAM001E no token, RASX004E too many "
        "links redeemed from this client address, RASX003E link "
        "unknown/used/voided/expired.",
    ),
]
