"""An answer floor: work whose length would tell something takes a fixed time."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta


@asynccontextmanager
async def no_sooner_than(floor: timedelta) -> AsyncIterator[None]:
    """Leave the block no sooner than ``floor`` after entering it (also on an
    error), so that how long the work inside took does not show in the answer."""
    leave_at = time.monotonic() + floor.total_seconds()
    try:
        yield
    finally:
        await asyncio.sleep(max(0.0, leave_at - time.monotonic()))
