"""Staff and applicants' two-step login: the admin mutation resetTotp (an
operator removes it for an applicant who lost the authenticator and the
recovery codes), deleteUser taking it with the account, and what the applicant
then sees (``me.twoStepEnabled``, mySecurityActivity). Staff act over real
HTTP on /admin/graphql; the applicant's side runs on the same services, so the
same key for secrets at rest."""

from typing import Any

import httpx
import pytest

from models import (
    AuditEvent,
    AuditType,
    Lang,
    LoginChallenge,
    MailKind,
    OutboxMail,
    RecoveryCode,
    User,
)
from models.staff import Staff
from security.clock import SettableClock
from tests.admin_support import Admin
from tests.support import PASSWORD, Caller, log_in
from tests.test_my_security_activity import activity
from tests.test_two_step import (
    BEGIN,
    CONFIRM,
    LOGIN_STEP,
    ME_TWO_STEP,
    VERIFY,
    at,
    call,
    challenge,
    enrol,
    parsed,
)

REASON = "本人確認のうえ認証アプリ紛失の申出を受理"

MANAGED = """
__typename
... on UserActionSuccess { user { authId status twoStepEnabled } }
... on Error { code message }
... on FieldError { field }
... on ForbiddenError { requiredRole }
... on AccountStateError { status }
"""
RESET_TOTP = (
    "mutation($a: String!, $r: String!) {"
    f" resetTotp(authId: $a, reason: $r) {{ {MANAGED} }} }}"
)
DELETE_USER = (
    "mutation($a: String!, $r: String!) {"
    f" deleteUser(authId: $a, reason: $r) {{ {MANAGED} }} }}"
)
STAFF_VIEW = """
query($a: String!) { user(authId: $a) {
  __typename
  ... on ManagedUser { authId twoStepEnabled }
  ... on Error { code }
} }
"""


async def reset_totp(
    admin: Admin, auth_id: str, reason: str = REASON
) -> dict[str, Any]:
    data = await admin(RESET_TOTP, {"a": auth_id, "r": reason})
    result: dict[str, Any] = data["resetTotp"]
    return result


async def two_step_rows(user: User) -> dict[str, Any]:
    """Everything two-step login keeps for ``user``, to compare before/after."""
    return {
        "user": await User.get(id=user.id).values(),
        "codes": await RecoveryCode.filter(user_id=user.id).order_by("id").values(),
        "challenges": await LoginChallenge.filter(user_id=user.id)
        .order_by("id")
        .values(),
        "mails": await OutboxMail.filter(user_id=user.id).order_by("id").values(),
        "resets": await AuditEvent.filter(type=AuditType.TWO_STEP_RESET).count(),
    }


async def reset_mails(user: User) -> list[OutboxMail]:
    return await OutboxMail.filter(
        user_id=user.id, kind=MailKind.TWO_STEP_RESET
    ).order_by("id")


@pytest.fixture
async def enrolled(
    execute: Caller, user: User, clock: SettableClock
) -> tuple[str, list[str], str]:
    """Two-step login on for ``user``: (secret, recovery codes, session token)."""
    token = await log_in(execute, user.auth_id)
    secret, codes = await enrol(execute, token, clock)
    return secret, codes, token


# --- resetTotp -----------------------------------------------------------------


async def test_an_operator_removes_an_enrolled_applicants_two_step_login(
    http: httpx.AsyncClient,
    execute: Caller,
    user: User,
    operator: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
) -> None:
    secret, _codes, token = enrolled
    open_challenge = await challenge(execute, user)
    assert await RecoveryCode.filter(user_id=user.id).count() == 10
    admin = await Admin(http).logged_in(operator, clock.now())
    seen = await admin(STAFF_VIEW, {"a": user.auth_id})
    assert seen["user"] == {
        "__typename": "ManagedUser",
        "authId": user.auth_id,
        "twoStepEnabled": True,
    }

    done = await reset_totp(admin, user.auth_id, f"  {REASON}  ")

    assert done["__typename"] == "UserActionSuccess", done
    assert done["user"] == {
        "authId": user.auth_id,
        "status": "ACTIVE",
        "twoStepEnabled": False,
    }
    stored = await User.get(id=user.id)
    assert (stored.totp_secret, stored.totp_enabled_at) == (None, None)
    assert (stored.totp_pending_secret, stored.totp_last_step) == (None, None)
    assert await RecoveryCode.filter(user_id=user.id).count() == 0
    # The code step begun before is void, even with the right code.
    voided = await call(execute, VERIFY, t=open_challenge, c=at(secret, clock.now()))
    assert (voided["code"], voided["field"]) == ("RASX012E", "challengeToken")
    assert (await LoginChallenge.get(user_id=user.id)).used_at is not None
    # The applicant's session from before stays, and now says "off".
    assert (await call(execute, ME_TWO_STEP, token)) == {
        "__typename": "User",
        "twoStepEnabled": False,
    }
    # Login is one step again.
    one_step = await call(execute, LOGIN_STEP, a=user.auth_id, p=PASSWORD)
    assert one_step["__typename"] == "LoginSuccess", one_step
    (mail,) = await reset_mails(user)
    assert mail.recipient == user.email
    assert "Staff removed two-step login" in str(parsed(mail)["Subject"])
    (event,) = await AuditEvent.filter(type=AuditType.TWO_STEP_RESET)
    # The reason is kept as given (trimmed), with the staff member's ID.
    assert (event.user_id, event.staff_id, event.reason, event.detail) == (
        user.id,
        operator.id,
        REASON,
        None,
    )
    assert event.outcome == "OK"
    assert event.client == "127.0.0.1"
    seen = await admin(STAFF_VIEW, {"a": user.auth_id})
    assert seen["user"]["twoStepEnabled"] is False


async def test_after_a_reset_the_applicant_can_enrol_again(
    http: httpx.AsyncClient,
    execute: Caller,
    user: User,
    operator: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
) -> None:
    old_secret, old_codes, token = enrolled
    admin = await Admin(http).logged_in(operator, clock.now())
    assert (await reset_totp(admin, user.auth_id))["__typename"] == (
        "UserActionSuccess"
    )

    new_secret, new_codes = await enrol(execute, token, clock)

    assert new_secret != old_secret
    assert not set(new_codes) & set(old_codes)
    old = await call(execute, VERIFY, t=await challenge(execute, user), r=old_codes[0])
    assert (old["code"], old["field"]) == ("RASX005E", "recoveryCode")
    new = await call(
        execute, VERIFY, t=await challenge(execute, user), c=at(new_secret, clock.now())
    )
    assert new["__typename"] == "LoginSuccess", new


async def test_a_viewer_may_not_reset_and_nothing_changes(
    http: httpx.AsyncClient,
    execute: Caller,
    user: User,
    viewer: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
) -> None:
    await challenge(execute, user)
    before = await two_step_rows(user)
    admin = await Admin(http).logged_in(viewer, clock.now())

    refused = await reset_totp(admin, user.auth_id)

    assert refused["__typename"] == "ForbiddenError"
    assert (refused["code"], refused["requiredRole"]) == ("RASX007E", "OPERATOR")
    assert await two_step_rows(user) == before
    assert (await User.get(id=user.id)).two_step is True
    assert not await AuditEvent.filter(staff_id=viewer.id, reason__not_isnull=True)


@pytest.mark.parametrize("reason", ["", "   "])
async def test_an_empty_reason_is_required_and_nothing_changes(
    http: httpx.AsyncClient,
    user: User,
    operator: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
    reason: str,
) -> None:
    before = await two_step_rows(user)
    admin = await Admin(http).logged_in(operator, clock.now())

    refused = await reset_totp(admin, user.auth_id, reason)

    assert (refused["code"], refused["field"]) == ("WZBAM001E", "reason")
    assert await two_step_rows(user) == before


async def test_an_unknown_auth_id_is_not_found_and_nothing_changes(
    http: httpx.AsyncClient,
    user: User,
    operator: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
) -> None:
    before = await two_step_rows(user)
    admin = await Admin(http).logged_in(operator, clock.now())

    unknown = await reset_totp(admin, "ZZZZZZZZZZ")

    assert unknown["__typename"] == "NotFoundError"
    assert (unknown["code"], unknown["field"]) == ("RASX008E", "authId")
    assert await two_step_rows(user) == before


async def test_resetting_an_applicant_without_two_step_succeeds_without_mail(
    http: httpx.AsyncClient,
    user: User,
    operator: Staff,
    clock: SettableClock,
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    mails = await OutboxMail.filter(user_id=user.id).count()

    done = await reset_totp(admin, user.auth_id)

    assert done["__typename"] == "UserActionSuccess", done
    assert done["user"]["twoStepEnabled"] is False
    assert await reset_mails(user) == []
    assert await OutboxMail.filter(user_id=user.id).count() == mails
    (event,) = await AuditEvent.filter(type=AuditType.TWO_STEP_RESET)
    assert (event.user_id, event.staff_id, event.reason, event.detail) == (
        user.id,
        operator.id,
        REASON,
        "off",
    )


async def test_a_reset_ends_a_begun_set_up_without_mail(
    http: httpx.AsyncClient,
    execute: Caller,
    user: User,
    operator: Staff,
    clock: SettableClock,
) -> None:
    token = await log_in(execute, user.auth_id)
    begun = await call(execute, BEGIN, token, p=PASSWORD)
    assert begun["__typename"] == "TotpEnrollment", begun
    admin = await Admin(http).logged_in(operator, clock.now())

    done = await reset_totp(admin, user.auth_id)

    assert done["__typename"] == "UserActionSuccess", done
    stored = await User.get(id=user.id)
    assert (stored.totp_pending_secret, stored.totp_pending_until) == (None, None)
    late = await call(execute, CONFIRM, token, c=at(begun["secret"], clock.now()))
    assert (late["code"], late["field"]) == ("RASX012E", "code")
    assert (await User.get(id=user.id)).totp_enabled_at is None
    assert await reset_mails(user) == []
    (event,) = await AuditEvent.filter(type=AuditType.TWO_STEP_RESET)
    assert event.detail == "off"


async def test_resetting_twice_mails_once(
    http: httpx.AsyncClient,
    user: User,
    operator: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())

    first = await reset_totp(admin, user.auth_id)
    second = await reset_totp(admin, user.auth_id, "重複した申出")

    assert first["__typename"] == second["__typename"] == "UserActionSuccess"
    assert len(await reset_mails(user)) == 1
    events = await AuditEvent.filter(type=AuditType.TWO_STEP_RESET).order_by("id")
    assert [(e.detail, e.reason) for e in events] == [
        (None, REASON),
        ("off", "重複した申出"),
    ]


# --- deleteUser ----------------------------------------------------------------


async def test_deleting_an_account_removes_its_two_step_login(
    http: httpx.AsyncClient,
    execute: Caller,
    user: User,
    admin_staff: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
) -> None:
    open_challenge = await challenge(execute, user)
    admin = await Admin(http).logged_in(admin_staff, clock.now())

    data = await admin(DELETE_USER, {"a": user.auth_id, "r": "利用者からの抹消申出"})

    deleted = data["deleteUser"]
    assert deleted["__typename"] == "UserActionSuccess", deleted
    assert deleted["user"]["status"] == "DELETED"
    assert deleted["user"]["twoStepEnabled"] is False
    stored = await User.get(id=user.id)
    assert (stored.totp_secret, stored.totp_enabled_at) == (None, None)
    assert (stored.totp_pending_secret, stored.totp_last_step) == (None, None)
    assert await RecoveryCode.filter(user_id=user.id).count() == 0
    (left,) = await LoginChallenge.filter(user_id=user.id)
    assert left.used_at is not None
    assert not left.usable(clock.now())
    voided = await call(execute, VERIFY, t=open_challenge, c="123456")
    assert voided["code"] == "RASX012E"
    # Nothing to reset on a deleted account; no mail to its erased address.
    again = await reset_totp(admin, user.auth_id)
    assert (again["code"], again["status"]) == ("RASX011E", "DELETED")
    assert await reset_mails(user) == []


# --- what the applicant sees ---------------------------------------------------


async def test_me_and_my_security_activity_show_the_reset(
    http: httpx.AsyncClient,
    execute: Caller,
    user: User,
    operator: Staff,
    clock: SettableClock,
    enrolled: tuple[str, list[str], str],
) -> None:
    _secret, _codes, token = enrolled
    assert (await call(execute, ME_TWO_STEP, token))["twoStepEnabled"] is True
    admin = await Admin(http).logged_in(operator, clock.now())
    assert (await reset_totp(admin, user.auth_id))["__typename"] == (
        "UserActionSuccess"
    )

    assert (await call(execute, ME_TWO_STEP, token))["twoStepEnabled"] is False
    japanese = await activity(execute, token, Lang.JA)
    english = await activity(execute, token, Lang.EN)

    two_step = ("TWO_STEP_RESET", "TWO_STEP_ENABLED", "TWO_STEP_ENROLLMENT_BEGUN")
    for page, labels in (
        (
            japanese,
            [
                "職員による2段階認証の解除",
                "2段階認証の有効化",
                "2段階認証の設定開始",
            ],
        ),
        (
            english,
            [
                "Two-step login removed by staff",
                "Two-step login turned on",
                "Two-step login set-up begun",
            ],
        ),
    ):
        assert page["__typename"] == "SecurityActivity", page
        shown = [
            (edge["node"]["type"], edge["node"]["label"], edge["node"]["outcome"])
            for edge in page["edges"]
            if edge["node"]["type"] in two_step
        ]
        assert shown == [
            (kind, label, "OK") for kind, label in zip(two_step, labels, strict=True)
        ]
        # Newest first: the reset is the latest thing on the account.
        assert page["edges"][0]["node"]["type"] == "TWO_STEP_RESET"
