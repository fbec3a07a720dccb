"""Housekeeping the running service does every few minutes: delete what no rule
needs any more."""

from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import Q

from mailer.outbox import erase_dead_bodies
from models import (
    LinkToken,
    LoginChallenge,
    LoginThrottle,
    RequestThrottle,
    StaffSession,
    UserSession,
    WorkerHeartbeat,
)
from models.audit import purge_before as purge_audit
from models.heartbeat import HEARTBEAT_RETENTION
from resolvers.context import Services

# Ended sessions are kept this long (for the help desk's questions), then deleted.
SESSION_RETENTION = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Purged:
    """What one housekeeping pass deleted."""

    throttles: int
    sessions: int
    requests: int = 0
    links: int = 0
    audit_seals: int = 0


async def purge_stale(services: Services) -> Purged:
    """Delete failure counters idle for the lockout period (a run of failures that
    old no longer counts as consecutive), counted requests older than every
    window, and sessions, mailed links and login code steps that ended long
    ago, and the heartbeats of mail workers that did not stop cleanly."""
    now = services.clock.now()
    throttles = await LoginThrottle.purge(
        now=now, idle_for=services.policy.lockout_duration
    )
    cutoff = now - SESSION_RETENTION
    sessions = await UserSession.purge(ended_before=cutoff)
    sessions += await StaffSession.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)
    ).delete()
    policy = services.policy
    requests = await RequestThrottle.purge(
        now=now,
        older_than=max(
            policy.request_window, policy.client_window, policy.client_login_window
        ),
    )
    links = await LinkToken.filter(expires_at__lt=cutoff).delete()
    # The code steps of logins live minutes; what is left of them is useless.
    links += await LoginChallenge.purge(before=cutoff)
    seals = await purge_audit(now=now, retention=policy.audit_retention)
    # A dead mail's body (kept for staff's retryMail) may hold a one-time link.
    await erase_dead_bodies(now=now)
    await WorkerHeartbeat.purge(before=now - HEARTBEAT_RETENTION)
    return Purged(
        throttles=throttles,
        sessions=sessions,
        requests=requests,
        links=links,
        audit_seals=seals,
    )
