"""Applicants' two-step login: set-up, the code step of a login, turning it
off, recovery codes (see the README's "Two-step login")."""

import logging
from datetime import datetime
from typing import Annotated

import segno
import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from mailer.outbox import enqueue
from mailer.render import Mail, TwoStepDisabled, TwoStepEnabled
from mailer.render import RecoveryCodesRegenerated as RecoveryCodesRegeneratedMail
from models import (
    AuditEvent,
    AuditType,
    LoginChallenge,
    RecoveryCode,
    SessionKind,
    User,
    remove_two_step,
)
from resolvers.auth import (
    check_own_password,
    password_and_code_answer,
    refusal,
    wrong_code,
)
from resolvers.context import Info, Services
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
from resolvers.lockout import BUSY_RETRY, Outcome
from resolvers.session import (
    Authenticated,
    authenticate,
    recently_authenticated,
    start_session,
    status_error,
)
from schema.auth import LoginSuccess
from schema.errors import (
    AccountLockedError,
    InputProblem,
    InvalidFieldError,
    OneTimeCodeWrongError,
    PasswordExpiredError,
    ReauthenticationRequiredError,
    RequiredFieldError,
    StepExpiredError,
    TooManyRequestsError,
    TwoStepStateError,
)
from schema.messages import FieldLabel
from schema.two_step import (
    BeginTotpEnrollmentInput,
    BeginTotpEnrollmentResult,
    ConfirmTotpEnrollmentInput,
    ConfirmTotpEnrollmentResult,
    DisableTotpInput,
    DisableTotpResult,
    RecoveryCodesRegenerated,
    RegenerateRecoveryCodesInput,
    RegenerateRecoveryCodesResult,
    TotpDisabled,
    TotpEnabled,
    TotpEnrollment,
    VerifyTotpInput,
    VerifyTotpResult,
)
from schema.types import User as UserType
from security.tokens import could_be_token, token_hash
from security.totp import clean_code, new_recovery_codes, new_totp_secret
from security.totp import provisioning_uri as totp_uri

logger = logging.getLogger("ras_identity.two_step")


async def begin_totp_enrollment(
    info: Info,
    input: Annotated[
        BeginTotpEnrollmentInput,
        strawberry.argument(description="The current password."),
    ],
) -> BeginTotpEnrollmentResult:
    """Begin setting up two-step login: a fresh secret for an authenticator app,
    waiting for its first code (confirmTotpEnrollment) until `expiresAt`.

    Outcomes, in order:
    - an AuthError: no usable session.
    - TwoStepStateError (RASX013E): two-step login is on already.
    - RequiredFieldError (001E): no password.
    - AccountLockedError (153E), TooManyRequestsError (RASX004E),
      CurrentPasswordWrongError (154E): the password is checked under the
      login lockout counter; a lock ends every session.
    - TotpEnrollment: the secret, its otpauth URI and QR code. Beginning again
      replaces a set-up begun before.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    if auth.user.two_step:
        return TwoStepStateError.build(lang, enabled=True)
    if missing := required(lang, [("currentPassword", input.current_password)]):
        return missing
    checked = await check_own_password(
        info,
        auth.user,
        input.current_password[:MAX_INPUT],
        field="currentPassword",
        label=FieldLabel.CURRENT_PASSWORD,
        purpose="beginTotpEnrollment",
    )
    if not isinstance(checked, User):
        return checked
    services = info.context.services
    now = services.clock.now()
    secret = new_totp_secret()
    expires_at = now + services.policy.totp_enrollment
    async with in_transaction() as conn:
        updated = await (
            User.filter(id=checked.id, totp_enabled_at=None)
            .using_db(conn)
            .update(
                totp_pending_secret=services.secrets.seal(secret, owner=checked.id),
                totp_pending_until=expires_at,
            )
        )
        if not updated:  # turned on meanwhile, in another request
            return TwoStepStateError.build(lang, enabled=True)
        await _record(info, AuditType.TWO_STEP_ENROLLMENT_BEGUN, checked, now, conn)
    uri = totp_uri(secret, account=checked.auth_id, issuer=services.policy.totp_issuer)
    return TotpEnrollment(
        secret=secret,
        otpauth_uri=uri,
        qr_svg=segno.make(uri, error="m").svg_inline(scale=4, title="otpauth"),
        expires_at=expires_at,
    )


async def confirm_totp_enrollment(
    info: Info,
    input: Annotated[
        ConfirmTotpEnrollmentInput,
        strawberry.argument(description="The app's current code."),
    ],
) -> ConfirmTotpEnrollmentResult:
    """Turn two-step login on with the first code of the begun set-up.

    Outcomes, in order:
    - an AuthError: no usable session.
    - TwoStepStateError (RASX013E): it is on already.
    - RequiredFieldError (001E): no code.
    - StepExpiredError (RASX012E): no set-up begun, or it ran out.
    - OneTimeCodeWrongError (RASX005E), AccountLockedError (153E),
      TooManyRequestsError (RASX004E): the code counts toward the lockout
      (a right one does not end the run of failures: whoever began the
      set-up knows its secret).
    - TotpEnabled: on, with 10 recovery codes shown once; a mail tells the
      user.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    services = info.context.services
    user = auth.user
    if user.two_step:
        return TwoStepStateError.build(lang, enabled=True)
    if missing := required(lang, [("code", input.code)]):
        return missing
    if problem := malformed(info, input.code, recovery=False):
        return problem
    now = services.clock.now()
    if user.totp_pending_until is None or user.totp_pending_until <= now:
        return StepExpiredError.build(lang, field="code")
    factors = Factors(code=input.code[:MAX_INPUT], pending=True)
    check = await check_factors(info, user, factors, purpose="confirmTotpEnrollment")
    checked = await code_answer(info, user, check)
    if not isinstance(checked, User):
        return checked
    pending = checked.totp_pending_secret
    codes = new_recovery_codes()
    async with in_transaction() as conn:
        # Only the set-up whose code was checked: begun again meanwhile, the
        # new secret needs its own code.
        updated = await (
            User.filter(
                id=checked.id, totp_enabled_at=None, totp_pending_secret=pending
            )
            .using_db(conn)
            .update(
                totp_secret=pending,
                # The confirming code counts as used: it cannot log in too.
                totp_last_step=check.step,
                totp_enabled_at=now,
                totp_pending_secret=None,
                totp_pending_until=None,
            )
        )
        if not updated:
            return StepExpiredError.build(lang, field="code")
        await _store_codes(services, checked.id, codes, now, conn)
        await _record(
            info,
            AuditType.TWO_STEP_ENABLED,
            checked,
            now,
            conn,
            mail=TwoStepEnabled(to=checked.email, name=checked.name, changed_at=now),
        )
    logger.info("two-step login on: user_id=%s", checked.id)
    return TotpEnabled(recovery_codes=codes)


async def disable_totp(
    info: Info,
    input: Annotated[
        DisableTotpInput,
        strawberry.argument(description="The current password and a code."),
    ],
) -> DisableTotpResult:
    """Turn two-step login off: password and code (or a recovery code), checked
    as one attempt under the lockout.

    Outcomes, in order:
    - an AuthError: no usable session.
    - TwoStepStateError (RASX013E): it is not on.
    - RequiredFieldError (001E): an item is empty.
    - CurrentPasswordWrongError (154E), OneTimeCodeWrongError (RASX005E),
      AccountLockedError (153E, every session ends), TooManyRequestsError.
    - TotpDisabled: off; recovery codes void; a mail tells the user.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    services = info.context.services
    if not auth.user.two_step:
        return TwoStepStateError.build(lang, enabled=False)
    if missing := required(
        lang, [("currentPassword", input.current_password), ("code", input.code)]
    ):
        return missing
    if problem := malformed(info, input.code, recovery=True):
        return problem
    factors = Factors(
        password=input.current_password[:MAX_INPUT],
        code=input.code[:MAX_INPUT],
        or_recovery=True,
    )
    check = await check_factors(info, auth.user, factors, purpose="disableTotp")
    checked = await password_and_code_answer(
        info,
        auth.user,
        check,
        label=FieldLabel.CURRENT_PASSWORD,
        field="currentPassword",
    )
    if not isinstance(checked, User):
        return checked
    now = services.clock.now()
    async with in_transaction() as conn:
        await remove_two_step(checked.id, now=now, using_db=conn)
        await _record(
            info,
            AuditType.TWO_STEP_DISABLED,
            checked,
            now,
            conn,
            mail=TwoStepDisabled(to=checked.email, name=checked.name, changed_at=now),
        )
    logger.info("two-step login off: user_id=%s", checked.id)
    return TotpDisabled(disabled_at=now)


async def regenerate_recovery_codes(
    info: Info,
    input: Annotated[
        RegenerateRecoveryCodesInput,
        strawberry.argument(description="The app's current code."),
    ],
) -> RegenerateRecoveryCodesResult:
    """New recovery codes for the ones used or lost; every earlier one stops
    working. Needs the authenticator app's code (not a recovery code) on a
    session whose secrets were checked within RAS_STEP_UP_SECONDS.

    Outcomes, in order: an AuthError; TwoStepStateError (RASX013E) when it is
    not on; ReauthenticationRequiredError (RASX006E) on an older session;
    RequiredFieldError (001E); InvalidFieldError (005E, not counted) for what
    cannot be a code; OneTimeCodeWrongError (RASX005E), AccountLockedError
    (153E), TooManyRequestsError under the lockout; RecoveryCodesRegenerated,
    and a mail to the user.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    services = info.context.services
    if not auth.user.two_step:
        return TwoStepStateError.build(lang, enabled=False)
    if not recently_authenticated(auth, info):
        # New codes are a way in without the app: not for a stolen session
        # with one phished code.
        return ReauthenticationRequiredError.build(lang)
    if missing := required(lang, [("code", input.code)]):
        return missing
    if problem := malformed(info, input.code, recovery=False):
        return problem
    factors = Factors(code=input.code[:MAX_INPUT])
    check = await check_factors(info, auth.user, factors, purpose="recoveryCodes")
    checked = await code_answer(info, auth.user, check)
    if not isinstance(checked, User):
        return checked
    now = services.clock.now()
    codes = new_recovery_codes()
    async with in_transaction() as conn:
        await _store_codes(services, checked.id, codes, now, conn)
        await _record(
            info,
            AuditType.RECOVERY_CODES_REGENERATED,
            checked,
            now,
            conn,
            mail=RecoveryCodesRegeneratedMail(
                to=checked.email, name=checked.name, changed_at=now
            ),
        )
    return RecoveryCodesRegenerated(recovery_codes=codes)


async def verify_totp(
    info: Info,
    input: Annotated[
        VerifyTotpInput,
        strawberry.argument(description="The challenge and a code."),
    ],
) -> VerifyTotpResult:
    """The code step of a login (after `login` answered TotpRequired).

    Outcomes, in order:
    - RequiredFieldError (001E): no challenge, or neither code.
    - InvalidFieldError (005E): both `code` and `recoveryCode`.
    - TooManyRequestsError (RASX004E): this client address failed too often.
    - StepExpiredError (RASX012E): the challenge is unknown, used, expired,
      or voided (a lock, a password change or reset, two-step login removed).
    - OneTimeCodeWrongError (RASX005E): wrong, stale (beyond one 30-second
      step of drift) or already used code, or a wrong or used recovery code;
      counted on the 認証ID's lockout; the challenge stays usable.
    - AccountLockedError (153E): the lock is reached or in force; the
      challenge is void.
    - status errors (155E, 156E, 150E, 151E) as in `login`.
    - PasswordExpiredError (158E) with a change ticket, or LoginSuccess.
    """
    context = info.context
    lang = context.lang
    services = context.services
    if missing := required(lang, [("challengeToken", input.challenge_token)]):
        return missing
    code = input.code or None
    recovery = input.recovery_code or None
    if code is None and recovery is None:
        return RequiredFieldError.build(lang, field="code", fields=["code"])
    if code is not None and recovery is not None:
        return InvalidFieldError.build(
            lang,
            FieldLabel.RECOVERY_CODE,
            field="recoveryCode",
            reason=InputProblem.MALFORMED,
        )
    text, field = (
        (code, "code") if code is not None else (recovery or "", "recoveryCode")
    )
    if problem := malformed(
        info, text, field=field, otp=code is not None, recovery=True
    ):
        return problem
    if refused := await reserve_login_failure(info):
        return refused
    now = services.clock.now()
    token = input.challenge_token[:MAX_INPUT]
    challenge = (
        await LoginChallenge.get_or_none(token_hash=token_hash(token))
        if could_be_token(token)
        else None
    )
    user = (
        await User.get_or_none(id=challenge.user_id)
        if challenge is not None and challenge.usable(now)
        else None
    )
    if challenge is None or user is None:
        return StepExpiredError.build(lang, field="challengeToken")
    # What would refuse the login anyway is answered before any code is
    # checked (and counted, or a recovery code used up).
    if refused_step := await _still_valid(info, challenge, user):
        return refused_step
    # Held while the code is checked: a second request on the challenge (a
    # double submit) cannot use up a second code.
    if not await LoginChallenge.claim(challenge.id, now=now):
        return StepExpiredError.build(lang, field="challengeToken")
    factors = Factors(
        code=code[:MAX_INPUT] if code else None,
        recovery=recovery[:MAX_INPUT] if recovery else None,
        or_recovery=True,
    )
    check = await check_factors(
        info, user, factors, purpose="verifyTotp", code_field=field
    )
    if check.outcome is Outcome.LOCKED:
        await LoginChallenge.use(challenge.id, now=services.clock.now())  # void
        return await locked(info, user.auth_id)
    if check.outcome is not Outcome.ACCEPTED or check.user is None:
        await LoginChallenge.release(challenge.id)
        if check.outcome is Outcome.BUSY:
            return await too_many(info, BUSY_RETRY, "login-slots", user_id=user.id)
        label = (
            FieldLabel.ONE_TIME_CODE if code is not None else FieldLabel.RECOVERY_CODE
        )
        return OneTimeCodeWrongError.build(lang, label, field=field)
    await forgive_login_failure(info)
    return await _finish_login(info, challenge, check)


async def _still_valid(
    info: Info, challenge: LoginChallenge, user: User
) -> VerifyTotpResult | None:
    """None when the challenge's login can still succeed; else its answer (the
    challenge is void): the password changed since it was checked (RASX012E),
    or the account can no longer log in (155E, 156E, 150E, 151E)."""
    services = info.context.services
    now = services.clock.now()
    answer: VerifyTotpResult | None = None
    if password_fingerprint(user.password_hash) != challenge.password_check:
        answer = StepExpiredError.build(info.context.lang, field="challengeToken")
    elif problem := status_error(user, now, info):
        await AuditEvent.record(
            AuditType.LOGIN_FAILED,
            at=now,
            origin=info.context.origin,
            outcome=problem.code,
            user_id=user.id,
            auth_id=user.auth_id,
            detail="verifyTotp",
        )
        answer = problem
    if answer is not None:
        await LoginChallenge.use(challenge.id, now=now)
    return answer


async def _finish_login(
    info: Info, challenge: LoginChallenge, check: FactorCheck
) -> VerifyTotpResult:
    lang = info.context.lang
    services = info.context.services
    now = services.clock.now()
    user = check.user
    assert user is not None  # noqa: S101 (ACCEPTED always has the account)
    expired = StepExpiredError.build(lang, field="challengeToken")
    encoded = user.password_hash
    if encoded is None:
        return expired
    # Changed while the code was checked (the account as read for the check).
    if refused := await _still_valid(info, challenge, user):
        return refused
    # Used up before the session starts (which voids the user's open ones);
    # voided meanwhile (a lock, staff, a newer login), it is expired.
    if not await LoginChallenge.use(challenge.id, now=now):
        return expired
    kind = (
        SessionKind.CHANGE_TICKET if user.password_expired(now) else SessionKind.SESSION
    )
    token = await start_session(user, kind, info, checked_hash=encoded)
    if token is None:
        return expired
    if kind is SessionKind.CHANGE_TICKET:
        return PasswordExpiredError.build(
            lang, change_ticket=info.context.hand_over(token)
        )
    logger.info("login with two steps: user_id=%s", user.id)
    return LoginSuccess(
        token=info.context.hand_over(token),
        idle_timeout_seconds=int(services.policy.session_idle.total_seconds()),
        user=UserType.from_model(user),
    )


def malformed(
    info: Info, text: str, *, field: str = "code", otp: bool = True, recovery: bool
) -> InvalidFieldError | None:
    """005E (not counted) for input that cannot be a code of the kinds allowed."""
    if code_shaped(text[:MAX_INPUT], otp=otp, recovery=recovery):
        return None
    label = FieldLabel.RECOVERY_CODE if not otp else FieldLabel.ONE_TIME_CODE
    return InvalidFieldError.build(
        info.context.lang, label, field=field, reason=InputProblem.MALFORMED
    )


async def code_answer(
    info: Info, user: User, check: FactorCheck
) -> User | AccountLockedError | TooManyRequestsError | OneTimeCodeWrongError:
    """A code checked alone: the user when right, else why not."""
    if refused := await refusal(info, user, check):
        return refused
    if check.outcome is not Outcome.ACCEPTED or check.user is None:
        return wrong_code(info, check)
    return check.user


async def _store_codes(
    services: Services,
    user_id: int,
    codes: list[str],
    now: datetime,
    conn: BaseDBAsyncClient,
) -> None:
    hashes = [services.secrets.code_hash(clean_code(c), owner=user_id) for c in codes]
    await RecoveryCode.replace_all(user_id, hashes, now=now, using_db=conn)


async def _record(
    info: Info,
    event: AuditType,
    user: User,
    now: datetime,
    conn: BaseDBAsyncClient,
    *,
    mail: Mail | None = None,
) -> None:
    """The event in the audit trail, and the mail that tells the user, in the
    change's transaction."""
    await AuditEvent.record(
        event, at=now, origin=info.context.origin, user_id=user.id, using_db=conn
    )
    if mail is not None:
        await enqueue(
            info.context.services.composer,
            mail,
            now=now,
            using_db=conn,
            user_id=user.id,
        )
