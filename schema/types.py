"""Output types shared by several flows, each built from its model."""

from datetime import date, datetime
from typing import Self

import strawberry

from models import User as UserModel
from schema.enums import Lang, UserCategory


@strawberry.type(description="住居地: the address as registered.")
class Address:
    municipality_code: str | None = strawberry.field(
        description="全国地方公共団体コード (6 digits with check digit) of the "
        "prefecture and municipality."
    )
    prefecture_name: str | None = strawberry.field(description="都道府県, e.g. 東京都.")
    municipality_name: str | None = strawberry.field(
        description="市区町村, e.g. 新宿区."
    )
    street: str | None = strawberry.field(
        description="町名丁目番地号等: town, block and house number (full-width)."
    )


@strawberry.type(description="利用者情報: what the user-info screen shows.")
class User:
    auth_id: str = strawberry.field(
        description="認証ID: the login ID the system issued."
    )
    name: str = strawberry.field(description="氏名 as registered.")
    email: str = strawberry.field(description="The registered email address.")
    phone: str | None = strawberry.field(
        description="連絡先: phone number, half-width digits without hyphens."
    )
    date_of_birth: date | None = strawberry.field(
        description="生年月日 as registered (null for accounts made by staff)."
    )
    nationality: str | None = strawberry.field(
        description="国籍: ISO 3166-1 alpha-3 code as in the passport (e.g. VNM)."
    )
    language: Lang = strawberry.field(
        description="The language the user chose at registration."
    )
    address: Address | None = strawberry.field(
        description="住居地, or null when none is registered."
    )
    user_category: UserCategory = strawberry.field(description="利用者区分.")
    last_login_at: datetime | None = strawberry.field(
        description="When the current session logged in (UTC)."
    )
    previous_login_at: datetime | None = strawberry.field(
        description="When the login before that happened (UTC), so a user can "
        "notice a login that was not theirs."
    )
    password_expires_at: datetime | None = strawberry.field(
        description="When the password expires (UTC); after it, login answers "
        "WZBAM158E."
    )
    two_step_enabled: bool = strawberry.field(
        description="Whether login asks for a one-time code from an "
        "authenticator app after the password (two-step login)."
    )

    @classmethod
    def from_model(cls, user: UserModel) -> Self:
        parts = (
            user.municipality_code,
            user.prefecture_name,
            user.municipality_name,
            user.street,
        )
        address = (
            Address(
                municipality_code=user.municipality_code,
                prefecture_name=user.prefecture_name,
                municipality_name=user.municipality_name,
                street=user.street,
            )
            if any(parts)
            else None
        )
        return cls(
            auth_id=user.auth_id,
            name=user.name,
            email=user.email,
            phone=user.phone,
            date_of_birth=user.date_of_birth,
            nationality=user.nationality,
            language=user.language,
            address=address,
            user_category=user.category,
            last_login_at=user.last_login_at,
            previous_login_at=user.previous_login_at,
            password_expires_at=user.password_expires_at,
            two_step_enabled=user.two_step,
        )


@strawberry.type(description="Where a page of a connection starts and ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more results follow `endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        description="Always false: the connection pages forward only (`first`/`after`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first edge; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last edge; pass it as `after` for the next "
        "page. Null on an empty page."
    )
