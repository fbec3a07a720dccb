"""login and logout (manual 2.2)."""

import asyncio
import logging

from models import Limits, LoginThrottle, Reservation, SessionKind, User, UserSession
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
    TooManyRequestsError,
)
from schema.types import User as UserType
from security.text import normalise_auth_id
from security.tokens import could_be_auth_id, looks_like_auth_id

logger = logging.getLogger("ras_identity.auth")

# Far longer than any issued ID; checked before normalising so that a huge input
# costs nothing (NFKC can also grow a string up to 18-fold).
MAX_AUTH_ID_INPUT = 64
# How long an attempt waits for parallel attempts on the same ID to finish.
BUSY_WAIT_SECONDS = 5.0


def _loggable(auth_id: str) -> str:
    # Users sometimes type their password into the ID field: log only what has the
    # form of an issued ID.
    return auth_id if looks_like_auth_id(auth_id) else "<not an auth ID>"


async def _reserve(auth_id: str, info: Info, limits: Limits) -> Reservation:
    """Reserve a password check, waiting while in-flight attempts hold every slot."""
    clock = info.context.services.clock
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_WAIT_SECONDS
    pause = 0.01
    while True:
        outcome = await LoginThrottle.reserve(auth_id, now=clock.now(), limits=limits)
        if outcome is not Reservation.BUSY or loop.time() >= deadline:
            return outcome
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.2)


async def login(info: Info, input: LoginInput) -> LoginResult:
    """Log in with 認証ID and password.

    Outcomes, in the order they are decided:
    - RequiredFieldError (001E): an item is empty.
    - InvalidCredentialsError (005E) at once when the auth ID cannot be an issued
      one (too long, or characters no ID has): the format is public.
    - AccountLockedError (153E): the submitted ID is locked; the password is not
      checked at all.
    - TooManyRequestsError (RASX004E): so many attempts for this ID are in flight
      at once that none could be reserved within a few seconds.
    - InvalidCredentialsError (005E): unknown ID, no password set yet, or wrong
      password: one answer, one argon2 verification (a dummy hash for unknown IDs),
      so neither the answer nor its timing tells whether the ID exists.
    - AccountLockedError (153E): this wrong attempt reached the threshold.
    - AccountSuspendedError 155E, AccountDeletedError 156E, UserInfoInvalidError
      150E, UsageExpiredError 151E: only after a correct password.
    - PasswordExpiredError (158E) with a change ticket.
    - LoginSuccess: a new session; the user's older session is displaced.

    Failures are counted per submitted ID, existing or not; a slot is reserved
    before the password check (see LoginThrottle), so parallel guesses never get
    more checks than the threshold.
    """
    ctx = info.context
    lang = ctx.lang
    services = ctx.services
    if len(input.auth_id) > MAX_AUTH_ID_INPUT:
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    auth_id = normalise_auth_id(input.auth_id)
    missing = [
        name
        for name, value in (("authId", auth_id), ("password", input.password))
        if not value
    ]
    if missing:
        return RequiredFieldError.build(lang, field=missing[0], fields=missing)
    if not could_be_auth_id(auth_id):
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)

    limits = Limits(
        threshold=services.policy.lockout_threshold,
        lock_for=services.policy.lockout_duration,
    )
    reservation = await _reserve(auth_id, info, limits)
    if reservation is Reservation.LOCKED:
        logger.info("login refused, locked: auth_id=%s", _loggable(auth_id))
        return AccountLockedError.build(lang)
    if reservation is Reservation.BUSY:
        logger.warning(
            "login refused, too many in flight: auth_id=%s", _loggable(auth_id)
        )
        return TooManyRequestsError.build(lang)

    try:
        user = await User.get_or_none(auth_id=auth_id)
        encoded = user.password_hash if user is not None else None
        correct = await services.hasher.verify(encoded, input.password)
    except BaseException:
        # Whatever went wrong, the reserved slot is given back as a failure.
        await LoginThrottle.record_failure(
            auth_id, now=services.clock.now(), limits=limits
        )
        raise
    if not correct or user is None:
        if await LoginThrottle.record_failure(
            auth_id, now=services.clock.now(), limits=limits
        ):
            logger.warning("login failed, now locked: auth_id=%s", _loggable(auth_id))
            return AccountLockedError.build(lang)
        logger.info("login failed: auth_id=%s", _loggable(auth_id))
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    await LoginThrottle.record_success(auth_id, now=services.clock.now())

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
    - PasswordExpiredError (158E): a change ticket, good only for changePassword.
    """
    session = await find_session(info)
    if session is None:
        return NotAuthenticatedError.build(info.context.lang)
    if session.kind is SessionKind.CHANGE_TICKET:
        return PasswordExpiredError.build(info.context.lang)
    await UserSession.filter(id=session.id, revoked_at=None).update(
        revoked_at=info.context.services.clock.now(),
        revoked_reason=RevokeReason.LOGOUT,
    )
    return LogoutSuccess(ok=True)
