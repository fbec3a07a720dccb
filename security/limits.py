"""In-process helpers for limiting concurrent work."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta


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


@asynccontextmanager
async def no_sooner_than(floor: timedelta) -> AsyncIterator[None]:
    """Leave the block no sooner than ``floor`` after entering it (also on an
    error), so that how long the work inside took does not show in the answer."""
    leave_at = time.monotonic() + floor.total_seconds()
    try:
        yield
    finally:
        await asyncio.sleep(max(0.0, leave_at - time.monotonic()))
