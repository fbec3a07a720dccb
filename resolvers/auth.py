"""login and logout (manual 2.2)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from models import (
    Limits,
    LoginThrottle,
    Reservation,
    RevokeReason,
    SessionKind,
    User,
    UserSession,
    Verdict,
)
from resolvers.inputs import MAX_INPUT, required
from resolvers.limits import forgive_login_failure, reserve_login_failure, too_many
from resolvers.session import (
    Authenticated,
    authenticate,
    find_session,
    revoked_error,
    start_session,
    status_error,
)
from schema.auth import (
    LoginInput,
    LoginResult,
    LoginSuccess,
    LogoutResult,
    LogoutSuccess,
    ReauthenticateInput,
    ReauthenticateResult,
    ReauthenticateSuccess,
)
from schema.catalog import FieldLabel
from schema.context import Info
from schema.errors import (
    AccountLockedError,
    CurrentPasswordWrongError,
    InvalidCredentialsError,
    NotAuthenticatedError,
    PasswordExpiredError,
    RequiredFieldError,
    TooManyRequestsError,
)
from schema.types import User as UserType
from security.limits import KeyedLock
from security.text import normalise_auth_id
from security.tokens import could_be_auth_id, looks_like_auth_id

logger = logging.getLogger("ras_identity.auth")

# Far longer than any issued ID; checked before normalising so that a huge input
# costs nothing (NFKC can also grow a string up to 18-fold).
MAX_AUTH_ID_INPUT = 64
# How long an attempt waits for attempts on the same ID in other processes, and
# when to try again after that.
BUSY_WAIT_SECONDS = 5.0
BUSY_RETRY = timedelta(seconds=BUSY_WAIT_SECONDS)

attempts = KeyedLock()


def loggable(auth_id: str) -> str:
    # Users sometimes type their password into the ID field: log only what has the
    # form of an issued ID.
    return auth_id if looks_like_auth_id(auth_id) else "<not an auth ID>"


async def _reserve(
    auth_id: str, info: Info, limits: Limits
) -> tuple[Reservation, int | None]:
    """Reserve a password check, waiting while attempts elsewhere (other
    processes) hold every slot."""
    clock = info.context.services.clock
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_WAIT_SECONDS
    pause = 0.02
    while True:
        outcome, slot = await LoginThrottle.reserve(
            auth_id, now=clock.now(), limits=limits
        )
        if outcome is not Reservation.BUSY or loop.time() >= deadline:
            return outcome, slot
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.25)


async def login(info: Info, input: LoginInput) -> LoginResult:
    """Log in with 認証ID and password.

    Outcomes, in the order they are decided:
    - RequiredFieldError (001E): an item is empty.
    - InvalidCredentialsError (005E) at once when the auth ID cannot be an issued
      one (too long, or characters no ID has): the format is public.
    - TooManyRequestsError (RASX004E): this client address failed
      RAS_CLIENT_LOGIN_FAILURE_LIMIT logins (any IDs) in its window (password
      spraying); neither the ID's counter nor the password is touched. Each
      attempt counts as a failure before its check and is forgiven when the
      password proves right, so parallel attempts cannot overshoot the limit.
    - AccountLockedError (153E): the submitted ID is locked; the password is not
      checked at all.
    - TooManyRequestsError (RASX004E): attempts for this ID in other processes
      held every slot for a few seconds.
    - InvalidCredentialsError (005E): unknown ID, no password set yet, or wrong
      password: one answer, one argon2 verification (a dummy hash for unknown IDs),
      so neither the answer nor its timing tells whether the ID exists.
    - AccountLockedError (153E): this wrong attempt reached the threshold, or a
      lock set meanwhile by other attempts is in force (then even a correct
      password is not accepted).
    - AccountSuspendedError 155E, AccountDeletedError 156E, UserInfoInvalidError
      150E, UsageExpiredError 151E: only after a correct password.
    - PasswordExpiredError (158E) with a change ticket.
    - LoginSuccess: a new session; the user's older session is displaced.

    Attempts on one ID queue in this process; across processes a slot is
    reserved in the database before the password check (see LoginThrottle), so
    parallel guesses never get more checks than the threshold.
    """
    ctx = info.context
    lang = ctx.lang
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
    if refused := await reserve_login_failure(info):
        return refused
    async with attempts.hold(auth_id):
        result = await _checked_login(info, auth_id, input.password)
    if not isinstance(
        result, InvalidCredentialsError | AccountLockedError | TooManyRequestsError
    ):
        await forgive_login_failure(info)  # the password was right
    return result


def _limits(info: Info) -> Limits:
    policy = info.context.services.policy
    return Limits(threshold=policy.lockout_threshold, lock_for=policy.lockout_duration)


async def counted_check(
    info: Info, auth_id: str, check: Callable[[], Awaitable[bool]]
) -> Reservation | Verdict:
    """Run one password ``check`` for ``auth_id`` under the lockout rule.

    Reservation.LOCKED: locked, ``check`` not run; Reservation.BUSY: every slot
    held elsewhere for a few seconds; else the Verdict (a failure counts, and
    the one that reaches the threshold locks). Callers hold ``attempts`` for
    the ID, so attempts in one process meet the database one at a time.
    """
    limits = _limits(info)
    reservation, slot = await _reserve(auth_id, info, limits)
    if reservation is Reservation.LOCKED:
        return reservation
    if reservation is Reservation.BUSY or slot is None:
        return Reservation.BUSY
    correct = False
    try:
        correct = await check()
    finally:
        # Also when the check failed: the slot goes back, as a failure.
        verdict = await LoginThrottle.finish(
            auth_id,
            slot,
            correct=correct,
            now=info.context.services.clock.now(),
            limits=limits,
        )
    return verdict


async def check_own_password(
    info: Info, user: User, password: str, *, field: str, label: FieldLabel
) -> User | AccountLockedError | TooManyRequestsError | CurrentPasswordWrongError:
    """The logged-in user's password, checked under the login lockout counter of
    their 認証ID (changePassword, reauthenticate): the user as now stored when
    it is right.

    - AccountLockedError (153E): the ID is locked (the password is not checked)
      or this wrong password reached the threshold; either way every session of
      the user ends, so a stolen session cannot go on guessing.
    - TooManyRequestsError (RASX004E): checks for the ID elsewhere held every
      slot.
    - CurrentPasswordWrongError (154E, naming ``field``): wrong; counts like a
      failed login.
    """
    lang = info.context.lang
    services = info.context.services
    checked: list[User] = []

    async def check() -> bool:
        fresh = await User.get(id=user.id)
        checked.append(fresh)
        return await services.hasher.verify(fresh.password_hash, password)

    async with attempts.hold(user.auth_id):
        outcome = await counted_check(info, user.auth_id, check)
    if outcome in (Reservation.LOCKED, Verdict.LOCKED):
        await UserSession.end_all(
            user.id, RevokeReason.ACCOUNT_LOCKED, now=services.clock.now()
        )
        logger.warning("password check refused, locked: user_id=%s", user.id)
        return AccountLockedError.build(lang)
    if outcome is Reservation.BUSY:
        return too_many(info, BUSY_RETRY)
    if outcome is not Verdict.ACCEPTED or not checked:
        logger.info("password check, wrong: user_id=%s", user.id)
        return CurrentPasswordWrongError.build(lang, label, field=field)
    return checked[0]


async def reauthenticate(
    info: Info, input: ReauthenticateInput
) -> ReauthenticateResult:
    """Enter the password again on this session, for a sensitive change
    (changing the email address) after RAS_STEP_UP_SECONDS.

    Outcomes, in order:
    - an AuthError: no usable session (a change ticket answers 158E).
    - RequiredFieldError (001E): no password.
    - AccountLockedError (153E), TooManyRequestsError (RASX004E),
      CurrentPasswordWrongError (154E): as in changePassword: the check counts
      toward the same lockout as login, and a lock ends every session.
    - ReauthenticateSuccess: the session counts as freshly authenticated until
      `freshUntil`.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    if missing := required(lang, [("password", input.password)]):
        return missing
    checked = await check_own_password(
        info,
        auth.user,
        input.password[:MAX_INPUT],
        field="password",
        label=FieldLabel.PASSWORD,
    )
    if not isinstance(checked, User):
        return checked
    services = info.context.services
    now = services.clock.now()
    marked = await UserSession.filter(id=auth.session.id, revoked_at=None).update(
        authenticated_at=now
    )
    if not marked:  # a newer login displaced the session meanwhile
        return await revoked_error(auth.session, info)
    logger.info("reauthenticated: user_id=%s", auth.user.id)
    return ReauthenticateSuccess(fresh_until=now + services.policy.step_up)


async def _checked_login(info: Info, auth_id: str, password: str) -> LoginResult:
    lang = info.context.lang
    services = info.context.services
    found: list[User | None] = [None]

    async def check() -> bool:
        user = found[0] = await User.get_or_none(auth_id=auth_id)
        encoded = user.password_hash if user is not None else None
        return await services.hasher.verify(encoded, password) and user is not None

    outcome = await counted_check(info, auth_id, check)
    user = found[0]
    if outcome is Reservation.LOCKED:
        logger.info("login refused, locked: auth_id=%s", loggable(auth_id))
        return AccountLockedError.build(lang)
    if outcome is Reservation.BUSY:
        logger.warning("login refused, slots busy: auth_id=%s", loggable(auth_id))
        return too_many(info, BUSY_RETRY)
    if outcome is Verdict.LOCKED:
        logger.warning("login failed, locked: auth_id=%s", loggable(auth_id))
        return AccountLockedError.build(lang)
    if outcome is not Verdict.ACCEPTED or user is None:
        logger.info("login failed: auth_id=%s", loggable(auth_id))
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    encoded = user.password_hash

    now = services.clock.now()
    if problem := status_error(user, now, info):
        logger.info("login refused: user_id=%s code=%s", user.id, problem.code)
        return problem
    if encoded is None:  # verify() never accepts a missing hash
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    if services.hasher.needs_rehash(encoded):
        rehashed = await services.hasher.hash(password)
        # Only over the hash that was verified: a reset that committed meanwhile
        # must not be undone by the old password's new hash.
        if await User.filter(id=user.id, password_hash=encoded).update(
            password_hash=rehashed
        ):
            encoded = user.password_hash = rehashed
        else:
            # Another process re-hashed the same password first, or it was
            # changed: go on only with a stored hash this password matches.
            await user.refresh_from_db(fields=["password_hash"])
            stored = user.password_hash
            if stored is None or not await services.hasher.verify(stored, password):
                return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
            encoded = stored
    kind = (
        SessionKind.CHANGE_TICKET if user.password_expired(now) else SessionKind.SESSION
    )
    token = await start_session(user, kind, info, checked_hash=encoded)
    if token is None:
        logger.info("login lost to a password change: user_id=%s", user.id)
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    if kind is SessionKind.CHANGE_TICKET:
        logger.info("login with expired password: user_id=%s", user.id)
        return PasswordExpiredError.build(lang, change_ticket=token)
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
