"""changePassword: every outcome in its order, the lockout it shares with login,
change tickets, the reuse rule and a double submit."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from models import (
    LoginThrottle,
    MailKind,
    OutboxMail,
    PasswordHistory,
    RevokeReason,
    SessionKind,
    User,
    UserSession,
)
from resolvers.context import Context, Services
from schema.root import schema
from security.clock import SettableClock
from security.tokens import new_token, token_hash
from tests.support import (
    LOGIN,
    ME,
    MINUTE,
    PASSWORD,
    Caller,
    CountingHasher,
    Mailbox,
    body,
    log_in,
    unchanged,
)

CHANGE = """
mutation Change($current: String!, $new: String!, $confirm: String!) {
  changePassword(
    input: {currentPassword: $current, newPassword: $new, newPasswordConfirm: $confirm}
  ) {
    __typename
    ... on Error { code message }
    ... on FieldError { field }
    ... on RequiredFieldError { fields }
    ... on PasswordPolicyError { violations { rule message } }
    ... on ChangePasswordSuccess {
      passwordExpiresAt sessionEnded token user { authId passwordExpiresAt }
    }
  }
}
"""

NEW = "Hinoki2027#"
WRONG = "Wrong2026$"
YEAR = timedelta(days=365)


async def change(
    execute: Caller,
    token: str | None,
    current: str = PASSWORD,
    new: str = NEW,
    confirm: str | None = None,
) -> dict[str, Any]:
    variables = {
        "current": current,
        "new": new,
        "confirm": new if confirm is None else confirm,
    }
    data = await execute(CHANGE, variables, token=token)
    result: dict[str, Any] = data["changePassword"]
    return result


async def login_as(execute: Caller, user: User, password: str) -> dict[str, Any]:
    data = await execute(LOGIN, {"authId": user.auth_id, "password": password})
    result: dict[str, Any] = data["login"]
    return result


async def me(execute: Caller, token: str) -> dict[str, Any]:
    result: dict[str, Any] = (await execute(ME, token=token))["me"]
    return result


async def change_ticket(execute: Caller, user: User, clock: SettableClock) -> str:
    """The WZBAM158E change ticket login hands out for an expired password."""
    await User.filter(id=user.id).update(password_expires_at=clock.now() - MINUTE)
    login = await login_as(execute, user, PASSWORD)
    assert login["__typename"] == "PasswordExpiredError", login
    ticket: str = login["changeTicket"]
    return ticket


async def other_session(user: User, clock: SettableClock) -> str:
    """An active session of the user besides the caller's (another device)."""
    token = new_token()
    await UserSession.create(
        user_id=user.id,
        token_hash=token_hash(token),
        kind=SessionKind.SESSION,
        created_at=clock.now(),
        last_seen_at=clock.now(),
        expires_at=clock.now() + timedelta(hours=8),
    )
    return token


async def failures(user: User) -> int:
    throttle = await LoginThrottle.get_or_none(key=user.auth_id)
    return 0 if throttle is None else throttle.failures


@asynccontextmanager
async def refused(execute: Caller, user: User, token: str) -> AsyncIterator[None]:
    """The change in the block is refused: nothing is written (``unchanged``),
    the password is still the one ``user`` was made with, and the session goes
    on."""
    async with unchanged():
        yield
    stored = await User.get(id=user.id)
    assert stored.password_hash == user.password_hash
    assert stored.password_expires_at == user.password_expires_at
    assert await PasswordHistory.filter(user_id=user.id).count() == 0
    assert await OutboxMail.all().count() == 0
    assert (await me(execute, token))["__typename"] == "User"


async def test_change_sets_a_new_password_valid_for_a_year(
    execute: Caller, user: User, clock: SettableClock, hasher: CountingHasher
) -> None:
    token = await log_in(execute, user.auth_id)
    clock.advance(MINUTE)
    now = clock.now()

    result = await change(execute, token)

    assert result["__typename"] == "ChangePasswordSuccess"
    assert result["sessionEnded"] is False
    assert result["passwordExpiresAt"] == (now + YEAR).isoformat()
    assert result["user"] == {
        "authId": user.auth_id,
        "passwordExpiresAt": (now + YEAR).isoformat(),
    }
    stored = await User.get(id=user.id)
    assert stored.password_changed_at == now
    assert stored.password_expires_at == now + YEAR
    assert await hasher.verify(stored.password_hash, NEW)
    history = await PasswordHistory.filter(user_id=user.id)
    assert [h.password_hash for h in history] == [user.password_hash]
    old = await login_as(execute, user, PASSWORD)
    assert (old["__typename"], old["code"]) == ("InvalidCredentialsError", "WZBAM005E")
    assert (await login_as(execute, user, NEW))["__typename"] == "LoginSuccess"


async def test_the_session_goes_on_under_a_new_token_and_the_old_one_dies(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    session = await UserSession.get(token_hash=token_hash(token))
    clock.advance(MINUTE)

    result = await change(execute, token)

    renewed = result["token"]
    assert result["sessionEnded"] is False
    assert renewed not in (None, token)
    assert await me(execute, token) == {
        "__typename": "NotAuthenticatedError",
        "code": "RASX002E",
    }
    assert (await me(execute, renewed))["__typename"] == "User"
    row = await UserSession.get(id=session.id)
    assert (row.token_hash, row.revoked_at) == (token_hash(renewed), None)
    # The password was just checked: the session counts as freshly logged in.
    assert row.authenticated_at == clock.now()
    assert await UserSession.filter(token_hash=token_hash(token)).count() == 0


async def test_change_ends_every_other_session_but_keeps_the_current_one(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    elsewhere = await other_session(user, clock)
    assert (await me(execute, elsewhere))["__typename"] == "User"

    result = await change(execute, token)

    assert result["__typename"] == "ChangePasswordSuccess"
    assert (await me(execute, result["token"]))["__typename"] == "User"
    assert await me(execute, elsewhere) == {
        "__typename": "NotAuthenticatedError",
        "code": "RASX002E",
    }
    ended = await UserSession.get(token_hash=token_hash(elsewhere))
    assert ended.revoked_reason is RevokeReason.PASSWORD_CHANGED
    assert ended.revoked_at == clock.now()
    current = await UserSession.get(token_hash=token_hash(result["token"]))
    assert current.revoked_at is None


async def test_change_mails_a_completion_notice_to_the_user(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    token = await log_in(execute, user.auth_id)

    await change(execute, token)

    row = await OutboxMail.get()
    assert (row.kind, row.recipient) == (MailKind.PASSWORD_CHANGED, "taro@example.com")
    assert await OutboxMail.filter(id=row.id, user_id=user.id).exists()
    arrived = await mailbox.deliver()
    assert len(arrived) == 1
    assert arrived[0]["To"] == "taro@example.com"
    assert "パスワード変更完了" in str(arrived[0]["Subject"])
    assert "パスワードを変更しました" in body(arrived[0])
    assert "Your password has been changed" in body(arrived[0])


async def test_change_with_a_ticket_uses_it_up_and_the_new_password_logs_in(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    ticket = await change_ticket(execute, user, clock)

    result = await change(execute, ticket)
    again = await change(execute, ticket, current=NEW, new="Kaede2028%")

    assert result["__typename"] == "ChangePasswordSuccess"
    assert (result["sessionEnded"], result["token"]) == (True, None)
    assert result["passwordExpiresAt"] == (clock.now() + YEAR).isoformat()
    assert again["__typename"] == "NotAuthenticatedError"
    assert again["code"] == "RASX002E"
    used = await UserSession.get(token_hash=token_hash(ticket))
    assert used.revoked_reason is RevokeReason.PASSWORD_CHANGED
    assert await OutboxMail.filter(kind=MailKind.PASSWORD_CHANGED).count() == 1
    assert (await login_as(execute, user, PASSWORD))["code"] == "WZBAM005E"
    token = await log_in(execute, user.auth_id, NEW)
    assert (await me(execute, token))["__typename"] == "User"


@pytest.mark.parametrize(
    ("current", "new", "confirm", "fields"),
    [
        ("", "", "", ["currentPassword", "newPassword", "newPasswordConfirm"]),
        ("  ", NEW, NEW, ["currentPassword"]),
        (PASSWORD, NEW, "", ["newPasswordConfirm"]),
    ],
)
async def test_empty_items_answer_001e_listing_them(
    execute: Caller,
    user: User,
    hasher: CountingHasher,
    current: str,
    new: str,
    confirm: str,
    fields: list[str],
) -> None:
    token = await log_in(execute, user.auth_id)
    checked = hasher.verifications

    async with refused(execute, user, token):
        result = await change(execute, token, current, new, confirm)

    assert result["__typename"] == "RequiredFieldError"
    assert result["code"] == "WZBAM001E"
    assert (result["field"], result["fields"]) == (fields[0], fields)
    assert hasher.verifications == checked


async def test_confirmation_differing_answers_162e(execute: Caller, user: User) -> None:
    token = await log_in(execute, user.auth_id)

    async with refused(execute, user, token):
        result = await change(execute, token, confirm="Hinoki2027$")

    assert result["__typename"] == "PasswordConfirmMismatchError"
    assert (result["code"], result["field"]) == ("WZBAM162E", "newPasswordConfirm")


@pytest.mark.parametrize(
    ("new", "rules"),
    [
        ("Ab1$", ["LENGTH"]),
        ("Sa1$" + "x" * 29, ["LENGTH"]),
        ("Sakura 2026$", ["CHARACTERS"]),
        ("Sakura2026＄", ["CHARACTERS", "MIX"]),
        ("sakuramochi2026", ["MIX"]),
        ("Zz9!{auth_id}", ["CONTAINS_AUTH_ID"]),
        ("Password1!", ["COMMON"]),
        ("Qwerty2026!", ["COMMON"]),
    ],
)
async def test_new_password_breaking_the_policy_answers_005e(
    execute: Caller, user: User, new: str, rules: list[str]
) -> None:
    token = await log_in(execute, user.auth_id)
    new = new.format(auth_id=user.auth_id.lower())

    async with refused(execute, user, token):
        result = await change(execute, token, new=new)

    assert result["__typename"] == "PasswordPolicyError"
    assert (result["code"], result["field"]) == ("WZBAM005E", "newPassword")
    assert [v["rule"] for v in result["violations"]] == rules
    assert all(v["message"] for v in result["violations"])


async def test_the_current_password_cannot_be_the_new_one(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    async with refused(execute, user, token):
        result = await change(execute, token, new=PASSWORD)

    assert result["__typename"] == "PasswordPolicyError"
    assert (result["code"], result["field"]) == ("WZBAM005E", "newPassword")
    assert result["violations"] == [
        {
            "rule": "RECENTLY_USED",
            "message": "現在のパスワード及び過去2回分のパスワードは使用できません。",
        }
    ]


async def test_the_last_three_passwords_are_refused_and_older_ones_accepted(
    execute: Caller, user: User
) -> None:
    session = [await log_in(execute, user.auth_id)]

    async def changed(current: str, new: str) -> dict[str, Any]:
        result = await change(execute, session[0], current, new)
        session[0] = result.get("token") or session[0]
        return result

    first, second, third = "Kaede2028%", "Momiji2029&", "Tsubaki2030@"
    assert (await changed(PASSWORD, first))["__typename"] == "ChangePasswordSuccess"
    assert (await changed(first, second))["__typename"] == "ChangePasswordSuccess"

    refused = [await changed(second, earlier) for earlier in (second, first, PASSWORD)]
    assert [r["__typename"] for r in refused] == ["PasswordPolicyError"] * 3
    assert [[v["rule"] for v in r["violations"]] for r in refused] == [
        ["RECENTLY_USED"]
    ] * 3

    assert (await changed(second, third))["__typename"] == "ChangePasswordSuccess"
    # PASSWORD is now three changes back: no longer among the last three.
    back = await changed(third, PASSWORD)
    assert back["__typename"] == "ChangePasswordSuccess"
    # The last three are now PASSWORD, third and second.
    assert (await changed(PASSWORD, second))["code"] == "WZBAM005E"
    assert (await changed(PASSWORD, first))["__typename"] == "ChangePasswordSuccess"
    assert await PasswordHistory.filter(user_id=user.id).count() == 2


@pytest.mark.parametrize(
    ("new", "confirm", "code"),
    [(NEW, "Hinoki2027$", "WZBAM162E"), ("Password1!", "Password1!", "WZBAM005E")],
)
async def test_162e_and_policy_come_before_the_current_password_is_checked(
    execute: Caller,
    user: User,
    hasher: CountingHasher,
    new: str,
    confirm: str,
    code: str,
) -> None:
    token = await log_in(execute, user.auth_id)
    checked = hasher.verifications

    async with refused(execute, user, token):
        result = await change(execute, token, WRONG, new, confirm)

    assert result["code"] == code
    assert hasher.verifications == checked
    assert await failures(user) == 0


async def test_wrong_current_password_answers_154e_and_counts_a_failure(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    async with refused(execute, user, token):
        result = await change(execute, token, current=WRONG)

    assert result["__typename"] == "CurrentPasswordWrongError"
    assert (result["code"], result["field"]) == ("WZBAM154E", "currentPassword")
    assert await failures(user) == 1


async def test_wrong_current_passwords_and_a_failed_login_share_the_lockout(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)

    codes = [(await change(execute, token, current=WRONG))["code"] for _ in range(4)]
    login = await login_as(execute, user, WRONG)

    assert codes == ["WZBAM154E"] * 4
    assert (login["__typename"], login["code"]) == ("AccountLockedError", "WZBAM153E")
    assert (await login_as(execute, user, PASSWORD))["code"] == "WZBAM153E"
    assert await failures(user) == 5


async def test_fifth_wrong_current_password_locks_and_ends_the_sessions(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    elsewhere = await other_session(user, clock)

    codes = [(await change(execute, token, current=WRONG))["code"] for _ in range(5)]

    assert codes == ["WZBAM154E"] * 4 + ["WZBAM153E"]
    throttle = await LoginThrottle.get(key=user.auth_id)
    assert throttle.locked_until == clock.now() + timedelta(hours=24)
    sessions = await UserSession.filter(user_id=user.id)
    assert len(sessions) == 2
    assert {s.revoked_reason for s in sessions} == {RevokeReason.ACCOUNT_LOCKED}
    for ended in (token, elsewhere):
        assert (await me(execute, ended))["code"] == "RASX002E"
    login = await login_as(execute, user, PASSWORD)
    assert (login["__typename"], login["code"]) == ("AccountLockedError", "WZBAM153E")
    assert (await User.get(id=user.id)).password_hash == user.password_hash


async def test_locked_account_answers_153e_without_checking_and_ends_the_session(
    execute: Caller, user: User, hasher: CountingHasher
) -> None:
    token = await log_in(execute, user.auth_id)
    for _ in range(5):
        await login_as(execute, user, WRONG)
    checked = hasher.verifications

    result = await change(execute, token)

    assert result["__typename"] == "AccountLockedError"
    assert result["code"] == "WZBAM153E"
    assert hasher.verifications == checked
    assert (await User.get(id=user.id)).password_hash == user.password_hash
    assert await OutboxMail.all().count() == 0
    session = await UserSession.get(token_hash=token_hash(token))
    assert session.revoked_reason is RevokeReason.ACCOUNT_LOCKED
    assert (await me(execute, token))["code"] == "RASX002E"


@pytest.mark.parametrize("token", [None, "forged-token-value"])
async def test_without_a_session_the_answer_is_not_authenticated(
    execute: Caller, user: User, hasher: CountingHasher, token: str | None
) -> None:
    result = await change(execute, token)

    assert (result["__typename"], result["code"]) == (
        "NotAuthenticatedError",
        "RASX002E",
    )
    assert hasher.verifications == 0
    assert await LoginThrottle.all().count() == 0
    assert (await User.get(id=user.id)).password_hash == user.password_hash


async def test_double_submit_changes_once_and_the_other_answers_154e(
    user: User, services: Services, real_hasher: CountingHasher
) -> None:
    # With production's argon2 cost the first change is still hashing its new
    # password when the second has checked the current one, so the guard on
    # the stored hash decides; with the cheap test hasher the first change
    # often committed before the second looked (on SQLite), and that guard
    # went untested.
    execute = Caller(services=replace(services, hasher=real_hasher))
    token = await log_in(execute, user.auth_id)
    choices = ["Kaede2028%", "Momiji2029&"]

    results = await asyncio.gather(
        *(change(execute, token, PASSWORD, new) for new in choices)
    )

    names = sorted(r["__typename"] for r in results)
    assert names == ["ChangePasswordSuccess", "CurrentPasswordWrongError"]
    assert sorted(r.get("code", "") for r in results) == ["", "WZBAM154E"]
    winner = choices[[r["__typename"] for r in results].index("ChangePasswordSuccess")]
    stored = (await User.get(id=user.id)).password_hash
    assert await real_hasher.verify(stored, winner)
    assert await PasswordHistory.filter(user_id=user.id).count() == 1
    assert await OutboxMail.filter(kind=MailKind.PASSWORD_CHANGED).count() == 1
    [renewed] = [r["token"] for r in results if r.get("token")]
    assert (await me(execute, renewed))["__typename"] == "User"
    assert (await me(execute, token))["code"] == "RASX002E"


@pytest.mark.parametrize(
    "field",
    [
        'changePassword(input: {currentPassword: "a", newPassword: "b", '
        'newPasswordConfirm: "b"})',
        'requestPasswordReset(input: {authId: "ABCDEFGH23", email: "a@b.jp"})',
        'resetPassword(input: {token: "t", newPassword: "b", newPasswordConfirm: "b"})',
        'registerPassword(input: {token: "t", password: "b", passwordConfirm: "b"})',
        'updateUserInfo(input: {newEmail: "a@b.jp", newEmailConfirm: "a@b.jp"})',
    ],
)
async def test_one_request_may_hold_each_costly_mutation_only_once(
    execute: Caller, user: User, hasher: CountingHasher, field: str
) -> None:
    token = await log_in(execute, user.auth_id)
    document = (
        f"mutation {{ a: {field} {{ __typename }} "
        f"... on Mutation {{ b: {field} {{ __typename }} }} }}"
    )
    context = Context(services=execute.services, bearer=token)
    verified = hasher.verifications

    result = await schema.execute(document, context_value=context)

    assert result.data is None
    assert result.errors is not None
    assert "at most one `" in result.errors[0].message
    assert hasher.verifications == verified
    assert await OutboxMail.all().count() == 0
