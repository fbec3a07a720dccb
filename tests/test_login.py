"""login: every member of LoginResult, lockout, enumeration and sessions."""

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher as Argon2Hasher

from models import (
    AccountStatus,
    Lang,
    Limits,
    LoginSlot,
    LoginThrottle,
    Reservation,
    User,
    UserSession,
    Verdict,
)
from models.session import RevokeReason, SessionKind
from resolvers import lockout
from resolvers.context import Context, Services
from schema.root import schema
from security.clock import SettableClock
from security.tokens import token_hash
from tests.support import (
    ATTEMPT,
    LOGIN,
    ME,
    PASSWORD,
    PRODUCTION_ARGON2,
    Caller,
    CountingHasher,
    WithPolicy,
    log_in,
    unchanged,
)


async def test_login_succeeds_with_token_and_idle_timeout(
    execute: Caller, user: User
) -> None:
    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    login = data["login"]
    assert login["__typename"] == "LoginSuccess"
    assert login["idleTimeoutSeconds"] == 1800
    assert login["user"] == {"authId": user.auth_id}
    assert len(login["token"]) >= 43  # 256 bits, URL-safe base64


async def test_login_stores_only_the_token_hash(execute: Caller, user: User) -> None:
    token = await log_in(execute, user.auth_id)

    session = await UserSession.get(user_id=user.id)
    assert session.token_hash == token_hash(token)
    assert token not in session.token_hash
    assert session.kind is SessionKind.SESSION


async def test_login_records_login_times(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    await log_in(execute, user.auth_id)
    first = (await User.get(id=user.id)).last_login_at
    clock.advance(timedelta(hours=1))
    await log_in(execute, user.auth_id)

    again = await User.get(id=user.id)
    assert first is not None
    assert again.previous_login_at == first
    assert again.last_login_at == first + timedelta(hours=1)


async def test_login_folds_full_width_and_lower_case_auth_id(
    execute: Caller, user: User
) -> None:
    typed = user.auth_id.lower().translate(
        {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # to full-width forms
    )
    data = await execute(LOGIN, {"authId": f" {typed} ", "password": PASSWORD})

    assert data["login"]["__typename"] == "LoginSuccess"


@pytest.mark.parametrize(
    ("auth_id", "password", "fields"),
    [
        ("", PASSWORD, ["authId"]),
        ("ABCDEFGHJK", "", ["password"]),
        ("  ", "", ["authId", "password"]),
    ],
)
async def test_login_rejects_empty_items_without_counting(
    execute: Caller,
    hasher: CountingHasher,
    auth_id: str,
    password: str,
    fields: list[str],
) -> None:
    data = await execute(LOGIN, {"authId": auth_id, "password": password})

    login = data["login"]
    assert login["__typename"] == "RequiredFieldError"
    assert login["code"] == "WZBAM001E"
    assert login["field"] == fields[0]
    assert login["fields"] == fields
    assert await LoginThrottle.all().count() == 0
    assert hasher.verifications == 0


async def test_login_rejects_wrong_password_and_changes_nothing(
    execute: Caller, user: User
) -> None:
    async with unchanged():
        data = await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})

    login = data["login"]
    assert login["__typename"] == "InvalidCredentialsError"
    assert login["code"] == "WZBAM005E"
    assert (
        login["message"]
        == "認証ID又はパスワードの入力内容に誤りがあります。再度入力してください。"
    )
    assert (await User.get(id=user.id)).last_login_at is None
    assert await UserSession.all().count() == 0
    throttle = await LoginThrottle.get(key=user.auth_id)
    assert throttle.failures == 1


async def test_unknown_auth_id_gets_the_same_answer_and_the_same_work(
    execute: Caller, user: User, hasher: CountingHasher
) -> None:
    wrong = await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
    assert hasher.verifications == 1
    unknown = await execute(LOGIN, {"authId": "ZZZZZZZZZZ", "password": "Wrong2026$"})

    assert unknown == wrong
    # An argon2 verification (against the dummy hash) happened for the unknown ID too.
    assert hasher.verifications == 2
    assert (await LoginThrottle.get(key="ZZZZZZZZZZ")).failures == 1


async def test_user_without_password_cannot_log_in(execute: Caller, user: User) -> None:
    await User.filter(id=user.id).update(password_hash=None)

    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert data["login"]["__typename"] == "InvalidCredentialsError"


@pytest.mark.parametrize(
    "auth_id",
    ["A" * 33, "A" * 65, "ﷺ" * 3, "AB\u0000CD", "AB\ud800CD", "AB-CD", "山田"],
)
async def test_impossible_auth_ids_answer_005e_at_once(
    execute: Caller, hasher: CountingHasher, auth_id: str
) -> None:
    data = await execute(LOGIN, {"authId": auth_id, "password": PASSWORD})

    assert data["login"]["__typename"] == "InvalidCredentialsError"
    # Issued IDs are short ASCII letters and digits (public knowledge): nothing
    # else is counted, looked up or hashed.
    assert hasher.verifications == 0
    assert await LoginThrottle.all().count() == 0


async def test_unencodable_password_is_a_counted_wrong_password(
    execute: Caller, user: User
) -> None:
    data = await execute(LOGIN, {"authId": user.auth_id, "password": "ab\ud800"})

    assert data["login"]["code"] == "WZBAM005E"
    assert (await LoginThrottle.get(key=user.auth_id)).failures == 1


async def test_a_long_password_is_checked_like_any_other(
    execute: Caller, user: User
) -> None:
    await _fail(execute, user.auth_id, 5)

    data = await execute(LOGIN, {"authId": user.auth_id, "password": "a1$" * 1000})

    assert data["login"]["code"] == "WZBAM153E"


async def _fail(execute: Caller, auth_id: str, times: int) -> list[str]:
    codes = []
    for _ in range(times):
        data = await execute(LOGIN, {"authId": auth_id, "password": "Wrong2026$"})
        codes.append(data["login"]["code"])
    return codes


async def test_fifth_consecutive_failure_locks_the_account(
    execute: Caller, user: User
) -> None:
    codes = await _fail(execute, user.auth_id, 5)

    assert codes == ["WZBAM005E"] * 4 + ["WZBAM153E"]
    throttle = await LoginThrottle.get(key=user.auth_id)
    assert throttle.failures == 5
    assert throttle.locked_until == execute.services.clock.now() + timedelta(hours=24)


async def test_locked_account_refuses_the_right_password_without_checking_it(
    execute: Caller, user: User, hasher: CountingHasher
) -> None:
    await _fail(execute, user.auth_id, 5)
    checked = hasher.verifications

    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert data["login"]["__typename"] == "AccountLockedError"
    assert data["login"]["code"] == "WZBAM153E"
    assert hasher.verifications == checked
    assert await UserSession.all().count() == 0


async def test_lock_lifts_by_itself_after_24_hours(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    await _fail(execute, user.auth_id, 5)
    clock.advance(timedelta(hours=23, minutes=59))
    still = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    clock.advance(timedelta(minutes=1))

    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert still["login"]["code"] == "WZBAM153E"
    assert data["login"]["__typename"] == "LoginSuccess"
    cleared = await LoginThrottle.get(key=user.auth_id)
    assert (cleared.failures, cleared.locked_until) == (0, None)


async def test_failures_after_an_expired_lock_count_from_one(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    await _fail(execute, user.auth_id, 5)
    clock.advance(timedelta(hours=24))

    codes = await _fail(execute, user.auth_id, 4)

    assert codes == ["WZBAM005E"] * 4
    assert (await LoginThrottle.get(key=user.auth_id)).failures == 4


async def test_a_correct_login_resets_the_consecutive_failures(
    execute: Caller, user: User
) -> None:
    await _fail(execute, user.auth_id, 4)
    await log_in(execute, user.auth_id)

    codes = await _fail(execute, user.auth_id, 4)

    assert codes == ["WZBAM005E"] * 4


async def test_unknown_auth_id_locks_exactly_like_a_real_one(
    execute: Caller, user: User
) -> None:
    real = await _fail(execute, user.auth_id, 6)
    unknown = await _fail(execute, "QQQQQQQQQQ", 6)

    assert unknown == real == ["WZBAM005E"] * 4 + ["WZBAM153E"] * 2


LOCKED_LOGIN = """
mutation($authId: String!, $password: String!) {
  login(input: {authId: $authId, password: $password}) {
    __typename
    ... on Error { code kind }
    ... on AccountLockedError { retryAfterSeconds }
    ... on TooManyRequestsError { retryAfterSeconds }
  }
}
"""


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
async def test_a_lock_says_how_long_until_it_lifts(
    execute: Caller, user: User, clock: SettableClock, known: bool
) -> None:
    auth_id = user.auth_id if known else "QQQQQQQQQQ"
    wrong = {"authId": auth_id, "password": "Wrong2026$"}
    for _ in range(4):
        await execute(LOCKED_LOGIN, wrong)
    locking = (await execute(LOCKED_LOGIN, wrong))["login"]
    clock.advance(timedelta(hours=1, seconds=30))
    later = (await execute(LOCKED_LOGIN, {**wrong, "password": PASSWORD}))["login"]

    assert locking == {
        "__typename": "AccountLockedError",
        "code": "WZBAM153E",
        "kind": "ACCOUNT_LOCKED",
        "retryAfterSeconds": 24 * 3600,
    }
    assert later["retryAfterSeconds"] == 23 * 3600 - 30


async def test_a_lock_answer_carries_retry_after_over_http(
    http: httpx.AsyncClient, user: User
) -> None:
    wrong = {"authId": user.auth_id, "password": "Wrong2026$"}
    answers = [
        await http.post("/graphql", json={"query": LOCKED_LOGIN, "variables": wrong})
        for _ in range(5)
    ]

    assert [a.headers.get("retry-after") for a in answers] == [None] * 4 + ["86400"]
    assert answers[4].json()["data"]["login"]["retryAfterSeconds"] == 86400


async def test_lockout_threshold_and_duration_are_settings(
    user: User, clock: SettableClock, with_policy: WithPolicy
) -> None:
    strict = Caller(
        services=with_policy(lockout_threshold=2, lockout_duration=timedelta(seconds=3))
    )
    codes = await _fail(strict, user.auth_id, 3)
    clock.advance(timedelta(seconds=3))

    data = await strict(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert codes == ["WZBAM005E", "WZBAM153E", "WZBAM153E"]
    assert data["login"]["__typename"] == "LoginSuccess"


async def test_twenty_parallel_wrong_logins_count_exactly_to_the_threshold(
    execute: Caller, user: User, hasher: CountingHasher
) -> None:
    attempts = [
        execute(LOGIN, {"authId": user.auth_id, "password": f"Wrong{n}2026$"})
        for n in range(20)
    ]
    results = await asyncio.gather(*attempts)

    codes = sorted(r["login"]["code"] for r in results)
    assert codes.count("WZBAM005E") == 4
    assert codes.count("WZBAM153E") == 16
    # No more passwords were tried than the threshold allows.
    assert hasher.verifications == 5
    throttle = await LoginThrottle.get(key=user.auth_id)
    assert throttle.failures == 5
    assert throttle.locked_until is not None


@pytest.mark.parametrize(
    ("status", "code", "typename"),
    [
        (AccountStatus.SUSPENDED, "WZBAM155E", "AccountSuspendedError"),
        (AccountStatus.DELETED, "WZBAM156E", "AccountDeletedError"),
        (AccountStatus.INVALID, "WZBAM150E", "UserInfoInvalidError"),
    ],
)
async def test_account_status_is_told_only_after_a_correct_password(
    execute: Caller, user: User, status: AccountStatus, code: str, typename: str
) -> None:
    await User.filter(id=user.id).update(status=status)

    wrong = await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
    right = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert wrong["login"]["code"] == "WZBAM005E"
    assert right["login"]["__typename"] == typename
    assert right["login"]["code"] == code
    assert await UserSession.all().count() == 0


async def test_expired_usage_application_answers_151e(
    execute: Caller, user: User
) -> None:
    now = execute.services.clock.now()
    await User.filter(id=user.id).update(usage_expires_at=now - timedelta(seconds=1))

    wrong = await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
    right = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert wrong["login"]["code"] == "WZBAM005E"
    assert right["login"]["__typename"] == "UsageExpiredError"
    assert right["login"]["code"] == "WZBAM151E"


async def test_expired_password_answers_158e_with_a_change_ticket(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    clock.advance(timedelta(days=365))

    wrong = await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert wrong["login"]["code"] == "WZBAM005E"
    login = data["login"]
    assert login["__typename"] == "PasswordExpiredError"
    assert login["code"] == "WZBAM158E"
    ticket = await UserSession.get(token_hash=token_hash(login["changeTicket"]))
    assert ticket.kind is SessionKind.CHANGE_TICKET
    assert not await UserSession.filter(kind=SessionKind.SESSION).exists()


async def test_change_ticket_is_refused_everywhere_else(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    clock.advance(timedelta(days=366))
    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    ticket = data["login"]["changeTicket"]

    me = await execute(ME, token=ticket)
    menu = await execute(
        "query { menu { __typename ... on Error { code } } }", token=ticket
    )

    assert me["me"] == {"__typename": "PasswordExpiredError", "code": "WZBAM158E"}
    assert menu["menu"] == {"__typename": "PasswordExpiredError", "code": "WZBAM158E"}


async def test_login_rehashes_when_argon2_parameters_changed(
    user: User, services: Services, real_hasher: CountingHasher
) -> None:
    # Production's parameters: the stored hash must come out with them.
    production = Caller(services=replace(services, hasher=real_hasher))
    weaker = Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1)
    await User.filter(id=user.id).update(password_hash=weaker.hash(PASSWORD))

    await log_in(production, user.auth_id)

    stored = (await User.get(id=user.id)).password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not real_hasher.needs_rehash(stored)


async def test_a_second_login_displaces_the_first_session(
    execute: Caller, user: User
) -> None:
    first = await log_in(execute, user.auth_id)
    second = await log_in(execute, user.auth_id)

    old = await execute(ME, token=first)
    new = await execute(ME, token=second)

    assert old["me"] == {"__typename": "DuplicateLoginError", "code": "WZBAM099E"}
    assert new["me"] == {"__typename": "User", "authId": user.auth_id}
    displaced = await UserSession.get(token_hash=token_hash(first))
    assert displaced.revoked_reason is RevokeReason.DISPLACED


async def test_parallel_correct_logins_beyond_the_threshold_all_succeed(
    execute: Caller, user: User
) -> None:
    tokens = await asyncio.gather(*(log_in(execute, user.auth_id) for _ in range(8)))

    assert len(set(tokens)) == 8
    active = await UserSession.filter(user_id=user.id, revoked_at=None).count()
    assert active == 1
    assert len(lockout.attempts) == 0  # the per-ID locks are gone again
    cleared = await LoginThrottle.get(key=user.auth_id)
    assert (cleared.failures, cleared.locked_until) == (0, None)


async def test_double_submitted_correct_password_after_four_typos_succeeds_twice(
    execute: Caller, user: User
) -> None:
    await _fail(execute, user.auth_id, 4)

    results = await asyncio.gather(
        execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD}),
        execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD}),
    )

    assert [r["login"]["__typename"] for r in results] == ["LoginSuccess"] * 2


async def test_an_attempt_waits_for_slots_held_in_flight_then_gives_up(
    execute: Caller,
    user: User,
    hasher: CountingHasher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lockout, "BUSY_WAIT_SECONDS", 0.2)
    limits = Limits(threshold=5, lock_for=timedelta(hours=24))
    now = execute.services.clock.now()
    for _ in range(5):  # five attempts in another process, still checking
        granted, _slot = await LoginThrottle.reserve(
            user.auth_id, now=now, limits=limits, attempt=ATTEMPT
        )
        assert granted is Reservation.GRANTED
    checked = hasher.verifications

    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert data["login"]["__typename"] == "TooManyRequestsError"
    assert data["login"]["code"] == "RASX004E"
    assert hasher.verifications == checked


async def test_slots_of_dead_attempts_are_freed_after_30_seconds(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    limits = Limits(threshold=5, lock_for=timedelta(hours=24))
    now = clock.now()
    for _ in range(5):
        await LoginThrottle.reserve(
            user.auth_id, now=now, limits=limits, attempt=ATTEMPT
        )
    clock.advance(timedelta(seconds=30))

    data = await execute(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert data["login"]["__typename"] == "LoginSuccess"


async def test_dead_slots_expire_one_by_one_while_logins_keep_coming(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    limits = Limits(threshold=5, lock_for=timedelta(hours=24))
    for _ in range(4):  # attempts whose process died
        await LoginThrottle.reserve(
            user.auth_id, now=clock.now(), limits=limits, attempt=ATTEMPT
        )
    for _ in range(2):
        clock.advance(timedelta(seconds=20))
        await log_in(execute, user.auth_id)

    granted = [
        (
            await LoginThrottle.reserve(
                user.auth_id, now=clock.now(), limits=limits, attempt=ATTEMPT
            )
        )[0]
        for _ in range(5)
    ]

    assert granted == [Reservation.GRANTED] * 5


async def test_a_late_result_neither_extends_nor_lifts_a_lock(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    limits = Limits(threshold=5, lock_for=timedelta(hours=24))
    _, slow_wrong = await LoginThrottle.reserve(
        user.auth_id, now=clock.now(), limits=limits, attempt=ATTEMPT
    )
    _, slow_right = await LoginThrottle.reserve(
        user.auth_id, now=clock.now(), limits=limits, attempt=ATTEMPT
    )
    clock.advance(timedelta(seconds=31))
    await _fail(execute, user.auth_id, 5)
    locked_until = (await LoginThrottle.get(key=user.auth_id)).locked_until
    clock.advance(timedelta(minutes=1))
    assert slow_wrong is not None
    assert slow_right is not None

    late_wrong = await LoginThrottle.finish(
        user.auth_id,
        slow_wrong,
        correct=False,
        now=clock.now(),
        limits=limits,
        attempt=ATTEMPT,
    )
    late_right = await LoginThrottle.finish(
        user.auth_id,
        slow_right,
        correct=True,
        now=clock.now(),
        limits=limits,
        attempt=ATTEMPT,
    )

    assert late_wrong is Verdict.LOCKED
    assert late_right is Verdict.LOCKED
    row = await LoginThrottle.get(key=user.auth_id)
    assert row.locked_until == locked_until
    assert row.failures == 5


async def _wrong_guess(key: str, now: datetime, limits: Limits) -> Reservation:
    outcome, slot = await LoginThrottle.reserve(
        key, now=now, limits=limits, attempt=ATTEMPT
    )
    if slot is not None:
        await asyncio.sleep(0)
        await LoginThrottle.finish(
            key, slot, correct=False, now=now, limits=limits, attempt=ATTEMPT
        )
    return outcome


async def test_parallel_attempts_from_many_processes_get_threshold_checks(
    execute: Caller,
) -> None:
    # Straight at the model, as attempts from several processes would arrive
    # (within one process they also queue on a per-ID lock).
    limits = Limits(threshold=5, lock_for=timedelta(hours=24))
    now = execute.services.clock.now()

    outcomes = await asyncio.gather(
        *(_wrong_guess("RACEKEY", now, limits) for _ in range(60))
    )

    assert outcomes.count(Reservation.GRANTED) == 5
    row = await LoginThrottle.get(key="RACEKEY")
    assert (row.failures, row.locked(now)) == (5, True)


async def test_housekeeping_racing_attempts_never_breaks_them(
    execute: Caller,
) -> None:
    # Purging (here: everything idle for 0 s) while attempts run must neither
    # crash an attempt nor let more than the threshold through at once.
    limits = Limits(threshold=5, lock_for=timedelta(hours=24))
    now = execute.services.clock.now()

    async def purge() -> Reservation:
        later = now + timedelta(seconds=1)
        await LoginThrottle.purge(now=later, idle_for=timedelta(0))
        return Reservation.BUSY

    outcomes = await asyncio.gather(
        *(_wrong_guess("RACEKEY", now, limits) if n % 4 else purge() for n in range(80))
    )

    assert Reservation.GRANTED in outcomes
    # Every granted attempt gave its slot back, even where its counter was purged.
    assert await LoginSlot.all().count() == 0


async def test_one_request_may_hold_only_one_login(execute: Caller, user: User) -> None:
    document = """
    mutation {
      a: login(input: {authId: "AAAAAAAAAA", password: "x"}) { __typename }
      b: login(input: {authId: "BBBBBBBBBB", password: "y"}) { __typename }
    }
    """
    context = Context(services=execute.services)

    result = await schema.execute(document, context_value=context)

    assert result.data is None
    assert result.errors is not None
    assert "at most one `login`" in result.errors[0].message
    assert await LoginThrottle.all().count() == 0


async def test_login_errors_answer_in_english_when_asked(
    execute: Caller, user: User
) -> None:
    data = await execute(
        LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"}, lang=Lang.EN
    )

    assert data["login"]["message"] == (
        "What you entered in Auth ID or password is incorrect. Please enter it again."
    )


async def test_login_logs_auth_ids_but_never_passwords_or_tokens(
    execute: Caller, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG"):
        await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
        await execute(LOGIN, {"authId": "Sakura2026$", "password": "x"})
        token = await log_in(execute, user.auth_id)

    assert f"auth_id={user.auth_id}" in caplog.text
    assert f"login: user_id={user.id}" in caplog.text
    for secret in ("Wrong2026$", "Sakura2026$", PASSWORD, token):
        assert secret not in caplog.text


class RehashRacingHasher(CountingHasher):
    """Wants every hash re-hashed, and lets "another process" store its own
    re-hash of the same password just before this one tries to."""

    def needs_rehash(self, encoded: str) -> bool:
        return True

    async def hash(self, password: str) -> str:
        theirs = await super().hash(password)
        await User.filter(auth_id=self.racing).update(password_hash=theirs)
        return await super().hash(password)

    racing = ""


async def test_a_correct_login_survives_another_process_rehashing_first(
    execute: Caller, user: User, services: Services
) -> None:
    hasher = RehashRacingHasher(**PRODUCTION_ARGON2)
    hasher.racing = user.auth_id
    racing = Caller(services=replace(services, hasher=hasher))

    data = await racing(LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    assert data["login"]["__typename"] == "LoginSuccess"
