"""The service's Prometheus metrics (prometheus-client).

Every label has a bounded set of values: the API, the root field (a name of the
schema, or "multiple"/"-"), the outcome (a message ID, OK, CACHED, BAD_REQUEST
or HTTP_<status>), a mail status, an audit event type. Nothing a client types
(an operation name, a path) becomes a label.

With several web processes (`serve --workers N`), PROMETHEUS_MULTIPROC_DIR
names a folder where each process writes its values and a scrape sums them
(prometheus-client's multiprocess mode); `serve` sets one up itself.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
DELIVERY_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 21600.0)

REQUESTS = Counter(
    "ras_requests",
    "HTTP requests by API (graphql, admin, portal, health, metrics, other), "
    "GraphQL root field and outcome (a message ID such as WZBAM005E, OK, CACHED "
    "for an answer from the public answer cache, BAD_REQUEST for a GraphQL "
    "request error, HTTP_<status> for a refusal before GraphQL).",
    ["api", "operation", "outcome"],
)
LATENCY = Histogram(
    "ras_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by API and root field.",
    ["api", "operation"],
    buckets=LATENCY_BUCKETS,
)
LOGINS = Counter(
    "ras_logins",
    "Login steps (login, verifyTotp, staffLogin) by outcome: OK, or the message "
    "ID answered (WZBAM005E wrong credentials, WZBAM153E locked …).",
    ["operation", "outcome"],
)
LOCKOUTS = Counter(
    "ras_lockouts",
    "Auth IDs locked by consecutive failures (audit event login_locked).",
)
STEP_UPS = Counter(
    "ras_step_ups",
    "Re-authentications on a session (reauthenticate) by outcome.",
    ["outcome"],
)
AUDIT_EVENTS = Counter(
    "ras_audit_events",
    "Security events written to the audit trail, by type (counted when "
    "written; a transaction rolled back afterwards is rare and still counted).",
    ["type"],
)
OUTBOX_MAILS = Gauge(
    "ras_outbox_mails",
    "Mails in the outbox by status (pending, sent, dead), read from the "
    "database at the last refresh.",
    ["status"],
    multiprocess_mode="mostrecent",
)
OLDEST_PENDING = Gauge(
    "ras_outbox_oldest_pending_age_seconds",
    "Age of the oldest mail not yet accepted by the SMTP server (0 when none).",
    multiprocess_mode="mostrecent",
)
DELIVERY = Histogram(
    "ras_mail_delivery_seconds",
    "Time from a mail's queuing (in the transaction of the change it reports) "
    "to its acceptance by the SMTP server.",
    buckets=DELIVERY_BUCKETS,
)
HASH_QUEUE = Gauge(
    "ras_hashing_queue_length",
    "Password hashing jobs (argon2id) waiting for a thread of the pool.",
    multiprocess_mode="livesum",
)
HASH_SECONDS = Histogram(
    "ras_hashing_seconds",
    "Time one argon2id hash or verification took on its thread.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

LOGIN_OPERATIONS = frozenset({"login", "verifyTotp", "staffLogin"})
STEP_UP_OPERATIONS = frozenset({"reauthenticate"})
LOCKED_EVENT = "login_locked"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def registry() -> CollectorRegistry:
    """What a scrape reads: this process's registry, or in multiprocess mode
    every process's files summed."""
    if multiprocess_dir() is None:
        return REGISTRY
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed)  # type: ignore[no-untyped-call]
    return summed


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its media type."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def request_done(api: str, operation: str, outcome: str, seconds: float) -> None:
    """Count one answered request."""
    REQUESTS.labels(api, operation, outcome).inc()
    LATENCY.labels(api, operation).observe(seconds)


def root_field_done(field: str, outcome: str) -> None:
    """Count one login step or step-up that ran (the pipeline calls this for
    each such root field, whatever else the request held)."""
    if field in LOGIN_OPERATIONS:
        LOGINS.labels(field, outcome).inc()
    elif field in STEP_UP_OPERATIONS:
        STEP_UPS.labels(outcome).inc()


def audit_event(kind: str) -> None:
    AUDIT_EVENTS.labels(kind).inc()
    if kind == LOCKED_EVENT:
        LOCKOUTS.inc()


def outbox(counts: Mapping[str, int], oldest_pending_seconds: float) -> None:
    """Set the outbox gauges from a reading of the database."""
    for status in ("pending", "sent", "dead"):
        OUTBOX_MAILS.labels(status).set(counts.get(status, 0))
    OLDEST_PENDING.set(max(0.0, oldest_pending_seconds))


def forget_ended_processes(folder: str | None = None) -> list[int]:
    """Drop the live gauges (the hashing queue) of web processes that ended:
    uvicorn restarts a process that died, and its last value would stay in
    the sum. Returns the process ids dropped."""
    folder = folder or multiprocess_dir()
    if folder is None:
        return []
    ended = []
    for path in Path(folder).glob("gauge_live*_*.db"):
        pid_text = path.stem.rsplit("_", 1)[-1]
        if not pid_text.isdigit() or _running(int(pid_text)):
            continue
        multiprocess.mark_process_dead(int(pid_text), folder)  # type: ignore[no-untyped-call]
        ended.append(int(pid_text))
    return sorted(set(ended))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return True
