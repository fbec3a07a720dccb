"""The menu (manual 2.3) and the application operations behind it."""

from enum import Enum
from typing import Annotated

import strawberry

from schema.errors import AuthError, OperationNotAllowedError


@strawberry.enum(description="The buttons of the menu screen (manual 2.3).")
class MenuItemKey(Enum):
    APPLY_INDIVIDUALLY = strawberry.enum_value(
        "apply_individually",
        description="申請情報入力（１件ずつ申請情報を入力）: enter one application.",
    )
    APPLY_IN_BULK = strawberry.enum_value(
        "apply_in_bulk", description="申請情報入力（一括）: enter applications in bulk."
    )
    SEARCH_APPLICATIONS = strawberry.enum_value(
        "search_applications",
        description="申請情報検索: search applications (`searchApplications`).",
    )
    UPDATE_USER_INFO = strawberry.enum_value(
        "update_user_info",
        description="利用者情報更新: show and change user information (`me`).",
    )


@strawberry.type(description="One button of the menu.")
class MenuItem:
    key: MenuItemKey = strawberry.field(description="Which button.")
    label: str = strawberry.field(description="Its caption in the request's language.")
    available: bool = strawberry.field(
        description="Whether the user's category may use it (利用不可 when false)."
    )


@strawberry.type(description="メニュー画面: the menu for the logged-in user.")
class Menu:
    items: list[MenuItem] = strawberry.field(
        description="The four items in screen order."
    )


MenuResult = Annotated[
    Menu | AuthError,
    strawberry.union("MenuResult", description="The menu, or why there is none."),
]

SearchApplicationsResult = Annotated[
    OperationNotAllowedError | AuthError,
    strawberry.union(
        "SearchApplicationsResult",
        description="申請情報検索. Applications are not served by the identity "
        "service; for the category this service holds, every call answers WZBAM250E "
        "(after the session is checked).",
    ),
]
