"""login and logout (manual 2.2)."""

import logging
from dataclasses import replace
from typing import Annotated

import strawberry
from tortoise.transactions import in_transaction

from models import (
    Attempt,
    AuditEvent,
    AuditType,
    LoginChallenge,
    RevokeReason,
    SessionKind,
    User,
    UserSession,
)
from resolvers.context import Info
from resolvers.factors import (
    FactorCheck,
    Factors,
    check_factors,
    code_shaped,
    password_fingerprint,
)
from resolvers.inputs import MAX_INPUT, required
from resolvers.limits import (
    forgive_login_failure,
    locked,
    reserve_login_failure,
    too_many,
)
from resolvers.lockout import BUSY_RETRY, Outcome, check_password
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
    TotpRequired,
)
from schema.errors import (
    AccountLockedError,
    CurrentPasswordWrongError,
    InputProblem,
    InvalidCredentialsError,
    InvalidFieldError,
    NotAuthenticatedError,
    OneTimeCodeWrongError,
    PasswordExpiredError,
    RequiredFieldError,
    TooManyRequestsError,
)
from schema.messages import ErrorCode, FieldLabel
from schema.types import User as UserType
from security.text import normalise_auth_id
from security.tokens import (
    could_be_auth_id,
    looks_like_auth_id,
    new_token,
    token_hash,
)

logger = logging.getLogger("ras_identity.auth")

# Far longer than any issued ID; checked before normalising so that a huge input
# costs nothing (NFKC can also grow a string up to 18-fold).
MAX_AUTH_ID_INPUT = 64


def shown_auth_id(auth_id: str) -> str | None:
    """The submitted auth ID if it has the form of an issued one, else None:
    users sometimes type their password into the ID field, so logs and audit
    events keep only what looks like an ID."""
    return auth_id if looks_like_auth_id(auth_id) else None


def loggable(auth_id: str) -> str:
    return shown_auth_id(auth_id) or "<not an auth ID>"


async def login(
    info: Info,
    input: Annotated[LoginInput, strawberry.argument(description="The login form.")],
) -> LoginResult:
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
    - TotpRequired: the account has two-step login; `verifyTotp` with the
      challenge and a code goes on from here (a right password alone does not
      end the ID's run of failures).
    - PasswordExpiredError (158E) with a change ticket.
    - LoginSuccess: a new session; the user's older session is displaced.

    Attempts on one ID queue in this process; across processes a slot is
    reserved in the database before the password check (see LoginThrottle), so
    parallel guesses never get more checks than the threshold.
    """
    ctx = info.context
    lang = ctx.lang
    if len(input.auth_id) > MAX_AUTH_ID_INPUT:
        return await _impossible_id(info)
    auth_id = normalise_auth_id(input.auth_id)
    missing = [
        name
        for name, value in (("authId", auth_id), ("password", input.password))
        if not value
    ]
    if missing:
        return RequiredFieldError.build(lang, field=missing[0], fields=missing)
    if not could_be_auth_id(auth_id):
        return await _impossible_id(info)
    if refused := await reserve_login_failure(info):
        return refused
    result = await _checked_login(info, auth_id, input.password)
    if not isinstance(
        result, InvalidCredentialsError | AccountLockedError | TooManyRequestsError
    ):
        await forgive_login_failure(info)  # the password was right
    return result


async def _impossible_id(info: Info) -> InvalidCredentialsError:
    """005E for an auth ID no account can have (answered at once, counted
    nowhere): a failed login all the same, with no ID recorded (it may be a
    password typed into the wrong field)."""
    context = info.context
    await AuditEvent.record(
        AuditType.LOGIN_FAILED,
        at=context.services.clock.now(),
        origin=context.origin,
        outcome=ErrorCode.INVALID_INPUT.value,
        detail="login",
    )
    return InvalidCredentialsError.build(context.lang, FieldLabel.CREDENTIALS)


async def check_own_password(
    info: Info,
    user: User,
    password: str,
    *,
    field: str,
    label: FieldLabel,
    purpose: str,
) -> User | AccountLockedError | TooManyRequestsError | CurrentPasswordWrongError:
    """The logged-in user's password, checked under the login lockout counter of
    their 認証ID (changePassword, beginTotpEnrollment): the user as now stored
    when it is right.

    - AccountLockedError (153E): the ID is locked (the password is not checked)
      or this wrong password reached the threshold; either way every session of
      the user ends, so a stolen session cannot go on guessing.
    - TooManyRequestsError (RASX004E): checks for the ID elsewhere held every
      slot.
    - CurrentPasswordWrongError (154E, naming ``field``): wrong; counts like a
      failed login.
    """
    factors = Factors(password=password)
    check = await check_factors(info, user, factors, purpose=purpose, field=field)
    if refused := await refusal(info, user, check):
        return refused
    if check.outcome is not Outcome.ACCEPTED or check.user is None:
        return CurrentPasswordWrongError.build(info.context.lang, label, field=field)
    return check.user


async def refusal(
    info: Info, user: User, check: FactorCheck
) -> AccountLockedError | TooManyRequestsError | None:
    """A logged-in user's check that was locked out (every session of the
    user ends) or found every slot busy; None when it was decided."""
    services = info.context.services
    if check.outcome is Outcome.LOCKED:
        async with in_transaction() as conn:
            await UserSession.end_all(
                user.id,
                RevokeReason.ACCOUNT_LOCKED,
                now=services.clock.now(),
                origin=info.context.origin,
                using_db=conn,
            )
        logger.warning("secret check refused, locked: user_id=%s", user.id)
        return await locked(info, user.auth_id)
    if check.outcome is Outcome.BUSY:
        return await too_many(info, BUSY_RETRY, "login-slots", user_id=user.id)
    if check.outcome is not Outcome.ACCEPTED:
        logger.info("secret check, wrong %s: user_id=%s", check.failed, user.id)
    return None


async def password_and_code_answer(
    info: Info, user: User, check: FactorCheck, *, label: FieldLabel, field: str
) -> (
    User
    | AccountLockedError
    | TooManyRequestsError
    | CurrentPasswordWrongError
    | OneTimeCodeWrongError
):
    """A password checked with a code (reauthenticate, disableTotp): the user
    when both were right, else the answer for the first wrong one."""
    if refused := await refusal(info, user, check):
        return refused
    if check.outcome is not Outcome.ACCEPTED or check.user is None:
        if check.wrong_code:
            return wrong_code(info, check)
        return CurrentPasswordWrongError.build(info.context.lang, label, field=field)
    return check.user


def wrong_code(info: Info, check: FactorCheck) -> OneTimeCodeWrongError:
    return OneTimeCodeWrongError.build(
        info.context.lang, FieldLabel.ONE_TIME_CODE, field=check.failed or "code"
    )


async def reauthenticate(
    info: Info,
    input: Annotated[
        ReauthenticateInput, strawberry.argument(description="The current password.")
    ],
) -> ReauthenticateResult:
    """Enter the password again on this session, for a sensitive change
    (changing the email address) after RAS_STEP_UP_SECONDS.

    Outcomes, in order:
    - an AuthError: no usable session (a change ticket answers 158E).
    - RequiredFieldError (001E): no password, or no code when two-step login
      is on.
    - AccountLockedError (153E), TooManyRequestsError (RASX004E),
      CurrentPasswordWrongError (154E), OneTimeCodeWrongError (RASX005E): as
      in changePassword: the check counts toward the same lockout as login,
      and a lock ends every session. With two-step login on, the code (or a
      recovery code) is checked with the password, as one attempt.
    - ReauthenticateSuccess: the session counts as freshly authenticated until
      `freshUntil`.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    two_step = auth.user.two_step
    items = [("password", input.password)]
    if two_step:
        items.append(("code", input.code or ""))
    if missing := required(lang, items):
        return missing
    if two_step and not code_shaped(
        (input.code or "")[:MAX_INPUT], otp=True, recovery=True
    ):
        return InvalidFieldError.build(
            lang, FieldLabel.ONE_TIME_CODE, field="code", reason=InputProblem.MALFORMED
        )
    factors = Factors(
        password=input.password[:MAX_INPUT],
        code=(input.code or "")[:MAX_INPUT] if two_step else None,
        or_recovery=True,
    )
    check = await check_factors(
        info, auth.user, factors, purpose="reauthenticate", field="password"
    )
    checked = await password_and_code_answer(
        info, auth.user, check, label=FieldLabel.PASSWORD, field="password"
    )
    if not isinstance(checked, User):
        return checked
    services = info.context.services
    now = services.clock.now()
    if not await UserSession.mark_authenticated(
        auth.session.id, auth.user.id, now=now, origin=info.context.origin
    ):
        # A newer login displaced the session meanwhile.
        return await revoked_error(auth.session, info)
    logger.info("reauthenticated: user_id=%s", auth.user.id)
    return ReauthenticateSuccess(fresh_until=now + services.policy.step_up)


async def _checked_login(info: Info, auth_id: str, password: str) -> LoginResult:
    lang = info.context.lang
    services = info.context.services
    attempt = Attempt(
        origin=info.context.origin,
        auth_id=shown_auth_id(auth_id),
        rejected=ErrorCode.INVALID_INPUT.value,
        locked=ErrorCode.ACCOUNT_LOCKED.value,
        detail="login",
    )
    check = await check_password(services, auth_id, password, attempt)
    user = check.user
    if check.outcome is Outcome.LOCKED:
        logger.info("login refused, locked: auth_id=%s", loggable(auth_id))
        return await locked(info, auth_id)
    if check.outcome is Outcome.BUSY:
        logger.warning("login refused, slots busy: auth_id=%s", loggable(auth_id))
        return await too_many(
            info, BUSY_RETRY, "login-slots", auth_id=shown_auth_id(auth_id)
        )
    if check.outcome is not Outcome.ACCEPTED or user is None:
        logger.info("login failed: auth_id=%s", loggable(auth_id))
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    encoded = user.password_hash
    attempt = replace(attempt, user_id=user.id)

    now = services.clock.now()
    if problem := status_error(user, now, info):
        logger.info("login refused: user_id=%s code=%s", user.id, problem.code)
        await attempt.record(AuditType.LOGIN_FAILED, problem.code, at=now)
        return problem
    if encoded is None:  # verify() never accepts a missing hash
        await attempt.record(AuditType.LOGIN_FAILED, attempt.rejected, at=now)
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
                await attempt.record(AuditType.LOGIN_FAILED, attempt.rejected, at=now)
                return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
            encoded = stored
    if user.two_step:
        return await _code_step(info, user, encoded)
    kind = (
        SessionKind.CHANGE_TICKET if user.password_expired(now) else SessionKind.SESSION
    )
    token = await start_session(user, kind, info, checked_hash=encoded)
    if token is None:
        logger.info("login lost to a password change: user_id=%s", user.id)
        await attempt.record(AuditType.LOGIN_FAILED, attempt.rejected, at=now)
        return InvalidCredentialsError.build(lang, FieldLabel.CREDENTIALS)
    if kind is SessionKind.CHANGE_TICKET:
        logger.info("login with expired password: user_id=%s", user.id)
        return PasswordExpiredError.build(
            lang, change_ticket=info.context.hand_over(token)
        )
    logger.info("login: user_id=%s", user.id)
    return LoginSuccess(
        token=info.context.hand_over(token),
        idle_timeout_seconds=int(services.policy.session_idle.total_seconds()),
        user=UserType.from_model(user),
    )


async def _code_step(info: Info, user: User, checked_hash: str) -> TotpRequired:
    """The password was right for an account with two-step login: a single-use
    challenge for `verifyTotp`, tied to the password hash just verified."""
    services = info.context.services
    now = services.clock.now()
    token = new_token()
    expires_at = now + services.policy.totp_challenge
    async with in_transaction() as conn:
        await LoginChallenge.create(
            user_id=user.id,
            token_hash=token_hash(token),
            password_check=password_fingerprint(checked_hash),
            created_at=now,
            expires_at=expires_at,
            using_db=conn,
        )
        await AuditEvent.record(
            AuditType.TWO_STEP_CHALLENGED,
            at=now,
            origin=info.context.origin,
            user_id=user.id,
            auth_id=user.auth_id,
            detail="login",
            using_db=conn,
        )
    logger.info("login needs the code: user_id=%s", user.id)
    return TotpRequired(challenge_token=token, expires_at=expires_at)


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
    await UserSession.end(
        session.id,
        session.user.id,
        RevokeReason.LOGOUT,
        now=info.context.services.clock.now(),
        origin=info.context.origin,
    )
    info.context.cookie_ended = info.context.cookie_mode
    return LogoutSuccess(ok=True)
