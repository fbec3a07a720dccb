"""The lockout rule (manual 2.2, WZBAM153E): consecutive failed password checks
per submitted 認証ID, whether or not it exists.

One entry point, ``check_password``, used by login (and, through
``check_secret``, by the checks of resolvers.factors): it queues attempts on
one ID in this process, takes a slot in the database (LoginThrottle) so that
parallel attempts in every process never get more checks than the threshold,
checks the password (against a dummy hash for an unknown ID: the same work),
and records the outcome. A locked ID's password is not checked at all.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum
from typing import Generic, TypeVar

from models import Attempt, Limits, LoginThrottle, Reservation, User, Verdict
from resolvers.context import Services

# How long an attempt waits for attempts on the same ID in other processes.
BUSY_WAIT_SECONDS = 5.0

# When to try again after attempts elsewhere held every slot.
BUSY_RETRY = timedelta(seconds=BUSY_WAIT_SECONDS)

H = TypeVar("H")


class Outcome(Enum):
    """What one password check under the lockout rule amounted to."""

    # The password is right; the run of failures is cleared.
    ACCEPTED = "accepted"
    # Wrong, the ID is unknown or has no password yet (one answer for all):
    # counted as a failure.
    REJECTED = "rejected"
    # Locked: before the check (not made), by this failure, or by others
    # meanwhile (then even a right password is not accepted).
    LOCKED = "locked"
    # Attempts on this ID in other processes held every slot for
    # BUSY_WAIT_SECONDS; nothing was checked or counted.
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome, and the account as read for the check (None when the ID
    is unknown or nothing was checked)."""

    outcome: Outcome
    user: User | None


class KeyedLock:
    """One asyncio lock per key, dropped when nobody holds or waits for it.

    Login attempts for the same auth ID queue here within one process, so they
    meet the database's slot accounting one at a time instead of polling it.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


# Attempts in progress, per auth ID (empty when none are).
attempts = KeyedLock()


@dataclass(frozen=True, slots=True)
class SecretCheck(Generic[H]):
    """The outcome, and who holds the secrets as read for the check (None when
    the key names nobody, or nothing was checked)."""

    outcome: Outcome
    holder: H | None


async def check_password(
    services: Services, auth_id: str, password: str, attempt: Attempt
) -> PasswordCheck:
    """Check ``password`` for the (normalised) ``auth_id`` under the lockout
    rule; see the module's docstring. A failure, and a lock, is an audit event
    written with the counter's change (``attempt`` says who and how it is
    answered); a right password's event is the caller's."""
    policy = services.policy

    async def load() -> User | None:
        return await User.get_or_none(auth_id=auth_id)

    async def verify(user: User | None) -> bool:
        encoded = user.password_hash if user is not None else None
        correct = await services.hasher.verify(encoded, password)
        return correct and user is not None

    # With two-step login, only the code completes a login: a right password
    # alone leaves the run of failures as it is.
    check = await check_secret(
        services,
        auth_id,
        limits=Limits(
            threshold=policy.lockout_threshold, lock_for=policy.lockout_duration
        ),
        attempt=attempt,
        load=load,
        verify=verify,
        attach=lambda attempt, user: replace(attempt, user_id=user.id),
        clears=lambda user: not user.two_step,
    )
    return PasswordCheck(check.outcome, check.holder)


async def check_secret(
    services: Services,
    key: str,
    *,
    limits: Limits,
    attempt: Attempt,
    load: Callable[[], Awaitable[H | None]],
    verify: Callable[[H | None], Awaitable[bool]],
    attach: Callable[[Attempt, H], Attempt],
    clears: Callable[[H], bool] = lambda holder: True,
) -> SecretCheck[H]:
    """The lockout rule around any secret check: ``load`` reads who ``key``
    names (None: nobody, and ``verify`` must do the same work and say False),
    ``verify`` checks what was submitted, ``attach`` puts the holder into the
    audit event (after ``verify``: it may say what failed), ``clears`` says
    whether a right check ends the run of failures. Staff login checks
    password and TOTP code this way, under a counter of its own; applicants'
    one-time codes under their 認証ID's."""
    async with attempts.hold(key):
        reservation, slot = await _reserve(services, key, limits, attempt)
        if reservation is Reservation.LOCKED:
            return SecretCheck(Outcome.LOCKED, None)
        if reservation is Reservation.BUSY or slot is None:
            return SecretCheck(Outcome.BUSY, None)
        holder: H | None = None
        correct = False
        try:
            holder = await load()
            correct = await verify(holder)
        finally:
            # Also when the check failed: the slot goes back, as a failure.
            verdict = await LoginThrottle.finish(
                key,
                slot,
                correct=correct,
                now=services.clock.now(),
                limits=limits,
                attempt=attach(attempt, holder) if holder is not None else attempt,
                clears=holder is not None and clears(holder),
            )
    outcome = {
        Verdict.ACCEPTED: Outcome.ACCEPTED,
        Verdict.REJECTED: Outcome.REJECTED,
        Verdict.LOCKED: Outcome.LOCKED,
    }[verdict]
    return SecretCheck(outcome, holder)


async def _reserve(
    services: Services, auth_id: str, limits: Limits, attempt: Attempt
) -> tuple[Reservation, int | None]:
    """A slot for one password check, waiting while attempts elsewhere (other
    processes) hold every slot."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_WAIT_SECONDS
    pause = 0.02
    while True:
        reservation, slot = await LoginThrottle.reserve(
            auth_id, now=services.clock.now(), limits=limits, attempt=attempt
        )
        if reservation is not Reservation.BUSY or loop.time() >= deadline:
            return reservation, slot
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.25)
