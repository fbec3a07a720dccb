"""The Starlette app: GraphQL at /graphql, a health check, and the lifespan."""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from cross_web import HTTPException as ViewHTTPException
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from tortoise import connections

from app.database import connected, migrate
from app.middleware import AccessLog, BodyLimit
from app.settings import Settings
from resolvers.admin import purge_stale
from schema.catalog import ErrorCode, Lang, texts
from schema.context import Context, Services
from schema.root import schema
from security.clock import Clock, SystemClock
from security.passwords import Argon2idHasher, PasswordHasher
from security.policy import Policy

logger = logging.getLogger("ras_identity.http")


def _quality(params: list[str]) -> float | None:
    """The q-value of one Accept-Language entry (1 when absent), None if invalid."""
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                return None
            return quality if 0 <= quality <= 1 else None
    return 1.0


def request_language(request: Request | WebSocket) -> Lang:
    """``?lang=`` wins; else the best of ja/en in Accept-Language; else Japanese."""
    explicit = request.query_params.get("lang", "").lower()
    if explicit in {"ja", "en"}:
        return Lang(explicit)
    best: tuple[float, Lang] | None = None
    for entry in request.headers.get("accept-language", "").split(","):
        tag, *params = entry.split(";")
        primary = tag.strip().lower().split("-")[0]
        quality = _quality(params)
        if primary not in {"ja", "en"} or quality is None:
            continue
        if best is None or quality > best[0]:
            best = (quality, Lang(primary))
    return best[1] if best and best[0] > 0 else Lang.JA


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def wants_graphql_response_json(request: Request | WebSocket) -> bool:
    """GraphQL over HTTP: answer application/graphql-response+json when Accept
    ranks it at least as high as application/json; no Accept or */* keeps the
    legacy application/json."""
    best = {GRAPHQL_RESPONSE_JSON: -1.0, "application/json": -1.0}
    for entry in request.headers.get("accept", "").split(","):
        media, *params = entry.split(";")
        media = media.strip().lower()
        quality = _quality(params)
        if media in best and quality is not None:
            best[media] = max(best[media], quality)
    return 0 < best[GRAPHQL_RESPONSE_JSON] >= best["application/json"]


def is_request_error(result: ExecutionResult) -> bool:
    """The document did not parse or validate, or its variables did not coerce:
    execution never started, so there is no data and no error has a path."""
    errors = result.errors or []
    return (
        bool(errors)
        and result.data is None
        and all(
            error.path is None
            and (error.extensions or {}).get("code") != ErrorCode.SYSTEM_ERROR.value
            for error in errors
        )
    )


def bearer_token(request: Request | WebSocket) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def error_response(status: int, message: str) -> JSONResponse:
    """A request error outside GraphQL execution: errors and no data entry."""
    return JSONResponse({"errors": [{"message": message}]}, status)


def incident_response(request: Request, exc: BaseException) -> JSONResponse:
    """WZBAM098E for a failure outside GraphQL execution, logged with its ID."""
    incident = uuid.uuid4().hex
    logger.error("incident %s outside GraphQL execution", incident, exc_info=exc)
    text = texts(ErrorCode.SYSTEM_ERROR, request_language(request))
    error = {
        "message": text.message,
        "extensions": {
            "code": ErrorCode.SYSTEM_ERROR.value,
            "remedy": text.remedy,
            "incidentId": incident,
        },
    }
    return JSONResponse({"errors": [error]}, status_code=500)


def _valid_unicode(value: object) -> bool:
    """No lone surrogates (from JSON escapes such as \\ud800) anywhere in ``value``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_valid_unicode(k) and _valid_unicode(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_valid_unicode(item) for item in value)
    return True


class _SubResponse(Response):
    """Strawberry's sub-response, remembering which media type was negotiated."""

    graphql_response_json: bool = False


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with the service's context and JSON-only failures."""

    def __init__(self, services: Services, *, graphiql: bool) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self.services = services

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            services=self.services,
            lang=request_language(request),
            bearer=bearer_token(request),
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = _SubResponse()
        sub_response.status_code = None  # type: ignore[assignment]
        del sub_response.headers["content-length"]
        sub_response.graphql_response_json = wants_graphql_response_json(request)
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = await super().process_result(request, result)
        sub_response = request.state.sub_response
        if sub_response.graphql_response_json and is_request_error(result):
            # Under the GraphQL media type a request error is 400 with no data entry.
            data.pop("data", None)
            sub_response.status_code = 400
        return data

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if (
            isinstance(sub_response, _SubResponse)
            and sub_response.graphql_response_json
        ):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
        return response

    def decode_json(self, data: str | bytes) -> object:
        """Only a JSON object (or array) of valid Unicode is a request: anything
        else is the client's mistake (400), never a crash further in."""
        try:
            value = json.loads(data)
        except ValueError as exc:  # also invalid UTF-8 (UnicodeDecodeError)
            raise ViewHTTPException(
                400, "Unable to parse request body as JSON"
            ) from exc
        if not isinstance(value, dict | list):
            raise ViewHTTPException(400, "The request must be a JSON object")
        if not _valid_unicode(value):
            raise ViewHTTPException(400, "The request contains invalid Unicode text")
        if isinstance(value, dict) and not isinstance(
            value.get("operationName"), str | None
        ):
            raise ViewHTTPException(400, "`operationName` must be a string or null")
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await error_response(400, "only HTTP is served")(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        try:
            response = await self.run(request)
        except ViewHTTPException as exc:
            response = error_response(exc.status_code, exc.reason)
        except Exception as exc:
            response = incident_response(request, exc)
        await response(scope, receive, send)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    hasher: PasswordHasher = Argon2idHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    policy = Policy(
        session_idle=timedelta(seconds=settings.session_idle_seconds),
        session_max=timedelta(seconds=settings.session_max_seconds),
        change_ticket_lifetime=timedelta(seconds=settings.change_ticket_seconds),
        lockout_threshold=settings.lockout_threshold,
        lockout_duration=timedelta(seconds=settings.lockout_seconds),
        password_max_age=timedelta(days=settings.password_max_age_days),
    )
    return Services(policy=policy, clock=clock or SystemClock(), hasher=hasher)


HOUSEKEEPING_EVERY_SECONDS = 600.0


async def housekeeping(services: Services) -> None:
    """Every few minutes, delete stale lockout counters and long-ended sessions."""
    while True:
        try:
            purged = await purge_stale(services)
            if purged.throttles or purged.sessions:
                logger.info(
                    "housekeeping: %d counters, %d sessions deleted",
                    purged.throttles,
                    purged.sessions,
                )
        except Exception:
            logger.exception("housekeeping failed; trying again later")
        await asyncio.sleep(HOUSEKEEPING_EVERY_SECONDS)


async def health(request: Request) -> JSONResponse:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        logger.exception("health check: database unreachable")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def _internal_error(request: Request, exc: Exception) -> Response:
    return incident_response(request, exc)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    detail = exc.detail if isinstance(exc, HTTPException) else "Not Found"
    return error_response(status, detail)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    manage_database: bool = True,
    migrate_on_start: bool = True,
) -> Starlette:
    """The ASGI app. With ``manage_database`` its lifespan opens the ORM (after
    applying migrations, unless ``migrate_on_start`` is off because a release step
    does it); tests that hold their own database pass False."""
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        if migrate_on_start:
            await migrate(settings.database_url)
        async with connected(settings.database_url):
            task = asyncio.create_task(housekeeping(services))
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    graphql = GraphQLApp(services, graphiql=settings.is_development)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: _internal_error, HTTPException: _not_found},
        middleware=[
            Middleware(AccessLog),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
    )
