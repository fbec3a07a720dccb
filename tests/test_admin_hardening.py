"""What an adversarial review of the admin API found, pinned: input that used to
crash into WZBAM098E (control characters, times without an offset, years
and ids out of range), personal data a deletion left behind, repeated
password checks in one document, actions on accounts they cannot help."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from models import (
    AuditEvent,
    AuditType,
    LinkToken,
    OutboxMail,
    Staff,
    User,
)
from security.clock import SettableClock
from tests.admin_support import STAFF_LOGIN, STAFF_PASSWORD, USER_FIELDS, Admin
from tests.support import Caller, log_in
from tests.test_admin_notices import PUBLISH, notice_input
from tests.test_update_user_info import UPDATE, email

ACTION = "mutation($a: String!, $r: String!) {{ {}(authId: $a, reason: $r) {{ {} }} }}"
EXPIRY = (
    "mutation($a: String!, $e: DateTime, $r: String!) {"
    f" setUsageExpiry(authId: $a, expiresAt: $e, reason: $r) {{ {USER_FIELDS} }} }}"
)
START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
USERS = """
query($q: String, $after: String) {
  users(query: $q, after: $after) {
    __typename
    ... on ManagedUserConnection { edges { node { authId } } }
    ... on Error { code }
    ... on FieldError { field }
    ... on InvalidFieldError { reason }
  }
}
"""


@pytest.fixture
async def admin(
    http: httpx.AsyncClient, admin_staff: Staff, clock: SettableClock
) -> Admin:
    return await Admin(http).logged_in(admin_staff, clock.now())


def problem(result: dict[str, Any]) -> tuple[str, str | None, str | None]:
    return (result.get("code", ""), result.get("field"), result.get("reason"))


async def test_deleting_leaves_no_address_in_any_table(
    execute: Caller, user: User, admin: Admin
) -> None:
    token = await log_in(execute, user.auth_id)
    changed = await execute(
        UPDATE, {"input": email("new.taro@example.com")}, token=token
    )
    assert changed["updateUserInfo"]["__typename"] == "UpdateUserInfoSuccess"
    assert await LinkToken.filter(restore_email="taro@example.com").exists()

    deleted = await admin(
        ACTION.format("deleteUser", USER_FIELDS),
        {
            "a": user.auth_id,
            "r": "抹消の申出",
        },
    )

    assert deleted["deleteUser"]["__typename"] == "UserActionSuccess"
    rows = [
        *(await User.all().values()),
        *(await LinkToken.all().values()),
        *(await OutboxMail.all().values()),
    ]
    text = repr(rows).lower()
    assert "taro@example.com" not in text
    assert "yamada" not in text
    assert await OutboxMail.filter(user_id=user.id).count() >= 2
    assert not await OutboxMail.filter(user_id=user.id, status="pending").exists()


async def test_times_without_an_offset_or_out_of_range_are_refused(
    user: User, admin: Admin
) -> None:
    naive = await admin(
        EXPIRY, {"a": user.auth_id, "e": "2030-01-01T00:00:00", "r": "x"}
    )
    far = await admin(
        EXPIRY, {"a": user.auth_id, "e": "9999-12-31T23:59:59-12:00", "r": "x"}
    )
    notice = await admin(
        PUBLISH,
        {"i": notice_input_strings("2026-04-01T09:00:00", "2026-04-02T09:00:00+09:00")},
    )
    since = await admin(
        'query { auditEvents(filter: {since: "2026-04-01T00:00:00"}) {'
        " __typename ... on Error { code } ... on FieldError { field } } }"
    )
    figures = await admin(
        'query { dailyFigures(from: "9999-12-31", to: "9999-12-31") {'
        " __typename ... on Error { code } ... on FieldError { field } } }"
    )

    assert problem(naive["setUsageExpiry"])[:2] == ("WZBAM005E", "expiresAt")
    assert problem(far["setUsageExpiry"])[:2] == ("WZBAM005E", "expiresAt")
    assert problem(notice["publishNotice"])[:2] == ("WZBAM005E", "startsAt")
    assert problem(since["auditEvents"])[:2] == ("WZBAM005E", "since")
    assert problem(figures["dailyFigures"])[:2] == ("WZBAM005E", "to")
    assert (await User.get(id=user.id)).usage_expires_at is None
    assert not await AuditEvent.filter(type=AuditType.NOTICE_PUBLISHED).exists()


def notice_input_strings(starts_at: str, ends_at: str) -> dict[str, Any]:
    """A notice whose times are sent as typed (an offset or none)."""
    values: dict[str, Any] = notice_input(START, START)["i"]
    return values | {"startsAt": starts_at, "endsAt": ends_at}


async def test_control_characters_are_refused_or_match_nothing(
    user: User, admin: Admin
) -> None:
    reason = await admin(
        ACTION.format("suspendUser", USER_FIELDS), {"a": user.auth_id, "r": "a\u0000b"}
    )
    lookup = await admin(
        ACTION.format("suspendUser", USER_FIELDS), {"a": "\u0000", "r": "理由"}
    )
    search = await admin(USERS, {"q": "ya\u0000"})
    body = await admin(
        PUBLISH,
        {
            "i": notice_input(
                starts_at=START,
                ends_at=START + timedelta(days=1),
                bodyJa="本文\u0007",
            )["i"]
        },
    )

    assert problem(reason["suspendUser"]) == ("WZBAM005E", "reason", "CHARACTERS")
    assert problem(lookup["suspendUser"])[:2] == ("RASX008E", "authId")
    assert search["users"]["edges"] == []
    assert problem(body["publishNotice"]) == ("WZBAM005E", "bodyJa", "CHARACTERS")
    assert (await User.get(id=user.id)).status.value == "active"


async def test_ids_and_cursors_beyond_any_row_are_answered(
    user: User, admin: Admin
) -> None:
    huge = await admin(USERS, {"after": "9999999999999999999"})
    over_int = await admin(USERS, {"after": str(2**31)})
    retry = await admin(
        'mutation { retryMail(id: "9999999999999999999", reason: "x") {'
        " __typename ... on Error { code } ... on FieldError { field } } }"
    )

    assert problem(huge["users"]) == ("WZBAM005E", "after", "MALFORMED")
    assert problem(over_int["users"]) == ("WZBAM005E", "after", "MALFORMED")
    assert problem(retry["retryMail"])[:2] == ("RASX008E", "id")


async def test_staff_login_is_once_per_document(
    http: httpx.AsyncClient, admin_staff: Staff, clock: SettableClock
) -> None:
    code = pyotp.TOTP(admin_staff.totp_secret).at(clock.now())
    variables = {
        "i": {"loginId": "root.admin", "password": "Wrong2026$x", "totpCode": code}
    }
    document = (
        "mutation($i: StaffLoginInput!) { a: staffLogin(input: $i) { __typename }"
        " b: staffLogin(input: $i) { __typename } }"
    )

    response = await http.post(
        "/admin/graphql", json={"query": document, "variables": variables}
    )

    assert response.json()["data"] is None
    assert response.json()["errors"]
    assert not await AuditEvent.filter(type=AuditType.LOGIN_FAILED).exists()


async def test_a_code_typed_with_a_space_is_the_code(
    http: httpx.AsyncClient, admin_staff: Staff, clock: SettableClock
) -> None:
    code = pyotp.TOTP(admin_staff.totp_secret).at(clock.now())
    data = await Admin(http)(
        STAFF_LOGIN,
        {
            "i": {
                "loginId": "root.admin",
                "password": STAFF_PASSWORD,
                "totpCode": f"{code[:3]} {code[3:]}",
            }
        },
    )

    assert data["staffLogin"]["__typename"] == "StaffLoginSuccess"


async def test_credentials_are_not_reissued_for_an_account_that_cannot_use_them(
    user: User, admin: Admin
) -> None:
    await admin(
        ACTION.format("suspendUser", USER_FIELDS), {"a": user.auth_id, "r": "x"}
    )

    refused = await admin(
        ACTION.format("reissueCredentials", USER_FIELDS), {"a": user.auth_id, "r": "x"}
    )

    assert (
        refused["reissueCredentials"]["code"],
        refused["reissueCredentials"]["status"],
    ) == (
        "RASX011E",
        "SUSPENDED",
    )
    assert not await OutboxMail.filter(kind="credentials_reissued").exists()
    assert not await AuditEvent.filter(type=AuditType.CREDENTIALS_REISSUED).exists()


async def test_withdrawing_twice_is_recorded_twice(
    admin: Admin, clock: SettableClock
) -> None:
    start = clock.now()
    notice = await admin(PUBLISH, notice_input(start, start + timedelta(days=1)))
    notice_id = notice["publishNotice"]["notice"]["id"]
    withdraw = (
        'mutation($id: ID!) { withdrawNotice(id: $id, reason: "誤掲載") {'
        " __typename } }"
    )

    first = await admin(withdraw, {"id": notice_id})
    again = await admin(withdraw, {"id": notice_id})

    assert first["withdrawNotice"]["__typename"] == "NoticeActionSuccess"
    assert again["withdrawNotice"]["__typename"] == "NoticeActionSuccess"
    details = [
        e.detail
        async for e in AuditEvent.filter(type=AuditType.NOTICE_WITHDRAWN).order_by("id")
    ]
    assert details == [f"notice {notice_id}", f"notice {notice_id} (already withdrawn)"]


async def test_usage_expiry_left_out_is_required_not_a_crash(
    user: User, admin: Admin
) -> None:
    data = await admin(
        'mutation($a: String!) { setUsageExpiry(authId: $a, reason: "x") {'
        f" {USER_FIELDS} }} }}",
        {"a": user.auth_id},
    )

    assert problem(data["setUsageExpiry"])[:2] == ("WZBAM001E", "expiresAt")
    assert not await AuditEvent.filter(type=AuditType.USAGE_EXPIRY_SET).exists()
