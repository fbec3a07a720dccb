"""The GraphQL HTTP view: context, content negotiation and JSON-only failures."""

import functools
import json
import logging
import uuid

from cross_web import HTTPException as ViewHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from models import Lang
from resolvers.context import Context, Services
from schema.messages import ErrorCode, texts
from schema.root import schema
from security.clients import Network, client_address, client_key

logger = logging.getLogger("ras_identity.http")

POST_OPERATIONS = OperationType.from_http("POST")

# Cookie mode: a same-origin browser page (the portal) asks for it with this
# header on every POST; the session token then lives in the session cookie
# (HttpOnly, SameSite=Strict), never in JavaScript's reach. Its name carries
# the __Host- prefix whenever it is Secure: a browser then keeps it only as set
# by this very host (no Domain, Path=/), so a sibling subdomain cannot plant
# one of its own. (Plain http on loopback in development cannot use the prefix.)
COOKIE_MODE_HEADER = "x-ras-session"
SESSION_COOKIE = "ras_session"
SECURE_SESSION_COOKIE = "__Host-ras_session"


def only_cookie(request: Request | WebSocket, name: str) -> str | None:
    """The value of cookie ``name`` when the request carries it exactly once.
    Two of them (one planted for a parent domain, say) are refused rather than
    one chosen: which one a server picks decides whose session it is."""
    found = [
        value.strip()
        for name_value in request.headers.get("cookie", "").split(";")
        for key, _, value in [name_value.partition("=")]
        if key.strip() == name
    ]
    if len(found) != 1:
        return None
    return found[0] or None


def same_origin(request: Request | WebSocket, public_origin: str) -> bool:
    """Whether a browser says this request comes from the service's own pages.

    A cross-site form cannot send COOKIE_MODE_HEADER (only a script can, and a
    script on another origin needs a CORS preflight, which never allows it);
    the browser's own Sec-Fetch-Site and Origin headers, when sent, must agree
    as well: the origin of RAS_PUBLIC_URL, or the request's own host."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    origin = origin.lower()
    if origin == public_origin:
        return True
    host = request.headers.get("host", "").lower()
    return bool(host) and origin.partition("://")[2] == host


def _quality(params: list[str]) -> float | None:
    """The q-value of one Accept or Accept-Language entry (1 when absent), None if
    it is not a number from 0 to 1."""
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
    explicit = (
        request.query_params.get("lang", "").lower()
        if request.scope["query_string"]
        else ""
    )
    if explicit in {"ja", "en"}:
        return Lang(explicit)
    header = request.headers.get("accept-language", "")
    if len(header) > KEPT_HEADER_CHARS:
        return accepted_language(header)
    return _kept_language(header)


def accepted_language(accept_language: str) -> Lang:
    """The best of ja/en in an Accept-Language header; else Japanese."""
    best: tuple[float, Lang] | None = None
    for entry in accept_language.split(","):
        tag, *params = entry.split(";")
        primary = tag.strip().lower().split("-")[0]
        quality = _quality(params)
        if primary not in {"ja", "en"} or quality is None:
            continue
        if best is None or quality > best[0]:
            best = (quality, Lang(primary))
    return best[1] if best and best[0] > 0 else Lang.JA


# A client sends the same Accept-Language on every call: the choice is kept per
# header text, for headers of browser size only (a client could otherwise fill
# memory with distinct long headers).
KEPT_HEADER_CHARS = 256
_kept_language = functools.lru_cache(maxsize=256)(accepted_language)


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


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A request error outside GraphQL execution: errors and no data entry."""
    return JSONResponse({"errors": [{"message": message}]}, status, headers=headers)


def request_client(request: Request | WebSocket, proxies: tuple[Network, ...]) -> str:
    """The counter key of the client that sent ``request`` (see security.clients)."""
    peer = request.client.host if request.client else None
    # X-Forwarded-For counts only from a trusted proxy, and only then is it
    # part of the key kept below (and only when short).
    forwarded = tuple(request.headers.getlist("x-forwarded-for")) if proxies else ()
    if sum(map(len, forwarded)) > KEPT_HEADER_CHARS:
        return client_key(client_address(peer, forwarded, proxies))
    return _kept_client(peer, forwarded, proxies)


@functools.lru_cache(maxsize=4096)
def _kept_client(
    peer: str | None, forwarded: tuple[str, ...], proxies: tuple[Network, ...]
) -> str:
    """client_key of client_address, kept for the peers of the last few
    thousand requests: parsing addresses was a tenth of the view's own time."""
    return client_key(client_address(peer, forwarded, proxies))


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
    """No lone surrogates (from JSON escapes such as \\ud800) anywhere in ``value``.

    Iterative, so that a deeply nested body cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class _SubResponse(Response):
    """Strawberry's sub-response, remembering which media type was negotiated."""

    graphql_response_json: bool = False


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with the service's context and JSON-only failures."""

    def __init__(
        self,
        services: Services,
        *,
        graphiql: bool,
        trusted_proxies: tuple[Network, ...] = (),
        schema: BaseSchema = schema,
        public_origin: str = "http://127.0.0.1:8000",
        secure_cookies: bool = True,
        session_cookies: bool = False,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self.services = services
        self.trusted_proxies = trusted_proxies
        self.public_origin = public_origin
        self.secure_cookies = secure_cookies
        self.cookie_name = SECURE_SESSION_COOKIE if secure_cookies else SESSION_COOKIE
        # Cookie mode is for applicants' browsers (the public API) only.
        self.session_cookies = session_cookies

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(
            services=self.services,
            lang=request_language(request),
            bearer=bearer_token(request),
            client=request_client(request, self.trusted_proxies),
            user_agent=request.headers.get("user-agent"),
            # app.observe gave the request its id (a trusted proxy's, or new).
            request_id=request.scope.get("state", {}).get("request_id")
            or uuid.uuid4().hex,
        )
        request.state.context = context
        if self.session_cookies and request.headers.get(COOKIE_MODE_HEADER) == "cookie":
            if request.scope["method"] != "POST":
                raise ViewHTTPException(400, "cookie mode is for POST requests only")
            if not same_origin(request, self.public_origin):
                raise ViewHTTPException(403, "cross-site request refused")
            context.cookie_mode = True
            if context.bearer is None:
                context.bearer = only_cookie(request, self.cookie_name)
        return context

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
        retry_after = request.state.context.retry_after
        if retry_after is not None:  # a limit answered (RASX004E)
            sub_response.headers["retry-after"] = str(retry_after)
        self._session_cookie(request.state.context, sub_response)
        if sub_response.graphql_response_json and is_request_error(result):
            # Under the GraphQL media type a request error is 400 with no data entry.
            data.pop("data", None)
            sub_response.status_code = 400
        return data

    def _session_cookie(self, context: Context, sub_response: Response) -> None:
        """Set the token this request issued as the session cookie, or clear
        the cookie after a logout (cookie mode only)."""
        if context.issued_token is not None:
            sub_response.set_cookie(
                self.cookie_name,
                context.issued_token,
                path="/",
                secure=self.secure_cookies,
                httponly=True,
                samesite="strict",
            )
        elif context.cookie_ended:
            sub_response.delete_cookie(
                self.cookie_name,
                path="/",
                secure=self.secure_cookies,
                httponly=True,
                samesite="strict",
            )

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
        except (ValueError, RecursionError) as exc:  # ValueError: also bad UTF-8
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

    async def plain_post(self, request: Request) -> Response | None:
        """The answer to a POST of a JSON object with a query (and variables
        and an operation name, if any), what portals and partners send on
        every call; None for any other request, which Strawberry's view
        answers (``run``). The same steps as that view, without its request
        adapter and layers, which cost as much CPU as executing `me` (py-spy
        under bench/run)."""
        # Strawberry's view compares the media type case-sensitively (any
        # other spelling is its 400), so this does too.
        if request.method != "POST" or (
            request.headers.get("content-type", "").partition(";")[0].strip()
            != "application/json"
        ):
            return None
        if self._get_stream_transport_from_headers(request.headers) is not None:
            return None
        # The context first, as Strawberry's view makes it: a body refused
        # below is answered with the request's X-Request-ID too.
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        data = self.decode_json(await request.body())  # Starlette keeps the body
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        if (
            not isinstance(query, str)
            or not query
            or not isinstance(variables, dict | None)
            or data.get("extensions") is not None
        ):
            return None
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=data.get("operationName"),
                allowed_operation_types=POST_OPERATIONS,
            )
        except (
            MissingQueryError,
            CannotGetOperationTypeError,
            InvalidOperationTypeError,
        ):
            return None  # refused before anything ran: the view says why (400)
        return self.create_response(
            await self.process_result(request, result), sub_response
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await error_response(400, "only HTTP is served")(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            # Starlette routes HEAD with GET (and lists it in Allow): answer it
            # as GET; the server sends the headers without the body.
            scope = {**scope, "method": "GET"}
        request = Request(scope=scope, receive=receive)
        response: Response
        try:
            response = await self.plain_post(request) or await self.run(request)
        except ViewHTTPException as exc:
            if request.method == "GET" and isinstance(
                exc.__cause__, InvalidOperationTypeError
            ):
                # GraphQL over HTTP: a mutation by GET is 405, POST allowed.
                response = error_response(405, exc.reason, {"allow": "POST"})
            else:
                response = error_response(exc.status_code, exc.reason)
        except Exception as exc:
            response = incident_response(request, exc)
        # Answers differ by media type (Accept) and language (Accept-Language).
        response.headers["vary"] = "Accept, Accept-Language"
        context = getattr(request.state, "context", None)
        if context is not None and context.request_id:
            # The id audit events of this request carry (help desks ask for it).
            response.headers["x-request-id"] = context.request_id
        await response(scope, receive, send)
