"""What operators do from the command line (`ras-identity user create`,
`ras-identity staff …`)."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import (
    SERVICE,
    AuditEvent,
    AuditType,
    LoginThrottle,
    Staff,
    StaffRole,
    StaffSession,
    User,
)
from resolvers.context import Services
from resolvers.staff import LOGIN_ID, new_staff, normalise_login_id
from security.passwords import policy_violations
from security.text import gaiji, normalise_name, valid_email
from security.tokens import new_auth_id
from security.totp import new_totp_secret

_AUTH_ID_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class OperatorInputProblem:
    """One reason the operator's input was refused (a command-line option and
    what is wrong with it)."""

    field: str
    message: str


async def create_user(
    services: Services, *, email: str, name: str, password: str | None
) -> User | list[OperatorInputProblem]:
    """Create an active account with a fresh 認証ID.

    Every problem with the input is reported at once and nothing is written.
    Without a password the account exists but cannot log in until one is set.
    """
    problems: list[OperatorInputProblem] = []
    email = email.strip()
    if not valid_email(email):
        problems.append(
            OperatorInputProblem(
                "email", "not a half-width email address of at most 60 characters"
            )
        )
    if bad := gaiji(name):
        problems.append(
            OperatorInputProblem("name", f"外字 not allowed: {''.join(bad)}")
        )
    stored_name = normalise_name(name)
    if stored_name is None and not bad:
        problems.append(
            OperatorInputProblem(
                "name",
                "use half-width letters and spaces as in the passport (at most 104) "
                "or full-width characters (at most 26)",
            )
        )
    if password is not None:
        problems.extend(
            OperatorInputProblem("password", v.message_en)
            for v in policy_violations(password, auth_id="", policy=services.policy)
        )
    if not problems and await User.exists(email_key=User.email_key_of(email)):
        problems.append(
            OperatorInputProblem("email", "already registered to another account")
        )
    if problems or stored_name is None:
        return problems

    now = services.clock.now()
    password_hash = await services.hasher.hash(password) if password else None
    for _ in range(_AUTH_ID_ATTEMPTS):
        auth_id = new_auth_id()
        if password is not None and policy_violations(
            password, auth_id=auth_id, policy=services.policy
        ):
            continue  # the password happens to contain this ID: draw another
        try:
            return await User.create(
                auth_id=auth_id,
                name=stored_name,
                email=email,
                email_key=User.email_key_of(email),
                password_hash=password_hash,
                password_changed_at=now if password_hash else None,
                password_expires_at=(
                    now + services.policy.password_max_age if password_hash else None
                ),
                created_at=now,
            )
        except IntegrityError:
            if await User.exists(email_key=User.email_key_of(email)):
                return [
                    OperatorInputProblem(
                        "email", "already registered to another account"
                    )
                ]
            continue  # the random ID was taken; draw again
    raise RuntimeError("could not draw a free auth ID")


async def create_staff(
    services: Services, *, login_id: str, name: str, role: StaffRole, password: str
) -> Staff | list[OperatorInputProblem]:
    """Create a staff member (`ras-identity staff create`) with a fresh TOTP
    secret, recorded in the audit trail; every input problem at once, nothing
    written then."""
    problems: list[OperatorInputProblem] = []
    login_id = normalise_login_id(login_id)
    if not LOGIN_ID.fullmatch(login_id):
        problems.append(
            OperatorInputProblem(
                "login-id", "3-26 of a-z, 0-9, '.', '_', '-' (starting with a-z or 0-9)"
            )
        )
    name = name.strip()
    if not name or len(name) > 104:
        problems.append(OperatorInputProblem("name", "1 to 104 characters"))
    problems.extend(
        OperatorInputProblem("password", v.message_en)
        for v in policy_violations(password, auth_id=login_id, policy=services.policy)
    )
    if problems:
        return problems
    try:
        async with in_transaction() as conn:
            staff = await new_staff(
                services,
                login_id=login_id,
                name=name,
                role=role,
                password=password,
                using_db=conn,
            )
            await _record(services, AuditType.STAFF_CREATED, staff, conn, role.value)
    except IntegrityError:
        return [OperatorInputProblem("login-id", "already taken")]
    return staff


async def disable_staff(services: Services, login_id: str) -> Staff | None:
    """Disable a staff member (`staff disable`): no login, sessions ended.
    None when there is no such staff member."""
    now = services.clock.now()
    async with in_transaction() as conn:
        staff = await _locked_staff(login_id, conn)
        if staff is None:
            return None
        if staff.disabled_at is None:
            staff.disabled_at = now
            await staff.save(using_db=conn, update_fields=["disabled_at"])
        await _end_staff_sessions(staff, now, conn)
        await _record(services, AuditType.STAFF_DISABLED, staff, conn)
    return staff


async def reset_staff_totp(services: Services, login_id: str) -> Staff | None:
    """A new TOTP secret for a staff member who lost their authenticator
    (`staff reset-totp`): the old codes stop working, their sessions end and a
    lock on their login ID lifts. None when there is no such staff member."""
    now = services.clock.now()
    async with in_transaction() as conn:
        staff = await _locked_staff(login_id, conn)
        if staff is None:
            return None
        staff.totp_secret = new_totp_secret()
        staff.totp_last_step = None
        await staff.save(using_db=conn, update_fields=["totp_secret", "totp_last_step"])
        await LoginThrottle.clear(staff.lockout_key, now=now, using_db=conn)
        await _end_staff_sessions(staff, now, conn)
        await _record(services, AuditType.STAFF_TOTP_RESET, staff, conn)
    return staff


async def _locked_staff(login_id: str, conn: BaseDBAsyncClient) -> Staff | None:
    return (
        await Staff.select_for_update()
        .using_db(conn)
        .get_or_none(login_id=normalise_login_id(login_id))
    )


async def _end_staff_sessions(
    staff: Staff, now: datetime, conn: BaseDBAsyncClient
) -> None:
    await (
        StaffSession.filter(staff_id=staff.id, revoked_at=None)
        .using_db(conn)
        .update(revoked_at=now)
    )


async def _record(
    services: Services,
    type: AuditType,
    staff: Staff,
    conn: BaseDBAsyncClient,
    role: str | None = None,
) -> None:
    """A staff change made from the command line: no staff member acted (the
    operator at the shell is whoever may run it), so the event names the
    staff member changed in its detail."""
    detail = f"{staff.login_id} as {role}" if role else staff.login_id
    await AuditEvent.record(
        type,
        at=services.clock.now(),
        origin=SERVICE,
        detail=f"{detail} (command line)"[:64],
        reason="command line",
        using_db=conn,
    )
