"""Staff login at /admin/graphql (real HTTP): the three items, the TOTP window
and its replay rule, one answer for every wrong credential, the staff lockout,
disabled staff, the staff session's idle limit and logout, the separation from
the public API, and what the audit trail keeps (never a password or a code)."""

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from models import AuditEvent, AuditType, Staff, StaffRole, User
from resolvers.context import Services
from resolvers.operator import create_staff
from security.clock import SettableClock
from security.passwords import Argon2idHasher
from security.tokens import new_token
from tests.admin_support import (
    STAFF_LOGIN,
    STAFF_PASSWORD,
    Admin,
    code_at,
    make_staff,
)
from tests.support import LOGIN, ME, PASSWORD

STEP = timedelta(seconds=30)
WRONG_PASSWORD = "Machigai2026$x"
# Any staff read: it needs a staff session, whatever the role.
READ = "{ notices { __typename ... on Error { code } } }"
USERS = "{ users { __typename ... on Error { code } } }"
LOGOUT = """
mutation {
  staffLogout { __typename ... on Error { code } ... on StaffLogoutSuccess { ok } }
}
"""
DISABLE = """
mutation($l: String!, $r: String!) {
  disableStaff(loginId: $l, reason: $r) {
    __typename
    ... on StaffActionSuccess { staff { loginId disabled } }
    ... on Error { code }
  }
}
"""
INTROSPECTION = """
{ __schema {
    queryType { fields { name } }
    mutationType { fields { name } }
    types { name }
} }
"""
NOT_AUTHENTICATED = {"__typename": "NotAuthenticatedError", "code": "RASX002E"}
SESSION_EXPIRED = {"__typename": "SessionExpiredError", "code": "RASX001E"}
NOTICES = {"__typename": "ManagedNoticeList"}


# --- helpers -------------------------------------------------------------------


async def staff_login(
    admin: Admin, login_id: str, password: str, code: str, lang: str = "ja"
) -> dict[str, Any]:
    """The ``staffLogin`` answer for exactly these three items."""
    data = await admin(
        STAFF_LOGIN,
        {"i": {"loginId": login_id, "password": password, "totpCode": code}},
        lang=lang,
    )
    result: dict[str, Any] = data["staffLogin"]
    return result


async def read(admin: Admin, token: str) -> dict[str, Any]:
    """What a staff read (``notices``) answers with ``token``."""
    result: dict[str, Any] = (await admin(READ, token=token))["notices"]
    return result


def valid_codes(staff: Staff, moment: datetime) -> set[str]:
    return {code_at(staff, moment + k * STEP) for k in (-1, 0, 1)}


def wrong_code(staff: Staff, moment: datetime) -> str:
    """Six digits that are none of the codes accepted at ``moment``."""
    valid = valid_codes(staff, moment)
    return next(c for c in (str(d) * 6 for d in range(10)) if c not in valid)


def code_answer(result: dict[str, Any]) -> str:
    assert "code" in result, result
    code: str = result["code"]
    return code


async def public_post(
    http: httpx.AsyncClient,
    document: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """A call of the public API (/graphql)."""
    return await Admin(http, token, path="/graphql")(document, variables)


async def staff_audit(type: AuditType) -> list[AuditEvent]:
    return await AuditEvent.filter(type=type).order_by("id")


# --- fixtures ------------------------------------------------------------------


@pytest.fixture
async def viewer(db: str, services: Services) -> Staff:
    """The viewer of conftest, with a name of its own (answers show it)."""
    return await make_staff(services, "view.only", StaffRole.VIEWER, "ETSURAN HANAKO")


# --- 1. the three items, a right login ---------------------------------------------


async def test_every_empty_item_is_named(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    code = code_at(operator, clock.now())

    none = await staff_login(admin, "", "", "")
    no_password = await staff_login(admin, operator.login_id, "   ", code)
    no_code = await staff_login(admin, operator.login_id, STAFF_PASSWORD, " ")
    no_id = await staff_login(admin, "", STAFF_PASSWORD, code)

    assert (none["__typename"], none["code"]) == ("RequiredFieldError", "WZBAM001E")
    assert none["fields"] == ["loginId", "password", "totpCode"]
    assert (no_password["code"], no_password["fields"]) == ("WZBAM001E", ["password"])
    assert (no_code["code"], no_code["fields"]) == ("WZBAM001E", ["totpCode"])
    assert (no_id["code"], no_id["fields"]) == ("WZBAM001E", ["loginId"])
    # Nothing was checked: no failure counted, the code is still unused.
    assert (await admin.login(operator, clock.now()))["__typename"] == (
        "StaffLoginSuccess"
    )


async def test_right_login_answers_the_staff_member_and_a_working_token(
    http: httpx.AsyncClient, viewer: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)

    result = await admin.login(viewer, clock.now())

    assert result["__typename"] == "StaffLoginSuccess"
    assert result["staff"] == {
        "loginId": "view.only",
        "name": "ETSURAN HANAKO",
        "role": "VIEWER",
    }
    assert result["idleTimeoutSeconds"] == 900
    token = result["token"]
    assert await read(admin, token) == NOTICES
    users = (await admin(USERS, token=token))["users"]
    assert users == {"__typename": "ManagedUserConnection"}
    # Without the token the same reads are refused.
    assert (await admin(READ))["notices"] == NOT_AUTHENTICATED


# --- 2. the TOTP window ----------------------------------------------------------


async def test_codes_of_the_previous_and_the_next_step_are_accepted(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    now = clock.now()

    previous = await admin.login(operator, now - STEP)
    following = await admin.login(operator, now + STEP)

    assert previous["__typename"] == "StaffLoginSuccess", previous
    assert following["__typename"] == "StaffLoginSuccess", following


async def test_codes_two_steps_away_are_refused(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    now = clock.now()
    old, ahead = code_at(operator, now - 2 * STEP), code_at(operator, now + 2 * STEP)
    assert not {old, ahead} & valid_codes(operator, now)  # (one in a million)

    too_old = await staff_login(admin, operator.login_id, STAFF_PASSWORD, old)
    too_new = await staff_login(admin, operator.login_id, STAFF_PASSWORD, ahead)

    assert code_answer(too_old) == "WZBAM005E"
    assert code_answer(too_new) == "WZBAM005E"
    # Neither was taken as used: the current code still works.
    assert (await admin.login(operator, now))["__typename"] == "StaffLoginSuccess"


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda code: code[:5], id="five-digits"),
        pytest.param(lambda code: code[:5] + "x", id="a-letter"),
        pytest.param(lambda code: code + "0", id="seven-digits"),
        pytest.param(lambda code: "abcdef", id="no-digits"),
    ],
)
async def test_codes_that_are_not_six_digits_are_refused(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock, mangle: Any
) -> None:
    admin = Admin(http)
    code = mangle(code_at(operator, clock.now()))

    result = await staff_login(admin, operator.login_id, STAFF_PASSWORD, code)

    assert code_answer(result) == "WZBAM005E"
    assert result["__typename"] == "InvalidCredentialsError"


# --- 3. replay -------------------------------------------------------------------


async def test_a_code_is_accepted_once_even_within_its_step(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    first = await admin.login(operator, clock.now())
    assert first["__typename"] == "StaffLoginSuccess"
    clock.advance(timedelta(seconds=10))  # the same 30-s step

    again = await admin.login(operator, clock.now())

    assert code_answer(again) == "WZBAM005E"
    # The first session is untouched by the refused replay.
    assert await read(admin, first["token"]) == NOTICES
    clock.advance(timedelta(seconds=20))  # the next step: a new code
    assert (await admin.login(operator, clock.now()))["__typename"] == (
        "StaffLoginSuccess"
    )


async def test_a_code_of_an_earlier_step_is_refused_after_a_later_one(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    now = clock.now()
    ahead = await admin.login(operator, now + STEP)
    assert ahead["__typename"] == "StaffLoginSuccess"

    current = await admin.login(operator, now)  # never used, but earlier
    previous = await admin.login(operator, now - STEP)

    assert code_answer(current) == "WZBAM005E"
    assert code_answer(previous) == "WZBAM005E"
    clock.advance(STEP)  # the used step is now the current one: still used
    assert code_answer(await admin.login(operator, clock.now())) == "WZBAM005E"
    clock.advance(STEP)
    assert (await admin.login(operator, clock.now()))["__typename"] == (
        "StaffLoginSuccess"
    )


# --- 4. one answer for every wrong credential -------------------------------------


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_every_wrong_credential_gets_the_same_answer(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock, lang: str
) -> None:
    admin = Admin(http)
    now = clock.now()
    code = code_at(operator, now)

    unknown = await staff_login(admin, "nobody.here", STAFF_PASSWORD, code, lang)
    wrong_password = await staff_login(
        admin, operator.login_id, WRONG_PASSWORD, code, lang
    )
    wrong = await staff_login(
        admin, operator.login_id, STAFF_PASSWORD, wrong_code(operator, now), lang
    )
    not_an_id = await staff_login(admin, "ops sato@x", STAFF_PASSWORD, code, lang)

    assert unknown["__typename"] == "InvalidCredentialsError"
    assert unknown["code"] == "WZBAM005E"
    assert unknown["message"]
    assert unknown["remedy"]
    assert wrong_password == unknown
    assert wrong == unknown
    assert not_an_id == unknown


@pytest.mark.parametrize("length", [3, 26])
async def test_a_staff_member_with_the_shortest_or_longest_login_id_logs_in(
    http: httpx.AsyncClient, services: Services, clock: SettableClock, length: int
) -> None:
    """Login IDs have 3 to 26 characters (the lockout key, "staff:" and the
    ID, fits its column); every such staff member can log in."""
    login_id = ("kanri.desk.with.a.long.login.id." * 2)[: length - 1] + "9"
    assert len(login_id) == length
    staff = await make_staff(services, login_id, StaffRole.VIEWER)

    result = await Admin(http).login(staff, clock.now())

    assert result["__typename"] == "StaffLoginSuccess", result
    assert result["staff"]["loginId"] == login_id


async def test_a_login_id_of_27_characters_cannot_be_created(
    db: str, services: Services
) -> None:
    refused = await create_staff(
        services,
        login_id="n" * 27,
        name="KANRI",
        role=StaffRole.VIEWER,
        password=STAFF_PASSWORD,
    )

    assert isinstance(refused, list)
    assert [problem.field for problem in refused] == ["login-id"]
    assert not await Staff.exists()


async def test_an_unknown_long_login_id_gets_the_usual_answer(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    code = code_at(operator, clock.now())
    usual = await staff_login(admin, "nobody.here", STAFF_PASSWORD, code)

    long = await staff_login(admin, "n" * 27, STAFF_PASSWORD, code)

    assert long == usual


# --- 5. lockout -------------------------------------------------------------------


async def test_five_failures_lock_the_staff_login_id_only(
    http: httpx.AsyncClient, operator: Staff, viewer: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    answers = []
    for n in range(5):
        clock.advance(STEP)
        now = clock.now()
        if n % 2 == 0:
            result = await admin.login(operator, now, password=WRONG_PASSWORD)
        else:
            result = await staff_login(
                admin, operator.login_id, STAFF_PASSWORD, wrong_code(operator, now)
            )
        answers.append(code_answer(result))

    assert answers == ["WZBAM005E"] * 4 + ["WZBAM153E"]
    clock.advance(STEP)
    right = await admin.login(operator, clock.now())
    assert (right["__typename"], right["code"]) == ("AccountLockedError", "WZBAM153E")
    # The lock lifts 24 hours after the fifth failure, one STEP ago.
    lifts_in = timedelta(hours=24) - STEP
    assert right["retryAfterSeconds"] == lifts_in.total_seconds()
    # Typed differently, the login ID is the same one (and stays locked).
    shouted = await staff_login(
        admin, " OPS.SATO ", STAFF_PASSWORD, code_at(operator, clock.now() + STEP)
    )
    assert code_answer(shouted) == "WZBAM153E"
    # Another staff member is not locked.
    other = await admin.login(viewer, clock.now())
    assert other["__typename"] == "StaffLoginSuccess", other


async def test_a_right_login_clears_the_run_of_failures(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    for _ in range(4):
        await admin.login(operator, clock.now(), password=WRONG_PASSWORD)
    assert (await admin.login(operator, clock.now()))["__typename"] == (
        "StaffLoginSuccess"
    )
    for _ in range(4):
        result = await admin.login(operator, clock.now(), password=WRONG_PASSWORD)
        assert code_answer(result) == "WZBAM005E"
    clock.advance(STEP)
    assert (await admin.login(operator, clock.now()))["__typename"] == (
        "StaffLoginSuccess"
    )


# --- 6. disabled staff ------------------------------------------------------------


async def test_a_staff_member_disabled_by_an_admin_cannot_log_in(
    http: httpx.AsyncClient,
    operator: Staff,
    admin_staff: Staff,
    clock: SettableClock,
) -> None:
    staff_session = await Admin(http).logged_in(operator, clock.now())
    root = await Admin(http).logged_in(admin_staff, clock.now())

    disabled = (await root(DISABLE, {"l": operator.login_id, "r": "退職のため"}))[
        "disableStaff"
    ]

    assert disabled == {
        "__typename": "StaffActionSuccess",
        "staff": {"loginId": "ops.sato", "disabled": True},
    }
    assert await read(staff_session, staff_session.token or "") == NOT_AUTHENTICATED
    clock.advance(STEP)
    again = await Admin(http).login(operator, clock.now())
    assert (again["__typename"], again["code"]) == (
        "AccountSuspendedError",
        "WZBAM155E",
    )
    assert await read(root, root.token or "") == NOTICES


async def test_a_disabled_staff_members_token_and_login_are_refused(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    token = (await admin.logged_in(operator, clock.now())).token or ""
    await Staff.filter(id=operator.id).update(disabled_at=clock.now())
    clock.advance(STEP)

    login = await admin.login(operator, clock.now())
    wrong = await admin.login(operator, clock.now(), password=WRONG_PASSWORD)

    assert code_answer(login) == "WZBAM155E"
    assert code_answer(wrong) == "WZBAM005E"  # 155E only after right credentials
    assert await read(admin, token) == NOT_AUTHENTICATED


# --- 7. the staff session's idle limit ---------------------------------------------


async def test_fifteen_idle_minutes_end_a_staff_session(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    token = (await admin.logged_in(operator, clock.now())).token or ""
    clock.advance(timedelta(minutes=15))

    expired = await read(admin, token)

    assert expired == SESSION_EXPIRED
    assert await read(admin, token) == NOT_AUTHENTICATED  # ended, not revived
    (event,) = await staff_audit(AuditType.SESSION_TIMED_OUT)
    assert event.staff_id == operator.id


async def test_a_request_within_fifteen_minutes_keeps_the_session(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    token = (await admin.logged_in(operator, clock.now())).token or ""

    answers = []
    for _ in range(3):
        clock.advance(timedelta(minutes=14))
        answers.append(await read(admin, token))

    assert answers == [NOTICES] * 3
    clock.advance(timedelta(minutes=14, seconds=59))
    assert await read(admin, token) == NOTICES
    clock.advance(timedelta(minutes=15))
    assert await read(admin, token) == SESSION_EXPIRED


async def test_logging_in_again_ends_the_older_session(
    http: httpx.AsyncClient, operator: Staff, viewer: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    first = (await admin.logged_in(operator, clock.now())).token or ""
    someone_else = (await admin.logged_in(viewer, clock.now())).token or ""
    clock.advance(STEP)

    second = (await admin.logged_in(operator, clock.now())).token or ""

    assert await read(admin, first) == NOT_AUTHENTICATED
    assert await read(admin, second) == NOTICES
    assert await read(admin, someone_else) == NOTICES  # only the same staff


# --- 8. logout --------------------------------------------------------------------


async def test_logout_ends_the_staff_session(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    token = admin.token or ""

    out = (await admin(LOGOUT))["staffLogout"]

    assert out == {"__typename": "StaffLogoutSuccess", "ok": True}
    assert await read(admin, token) == NOT_AUTHENTICATED
    (event,) = await staff_audit(AuditType.LOGGED_OUT)
    assert (event.staff_id, event.detail) == (operator.id, "staff")


async def test_logout_with_a_bad_token_is_not_authenticated(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    token = (await admin.logged_in(operator, clock.now())).token or ""

    unknown = (await admin(LOGOUT, token=new_token()))["staffLogout"]
    forged = (await admin(LOGOUT, token="forged"))["staffLogout"]
    absent = (await admin(LOGOUT))["staffLogout"]

    assert unknown == NOT_AUTHENTICATED
    assert forged == NOT_AUTHENTICATED
    assert absent == NOT_AUTHENTICATED
    assert await read(admin, token) == NOTICES  # nobody else was logged out


# --- 9. separation from the public API ----------------------------------------------


async def test_an_applicants_token_is_nothing_at_the_admin_api(
    http: httpx.AsyncClient, user: User
) -> None:
    login = (
        await public_post(http, LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    )["login"]
    assert login["__typename"] == "LoginSuccess", login
    token = login["token"]
    admin = Admin(http)

    assert await read(admin, token) == NOT_AUTHENTICATED
    assert (await admin(USERS, token=token))["users"] == NOT_AUTHENTICATED
    assert (await admin(LOGOUT, token=token))["staffLogout"] == NOT_AUTHENTICATED
    # ... and the applicant's session is still theirs.
    me = (await public_post(http, ME, token=token))["me"]
    assert me == {"__typename": "User", "authId": user.auth_id}


async def test_a_staff_token_is_nothing_at_the_public_api(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())

    me = (await public_post(http, ME, token=admin.token))["me"]

    assert me == NOT_AUTHENTICATED
    assert await read(admin, admin.token or "") == NOTICES


async def test_only_the_admin_schema_has_the_admin_operations(
    http: httpx.AsyncClient,
) -> None:
    admin_schema = (await Admin(http)(INTROSPECTION))["__schema"]
    public_schema = (await public_post(http, INTROSPECTION))["__schema"]

    def names(schema: dict[str, Any], kind: str) -> set[str]:
        return {field["name"] for field in schema[kind]["fields"]}

    admin_fields = names(admin_schema, "queryType") | names(
        admin_schema, "mutationType"
    )
    public_fields = names(public_schema, "queryType") | names(
        public_schema, "mutationType"
    )
    assert {"users", "auditEvents", "staffLogin", "staffLogout"} <= admin_fields
    admin_only = {"users", "auditEvents", "staffLogin", "staffLogout", "disableStaff"}
    assert not admin_only & public_fields
    public_types = {t["name"] for t in public_schema["types"]}
    assert not {"StaffLoginInput", "StaffLoginSuccess", "StaffMember"} & public_types
    assert "login" in public_fields  # (the public schema did answer)


# --- 10. the audit trail -------------------------------------------------------------


async def test_a_staff_login_is_recorded(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    await Admin(http).logged_in(operator, clock.now())

    (event,) = await staff_audit(AuditType.LOGIN_SUCCEEDED)

    assert (event.staff_id, event.detail, event.outcome) == (
        operator.id,
        "staffLogin",
        "OK",
    )
    assert event.user_id is None
    assert await staff_audit(AuditType.LOGIN_FAILED) == []


async def test_a_failed_staff_login_is_recorded(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    code = code_at(operator, clock.now())
    await staff_login(admin, operator.login_id, WRONG_PASSWORD, code)
    await staff_login(admin, "nobody.here", STAFF_PASSWORD, code)

    known, unknown = await staff_audit(AuditType.LOGIN_FAILED)

    assert (known.outcome, known.staff_id, known.detail) == (
        "WZBAM005E",
        operator.id,
        "staffLogin",
    )
    assert (unknown.outcome, unknown.staff_id, unknown.detail) == (
        "WZBAM005E",
        None,
        "staffLogin",
    )
    assert await staff_audit(AuditType.LOGIN_SUCCEEDED) == []


async def test_the_audit_trail_keeps_no_password_and_no_code(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    typed: list[str] = []  # every code sent
    assert (await admin.login(operator, clock.now()))["__typename"] == (
        "StaffLoginSuccess"
    )
    typed.append(code_at(operator, clock.now()))
    for n in range(5):
        clock.advance(STEP)
        code = (
            code_at(operator, clock.now())
            if n % 2
            else wrong_code(operator, clock.now())
        )
        password = WRONG_PASSWORD if n % 2 else STAFF_PASSWORD
        typed.append(code)
        await staff_login(admin, operator.login_id, password, code)
    # A password typed into the login ID's field is not kept either.
    await staff_login(admin, STAFF_PASSWORD, STAFF_PASSWORD, typed[-1])

    (locked,) = await staff_audit(AuditType.LOGIN_LOCKED)
    assert (locked.outcome, locked.staff_id, locked.detail) == (
        "WZBAM153E",
        operator.id,
        "staffLogin",
    )
    failed = await staff_audit(AuditType.LOGIN_FAILED)
    assert [e.outcome for e in failed] == ["WZBAM005E"] * 5
    events = await AuditEvent.all().order_by("id")
    assert len(events) == 7
    for event in events:
        content = event.content()
        for secret in (STAFF_PASSWORD, WRONG_PASSWORD, STAFF_PASSWORD.lower()):
            assert secret not in content, content
        # A code is six digits: look for it in every column but the time and
        # the request's random id (where digits may turn up by chance).
        values = json.loads(content)
        columns = [v for i, v in enumerate(values) if i not in (1, 8)]
        for code in typed:
            assert not any(code in str(v) for v in columns), (code, content)


async def test_a_password_stored_with_older_parameters_is_upgraded_at_login(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    older = Argon2idHasher(time_cost=2, memory_kib=64, parallelism=1)
    await Staff.filter(id=operator.id).update(
        password_hash=await older.hash(STAFF_PASSWORD)
    )

    result = await Admin(http).login(operator, clock.now())

    assert result["__typename"] == "StaffLoginSuccess", result
    stored = (await Staff.get(id=operator.id)).password_hash
    assert stored.startswith("$argon2id$v=19$m=64,t=1,p=1$")


async def test_attempts_on_a_locked_staff_login_id_name_the_staff_member(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = Admin(http)
    for _ in range(5):
        clock.advance(STEP)
        await admin.login(operator, clock.now(), password=WRONG_PASSWORD)
    clock.advance(STEP)

    refused = await admin.login(operator, clock.now())

    assert code_answer(refused) == "WZBAM153E"
    last = await AuditEvent.filter(type=AuditType.LOGIN_FAILED).order_by("-id").first()
    assert last is not None
    assert (last.outcome, last.staff_id) == ("WZBAM153E", operator.id)
    # Staff events name the staff member by staff_id; auth_id is for 認証IDs.
    assert not await AuditEvent.filter(staff_id=operator.id, auth_id__not_isnull=True)
