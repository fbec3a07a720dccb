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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from mailer.notices import enqueue_expiry_reminders, enqueue_lock_notices
from mailer.outbox import claim, defer, extend, mark_dead, mark_sent, release
from mailer.render import Composer
from mailer.smtp import Failure, SendError, SmtpConnection, SmtpTransport
from models import OutboxMail
from security.clock import Clock

logger = logging.getLogger("ras_identity.mail")

_MAX_EXPONENT = 30  # 2**30 seconds is far past any cap; keeps the float finite


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Batching, retry and lease numbers (each a ``RAS_MAIL_*`` setting)."""

    batch_size: int = 50
    poll_interval: timedelta = timedelta(seconds=1)
    retry_base: timedelta = timedelta(seconds=1)
    retry_max: timedelta = timedelta(seconds=60)
    max_attempts: int = 20
    claim_lease: timedelta = timedelta(minutes=5)
    sweep_interval: timedelta = timedelta(minutes=5)

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
        # Consecutive times the server could not be reached: the worker's own
        # backoff, so an outage costs a connection attempt now and then, not one
        # per row.
        self._unreachable = 0
        self._pause = timedelta(0)

    async def deliver_batch(self) -> int:
        """Claim and send one batch; return how many rows the server was offered
        (0 when there were none, or when the server could not be reached)."""
        now = self.clock.now()
        rows = await claim(
            now=now, limit=self.policy.batch_size, lease=self.policy.claim_lease
        )
        if not rows:
            return 0
        try:
            async with self.transport.connect() as connection:
                self._unreachable = 0
                await self._send_all(connection, rows)
        except SendError as exc:
            if exc.failure is not Failure.UNREACHABLE:
                raise
            self._unreachable += 1
            delay = self.policy.backoff(self._unreachable)
            self._pause = delay
            await release(rows, error=exc.detail, retry_at=now + delay)
            logger.warning(
                "mail server %s unreachable (%s); %d mails wait %.1f s",
                self.transport.target.describe(),
                exc.detail,
                len(rows),
                delay.total_seconds(),
            )
            return 0
        return len(rows)

    async def _send_all(
        self, connection: SmtpConnection, rows: Sequence[OutboxMail]
    ) -> None:
        sent: list[OutboxMail] = []
        loop = asyncio.get_running_loop()
        renew_at = loop.time() + self.policy.claim_lease.total_seconds() / 2
        try:
            for index, row in enumerate(rows):
                if loop.time() >= renew_at:
                    # A slow server: keep the rest of the batch from being
                    # claimed (and sent a second time) by another worker.
                    await extend(
                        rows[index:], until=self.clock.now() + self.policy.claim_lease
                    )
                    renew_at = loop.time() + self.policy.claim_lease.total_seconds() / 2
                try:
                    if row.message is None:
                        raise SendError(Failure.PERMANENT, "the row holds no message")
                    await connection.send(
                        sender=self.composer.envelope_sender,
                        recipient=row.recipient,
                        message=row.message,
                    )
                except SendError as exc:
                    await self._failed(row, exc)
                    if exc.connection_lost:
                        await release(
                            rows[index + 1 :], error=None, retry_at=self.clock.now()
                        )
                        return
                else:
                    sent.append(row)
        finally:
            # Also when cancelled mid-batch: what the server took is recorded.
            await mark_sent(sent, now=self.clock.now())
            for row in sent:
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

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; a batch in progress is finished first."""
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        logger.info(
            "mail worker started, delivering to %s", self.transport.target.describe()
        )
        while not stop.is_set():
            handled = 0
            try:
                if loop.time() >= next_sweep:
                    next_sweep = (
                        loop.time() + self.policy.sweep_interval.total_seconds()
                    )
                    await self.sweep()
                handled = await self.deliver_batch()
            except Exception:
                # The database may be restarting; the rows are safe in it.
                logger.exception("mail worker pass failed; trying again")
            if handled < self.policy.batch_size:
                # After an unreachable server, wait out the worker's backoff.
                pause = max(self.policy.poll_interval, self._pause)
                self._pause = timedelta(0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause.total_seconds())
        logger.info("mail worker stopped")
