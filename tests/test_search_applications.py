"""searchApplications: unavailable for this category (WZBAM250E)."""

from models import User
from tests.support import Caller, log_in

SEARCH = """
query { searchApplications { __typename ... on Error { code message } } }
"""


async def test_search_applications_answers_250e_for_this_category(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    data = await execute(SEARCH, token=token)

    result = data["searchApplications"]
    assert result["__typename"] == "OperationNotAllowedError"
    assert result["code"] == "WZBAM250E"
    assert "在留資格認定証明書電子交付希望者" in result["message"]


async def test_search_applications_checks_the_session_first(execute: Caller) -> None:
    data = await execute(SEARCH)

    assert data["searchApplications"]["__typename"] == "NotAuthenticatedError"
