"""SQLite for several processes on one file (`serve --workers N`).

Tortoise begins SQLite transactions DEFERRED: a transaction reads first and
takes the write lock at its first write. When another process committed a write
in between, SQLite cannot let the older snapshot write and answers "database is
locked" at once, without waiting (seen as WZBAM098E on parallel logins with two
web processes). Beginning every transaction IMMEDIATE takes the write lock up
front, waiting up to the busy timeout for it, so transactions of several
processes run one after the other instead of failing. Within one process
Tortoise already runs them one at a time on its single connection.
"""

import asyncio
import sqlite3
import time
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

# How long a statement waits for another process's write lock (milliseconds;
# the `busy_timeout` parameter of a sqlite:// URL overrides it).
BUSY_TIMEOUT_MS = 10_000
# SQLite can answer BUSY without waiting (e.g. while another connection
# recovers the WAL index): BEGIN IMMEDIATE is then tried again after a pause.
_RETRY_PAUSE_SECONDS = 0.01


class _ImmediateTransaction(SqliteTransactionWrapper):
    def __init__(self, connection: SqliteClient) -> None:
        super().__init__(connection)
        busy_ms = connection.pragmas.get("busy_timeout", BUSY_TIMEOUT_MS)
        self._busy_seconds = float(busy_ms) / 1000

    async def begin(self) -> None:
        deadline = time.monotonic() + self._busy_seconds
        await self._connection.commit()
        while True:
            try:
                await self._connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise TransactionManagementError(exc) from exc
            await asyncio.sleep(_RETRY_PAUSE_SECONDS)


class _ImmediateTransactionContext(SqliteTransactionContext):
    """Tortoise's context, except that a BEGIN that fails gives the
    connection's lock back (Tortoise's keeps it, and every later query of the
    process would wait for it forever)."""

    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    """Tortoise's SQLite client whose transactions begin IMMEDIATE, with a
    second connection for the hottest read (``read_now``)."""

    _reader: sqlite3.Connection | None = None

    def _in_transaction(self) -> TransactionContext:
        return _ImmediateTransactionContext(_ImmediateTransaction(self), self._lock)

    def read_now(self, sql: str, values: list[Any]) -> list[dict[str, Any]] | None:
        """Rows of a read outside any transaction, read at once in the calling
        (event loop's) thread on a connection of its own; None when that is
        not possible now, and the caller asks the usual way.

        The session lookup of every authenticated call uses it: on the ORM's
        single connection it waited behind any open transaction of the process
        (a login's) and paid a hop to aiosqlite's thread, which was most of
        `me`'s time on SQLite (bench/run). A primary-key or unique-index read
        takes tens of microseconds; in WAL mode it never waits for a writer,
        and where SQLite would make it wait (a checkpoint, recovery), it does
        not wait at all (timeout 0) but answers None.
        """
        if self.filename == ":memory:":
            return None  # another connection would see another database
        try:
            if self._reader is None:
                reader = sqlite3.connect(
                    self.filename,
                    timeout=0,
                    isolation_level=None,
                    check_same_thread=False,
                )
                reader.row_factory = sqlite3.Row
                self._reader = reader
            return [dict(row) for row in self._reader.execute(sql, values)]
        except sqlite3.Error:
            return None

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await super().close()


# Read by Tortoise when a connection names this module as its engine.
client_class = ImmediateSqliteClient
