"""The admin API's user actions, each shown by what the applicant then meets in
the public API (over real HTTP), with the staff ID and reason in the audit
trail."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from models import AuditEvent, AuditType, Staff, User
from security.clock import SettableClock
from tests.admin_support import USER_FIELDS, Admin
from tests.support import LOGIN, PASSWORD
from tests.test_register_user import REGISTER, form

ACTION = "mutation($a: String!, $r: String!) {{ {}(authId: $a, reason: $r) {{ {} }} }}"


async def public_login(
    http: httpx.AsyncClient, auth_id: str, password: str = PASSWORD
) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"authId": auth_id, "password": password}},
    )
    result: dict[str, Any] = response.json()["data"]["login"]
    return result


async def act(
    admin: Admin, action: str, auth_id: str, reason: str = "本人から電話で依頼"
) -> dict[str, Any]:
    data = await admin(ACTION.format(action, USER_FIELDS), {"a": auth_id, "r": reason})
    result: dict[str, Any] = data[action]
    return result


async def staff_events(type: AuditType) -> list[AuditEvent]:
    return await AuditEvent.filter(type=type).order_by("id")


async def test_suspend_then_reinstate(
    http: httpx.AsyncClient, user: User, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    token = (await public_login(http, user.auth_id))["token"]

    suspended = await act(admin, "suspendUser", user.auth_id)

    assert suspended["user"]["status"] == "SUSPENDED"
    assert (await public_login(http, user.auth_id))["code"] == "WZBAM155E"
    me = await http.post(
        "/graphql",
        json={"query": "{ me { __typename ... on Error { code } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.json()["data"]["me"]["code"] == "RASX002E"  # the session ended

    reinstated = await act(admin, "reinstateUser", user.auth_id, "確認済み")
    assert reinstated["user"]["status"] == "ACTIVE"
    assert (await public_login(http, user.auth_id))["__typename"] == "LoginSuccess"

    events = await staff_events(AuditType.USER_SUSPENDED)
    assert [(e.user_id, e.staff_id, e.reason) for e in events] == [
        (user.id, operator.id, "本人から電話で依頼")
    ]
    (back,) = await staff_events(AuditType.USER_REINSTATED)
    assert (back.staff_id, back.reason) == (operator.id, "確認済み")


async def test_unlock_lets_a_locked_applicant_log_in(
    http: httpx.AsyncClient, user: User, operator: Staff, clock: SettableClock
) -> None:
    for _ in range(5):
        await public_login(http, user.auth_id, "Wrong2026$")
    assert (await public_login(http, user.auth_id))["code"] == "WZBAM153E"
    admin = await Admin(http).logged_in(operator, clock.now())

    unlocked = await act(admin, "unlockUser", user.auth_id)

    assert unlocked["user"]["lock"] == {
        "locked": False,
        "failures": 0,
        "lockedUntil": None,
    }
    assert (await public_login(http, user.auth_id))["__typename"] == "LoginSuccess"
    (event,) = await staff_events(AuditType.USER_UNLOCKED)
    assert (event.user_id, event.staff_id) == (user.id, operator.id)


async def test_delete_erases_the_person_and_frees_the_address(
    http: httpx.AsyncClient, user: User, admin_staff: Staff, clock: SettableClock
) -> None:
    await public_login(http, user.auth_id)
    admin = await Admin(http).logged_in(admin_staff, clock.now())

    deleted = await act(admin, "deleteUser", user.auth_id, "利用者からの抹消申出")

    assert deleted["user"]["status"] == "DELETED"
    assert deleted["user"]["name"] == ""
    assert deleted["user"]["email"] is None
    assert (await public_login(http, user.auth_id))["code"] == "WZBAM156E"
    stored = await User.get(id=user.id)
    assert (stored.email_key, stored.phone, stored.date_of_birth) == (None, None, None)
    # The address can register again (a new account, a new 認証ID).
    response = await http.post(
        "/graphql",
        json={
            "query": REGISTER,
            "variables": form(
                email="taro@example.com", emailConfirm="taro@example.com"
            ),
        },
    )
    assert response.json()["data"]["registerUser"]["__typename"] == (
        "RegisterUserSuccess"
    )
    assert await User.filter(email_key="taro@example.com").count() == 1
    # The account's audit rows are kept.
    assert await AuditEvent.filter(
        user_id=user.id, type=AuditType.LOGIN_SUCCEEDED
    ).exists()
    # A deleted account cannot be changed any more.
    again = await act(admin, "reinstateUser", user.auth_id)
    assert (again["code"], again["status"]) == ("RASX011E", "DELETED")


async def test_mark_invalid_usage_expiry_and_expired_password(
    http: httpx.AsyncClient, user: User, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())

    await act(admin, "markInvalid", user.auth_id)
    assert (await public_login(http, user.auth_id))["code"] == "WZBAM150E"
    await act(admin, "reinstateUser", user.auth_id)

    expiry = clock.now() + timedelta(days=1)
    data = await admin(
        "mutation($a: String!, $e: DateTime, $r: String!) {"
        " setUsageExpiry(authId: $a, expiresAt: $e, reason: $r)"
        f" {{ {USER_FIELDS} }} }}",
        {"a": user.auth_id, "e": expiry.isoformat(), "r": "在留期間の満了"},
    )
    assert data["setUsageExpiry"]["user"]["usageExpiresAt"] is not None
    assert (await public_login(http, user.auth_id))["__typename"] == "LoginSuccess"
    clock.advance(timedelta(days=1))
    assert (await public_login(http, user.auth_id))["code"] == "WZBAM151E"

    admin = await Admin(http).logged_in(operator, clock.now())
    await admin(
        "mutation($a: String!, $r: String!) {"
        " setUsageExpiry(authId: $a, expiresAt: null, reason: $r)"
        f" {{ {USER_FIELDS} }} }}",
        {"a": user.auth_id, "r": "延長"},
    )
    expired = await act(admin, "expirePassword", user.auth_id)
    assert expired["user"]["passwordExpiresAt"] is not None
    login = await public_login(http, user.auth_id)
    assert login["code"] == "WZBAM158E"
    assert login["changeTicket"]


async def test_revoke_sessions_ends_the_applicants_session(
    http: httpx.AsyncClient, user: User, operator: Staff, clock: SettableClock
) -> None:
    token = (await public_login(http, user.auth_id))["token"]
    admin = await Admin(http).logged_in(operator, clock.now())

    await act(admin, "revokeSessions", user.auth_id)

    me = await http.post(
        "/graphql",
        json={"query": "{ me { __typename ... on Error { code } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.json()["data"]["me"]["code"] == "RASX002E"
    (event,) = await staff_events(AuditType.SESSIONS_REVOKED)
    assert event.staff_id == operator.id


@pytest.mark.parametrize(
    "action",
    [
        "unlockUser",
        "suspendUser",
        "reinstateUser",
        "markInvalid",
        "expirePassword",
        "revokeSessions",
        "reissueCredentials",
        "deleteUser",
    ],
)
async def test_a_viewer_may_not_act_and_nothing_changes(
    http: httpx.AsyncClient,
    user: User,
    viewer: Staff,
    clock: SettableClock,
    action: str,
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())
    before = await User.get(id=user.id).values()

    refused = await act(admin, action, user.auth_id)

    assert refused["code"] == "RASX007E"
    assert refused["requiredRole"] == (
        "ADMIN" if action == "deleteUser" else "OPERATOR"
    )
    assert await User.get(id=user.id).values() == before
    assert not await AuditEvent.filter(staff_id=viewer.id, reason__not_isnull=True)


async def test_an_operator_may_not_delete(
    http: httpx.AsyncClient, user: User, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())

    refused = await act(admin, "deleteUser", user.auth_id)

    assert (refused["code"], refused["requiredRole"]) == ("RASX007E", "ADMIN")
    assert (await User.get(id=user.id)).status.value == "active"


async def test_reason_is_required_and_an_unknown_id_is_not_found(
    http: httpx.AsyncClient, user: User, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())

    blank = await act(admin, "suspendUser", user.auth_id, reason="   ")
    unknown = await act(admin, "suspendUser", "ZZZZZZZZZZ")
    long = await act(admin, "suspendUser", user.auth_id, reason="x" * 501)

    assert (blank["code"], blank["field"]) == ("WZBAM001E", "reason")
    assert (unknown["code"], unknown["field"]) == ("RASX008E", "authId")
    assert (long["code"], long["field"]) == ("WZBAM005E", "reason")
    assert (await User.get(id=user.id)).status.value == "active"
    assert not await AuditEvent.filter(type=AuditType.USER_SUSPENDED).exists()


@pytest.mark.parametrize(
    ("action", "event"),
    [
        ("unlockUser", AuditType.USER_UNLOCKED),
        ("suspendUser", AuditType.USER_SUSPENDED),
        ("reinstateUser", AuditType.USER_REINSTATED),
        ("markInvalid", AuditType.USER_MARKED_INVALID),
        ("expirePassword", AuditType.PASSWORD_EXPIRED),
        ("revokeSessions", AuditType.SESSIONS_REVOKED),
        ("reissueCredentials", AuditType.CREDENTIALS_REISSUED),
        ("deleteUser", AuditType.USER_DELETED),
    ],
)
async def test_each_action_is_one_audit_event_with_staff_and_reason(
    http: httpx.AsyncClient,
    user: User,
    admin_staff: Staff,
    clock: SettableClock,
    action: str,
    event: AuditType,
) -> None:
    admin = await Admin(http).logged_in(admin_staff, clock.now())

    done = await act(admin, action, user.auth_id, reason=f"{action}: 申出書第12号")

    assert done["__typename"] == "UserActionSuccess", done
    (recorded,) = await staff_events(event)
    assert (recorded.user_id, recorded.staff_id, recorded.reason) == (
        user.id,
        admin_staff.id,
        f"{action}: 申出書第12号",
    )
    assert recorded.client == "127.0.0.1"
    # The staff view of the trail names the staff member and the reason.
    page = await admin(
        "query($a: String!, $t: SecurityEventType!) {"
        " auditEvents(filter: {authId: $a, type: $t}) {"
        " ... on AuditEventConnection { edges { node { staffLoginId reason authId"
        " } } } } }",
        {"a": user.auth_id, "t": event.name},
    )
    (edge,) = page["auditEvents"]["edges"]
    assert edge["node"] == {
        "staffLoginId": admin_staff.login_id,
        "reason": f"{action}: 申出書第12号",
        "authId": user.auth_id,
    }
