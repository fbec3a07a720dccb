"""The Starlette app: GraphQL at /graphql, a health check, and the lifespan."""

import asyncio
import contextlib
import dataclasses
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import portal
from addresses.index import MunicipalityIndex
from addresses.load import DATA_SET, load_addresses
from app.audit import audit_sealing
from app.background import running
from app.database import connected, migrate
from app.health import health_routes
from app.mail import mail_delivery
from app.middleware import BodyLimit, SecurityHeaders
from app.observe import Observe, OutboxReading
from app.settings import Settings
from app.view import GraphQLApp, error_response, incident_response
from mailer.render import Composer
from models import ReferenceData
from resolvers.context import Services
from resolvers.housekeeping import purge_stale
from schema.admin_root import admin_schema
from schema.answer_cache import AnswerCache
from security.clock import Clock, SystemClock
from security.passwords import Argon2idHasher, PasswordHasher
from security.policy import Policy
from telemetry import metrics

logger = logging.getLogger("ras_identity.http")


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    hasher: PasswordHasher = Argon2idHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        threads=settings.hash_threads,
        nice=settings.hash_nice,
    )
    policy = Policy(
        session_idle=timedelta(seconds=settings.session_idle_seconds),
        session_max=timedelta(seconds=settings.session_max_seconds),
        change_ticket_lifetime=timedelta(seconds=settings.change_ticket_seconds),
        lockout_threshold=settings.lockout_threshold,
        lockout_duration=timedelta(seconds=settings.lockout_seconds),
        password_max_age=timedelta(days=settings.password_max_age_days),
        password_min_length=settings.password_min_length,
        password_max_length=settings.password_max_length,
        password_history=settings.password_history,
        common_password_base_rank=settings.common_password_base_rank,
        setup_link_lifetime=timedelta(hours=settings.setup_link_hours),
        reset_link_lifetime=timedelta(minutes=settings.reset_link_minutes),
        email_revert_lifetime=timedelta(days=settings.email_revert_days),
        reset_request_limit=settings.reset_request_limit,
        registration_limit=settings.registration_limit,
        email_change_limit=settings.email_change_limit,
        request_window=timedelta(seconds=settings.request_window_seconds),
        answer_floor=timedelta(milliseconds=settings.answer_floor_ms),
        step_up=timedelta(seconds=settings.step_up_seconds),
        client_login_failure_limit=settings.client_login_failure_limit,
        client_login_window=timedelta(seconds=settings.client_login_window_seconds),
        client_registration_limit=settings.client_registration_limit,
        client_reset_request_limit=settings.client_reset_request_limit,
        client_link_limit=settings.client_link_limit,
        client_window=timedelta(seconds=settings.client_window_seconds),
        link_attempt_limit=settings.link_attempt_limit,
        audit_retention=timedelta(days=settings.audit_retention_days),
        staff_lockout_threshold=settings.staff_lockout_threshold,
        staff_idle=timedelta(seconds=settings.staff_idle_seconds),
        staff_session_max=timedelta(seconds=settings.staff_session_max_seconds),
        totp_issuer=settings.totp_issuer,
        totp_enrollment=timedelta(seconds=settings.totp_enrollment_seconds),
        totp_challenge=timedelta(seconds=settings.totp_challenge_seconds),
    )
    composer = Composer(sender=settings.mail_from, public_url=settings.public_url)
    answers = AnswerCache(
        max_bytes=int(settings.answer_cache_mb * 1024 * 1024),
        lifetime=timedelta(seconds=settings.answer_cache_seconds),
    )
    return Services(
        policy=policy,
        clock=clock or SystemClock(),
        hasher=hasher,
        composer=composer,
        answers=answers,
        secrets=settings.secret_box(),
        municipalities=MunicipalityIndex(
            lifetime=timedelta(seconds=settings.answer_cache_seconds)
        ),
    )


HOUSEKEEPING_EVERY_SECONDS = 600.0


async def housekeeping(services: Services) -> None:
    """Every few minutes, delete stale counters, long-ended sessions and links."""
    while True:
        try:
            purged = await purge_stale(services)
            if any(dataclasses.astuple(purged)):
                logger.info(
                    "housekeeping: %d counters, %d sessions, %d counted requests, "
                    "%d links, %d audit seals deleted",
                    purged.throttles,
                    purged.sessions,
                    purged.requests,
                    purged.links,
                    purged.audit_seals,
                )
        except Exception:
            logger.exception("housekeeping failed; trying again later")
        await asyncio.sleep(HOUSEKEEPING_EVERY_SECONDS)


async def _internal_error(request: Request, exc: Exception) -> Response:
    return incident_response(request, exc)


async def _not_found(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        return error_response(404, "Not Found")
    # Starlette's 405 names the allowed methods in `Allow`.
    return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))


async def _address_data(*, load: bool, now: datetime) -> None:
    """Load the address data with the migrations; without them, say if it is
    missing, since the address search then finds nothing."""
    if load:
        await load_addresses(now=now)
    elif not await ReferenceData.exists(name=DATA_SET):
        logger.warning(
            "no address data loaded: run `ras-identity data load-municipalities`"
        )


def public_metrics(settings: Settings) -> bool:
    """Whether /metrics is a route of the public port: in development when no
    RAS_METRICS_PORT takes it elsewhere; in production never (its counts of
    logins and lockouts are for the operator's scraper only, which reads
    RAS_METRICS_PORT; without one, nothing serves them, and start-up says so)."""
    if settings.metrics_port is not None:
        return False
    if not settings.is_development:
        logger.warning(
            "/metrics is not served: in production it needs RAS_METRICS_PORT "
            "(a port only the scraper reaches)"
        )
        return False
    return True


def metrics_page(reading: OutboxReading) -> Callable[[Request], Awaitable[Response]]:
    """/metrics on the public port: every metric (summed over the web
    processes in multiprocess mode), the outbox read at most every
    RAS_METRICS_REFRESH_SECONDS."""

    async def page(request: Request) -> Response:
        await reading.refresh()
        body, media_type = metrics.exposition()
        return Response(body, headers={"content-type": media_type})

    return page


def freeze_startup_heap() -> None:
    """Keep what start-up built (the schema, the ORM, the address index:
    hundreds of thousands of objects that live as long as the process) out of
    the garbage collector's full passes. Each full pass walked all of them and
    paused every request in flight: `me` p99 34 ms against 14 ms with the
    collector off (wrk under bench/run). Only the serving process does it: a
    test process that builds many apps would keep each one's garbage."""
    gc.collect()
    gc.freeze()


def _cors(origins: tuple[str, ...]) -> list[Middleware]:
    """CORS for RAS_CORS_ORIGINS, or nothing (closed) when it is empty: pages
    of those origins may call the API with a Bearer token; no credentials
    (the session cookie is SameSite=Strict and for the service's own pages)."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=[
                "authorization",
                "content-type",
                "accept",
                "accept-language",
            ],
            expose_headers=["retry-after", "x-request-id"],
            allow_credentials=False,
            max_age=600,
        )
    ]


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    manage_database: bool = True,
    migrate_on_start: bool = True,
    mail_worker: bool | None = None,
    freeze_heap: bool = False,
) -> Starlette:
    """The ASGI app. With ``manage_database`` its lifespan opens the ORM (after
    applying migrations, unless ``migrate_on_start`` is off because a release step
    does it) and runs the mail worker (unless ``mail_worker``, by default
    RAS_MAIL_WORKER, is off because separate worker processes deliver); tests
    that hold their own database pass False. ``freeze_heap`` (the serving
    process's) keeps what start-up built out of the collector's full passes."""
    services = services or build_services(settings)
    run_worker = settings.mail_worker if mail_worker is None else mail_worker

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        if migrate_on_start:
            await migrate(settings.database_url)
        async with (
            connected(settings.database_url),
            contextlib.AsyncExitStack() as stack,
        ):
            await _address_data(load=migrate_on_start, now=services.clock.now())
            if run_worker:
                await stack.enter_async_context(mail_delivery(settings, services))
                await stack.enter_async_context(
                    audit_sealing(services, settings.audit_seal_seconds)
                )
            await stack.enter_async_context(running(housekeeping(services)))
            await stack.enter_async_context(running(reading.run()))
            if freeze_heap:
                freeze_startup_heap()
            yield

    reading = OutboxReading(services.clock, settings.metrics_refresh_seconds)
    graphql = GraphQLApp(
        services,
        graphiql=settings.is_development,
        trusted_proxies=settings.trusted_networks,
        public_origin=settings.public_origin,
        secure_cookies=settings.secure_cookies,
        session_cookies=True,
    )
    # The admin API: its own schema, staff sessions only (introspection on, for
    # staff tooling; GraphiQL in development as on /graphql).
    admin_graphql = GraphQLApp(
        services,
        graphiql=settings.is_development,
        trusted_proxies=settings.trusted_networks,
        schema=admin_schema,
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/admin/graphql", admin_graphql, methods=["GET", "POST"]),
            *(
                [Route("/metrics", metrics_page(reading), methods=["GET"])]
                if public_metrics(settings)
                else []
            ),
            *health_routes(settings, services.clock),
            *portal.routes(),
            *(
                [portal.mail_page(settings.mail_dir)]
                if settings.is_development and settings.smtp_url is None
                else []
            ),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: _internal_error, HTTPException: _not_found},
        middleware=[
            Middleware(Observe, trusted_proxies=settings.trusted_networks),
            *_cors(settings.cors_origin_list),
            Middleware(
                SecurityHeaders,
                hsts=urlsplit(settings.public_url).scheme == "https",
            ),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
    )
