"""login and logout (manual 2.2)."""

import logging

from models import LoginThrottle, SessionKind, User, UserSession
from models.session import RevokeReason
from resolvers.session import find_session, start_session, status_error
from schema.auth import (
    LoginInput,
    LoginResult,
    LoginSuccess,
    LogoutResult,
    LogoutSuccess,
)
from schema.catalog import FieldLabel
from schema.context import Info
from schema.errors import (
    AccountLockedError,
    InvalidCredentialsError,
    NotAuthenticatedError,
    PasswordExpiredError,
    RequiredFieldError,
)
from schema.types import User as UserType
from security.text import normalise_auth_id
from security.tokens import looks_like_auth_id

logger = logging.getLogger("ras_identity.auth")

# No issued auth ID or accepted password is anywhere near these; longer input is
# answered as wrong credentials without touching the counters or the hasher.
MAX_AUTH_ID_INPUT = 64
MAX_PASSWORD_INPUT = 256


def _loggable(auth_id: str) -> str:
    # Users sometimes type their password into the ID field: log only what has the
    # form of an issued ID.
    return auth_id if looks_like_auth_id(auth_id) else "<not an auth ID>"


async def login(info: Info, input: LoginInput) -> LoginResult:
    """Log in with 認証ID and password.

    Outcomes, in the order they are decided:
    - RequiredFieldError (001E): an item is empty.
    - AccountLockedError (153E): the submitted ID is locked; the password is not
      checked at all.
    - InvalidCredentialsError (005E): unknown ID, no password set yet, or wrong
      password: one answer, one argon2 verification (a dummy hash for unknown IDs),
      so neither the answer nor its timing tells whether the ID exists.
    - AccountLockedError (153E): this wrong attempt reached the threshold.
    - AccountSuspendedError 155E, AccountDeletedError 156E, UserInfoInvalidError
      150E, UsageExpiredError 151E: only after a correct password.
    - PasswordExpiredError (158E) with a change ticket.
    - LoginSuccess: a new session; the user's older session is displaced.

    Failures are counted per submitted ID, existing or not, atomically and before
    the password check (see LoginThrottle.reserve_attempt).
    """
    ctx = info.context
    lang = ctx.lang
    services = ctx.services
    auth_id = normalise_auth_id(input.auth_id)
    missing = [
        name
        for name, value in (("authId", auth_id), ("password", input.password))
        if not value
    ]
    if missing:
        return RequiredFieldError.build(lang, field=missing[0], fields=missing)
    if len(auth_id) > MAX_AUTH_ID_INPUT or len(input.password) > MAX_PASSWORD_INPUT:
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)

    attempt = await LoginThrottle.reserve_attempt(
        auth_id,
        now=services.clock.now(),
        threshold=services.policy.lockout_threshold,
        lock_for=services.policy.lockout_duration,
    )
    if attempt.refused:
        logger.info("login refused, locked: auth_id=%s", _loggable(auth_id))
        return AccountLockedError.build(lang)

    user = await User.get_or_none(auth_id=auth_id)
    encoded = user.password_hash if user is not None else None
    if not await services.hasher.verify(encoded, input.password) or user is None:
        if attempt.locks:
            logger.warning("login failed, now locked: auth_id=%s", _loggable(auth_id))
            return AccountLockedError.build(lang)
        logger.info("login failed: auth_id=%s", _loggable(auth_id))
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    await LoginThrottle.clear(auth_id)

    now = services.clock.now()
    if problem := status_error(user, now, info):
        logger.info("login refused: user_id=%s code=%s", user.id, problem.code)
        return problem
    if encoded is not None and services.hasher.needs_rehash(encoded):
        user.password_hash = await services.hasher.hash(input.password)
        await user.save(update_fields=["password_hash"])
    if user.password_expired(now):
        ticket = await start_session(user, SessionKind.CHANGE_TICKET, info)
        logger.info("login with expired password: user_id=%s", user.id)
        return PasswordExpiredError.build(lang, change_ticket=ticket)

    token = await start_session(user, SessionKind.SESSION, info)
    logger.info("login: user_id=%s", user.id)
    return LoginSuccess(
        token=token,
        idle_timeout_seconds=int(services.policy.session_idle.total_seconds()),
        user=UserType.from_model(user),
    )


async def logout(info: Info) -> LogoutResult:
    """End the Bearer token's session.

    - LogoutSuccess: the session existed (active, timed out or displaced); it is
      revoked now if it was not already. Logging out twice succeeds twice.
    - NotAuthenticatedError (RASX002E): no token, or one the service never issued.
    """
    session = await find_session(info)
    if session is None:
        return NotAuthenticatedError.build(info.context.lang)
    await UserSession.filter(id=session.id, revoked_at=None).update(
        revoked_at=info.context.services.clock.now(),
        revoked_reason=RevokeReason.LOGOUT,
    )
    return LogoutSuccess(ok=True)
