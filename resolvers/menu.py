"""menu and the application operations it points to (manual 2.3)."""

from models import Lang, UserCategory
from resolvers.context import Info
from resolvers.session import Authenticated, authenticate
from schema.errors import OperationNotAllowedError
from schema.menu import (
    Menu,
    MenuItem,
    MenuItemKey,
    MenuResult,
    SearchApplicationsResult,
)

_LABELS: dict[MenuItemKey, tuple[str, str]] = {
    MenuItemKey.APPLY_INDIVIDUALLY: (
        "申請情報入力（１件ずつ申請情報を入力）",
        "Enter application information (one at a time)",
    ),
    MenuItemKey.APPLY_IN_BULK: (
        "申請情報入力（一括）",
        "Enter application information (in bulk)",
    ),
    MenuItemKey.SEARCH_APPLICATIONS: ("申請情報検索", "Search applications"),
    MenuItemKey.UPDATE_USER_INFO: ("利用者情報更新", "Update user information"),
}

AVAILABLE: dict[UserCategory, frozenset[MenuItemKey]] = {
    # Manual 2.3: the three application buttons are 利用不可 for this category.
    UserCategory.COUNTER_COE_ELECTRONIC: frozenset({MenuItemKey.UPDATE_USER_INFO}),
}


def allowed(category: UserCategory, key: MenuItemKey) -> bool:
    return key in AVAILABLE.get(category, frozenset())


async def menu(info: Info) -> MenuResult:
    """The menu with each item's availability for the user's category.

    - Menu; or an AuthError when the session is missing, expired or displaced.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    return Menu(
        items=[
            MenuItem(
                key=key,
                label=ja if lang is Lang.JA else en,
                available=allowed(auth.user.category, key),
            )
            for key, (ja, en) in _LABELS.items()
        ]
    )


async def search_applications(info: Info) -> SearchApplicationsResult:
    """申請情報検索: WZBAM250E for a category the menu marks unavailable.

    The session is checked first, so a caller without one learns nothing more
    than NotAuthenticatedError.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    return OperationNotAllowedError.build(info.context.lang)
