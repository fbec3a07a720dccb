"""What operators see: request ids, access lines (text and JSON), /metrics
(one process and several), and tracing with an in-memory exporter."""

import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from graphql import parse
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from prometheus_client import REGISTRY, Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.main import create_app
from app.observe import Observe
from app.settings import Environment, Settings
from mailer.outbox import mark_dead
from models import AuditEvent, AuditType, MailStatus, OutboxMail, User
from resolvers.context import Services
from schema.pipeline import root_label
from security.clock import SettableClock
from security.passwords import Argon2idHasher
from telemetry import metrics, tracing
from telemetry.logs import JsonFormatter, RequestIdFilter, TextFormatter
from tests.support import (
    LOGIN,
    ME,
    PASSWORD,
    Mailbox,
    enqueue_mails,
    free_port,
    run_cli,
    serve,
    serving,
)

HEX_ID = re.compile(r"[0-9a-f]{32}")
WRONG = {"authId": "NOSUCHID01", "password": "Wrong2026$"}
REAUTHENTICATE = """
mutation($p: String!) { reauthenticate(input: {password: $p}) {
  __typename ... on Error { code }
} }
"""


@pytest.fixture
async def proxied(db: str, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a trusted proxy on loopback (RAS_TRUSTED_PROXIES)."""
    settings = Settings(database_url=db, trusted_proxies="127.0.0.1/32")
    app = create_app(settings, services=services, manage_database=False)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def samples(page: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page by name and labels."""
    found = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(page: str, name: str, **labels: str) -> float:
    return samples(page).get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient) -> str:
    answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


@contextmanager
def captured(name: str = "ras_identity") -> Iterator[list[logging.LogRecord]]:
    """Records of logger ``name`` at INFO and above, with the request id
    filter applied as the configured handler applies it."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger(name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# Request ids


async def test_every_answer_carries_its_own_request_id(
    http: httpx.AsyncClient,
) -> None:
    answers = [
        await http.post("/graphql", json={"query": ME}),
        await http.get("/login"),
        await http.get("/no-such-page"),
        await http.get("/metrics"),
    ]
    ids = [answer.headers.get("x-request-id", "") for answer in answers]
    assert all(HEX_ID.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_client_cannot_choose_its_request_id(http: httpx.AsyncClient) -> None:
    answer = await http.post(
        "/graphql", json={"query": ME}, headers={"x-request-id": "chosen-1"}
    )
    assert answer.headers["x-request-id"] != "chosen-1"
    assert HEX_ID.fullmatch(answer.headers["x-request-id"])


@pytest.mark.parametrize(
    "sent",
    ["edge-42.a:b", "3f1c7c1e-8a9b-4c55-9a3e-2b1d9f4e7a10", "r" * 128],
    ids=["short", "uuid", "longest"],
)
async def test_a_trusted_proxys_request_id_is_kept_and_audited(
    proxied: httpx.AsyncClient, sent: str
) -> None:
    """Up to 128 characters, on both databases: the audit column holds them
    (a narrower one failed every audited operation on PostgreSQL, and with
    it the counting of wrong passwords)."""
    answer = await proxied.post(
        "/graphql",
        json={"query": LOGIN, "variables": WRONG},
        headers={"x-request-id": sent},
    )
    assert answer.json()["data"]["login"]["code"] == "WZBAM005E"
    assert answer.headers["x-request-id"] == sent
    event = await AuditEvent.get(type=AuditType.LOGIN_FAILED)
    assert event.request_id == sent


@pytest.mark.parametrize("sent", ["has space", "x" * 129, "semi;colon"])
async def test_a_malformed_proxy_request_id_is_replaced(
    proxied: httpx.AsyncClient, sent: str
) -> None:
    answer = await proxied.post(
        "/graphql", json={"query": ME}, headers={"x-request-id": sent}
    )
    assert HEX_ID.fullmatch(answer.headers["x-request-id"])


async def test_every_line_logged_in_a_request_carries_its_id(
    http: httpx.AsyncClient,
) -> None:
    with captured() as records:
        answer = await http.post("/graphql", json={"query": LOGIN, "variables": WRONG})
    rid = answer.headers["x-request-id"]
    failed = [r for r in records if r.getMessage().startswith("login failed")]
    access = [r for r in records if r.name == "ras_identity.access"]
    assert len(failed) == 1
    assert len(access) == 1
    assert failed[0].request_id == rid  # type: ignore[attr-defined]
    assert access[0].request_id == rid  # type: ignore[attr-defined]


# Access lines


async def test_the_access_line_names_operation_outcome_and_client(
    http: httpx.AsyncClient,
) -> None:
    document = LOGIN.replace("mutation Login(", "mutation PortalLogin(")
    with captured("ras_identity.access") as records:
        answer = await http.post(
            "/graphql?secret=1",
            json={"query": document, "variables": WRONG},
        )
        await http.post("/graphql", json={"query": "{ me { nosuchfield } }"})
        await http.get("/nothing-here")
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    text = TextFormatter().format(records[0])

    assert lines[0] == {
        **{k: lines[0][k] for k in ("time", "durationMs", "pid")},
        "level": "INFO",
        "logger": "ras_identity.access",
        "message": lines[0]["message"],
        "requestId": answer.headers["x-request-id"],
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "client": "127.0.0.1",
        "api": "graphql",
        "operation": "login",
        "operationName": "PortalLogin",
        "outcome": "WZBAM005E",
    }
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", lines[0]["time"]
    )
    assert "secret" not in json.dumps(lines)
    assert (lines[1]["operation"], lines[1]["outcome"]) == ("-", "BAD_REQUEST")
    assert (lines[2]["api"], lines[2]["outcome"]) == ("other", "HTTP_404")
    assert "op=login name='PortalLogin' outcome=WZBAM005E" in text
    assert text.endswith(f"[request {answer.headers['x-request-id']}]")


def test_a_json_line_cannot_be_split_by_its_input() -> None:
    text = "x\ny %s\u2028\u2029\x85"
    record = logging.LogRecord(
        "ras_identity.access", logging.INFO, __file__, 1, text, ("z\r\n",), None
    )
    line = JsonFormatter().format(record)
    assert len(line.splitlines()) == 1
    assert json.loads(line)["message"] == "x\ny z\r\n\u2028\u2029\x85"


def test_root_label_names_one_root_field_or_says_what_it_was() -> None:
    def label(text: str) -> str:
        document = parse(text)
        return root_label(document.definitions[0], document)  # type: ignore[arg-type]

    assert label("{ me { __typename } }") == "me"
    assert label("{ __typename me { __typename } }") == "me"
    assert label("{ me { __typename } menu { __typename } }") == "multiple"
    assert label("{ ... on Query { me { __typename } } }") == "me"
    assert label("{ ...F } fragment F on Query { me { __typename } }") == "me"
    assert label("{ ...F menu { __typename } } fragment F on Query { me { a } }") == (
        "multiple"
    )
    assert label("{ __schema { types { name } } }") == "introspection"
    assert label("{ __typename }") == "__typename"


async def test_a_failure_outside_graphql_is_an_incident_with_the_request_id() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug in a page")

    app = Starlette(
        routes=[Route("/broken", broken)],
        middleware=[Middleware(Observe, trusted_proxies=())],
    )
    with captured() as records:
        async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
            answer = await client.get("/broken")
    rid = answer.headers["x-request-id"]
    incident = [r for r in records if r.getMessage().startswith("incident ")]
    access = [r for r in records if r.name == "ras_identity.access"]

    assert answer.status_code == 500
    assert answer.json()["errors"][0]["extensions"]["code"] == "WZBAM098E"
    assert HEX_ID.fullmatch(rid)
    assert [r.request_id for r in incident] == [rid]  # type: ignore[attr-defined]
    assert "outcome=WZBAM098E" in access[0].getMessage()


def test_production_serves_no_public_metrics(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'p.sqlite3'}",
        environment=Environment.PRODUCTION,
        secret_key=SecretStr("k" * 32),
    )
    development = Settings(database_url=f"sqlite://{tmp_path / 'd.sqlite3'}")
    elsewhere = Settings(database_url=development.database_url, metrics_port=9464)

    def paths(app: Starlette) -> set[str]:
        return {getattr(route, "path", "") for route in app.routes}

    assert "/metrics" not in paths(create_app(settings, manage_database=False))
    assert "/metrics" in paths(create_app(development, manage_database=False))
    assert "/metrics" not in paths(create_app(elsewhere, manage_database=False))


# Metrics in one process


async def test_requests_logins_lockouts_and_step_ups_are_counted(
    http: httpx.AsyncClient, user: User
) -> None:
    before = await scrape(http)
    for _ in range(5):  # the fifth locks the unknown ID (threshold 5)
        await http.post("/graphql", json={"query": LOGIN, "variables": WRONG})
    good = {"authId": user.auth_id, "password": PASSWORD}
    login = await http.post("/graphql", json={"query": LOGIN, "variables": good})
    token = login.json()["data"]["login"]["token"]
    await http.post(
        "/graphql",
        json={"query": REAUTHENTICATE, "variables": {"p": PASSWORD}},
        headers={"authorization": f"Bearer {token}"},
    )
    await http.post("/graphql", json={"query": ME})
    after = await scrape(http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    login_failed = {"api": "graphql", "operation": "login", "outcome": "WZBAM005E"}
    assert grew("ras_requests_total", **login_failed) == 4
    assert grew("ras_requests_total", **{**login_failed, "outcome": "WZBAM153E"}) == 1
    assert grew("ras_requests_total", **{**login_failed, "outcome": "OK"}) == 1
    assert grew("ras_logins_total", operation="login", outcome="WZBAM005E") == 4
    assert grew("ras_logins_total", operation="login", outcome="WZBAM153E") == 1
    assert grew("ras_logins_total", operation="login", outcome="OK") == 1
    assert grew("ras_lockouts_total") == 1
    assert grew("ras_step_ups_total", outcome="OK") == 1
    assert grew("ras_audit_events_total", type="reauthenticated") == 1
    assert (
        grew("ras_requests_total", api="graphql", operation="me", outcome="RASX002E")
        == 1
    )
    assert (
        grew("ras_request_duration_seconds_count", api="graphql", operation="login")
        == 6
    )
    assert grew("ras_requests_total", api="metrics", operation="-", outcome="OK") == 1


WRAPPED_LOGINS = [
    "mutation($authId: String!, $password: String!) { ... on Mutation {"
    " login(input: {authId: $authId, password: $password}) { __typename } } }",
    "mutation($authId: String!, $password: String!) { ...F }"
    " fragment F on Mutation {"
    " login(input: {authId: $authId, password: $password}) { __typename } }",
    "mutation($authId: String!, $password: String!) { logout { __typename }"
    " login(input: {authId: $authId, password: $password}) { __typename } }",
]


async def test_no_document_shape_hides_a_login_from_the_metrics(
    http: httpx.AsyncClient,
) -> None:
    before = await scrape(http)
    for document in WRAPPED_LOGINS:
        answer = await http.post(
            "/graphql", json={"query": document, "variables": WRONG}
        )
        assert answer.json()["data"]["login"]["__typename"] == (
            "InvalidCredentialsError"
        )
    after = await scrape(http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("ras_logins_total", operation="login", outcome="WZBAM005E") == 3
    login = {"api": "graphql", "operation": "login", "outcome": "WZBAM005E"}
    assert grew("ras_requests_total", **login) == 2
    # Two root fields: the request is "multiple", with the first one's outcome.
    assert (
        grew(
            "ras_requests_total",
            api="graphql",
            operation="multiple",
            outcome="RASX002E",
        )
        == 1
    )


async def test_outbox_gauges_read_the_database(
    http: httpx.AsyncClient, services: Services, clock: SettableClock, user: User
) -> None:
    rows = await enqueue_mails(services, user, 3)
    await mark_dead(rows[0], error="550 refused")
    clock.advance(timedelta(seconds=90))

    page = await scrape(http)

    pending = await OutboxMail.filter(status=MailStatus.PENDING).count()
    assert pending == 2
    assert value(page, "ras_outbox_mails", status="pending") == 2
    assert value(page, "ras_outbox_mails", status="dead") == 1
    assert value(page, "ras_outbox_mails", status="sent") == 0
    # A scrape right after reads the last reading, not the database: anyone
    # may ask /metrics, so asking often costs no queries.
    await enqueue_mails(services, user, 4)
    again = await scrape(http)
    assert value(again, "ras_outbox_mails", status="pending") == 2
    assert value(page, "ras_outbox_oldest_pending_age_seconds") == pytest.approx(
        90, abs=1
    )


async def test_delivery_latency_is_observed_per_mail(
    services: Services, clock: SettableClock, user: User, mailbox: Mailbox
) -> None:
    [before] = metrics.DELIVERY.collect()
    count = _sample(before, "ras_mail_delivery_seconds_count")
    slow = _sample(before, "ras_mail_delivery_seconds_bucket", le="60.0")
    await enqueue_mails(services, user, 2)
    clock.advance(timedelta(seconds=120))

    await mailbox.worker.deliver_batch()

    [after] = metrics.DELIVERY.collect()
    assert _sample(after, "ras_mail_delivery_seconds_count") == count + 2
    # Both took 120 s: counted above 60 s, not under it.
    assert _sample(after, "ras_mail_delivery_seconds_bucket", le="60.0") == slow


def _sample(family: Metric, name: str, **labels: str) -> float:
    for sample in family.samples:
        if sample.name == name and labels.items() <= sample.labels.items():
            return float(sample.value)
    return 0.0


async def test_the_hashing_queue_counts_jobs_waiting_for_a_thread() -> None:
    hasher = Argon2idHasher(time_cost=2, memory_kib=19456, parallelism=1, threads=1)
    release = threading.Event()

    def queued() -> float:
        return REGISTRY.get_sample_value("ras_hashing_queue_length") or 0.0

    base = queued()

    jobs = [asyncio.create_task(hasher._pooled(release.wait, 5)) for _ in range(3)]
    async with asyncio.timeout(5):
        while queued() != base + 2:  # noqa: ASYNC110 (a gauge has no event)
            await asyncio.sleep(0.01)  # one runs on the only thread, two wait
    jobs[2].cancel()  # a wait given up leaves the queue once
    await asyncio.gather(jobs[2], return_exceptions=True)
    assert queued() == base + 1
    release.set()
    assert list(await asyncio.gather(jobs[0], jobs[1])) == [True, True]
    assert queued() == base


# Tracing


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)
        provider.shutdown()


async def test_each_request_is_a_span_continuing_a_trusted_proxys_trace(
    proxied: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    answer = await proxied.post(
        "/graphql",
        json={"query": LOGIN, "variables": WRONG, "operationName": "Login"},
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
    )
    finished = spans.get_finished_spans()

    assert len(finished) == 1
    span = finished[0]
    assert span.name == "POST graphql"
    assert f"{span.context.trace_id:032x}" == trace_id
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert dict(span.attributes or {}) == {
        "http.request.method": "POST",
        "url.path": "/graphql",
        "ras.request_id": answer.headers["x-request-id"],
        "http.response.status_code": 200,
        "ras.outcome": "WZBAM005E",
        "ras.operation": "login",
        "graphql.operation.name": "Login",
    }


async def test_a_clients_own_traceparent_starts_no_trace_of_its_choosing(
    http: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await http.post(
        "/graphql",
        json={"query": ME},
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-00"},
    )
    [span] = spans.get_finished_spans()
    assert f"{span.context.trace_id:032x}" != trace_id
    assert span.parent is None


async def test_no_span_is_made_once_tracing_is_off(
    http: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    await http.post("/graphql", json={"query": ME})
    tracing.use(None)
    await http.post("/graphql", json={"query": ME})
    assert tracing.tracer() is None
    assert len(spans.get_finished_spans()) == 1


def test_tracing_starts_only_with_an_endpoint_and_the_exporter(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.start_from_environment() is False
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    with caplog.at_level(logging.WARNING, "ras_identity.tracing"):
        started = tracing.start_from_environment()
    # The suite installs the SDK but not the OTLP exporter (the `otel` extra).
    assert started is False
    assert tracing.tracer() is None
    assert "tracing stays off" in caplog.text


# The serving command


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_serve_logs_json_lines_and_sums_metrics_over_two_processes(
    tmp_path: Path,
) -> None:
    url = f"sqlite://{tmp_path / 'obs.sqlite3'}"
    sent = 0
    with serving(
        url, "--workers", "2", RAS_LOG_FORMAT="json", RAS_MAIL_DIR=str(tmp_path)
    ) as server:
        # A new connection each, until both processes have answered some (the
        # kernel may hand a burst of connections to one of them).
        while sent < 400:
            for _ in range(10):
                httpx.post(f"{server.url}/graphql", json={"query": ME})
            sent += 10
            whole_lines = server.so_far().rpartition("\n")[0]
            if len(_pids(_json_lines(whole_lines), "me")) == 2:
                break
        pages = [httpx.get(f"{server.url}/metrics").text for _ in range(6)]
    lines = _json_lines(server.output)  # every line is JSON, uvicorn's included
    me_lines = [line for line in lines if line.get("operation") == "me"]

    assert len(me_lines) == sent
    assert all(line["outcome"] == "RASX002E" for line in me_lines)
    assert all(HEX_ID.fullmatch(str(line["requestId"])) for line in me_lines)
    assert len(_pids(lines, "me")) == 2
    for page in pages:  # whichever process answered the scrape: the sum
        assert (
            value(
                page,
                "ras_requests_total",
                api="graphql",
                operation="me",
                outcome="RASX002E",
            )
            == sent
        )


def _pids(lines: list[dict[str, object]], operation: str) -> set[object]:
    """The processes whose access lines show ``operation``."""
    return {line["pid"] for line in lines if line.get("operation") == operation}


def test_a_taken_metrics_port_is_said_plainly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(
            ["worker"],
            f"sqlite://{tmp_path / 'w.sqlite3'}",
            RAS_METRICS_PORT=str(port),
            RAS_LOG_FORMAT="json",
        )
    assert done.returncode == 1
    [line] = _json_lines(done.stderr)
    assert line["message"] == (
        f"cannot serve metrics on 127.0.0.1:{port} (RAS_METRICS_PORT): "
        "Address already in use"
    )


def test_metrics_port_takes_metrics_off_the_public_port(tmp_path: Path) -> None:
    port = free_port()
    with serving(
        f"sqlite://{tmp_path / 'port.sqlite3'}",
        "--workers",
        "2",
        RAS_METRICS_PORT=str(port),
        RAS_MAIL_DIR=str(tmp_path),
    ) as server:
        httpx.post(f"{server.url}/graphql", json={"query": ME})
        public = httpx.get(f"{server.url}/metrics")
        private = httpx.get(f"http://127.0.0.1:{port}/metrics")
    assert public.status_code == 404
    assert private.status_code == 200
    assert (
        value(
            private.text,
            "ras_requests_total",
            api="graphql",
            operation="me",
            outcome="RASX002E",
        )
        == 1
    )


def test_live_gauges_of_ended_processes_are_dropped(tmp_path: Path) -> None:
    """uvicorn restarts a web process that died; its last hashing-queue value
    must not stay in the sum."""
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    gone = int(ended.stdout)
    mine = os.getpid()
    for pid in (gone, mine):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
    (tmp_path / f"counter_{gone}.db").write_bytes(b"")

    dropped = metrics.forget_ended_processes(str(tmp_path))

    assert dropped == [gone]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{gone}.db", f"gauge_livesum_{mine}.db"]
    )
