"""Wiring of mail delivery: the SMTP target (or the embedded sink) and the worker."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from app.settings import Settings
from mailer.sink import MailDirHandler, SmtpSink, start_sink
from mailer.smtp import SmtpTarget, SmtpTransport
from mailer.worker import DeliveryPolicy, DeliveryWorker
from resolvers.context import Services

logger = logging.getLogger("ras_identity.mail")

# How long shutdown waits for a batch in progress before cutting it short (its
# rows are then sent again once their claim runs out: at-least-once).
STOP_GRACE_SECONDS = 10.0


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        batch_size=settings.mail_batch_size,
        poll_interval=timedelta(seconds=settings.mail_poll_seconds),
        retry_base=timedelta(seconds=settings.mail_retry_base_seconds),
        retry_max=timedelta(seconds=settings.mail_retry_max_seconds),
        max_attempts=settings.mail_max_attempts,
        claim_lease=timedelta(seconds=settings.mail_claim_seconds),
        sweep_interval=timedelta(seconds=settings.mail_sweep_seconds),
    )


@asynccontextmanager
async def smtp_target(settings: Settings) -> AsyncIterator[SmtpTarget]:
    """RAS_SMTP_URL, or else an embedded sink filing mail under RAS_MAIL_DIR."""
    if settings.smtp_url is not None:
        yield SmtpTarget.from_url(
            settings.smtp_url,
            ca_file=settings.smtp_ca_file,
            timeout=settings.smtp_timeout_seconds,
        )
        return
    sink: SmtpSink = await start_sink(MailDirHandler(settings.mail_dir))
    logger.info(
        "no RAS_SMTP_URL: mail goes to the embedded sink at %s, filed under %s",
        sink.url,
        settings.mail_dir,
    )
    try:
        yield SmtpTarget(host=sink.host, port=sink.port)
    finally:
        await sink.close()


@asynccontextmanager
async def mail_delivery(
    settings: Settings, services: Services
) -> AsyncIterator[DeliveryWorker]:
    """A delivery worker running in the background while the context is open."""
    async with smtp_target(settings) as target:
        worker = DeliveryWorker(
            transport=SmtpTransport(target),
            composer=services.composer,
            clock=services.clock,
            policy=delivery_policy(settings),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            yield worker
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, STOP_GRACE_SECONDS)
            except TimeoutError:
                logger.warning("mail worker did not stop in time; cut short")
