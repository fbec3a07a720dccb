"""Sessions: start one at login, and authenticate every call that needs one.

One active session per user: a newer login displaces the older session, whose
next call answers WZBAM099E. Idle and absolute limits answer RASX001E.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import (
    OK,
    AccountStatus,
    AuditEvent,
    AuditType,
    RevokeReason,
    SessionKind,
    User,
    UserSession,
)
from resolvers.context import Info
from schema.errors import (
    AccountDeletedError,
    AccountSuspendedError,
    AuthError,
    DuplicateLoginError,
    NotAuthenticatedError,
    PasswordExpiredError,
    SessionExpiredError,
    UsageExpiredError,
    UserInfoInvalidError,
)
from schema.messages import ErrorCode
from security.tokens import could_be_token, new_token, token_hash

_CACHE_KEY = "authenticated"
# A session's last call is written at most this often: a write per call was
# a fifth of `me`'s time on SQLite (bench/run). The idle limit may thus end a
# session up to this much early, never late.
TOUCH_EVERY = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The caller's user and session, once the Bearer token checked out."""

    user: User
    session: UserSession


def recently_authenticated(auth: Authenticated, info: Info) -> bool:
    """Whether the session's password was checked (login, reauthenticate) within
    RAS_STEP_UP_SECONDS: sensitive changes need it, so that a stolen token
    alone cannot make them."""
    checked = auth.session.authenticated_at
    services = info.context.services
    return checked is not None and (
        services.clock.now() - checked <= services.policy.step_up
    )


async def start_session(
    user: User, kind: SessionKind, info: Info, *, checked_hash: str
) -> str | None:
    """Open a session (or change ticket) for ``user`` and return its token, or
    None if the password is no longer ``checked_hash`` (the one the login
    verified): a reset or change that committed meanwhile ended every session,
    and a login with the old password must not outlive it.

    One active credential per user: every other session and ticket of the user
    is revoked as DISPLACED, in one transaction that first locks the user row,
    so two simultaneous logins cannot both stay active.
    """
    services = info.context.services
    now = services.clock.now()
    lifetime = (
        services.policy.session_max
        if kind is SessionKind.SESSION
        else services.policy.change_ticket_lifetime
    )
    token = new_token()
    async with in_transaction() as conn:
        locked = await User.select_for_update().using_db(conn).get(id=user.id)
        if locked.password_hash != checked_hash:
            return None
        origin = info.context.origin
        await UserSession.end_all(
            user.id, RevokeReason.DISPLACED, now=now, origin=origin, using_db=conn
        )
        await UserSession.create(
            user_id=user.id,
            token_hash=token_hash(token),
            kind=kind,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            authenticated_at=now,
            client=origin.client,
            using_db=conn,
        )
        if kind is SessionKind.SESSION:
            user.previous_login_at = user.last_login_at
            user.last_login_at = now
            await user.save(
                using_db=conn, update_fields=["previous_login_at", "last_login_at"]
            )
        await AuditEvent.record(
            AuditType.LOGIN_SUCCEEDED,
            at=now,
            origin=origin,
            # A change ticket is a login answered WZBAM158E.
            outcome=OK
            if kind is SessionKind.SESSION
            else ErrorCode.PASSWORD_EXPIRED.value,
            user_id=user.id,
            auth_id=user.auth_id,
            using_db=conn,
        )
    return token


def status_error(
    user: User, now: datetime, info: Info
) -> (
    AccountSuspendedError
    | AccountDeletedError
    | UserInfoInvalidError
    | UsageExpiredError
    | None
):
    """Why this account may not be used now, or None."""
    lang = info.context.lang
    if user.status is AccountStatus.SUSPENDED:
        return AccountSuspendedError.build(lang)
    if user.status is AccountStatus.DELETED:
        return AccountDeletedError.build(lang)
    if user.status is AccountStatus.INVALID:
        return UserInfoInvalidError.build(lang)
    if user.usage_expired(now):
        return UsageExpiredError.build(lang)
    return None


# The answers that say the token's session is over (or never was).
_SESSION_GONE = (NotAuthenticatedError, SessionExpiredError, DuplicateLoginError)


def _revoked_error(reason: RevokeReason | None, info: Info) -> AuthError:
    lang = info.context.lang
    if reason is RevokeReason.DISPLACED:
        return DuplicateLoginError.build(lang)
    if reason in {RevokeReason.IDLE_TIMEOUT, RevokeReason.LIFETIME}:
        return SessionExpiredError.build(lang)
    return NotAuthenticatedError.build(lang)


async def revoked_error(session: UserSession, info: Info) -> AuthError:
    """The answer for a session found ended after it was authenticated."""
    await session.refresh_from_db(fields=["revoked_reason"])
    return _revoked_error(session.revoked_reason, info)


async def find_session(info: Info) -> UserSession | None:
    """The session row of the Bearer token, whatever its state."""
    bearer = info.context.bearer
    if not bearer or not could_be_token(bearer):
        return None
    return await UserSession.with_user(token_hash(bearer))


async def authenticate(
    info: Info, *, allow_ticket: bool = False
) -> Authenticated | AuthError:
    """Check the Bearer token and touch the session, once per request.

    A change ticket (from WZBAM158E) is accepted only where ``allow_ticket``;
    elsewhere it answers WZBAM158E again so the portal goes to password change.
    """
    cached = info.context.cache.get(_CACHE_KEY)
    if cached is None:
        cached = await _authenticate(info)
        info.context.cache[_CACHE_KEY] = cached
        if isinstance(cached, _SESSION_GONE):
            # A browser's cookie of a session that is over is cleared.
            info.context.cookie_ended = info.context.cookie_mode
    if (
        isinstance(cached, Authenticated)
        and cached.session.kind is SessionKind.CHANGE_TICKET
        and not allow_ticket
    ):
        return PasswordExpiredError.build(info.context.lang)
    return cached


async def _authenticate(info: Info) -> Authenticated | AuthError:
    session = await find_session(info)
    if session is None:
        return NotAuthenticatedError.build(info.context.lang)
    if session.revoked_at is not None:
        return _revoked_error(session.revoked_reason, info)
    services = info.context.services
    now = services.clock.now()
    if now >= session.expires_at:
        return await _expire(session, RevokeReason.LIFETIME, now, info)
    if now - session.last_seen_at >= services.policy.session_idle:
        return await _expire(session, RevokeReason.IDLE_TIMEOUT, now, info)
    if problem := status_error(session.user, now, info):
        return problem
    if session.kind is SessionKind.SESSION and session.user.password_expired(now):
        # Logging in again yields the change ticket.
        return PasswordExpiredError.build(info.context.lang)
    if now - session.last_seen_at >= TOUCH_EVERY:
        # Conditional on still being active: a login that displaced this
        # session between the read above and now wins, and this call answers
        # WZBAM099E.
        if not await UserSession.touch(session.id, now=now):
            return await revoked_error(session, info)
        session.last_seen_at = now
    return Authenticated(user=session.user, session=session)


async def _expire(
    session: UserSession, reason: RevokeReason, now: datetime, info: Info
) -> AuthError:
    await UserSession.end(
        session.id, session.user.id, reason, now=now, origin=info.context.origin
    )
    return SessionExpiredError.build(info.context.lang)
