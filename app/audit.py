"""Wiring of the audit trail's sealer: it runs beside the delivery worker (in
`serve`, or in `ras-identity worker` processes) and seals queued events into
the hash chain every few moments."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.background import running
from models.audit import seal_pending
from resolvers.context import Services

logger = logging.getLogger("ras_identity.audit")

# Events sealed per transaction; a larger backlog takes several at once.
SEAL_BATCH = 1000


async def seal_forever(services: Services, every: float) -> None:
    """Seal what is queued, then wait ``every`` seconds; a failure (the
    database away) is logged and tried again at the next turn."""
    while True:
        try:
            while await seal_pending(now=services.clock.now(), batch=SEAL_BATCH):
                pass
        except Exception:
            logger.exception("sealing the audit trail failed; trying again later")
        await asyncio.sleep(every)


@asynccontextmanager
async def audit_sealing(services: Services, every: float) -> AsyncIterator[None]:
    """The sealer running in the background while the context is open; on
    exit, what is queued by then is sealed once more."""
    try:
        async with running(seal_forever(services, every)):
            yield
    finally:
        with contextlib.suppress(Exception):
            await seal_pending(now=services.clock.now(), batch=SEAL_BATCH)
