"""registerUser (manual 2.1.2): every outcome, and the mail it writes."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from models import (
    AccountStatus,
    Lang,
    LinkPurpose,
    LinkToken,
    MailKind,
    OutboxMail,
    User,
)
from resolvers.context import Services
from security.clock import SettableClock
from security.tokens import looks_like_auth_id, token_hash
from tests.support import (
    PASSWORD,
    Caller,
    Mailbox,
    WithPolicy,
    body,
    link_token,
    unchanged,
)

REGISTER = """
mutation Register($input: RegisterUserInput!) {
  registerUser(input: $input) {
    __typename
    ... on RegisterUserSuccess { email linkExpiresAt }
    ... on Error { code message remedy }
    ... on FieldError { field }
    ... on RequiredFieldError { fields }
    ... on GaijiError { characters }
    ... on MalformedFieldError { reason }
  }
}
"""


def form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Nguyen Van An",
        "dateOfBirth": "1995-04-01",
        "nationality": "VNM",
        "email": "an@example.com",
        "emailConfirm": "an@example.com",
        "phone": "09012345678",
        "language": "EN",
        "agreedToTerms": True,
    }
    return {"input": values | changes}


async def register(execute: Caller, **changes: Any) -> dict[str, Any]:
    data = await execute(REGISTER, form(**changes))
    result: dict[str, Any] = data["registerUser"]
    return result


@asynccontextmanager
async def nothing_written() -> AsyncIterator[None]:
    """The registration in the block is refused: nothing changed
    (``unchanged``), and there is still no account, link or mail."""
    async with unchanged():
        yield
    assert await User.all().count() == 0
    assert await OutboxMail.all().count() == 0
    assert await LinkToken.all().count() == 0


async def test_register_creates_the_account_and_mails_the_auth_id_with_a_link(
    execute: Caller, services: Services, mailbox: Mailbox
) -> None:
    result = await register(execute)

    assert result["__typename"] == "RegisterUserSuccess", result
    assert result["email"] == "an@example.com"
    user = await User.get(email_key="an@example.com")
    assert looks_like_auth_id(user.auth_id)
    assert user.name == "NGUYEN VAN AN"
    assert str(user.date_of_birth) == "1995-04-01"
    assert user.nationality == "VNM"
    assert user.phone == "09012345678"
    assert user.language is Lang.EN
    assert user.category.value == "counter_coe_electronic"
    assert user.password_hash is None  # no login before the password is set
    link = await LinkToken.get(user_id=user.id)
    assert link.purpose is LinkPurpose.PASSWORD_SETUP
    assert link.expires_at == services.clock.now() + timedelta(hours=24)

    [mail] = await mailbox.deliver()

    assert mail["To"] == "an@example.com"
    assert user.auth_id in body(mail)
    token = link_token(mail)
    assert link.token_hash == token_hash(token)  # only the hash is stored
    # Once sent, the body (which held the link) is erased from the outbox.
    assert (await OutboxMail.get(user_id=user.id)).message is None


async def test_register_accepts_yyyymmdd_and_full_width_digits(
    execute: Caller,
) -> None:
    result = await register(
        execute, dateOfBirth="１９９５０４０１", phone="０９０１２３４５６７８"
    )

    assert result["__typename"] == "RegisterUserSuccess", result
    user = await User.get(email_key="an@example.com")
    assert str(user.date_of_birth) == "1995-04-01"
    assert user.phone == "09012345678"


async def test_register_accepts_a_full_width_japanese_name(execute: Caller) -> None:
    result = await register(execute, name="山田　太郎")

    assert result["__typename"] == "RegisterUserSuccess", result
    assert (await User.get(email_key="an@example.com")).name == "山田　太郎"


async def test_register_refuses_without_agreement_before_anything_else(
    execute: Caller,
) -> None:
    async with nothing_written():
        result = await register(execute, agreedToTerms=False, name="", email="x")

    assert result["code"] == "WZBAM256E"
    assert result["__typename"] == "TermsNotAgreedError"
    assert result["field"] == "agreedToTerms"
    assert result["message"] == "利用規約へ同意をしてください。"


async def test_register_lists_every_empty_item(execute: Caller) -> None:
    async with nothing_written():
        result = await register(execute, name=" ", phone="", emailConfirm="")

    assert result["__typename"] == "RequiredFieldError"
    assert result["code"] == "WZBAM001E"
    assert result["fields"] == ["name", "emailConfirm", "phone"]
    assert result["field"] == "name"


@pytest.mark.parametrize(
    ("field", "value", "characters"),
    [
        ("name", "ﾔﾏﾀﾞ", ["ﾔ", "ﾏ", "ﾀ", "ﾞ"]),
        ("name", "㈱山田", ["㈱"]),
        ("name", "𠮷田", ["𠮷"]),
        ("email", "an😀@example.com", ["😀"]),
        ("phone", "090\x001234", ["\x00"]),
    ],
)
async def test_register_refuses_gaiji_naming_the_item(
    execute: Caller, field: str, value: str, characters: list[str]
) -> None:
    async with nothing_written():
        result = await register(execute, **{field: value})

    assert result["__typename"] == "GaijiError"
    assert result["code"] == "WZBAM011E"
    assert result["field"] == field
    assert result["characters"] == characters


async def test_gaiji_message_names_the_item_in_both_languages(execute: Caller) -> None:
    ja = await register(execute, name="①")
    en = (await execute(REGISTER, form(name="①"), lang=Lang.EN))["registerUser"]

    assert ja["message"] == "氏名には外字を入力しないでください。"
    assert en["message"] == "Do not enter non-standard characters (gaiji) in Name."


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("name", "Nguyen  Van An1", "MALFORMED"),
        ("name", "A" * 105, "MALFORMED"),
        ("name", "山田太郎山田太郎山田太郎山田太郎山田太郎山田太郎山田太", "MALFORMED"),
        ("dateOfBirth", "1995/04/01", "MALFORMED"),
        ("dateOfBirth", "1995-4-1", "MALFORMED"),
        ("dateOfBirth", "2999-01-01", "OUT_OF_RANGE"),
        ("dateOfBirth", "1899-12-31", "OUT_OF_RANGE"),
        ("nationality", "VN", "MALFORMED"),
        ("nationality", "XYZ", "UNKNOWN"),
        ("email", "an@", "MALFORMED"),
        ("email", "a" * 49 + "@example.com", "TOO_LONG"),
        ("phone", "090-1234-5678", "CHARACTERS"),
        ("phone", "0901234567890", "TOO_LONG"),
    ],
)
async def test_register_refuses_malformed_items_as_018e(
    execute: Caller, field: str, value: str, reason: str
) -> None:
    changes = {field: value}
    if field == "email":
        changes["emailConfirm"] = value
    async with nothing_written():
        result = await register(execute, **changes)

    assert result["__typename"] == "MalformedFieldError", result
    assert result["code"] == "WZBAM018E"
    assert result["field"] == field
    assert result["reason"] == reason


@pytest.mark.parametrize("value", ["2023-02-30", "20230230", "2023-13-01", "20230229"])
async def test_register_refuses_a_date_that_does_not_exist(
    execute: Caller, value: str
) -> None:
    async with nothing_written():
        result = await register(execute, dateOfBirth=value)

    assert result["__typename"] == "NoSuchDateError"
    assert result["code"] == "WZBAM111E"
    assert result["field"] == "dateOfBirth"
    assert result["message"] == "年月日は実在日を指定してください。"


async def test_a_leap_day_that_exists_is_accepted(execute: Caller) -> None:
    result = await register(execute, dateOfBirth="20000229")

    assert result["__typename"] == "RegisterUserSuccess"


async def test_register_refuses_a_different_confirmation(execute: Caller) -> None:
    async with nothing_written():
        result = await register(execute, emailConfirm="an@example.co")

    assert result["__typename"] == "EmailMismatchError"
    assert result["code"] == "WZBAM159E"
    assert result["field"] == "emailConfirm"


async def test_a_registered_address_gets_the_same_answer_and_its_owner_a_mail(
    execute: Caller, mailbox: Mailbox
) -> None:
    first = await register(execute)
    await mailbox.deliver()
    owner = await User.get(email_key="an@example.com")

    second = await register(
        execute,
        name="Somebody Else",
        email="AN@example.com",
        emailConfirm="AN@example.com",
    )

    assert first["__typename"] == second["__typename"] == "RegisterUserSuccess"
    assert first["linkExpiresAt"] == second["linkExpiresAt"]  # the clock stood still
    assert await User.all().count() == 1
    assert await LinkToken.all().count() == 1
    [notice] = await mailbox.deliver()
    assert notice["To"] == "an@example.com"  # the owner's address as registered
    assert owner.auth_id in body(notice)
    assert "既に" in body(notice)
    assert await OutboxMail.filter(
        kind=MailKind.REGISTRATION_EXISTING, user_id=owner.id
    ).exists()


async def test_parallel_registrations_of_one_address_make_one_account(
    execute: Caller,
) -> None:
    results = await asyncio.gather(*(register(execute) for _ in range(3)))

    assert {r["__typename"] for r in results} == {"RegisterUserSuccess"}
    assert await User.all().count() == 1
    kinds = sorted(m.kind for m in await OutboxMail.all())
    assert kinds == [MailKind.REGISTRATION, *[MailKind.REGISTRATION_EXISTING] * 2]


async def test_too_many_registrations_of_one_address_are_refused(
    execute: Caller, clock: SettableClock, services: Services
) -> None:
    for _ in range(services.policy.registration_limit):
        assert (await register(execute))["__typename"] == "RegisterUserSuccess"

    async with unchanged():
        refused = await register(execute)

    assert refused["code"] == "RASX004E"
    clock.advance(services.policy.request_window)
    assert (await register(execute))["__typename"] == "RegisterUserSuccess"


async def test_the_new_account_cannot_log_in_before_its_password_is_set(
    execute: Caller,
) -> None:
    await register(execute)
    user = await User.get(email_key="an@example.com")

    data = await execute(
        "mutation($a: String!, $p: String!) { login(input: {authId: $a, password: $p})"
        " { __typename ... on Error { code } } }",
        {"a": user.auth_id, "p": PASSWORD},
    )

    assert data["login"]["code"] == "WZBAM005E"


async def test_new_and_registered_addresses_are_answered_no_sooner_than_the_floor(
    execute: Caller, with_policy: WithPolicy
) -> None:
    floor = timedelta(milliseconds=300)
    padded = Caller(services=with_policy(answer_floor=floor))
    elapsed = []
    for _ in range(2):  # first a new address, then the same one, now registered
        start = time.monotonic()
        data = await padded(REGISTER, form())
        elapsed.append(time.monotonic() - start)
        assert data["registerUser"]["__typename"] == "RegisterUserSuccess"

    assert min(elapsed) >= floor.total_seconds()
    assert [m.kind for m in await OutboxMail.all().order_by("id")] == [
        MailKind.REGISTRATION,
        MailKind.REGISTRATION_EXISTING,
    ]


async def test_a_deleted_accounts_address_may_register_anew(
    execute: Caller, mailbox: Mailbox
) -> None:
    await register(execute)
    old = await User.get(email_key="an@example.com")
    await User.filter(id=old.id).update(status=AccountStatus.DELETED)

    again = await register(execute)

    assert again["__typename"] == "RegisterUserSuccess"
    new = await User.get(email_key="an@example.com")
    assert new.id != old.id
    assert (await User.get(id=old.id)).email_key is None
    kinds = [m.kind for m in await OutboxMail.all().order_by("id")]
    assert kinds == [MailKind.REGISTRATION, MailKind.REGISTRATION]


async def test_the_confirmation_may_have_spaces_around_it(execute: Caller) -> None:
    result = await register(execute, emailConfirm=" an@example.com ")

    assert result["__typename"] == "RegisterUserSuccess"


async def test_the_registration_limit_ignores_letter_case(
    execute: Caller, services: Services
) -> None:
    for n in range(services.policy.registration_limit):
        address = "An@Example.com" if n % 2 else "an@example.com"
        await register(execute, email=address, emailConfirm=address)

    refused = await register(
        execute, email="AN@EXAMPLE.COM", emailConfirm="AN@EXAMPLE.COM"
    )

    assert refused["code"] == "RASX004E"
