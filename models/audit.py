"""Security events: an append-only trail, sealed into a hash chain.

A flow writes its event with the connection of the transaction that makes the
change (``AuditEvent.record(..., using_db=conn)``): a rolled-back change leaves
no event, a committed one always has its event. Events and seals are never
updated or deleted by the service, except that the retention purge deletes
whole old seals with their events and records that it did.

Sealing: every event also queues its id (``AuditPending``, in the same
transaction). A sealer (in the delivery worker's process) takes the queued
events in id order, appends one ``AuditSeal`` whose hash covers the previous
seal's hash and each event's content, and removes them from the queue, all in
one transaction under the chain's head row. Logins only insert rows: nothing
they do waits for another process, and the chain is in sealing (commit) order.
Changing, deleting or reordering a sealed event, or deleting a seal, breaks
the hashes that `ras-identity audit verify` recomputes.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from telemetry import metrics

# The hash before the first seal.
GENESIS = "0" * 64
# A user agent is kept to this many characters.
USER_AGENT_CHARS = 200


class AuditType(StrEnum):
    """What happened (append only: a partner's SIEM reads these names)."""

    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED = "login_locked"
    SESSION_DISPLACED = "session_displaced"
    SESSION_TIMED_OUT = "session_timed_out"
    LOGGED_OUT = "logged_out"
    REAUTHENTICATED = "reauthenticated"
    PASSWORD_REGISTERED = "password_registered"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGED = "email_changed"
    ADDRESS_CHANGED = "address_changed"
    PHONE_CHANGED = "phone_changed"
    EMAIL_CHANGE_REVERTED = "email_change_reverted"
    LINK_ISSUED = "link_issued"
    LINK_USED = "link_used"
    LINK_VOIDED = "link_voided"
    REGISTERED = "registered"
    LIMIT_HIT = "limit_hit"
    AUDIT_PURGED = "audit_purged"
    # Staff actions (admin API, CLI): each with the staff ID and a reason.
    USER_UNLOCKED = "user_unlocked"
    USER_SUSPENDED = "user_suspended"
    USER_REINSTATED = "user_reinstated"
    USER_DELETED = "user_deleted"
    USER_MARKED_INVALID = "user_marked_invalid"
    USAGE_EXPIRY_SET = "usage_expiry_set"
    PASSWORD_EXPIRED = "password_expired"
    SESSIONS_REVOKED = "sessions_revoked"
    CREDENTIALS_REISSUED = "credentials_reissued"
    MAIL_RETRIED = "mail_retried"
    NOTICE_PUBLISHED = "notice_published"
    NOTICE_WITHDRAWN = "notice_withdrawn"
    STAFF_CREATED = "staff_created"
    STAFF_DISABLED = "staff_disabled"
    STAFF_ROLE_SET = "staff_role_set"
    STAFF_TOTP_RESET = "staff_totp_reset"
    # Applicants' two-step login.
    TWO_STEP_CHALLENGED = "two_step_challenged"
    TWO_STEP_ENROLLMENT_BEGUN = "two_step_enrollment_begun"
    TWO_STEP_ENABLED = "two_step_enabled"
    TWO_STEP_DISABLED = "two_step_disabled"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    TWO_STEP_RESET = "two_step_reset"


# The outcome of an event that succeeded.
OK = "OK"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from: the client address (the counter key of
    security.clients), its user agent and the request's id. Events the
    service causes itself (housekeeping, the CLI) have none."""

    client: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


SERVICE = Origin()


# One round trip on PostgreSQL; SQLite (in process) takes two statements.
_RECORD_POSTGRES = (
    "WITH event AS (INSERT INTO audit_events (at, type, outcome, user_id, auth_id, "
    "client, user_agent, request_id, detail, staff_id, reason) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id) "
    "INSERT INTO audit_pending (event_id) SELECT id FROM event"
)
_RECORD_SQLITE = (
    "INSERT INTO audit_events (at, type, outcome, user_id, auth_id, client, "
    "user_agent, request_id, detail, staff_id, reason) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_QUEUE_SQLITE = "INSERT INTO audit_pending (event_id) VALUES (?)"


class AuditEvent(Model):
    """One security event. Never a password, token, link or mail body."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    type = fields.CharEnumField(AuditType, max_length=32)
    # OK, or the code the client was answered (WZBAM005E, RASX004E…).
    outcome = fields.CharField(max_length=16)
    # The account, when known (no foreign key: events outlive nothing they
    # name, and a deleted row must not change them).
    user_id = fields.IntField(null=True)
    # What was typed as the 認証ID, only when it has the form of an issued one
    # (users type passwords into the ID field).
    auth_id = fields.CharField(max_length=32, null=True)
    client = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=USER_AGENT_CHARS, null=True)
    # A trusted proxy's X-Request-ID may be up to 128 characters (app.observe).
    request_id = fields.CharField(max_length=128, null=True)
    # A short qualifier: which link purpose, which limit, new or existing
    # address, which items changed.
    detail = fields.CharField(max_length=64, null=True)
    # The staff member who acted (admin API, their own login), and the reason
    # they gave for an action.
    staff_id = fields.IntField(null=True)
    reason = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "audit_events"
        indexes = (("user_id", "id"), ("type", "id"), ("staff_id", "id"))

    @classmethod
    async def record(
        cls,
        type: AuditType,
        *,
        at: datetime,
        origin: Origin,
        outcome: str = OK,
        user_id: int | None = None,
        auth_id: str | None = None,
        detail: str | None = None,
        staff_id: int | None = None,
        reason: str | None = None,
        using_db: BaseDBAsyncClient | None = None,
    ) -> None:
        """Write one event (and queue it for sealing) with ``using_db``: the
        connection of the transaction making the change, so that both commit
        or neither does. Without one, in a transaction of its own.

        Plain SQL, not ``create``: every login writes two events, and the
        ORM's instance and second round trip were most of their cost
        (bench/audit_cost.py)."""
        if using_db is None:
            async with in_transaction() as conn:
                return await cls.record(
                    type,
                    at=at,
                    origin=origin,
                    outcome=outcome,
                    user_id=user_id,
                    auth_id=auth_id,
                    detail=detail,
                    staff_id=staff_id,
                    reason=reason,
                    using_db=conn,
                )
        metrics.audit_event(type.value)
        values = [
            at,
            type.value,
            outcome,
            user_id,
            auth_id,
            origin.client,
            (origin.user_agent or "")[:USER_AGENT_CHARS] or None,
            origin.request_id,
            detail,
            staff_id,
            reason,
        ]
        if using_db.capabilities.dialect == "postgres":
            await using_db.execute_query(_RECORD_POSTGRES, values)
        else:
            event_id = await using_db.execute_insert(_RECORD_SQLITE, values)
            await using_db.execute_insert(_QUEUE_SQLITE, [event_id])

    def content(self) -> str:
        """What the seal's hash covers: every column, canonically (the staff
        columns only when set, so events sealed before they existed keep their
        hashes)."""
        staff = (
            []
            if self.staff_id is None and self.reason is None
            else [
                self.staff_id,
                self.reason,
            ]
        )
        return json.dumps(
            [
                self.id,
                self.at.isoformat(timespec="microseconds"),
                self.type.value,
                self.outcome,
                self.user_id,
                self.auth_id,
                self.client,
                self.user_agent,
                self.request_id,
                self.detail,
                *staff,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )


class AuditPending(Model):
    """An event not sealed yet (a queue the sealer empties)."""

    event_id = fields.BigIntField(primary_key=True, generated=False)

    class Meta:
        table = "audit_pending"


class AuditSeal(Model):
    """One link of the chain: the events sealed in one pass, in order, each
    with the hash of its content, and a hash over the previous seal's hash and
    those."""

    seq = fields.BigIntField(primary_key=True, generated=False)
    sealed_at = fields.DatetimeField()
    # JSON [[event id, sha256 of its content], ...], in chain order.
    events = fields.TextField()
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_seals"

    def entries(self) -> list[tuple[int, str]]:
        return [
            (int(event_id), str(digest)) for event_id, digest in json.loads(self.events)
        ]


class AuditChain(Model):
    """The chain's head: the last seal, locked while a seal is appended so
    that two sealers never fork the chain."""

    id = fields.IntField(primary_key=True, generated=False)
    seq = fields.BigIntField(default=0)
    hash = fields.CharField(max_length=64, default=GENESIS)

    class Meta:
        table = "audit_chain"


def content_hash(event: AuditEvent) -> str:
    return hashlib.sha256(event.content().encode()).hexdigest()


def seal_hash(prev_hash: str, entries: list[tuple[int, str]]) -> str:
    """The hash a seal of ``entries`` after ``prev_hash`` carries."""
    text = prev_hash + "".join(f"\n{event_id}:{digest}" for event_id, digest in entries)
    return hashlib.sha256(text.encode()).hexdigest()


async def seal_pending(*, now: datetime, batch: int = 1000) -> int:
    """Seal the queued events (at most ``batch``, in id order) into one new
    seal; returns how many were sealed."""
    async with in_transaction() as conn:
        await AuditChain.bulk_create(
            [AuditChain(id=1)], on_conflict=["id"], update_fields=["id"], using_db=conn
        )
        head = await AuditChain.select_for_update().using_db(conn).get(id=1)
        queued = (
            await AuditPending.all().using_db(conn).order_by("event_id").limit(batch)
        )
        if not queued:
            return 0
        ids = [int(row.event_id) for row in queued]
        found = await AuditEvent.filter(id__in=ids).using_db(conn).order_by("id")
        entries = [(event.id, content_hash(event)) for event in found]
        seq = head.seq + 1
        digest = seal_hash(head.hash, entries)
        await AuditSeal.create(
            seq=seq,
            sealed_at=now,
            events=json.dumps(entries),
            prev_hash=head.hash,
            hash=digest,
            using_db=conn,
        )
        await AuditPending.filter(event_id__in=ids).using_db(conn).delete()
        await AuditChain.filter(id=1).using_db(conn).update(seq=seq, hash=digest)
        return len(entries)


@dataclass(frozen=True, slots=True)
class Verification:
    """What `audit verify` found: the first problem (None when the chain is
    intact), how many seals and events were checked, how many events still
    wait to be sealed, and the head's hash (to compare with a copy kept
    elsewhere)."""

    problem: str | None
    seals: int
    events: int
    pending: int = 0
    head: str = GENESIS


async def verify_chain(*, page: int = 200) -> Verification:
    """Walk every seal in order: each follows the one before, each sealed event
    is there with the content it had, and every other event is waiting to be
    sealed. The first problem names the seal or event."""
    seals = events = 0
    sealed: set[int] = set()
    prev: str | None = None
    last_seq = 0
    first = await AuditSeal.all().order_by("seq").first()
    purged = await _last_purge() or 0
    if first is not None and first.seq != purged + 1:
        return Verification(
            f"seal {purged + 1}: deleted (the chain starts at seal {first.seq}, and "
            "no purge recorded deleting the seals before it)",
            0,
            0,
        )
    while batch := await AuditSeal.filter(seq__gt=last_seq).order_by("seq").limit(page):
        for seal in batch:
            if last_seq and seal.seq != last_seq + 1:
                return Verification(f"seal {last_seq + 1}: deleted", seals, events)
            if prev is not None and seal.prev_hash != prev:
                return Verification(
                    f"seal {seal.seq}: does not follow seal {last_seq}", seals, events
                )
            entries = seal.entries()
            if seal_hash(seal.prev_hash, entries) != seal.hash:
                return Verification(f"seal {seal.seq}: changed", seals, events)
            rows = {
                e.id: e for e in await AuditEvent.filter(id__in=[i for i, _ in entries])
            }
            for event_id, digest in entries:
                row = rows.get(event_id)
                if row is None:
                    return Verification(
                        f"event {event_id}: deleted (sealed in seal {seal.seq})",
                        seals,
                        events,
                    )
                if content_hash(row) != digest:
                    return Verification(
                        f"event {event_id}: changed since seal {seal.seq}",
                        seals,
                        events,
                    )
            sealed.update(event_id for event_id, _ in entries)
            seals += 1
            events += len(entries)
            prev, last_seq = seal.hash, seal.seq
    head = await AuditChain.get_or_none(id=1)
    if head is not None and (head.seq, head.hash) != (last_seq, prev or GENESIS):
        return Verification(
            f"seal {head.seq}: the chain's head names a seal that is not there",
            seals,
            events,
        )
    pending = {int(row.event_id) for row in await AuditPending.all()}
    if await AuditEvent.all().count() != len(sealed) + len(pending):
        loose = await _first_loose(sealed | pending)
        return Verification(
            f"event {loose}: neither sealed nor waiting to be", seals, events
        )
    return Verification(None, seals, events, len(pending), prev or GENESIS)


async def _first_loose(known: set[int], page: int = 5000) -> int | None:
    """The first event (by id) neither sealed nor queued."""
    after = 0
    while rows := await AuditEvent.filter(id__gt=after).order_by("id").limit(page):
        for row in rows:
            if int(row.id) not in known:
                return int(row.id)
        after = int(rows[-1].id)
    return None


async def _last_purge() -> int | None:
    """The last seal a recorded retention purge deleted through."""
    event = await AuditEvent.filter(type=AuditType.AUDIT_PURGED).order_by("-id").first()
    if event is None or not event.detail:
        return None
    return int(event.detail.removeprefix("through seal "))


async def purge_before(*, now: datetime, retention: timedelta) -> int:
    """Delete whole seals sealed before ``now - retention`` with their events,
    and record that it did (an AUDIT_PURGED event). Returns how many seals."""
    cutoff = now - retention
    async with in_transaction() as conn:
        # Under the chain's head, as a seal is appended: two housekeepers
        # purge (and record it) once.
        await AuditChain.bulk_create(
            [AuditChain(id=1)], on_conflict=["id"], update_fields=["id"], using_db=conn
        )
        await AuditChain.select_for_update().using_db(conn).get(id=1)
        old = (
            await AuditSeal.filter(sealed_at__lt=cutoff).using_db(conn).order_by("seq")
        )
        if not old:
            return 0
        through = old[-1].seq
        for seal in old:
            ids = [event_id for event_id, _ in seal.entries()]
            await AuditEvent.filter(id__in=ids).using_db(conn).delete()
        await AuditSeal.filter(seq__lte=through).using_db(conn).delete()
        await AuditEvent.record(
            AuditType.AUDIT_PURGED,
            at=now,
            origin=SERVICE,
            detail=f"through seal {through}",
            using_db=conn,
        )
        return len(old)
