"""me and the session rules every authenticated call shares."""

from datetime import timedelta

import pytest

from models import AccountStatus, Lang, User, UserSession
from models.session import RevokeReason
from security.clock import SettableClock
from tests.support import Caller, WithPolicy, log_in

ME = """
query {
  me {
    __typename
    ... on Error { code message remedy }
    ... on User {
      authId name email phone userCategory lastLoginAt previousLoginAt
      passwordExpiresAt
      address { municipalityCode prefectureName municipalityName street }
    }
  }
}
"""


async def test_me_shows_the_user_information(execute: Caller, user: User) -> None:
    await User.filter(id=user.id).update(
        phone="0312345678",
        municipality_code="131041",
        prefecture_name="東京都",
        municipality_name="新宿区",
        street="西新宿二丁目８番１号",
    )
    token = await log_in(execute, user.auth_id)

    data = await execute(ME, token=token)

    me = data["me"]
    assert me["__typename"] == "User"
    assert me["authId"] == user.auth_id
    assert me["name"] == "YAMADA TARO"
    assert me["email"] == "taro@example.com"
    assert me["phone"] == "0312345678"
    assert me["userCategory"] == "COUNTER_COE_ELECTRONIC"
    assert me["address"] == {
        "municipalityCode": "131041",
        "prefectureName": "東京都",
        "municipalityName": "新宿区",
        "street": "西新宿二丁目８番１号",
    }
    now = execute.services.clock.now()
    assert me["lastLoginAt"] == now.isoformat()
    assert me["previousLoginAt"] is None
    assert me["passwordExpiresAt"] == (now + timedelta(days=365)).isoformat()


async def test_me_without_an_address_has_null_address(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    data = await execute(ME, token=token)

    assert data["me"]["address"] is None


async def test_me_without_token_is_not_authenticated(execute: Caller) -> None:
    data = await execute(ME)

    assert data["me"]["__typename"] == "NotAuthenticatedError"
    assert data["me"]["code"] == "RASX002E"


async def test_me_with_an_unknown_token_is_not_authenticated(
    execute: Caller, user: User
) -> None:
    await log_in(execute, user.auth_id)

    data = await execute(ME, token="not-a-token-we-issued")

    assert data["me"]["__typename"] == "NotAuthenticatedError"


async def test_session_times_out_after_30_idle_minutes(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    clock.advance(timedelta(minutes=30))

    data = await execute(ME, token=token)
    again = await execute(ME, token=token)

    assert data["me"]["__typename"] == "SessionExpiredError"
    assert data["me"]["code"] == "RASX001E"
    assert again["me"]["code"] == "RASX001E"
    session = await UserSession.get(user_id=user.id)
    assert session.revoked_reason is RevokeReason.IDLE_TIMEOUT


async def test_each_request_restarts_the_idle_timer(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    for _ in range(4):
        clock.advance(timedelta(minutes=29))
        data = await execute(ME, token=token)
        assert data["me"]["__typename"] == "User"

    session = await UserSession.get(user_id=user.id)
    assert session.last_seen_at == clock.now()


async def test_calls_within_seconds_of_the_last_write_do_not_write_again(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    """The last call is written at most every TOUCH_EVERY (5 s): the idle limit
    may end a session that much early, never late."""
    token = await log_in(execute, user.auth_id)
    written = (await UserSession.get(user_id=user.id)).last_seen_at
    clock.advance(timedelta(seconds=4))
    assert (await execute(ME, token=token))["me"]["__typename"] == "User"
    assert (await UserSession.get(user_id=user.id)).last_seen_at == written
    clock.advance(timedelta(minutes=30) - timedelta(seconds=4))
    assert (await execute(ME, token=token))["me"]["code"] == "RASX001E"


async def test_a_call_after_the_touch_interval_is_written(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    clock.advance(timedelta(seconds=5))
    assert (await execute(ME, token=token))["me"]["__typename"] == "User"
    assert (await UserSession.get(user_id=user.id)).last_seen_at == clock.now()


async def test_idle_timeout_is_a_setting(
    user: User, clock: SettableClock, with_policy: WithPolicy
) -> None:
    brief = Caller(services=with_policy(session_idle=timedelta(seconds=2)))
    token = await log_in(brief, user.auth_id)
    clock.advance(timedelta(seconds=2))

    data = await brief(ME, token=token)

    assert data["me"]["code"] == "RASX001E"


async def test_absolute_lifetime_caps_an_active_session(
    user: User, clock: SettableClock, with_policy: WithPolicy
) -> None:
    capped = Caller(services=with_policy(session_max=timedelta(hours=1)))
    token = await log_in(capped, user.auth_id)
    clock.advance(timedelta(minutes=25))
    assert (await capped(ME, token=token))["me"]["__typename"] == "User"
    clock.advance(timedelta(minutes=25))
    assert (await capped(ME, token=token))["me"]["__typename"] == "User"
    clock.advance(timedelta(minutes=10))

    data = await capped(ME, token=token)

    assert data["me"]["code"] == "RASX001E"
    session = await UserSession.get(user_id=user.id)
    assert session.revoked_reason is RevokeReason.LIFETIME


async def test_displaced_session_answers_099e_in_both_languages(
    execute: Caller, user: User
) -> None:
    first = await log_in(execute, user.auth_id)
    await log_in(execute, user.auth_id)

    ja = await execute(ME, token=first)
    en = await execute(ME, token=first, lang=Lang.EN)

    assert ja["me"]["code"] == "WZBAM099E"
    assert ja["me"]["message"].startswith("二重ログインエラーです。")
    assert en["me"]["message"].startswith("Duplicate login error.")


@pytest.mark.parametrize(
    ("change", "typename", "code"),
    [
        ({"status": AccountStatus.SUSPENDED}, "AccountSuspendedError", "WZBAM155E"),
        ({"status": AccountStatus.DELETED}, "AccountDeletedError", "WZBAM156E"),
        ({"status": AccountStatus.INVALID}, "UserInfoInvalidError", "WZBAM150E"),
        ({"usage_expires_at": SettableClock().now()}, "UsageExpiredError", "WZBAM151E"),
    ],
)
async def test_a_status_change_by_staff_stops_the_open_session(
    execute: Caller, user: User, change: dict[str, object], typename: str, code: str
) -> None:
    token = await log_in(execute, user.auth_id)
    await User.filter(id=user.id).update(**change)

    data = await execute(ME, token=token)

    assert data["me"]["__typename"] == typename
    assert data["me"]["code"] == code


async def test_me_and_menu_answer_together_in_one_request(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    data = await execute("query { me { __typename } menu { __typename } }", token=token)

    assert data == {"me": {"__typename": "User"}, "menu": {"__typename": "Menu"}}


async def test_a_password_expiring_mid_session_ends_the_session(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    await User.filter(id=user.id).update(
        password_expires_at=clock.now() + timedelta(minutes=1)
    )
    clock.advance(timedelta(minutes=1))

    data = await execute(ME, token=token)

    assert data["me"]["__typename"] == "PasswordExpiredError"
    assert data["me"]["code"] == "WZBAM158E"
