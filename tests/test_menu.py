"""menu (manual 2.3)."""

from models import Lang, User
from tests.support import Caller, log_in

MENU = """
query {
  menu {
    __typename
    ... on Error { code }
    ... on Menu { items { key label available } }
  }
}
"""


async def test_menu_marks_the_application_items_unavailable(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    data = await execute(MENU, token=token)

    assert data["menu"]["items"] == [
        {
            "key": "APPLY_INDIVIDUALLY",
            "label": "申請情報入力（１件ずつ申請情報を入力）",
            "available": False,
        },
        {"key": "APPLY_IN_BULK", "label": "申請情報入力（一括）", "available": False},
        {"key": "SEARCH_APPLICATIONS", "label": "申請情報検索", "available": False},
        {"key": "UPDATE_USER_INFO", "label": "利用者情報更新", "available": True},
    ]


async def test_menu_labels_follow_the_language(execute: Caller, user: User) -> None:
    token = await log_in(execute, user.auth_id)

    data = await execute(MENU, token=token, lang=Lang.EN)

    labels = [item["label"] for item in data["menu"]["items"]]
    assert labels == [
        "Enter application information (one at a time)",
        "Enter application information (in bulk)",
        "Search applications",
        "Update user information",
    ]


async def test_menu_needs_a_session(execute: Caller) -> None:
    data = await execute(MENU)

    assert data["menu"] == {"__typename": "NotAuthenticatedError", "code": "RASX002E"}
