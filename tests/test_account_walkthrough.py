"""The manual end to end over real HTTP, with real mail: register → mail → set
password → login → change address → change email → change password → logout →
forgot password → reset → login. And passwordPolicy, which the forms show."""

from typing import Any

import httpx

from resolvers.context import Services
from tests.support import (
    LOGIN,
    REQUEST_RESET,
    RESET_PASSWORD,
    Mailbox,
    body,
    link_token,
    reset_input,
)

FIRST, SECOND, THIRD = "Hoshi#2027x", "Tsuki#2028y", "Sora#2029zz"


async def call(
    http: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    [result] = payload["data"].values()
    assert isinstance(result, dict)
    return result


REGISTER = """mutation($i: RegisterUserInput!) { registerUser(input: $i) {
  __typename ... on Error { code } } }"""
SET_PASSWORD = """mutation($t: String!, $p: String!) { registerPassword(input:
  {token: $t, password: $p, passwordConfirm: $p}) { __typename
  ... on RegisterPasswordSuccess { authId } ... on Error { code } } }"""
UPDATE = """mutation($i: UpdateUserInfoInput!) { updateUserInfo(input: $i) {
  __typename ... on Error { code }
  ... on UpdateUserInfoSuccess { mailSent user { email phone
    address { municipalityCode prefectureName municipalityName street } } } } }"""
CHANGE = """mutation($c: String!, $n: String!) { changePassword(input:
  {currentPassword: $c, newPassword: $n, newPasswordConfirm: $n}) {
  __typename ... on Error { code } ... on ChangePasswordSuccess { token } } }"""
LOGOUT = "mutation { logout { __typename } }"
ME = "query { me { __typename ... on User { authId email } ... on Error { code } } }"
POLICY = """query { passwordPolicy { minLength maxLength symbols history validDays
  rules { rule ja en } } }"""


async def test_a_new_user_walks_through_every_screen_of_the_manual(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    registered = await call(
        http,
        REGISTER,
        i={
            "name": "Nguyen Van An",
            "dateOfBirth": "19950401",
            "nationality": "vnm",
            "email": "an@example.com",
            "emailConfirm": "an@example.com",
            "phone": "09012345678",
            "language": "EN",
            "agreedToTerms": True,
        },
    )
    assert registered["__typename"] == "RegisterUserSuccess"
    [welcome] = await mailbox.deliver()
    auth_id = next(
        line.split("：")[1].strip()
        for line in body(welcome).splitlines()
        if "認証ID：" in line
    )

    setup = await call(http, SET_PASSWORD, t=link_token(welcome), p=FIRST)
    assert setup == {"__typename": "RegisterPasswordSuccess", "authId": auth_id}
    [registered_notice] = await mailbox.deliver()
    assert registered_notice["To"] == "an@example.com"

    session = (await call(http, LOGIN, authId=auth_id, password=FIRST))["token"]
    moved = await call(
        http,
        UPDATE,
        session,
        i={"newAddress": {"municipalityCode": "13104", "street": "西新宿2-8-1"}},
    )
    assert moved["mailSent"] is False
    assert moved["user"]["address"] == {
        "municipalityCode": "131041",
        "prefectureName": "東京都",
        "municipalityName": "新宿区",
        "street": "西新宿２−８−１",
    }
    assert await mailbox.deliver() == []  # the manual: no mail for an address change

    new_email = await call(
        http,
        UPDATE,
        session,
        i={
            "newEmail": "an.nguyen@example.org",
            "newEmailConfirm": "an.nguyen@example.org",
        },
    )
    assert new_email["mailSent"] is True
    notices = await mailbox.deliver()
    assert sorted(m["To"] for m in notices) == [
        "an.nguyen@example.org",
        "an@example.com",
    ]

    changed = await call(http, CHANGE, session, c=FIRST, n=SECOND)
    assert changed["__typename"] == "ChangePasswordSuccess"
    [completion] = await mailbox.deliver()
    assert completion["To"] == "an.nguyen@example.org"
    # The session goes on under the new token the change handed out.
    assert (await call(http, ME, session))["code"] == "RASX002E"
    session = changed["token"]

    assert (await call(http, LOGOUT, session))["__typename"] == "LogoutSuccess"
    assert (await call(http, ME, session))["code"] == "RASX002E"

    asked = await call(
        http, REQUEST_RESET, authId=auth_id.lower(), email="an.nguyen@example.org"
    )
    assert asked["__typename"] == "RequestPasswordResetSuccess"
    [reset_mail] = await mailbox.deliver()
    assert reset_mail["To"] == "an.nguyen@example.org"
    reset = await call(
        http, RESET_PASSWORD, **reset_input(link_token(reset_mail), THIRD)
    )
    assert reset["__typename"] == "ResetPasswordSuccess"
    await mailbox.deliver()

    stale = await call(http, LOGIN, authId=auth_id, password=SECOND)
    assert stale["code"] == "WZBAM005E"
    final = (await call(http, LOGIN, authId=auth_id, password=THIRD))["token"]
    me = await call(http, ME, final)
    assert me == {
        "__typename": "User",
        "authId": auth_id,
        "email": "an.nguyen@example.org",
    }


async def test_password_policy_tells_the_rules_in_both_languages(
    http: httpx.AsyncClient, services: Services
) -> None:
    policy = await call(http, POLICY)

    assert policy["minLength"] == 8
    assert policy["maxLength"] == 32
    assert policy["symbols"] == "$%&=@_#*+-?!"
    assert policy["history"] == 3
    assert policy["validDays"] == 365
    rules = {rule["rule"]: rule for rule in policy["rules"]}
    assert list(rules) == [
        "LENGTH",
        "CHARACTERS",
        "MIX",
        "CONTAINS_AUTH_ID",
        "COMMON",
        "RECENTLY_USED",
    ]
    assert rules["LENGTH"]["ja"] == "8文字以上32文字以下で入力してください。"
    assert rules["LENGTH"]["en"] == "Use 8 to 32 characters."
    assert "2" in rules["RECENTLY_USED"]["en"]
