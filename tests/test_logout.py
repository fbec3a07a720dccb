"""logout."""

from datetime import timedelta

from models import User, UserSession
from models.session import RevokeReason
from security.clock import SettableClock
from tests.support import ME, Caller, log_in

LOGOUT = """
mutation { logout { __typename ... on Error { code } ... on LogoutSuccess { ok } } }
"""


async def test_logout_ends_the_session(execute: Caller, user: User) -> None:
    token = await log_in(execute, user.auth_id)

    data = await execute(LOGOUT, token=token)
    after = await execute(ME, token=token)

    assert data["logout"] == {"__typename": "LogoutSuccess", "ok": True}
    assert after["me"] == {"__typename": "NotAuthenticatedError", "code": "RASX002E"}
    session = await UserSession.get(user_id=user.id)
    assert session.revoked_reason is RevokeReason.LOGOUT


async def test_logout_twice_succeeds_and_keeps_the_first_reason(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    await execute(LOGOUT, token=token)
    first = await UserSession.get(user_id=user.id)
    clock.advance(timedelta(minutes=1))

    data = await execute(LOGOUT, token=token)

    assert data["logout"]["__typename"] == "LogoutSuccess"
    assert (await UserSession.get(user_id=user.id)).revoked_at == first.revoked_at


async def test_logout_of_a_timed_out_session_succeeds(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    clock.advance(timedelta(hours=2))

    data = await execute(LOGOUT, token=token)

    assert data["logout"]["__typename"] == "LogoutSuccess"
    assert (await UserSession.get(user_id=user.id)).revoked_at is not None


async def test_logout_without_a_token_is_not_authenticated(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    data = await execute(LOGOUT)
    unknown = await execute(LOGOUT, token="forged")

    assert data["logout"]["code"] == "RASX002E"
    assert unknown["logout"]["code"] == "RASX002E"
    assert (await UserSession.get(user_id=user.id)).revoked_at is None
    assert (await execute(ME, token=token))["me"]["__typename"] == "User"
