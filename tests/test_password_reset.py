"""requestPasswordReset and resetPassword (manual 2.5)."""

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from models import (
    AccountStatus,
    Lang,
    LinkToken,
    LoginThrottle,
    MailKind,
    OutboxMail,
    User,
    UserSession,
)
from resolvers.context import Services
from security.clock import SettableClock
from security.passwords import PasswordHasher
from tests.support import (
    LOGIN,
    ME,
    PASSWORD,
    REQUEST_RESET,
    Caller,
    Mailbox,
    SmtpServer,
    WithPolicy,
    body,
    link_token,
    log_in,
    request_reset,
    reset_password,
    unchanged,
)

NEW_PASSWORD = "Hoshi#2027x"


async def reset(
    execute: Caller,
    token: str,
    password: str = NEW_PASSWORD,
    confirm: str | None = None,
) -> dict[str, Any]:
    return await reset_password(execute, token, password, confirm)


async def mailed_token(execute: Caller, user: User, mailbox: Mailbox) -> str:
    result = await request_reset(execute, user.auth_id, user.email)
    assert result["__typename"] == "RequestPasswordResetSuccess", result
    [mail] = await mailbox.deliver()
    assert mail["To"] == user.email
    return link_token(mail)


async def logs_in(execute: Caller, user: User, password: str) -> str:
    data = await execute(LOGIN, {"authId": user.auth_id, "password": password})
    typename: str = data["login"]["__typename"]
    return typename if typename == "LoginSuccess" else data["login"]["code"]


async def test_reset_by_mailed_link_sets_the_new_password(
    execute: Caller, user: User, services: Services, mailbox: Mailbox
) -> None:
    token = await mailed_token(execute, user, mailbox)

    result = await reset(execute, token)

    assert result["__typename"] == "ResetPasswordSuccess", result
    assert result["authId"] == user.auth_id
    assert await logs_in(execute, user, NEW_PASSWORD) == "LoginSuccess"
    assert await logs_in(execute, user, PASSWORD) == "WZBAM005E"
    [notice] = await mailbox.deliver()
    assert notice["To"] == user.email
    assert "パスワードを変更しました" in body(notice)
    await user.refresh_from_db()
    assert user.password_expires_at == services.clock.now() + timedelta(days=365)


async def test_request_accepts_folded_auth_id_and_email_case(
    execute: Caller, user: User
) -> None:
    folded = user.auth_id.lower().translate(
        {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # full-width
    )

    result = await request_reset(execute, folded, "TARO@Example.com")

    assert result["__typename"] == "RequestPasswordResetSuccess"


@pytest.mark.parametrize(
    ("auth_id", "email"),
    [
        ("ABCDEFGH23", "taro@example.com"),  # no such ID
        (None, "jiro@example.com"),  # the ID with another address
        ("x" * 65, "taro@example.com"),
        ("ABC-DEF", "taro@example.com"),
    ],
)
async def test_a_pair_that_is_not_an_account_gets_168e_and_no_mail(
    execute: Caller, user: User, auth_id: str | None, email: str
) -> None:
    result = await request_reset(execute, auth_id or user.auth_id, email)

    assert result["__typename"] == "AuthIdEmailMismatchError"
    assert result["code"] == "WZBAM168E"
    assert result["message"] == (
        "認証ＩＤ又はメールアドレスの入力内容に誤りがあります。再度入力してください。"
    )
    assert await OutboxMail.all().count() == 0
    assert await LinkToken.all().count() == 0


@pytest.mark.parametrize(
    "status", [AccountStatus.SUSPENDED, AccountStatus.DELETED, AccountStatus.INVALID]
)
async def test_an_account_that_is_not_active_gets_168e(
    execute: Caller, user: User, status: AccountStatus
) -> None:
    user.status = status
    await user.save()

    result = await request_reset(execute, user.auth_id, user.email)

    assert result["code"] == "WZBAM168E"
    assert await OutboxMail.all().count() == 0


async def test_empty_items_are_listed(execute: Caller) -> None:
    result = await request_reset(execute, " ", "")

    assert result["code"] == "WZBAM001E"
    assert result["fields"] == ["authId", "email"]


async def test_the_answer_does_not_wait_for_the_mail_server(
    execute: Caller, user: User, smtp: SmtpServer, mailbox: Mailbox
) -> None:
    await smtp.stop()  # the mail server is down

    result = await request_reset(execute, user.auth_id, user.email)

    assert result["__typename"] == "RequestPasswordResetSuccess"
    row = await OutboxMail.get(kind=MailKind.PASSWORD_RESET)
    assert row.status.value == "pending"
    await smtp.start()
    [mail] = await mailbox.deliver()  # delivered once the server is back
    assert link_token(mail)


async def test_a_newer_request_voids_the_older_link(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    older = await mailed_token(execute, user, mailbox)
    newer = await mailed_token(execute, user, mailbox)

    refused = await reset(execute, older)
    accepted = await reset(execute, newer)

    assert refused["code"] == "RASX003E"
    assert accepted["__typename"] == "ResetPasswordSuccess"


async def test_the_link_works_once_and_expires_after_an_hour(
    execute: Caller, user: User, clock: SettableClock, mailbox: Mailbox
) -> None:
    token = await mailed_token(execute, user, mailbox)
    assert (await reset(execute, token))["__typename"] == "ResetPasswordSuccess"
    assert (await reset(execute, token, "Other#2027y"))["code"] == "RASX003E"
    await mailbox.deliver()  # the completion notice

    late = await mailed_token(execute, user, mailbox)
    clock.advance(timedelta(hours=1))
    before = (await User.get(id=user.id)).password_hash

    result = await reset(execute, late, "Late#2027zz")

    assert result["code"] == "RASX003E"
    assert result["field"] == "token"
    assert (await User.get(id=user.id)).password_hash == before


async def test_reset_unlocks_a_locked_account_and_ends_every_session(
    execute: Caller, user: User, services: Services, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    for _ in range(services.policy.lockout_threshold):
        await logs_in(execute, user, "Wrong#2027x")
    assert await logs_in(execute, user, PASSWORD) == "WZBAM153E"
    token = await mailed_token(execute, user, mailbox)

    result = await reset(execute, token)

    assert result["__typename"] == "ResetPasswordSuccess"
    assert await logs_in(execute, user, NEW_PASSWORD) == "LoginSuccess"
    throttle = await LoginThrottle.get(key=user.auth_id)
    assert throttle.locked_until is None
    old_session = await execute(ME, token=session)
    assert old_session["me"]["code"] == "RASX002E"


async def test_reset_ends_the_session_of_whoever_is_logged_in(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    session = await log_in(execute, user.auth_id)
    token = await mailed_token(execute, user, mailbox)

    await reset(execute, token)

    assert (await execute(ME, token=session))["me"]["__typename"] != "User"
    assert await UserSession.filter(user_id=user.id, revoked_at=None).count() == 0


async def test_a_different_reentry_is_160e_and_changes_nothing(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    token = await mailed_token(execute, user, mailbox)

    async with unchanged():
        result = await reset(execute, token, confirm="Hoshi#2027X")

    assert result["code"] == "WZBAM160E"
    assert result["field"] == "newPasswordConfirm"
    assert await logs_in(execute, user, PASSWORD) == "LoginSuccess"
    assert (await reset(execute, token))["__typename"] == "ResetPasswordSuccess"


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        (PASSWORD, ["RECENTLY_USED"]),
        ("short1$", ["LENGTH"]),
        ("Qwerty123!", ["COMMON"]),
    ],
)
async def test_policy_errors_name_the_rule(
    execute: Caller, user: User, mailbox: Mailbox, password: str, rules: list[str]
) -> None:
    token = await mailed_token(execute, user, mailbox)

    result = await reset(execute, token, password)

    assert result["__typename"] == "PasswordPolicyError"
    assert result["field"] == "newPassword"
    assert [v["rule"] for v in result["violations"]] == rules
    assert await logs_in(execute, user, PASSWORD) == "LoginSuccess"


async def test_two_parallel_resets_with_one_link_succeed_once(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    token = await mailed_token(execute, user, mailbox)

    results = await asyncio.gather(
        reset(execute, token, "First#2027a"), reset(execute, token, "Second#2027b")
    )

    assert sorted(r["__typename"] for r in results) == [
        "LinkInvalidError",
        "ResetPasswordSuccess",
    ]
    winner = (
        "First#2027a"
        if results[0]["__typename"] != "LinkInvalidError"
        else "Second#2027b"
    )
    assert await logs_in(execute, user, winner) == "LoginSuccess"
    assert await OutboxMail.filter(kind=MailKind.PASSWORD_CHANGED).count() == 1


async def test_guessing_the_address_is_cut_off_but_the_owner_still_gets_the_mail(
    execute: Caller,
    user: User,
    clock: SettableClock,
    services: Services,
    mailbox: Mailbox,
) -> None:
    for _ in range(services.policy.lockout_threshold):  # somebody locked the ID
        await logs_in(execute, user, "Wrong#2027x")
    limit = services.policy.reset_request_limit
    for _ in range(limit):
        wrong = await request_reset(execute, user.auth_id, "guess@example.com")
        made_up = await request_reset(execute, "ABCDEFGH23", "guess@example.com")
        assert wrong["code"] == made_up["code"] == "WZBAM168E"

    right = await request_reset(execute, user.auth_id, user.email)
    wrong = await request_reset(execute, user.auth_id, "guess2@example.com")
    made_up = await request_reset(execute, "ABCDEFGH23", "guess@example.com")

    # Right and wrong pairs now get one answer, so guessing learns nothing ...
    assert right == wrong == made_up
    assert right["code"] == "RASX004E"
    # ... and the owner can still reset, which lifts the lock.
    [mail] = await mailbox.deliver()
    assert mail["To"] == user.email
    assert (await reset(execute, link_token(mail)))[
        "__typename"
    ] == "ResetPasswordSuccess"
    assert await logs_in(execute, user, NEW_PASSWORD) == "LoginSuccess"
    clock.advance(services.policy.request_window)
    assert (await request_reset(execute, user.auth_id, "x@example.com"))[
        "code"
    ] == "WZBAM168E"


async def test_an_account_is_mailed_at_most_the_limit_of_links_per_window(
    execute: Caller,
    user: User,
    clock: SettableClock,
    services: Services,
    mailbox: Mailbox,
) -> None:
    limit = services.policy.reset_request_limit
    for _ in range(limit):
        answer = await request_reset(execute, user.auth_id, user.email)
        assert answer["__typename"] == "RequestPasswordResetSuccess"

    refused = await request_reset(execute, user.auth_id, user.email)

    assert refused["code"] == "RASX004E"
    assert len(await mailbox.deliver()) == limit
    clock.advance(services.policy.request_window)
    again = await request_reset(execute, user.auth_id, user.email)
    assert again["__typename"] == "RequestPasswordResetSuccess"


async def test_messages_are_in_english_when_asked(execute: Caller, user: User) -> None:
    data = await execute(
        REQUEST_RESET, {"authId": user.auth_id, "email": "x@example.com"}, lang=Lang.EN
    )

    assert data["requestPasswordReset"]["message"].startswith(
        "The auth ID or email address entered is incorrect."
    )


class GatedHasher:
    """The real hasher, except that verifying ``gated`` waits for ``go`` after the
    check: a login paused between its password check and its session."""

    def __init__(self, inner: PasswordHasher, gated: str, *, rehash: bool) -> None:
        self.inner, self.gated, self.rehash = inner, gated, rehash
        self.entered, self.go = asyncio.Event(), asyncio.Event()

    async def hash(self, password: str) -> str:
        return await self.inner.hash(password)

    async def verify(self, encoded: str | None, password: str) -> bool:
        correct = await self.inner.verify(encoded, password)
        if password == self.gated and not self.go.is_set():
            self.entered.set()
            await self.go.wait()
        return correct

    def needs_rehash(self, encoded: str) -> bool:
        return self.rehash


@pytest.mark.parametrize("rehash", [False, True])
async def test_a_login_with_the_old_password_in_flight_does_not_outlive_the_reset(
    execute: Caller, user: User, services: Services, mailbox: Mailbox, rehash: bool
) -> None:
    token = await mailed_token(execute, user, mailbox)
    gated = GatedHasher(services.hasher, PASSWORD, rehash=rehash)
    intruder = Caller(services=replace(services, hasher=gated))
    login = asyncio.create_task(
        intruder(LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    )
    await gated.entered.wait()  # the old password checked out; no session yet

    assert (await reset(execute, token))["__typename"] == "ResetPasswordSuccess"
    gated.go.set()
    late = (await login)["login"]

    assert late["__typename"] == "InvalidCredentialsError"
    assert await UserSession.filter(user_id=user.id, revoked_at=None).count() == 0
    # Nor did the old password's re-hash overwrite the new one.
    assert await logs_in(execute, user, NEW_PASSWORD) == "LoginSuccess"


async def test_an_account_without_an_address_key_can_reset(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    # Accounts made before the key existed, sharing an address, have none.
    await User.filter(id=user.id).update(email_key=None)

    token = await mailed_token(execute, user, mailbox)

    assert (await reset(execute, token))["__typename"] == "ResetPasswordSuccess"


async def test_right_and_wrong_pairs_are_answered_no_sooner_than_the_floor(
    execute: Caller, user: User, with_policy: WithPolicy
) -> None:
    floor = timedelta(milliseconds=300)
    padded = Caller(services=with_policy(answer_floor=floor))
    elapsed = {}
    for email in (user.email, "guess@example.com"):
        start = time.monotonic()
        await request_reset(padded, user.auth_id, email)
        elapsed[email] = time.monotonic() - start

    assert min(elapsed.values()) >= floor.total_seconds()


async def test_parallel_requests_leave_one_usable_link(
    execute: Caller, user: User, services: Services
) -> None:
    await asyncio.gather(
        *(request_reset(execute, user.auth_id, user.email) for _ in range(3))
    )

    links = await LinkToken.filter(user_id=user.id).all()
    assert len(links) == 3
    assert sum(link.usable(services.clock.now()) for link in links) == 1


@pytest.mark.parametrize("change", ["suspended", "usage_expired"])
async def test_a_link_stops_working_when_the_account_may_no_longer_be_used(
    execute: Caller, user: User, services: Services, mailbox: Mailbox, change: str
) -> None:
    token = await mailed_token(execute, user, mailbox)
    if change == "suspended":
        await User.filter(id=user.id).update(status=AccountStatus.SUSPENDED)
    else:
        await User.filter(id=user.id).update(usage_expires_at=services.clock.now())

    result = await reset(execute, token)

    assert result["code"] == "RASX003E"
    assert (await User.get(id=user.id)).password_hash == user.password_hash


async def test_a_used_link_is_reported_before_a_mismatch(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    token = await mailed_token(execute, user, mailbox)
    assert (await reset(execute, token))["__typename"] == "ResetPasswordSuccess"

    result = await reset(execute, token, "Other#2027y", confirm="different")

    assert result["code"] == "RASX003E"


async def test_a_password_change_voids_a_mailed_reset_link(
    execute: Caller, user: User, mailbox: Mailbox
) -> None:
    token = await mailed_token(execute, user, mailbox)
    session = await log_in(execute, user.auth_id)
    changed = await execute(
        'mutation { changePassword(input: {currentPassword: "Sakura2026$", '
        'newPassword: "Tsuki#2028y", newPasswordConfirm: "Tsuki#2028y"}) '
        "{ __typename } }",
        token=session,
    )
    assert changed["changePassword"]["__typename"] == "ChangePasswordSuccess"

    assert (await reset(execute, token))["code"] == "RASX003E"


async def test_the_guessing_cut_off_ends_with_its_window(
    execute: Caller, user: User, clock: SettableClock, services: Services
) -> None:
    for _ in range(services.policy.reset_request_limit):
        await request_reset(execute, user.auth_id, "guess@example.com")
    assert (await request_reset(execute, user.auth_id, user.email))[
        "code"
    ] == "RASX004E"

    clock.advance(services.policy.request_window)

    again = await request_reset(execute, user.auth_id, user.email)
    assert again["__typename"] == "RequestPasswordResetSuccess"


class HashGate(GatedHasher):
    """Pauses in hash(): a reset between its checks and its transaction."""

    async def hash(self, password: str) -> str:
        self.entered.set()
        await self.go.wait()
        return await self.inner.hash(password)


@pytest.mark.parametrize("meanwhile", ["voided", "expired"])
async def test_a_link_voided_or_expired_while_the_reset_hashes_is_refused(
    execute: Caller,
    user: User,
    clock: SettableClock,
    services: Services,
    mailbox: Mailbox,
    meanwhile: str,
) -> None:
    token = await mailed_token(execute, user, mailbox)
    gate = HashGate(services.hasher, "", rehash=False)
    slow = Caller(services=replace(services, hasher=gate))
    pending = asyncio.create_task(reset(slow, token))
    await gate.entered.wait()  # checks passed, the new hash not yet stored
    if meanwhile == "voided":
        assert (await request_reset(execute, user.auth_id, user.email))[
            "__typename"
        ] == "RequestPasswordResetSuccess"
    else:
        clock.advance(timedelta(hours=1))
    gate.go.set()

    result = await pending

    assert result["code"] == "RASX003E"
    assert await logs_in(execute, user, PASSWORD) == "LoginSuccess"
