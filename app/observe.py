"""What operators see of each request: its id, one access log line, the
request metrics and (when on) a trace span; and the outbox gauges."""

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import connections

from app.view import incident_response
from models import MailStatus, OutboxMail
from schema.messages import ErrorCode
from security.clients import Network, client_address, from_trusted_proxy
from security.clock import Clock
from telemetry import metrics, tracing
from telemetry.logs import ACCESS, REQUEST_ID

logger = logging.getLogger("ras_identity.access")

# A proxy's X-Request-ID is kept when it is a plain token of this shape;
# anything else (too long, spaces, control characters) is replaced, so a
# header cannot forge a log line or grow the logs.
REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
OPERATION_NAME_CHARS = 100

APIS = {
    "/graphql": "graphql",
    "/admin/graphql": "admin",
    "/livez": "health",
    "/readyz": "health",
    "/healthz": "health",
    "/metrics": "metrics",
}


def request_id(headers: list[tuple[bytes, bytes]], *, trusted: bool) -> str:
    """The proxy's X-Request-ID when the peer is a trusted proxy and the id is
    well-formed, else a new one."""
    if trusted:
        for name, value in headers:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                if REQUEST_ID_SHAPE.fullmatch(text):
                    return text
                break
    return uuid.uuid4().hex


def _client(scope: Scope, proxies: tuple[Network, ...]) -> str:
    peer = scope["client"][0] if scope.get("client") else None
    forwarded = (
        [v.decode("latin-1") for n, v in scope["headers"] if n == b"x-forwarded-for"]
        if proxies
        else []
    )
    address = client_address(peer, forwarded, proxies)
    return str(address) if address is not None else "-"


class Observe:
    """The outermost layer: gives the request its id (echoed as X-Request-ID,
    recorded by its audit events and on every log line written for it),
    then logs one access line (method, path without the query string, status,
    duration, client address, GraphQL root field, operation name and outcome),
    counts the request in the metrics and, with tracing on, wraps it in a
    span."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        peer = scope["client"][0] if scope.get("client") else None
        trusted = bool(self.proxies) and from_trusted_proxy(peer, self.proxies)
        rid = request_id(scope["headers"], trusted=trusted)
        scope.setdefault("state", {})["request_id"] = rid
        token = REQUEST_ID.set(rid)
        status = 0

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).setdefault("x-request-id", rid)
            await send(message)

        try:
            with _span(scope, rid, trusted=trusted) as span:
                try:
                    await self.app(scope, receive, record)
                except Exception as exc:
                    if status:
                        raise  # the answer has begun: nothing else can be sent
                    # Answered here, not by Starlette's outer handler, so the
                    # incident's log line and answer carry the request id.
                    await incident_response(Request(scope), exc)(scope, receive, record)
                finally:
                    self._done(scope, status, time.perf_counter() - started, span)
        finally:
            REQUEST_ID.reset(token)

    def _done(self, scope: Scope, status: int, seconds: float, span: Any) -> None:
        path = scope["path"]
        api = APIS.get(path) or ("other" if status in (0, 404) else "portal")
        context = scope.get("state", {}).get("context")
        operation = getattr(context, "operation", None) or "-"
        outcome = getattr(context, "outcome", None)
        if outcome is None and status == 500:
            outcome = ErrorCode.SYSTEM_ERROR.value  # only incidents answer 500
        if outcome is None:
            outcome = "OK" if 0 < status < 400 else f"HTTP_{status or 'NONE'}"
        name = getattr(context, "operation_name", None)
        name = name[:OPERATION_NAME_CHARS] if isinstance(name, str) else None
        client = _client(scope, self.proxies)
        metrics.request_done(api, operation, outcome, seconds)
        if span is not None:
            span.set_attribute("http.response.status_code", status)
            span.set_attribute("ras.outcome", outcome)
            span.set_attribute("ras.operation", operation)
            if name:
                span.set_attribute("graphql.operation.name", name)
        # The path with escapes (%r): a percent-encoded newline cannot forge a
        # line; the query string is never written (a GET could carry a password).
        logger.info(
            "%s %r %s %.1fms client=%s op=%s name=%r outcome=%s",
            scope["method"],
            path,
            status or "-",
            seconds * 1000,
            client,
            operation,
            name,
            outcome,
            extra={
                ACCESS: {
                    "method": scope["method"],
                    "path": path,
                    "status": status or None,
                    "durationMs": round(seconds * 1000, 2),
                    "client": client,
                    "api": api,
                    "operation": operation,
                    "operationName": name,
                    "outcome": outcome,
                }
            },
        )


@contextlib.contextmanager
def _span(scope: Scope, rid: str, *, trusted: bool) -> Iterator[Any]:
    """The request's span; it continues the caller's `traceparent` only from
    a trusted proxy (as X-Request-ID): anyone else could choose the trace and
    whether it is sampled."""
    tracer = tracing.tracer()
    if tracer is None:
        yield None
        return
    from opentelemetry import propagate, trace

    carrier = (
        {n.decode("latin-1"): v.decode("latin-1") for n, v in scope["headers"]}
        if trusted
        else {}
    )
    with tracer.start_as_current_span(
        f"{scope['method']} {APIS.get(scope['path'], 'other')}",
        context=propagate.extract(carrier),
        kind=trace.SpanKind.SERVER,
        attributes={
            "http.request.method": scope["method"],
            "url.path": scope["path"],
            "ras.request_id": rid,
        },
    ) as span:
        yield span


class OutboxReading:
    """The outbox gauges, read from the database at most once per ``every``
    seconds in this process however often /metrics is asked (a scrape of the
    public port is anonymous: it must not be a way to load the database)."""

    def __init__(self, clock: Clock, every: float) -> None:
        self.clock = clock
        self.every = every
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read now, unless a reading is younger than ``every``; a failure is
        logged and the gauges keep the last reading."""
        async with self._lock:
            moment = time.monotonic()
            if self._read_at is not None and moment - self._read_at < self.every:
                return
            self._read_at = moment
            try:
                await refresh_outbox_metrics(self.clock.now())
            except Exception:
                logger.exception("metrics: the outbox could not be read")
            metrics.forget_ended_processes()

    async def run(self) -> None:
        """Read every ``every`` seconds (for a separate metrics port, which
        reads only what the last refresh wrote)."""
        while True:
            await self.refresh()
            await asyncio.sleep(self.every)


async def refresh_outbox_metrics(now: datetime) -> None:
    """Read the outbox's counts by status and its oldest pending mail into
    the gauges (one grouped query, one indexed minimum)."""
    rows = await connections.get("default").execute_query_dict(
        f"SELECT status, COUNT(*) AS n FROM {OutboxMail._meta.db_table} "  # noqa: S608
        "GROUP BY status"
    )
    counts = {str(row["status"]): int(row["n"]) for row in rows}
    oldest = (
        await OutboxMail.filter(status=MailStatus.PENDING)
        .order_by("created_at")
        .first()
        .values_list("created_at", flat=True)
    )
    age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
    metrics.outbox(counts, age)
