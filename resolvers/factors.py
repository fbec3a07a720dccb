"""An account holder's secrets checked together under the 認証ID's lockout:
the password, a one-time code (of the enrolled secret, or of a begun set-up)
and recovery codes. One submission is one attempt: when any part is wrong it
is one failure, answered for the first wrong part."""

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from tortoise.transactions import in_transaction

from mailer.outbox import enqueue
from mailer.render import RecoveryCodeUsed
from models import Attempt, AuditEvent, AuditType, Limits, RecoveryCode, User
from resolvers.context import Info, Services
from resolvers.lockout import Outcome, check_secret
from schema.messages import ErrorCode
from security.secretbox import SecretUnreadable
from security.tokens import looks_like_auth_id
from security.totp import (
    TOTP_DIGITS,
    clean_code,
    could_be_recovery_code,
    matching_step,
)

logger = logging.getLogger("ras_identity.two_step")


@dataclass(frozen=True, slots=True)
class Factors:
    """What was submitted. ``code`` is a one-time code; with ``or_recovery``
    an unused recovery code is accepted in its place. ``recovery`` is a
    recovery code only. ``pending``: the code is checked against the begun
    set-up's secret (proving nothing the caller could not know: it never
    ends the run of failures)."""

    password: str | None = None
    code: str | None = None
    recovery: str | None = None
    or_recovery: bool = False
    pending: bool = False

    @property
    def second(self) -> bool:
        return self.code is not None or self.recovery is not None


@dataclass(slots=True)
class FactorCheck:
    """The outcome; the account as read for it; which input was wrong
    (``failed``: its GraphQL field, and whether it was the code); the time
    step of an accepted code; and whether a recovery code was used up."""

    outcome: Outcome = Outcome.REJECTED
    user: User | None = None
    failed: str | None = None
    wrong_code: bool = False
    step: int | None = None
    used_recovery: bool = False


def code_shaped(text: str, *, otp: bool = True, recovery: bool = False) -> bool:
    """Whether ``text``, as typed, can be a one-time code (6 digits) or a
    recovery code (12 characters of their alphabet), as allowed. Input that
    can be neither is answered as malformed and not counted: nothing was
    checked against the account's secrets."""
    cleaned = clean_code(text)
    is_otp = len(cleaned) == TOTP_DIGITS and cleaned.isascii() and cleaned.isdigit()
    return (otp and is_otp) or (recovery and could_be_recovery_code(cleaned))


def password_fingerprint(encoded: str | None) -> str:
    """What a login's code step keeps of the password hash it verified."""
    return hashlib.sha256((encoded or "").encode("utf-8")).hexdigest()


def applicant_limits(services: Services) -> Limits:
    policy = services.policy
    return Limits(threshold=policy.lockout_threshold, lock_for=policy.lockout_duration)


async def check_factors(
    info: Info,
    user: User,
    factors: Factors,
    *,
    purpose: str,
    field: str = "currentPassword",
    code_field: str = "code",
) -> FactorCheck:
    """Check ``factors`` for ``user`` under the lockout counter of their
    認証ID; see the module's docstring. A right submission ends the run of
    failures only when it includes a code of the enrolled secret, or when
    the account has no two-step login (a password alone does not, for an
    account that has: each right password would otherwise buy a code
    guesser a fresh run)."""
    context = info.context
    services = context.services
    result = FactorCheck()

    async def load() -> User | None:
        return await User.get_or_none(id=user.id)

    def wrong(code: bool) -> bool:
        result.failed = code_field if code else field
        result.wrong_code = code
        return False

    async def verify(holder: User | None) -> bool:
        if holder is None:  # deleted meanwhile
            return wrong(code=factors.password is None)
        if factors.password is not None and not await services.hasher.verify(
            holder.password_hash, factors.password
        ):
            return wrong(code=False)
        if factors.second and not await _second_factor(
            services, holder, factors, result, services.clock.now()
        ):
            return wrong(code=True)
        return True

    def attach(attempt: Attempt, holder: User) -> Attempt:
        rejected = (
            ErrorCode.ONE_TIME_CODE_WRONG.value
            if result.wrong_code
            else attempt.rejected
        )
        return replace(
            attempt,
            user_id=holder.id,
            rejected=rejected,
            wrong_code=result.wrong_code,
        )

    attempt = Attempt(
        origin=context.origin,
        auth_id=user.auth_id if looks_like_auth_id(user.auth_id) else None,
        rejected=ErrorCode.CURRENT_PASSWORD_WRONG.value,
        locked=ErrorCode.ACCOUNT_LOCKED.value,
        detail=purpose,
        user_id=user.id,
    )
    check = await check_secret(
        services,
        user.auth_id,
        limits=applicant_limits(services),
        attempt=attempt,
        load=load,
        verify=verify,
        attach=attach,
        clears=lambda holder: (
            not factors.pending and (factors.second or not holder.two_step)
        ),
    )
    result.outcome = check.outcome
    result.user = check.holder
    if result.used_recovery:
        await _report_recovery_use(info, user)
    return result


async def _second_factor(
    services: Services,
    user: User,
    factors: Factors,
    result: FactorCheck,
    now: datetime,
) -> bool:
    if factors.recovery is not None:
        return await _recovery(
            services, user, clean_code(factors.recovery), result, now
        )
    code = clean_code(factors.code or "")
    if factors.or_recovery and could_be_recovery_code(code):
        return await _recovery(services, user, code, result, now)
    if factors.pending:
        stored = user.totp_pending_secret
        if user.totp_pending_until is None or user.totp_pending_until <= now:
            return False
    else:
        stored = user.totp_secret if user.two_step else None
    if stored is None:
        return False
    try:
        secret = services.secrets.open(stored, owner=user.id)
    except SecretUnreadable:
        # RAS_SECRET_KEY changed, or the row was altered: no code can match.
        logger.error("TOTP secret unreadable: user_id=%s", user.id)
        return False
    step = matching_step(secret, code, now)
    if step is None:
        return False
    if not factors.pending and not await user.use_totp_step(step):
        return False  # this step's code (or a later one) was accepted before
    result.step = step
    return True


async def _recovery(
    services: Services, user: User, code: str, result: FactorCheck, now: datetime
) -> bool:
    if not user.two_step or not could_be_recovery_code(code):
        return False
    digest = services.secrets.code_hash(code, owner=user.id)
    if not await RecoveryCode.use(user.id, digest, now=now):
        return False
    result.used_recovery = True
    return True


async def _report_recovery_use(info: Info, user: User) -> None:
    """A recovery code was used up: recorded, and the user told by mail (with
    how many are left), whatever the attempt amounts to."""
    services = info.context.services
    now = services.clock.now()
    left = await RecoveryCode.left(user.id)
    async with in_transaction() as conn:
        await AuditEvent.record(
            AuditType.RECOVERY_CODE_USED,
            at=now,
            origin=info.context.origin,
            user_id=user.id,
            using_db=conn,
        )
        await enqueue(
            services.composer,
            RecoveryCodeUsed(
                to=user.email, name=user.name, used_at=now, codes_left=left
            ),
            now=now,
            using_db=conn,
            user_id=user.id,
        )
