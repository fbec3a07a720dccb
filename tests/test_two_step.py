"""Applicants' two-step login (issue 15): enrolment, the code step of a login,
replay and drift, recovery codes, turning it off, and the lockout shared with
passwords. Codes come from pyotp on the settable clock, as an authenticator
app would show them."""

import asyncio
import email
import email.policy
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from models import (
    AuditEvent,
    AuditType,
    LoginChallenge,
    LoginThrottle,
    MailKind,
    OutboxMail,
    RecoveryCode,
    User,
    UserSession,
)
from resolvers.context import Services
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
)

BEGIN = """
mutation($p: String!) { beginTotpEnrollment(input: {currentPassword: $p}) {
  __typename
  ... on TotpEnrollment { secret otpauthUri qrSvg expiresAt }
  ... on Error { code message remedy }
  ... on FieldError { field }
  ... on TwoStepStateError { enabled }
} }
"""
CONFIRM = """
mutation($c: String!) { confirmTotpEnrollment(input: {code: $c}) {
  __typename
  ... on TotpEnabled { recoveryCodes }
  ... on Error { code message }
  ... on FieldError { field }
  ... on TwoStepStateError { enabled }
} }
"""
VERIFY = """
mutation($t: String!, $c: String, $r: String) {
  verifyTotp(input: {challengeToken: $t, code: $c, recoveryCode: $r}) {
    __typename
    ... on LoginSuccess { token user { authId twoStepEnabled } }
    ... on PasswordExpiredError { changeTicket }
    ... on Error { code message remedy }
    ... on FieldError { field }
  }
}
"""
LOGIN_STEP = """
mutation($a: String!, $p: String!) { login(input: {authId: $a, password: $p}) {
  __typename
  ... on TotpRequired { challengeToken expiresAt }
  ... on LoginSuccess { token }
  ... on Error { code message }
} }
"""
DISABLE = """
mutation($p: String!, $c: String!) {
  disableTotp(input: {currentPassword: $p, code: $c}) {
    __typename
    ... on TotpDisabled { disabledAt }
    ... on Error { code }
    ... on FieldError { field }
    ... on TwoStepStateError { enabled }
  }
}
"""
REGENERATE = """
mutation($c: String!) { regenerateRecoveryCodes(input: {code: $c}) {
  __typename
  ... on RecoveryCodesRegenerated { recoveryCodes }
  ... on Error { code }
  ... on FieldError { field }
  ... on TwoStepStateError { enabled }
} }
"""
REAUTHENTICATE = """
mutation($p: String!, $c: String) { reauthenticate(input: {password: $p, code: $c}) {
  __typename
  ... on ReauthenticateSuccess { freshUntil }
  ... on Error { code }
  ... on FieldError { field }
  ... on RequiredFieldError { fields }
} }
"""
ME_TWO_STEP = "query { me { __typename ... on User { twoStepEnabled } } }"
STEP = timedelta(seconds=30)


def at(secret: str, moment: datetime) -> str:
    """What the authenticator app shows at ``moment``."""
    return pyotp.TOTP(secret).at(moment)


async def call(
    execute: Caller, document: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    data = await execute(document, variables, token=token)
    (result,) = data.values()
    assert isinstance(result, dict)
    return result


async def enrol(
    execute: Caller, token: str, clock: SettableClock
) -> tuple[str, list[str]]:
    """Turn two-step login on for the session's user: (secret, recovery codes)."""
    begun = await call(execute, BEGIN, token, p=PASSWORD)
    assert begun["__typename"] == "TotpEnrollment", begun
    secret = begun["secret"]
    done = await call(execute, CONFIRM, token, c=at(secret, clock.now()))
    assert done["__typename"] == "TotpEnabled", done
    # The code used to confirm is not yet "used" for login; move on a step so
    # the tests below start from a fresh one.
    clock.advance(STEP)
    return secret, done["recoveryCodes"]


async def challenge(execute: Caller, user: User, password: str = PASSWORD) -> str:
    answer = await call(execute, LOGIN_STEP, a=user.auth_id, p=password)
    assert answer["__typename"] == "TotpRequired", answer
    token: str = answer["challengeToken"]
    return token


def parsed(row: OutboxMail) -> EmailMessage:
    assert row.message is not None
    message = email.message_from_string(row.message, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(row: OutboxMail) -> str:
    return body(parsed(row))


async def events(user: User) -> list[tuple[AuditType, str, str | None]]:
    rows = await AuditEvent.filter(user_id=user.id).order_by("id")
    return [(row.type, row.outcome, row.detail) for row in rows]


async def failures(user: User) -> int:
    throttle = await LoginThrottle.get_or_none(key=user.auth_id)
    return 0 if throttle is None else throttle.failures


@pytest.fixture
async def enrolled(
    execute: Caller, user: User, clock: SettableClock
) -> tuple[str, list[str]]:
    token = await log_in(execute, user.auth_id)
    return await enrol(execute, token, clock)


# --- enrolment ---------------------------------------------------------------


async def test_enrolment_gives_a_scannable_secret_for_the_auth_id(
    execute: Caller, user: User, clock: SettableClock, services: Services
) -> None:
    token = await log_in(execute, user.auth_id)
    begun = await call(execute, BEGIN, token, p=PASSWORD)
    assert begun["__typename"] == "TotpEnrollment"
    uri = urlsplit(begun["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    query = parse_qs(uri.query)
    assert query["secret"] == [begun["secret"]]
    assert query["issuer"] == [services.policy.totp_issuer]
    assert unquote(uri.path).endswith(f":{user.auth_id}")
    assert begun["qrSvg"].startswith("<svg")
    assert "</svg>" in begun["qrSvg"]
    expires = datetime.fromisoformat(begun["expiresAt"])
    assert expires == clock.now() + timedelta(minutes=10)
    # Not on until confirmed: login still needs no code.
    assert (await call(execute, ME_TWO_STEP, token))["twoStepEnabled"] is False
    stored = await User.get(id=user.id)
    assert stored.totp_pending_secret is not None
    assert begun["secret"] not in stored.totp_pending_secret  # encrypted at rest


async def test_confirming_turns_it_on_with_ten_hashed_recovery_codes(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    secret, codes = await enrol(execute, token, clock)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)
    stored = await User.get(id=user.id)
    assert stored.totp_enabled_at is not None
    assert stored.totp_secret is not None
    assert secret not in stored.totp_secret
    assert stored.totp_pending_secret is None
    kept = await RecoveryCode.filter(user_id=user.id).values_list(
        "code_hash", flat=True
    )
    assert len(kept) == 10
    for code in codes:  # only keyed hashes, never the codes
        assert all(code.replace("-", "") not in h and code not in h for h in kept)
    assert (await call(execute, ME_TWO_STEP, token))["twoStepEnabled"] is True
    mails = await OutboxMail.filter(user_id=user.id, kind=MailKind.TWO_STEP_ENABLED)
    assert len(mails) == 1


async def test_begin_needs_the_right_password_counted_toward_the_lockout(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)
    wrong = await call(execute, BEGIN, token, p="Wrong-pass-1")
    assert (wrong["code"], wrong["field"]) == ("WZBAM154E", "currentPassword")
    assert await failures(user) == 1
    empty = await call(execute, BEGIN, token, p="")
    assert empty["code"] == "WZBAM001E"
    assert (await User.get(id=user.id)).totp_pending_secret is None


async def test_a_wrong_first_code_is_refused_and_counted(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    begun = await call(execute, BEGIN, token, p=PASSWORD)
    good = at(begun["secret"], clock.now())
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    answer = await call(execute, CONFIRM, token, c=bad)
    assert (answer["code"], answer["field"]) == ("RASX005E", "code")
    assert await failures(user) == 1
    assert (await User.get(id=user.id)).totp_enabled_at is None
    # A right first code does not end the run: whoever began knows the secret.
    ok = await call(execute, CONFIRM, token, c=good)
    assert ok["__typename"] == "TotpEnabled"
    assert await failures(user) == 1


async def test_an_enrolment_runs_out_and_no_enrolment_is_a_step_error(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    none_begun = await call(execute, CONFIRM, token, c="123456")
    assert (none_begun["code"], none_begun["field"]) == ("RASX012E", "code")
    begun = await call(execute, BEGIN, token, p=PASSWORD)
    clock.advance(timedelta(minutes=10))
    late = await call(execute, CONFIRM, token, c=at(begun["secret"], clock.now()))
    assert late["code"] == "RASX012E"
    assert await failures(user) == 0  # nothing was checked


async def test_beginning_again_replaces_the_begun_secret(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    first = await call(execute, BEGIN, token, p=PASSWORD)
    second = await call(execute, BEGIN, token, p=PASSWORD)
    assert first["secret"] != second["secret"]
    old = await call(execute, CONFIRM, token, c=at(first["secret"], clock.now()))
    assert old["code"] == "RASX005E"
    new = await call(execute, CONFIRM, token, c=at(second["secret"], clock.now()))
    assert new["__typename"] == "TotpEnabled"


async def test_enrolling_twice_is_a_state_error(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    secret, _ = await enrol(execute, token, clock)
    token = await two_step_login(execute, user, clock, secret)
    again = await call(execute, BEGIN, token, p=PASSWORD)
    assert (again["code"], again["enabled"]) == ("RASX013E", True)


# --- login with two steps ----------------------------------------------------


async def two_step_login(
    execute: Caller, user: User, clock: SettableClock, secret: str
) -> str:
    challenge_token = await challenge(execute, user)
    answer = await call(execute, VERIFY, t=challenge_token, c=at(secret, clock.now()))
    assert answer["__typename"] == "LoginSuccess", answer
    token: str = answer["token"]
    return token


async def test_login_needs_the_code_and_then_gives_the_session(
    execute: Caller,
    user: User,
    clock: SettableClock,
    enrolled: tuple[str, list[str]],
) -> None:
    secret, _ = enrolled
    answer = await call(execute, LOGIN_STEP, a=user.auth_id, p=PASSWORD)
    assert answer["__typename"] == "TotpRequired"
    expires = datetime.fromisoformat(answer["expiresAt"])
    assert expires == clock.now() + timedelta(minutes=5)
    # The challenge is no session.
    assert (await call(execute, ME, answer["challengeToken"]))["code"] == "RASX002E"
    done = await call(
        execute, VERIFY, t=answer["challengeToken"], c=at(secret, clock.now())
    )
    assert done["__typename"] == "LoginSuccess"
    assert done["user"] == {"authId": user.auth_id, "twoStepEnabled": True}
    assert (await call(execute, ME, done["token"]))["__typename"] == "User"
    stored = await LoginChallenge.get(user_id=user.id)
    assert stored.used_at is not None
    assert answer["challengeToken"] not in stored.token_hash  # kept as a hash
    types = [event[0] for event in await events(user)]
    # The code step, then the enrolling session displaced by the new one.
    assert types[-3:] == [
        AuditType.TWO_STEP_CHALLENGED,
        AuditType.SESSION_DISPLACED,
        AuditType.LOGIN_SUCCEEDED,
    ]


async def test_a_challenge_is_single_use(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    token = await challenge(execute, user)
    first = await call(execute, VERIFY, t=token, c=at(secret, clock.now()))
    assert first["__typename"] == "LoginSuccess"
    clock.advance(STEP)
    again = await call(execute, VERIFY, t=token, c=at(secret, clock.now()))
    assert (again["code"], again["field"]) == ("RASX012E", "challengeToken")


async def test_a_challenge_expires_after_five_minutes(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    token = await challenge(execute, user)
    clock.advance(timedelta(minutes=5))
    late = await call(execute, VERIFY, t=token, c=at(secret, clock.now()))
    assert late["code"] == "RASX012E"
    unknown = await call(execute, VERIFY, t="not-a-challenge", c="123456")
    assert unknown["code"] == "RASX012E"
    assert await failures(user) == 0


async def test_a_wrong_code_is_rasx005e_counted_and_the_challenge_stays(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    token = await challenge(execute, user)
    good = at(secret, clock.now())
    wrong = await call(execute, VERIFY, t=token, c=f"{(int(good) + 7) % 10**6:06d}")
    assert (wrong["code"], wrong["field"]) == ("RASX005E", "code")
    assert (
        wrong["message"] == "ワンタイムコードに誤りがあります。再度入力してください。"
    )
    assert await failures(user) == 1
    failed = [e for e in await events(user) if e[0] is AuditType.LOGIN_FAILED]
    assert failed[-1] == (AuditType.LOGIN_FAILED, "RASX005E", "verifyTotp")
    ok = await call(execute, VERIFY, t=token, c=good)
    assert ok["__typename"] == "LoginSuccess"
    assert await failures(user) == 0  # the code completed the login


async def test_reaching_the_lockout_with_codes_answers_153e_and_voids_the_challenge(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    token = await challenge(execute, user)
    good = at(secret, clock.now())
    bad = f"{(int(good) + 1) % 10**6:06d}"
    answers = [(await call(execute, VERIFY, t=token, c=bad))["code"] for _ in range(5)]
    assert answers == ["RASX005E"] * 4 + ["WZBAM153E"]
    assert (await LoginChallenge.get(user_id=user.id)).used_at is not None
    # Locked: even the right code (on a void challenge) and a new login fail.
    assert (await call(execute, VERIFY, t=token, c=good))["code"] == "RASX012E"
    locked = await call(execute, LOGIN_STEP, a=user.auth_id, p=PASSWORD)
    assert locked["code"] == "WZBAM153E"
    types = [e[0] for e in await events(user)]
    assert AuditType.LOGIN_LOCKED in types


async def test_a_right_password_does_not_buy_a_code_guesser_a_fresh_run(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    """Each login with the right password must not clear the failures of the
    code step, or an attacker with the password could guess codes forever."""
    secret, _ = enrolled
    good = at(secret, clock.now())
    bad = f"{(int(good) + 3) % 10**6:06d}"
    answers = []
    for _ in range(3):
        token = await challenge(execute, user)
        answers.append((await call(execute, VERIFY, t=token, c=bad))["code"])
        answers.append((await call(execute, VERIFY, t=token, c=bad))["code"])
    assert answers == ["RASX005E"] * 4 + ["WZBAM153E", "RASX012E"]
    assert (await call(execute, LOGIN_STEP, a=user.auth_id, p=PASSWORD))[
        "code"
    ] == "WZBAM153E"


async def test_a_code_is_accepted_once_even_within_its_window(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    code = at(secret, clock.now())
    first = await call(execute, VERIFY, t=await challenge(execute, user), c=code)
    assert first["__typename"] == "LoginSuccess"
    clock.advance(timedelta(seconds=5))  # same step
    replay = await call(execute, VERIFY, t=await challenge(execute, user), c=code)
    assert replay["code"] == "RASX005E"
    # An earlier step's code (within the drift) is refused too: not later.
    earlier = at(secret, clock.now() - STEP)
    older = await call(execute, VERIFY, t=await challenge(execute, user), c=earlier)
    assert older["code"] == "RASX005E"
    clock.advance(STEP)
    fresh = await call(
        execute, VERIFY, t=await challenge(execute, user), c=at(secret, clock.now())
    )
    assert fresh["__typename"] == "LoginSuccess"


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(seconds=-31), False),
        (timedelta(seconds=-30), True),
        (timedelta(0), True),
        (timedelta(seconds=30), True),
        (timedelta(seconds=60), False),
    ],
)
async def test_one_step_of_drift_either_way_and_no_more(
    execute: Caller,
    user: User,
    clock: SettableClock,
    enrolled: tuple[str, list[str]],
    offset: timedelta,
    accepted: bool,
) -> None:
    secret, _ = enrolled
    # At the start of a step, so "one step back" is exactly 30 seconds back.
    now = clock.now()
    clock.advance(timedelta(seconds=30 - int(now.timestamp()) % 30))
    token = await challenge(execute, user)
    answer = await call(execute, VERIFY, t=token, c=at(secret, clock.now() + offset))
    assert (answer["__typename"] == "LoginSuccess") is accepted, answer


async def test_full_width_digits_and_spaces_are_accepted(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    code = at(secret, clock.now())
    typed = " ".join([code[:3], code[3:]]).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    answer = await call(execute, VERIFY, t=await challenge(execute, user), c=typed)
    assert answer["__typename"] == "LoginSuccess"


async def test_the_code_step_needs_exactly_one_code(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    _secret, codes = enrolled
    token = await challenge(execute, user)
    neither = await call(execute, VERIFY, t=token)
    assert (neither["code"], neither["field"]) == ("WZBAM001E", "code")
    both = await call(execute, VERIFY, t=token, c="123456", r=codes[0])
    assert (both["code"], both["field"]) == ("WZBAM005E", "recoveryCode")
    no_token = await call(execute, VERIFY, t="", c="123456")
    assert (no_token["code"], no_token["field"]) == ("WZBAM001E", "challengeToken")
    assert await failures(user) == 0
    assert await RecoveryCode.filter(user_id=user.id, used_at=None).count() == 10


async def test_an_expired_password_gets_its_change_ticket_after_the_code(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    await User.filter(id=user.id).update(password_expires_at=clock.now())
    token = await challenge(execute, user)
    answer = await call(execute, VERIFY, t=token, c=at(secret, clock.now()))
    assert answer["code"] == "WZBAM158E"
    assert answer["changeTicket"]


@pytest.mark.parametrize(
    ("change", "answered"),
    [
        ({"status": "suspended"}, "WZBAM155E"),
        ({"password_hash": "$argon2id$v=19$changed"}, "RASX012E"),
    ],
)
async def test_what_changed_meanwhile_is_answered_before_any_code_counts(
    execute: Caller,
    user: User,
    clock: SettableClock,
    enrolled: tuple[str, list[str]],
    change: dict[str, str],
    answered: str,
) -> None:
    """A suspension, or a password changed since the challenge: answered at the
    code step without checking (or counting) the code, and the challenge is
    void; no session is made."""
    secret, _ = enrolled
    token = await challenge(execute, user)
    await User.filter(id=user.id).update(**change)
    sessions = await UserSession.filter(user_id=user.id).count()
    last_step = (await User.get(id=user.id)).totp_last_step
    answer = await call(execute, VERIFY, t=token, c=at(secret, clock.now()))
    assert answer["code"] == answered
    assert await UserSession.filter(user_id=user.id).count() == sessions
    assert await failures(user) == 0
    assert (await User.get(id=user.id)).totp_last_step == last_step  # not used
    assert (await LoginChallenge.get(user_id=user.id)).used_at is not None


# --- enumeration ---------------------------------------------------------------


async def test_totp_required_comes_only_after_the_right_password(
    execute: Caller, user: User, enrolled: tuple[str, list[str]]
) -> None:
    unknown = await call(execute, LOGIN, authId="ZZZZZZZZZZ", password="Wrong-pass-1")
    wrong = await call(execute, LOGIN, authId=user.auth_id, password="Wrong-pass-1")
    for answer in (unknown, wrong):
        assert answer["__typename"] == "InvalidCredentialsError"
    assert unknown == wrong
    assert (await challenge(execute, user)) != ""


# --- recovery codes ------------------------------------------------------------


async def test_a_recovery_code_logs_in_once_and_mails_the_user(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    _, codes = enrolled
    first = await call(execute, VERIFY, t=await challenge(execute, user), r=codes[0])
    assert first["__typename"] == "LoginSuccess"
    again = await call(execute, VERIFY, t=await challenge(execute, user), r=codes[0])
    assert (again["code"], again["field"]) == ("RASX005E", "recoveryCode")
    lower = codes[1].lower().replace("-", " ")  # as typed, not as shown
    other = await call(execute, VERIFY, t=await challenge(execute, user), r=lower)
    assert other["__typename"] == "LoginSuccess"
    assert await RecoveryCode.filter(user_id=user.id, used_at=None).count() == 8
    mails = await OutboxMail.filter(
        user_id=user.id, kind=MailKind.RECOVERY_CODE_USED
    ).order_by("id")
    assert len(mails) == 2
    assert "残り 8 個" in text_of(mails[-1])
    types = [e[0] for e in await events(user)]
    assert types.count(AuditType.RECOVERY_CODE_USED) == 2


async def test_another_users_recovery_code_is_worthless(
    execute: Caller,
    user: User,
    clock: SettableClock,
    services: Services,
    enrolled: tuple[str, list[str]],
) -> None:
    from resolvers.operator import create_user

    other = await create_user(
        services, email="hanako@example.com", name="Sato Hanako", password=PASSWORD
    )
    assert isinstance(other, User)
    token = await log_in(execute, other.auth_id)
    _, other_codes = await enrol(execute, token, clock)
    answer = await call(
        execute, VERIFY, t=await challenge(execute, user), r=other_codes[0]
    )
    assert answer["code"] == "RASX005E"


async def test_regenerating_voids_every_earlier_code(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, codes = enrolled
    token = await two_step_login(execute, user, clock, secret)
    clock.advance(STEP)
    recovery = await call(execute, REGENERATE, token, c=codes[0])
    assert recovery["code"] == "WZBAM005E"  # the app's code only
    fresh = await call(execute, REGENERATE, token, c=at(secret, clock.now()))
    assert fresh["__typename"] == "RecoveryCodesRegenerated"
    assert not set(fresh["recoveryCodes"]) & set(codes)
    old = await call(execute, VERIFY, t=await challenge(execute, user), r=codes[1])
    assert old["code"] == "RASX005E"
    new = await call(
        execute, VERIFY, t=await challenge(execute, user), r=fresh["recoveryCodes"][0]
    )
    assert new["__typename"] == "LoginSuccess"
    types = [e[0] for e in await events(user)]
    assert AuditType.RECOVERY_CODES_REGENERATED in types


# --- turning it off ------------------------------------------------------------


async def test_disable_needs_password_and_code_and_mails_the_user(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, codes = enrolled
    token = await two_step_login(execute, user, clock, secret)
    clock.advance(STEP)
    code = at(secret, clock.now())
    wrong_password = await call(execute, DISABLE, token, p="Wrong-pass-1", c=code)
    assert (wrong_password["code"], wrong_password["field"]) == (
        "WZBAM154E",
        "currentPassword",
    )
    wrong_code = await call(execute, DISABLE, token, p=PASSWORD, c="000000")
    assert (wrong_code["code"], wrong_code["field"]) == ("RASX005E", "code")
    assert await failures(user) == 2
    done = await call(execute, DISABLE, token, p=PASSWORD, c=code)
    assert done["__typename"] == "TotpDisabled"
    assert await failures(user) == 0
    stored = await User.get(id=user.id)
    assert (stored.totp_secret, stored.totp_enabled_at) == (None, None)
    assert await RecoveryCode.filter(user_id=user.id).count() == 0
    assert (await call(execute, ME_TWO_STEP, token))["twoStepEnabled"] is False
    # Login is one step again; turning off twice is a state error.
    assert (await call(execute, LOGIN_STEP, a=user.auth_id, p=PASSWORD))[
        "__typename"
    ] == "LoginSuccess"
    token = await log_in(execute, user.auth_id)
    again = await call(execute, DISABLE, token, p=PASSWORD, c=code)
    assert (again["code"], again["enabled"]) == ("RASX013E", False)
    assert (
        await OutboxMail.filter(
            user_id=user.id, kind=MailKind.TWO_STEP_DISABLED
        ).count()
        == 1
    )
    assert codes  # (the codes died with it)
    types = [e[0] for e in await events(user)]
    assert AuditType.TWO_STEP_DISABLED in types


async def test_disable_with_a_recovery_code_for_a_lost_app(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    _, codes = enrolled
    answer = await call(execute, VERIFY, t=await challenge(execute, user), r=codes[0])
    token = answer["token"]
    done = await call(execute, DISABLE, token, p=PASSWORD, c=codes[1])
    assert done["__typename"] == "TotpDisabled"


async def test_regenerate_without_two_step_is_a_state_error(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)
    answer = await call(execute, REGENERATE, token, c="123456")
    assert (answer["code"], answer["enabled"]) == ("RASX013E", False)


# --- step-up -------------------------------------------------------------------


async def test_reauthenticate_asks_for_the_code_when_enrolled(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    token = await two_step_login(execute, user, clock, secret)
    clock.advance(STEP)
    missing = await call(execute, REAUTHENTICATE, token, p=PASSWORD)
    assert (missing["code"], missing["fields"]) == ("WZBAM001E", ["code"])
    wrong = await call(execute, REAUTHENTICATE, token, p=PASSWORD, c="000000")
    assert (wrong["code"], wrong["field"]) == ("RASX005E", "code")
    ok = await call(
        execute, REAUTHENTICATE, token, p=PASSWORD, c=at(secret, clock.now())
    )
    assert ok["__typename"] == "ReauthenticateSuccess"


async def test_reauthenticate_without_two_step_needs_no_code(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)
    ok = await call(execute, REAUTHENTICATE, token, p=PASSWORD)
    assert ok["__typename"] == "ReauthenticateSuccess"


# --- what stays ----------------------------------------------------------------


async def test_a_password_reset_keeps_two_step_login(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    from tests.support import request_reset, reset_password

    secret, _ = enrolled
    requested = await request_reset(execute, user.auth_id, user.email)
    assert requested["__typename"] == "RequestPasswordResetSuccess"
    mail = await OutboxMail.filter(
        user_id=user.id, kind=MailKind.PASSWORD_RESET
    ).first()
    assert mail is not None
    token = link_token(parsed(mail))
    reset = await reset_password(execute, token, "New-pass-2026")
    assert reset["__typename"] == "ResetPasswordSuccess", reset
    answer = await call(execute, LOGIN_STEP, a=user.auth_id, p="New-pass-2026")
    assert answer["__typename"] == "TotpRequired"
    done = await call(
        execute, VERIFY, t=answer["challengeToken"], c=at(secret, clock.now())
    )
    assert done["__typename"] == "LoginSuccess"


async def test_secrets_do_not_decrypt_under_another_key_or_for_another_user(
    execute: Caller, user: User, services: Services, enrolled: tuple[str, list[str]]
) -> None:
    from security.secretbox import SecretBox, SecretUnreadable

    secret, _ = enrolled
    stored = (await User.get(id=user.id)).totp_secret
    assert stored is not None
    assert services.secrets.open(stored, owner=user.id) == secret
    with pytest.raises(SecretUnreadable):
        services.secrets.open(stored, owner=user.id + 1)
    with pytest.raises(SecretUnreadable):
        SecretBox.ephemeral().open(stored, owner=user.id)


async def test_two_requests_with_one_code_cannot_both_log_in(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    code = at(secret, clock.now())
    first, second = await challenge(execute, user), await challenge(execute, user)
    answers = await asyncio.gather(
        call(execute, VERIFY, t=first, c=code), call(execute, VERIFY, t=second, c=code)
    )
    kinds = sorted(answer["__typename"] for answer in answers)
    # The loser's code was used (RASX005E), or the winner's new session
    # voided its challenge first (RASX012E): never two sessions.
    assert kinds[0] == "LoginSuccess"
    assert kinds[1] in {"OneTimeCodeWrongError", "StepExpiredError"}


async def test_two_requests_with_one_recovery_code_cannot_both_log_in(
    execute: Caller, user: User, enrolled: tuple[str, list[str]]
) -> None:
    _, codes = enrolled
    first, second = await challenge(execute, user), await challenge(execute, user)
    answers = await asyncio.gather(
        call(execute, VERIFY, t=first, r=codes[0]),
        call(execute, VERIFY, t=second, r=codes[0]),
    )
    kinds = sorted(answer["__typename"] for answer in answers)
    assert kinds[0] == "LoginSuccess"
    assert kinds[1] in {"OneTimeCodeWrongError", "StepExpiredError"}


async def test_the_mails_reach_the_applicant_in_both_languages(
    execute: Caller, user: User, clock: SettableClock, mailbox: Mailbox
) -> None:
    token = await log_in(execute, user.auth_id)
    secret, codes = await enrol(execute, token, clock)
    await call(execute, VERIFY, t=await challenge(execute, user), r=codes[0])
    clock.advance(STEP)
    token = await two_step_login(execute, user, clock, secret)
    clock.advance(STEP)
    done = await call(execute, DISABLE, token, p=PASSWORD, c=at(secret, clock.now()))
    assert done["__typename"] == "TotpDisabled"
    received = await mailbox.deliver()
    subjects = [str(message["Subject"]) for message in received]
    service = "【在留申請オンラインシステム】"
    assert subjects == [
        f"{service}2段階認証を有効にしました / Two-step login is now on",
        f"{service}リカバリーコードが使用されました / A recovery code was used",
        f"{service}2段階認証を無効にしました / Two-step login is now off",
    ]
    used = body(received[1])
    assert "残り 9 個" in used
    assert "9 unused recovery codes" in used
    for message in received:
        assert message["To"] == user.email
        text = body(message)
        assert secret not in text
        assert all(code not in text for code in codes)


async def test_housekeeping_deletes_code_steps_ended_long_ago(
    execute: Caller,
    user: User,
    clock: SettableClock,
    services: Services,
    enrolled: tuple[str, list[str]],
) -> None:
    from resolvers.housekeeping import purge_stale

    await challenge(execute, user)
    clock.advance(timedelta(days=29))
    await purge_stale(services)
    assert await LoginChallenge.filter(user_id=user.id).count() == 1
    clock.advance(timedelta(days=2))
    await purge_stale(services)
    assert await LoginChallenge.filter(user_id=user.id).count() == 0


async def test_my_security_activity_shows_the_code_step_and_the_settings(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    token = await two_step_login(execute, user, clock, secret)
    data = await execute(
        "query { mySecurityActivity(first: 10) { ... on SecurityActivity "
        "{ edges { node { type label } } } } }",
        token=token,
    )
    shown = [edge["node"] for edge in data["mySecurityActivity"]["edges"]]
    types = [node["type"] for node in shown]
    assert types[:3] == [
        "LOGIN_SUCCEEDED",
        "SESSION_DISPLACED",
        "TWO_STEP_CHALLENGED",
    ]
    assert "TWO_STEP_ENABLED" in types
    assert "TWO_STEP_ENROLLMENT_BEGUN" in types
    labels = {node["type"]: node["label"] for node in shown}
    assert labels["TWO_STEP_ENABLED"] == "2段階認証の有効化"


async def test_the_code_that_confirmed_the_set_up_cannot_log_in(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    token = await log_in(execute, user.auth_id)
    begun = await call(execute, BEGIN, token, p=PASSWORD)
    code = at(begun["secret"], clock.now())
    assert (await call(execute, CONFIRM, token, c=code))["__typename"] == "TotpEnabled"
    clock.advance(timedelta(seconds=5))
    replay = await call(execute, VERIFY, t=await challenge(execute, user), c=code)
    assert replay["code"] == "RASX005E"


# --- what the review found -------------------------------------------------------


async def reset_by_mail(execute: Caller, user: User, password: str) -> None:
    from tests.support import request_reset, reset_password

    requested = await request_reset(execute, user.auth_id, user.email)
    assert requested["__typename"] == "RequestPasswordResetSuccess", requested
    mail = (
        await OutboxMail.filter(user_id=user.id, kind=MailKind.PASSWORD_RESET)
        .order_by("-id")
        .first()
    )
    assert mail is not None
    reset = await reset_password(execute, link_token(parsed(mail)), password)
    assert reset["__typename"] == "ResetPasswordSuccess", reset


async def test_a_password_reset_does_not_buy_a_code_guesser_another_run(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    """Whoever holds the mailbox can reset the password; a reset must not lift
    a lock that wrong codes caused, nor forget wrong codes."""
    secret, _ = enrolled
    bad = f"{(int(at(secret, clock.now())) + 5) % 10**6:06d}"
    token = await challenge(execute, user)
    for _ in range(2):
        await call(execute, VERIFY, t=token, c=bad)
    await reset_by_mail(execute, user, "New-pass-2026")
    assert await failures(user) == 2  # the wrong codes are remembered
    token = await challenge(execute, user, "New-pass-2026")
    answers = [(await call(execute, VERIFY, t=token, c=bad))["code"] for _ in range(3)]
    assert answers == ["RASX005E", "RASX005E", "WZBAM153E"]
    await reset_by_mail(execute, user, "Other-pass-2026")
    locked = await call(execute, LOGIN_STEP, a=user.auth_id, p="Other-pass-2026")
    assert locked["code"] == "WZBAM153E"


async def test_a_reset_still_lifts_a_lock_of_wrong_passwords(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    for _ in range(5):
        await call(execute, LOGIN_STEP, a=user.auth_id, p="Wrong-pass-1")
    assert (await call(execute, LOGIN_STEP, a=user.auth_id, p=PASSWORD))[
        "code"
    ] == "WZBAM153E"
    await reset_by_mail(execute, user, "New-pass-2026")
    assert await failures(user) == 0
    token = await challenge(execute, user, "New-pass-2026")
    done = await call(execute, VERIFY, t=token, c=at(secret, clock.now()))
    assert done["__typename"] == "LoginSuccess"


async def test_regenerating_needs_a_fresh_session_and_mails_the_user(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    token = await two_step_login(execute, user, clock, secret)
    for _ in range(3):  # kept alive, but the secrets were checked long ago
        clock.advance(timedelta(minutes=5))
        assert (await call(execute, ME_TWO_STEP, token))["__typename"] == "User"
    stale = await call(execute, REGENERATE, token, c=at(secret, clock.now()))
    assert stale["code"] == "RASX006E"
    assert await RecoveryCode.filter(user_id=user.id, used_at=None).count() == 10
    fresh = await call(
        execute, REAUTHENTICATE, token, p=PASSWORD, c=at(secret, clock.now())
    )
    assert fresh["__typename"] == "ReauthenticateSuccess"
    clock.advance(STEP)
    done = await call(execute, REGENERATE, token, c=at(secret, clock.now()))
    assert done["__typename"] == "RecoveryCodesRegenerated"
    assert (
        await OutboxMail.filter(
            user_id=user.id, kind=MailKind.RECOVERY_CODES_REGENERATED
        ).count()
        == 1
    )


async def test_a_password_change_voids_open_challenges_before_any_code_counts(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    stolen = await challenge(execute, user)  # someone with the old password
    session = await two_step_login(execute, user, clock, secret)
    clock.advance(STEP)
    changed = await execute(
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) "
        "{ __typename } }",
        {
            "i": {
                "currentPassword": PASSWORD,
                "newPassword": "New-pass-2026",
                "newPasswordConfirm": "New-pass-2026",
            }
        },
        token=session,
    )
    assert changed["changePassword"]["__typename"] == "ChangePasswordSuccess"
    for code in ("000000", at(secret, clock.now())):
        answer = await call(execute, VERIFY, t=stolen, c=code)
        assert answer["code"] == "RASX012E"  # a right code tells nothing either
    assert await failures(user) == 0


async def test_ending_the_sessions_voids_open_challenges(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    from tortoise.transactions import in_transaction

    from models import SERVICE, RevokeReason

    secret, _ = enrolled
    token = await challenge(execute, user)
    async with in_transaction() as conn:
        await UserSession.end_all(
            user.id, RevokeReason.STAFF, now=clock.now(), origin=SERVICE, using_db=conn
        )
    answer = await call(execute, VERIFY, t=token, c=at(secret, clock.now()))
    assert answer["code"] == "RASX012E"


async def test_a_double_submit_uses_up_one_recovery_code_only(
    execute: Caller, user: User, enrolled: tuple[str, list[str]]
) -> None:
    _, codes = enrolled
    token = await challenge(execute, user)
    answers = await asyncio.gather(
        call(execute, VERIFY, t=token, r=codes[0]),
        call(execute, VERIFY, t=token, r=codes[1]),
    )
    kinds = sorted(answer["__typename"] for answer in answers)
    assert kinds == ["LoginSuccess", "StepExpiredError"]
    assert await RecoveryCode.filter(user_id=user.id, used_at=None).count() == 9


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", "12a456", "-"])
async def test_what_cannot_be_a_code_is_malformed_and_not_counted(
    execute: Caller, user: User, enrolled: tuple[str, list[str]], typed: str
) -> None:
    token = await challenge(execute, user)
    answer = await call(execute, VERIFY, t=token, c=typed)
    assert (answer["code"], answer["field"]) == ("WZBAM005E", "code")
    assert await failures(user) == 0


async def test_a_recovery_code_in_the_code_field_works_too(
    execute: Caller, user: User, enrolled: tuple[str, list[str]]
) -> None:
    _, codes = enrolled
    answer = await call(execute, VERIFY, t=await challenge(execute, user), c=codes[0])
    assert answer["__typename"] == "LoginSuccess"


async def test_giving_back_a_held_challenge_never_revives_a_voided_one(
    execute: Caller, user: User, clock: SettableClock, enrolled: tuple[str, list[str]]
) -> None:
    await challenge(execute, user)
    held = await LoginChallenge.get(user_id=user.id)
    assert await LoginChallenge.claim(held.id, now=clock.now())
    assert not await LoginChallenge.claim(held.id, now=clock.now())  # one holder
    await LoginChallenge.void_all(user.id, now=clock.now())
    await LoginChallenge.release(held.id)
    assert not await LoginChallenge.claim(held.id, now=clock.now())
    assert not (await LoginChallenge.get(id=held.id)).usable(clock.now())
