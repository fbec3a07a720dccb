"""Request limits as answers: RASX004E with how long to wait, and the limits per
client address (kept in the database, so every web process counts the same)."""

import logging
import math
from datetime import datetime, timedelta
from enum import StrEnum

from models import AuditEvent, AuditType, LinkToken, LoginThrottle, RequestThrottle
from resolvers.context import Info
from schema.errors import AccountLockedError, LinkInvalidError, TooManyRequestsError
from schema.messages import ErrorCode

logger = logging.getLogger("ras_identity.limits")


class ClientLimit(StrEnum):
    """What is counted per client address in RAS_CLIENT_WINDOW_SECONDS."""

    REGISTRATION = "register"
    RESET_REQUEST = "reset"
    # Mailed links that did not work (unknown, used, voided, expired): a working
    # link is never refused for its holder's neighbours' mistakes.
    LINK = "link"


async def locked(info: Info, key: str) -> AccountLockedError:
    """WZBAM153E for the lockout counter ``key`` (a submitted 認証ID, known
    or not, or a staff login ID's key), with the seconds until the lock lifts
    by itself (also the HTTP ``Retry-After``). Every submitted ID has its own
    counter, so the wait tells nothing about whether an account exists."""
    context = info.context
    now = context.services.clock.now()
    until = (
        await LoginThrottle.filter(key=key)
        .first()
        .values_list("locked_until", flat=True)
    )
    seconds = 0
    if isinstance(until, datetime) and until > now:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        context.retry_after = max(context.retry_after or 0, seconds)
    return AccountLockedError.build(context.lang, retry_after_seconds=seconds)


async def too_many(
    info: Info,
    wait: timedelta,
    limit: str,
    *,
    user_id: int | None = None,
    auth_id: str | None = None,
) -> TooManyRequestsError:
    """RASX004E saying when to try again (the HTTP answer carries the longest
    such wait as ``Retry-After``), recorded as the audit event that ``limit``
    was hit (with the account or the 認証ID as it may be shown, when known)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    context = info.context
    context.retry_after = max(context.retry_after or 0, seconds)
    await AuditEvent.record(
        AuditType.LIMIT_HIT,
        at=context.services.clock.now(),
        origin=context.origin,
        outcome=ErrorCode.TOO_MANY_REQUESTS.value,
        user_id=user_id,
        auth_id=auth_id,
        detail=limit,
    )
    return TooManyRequestsError.build(context.lang, retry_after_seconds=seconds)


async def client_allowance(
    info: Info, limit: ClientLimit
) -> TooManyRequestsError | None:
    """Count one request of this kind for the caller's address, or RASX004E when
    the address has made its allowance in the window (nothing counted then).
    In-process callers (no address) are not limited."""
    client = info.context.client
    if client is None:
        return None
    policy = info.context.services.policy
    allowance = {
        ClientLimit.REGISTRATION: policy.client_registration_limit,
        ClientLimit.RESET_REQUEST: policy.client_reset_request_limit,
        ClientLimit.LINK: policy.client_link_limit,
    }[limit]
    wait = await RequestThrottle.take(
        f"client-{limit}:{client}",
        now=info.context.services.clock.now(),
        window=policy.client_window,
        limit=allowance,
    )
    if wait is None:
        return None
    logger.warning("refused, client over its %s limit: client=%s", limit, client)
    return await too_many(info, wait, f"client-{limit}")


async def link_refused(info: Info) -> LinkInvalidError | TooManyRequestsError:
    """The answer for a mailed link that does not work: RASX003E, counted
    against the caller's address, and RASX004E once the address has sent
    RAS_CLIENT_LINK_LIMIT such links in the window."""
    if refused := await client_allowance(info, ClientLimit.LINK):
        return refused
    return LinkInvalidError.build(info.context.lang, field="token")


async def link_use_allowance(
    info: Info, link: LinkToken
) -> TooManyRequestsError | None:
    """Count one use of a working link (a policy error may follow, and each try
    can cost argon2 work): RASX004E past RAS_LINK_ATTEMPT_LIMIT in the window."""
    policy = info.context.services.policy
    wait = await RequestThrottle.take(
        f"link-use:{link.id}",
        now=info.context.services.clock.now(),
        window=policy.request_window,
        limit=policy.link_attempt_limit,
    )
    if wait is None:
        return None
    logger.warning("link refused, used too often: user_id=%s", link.user.id)
    return await too_many(info, wait, "link-use", user_id=link.user.id)


def _login_key(client: str) -> str:
    return f"client-login:{client}"


async def reserve_login_failure(info: Info) -> TooManyRequestsError | None:
    """Before a password check: count it as a failure of the caller's address
    in advance (``forgive_login_failure`` takes it back when the password was
    right), or RASX004E when the address already failed its allowance in the
    window. Counting first keeps parallel attempts from overshooting it."""
    client = info.context.client
    if client is None:
        return None
    policy = info.context.services.policy
    wait = await RequestThrottle.take(
        _login_key(client),
        now=info.context.services.clock.now(),
        window=policy.client_login_window,
        limit=policy.client_login_failure_limit,
    )
    if wait is None:
        return None
    logger.warning("login refused, client over its failure limit: client=%s", client)
    return await too_many(info, wait, "client-login-failures")


async def forgive_login_failure(info: Info) -> None:
    """The password proved right: the attempt was no failure."""
    client = info.context.client
    if client is None:
        return
    await RequestThrottle.give_back(
        _login_key(client),
        now=info.context.services.clock.now(),
        window=info.context.services.policy.client_login_window,
    )
