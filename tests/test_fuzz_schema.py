"""Fuzzing with hypothesis-graphql: no document valid for the schema, and no
string in login's variables, may end in WZBAM098E (a masked crash) or in an
error other than the service's deliberate limits."""

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from models import User
from resolvers.context import Context, Services
from schema.messages import ErrorCode
from schema.root import schema
from tests.support import LOGIN, PASSWORD

SDL = schema.as_str()
FUZZ = settings(
    max_examples=25,
    deadline=None,  # argon2
    derandomize=True,  # the same examples on every run: no flaky CI
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LIMITS = re.compile(
    r"^A request may contain at most one `\w+`\.$|aliases found\. Allowed: 20$"
    r"|more than 4000 tokens|exceeds maximum operation depth of 12$"
)
# Any code point (NUL and lone surrogates included), and strings made only of
# troublemakers, which plain st.text() almost never draws.
TRICKY = "\x00\ud800\udfff\ufeff\u200b\u3000ＡａﬃßİǅK①ｱ"
ANY_TEXT = st.one_of(
    st.text(st.sampled_from(TRICKY), min_size=1, max_size=8),
    st.text(
        st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()),
        max_size=80,
    ),
)


async def _execute(
    services: Services, doc: str, variables: Any = None, bearer: str | None = None
) -> Any:
    context = Context(services=services, bearer=bearer)
    return await schema.execute(doc, variables, context_value=context)


def _problems(
    result: Any, caplog: pytest.LogCaptureFixture, *, valid: bool
) -> list[str]:
    problems = []
    for error in result.errors or []:
        if (error.extensions or {}).get("code") == ErrorCode.SYSTEM_ERROR.value:
            tracebacks = [
                r.exc_text or ""
                for r in caplog.records
                if r.name == "ras_identity.incident"
            ]
            problems.append(f"WZBAM098E at {error.path}:\n" + "\n".join(tracebacks))
        elif valid and not LIMITS.search(error.message):
            problems.append(f"error for a valid document: {error.message}")
    caplog.clear()
    return problems


async def _token(services: Services, user: User) -> str:
    result = await _execute(
        services, LOGIN, {"authId": user.auth_id, "password": PASSWORD}
    )
    return str(result.data["login"]["token"])


@FUZZ
@given(doc=st.one_of(queries(SDL), mutations(SDL)), logged_in=st.booleans())
async def test_generated_documents_never_crash(
    services: Services,
    user: User,
    caplog: pytest.LogCaptureFixture,
    doc: str,
    logged_in: bool,
) -> None:
    bearer = await _token(services, user) if logged_in else None
    result = await _execute(services, doc, bearer=bearer)
    assert not _problems(result, caplog, valid=True), doc


@FUZZ
@given(
    doc=st.one_of(queries(SDL, mode=Mode.NEGATIVE), mutations(SDL, mode=Mode.NEGATIVE))
)
async def test_invalid_documents_are_refused_without_a_crash(
    services: Services, db: str, caplog: pytest.LogCaptureFixture, doc: str
) -> None:
    result = await _execute(services, doc)
    assert result.errors, doc
    assert not _problems(result, caplog, valid=False), doc


@FUZZ
@given(auth_id=ANY_TEXT, password=ANY_TEXT)
@example(auth_id="A" * 10, password="\ud800")  # argon2 cannot encode it
@example(auth_id="Ａ\x00", password="\x00")
async def test_login_with_any_strings(
    services: Services,
    db: str,
    caplog: pytest.LogCaptureFixture,
    auth_id: str,
    password: str,
) -> None:
    variables = {"authId": auth_id, "password": password}
    result = await _execute(services, LOGIN, variables)
    assert not _problems(result, caplog, valid=True), variables
    assert result.data["login"]["__typename"] != "LoginSuccess", variables


@FUZZ
@given(bearer=ANY_TEXT)
async def test_any_bearer_string(
    services: Services, db: str, caplog: pytest.LogCaptureFixture, bearer: str
) -> None:
    doc = "query { me { __typename } menu { __typename } }"
    result = await _execute(services, doc, bearer=bearer)
    assert not _problems(result, caplog, valid=True), repr(bearer)


@pytest.mark.parametrize(
    "doc",
    [
        'mutation { a: login(input: {authId: "A1", password: "x"}) { __typename }'
        ' ... on Mutation { b: login(input: {authId: "A2", password: "x"})'
        " { __typename } } }",
        "mutation { ...F ...G } fragment F on Mutation { a: login(input: "
        '{authId: "A1", password: "x"}) { __typename } } fragment G on Mutation'
        ' { b: login(input: {authId: "A2", password: "x"}) { __typename } }',
    ],
)
async def test_one_login_per_document_also_through_fragments(
    services: Services, db: str, doc: str
) -> None:
    result = await _execute(services, doc)
    assert result.data is None, result.data
    assert result.errors


SELF_SERVICE = """
mutation R($r: RegisterUserInput!, $p: RegisterPasswordInput!,
           $q: RequestPasswordResetInput!, $s: ResetPasswordInput!) {
  registerUser(input: $r) { __typename }
  registerPassword(input: $p) { __typename }
  requestPasswordReset(input: $q) { __typename }
  resetPassword(input: $s) { __typename }
}
"""
LOGGED_IN = """
mutation L($u: UpdateUserInfoInput!, $c: ChangePasswordInput!) {
  updateUserInfo(input: $u) { __typename }
  changePassword(input: $c) { __typename }
}
"""


@FUZZ
@given(texts=st.lists(ANY_TEXT, min_size=10, max_size=10), agreed=st.booleans())
@example(texts=["\x00"] * 10, agreed=True)
@example(texts=["\ud800"] * 10, agreed=True)
async def test_self_service_with_any_strings(
    services: Services,
    db: str,
    caplog: pytest.LogCaptureFixture,
    texts: list[str],
    agreed: bool,
) -> None:
    name, born, nationality, email, phone, token, password, auth_id, a, b = texts
    variables = {
        "r": {
            "name": name,
            "dateOfBirth": born,
            "nationality": nationality,
            "email": email,
            "emailConfirm": email,
            "phone": phone,
            "language": "JA",
            "agreedToTerms": agreed,
        },
        "p": {"token": token, "password": password, "passwordConfirm": password},
        "q": {"authId": auth_id, "email": email},
        "s": {"token": a, "newPassword": b, "newPasswordConfirm": b},
    }
    result = await _execute(services, SELF_SERVICE, variables)
    assert not _problems(result, caplog, valid=True), variables


@FUZZ
@given(texts=st.lists(ANY_TEXT, min_size=7, max_size=7))
@example(texts=["\x00"] * 7)
@example(
    texts=[
        "131041",
        "\x00",
        "\ud800",
        "a\x00@example.com",
        "a\x00@example.com",
        PASSWORD,
        "\ud800",
    ]
)
async def test_logged_in_changes_with_any_strings(
    services: Services,
    user: User,
    caplog: pytest.LogCaptureFixture,
    texts: list[str],
) -> None:
    code, street, phone, email, confirm, current, new = texts
    variables = {
        "u": {
            "newAddress": {"municipalityCode": code, "street": street},
            "newPhone": phone,
            "newEmail": email,
            "newEmailConfirm": confirm,
        },
        "c": {
            "currentPassword": current,
            "newPassword": new,
            "newPasswordConfirm": new,
        },
    }
    bearer = await _token(services, user)
    result = await _execute(services, LOGGED_IN, variables, bearer=bearer)
    assert not _problems(result, caplog, valid=True), variables
