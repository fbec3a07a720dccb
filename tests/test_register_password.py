"""registerPassword: the first password, through the registration mail's link."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from models import AccountStatus, LinkToken, MailKind, OutboxMail, User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import (
    LOGIN,
    Caller,
    Mailbox,
    WithPolicy,
    body,
    link_token,
    request_reset,
    reset_password,
    unchanged,
)
from tests.test_register_user import REGISTER, form

NEW_PASSWORD = "Hoshi#2027x"

SET_PASSWORD = """
mutation Set($input: RegisterPasswordInput!) {
  registerPassword(input: $input) {
    __typename
    ... on RegisterPasswordSuccess { authId passwordExpiresAt }
    ... on Error { code message }
    ... on FieldError { field }
    ... on RequiredFieldError { fields }
    ... on PasswordPolicyError { violations { rule message } }
  }
}
"""


async def registered(execute: Caller, mailbox: Mailbox) -> tuple[User, str]:
    """A registered account and the token of its mailed link."""
    data = await execute(REGISTER, form())
    assert data["registerUser"]["__typename"] == "RegisterUserSuccess"
    [mail] = await mailbox.deliver()
    return await User.get(email_key="an@example.com"), link_token(mail)


async def set_password(
    execute: Caller,
    token: str,
    password: str = NEW_PASSWORD,
    confirm: str | None = None,
) -> dict[str, Any]:
    data = await execute(
        SET_PASSWORD,
        {
            "input": {
                "token": token,
                "password": password,
                "passwordConfirm": password if confirm is None else confirm,
            }
        },
    )
    result: dict[str, Any] = data["registerPassword"]
    return result


@asynccontextmanager
async def refused(user: User) -> AsyncIterator[None]:
    """The link in the block is refused: nothing is written (``unchanged``), so
    the account still has no password and no link was used."""
    async with unchanged():
        yield
    await user.refresh_from_db()
    assert user.password_hash is None
    assert await LinkToken.filter(used_at__isnull=False).count() == 0


async def test_the_mailed_link_sets_the_password_and_the_user_can_log_in(
    execute: Caller, services: Services, mailbox: Mailbox
) -> None:
    user, token = await registered(execute, mailbox)

    result = await set_password(execute, token)

    assert result["__typename"] == "RegisterPasswordSuccess", result
    assert result["authId"] == user.auth_id
    login = await execute(LOGIN, {"authId": user.auth_id, "password": NEW_PASSWORD})
    assert login["login"]["__typename"] == "LoginSuccess"
    await user.refresh_from_db()
    assert user.password_expires_at == services.clock.now() + timedelta(days=365)
    [mail] = await mailbox.deliver()
    assert mail["To"] == "an@example.com"
    assert user.auth_id in body(mail)
    last = await OutboxMail.all().order_by("-id").first()
    assert last is not None
    assert last.kind is MailKind.PASSWORD_REGISTERED


async def test_the_link_works_only_once(execute: Caller, mailbox: Mailbox) -> None:
    _, token = await registered(execute, mailbox)
    assert (await set_password(execute, token))[
        "__typename"
    ] == "RegisterPasswordSuccess"

    again = await set_password(execute, token, "Other#2027y")

    assert again["__typename"] == "LinkInvalidError"
    assert again["code"] == "RASX003E"
    assert again["field"] == "token"


async def test_an_expired_link_is_refused(
    execute: Caller, clock: SettableClock, mailbox: Mailbox
) -> None:
    user, token = await registered(execute, mailbox)
    clock.advance(timedelta(hours=24))

    async with refused(user):
        result = await set_password(execute, token)

    assert result["code"] == "RASX003E"


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 43, "é" * 43, "t" * 5000])
async def test_unknown_tokens_are_refused(
    execute: Caller, mailbox: Mailbox, token: str
) -> None:
    user, _ = await registered(execute, mailbox)

    async with refused(user):
        result = await set_password(execute, token)

    expected = "WZBAM001E" if not token else "RASX003E"
    assert result["code"] == expected


async def test_a_reset_link_is_not_a_setup_link(
    execute: Caller, mailbox: Mailbox
) -> None:
    user, _ = await registered(execute, mailbox)
    reset = await request_reset(execute, user.auth_id, user.email)
    assert reset["__typename"] == "RequestPasswordResetSuccess"
    [mail] = await mailbox.deliver()

    result = await set_password(execute, link_token(mail))

    assert result["code"] == "RASX003E"


async def test_a_different_reentry_is_refused(
    execute: Caller, mailbox: Mailbox
) -> None:
    user, token = await registered(execute, mailbox)

    async with refused(user):
        result = await set_password(execute, token, confirm="Hoshi#2027X")

    assert result["__typename"] == "PasswordReentryMismatchError"
    assert result["code"] == "WZBAM160E"
    assert result["field"] == "passwordConfirm"
    # The link still works after a mistake.
    assert (await set_password(execute, token))[
        "__typename"
    ] == "RegisterPasswordSuccess"


async def test_every_empty_item_is_listed(execute: Caller, mailbox: Mailbox) -> None:
    _, token = await registered(execute, mailbox)

    result = await set_password(execute, token, password="", confirm="")

    assert result["code"] == "WZBAM001E"
    assert result["fields"] == ["password", "passwordConfirm"]


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        ("Ab1$", ["LENGTH"]),
        ("Hoshi20270", ["MIX"]),
        ("Hoshi 2027$", ["CHARACTERS"]),
        ("P@ssw0rd", ["COMMON"]),
        ("Password1!", ["COMMON"]),
    ],
)
async def test_policy_violations_are_named(
    execute: Caller, mailbox: Mailbox, password: str, rules: list[str]
) -> None:
    user, token = await registered(execute, mailbox)

    async with refused(user):
        result = await set_password(execute, token, password)

    assert result["__typename"] == "PasswordPolicyError"
    assert result["code"] == "WZBAM005E"
    assert result["field"] == "password"
    assert [v["rule"] for v in result["violations"]] == rules
    assert (
        result["message"]
        == "パスワードの入力内容に誤りがあります。再度入力してください。"
    )


async def test_a_password_containing_the_auth_id_is_refused(
    execute: Caller, mailbox: Mailbox
) -> None:
    user, token = await registered(execute, mailbox)

    result = await set_password(execute, token, f"x{user.auth_id.lower()}1$")

    assert [v["rule"] for v in result["violations"]] == ["CONTAINS_AUTH_ID"]


async def test_two_parallel_uses_of_one_link_set_one_password(
    execute: Caller, mailbox: Mailbox
) -> None:
    user, token = await registered(execute, mailbox)

    results = await asyncio.gather(
        set_password(execute, token, "First#2027a"),
        set_password(execute, token, "Second#2027b"),
    )

    kinds = sorted(r["__typename"] for r in results)
    assert kinds == ["LinkInvalidError", "RegisterPasswordSuccess"]
    winner = (
        "First#2027a"
        if results[0]["__typename"] != "LinkInvalidError"
        else "Second#2027b"
    )
    login = await execute(LOGIN, {"authId": user.auth_id, "password": winner})
    assert login["login"]["__typename"] == "LoginSuccess"
    assert await OutboxMail.filter(kind=MailKind.PASSWORD_REGISTERED).count() == 1


async def test_the_policy_in_force_is_the_one_enforced_and_shown(
    execute: Caller, mailbox: Mailbox, with_policy: WithPolicy
) -> None:
    _, token = await registered(execute, mailbox)
    strict = Caller(services=with_policy(password_min_length=12, password_history=5))

    refused = await set_password(strict, token, "Hoshi#2027x")  # 11 characters
    shown = await strict("query { passwordPolicy { minLength history rules { en } } }")

    assert [v["rule"] for v in refused["violations"]] == ["LENGTH"]
    assert [v["message"] for v in refused["violations"]] == [
        "12文字以上32文字以下で入力してください。"
    ]
    policy = shown["passwordPolicy"]
    assert (policy["minLength"], policy["history"]) == (12, 5)
    assert policy["rules"][0]["en"] == "Use 12 to 32 characters."
    assert "4 before it" in policy["rules"][-1]["en"]


async def test_setup_and_reset_links_are_separate_and_setting_one_voids_the_other(
    execute: Caller, mailbox: Mailbox
) -> None:
    user, setup = await registered(execute, mailbox)
    asked = await request_reset(execute, user.auth_id, user.email)
    assert asked["__typename"] == "RequestPasswordResetSuccess"
    [reset_mail] = await mailbox.deliver()

    # A reset request does not void the setup link ...
    assert (await set_password(execute, setup))[
        "__typename"
    ] == "RegisterPasswordSuccess"
    # ... and setting the password voids the reset link.
    late = await reset_password(execute, link_token(reset_mail), "Other#2027y")
    assert late["code"] == "RASX003E"


@pytest.mark.parametrize("change", ["suspended", "usage_expired"])
async def test_a_setup_link_stops_working_when_the_account_may_not_be_used(
    execute: Caller, services: Services, mailbox: Mailbox, change: str
) -> None:
    user, token = await registered(execute, mailbox)
    if change == "suspended":
        await User.filter(id=user.id).update(status=AccountStatus.SUSPENDED)
    else:
        await User.filter(id=user.id).update(usage_expires_at=services.clock.now())

    result = await set_password(execute, token)

    assert result["code"] == "RASX003E"
    assert (await User.get(id=user.id)).password_hash is None


async def test_a_mismatch_is_reported_before_the_policy(
    execute: Caller, mailbox: Mailbox
) -> None:
    _, token = await registered(execute, mailbox)

    result = await set_password(execute, token, "short", confirm="other")

    assert result["code"] == "WZBAM160E"
