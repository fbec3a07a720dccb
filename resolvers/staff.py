"""Staff login, staff sessions and roles (the admin API's gate).

Staff log in with login ID, password and a current TOTP code, always. A wrong
password and a wrong (or replayed) code are one answer (WZBAM005E) and one
failure on the staff member's lockout counter, so the answer never tells
which of the three was wrong. Staff tokens live in their own table: an
applicant's token is nothing here, and a staff token nothing in the public API.
"""

import logging
import re
from dataclasses import dataclass, replace
from typing import Annotated

import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Attempt, AuditEvent, AuditType, Limits
from models.staff import (
    Staff,
    StaffRole,
    StaffSession,
    lockout_key,
)
from resolvers.context import Info, Services
from resolvers.inputs import MAX_INPUT, required
from resolvers.limits import (
    forgive_login_failure,
    locked,
    reserve_login_failure,
    too_many,
)
from resolvers.lockout import BUSY_RETRY, Outcome, check_secret
from schema.admin import (
    ForbiddenError,
    StaffLoginInput,
    StaffLoginResult,
    StaffLoginSuccess,
    StaffLogoutResult,
    StaffLogoutSuccess,
    StaffMember,
)
from schema.errors import (
    AccountSuspendedError,
    InvalidCredentialsError,
    NotAuthenticatedError,
    SessionExpiredError,
)
from schema.messages import ErrorCode, FieldLabel
from security.tokens import could_be_token, new_token, token_hash
from security.totp import clean_code, new_totp_secret

logger = logging.getLogger("ras_identity.staff")

# 3-26 of a-z, 0-9, '.', '_', '-', starting with a letter or digit (26: the
# lockout counter's key, "staff:" and the ID, fits its 32 characters).
LOGIN_ID = re.compile(r"[a-z0-9][a-z0-9._-]{2,25}")
_CACHE_KEY = "staff"


def normalise_login_id(text: str) -> str:
    return text.strip().lower()


def member(staff: Staff) -> StaffMember:
    return StaffMember(
        login_id=staff.login_id,
        name=staff.name,
        role=staff.role,
        disabled=staff.disabled_at is not None,
        created_at=staff.created_at,
    )


async def new_staff(
    services: Services,
    *,
    login_id: str,
    name: str,
    role: StaffRole,
    password: str,
    using_db: BaseDBAsyncClient,
) -> Staff:
    """Write a staff member with a fresh TOTP secret (IntegrityError when the
    login ID is taken). The caller checked the inputs."""
    return await Staff.create(
        login_id=login_id,
        name=name,
        role=role,
        password_hash=await services.hasher.hash(password),
        totp_secret=new_totp_secret(),
        created_at=services.clock.now(),
        using_db=using_db,
    )


def staff_limits(services: Services) -> Limits:
    policy = services.policy
    return Limits(
        threshold=policy.staff_lockout_threshold, lock_for=policy.lockout_duration
    )


async def staff_login(
    info: Info,
    input: Annotated[
        StaffLoginInput,
        strawberry.argument(description="Login ID, password and TOTP code."),
    ],
) -> StaffLoginResult:
    """Log a staff member in with login ID, password and TOTP code.

    Outcomes, in order:
    - RequiredFieldError (001E): an item is empty.
    - TooManyRequestsError (RASX004E): the client address failed too often.
    - InvalidCredentialsError (005E): no such login ID, a wrong password, a
      wrong, stale or already used code: counted on the login ID's lockout.
    - AccountLockedError (153E): the login ID is locked (nothing is checked),
      or this failure locked it.
    - AccountSuspendedError (155E): right credentials, but disabled.
    - StaffLoginSuccess: a new staff session; an older one of the same staff
      member ends.
    """
    context = info.context
    lang = context.lang
    services = context.services
    if missing := required(
        lang,
        [
            ("loginId", input.login_id),
            ("password", input.password),
            ("totpCode", input.totp_code),
        ],
    ):
        return missing
    login_id = normalise_login_id(input.login_id[:MAX_INPUT])
    attempt = Attempt(
        origin=context.origin,
        auth_id=None,
        rejected=ErrorCode.INVALID_INPUT.value,
        locked=ErrorCode.ACCOUNT_LOCKED.value,
        detail="staffLogin",
    )
    if not LOGIN_ID.fullmatch(login_id):
        # No staff member can have it (and it may be a password typed into the
        # wrong field): answered at once, recorded without it.
        await attempt.record(
            AuditType.LOGIN_FAILED, attempt.rejected, at=services.clock.now()
        )
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    if refused := await reserve_login_failure(info):
        return refused
    password = input.password[:MAX_INPUT]
    code = clean_code(input.totp_code[:MAX_INPUT])

    async def load() -> Staff | None:
        return await Staff.get_or_none(login_id=login_id)

    async def verify(staff: Staff | None) -> bool:
        encoded = staff.password_hash if staff is not None else None
        if not await services.hasher.verify(encoded, password) or staff is None:
            return False
        step = staff.matching_step(code, services.clock.now())
        return step is not None and await staff.use_step(step)

    check = await check_secret(
        services,
        lockout_key(login_id),
        limits=staff_limits(services),
        attempt=attempt,
        load=load,
        verify=verify,
        attach=lambda attempt, staff: replace(attempt, staff_id=staff.id),
    )
    if check.outcome is Outcome.LOCKED:
        logger.info("staff login refused, locked")
        return await locked(info, lockout_key(login_id))
    if check.outcome is Outcome.BUSY:
        return await too_many(info, BUSY_RETRY, "login-slots")
    staff = check.holder
    if check.outcome is not Outcome.ACCEPTED or staff is None:
        logger.info("staff login failed")
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    await forgive_login_failure(info)
    now = services.clock.now()
    if staff.disabled_at is not None:
        await AuditEvent.record(
            AuditType.LOGIN_FAILED,
            at=now,
            origin=context.origin,
            outcome=ErrorCode.ACCOUNT_SUSPENDED.value,
            staff_id=staff.id,
            detail="staffLogin",
        )
        return AccountSuspendedError.build(lang)
    if services.hasher.needs_rehash(staff.password_hash):
        # Stored with older argon2 parameters: upgraded now that the password
        # is at hand, over the hash that was checked only.
        rehashed = await services.hasher.hash(password)
        await Staff.filter(id=staff.id, password_hash=staff.password_hash).update(
            password_hash=rehashed
        )
    token = new_token()
    async with in_transaction() as conn:
        await Staff.select_for_update().using_db(conn).get(id=staff.id)
        await (
            StaffSession.filter(staff_id=staff.id, revoked_at=None)
            .using_db(conn)
            .update(revoked_at=now)
        )
        await StaffSession.create(
            staff_id=staff.id,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + services.policy.staff_session_max,
            using_db=conn,
        )
        await AuditEvent.record(
            AuditType.LOGIN_SUCCEEDED,
            at=now,
            origin=context.origin,
            staff_id=staff.id,
            detail="staffLogin",
            using_db=conn,
        )
    logger.info("staff login: staff_id=%s", staff.id)
    return StaffLoginSuccess(
        token=token,
        idle_timeout_seconds=int(services.policy.staff_idle.total_seconds()),
        staff=member(staff),
    )


@dataclass(frozen=True, slots=True)
class StaffAuthenticated:
    """The calling staff member and their session."""

    staff: Staff
    session: StaffSession


StaffAuthFailure = NotAuthenticatedError | SessionExpiredError | ForbiddenError


async def authenticate_staff(
    info: Info, needed: StaffRole = StaffRole.VIEWER
) -> StaffAuthenticated | StaffAuthFailure:
    """The staff member behind the Bearer token, if their session is usable and
    their role at least ``needed``; else why not (RASX002E no session, RASX001E
    timed out, RASX007E role too low). Each call counts as activity."""
    context = info.context
    cached = context.cache.get(_CACHE_KEY)
    if cached is None:
        cached = await _authenticate(info)
        context.cache[_CACHE_KEY] = cached
    if not isinstance(cached, StaffAuthenticated):
        return cached
    if not cached.staff.role.allows(needed):
        return ForbiddenError.build(context.lang, required_role=needed)
    return cached


async def _authenticate(info: Info) -> StaffAuthenticated | StaffAuthFailure:
    context = info.context
    lang = context.lang
    token = context.bearer
    if token is None or not could_be_token(token):
        return NotAuthenticatedError.build(lang)
    session = await StaffSession.get_or_none(token_hash=token_hash(token))
    if session is None or session.revoked_at is not None:
        return NotAuthenticatedError.build(lang)
    services = context.services
    now = services.clock.now()
    staff = await Staff.get_or_none(id=session.staff_id)
    if staff is None or staff.disabled_at is not None:
        return NotAuthenticatedError.build(lang)
    idle = now - session.last_seen_at >= services.policy.staff_idle
    if idle or now >= session.expires_at:
        await StaffSession.end(
            session.id,
            staff.id,
            AuditType.SESSION_TIMED_OUT,
            now=now,
            origin=context.origin,
        )
        return SessionExpiredError.build(lang)
    if not await StaffSession.filter(id=session.id, revoked_at=None).update(
        last_seen_at=now
    ):
        return NotAuthenticatedError.build(lang)
    return StaffAuthenticated(staff=staff, session=session)


async def staff_logout(info: Info) -> StaffLogoutResult:
    """End the Bearer token's staff session (RASX002E when it is none)."""
    context = info.context
    token = context.bearer
    if token is None or not could_be_token(token):
        return NotAuthenticatedError.build(context.lang)
    session = await StaffSession.get_or_none(token_hash=token_hash(token))
    if session is None:
        return NotAuthenticatedError.build(context.lang)
    await StaffSession.end(
        session.id,
        session.staff_id,
        AuditType.LOGGED_OUT,
        now=context.services.clock.now(),
        origin=context.origin,
    )
    return StaffLogoutSuccess(ok=True)
