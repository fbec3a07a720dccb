"""Request limits as answers: RASX004E with how long to wait, and the limits per
client address (kept in the database, so every web process counts the same)."""

import logging
import math
from datetime import timedelta
from enum import StrEnum

from models import RequestThrottle
from schema.context import Info
from schema.errors import TooManyRequestsError

logger = logging.getLogger("ras_identity.limits")


class ClientLimit(StrEnum):
    """What is counted per client address in RAS_CLIENT_WINDOW_SECONDS."""

    REGISTRATION = "register"
    RESET_REQUEST = "reset"
    LINK = "link"


def too_many(info: Info, wait: timedelta) -> TooManyRequestsError:
    """RASX004E saying when to try again; the HTTP answer carries the longest
    such wait as ``Retry-After``."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    context = info.context
    context.retry_after = max(context.retry_after or 0, seconds)
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
    return too_many(info, wait)


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
    return too_many(info, wait)


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
