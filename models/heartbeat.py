"""Mail delivery workers' signs of life, read by the readiness check."""

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import fields
from tortoise.models import Model

# How often a running worker renews its row. The readiness limit
# (RAS_READY_WORKER_SECONDS) must leave room for a few missed beats.
BEAT_INTERVAL = timedelta(seconds=10)
# Rows of workers that did not stop cleanly (killed, cut short) are deleted by
# housekeeping after this long; until then they only show how long ago they died.
HEARTBEAT_RETENTION = timedelta(days=1)

_HOST_CHARS = 200


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    """Which worker beats: ``host:pid:random``, so a restarted process (same
    host, perhaps the same pid in a fresh container) gets a row of its own."""

    id: str
    host: str
    pid: int

    @classmethod
    def of_this_process(cls) -> "WorkerIdentity":
        host = socket.gethostname()[:_HOST_CHARS]
        pid = os.getpid()
        return cls(id=f"{host}:{pid}:{secrets.token_hex(4)}", host=host, pid=pid)


class WorkerHeartbeat(Model):
    """One running delivery worker: written when it starts, renewed every
    ``BEAT_INTERVAL`` while it runs, deleted when it stops cleanly."""

    id = fields.CharField(max_length=255, primary_key=True)
    host = fields.CharField(max_length=255)
    pid = fields.IntField()
    started_at = fields.DatetimeField()
    beat_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "worker_heartbeats"
        table_description = "Running mail delivery workers and their latest beat."

    @classmethod
    async def beat(
        cls, worker: WorkerIdentity, *, started_at: datetime, now: datetime
    ) -> None:
        """Record that ``worker`` is alive at ``now``, in one statement (an
        upsert that keeps the first ``started_at``)."""
        row = cls(
            id=worker.id,
            host=worker.host,
            pid=worker.pid,
            started_at=started_at,
            beat_at=now,
        )
        await cls.bulk_create([row], on_conflict=["id"], update_fields=["beat_at"])

    @classmethod
    async def stopped(cls, worker: WorkerIdentity) -> None:
        """``worker`` stopped cleanly: it no longer counts as running."""
        await cls.filter(id=worker.id).delete()

    @classmethod
    async def latest_beat(cls) -> datetime | None:
        """When any worker last reported, or None if none has a row."""
        row = await cls.all().order_by("-beat_at").first()
        return None if row is None else row.beat_at

    @classmethod
    async def purge(cls, *, before: datetime) -> int:
        """Delete the rows of workers silent since before ``before``."""
        return await cls.filter(beat_at__lt=before).delete()
