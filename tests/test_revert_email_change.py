"""revertEmailChange: the link in the notice to the old address undoes a change
that was not the user's, even after the intruder reset the password."""

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from models import (
    LinkPurpose,
    LinkToken,
    PasswordHistory,
    RequestThrottle,
    User,
    UserSession,
)
from resolvers import account
from security.clock import SettableClock
from tests.support import (
    LOGIN,
    ME,
    PASSWORD,
    Caller,
    Mailbox,
    body,
    link_token,
    log_in,
    request_reset,
    reset_password,
)
from tests.test_register_user import REGISTER, form

UPDATE = """
mutation($e: String!) { updateUserInfo(input: {newEmail: $e, newEmailConfirm: $e})
  { __typename ... on Error { code } } }
"""
REVERT = """
mutation($t: String!) { revertEmailChange(input: {token: $t}) {
  __typename
  ... on RevertEmailChangeSuccess { authId email linkExpiresAt }
  ... on Error { code }
  ... on FieldError { field }
} }
"""
OWNER = "taro@example.com"
INTRUDER = "intruder@example.net"


async def change_email(
    execute: Caller, mailbox: Mailbox, session: str, to: str
) -> EmailMessage:
    """Change the email and return the notice that went to the old address."""
    changed = await execute(UPDATE, {"e": to}, token=session)
    assert changed["updateUserInfo"]["__typename"] == "UpdateUserInfoSuccess"
    mails = await mailbox.deliver()
    [notice] = [m for m in mails if m["To"] != to]
    return notice


async def revert(execute: Caller, token: str) -> dict[str, Any]:
    result: dict[str, Any] = (await execute(REVERT, {"t": token}))["revertEmailChange"]
    return result


async def logs_in(execute: Caller, user: User, password: str) -> str:
    data = await execute(LOGIN, {"authId": user.auth_id, "password": password})
    kind: str = data["login"]["__typename"]
    return kind


async def test_the_owner_takes_the_account_back_from_a_session_thief(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    stolen = await log_in(execute, user.auth_id)
    notice = await change_email(execute, mailbox, stolen, INTRUDER)
    # The intruder resets the password through the new address.
    await request_reset(execute, user.auth_id, INTRUDER)
    [reset_mail] = await mailbox.deliver()
    assert reset_mail["To"] == INTRUDER
    await reset_password(execute, link_token(reset_mail), "Stolen#2027x")
    intruder = await log_in(execute, user.auth_id, "Stolen#2027x")
    await mailbox.deliver()

    result = await revert(execute, link_token(notice))

    assert result["__typename"] == "RevertEmailChangeSuccess", result
    assert (result["authId"], result["email"]) == (user.auth_id, OWNER)
    row = await User.get(id=user.id)
    assert (row.email, row.email_key, row.password_hash) == (OWNER, OWNER, None)
    assert (await execute(ME, token=intruder))["me"]["code"] == "RASX002E"
    assert await logs_in(execute, user, "Stolen#2027x") == "InvalidCredentialsError"
    # The owner gets a reset link at the restored address and sets a password.
    [owner_reset] = await mailbox.deliver()
    assert owner_reset["To"] == OWNER
    done = await reset_password(execute, link_token(owner_reset), "Mine#2027yz")
    assert done["__typename"] == "ResetPasswordSuccess"
    assert await logs_in(execute, user, "Mine#2027yz") == "LoginSuccess"
    # The intruder's password is kept as a recent one: it cannot come back.
    assert await PasswordHistory.filter(user_id=user.id).count() == 2


async def test_a_second_change_does_not_void_the_first_ones_link(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    first = await change_email(execute, mailbox, session, INTRUDER)
    await change_email(execute, mailbox, session, "other@example.net")

    result = await revert(execute, link_token(first))

    assert result["email"] == OWNER
    assert (await User.get(id=user.id)).email == OWNER
    # The second change's link (mailed to the intruder's address) is void now.
    links = await LinkToken.filter(user_id=user.id, purpose=LinkPurpose.EMAIL_REVERT)
    assert sum(link.usable(link.created_at) for link in links) == 0


async def test_the_link_works_once_and_for_seven_days(
    execute: Caller, user: User, clock: SettableClock, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    notice = await change_email(execute, mailbox, session, INTRUDER)
    token = link_token(notice)
    assert (await revert(execute, token))["__typename"] == "RevertEmailChangeSuccess"
    assert (await revert(execute, token))["code"] == "RASX003E"
    await mailbox.deliver()  # the reset link to the restored address

    # Give the account its password back and change the email once more.
    await User.filter(id=user.id).update(
        password_hash=user.password_hash,
        password_expires_at=user.password_expires_at,
    )
    session = await log_in(execute, user.auth_id, PASSWORD)
    late = await change_email(execute, mailbox, session, INTRUDER)
    clock.advance(timedelta(days=7))

    result = await revert(execute, link_token(late))

    assert (result["code"], result["field"]) == ("RASX003E", "token")
    assert (await User.get(id=user.id)).email == INTRUDER


async def test_a_password_change_or_reset_does_not_void_the_link(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    notice = await change_email(execute, mailbox, session, INTRUDER)
    change = await execute(
        'mutation { changePassword(input: {currentPassword: "Sakura2026$", '
        'newPassword: "Stolen#2027x", newPasswordConfirm: "Stolen#2027x"}) '
        "{ __typename } }",
        token=session,
    )
    assert change["changePassword"]["__typename"] == "ChangePasswordSuccess"

    result = await revert(execute, link_token(notice))

    assert result["__typename"] == "RevertEmailChangeSuccess"
    assert await UserSession.filter(user_id=user.id, revoked_at=None).count() == 0


async def test_unknown_tokens_change_nothing(execute: Caller, user: User) -> None:
    assert (await revert(execute, ""))["code"] == "WZBAM001E"
    assert (await revert(execute, "not-a-token"))["code"] == "RASX003E"
    row = await User.get(id=user.id)
    assert (row.email, row.password_hash) == (OWNER, user.password_hash)


async def test_an_address_registered_meanwhile_is_restored_without_its_key(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    notice = await change_email(execute, mailbox, session, INTRUDER)
    registered = await execute(
        REGISTER, form(email=OWNER, emailConfirm=OWNER)
    )  # the freed address is registered by a new account
    assert registered["registerUser"]["__typename"] == "RegisterUserSuccess"

    result = await revert(execute, link_token(notice))

    assert result["__typename"] == "RevertEmailChangeSuccess"
    row = await User.get(id=user.id)
    assert (row.email, row.email_key) == (OWNER, None)
    assert await User.filter(email_key=OWNER).exclude(id=user.id).exists()


async def test_a_session_thief_cannot_outrank_the_owners_link_with_a_later_one(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    # The attack review's run: with only a session token, change the address
    # twice; the notice to the first new address carries an undo link.
    stolen = await log_in(execute, user.auth_id)
    owners = await change_email(execute, mailbox, stolen, INTRUDER)
    intruders = await change_email(execute, mailbox, stolen, "evil2@example.net")
    assert intruders["To"] == INTRUDER
    # The intruder undoes the second change (back to their first address),
    # then resets the password through it.
    taken = await revert(execute, link_token(intruders))
    assert (taken["__typename"], taken["email"]) == (
        "RevertEmailChangeSuccess",
        INTRUDER,
    )
    [reset_mail] = await mailbox.deliver()
    assert reset_mail["To"] == INTRUDER
    reset = await reset_password(execute, link_token(reset_mail), "Stolen#2027x")
    assert reset["__typename"] == "ResetPasswordSuccess"
    intruder = await log_in(execute, user.auth_id, "Stolen#2027x")

    # The owner's link, mailed to the address from before the first change.
    result = await revert(execute, link_token(owners))

    assert (result["__typename"], result["email"]) == (
        "RevertEmailChangeSuccess",
        OWNER,
    )
    row = await User.get(id=user.id)
    assert (row.email, row.email_key, row.password_hash) == (OWNER, OWNER, None)
    assert (await execute(ME, token=intruder))["me"]["code"] == "RASX002E"
    assert await UserSession.filter(user_id=user.id, revoked_at=None).count() == 0
    delivered = await mailbox.deliver()
    assert [m["To"] for m in delivered if "reset" in body(m)].count(OWNER) == 1
    assert await logs_in(execute, user, "Stolen#2027x") == "InvalidCredentialsError"


async def test_using_a_later_link_voids_no_earlier_one_and_the_earliest_wins(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    first = await change_email(execute, mailbox, session, INTRUDER)
    second = await change_email(execute, mailbox, session, "evil2@example.net")
    third = await change_email(execute, mailbox, session, "evil3@example.net")

    assert (await revert(execute, link_token(third)))["email"] == "evil2@example.net"
    assert (await revert(execute, link_token(second)))["email"] == INTRUDER
    # An earlier link restores its own address, and later ones are void then.
    assert (await revert(execute, link_token(first)))["email"] == OWNER
    assert (await revert(execute, link_token(third)))["code"] == "RASX003E"
    assert (await User.get(id=user.id)).email == OWNER


async def test_the_owners_link_outlives_later_changes_and_password_resets(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    owners = await change_email(execute, mailbox, session, INTRUDER)
    await change_email(execute, mailbox, session, "evil2@example.net")
    await request_reset(execute, user.auth_id, "evil2@example.net")
    [reset_mail] = await mailbox.deliver()
    await reset_password(execute, link_token(reset_mail), "Stolen#2027x")
    await mailbox.deliver()  # the reset's completion notice
    session = await log_in(execute, user.auth_id, "Stolen#2027x")
    await change_email(execute, mailbox, session, "evil3@example.net")

    result = await revert(execute, link_token(owners))

    assert (result["__typename"], result["email"]) == (
        "RevertEmailChangeSuccess",
        OWNER,
    )
    revert_links = await LinkToken.filter(
        user_id=user.id, purpose=LinkPurpose.EMAIL_REVERT
    )
    assert [link.usable(link.created_at) for link in revert_links] == [False] * 3


async def test_the_stored_address_again_is_no_change_and_needs_no_step_up(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    clock.advance(timedelta(minutes=11))

    result = await execute(UPDATE, {"e": OWNER}, token=token)

    assert result["updateUserInfo"]["__typename"] == "UpdateUserInfoSuccess"
    row = await User.get(id=user.id)
    assert (row.email, row.email_key) == (OWNER, OWNER)  # the key is kept


def _interleaved(
    monkeypatch: pytest.MonkeyPatch, target: object, name: str, step: Any
) -> None:
    """Run ``step`` (once) when ``target.name`` is next called, before it: an
    undo committing while a request of the intruder is half-way."""
    original = getattr(target, name)
    pending = [step]

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        while pending:
            await pending.pop()()
        return await original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)


@pytest.mark.parametrize("then", [INTRUDER, "evil2@example.net"])
async def test_a_change_that_checked_before_an_undo_committed_cannot_override_it(
    execute: Caller,
    user: User,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    then: str,
) -> None:
    # The review's race: the intruder floods updateUserInfo (the stored
    # address again, or a new one) while the owner undoes the change; a
    # request that authenticated before the undo committed wrote its address
    # after it.
    stolen = await log_in(execute, user.auth_id)
    owners = await change_email(execute, mailbox, stolen, INTRUDER)

    async def owner_undoes() -> None:
        assert (await revert(execute, link_token(owners)))["email"] == OWNER

    _interleaved(monkeypatch, account, "_checked_change", owner_undoes)
    result = await execute(UPDATE, {"e": then}, token=stolen)

    assert result["updateUserInfo"]["code"] == "RASX002E"
    row = await User.get(id=user.id)
    assert (row.email, row.password_hash) == (OWNER, None)
    unused = await LinkToken.filter(user_id=user.id, used_at=None, voided_at=None)
    assert [link.purpose for link in unused] == [LinkPurpose.PASSWORD_RESET]
    [owner_reset] = [m for m in await mailbox.deliver() if "reset" in body(m)]
    assert owner_reset["To"] == OWNER


async def test_a_reset_request_checked_before_an_undo_mails_no_link_there(
    execute: Caller,
    user: User,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stolen = await log_in(execute, user.auth_id)
    owners = await change_email(execute, mailbox, stolen, INTRUDER)

    async def owner_undoes() -> None:
        assert (await revert(execute, link_token(owners)))["email"] == OWNER

    _interleaved(monkeypatch, RequestThrottle, "exhausted", owner_undoes)
    result = await request_reset(execute, user.auth_id, INTRUDER)

    assert result["__typename"] == "AuthIdEmailMismatchError"
    delivered = await mailbox.deliver()
    assert [m["To"] for m in delivered] == [OWNER]  # only the owner's reset link
    resets = await LinkToken.filter(
        user_id=user.id, purpose=LinkPurpose.PASSWORD_RESET, voided_at=None
    )
    assert len(resets) == 1
