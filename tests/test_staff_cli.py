"""`ras-identity staff …`: the first admin from the command line, their
authenticator enrolment, and the emergencies (disable, reset-totp), each as a
subprocess on the test database, checked by logging in over real HTTP."""

from datetime import timedelta

import httpx
import pyotp

from models import AuditEvent, AuditType, Staff, StaffRole, User
from security.clock import SettableClock
from tests.admin_support import (
    STAFF_LOGIN,
    STAFF_PASSWORD,
    USER_FIELDS,
    Admin,
    secret_of,
)
from tests.support import LOGIN, PASSWORD, run_cli

CREATE = [
    "staff",
    "create",
    "--login-id",
    "First.Admin",
    "--name",
    "Kanri Taro",
    "--role",
    "admin",
    "--password-stdin",
]


async def staff_login(
    http: httpx.AsyncClient, secret: str, clock: SettableClock
) -> dict[str, object]:
    data = await Admin(http)(
        STAFF_LOGIN,
        {
            "i": {
                "loginId": "first.admin",
                "password": STAFF_PASSWORD,
                "totpCode": pyotp.TOTP(secret).at(clock.now()),
            }
        },
    )
    result: dict[str, object] = data["staffLogin"]
    return result


async def test_the_first_admin_enrols_logs_in_and_unlocks_a_user(
    db: str, http: httpx.AsyncClient, user: User, clock: SettableClock
) -> None:
    done = run_cli(CREATE, db, stdin=f"{STAFF_PASSWORD}\n")

    assert done.returncode == 0, done.stderr
    assert STAFF_PASSWORD not in done.stdout + done.stderr
    secret = secret_of(done.stdout.strip())
    staff = await Staff.get(login_id="first.admin")
    assert (staff.role, staff.name) == (StaffRole.ADMIN, "Kanri Taro")
    assert staff.password_hash.startswith("$argon2id$")

    login = await staff_login(http, secret, clock)
    assert login["__typename"] == "StaffLoginSuccess", login
    admin = Admin(http, str(login["token"]))
    for _ in range(5):
        await http.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"authId": user.auth_id, "password": "Wrong2026$"},
            },
        )

    async def right_login() -> str:
        answer = await http.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"authId": user.auth_id, "password": PASSWORD},
            },
        )
        result: dict[str, str] = answer.json()["data"]["login"]
        return result.get("code") or result["__typename"]

    assert await right_login() == "WZBAM153E"
    unlocked = await admin(
        'mutation($a: String!) { unlockUser(authId: $a, reason: "電話で本人確認")'
        f" {{ {USER_FIELDS} }} }}",
        {"a": user.auth_id},
    )
    assert unlocked["unlockUser"]["user"]["lock"]["locked"] is False
    assert await right_login() == "LoginSuccess"
    (created,) = await AuditEvent.filter(type=AuditType.STAFF_CREATED)
    assert created.detail == "first.admin as admin (command line)"


async def test_create_refuses_bad_input_and_a_taken_login_id(db: str) -> None:
    weak = run_cli(CREATE, db, stdin="password\n")
    bad_id = run_cli(
        [
            "staff",
            "create",
            "--login-id",
            "x",
            "--name",
            "A",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        db,
        stdin=f"{STAFF_PASSWORD}\n",
    )
    first = run_cli(CREATE, db, stdin=f"{STAFF_PASSWORD}\n")
    again = run_cli(CREATE, db, stdin=f"{STAFF_PASSWORD}\n")

    assert weak.returncode == 2
    assert "--password" in weak.stderr
    assert bad_id.returncode == 2
    assert "--login-id" in bad_id.stderr
    assert first.returncode == 0
    assert again.returncode == 2
    assert "already taken" in again.stderr
    assert await Staff.all().count() == 1


async def test_list_disable_and_reset_totp(
    db: str, http: httpx.AsyncClient, clock: SettableClock
) -> None:
    secret = secret_of(run_cli(CREATE, db, stdin=f"{STAFF_PASSWORD}\n").stdout)
    login = await staff_login(http, secret, clock)
    token = str(login["token"])

    reset = run_cli(["staff", "reset-totp", "FIRST.ADMIN"], db)

    assert reset.returncode == 0, reset.stderr
    new_secret = secret_of(reset.stdout.strip())
    assert new_secret != secret
    clock.advance(timedelta(seconds=30))
    # The session of the old secret has ended; the old codes no longer work.
    ended = await Admin(http, token)("{ notices { __typename } }")
    assert ended["notices"]["__typename"] == "NotAuthenticatedError"
    assert (await staff_login(http, secret, clock))["code"] == "WZBAM005E"
    assert (await staff_login(http, new_secret, clock))["__typename"] == (
        "StaffLoginSuccess"
    )

    listed = run_cli(["staff", "list"], db)
    assert listed.stdout.splitlines() == ["first.admin\tadmin\tactive\tKanri Taro"]

    disabled = run_cli(["staff", "disable", "first.admin"], db)
    missing = run_cli(["staff", "disable", "nobody"], db)

    assert disabled.returncode == 0, disabled.stderr
    assert missing.returncode == 1
    assert "nobody" in missing.stderr
    assert run_cli(["staff", "list"], db).stdout.split("\t")[2] == "disabled"
    clock.advance(timedelta(seconds=30))
    assert (await staff_login(http, new_secret, clock))["code"] == "WZBAM155E"
    types = [
        e.type
        async for e in AuditEvent.filter(detail__contains="first.admin").order_by("id")
    ]
    assert types == [
        AuditType.STAFF_CREATED,
        AuditType.STAFF_TOTP_RESET,
        AuditType.STAFF_DISABLED,
    ]
