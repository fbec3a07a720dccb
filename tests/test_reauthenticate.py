"""reauthenticate and the step-up it serves: changing the email address needs the
password checked on the session within RAS_STEP_UP_SECONDS, so a stolen token
alone cannot redirect the account's mail."""

from datetime import timedelta
from typing import Any

import pytest

from models import (
    LinkToken,
    LoginThrottle,
    OutboxMail,
    RequestThrottle,
    User,
    UserSession,
)
from security.clock import SettableClock
from security.tokens import token_hash
from tests.support import (
    LOGIN,
    ME,
    PASSWORD,
    Caller,
    CountingHasher,
    WithPolicy,
    log_in,
)

REAUTHENTICATE = """
mutation($p: String!) { reauthenticate(input: {password: $p}) {
  __typename
  ... on ReauthenticateSuccess { freshUntil }
  ... on Error { code message }
  ... on FieldError { field }
} }
"""
UPDATE = """
mutation($i: UpdateUserInfoInput!) { updateUserInfo(input: $i) {
  __typename
  ... on Error { code message remedy }
  ... on UpdateUserInfoSuccess { mailSent user { email phone } }
} }
"""
NEW_EMAIL = "new.taro@example.com"
STEP_UP = timedelta(seconds=600)


def new_email(address: str = NEW_EMAIL) -> dict[str, Any]:
    return {"newEmail": address, "newEmailConfirm": address}


async def reauthenticate(
    execute: Caller, token: str | None, password: str = PASSWORD
) -> dict[str, Any]:
    result: dict[str, Any] = (
        await execute(REAUTHENTICATE, {"p": password}, token=token)
    )["reauthenticate"]
    return result


async def update(execute: Caller, token: str, input: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = (await execute(UPDATE, {"i": input}, token=token))[
        "updateUserInfo"
    ]
    return result


async def stale_session(execute: Caller, user: User, clock: SettableClock) -> str:
    """A session whose password was checked just over the step-up period ago
    (kept alive by a call, so only the step-up is old)."""
    token = await log_in(execute, user.auth_id)
    clock.advance(STEP_UP / 2)
    assert (await execute(ME, token=token))["me"]["__typename"] == "User"
    clock.advance(STEP_UP / 2 + timedelta(seconds=1))
    return token


async def test_the_manuals_flow_log_in_then_change_needs_no_extra_step(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    clock.advance(STEP_UP)  # exactly at the limit still counts

    result = await update(execute, token, new_email())

    assert result["__typename"] == "UpdateUserInfoSuccess"
    assert result["user"]["email"] == NEW_EMAIL


async def test_an_email_change_on_a_stale_session_answers_rasx006e_and_changes_nothing(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await stale_session(execute, user, clock)

    result = await update(execute, token, {**new_email(), "newPhone": "0312345678"})

    assert result["__typename"] == "ReauthenticationRequiredError"
    assert result["code"] == "RASX006E"
    assert result["message"].startswith("安全のため")
    row = await User.get(id=user.id)
    assert (row.email, row.phone) == ("taro@example.com", None)
    assert await OutboxMail.all().count() == 0
    assert await LinkToken.all().count() == 0
    assert await RequestThrottle.all().count() == 0  # no email change counted


async def test_address_and_phone_changes_need_no_step_up(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await stale_session(execute, user, clock)

    result = await update(execute, token, {"newPhone": "0312345678"})

    assert result["__typename"] == "UpdateUserInfoSuccess"


async def test_reauthenticating_makes_the_session_fresh_for_the_step_up_period(
    execute: Caller, user: User, clock: SettableClock, hasher: CountingHasher
) -> None:
    token = await stale_session(execute, user, clock)
    checks = hasher.verifications

    confirmed = await reauthenticate(execute, token)

    assert confirmed == {
        "__typename": "ReauthenticateSuccess",
        "freshUntil": (clock.now() + STEP_UP).isoformat(),
    }
    assert hasher.verifications == checks + 1
    session = await UserSession.get(token_hash=token_hash(token))
    assert session.authenticated_at == clock.now()
    assert (await update(execute, token, new_email()))["__typename"] == (
        "UpdateUserInfoSuccess"
    )
    clock.advance(STEP_UP + timedelta(seconds=1))
    again = await update(execute, token, new_email("third@example.com"))
    assert again["code"] == "RASX006E"


async def test_a_wrong_password_answers_154e_and_counts_toward_the_lockout(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await stale_session(execute, user, clock)

    result = await reauthenticate(execute, token, "Wrong2026$")

    assert (result["__typename"], result["code"], result["field"]) == (
        "CurrentPasswordWrongError",
        "WZBAM154E",
        "password",
    )
    throttle = await LoginThrottle.get(key=user.auth_id)
    assert throttle.failures == 1
    session = await UserSession.get(token_hash=token_hash(token))
    assert session.authenticated_at == clock.now() - STEP_UP - timedelta(seconds=1)
    assert (await update(execute, token, new_email()))["code"] == "RASX006E"


async def test_wrong_passwords_and_failed_logins_share_the_lock_which_ends_sessions(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await stale_session(execute, user, clock)
    for _ in range(4):
        await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})

    locked = await reauthenticate(execute, token, "Wrong2026$")
    after = await reauthenticate(execute, token)

    assert (locked["__typename"], locked["code"]) == ("AccountLockedError", "WZBAM153E")
    assert after["code"] == "RASX002E"  # the lock ended the session
    assert await UserSession.filter(user_id=user.id, revoked_at=None).count() == 0


async def test_a_locked_id_is_not_checked_at_all(
    execute: Caller, user: User, clock: SettableClock, hasher: CountingHasher
) -> None:
    token = await stale_session(execute, user, clock)
    await LoginThrottle.filter(key=user.auth_id).update(
        failures=5, locked_until=clock.now() + timedelta(hours=1)
    )
    checks = hasher.verifications

    result = await reauthenticate(execute, token)

    assert result["code"] == "WZBAM153E"
    assert hasher.verifications == checks


@pytest.mark.parametrize("password", ["", "   "])
async def test_an_empty_password_answers_001e_without_a_check(
    execute: Caller, user: User, hasher: CountingHasher, password: str
) -> None:
    token = await log_in(execute, user.auth_id)
    checks = hasher.verifications

    result = await reauthenticate(execute, token, password)

    assert (result["code"], result["field"]) == ("WZBAM001E", "password")
    assert hasher.verifications == checks


async def test_without_a_session_or_with_a_change_ticket_nothing_is_checked(
    execute: Caller, user: User, clock: SettableClock, hasher: CountingHasher
) -> None:
    await User.filter(id=user.id).update(password_expires_at=clock.now())
    login = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    ticket = login["login"]["changeTicket"]
    checks = hasher.verifications

    assert (await reauthenticate(execute, None))["code"] == "RASX002E"
    assert (await reauthenticate(execute, ticket))["code"] == "WZBAM158E"
    assert hasher.verifications == checks


async def test_sessions_from_before_the_step_up_count_as_stale(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)
    await UserSession.filter(token_hash=token_hash(token)).update(authenticated_at=None)

    result = await update(execute, token, new_email())

    assert result["code"] == "RASX006E"


async def test_a_step_up_period_is_a_setting(
    execute: Caller, user: User, clock: SettableClock, with_policy: WithPolicy
) -> None:
    token = await log_in(execute, user.auth_id)
    clock.advance(timedelta(seconds=61))
    strict = Caller(services=with_policy(step_up=timedelta(seconds=60)))

    result = await update(strict, token, new_email())

    assert result["code"] == "RASX006E"
    assert (await update(execute, token, new_email()))["__typename"] == (
        "UpdateUserInfoSuccess"
    )
