"""updateUserInfo (manual 2.4.1-2.4.3): every outcome of the resolver's docstring,
in its order, over the real schema on SQLite and PostgreSQL. A refusal changes
neither the user row nor the outbox."""

from datetime import timedelta
from typing import Any

import pytest

from models import Lang, MailKind, OutboxMail, User
from resolvers.context import Services
from resolvers.operator import create_user
from security.clock import SettableClock
from security.text import gaiji
from tests.support import (
    LOGIN,
    PASSWORD,
    Caller,
    Mailbox,
    body,
    link_token,
    log_in,
    request_reset,
    reset_password,
    unchanged,
)
from tests.test_register_user import REGISTER, form

UPDATE = """
mutation Update($input: UpdateUserInfoInput!) {
  updateUserInfo(input: $input) {
    __typename
    ... on Error { code message }
    ... on FieldError { field }
    ... on InvalidFieldError { reason }
    ... on GaijiError { characters }
    ... on AddressIncompleteError { fieldErrors { code field message } }
    ... on UpdateUserInfoSuccess {
      mailSent
      user {
        authId email phone
        address { municipalityCode prefectureName municipalityName street }
      }
    }
  }
}
"""
ME = """
query {
  me {
    __typename
    ... on User {
      email phone
      address { municipalityCode prefectureName municipalityName street }
    }
  }
}
"""
FIELDS = [
    "email",
    "email_key",
    "phone",
    "municipality_code",
    "prefecture_name",
    "municipality_name",
    "street",
]
OLD_EMAIL = "taro@example.com"
NEW_EMAIL = "new.taro@example.com"
SHINJUKU = {
    "municipalityCode": "131041",
    "prefectureName": "東京都",
    "municipalityName": "新宿区",
    "street": "西新宿２−８−１",
}
CODE = "newAddress.municipalityCode"
STREET = "newAddress.street"


def address(
    code: str | None = "131041", street: str | None = "西新宿２－８－１"
) -> dict[str, Any]:
    return {"newAddress": {"municipalityCode": code, "street": street}}


def email(new: str, confirm: str | None = None) -> dict[str, Any]:
    return {"newEmail": new, "newEmailConfirm": new if confirm is None else confirm}


@pytest.fixture
async def token(execute: Caller, user: User) -> str:
    """A session of ``user``, who already has a phone and an address (千代田区)."""
    await User.filter(id=user.id).update(
        phone="0311112222",
        municipality_code="131016",
        prefecture_name="東京都",
        municipality_name="千代田区",
        street="霞が関一丁目１番１号",
    )
    return await log_in(execute, user.auth_id)


async def stored(user: User) -> dict[str, Any]:
    row = await User.get(id=user.id)
    return {name: getattr(row, name) for name in FIELDS}


async def update(
    execute: Caller, token: str | None, input: dict[str, Any], lang: Lang = Lang.JA
) -> dict[str, Any]:
    data = await execute(UPDATE, {"input": input}, token=token, lang=lang)
    result: dict[str, Any] = data["updateUserInfo"]
    return result


async def refused(
    execute: Caller,
    user: User,
    token: str | None,
    input: dict[str, Any],
    lang: Lang = Lang.JA,
) -> dict[str, Any]:
    """Run the update, assert it changed nothing, and return its answer."""
    async with unchanged():
        result = await update(execute, token, input, lang)
    assert result["__typename"] != "UpdateUserInfoSuccess", result
    assert (await stored(user))["email"] == OLD_EMAIL
    assert await OutboxMail.all().count() == 0
    return result


async def test_update_user_info_without_a_session_is_not_authenticated(
    execute: Caller, user: User
) -> None:
    result = await refused(execute, user, None, {**address(), "newPhone": "0312345678"})

    assert result["__typename"] == "NotAuthenticatedError"
    assert result["code"] == "RASX002E"


async def test_update_user_info_with_a_change_ticket_answers_158e(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    clock.advance(timedelta(days=366))
    login = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    ticket = login["login"]["changeTicket"]
    assert ticket

    result = await refused(execute, user, ticket, {"newPhone": "0312345678"})

    assert result["__typename"] == "PasswordExpiredError"
    assert result["code"] == "WZBAM158E"


@pytest.mark.parametrize(
    "input",
    [
        {},
        {"newAddress": {}},
        {**address("", ""), "newPhone": "", **email("")},
        {**address(" ", "　"), "newPhone": "  ", **email(" 　 ")},
        {**address(None, None), "newPhone": None, "newEmail": None},
    ],
)
async def test_update_user_info_rejects_an_empty_form_with_245e(
    execute: Caller, user: User, token: str, input: dict[str, Any]
) -> None:
    ja = await refused(execute, user, token, input)
    en = await refused(execute, user, token, input, Lang.EN)

    assert (ja["__typename"], ja["code"]) == ("NothingToChangeError", "WZBAM245E")
    assert ja["message"] == "変更する情報を入力してください。"
    assert en["message"] == "Enter the information to change."


PARTS = {  # the missing part's own error: code, Japanese and English message
    CODE: (
        "WZBAM103E",
        "新しい住居地(都道府県市区町村)コードを入力してください。",
        "Enter the (prefecture and municipality) code of New address.",
    ),
    STREET: (
        "WZBAM104E",
        "新しい住居地(町名丁目番地号等)を入力してください。",
        "Enter the (town, block and house number) part of New address.",
    ),
}


@pytest.mark.parametrize(
    ("code", "street", "missing"),
    [
        (None, "西新宿２－８－１", CODE),
        ("　", "西新宿ｱ", CODE),
        ("131041", "", STREET),
        ("13104", None, STREET),
    ],
)
async def test_update_user_info_rejects_one_address_part_with_244e_naming_the_other(
    execute: Caller,
    user: User,
    token: str,
    code: str | None,
    street: str | None,
    missing: str,
) -> None:
    part_code, ja, en = PARTS[missing]
    # The other items are wrong too (外字, format, mismatch): 244E comes first.
    input = {**address(code, street), "newPhone": "03-1234", **email("ｱ@b.jp", "x")}

    result = await refused(execute, user, token, input)
    english = await refused(execute, user, token, input, Lang.EN)

    assert result["__typename"] == "AddressIncompleteError"
    assert (result["code"], result["field"]) == ("WZBAM244E", missing)
    assert result["message"].startswith("住居地を変更する場合は")
    assert result["fieldErrors"] == [
        {"code": part_code, "field": missing, "message": ja}
    ]
    assert english["fieldErrors"][0]["message"] == en


@pytest.mark.parametrize(
    ("input", "field", "characters"),
    [
        (address(street="西新宿ｱｲ"), STREET, ["ｱ", "ｲ"]),
        (address(street="①番地㈱ビル①"), STREET, ["①", "㈱"]),
        (address(street="㍻ハイツ"), STREET, ["㍻"]),
        (address(street="𠮷野町１"), STREET, ["𠮷"]),
        (address(street="西新宿😀"), STREET, ["😀"]),
        (address(street="西新宿\ue000"), STREET, ["\ue000"]),
        (address(street="西新宿\x07１"), STREET, ["\x07"]),
        ({"newPhone": "０３①２３４"}, "newPhone", ["①"]),
        (email("taro😀@example.com"), "newEmail", ["😀"]),
        (email(NEW_EMAIL, "ｱ@example.com"), "newEmailConfirm", ["ｱ"]),
        # 外字 comes before the format checks of the other items.
        ({**address("999997", "ｱ" * 90), "newPhone": "03-1"}, STREET, ["ｱ"]),
    ],
)
async def test_update_user_info_rejects_gaiji_with_011e_and_the_characters(
    execute: Caller,
    user: User,
    token: str,
    input: dict[str, Any],
    field: str,
    characters: list[str],
) -> None:
    result = await refused(execute, user, token, input)

    assert result["__typename"] == "GaijiError"
    assert (result["code"], result["field"]) == ("WZBAM011E", field)
    assert result["characters"] == characters


async def test_update_user_info_rejects_gaiji_in_the_municipality_code(
    execute: Caller, user: User, token: str
) -> None:
    # ① is 外字 like anywhere else; NFKC must not quietly turn it into a 1.
    result = await refused(execute, user, token, address("①31041"))

    assert result["__typename"] == "GaijiError"
    assert (result["code"], result["field"]) == ("WZBAM011E", CODE)


@pytest.mark.parametrize(
    ("input", "field", "reason"),
    [
        (address("999997"), CODE, "UNKNOWN"),
        (address("011002"), CODE, "UNKNOWN"),
        (address("131042"), CODE, "CHECK_DIGIT"),
        (address("1310"), CODE, "MALFORMED"),
        (address("abcdef"), CODE, "MALFORMED"),
        (address(street="あ" * 86), STREET, "TOO_LONG"),
        (address(street="a" * 86), STREET, "TOO_LONG"),
        ({"newPhone": "03-1234-5678"}, "newPhone", "CHARACTERS"),
        ({"newPhone": "03 1234 5678"}, "newPhone", "CHARACTERS"),
        ({"newPhone": "+81312345678"}, "newPhone", "CHARACTERS"),
        ({"newPhone": "0" * 13}, "newPhone", "TOO_LONG"),
        (email("a" * 49 + "@example.com"), "newEmail", "TOO_LONG"),
        (email("taro@example"), "newEmail", "MALFORMED"),
        (email("taro"), "newEmail", "MALFORMED"),
        (email("たろう@example.com"), "newEmail", "CHARACTERS"),
        ({"newEmailConfirm": NEW_EMAIL}, "newEmail", "EMPTY"),
        # 005E comes before 159E.
        (
            {"newPhone": "03-1", **email(NEW_EMAIL, "x")},
            "newPhone",
            "CHARACTERS",
        ),
    ],
)
async def test_update_user_info_rejects_a_wrong_format_with_005e_and_the_reason(
    execute: Caller,
    user: User,
    token: str,
    input: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    result = await refused(execute, user, token, input)

    assert result["__typename"] == "InvalidFieldError"
    assert (result["code"], result["field"]) == ("WZBAM005E", field)
    assert result["reason"] == reason


WRONG_JA = "の入力内容に誤りがあります。再度入力してください。"
WRONG_EN = "What you entered in {} is incorrect. Please enter it again."


@pytest.mark.parametrize(
    ("input", "ja", "en"),
    [
        (
            address(street="①"),
            "新しい住居地（町名丁目番地号等）には外字を入力しないでください。",
            "Do not enter non-standard characters (gaiji) in "
            "New address (town, block and house number).",
        ),
        (
            address("999997"),
            "新しい住居地（都道府県市区町村）" + WRONG_JA,
            WRONG_EN.format("New address (prefecture and municipality)"),
        ),
        (
            address(street="あ" * 86),
            "新しい住居地（町名丁目番地号等）" + WRONG_JA,
            WRONG_EN.format("New address (town, block and house number)"),
        ),
        (
            {"newPhone": "03-1"},
            "新しい連絡先" + WRONG_JA,
            WRONG_EN.format("New phone number"),
        ),
        (
            email("a" * 61),
            "新しいメールアドレス" + WRONG_JA,
            WRONG_EN.format("New email address"),
        ),
    ],
)
async def test_update_user_info_messages_name_the_item_in_both_languages(
    execute: Caller, user: User, token: str, input: dict[str, Any], ja: str, en: str
) -> None:
    japanese = await refused(execute, user, token, input)
    english = await refused(execute, user, token, input, Lang.EN)

    assert (japanese["message"], english["message"]) == (ja, en)


@pytest.mark.parametrize("confirm", ["new.taro@example.org", "", "   "])
async def test_update_user_info_rejects_a_different_or_empty_confirmation_with_159e(
    execute: Caller, user: User, token: str, confirm: str
) -> None:
    input = {**address(), "newPhone": "0312345678", **email(NEW_EMAIL, confirm)}

    result = await refused(execute, user, token, input)
    english = await refused(execute, user, token, input, Lang.EN)

    assert result["__typename"] == "EmailMismatchError"
    assert (result["code"], result["field"]) == ("WZBAM159E", "newEmailConfirm")
    assert result["message"] == (
        "メールアドレスとメールアドレス（確認）には同じ値を入力してください。"
    )
    assert "Email address (confirmation)" in english["message"]


@pytest.mark.parametrize("taken", ["hanako@example.com", "HANAKO@Example.COM"])
async def test_another_accounts_address_is_shared_with_the_same_answer(
    execute: Caller, user: User, token: str, services: Services, taken: str
) -> None:
    other = await create_user(
        services, email="hanako@example.com", name="Sato Hanako", password=PASSWORD
    )
    assert isinstance(other, User)

    result = await update(execute, token, email(taken))

    # The answer a fresh address gets: it does not tell that the address has
    # an account.
    assert result["__typename"] == "UpdateUserInfoSuccess"
    assert result["mailSent"] is True
    assert result["user"]["email"] == taken
    row = await User.get(id=user.id)
    assert (row.email, row.email_key) == (taken, None)
    # The account that registered the address keeps it: a registration of the
    # address mails its owner, not this user.
    assert (await User.get(id=other.id)).email_key == "hanako@example.com"
    kinds = [m.kind for m in await OutboxMail.all().order_by("id")]
    assert kinds == [MailKind.EMAIL_CHANGED, MailKind.EMAIL_CHANGED_NOTICE]


async def test_a_shared_address_still_works_for_a_password_reset(
    execute: Caller, user: User, token: str, services: Services
) -> None:
    await create_user(
        services, email="hanako@example.com", name="Sato Hanako", password=PASSWORD
    )
    await update(execute, token, email("hanako@example.com"))

    result = await request_reset(execute, user.auth_id, "Hanako@example.com")

    assert result["__typename"] == "RequestPasswordResetSuccess"


async def test_changing_the_email_voids_links_mailed_to_the_old_address(
    execute: Caller, user: User, token: str, mailbox: Mailbox
) -> None:
    asked = await request_reset(execute, user.auth_id, OLD_EMAIL)
    assert asked["__typename"] == "RequestPasswordResetSuccess"
    [reset_mail] = await mailbox.deliver()

    await update(execute, token, email(NEW_EMAIL))
    late = await reset_password(execute, link_token(reset_mail), "Hoshi#2027x")

    assert late["code"] == "RASX003E"
    login = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    assert login["login"]["__typename"] == "LoginSuccess"


async def test_update_user_info_changes_the_address_from_a_5_digit_code_without_mail(
    execute: Caller, user: User, token: str
) -> None:
    result = await update(execute, token, address("13104", " 西新宿2-8-1 "))

    assert result["__typename"] == "UpdateUserInfoSuccess"
    assert result["mailSent"] is False
    assert result["user"]["address"] == SHINJUKU
    assert result["user"]["phone"] == "0311112222"
    assert result["user"]["email"] == OLD_EMAIL
    assert await stored(user) == {
        "email": OLD_EMAIL,
        "email_key": OLD_EMAIL,
        "phone": "0311112222",
        "municipality_code": "131041",
        "prefecture_name": "東京都",
        "municipality_name": "新宿区",
        "street": "西新宿２−８−１",
    }
    assert await OutboxMail.all().count() == 0
    me = (await execute(ME, token=token))["me"]
    assert me["address"] == SHINJUKU


async def test_update_user_info_changes_only_the_phone_without_mail(
    execute: Caller, user: User, token: str
) -> None:
    before = await stored(user)

    result = await update(execute, token, {"newPhone": "０３１２３４５６７８"})

    assert result["__typename"] == "UpdateUserInfoSuccess"
    assert result["mailSent"] is False
    assert result["user"]["phone"] == "0312345678"
    assert await stored(user) == {**before, "phone": "0312345678"}
    assert await OutboxMail.all().count() == 0
    assert (await execute(ME, token=token))["me"]["phone"] == "0312345678"


async def test_update_user_info_accepts_the_longest_allowed_values(
    execute: Caller, user: User, token: str
) -> None:
    longest = "a" * 48 + "@example.com"
    input = {**address(street="あ" * 85), "newPhone": "0" * 12, **email(longest)}

    result = await update(execute, token, input)

    assert result["__typename"] == "UpdateUserInfoSuccess", result
    assert result["user"]["address"]["street"] == "あ" * 85
    assert (result["user"]["phone"], result["user"]["email"]) == ("0" * 12, longest)


async def test_update_user_info_turns_half_width_quotes_in_the_street_into_jis(
    execute: Caller, user: User, token: str
) -> None:
    # Half-width ASCII is documented to become full-width; ' and " are not 外字.
    typed = 'O\'Hara "Sakura" 101'

    result = await update(execute, token, address(street=typed))

    assert result["__typename"] == "UpdateUserInfoSuccess", result
    street = result["user"]["address"]["street"]
    assert len(street) == len(typed)
    assert gaiji(street) == []
    wide = typed.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)} | {32: 0x3000})
    differ = {t for t, s, w in zip(typed, street, wide, strict=True) if s != w}
    assert differ <= {"'", '"'}  # only the quotes may take another JIS form


async def test_update_user_info_changes_the_email_and_mails_both_addresses(
    execute: Caller, user: User, token: str, mailbox: Mailbox
) -> None:
    input = {"newEmail": f" {NEW_EMAIL} ", "newEmailConfirm": NEW_EMAIL}

    result = await update(execute, token, input)

    assert result["__typename"] == "UpdateUserInfoSuccess"
    assert result["mailSent"] is True
    assert result["user"]["email"] == NEW_EMAIL
    row = await stored(user)
    # Not registered with it: no registration key (see the squatting test).
    assert (row["email"], row["email_key"]) == (NEW_EMAIL, None)
    assert row["phone"] == "0311112222"
    rows = await OutboxMail.filter(user_id=user.id).order_by("id")
    assert [(r.kind, r.recipient) for r in rows] == [
        (MailKind.EMAIL_CHANGED, NEW_EMAIL),
        (MailKind.EMAIL_CHANGED_NOTICE, OLD_EMAIL),
    ]
    arrived = await mailbox.deliver()
    assert len(arrived) == 2
    [completion] = mailbox.to(NEW_EMAIL)
    [notice] = mailbox.to(OLD_EMAIL)
    assert "メールアドレス変更完了" in str(completion["Subject"])
    assert "YAMADA TARO 様" in body(completion)
    assert "メールアドレスが変更されました" in str(notice["Subject"])
    assert "n***@example.com" in body(notice)
    assert NEW_EMAIL not in body(notice)
    assert (await execute(ME, token=token))["me"]["email"] == NEW_EMAIL


async def test_update_user_info_changes_everything_in_one_request(
    execute: Caller, user: User, token: str, mailbox: Mailbox
) -> None:
    input = {**address("131041", "西新宿2-8-1"), "newPhone": "09012345678"}
    input |= email(NEW_EMAIL)

    result = await update(execute, token, input, Lang.EN)

    assert result["__typename"] == "UpdateUserInfoSuccess"
    assert result["mailSent"] is True
    me = (await execute(ME, token=token))["me"]
    assert (me["email"], me["phone"], me["address"]) == (
        NEW_EMAIL,
        "09012345678",
        SHINJUKU,
    )
    arrived = await mailbox.deliver()
    assert sorted(str(m["To"]) for m in arrived) == [NEW_EMAIL, OLD_EMAIL]


async def test_a_changed_address_does_not_keep_its_owner_from_registering(
    execute: Caller, user: User, token: str
) -> None:
    await update(execute, token, email("victim@example.com"))

    data = await execute(
        REGISTER, form(email="victim@example.com", emailConfirm="victim@example.com")
    )

    assert data["registerUser"]["__typename"] == "RegisterUserSuccess"
    owner = await User.get(email_key="victim@example.com")
    assert owner.id != user.id
    kinds = [m.kind for m in await OutboxMail.filter(user_id=owner.id)]
    assert kinds == [MailKind.REGISTRATION]
    # And the old address is free to register again, too.
    assert not await User.exists(email_key=OLD_EMAIL)


async def test_the_email_can_be_changed_only_so_often(
    execute: Caller, user: User, token: str, clock: SettableClock, services: Services
) -> None:
    for n in range(services.policy.email_change_limit):
        changed = await update(execute, token, email(f"n{n}@example.com"))
        assert changed["__typename"] == "UpdateUserInfoSuccess"

    async with unchanged():
        result = await update(
            execute, token, {**email("last@example.com"), "newPhone": "0399998888"}
        )

    assert result["code"] == "RASX004E"
    clock.advance(services.policy.request_window)
    fresh = await log_in(execute, user.auth_id)  # the idle session has timed out
    again = await update(execute, fresh, email("last@example.com"))
    assert again["__typename"] == "UpdateUserInfoSuccess"


async def test_the_confirmation_may_have_spaces_around_it(
    execute: Caller, user: User, token: str
) -> None:
    result = await update(execute, token, email(NEW_EMAIL, f" {NEW_EMAIL} "))

    assert result["__typename"] == "UpdateUserInfoSuccess"


async def test_a_change_of_letter_case_only_sends_no_mail_and_voids_nothing(
    execute: Caller, user: User, token: str, mailbox: Mailbox
) -> None:
    asked = await request_reset(execute, user.auth_id, OLD_EMAIL)
    assert asked["__typename"] == "RequestPasswordResetSuccess"
    [reset_mail] = await mailbox.deliver()

    result = await update(execute, token, email("Taro@Example.com"))

    assert result["mailSent"] is False
    assert await mailbox.deliver() == []
    row = await stored(user)
    assert (row["email"], row["email_key"]) == ("Taro@Example.com", OLD_EMAIL)
    done = await reset_password(execute, link_token(reset_mail), "Hoshi#2027x")
    assert done["__typename"] == "ResetPasswordSuccess"
