"""The delivery worker: claim due rows, send them over one SMTP connection, record
what happened; and, on a slower beat, enqueue reminders and lock notices.

Delivery is at-least-once: a row is marked SENT only after the server accepted
it, so a worker that dies in between leaves the row claimed until its lease runs
out, and the next worker sends the same message (same Message-ID) again.
"""

import asyncio
import contextlib
import logging
import random
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailer.notices import enqueue_expiry_reminders, enqueue_lock_notices
from mailer.outbox import claim, defer, extend, mark_dead, mark_sent, release
from mailer.render import Composer
from mailer.smtp import (
    Failure,
    SendError,
    SmtpConnection,
    SmtpTransport,
    describe_error,
)
from models import OutboxMail, WorkerHeartbeat, WorkerIdentity
from models.heartbeat import BEAT_INTERVAL
from security.clock import Clock
from telemetry import metrics

logger = logging.getLogger("ras_identity.mail")

_MAX_EXPONENT = 30  # 2**30 seconds is far past any cap; keeps the float finite


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Batching, retry and lease numbers (each a ``RAS_MAIL_*`` setting)."""

    batch_size: int = 50
    poll_interval: timedelta = timedelta(seconds=1)
    retry_base: timedelta = timedelta(seconds=1)
    retry_max: timedelta = timedelta(seconds=60)
    max_attempts: int = 100
    claim_lease: timedelta = timedelta(minutes=5)
    sweep_interval: timedelta = timedelta(minutes=5)
    # How often the worker renews its WorkerHeartbeat row (readiness checks
    # read it); on the worker's clock, by a task of its own and at each pass.
    heartbeat_interval: timedelta = BEAT_INTERVAL

    def backoff(self, failures: int) -> timedelta:
        """Exponential from ``retry_base``, capped at ``retry_max``, with jitter
        (between half and all of it) so that workers do not retry in step."""
        exponent = min(max(failures, 1) - 1, _MAX_EXPONENT)
        ceiling = min(self.retry_max, self.retry_base * float(1 << exponent))
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)


class DeliveryWorker:
    """One worker; several may run against one PostgreSQL database."""

    def __init__(
        self,
        *,
        transport: SmtpTransport,
        composer: Composer,
        clock: Clock,
        policy: DeliveryPolicy,
    ) -> None:
        self.transport = transport
        self.composer = composer
        self.clock = clock
        self.policy = policy
        # Consecutive session failures (unreachable, refused, connection lost):
        # the worker's own backoff, so an outage costs a connection attempt now
        # and then, not one per row.
        self._session_failures = 0
        self._pause = timedelta(0)
        self.identity = WorkerIdentity.of_this_process()
        self._started_at: datetime | None = None
        self._beat_at: datetime | None = None

    async def deliver_batch(self, stop: asyncio.Event | None = None) -> int:
        """Claim and send one batch; return how many rows the server was offered.

        Rows not offered (the session failed, the lease was lost, ``stop`` was
        set, or the task was cancelled) are handed back with their attempt
        uncounted.
        """
        loop = asyncio.get_running_loop()
        claimed_at = loop.time()
        rows = await claim(
            now=self.clock.now(),
            limit=self.policy.batch_size,
            lease=self.policy.claim_lease,
        )
        if not rows:
            return 0
        batch = _Batch(rows, self.clock)
        try:
            async with self.transport.connect() as connection:
                await self._send_all(connection, batch, claimed_at, stop)
        except SendError as exc:
            if exc.failure is not Failure.SESSION:
                raise
            await self._session_failed(batch, exc)
        finally:
            # Also when cancelled: what the server took is recorded, and what
            # was not offered goes back to be sent by whoever comes next (only
            # rows this worker still holds: release checks the claim).
            await batch.marker.close()
            await release(batch.untried(), error=None, retry_at=self.clock.now())
        return batch.offered

    async def _session_failed(self, batch: "_Batch", exc: SendError) -> None:
        self._session_failures += 1
        delay = self.policy.backoff(self._session_failures)
        self._pause = delay
        untried = batch.untried()
        batch.next = len(batch.rows)  # handed back here, with the pause
        await release(untried, error=exc.detail, retry_at=self.clock.now() + delay)
        logger.warning(
            "mail server %s: session failed (%s); %d mails wait %.1f s",
            self.transport.target.describe(),
            exc.detail,
            len(untried),
            delay.total_seconds(),
        )

    async def _send_all(
        self,
        connection: SmtpConnection,
        batch: "_Batch",
        claimed_at: float,
        stop: asyncio.Event | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        lease = self.policy.claim_lease
        while batch.next < len(batch.rows):
            if stop is not None and stop.is_set():
                return  # shutting down: the rest goes back to other workers
            if loop.time() - claimed_at >= lease.total_seconds() / 2:
                # A slow server: renew before half the lease is gone (settings
                # keep the lease above ten SMTP timeouts, so one message always
                # fits in the other half).
                untried = batch.untried()
                claimed_at = loop.time()
                kept = await extend(untried, until=self.clock.now() + lease)
                if kept < len(untried):
                    # Another worker has some of these now; sending on would
                    # send them twice. What is still ours is handed back.
                    logger.warning("mail batch lost its claim (lease ran out)")
                    return
            row = batch.rows[batch.next]
            batch.next += 1
            batch.offered += 1
            try:
                if row.message is None:
                    raise SendError(Failure.PERMANENT, "the row holds no message")
                await connection.send(
                    sender=self.composer.envelope_sender,
                    recipient=row.recipient,
                    message=row.message,
                )
            except SendError as exc:
                if exc.failure is Failure.SESSION:
                    batch.next -= 1  # not this message's fault: uncounted
                    batch.offered -= 1
                    raise
                await self._failed(row, exc)
                if exc.connection_lost:
                    await self._session_failed(batch, exc)
                    return
            except Exception as exc:
                # Unforeseen (a reply the client cannot parse …): this row is
                # deferred, and the connection is not trusted any further.
                failure = SendError(
                    Failure.TEMPORARY, describe_error(exc), connection_lost=True
                )
                await self._failed(row, failure)
                await self._session_failed(batch, failure)
                return
            else:
                batch.marker.add(row)
                self._session_failures = 0
                logger.info("mail %d (%s) sent", row.id, row.kind.value)

    async def _failed(self, row: OutboxMail, exc: SendError) -> None:
        if exc.failure is Failure.PERMANENT or row.attempts >= self.policy.max_attempts:
            await mark_dead(row, error=exc.detail)
            logger.error(
                "mail %d (%s) dead after %d attempts: %s",
                row.id,
                row.kind.value,
                row.attempts,
                exc.detail,
            )
            return
        delay = self.policy.backoff(row.failures + 1)
        await defer(row, error=exc.detail, retry_at=self.clock.now() + delay)
        logger.warning(
            "mail %d (%s) deferred %.1f s: %s",
            row.id,
            row.kind.value,
            delay.total_seconds(),
            exc.detail,
        )

    async def sweep(self) -> int:
        """Enqueue due expiry reminders and lock notices; return how many."""
        now = self.clock.now()
        written = await enqueue_expiry_reminders(self.composer, now=now)
        written += await enqueue_lock_notices(self.composer, now=now)
        if written:
            logger.info("sweep: %d notices enqueued", written)
        return written

    async def _beat(self) -> None:
        """Renew this worker's heartbeat row if ``heartbeat_interval`` has passed
        since the last try (or the clock went back). A failure is logged and
        tried again an interval later: it never stops delivery."""
        if self._started_at is None:
            return  # not running: deliver_batch called on its own
        now = self.clock.now()
        last = self._beat_at
        if last is not None and last <= now < last + self.policy.heartbeat_interval:
            return
        self._beat_at = now
        try:
            await WorkerHeartbeat.beat(
                self.identity, started_at=self._started_at, now=now
            )
        except Exception as exc:
            logger.warning(
                "mail worker heartbeat not recorded (%s); delivery goes on",
                type(exc).__name__,
            )

    async def _keep_beating(self, stop: asyncio.Event) -> None:
        """Beat every interval from a task of its own: a pass stuck in a slow
        SMTP exchange (each command may take RAS_SMTP_TIMEOUT_SECONDS) or a
        long backoff must not make a working worker look dead to /readyz.
        (Each pass also beats when the interval is up, at no cost otherwise.)"""
        step = self.policy.heartbeat_interval.total_seconds()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), step)
            if not stop.is_set():
                await self._beat()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; the message in progress is finished,
        the rest of its batch handed back for other workers. The worker's
        heartbeat row is written at start, renewed while it runs and deleted
        when it stops here (a cancelled or killed worker's row goes stale)."""
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        self._started_at = self.clock.now()
        self._beat_at = None
        await self._beat()
        logger.info(
            "mail worker started, delivering to %s", self.transport.target.describe()
        )
        beating = asyncio.create_task(self._keep_beating(stop))
        try:
            await self._deliver_until(stop, next_sweep)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        self._started_at = None
        await self._remove_heartbeat()

    async def _deliver_until(self, stop: asyncio.Event, next_sweep: float) -> None:
        """Passes until ``stop``: the sweep when due, a batch, the pause."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            await self._beat()
            handled = 0
            try:
                if loop.time() >= next_sweep:
                    next_sweep = (
                        loop.time() + self.policy.sweep_interval.total_seconds()
                    )
                    await self.sweep()
                handled = await self.deliver_batch(stop)
            except Exception as exc:
                # The database may be restarting; the rows are safe in it. The
                # message is cleaned like a server reply (no addresses), and the
                # traceback lists code locations only.
                logger.error(
                    "mail worker pass failed (%s); trying again\n%s",
                    describe_error(exc),
                    "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
                )
            # A full batch goes straight on to the next, unless the session
            # failed: then the worker waits out its backoff.
            pause = self._pause
            self._pause = timedelta(0)
            if handled < self.policy.batch_size:
                pause = max(pause, self.policy.poll_interval)
            if pause > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause.total_seconds())

    async def _remove_heartbeat(self) -> None:
        try:
            await WorkerHeartbeat.stopped(self.identity)
        except Exception as exc:
            logger.warning(
                "mail worker heartbeat not removed (%s); it goes stale",
                type(exc).__name__,
            )
        logger.info("mail worker stopped")


class _SentMarker:
    """Records SENT for accepted rows as they are accepted, in small group
    commits that overlap the next SMTP exchange: a worker killed mid-batch
    sends again only the mail it had not yet recorded, not the whole batch."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._ids: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, row: OutboxMail) -> None:
        metrics.DELIVERY.observe(
            max(0.0, (self._clock.now() - row.created_at).total_seconds())
        )
        self._ids.append(row.id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._ids:
            ids, self._ids = self._ids, []
            await mark_sent(ids, now=self._clock.now())

    async def close(self) -> None:
        """Wait until every accepted row is recorded."""
        if self._task is not None:
            await self._task
        await self._flush()


class _Batch:
    """The claimed rows and how far the worker got through them."""

    def __init__(self, rows: Sequence[OutboxMail], clock: Clock) -> None:
        self.rows = rows
        self.next = 0  # rows[next:] have not been offered to the server
        self.offered = 0
        self.marker = _SentMarker(clock)

    def untried(self) -> Sequence[OutboxMail]:
        return self.rows[self.next :]
