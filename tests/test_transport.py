"""GraphQL over real HTTP (uvicorn on 127.0.0.1): headers, languages, failures."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from tortoise import connections

from app.main import create_app
from app.settings import Environment, Settings
from models import User
from resolvers.context import Services
from schema.document_limits import MAX_TOKENS
from tests.support import LOGIN, PASSWORD, serve
from tests.support import post_graphql as _post

ME = "query { me { __typename ... on Error { code message } ... on User { authId } } }"


async def test_login_then_me_with_a_bearer_token(
    http: httpx.AsyncClient, user: User
) -> None:
    login = await _post(http, LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    token = login.json()["data"]["login"]["token"]

    me = await _post(http, ME, headers={"Authorization": f"Bearer {token}"})
    without = await _post(http, ME)

    assert me.status_code == 200
    assert me.json() == {"data": {"me": {"__typename": "User", "authId": user.auth_id}}}
    assert without.json()["data"]["me"]["code"] == "RASX002E"


async def test_accept_language_and_lang_parameter_choose_english(
    http: httpx.AsyncClient,
) -> None:
    header = await _post(
        http, ME, headers={"Accept-Language": "en-US,en;q=0.9,ja;q=0.5"}
    )
    ja_first = await _post(http, ME, headers={"Accept-Language": "ja,en;q=0.8"})
    param = await http.post("/graphql?lang=en", json={"query": ME})

    assert (
        header.json()["data"]["me"]["message"]
        == "You are not logged in. Please log in."
    )
    assert ja_first.json()["data"]["me"]["message"].startswith("ログインしていません")
    assert param.json()["data"]["me"]["message"].startswith("You are not logged in")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"garbage", "text/plain")],
)
async def test_malformed_requests_get_json_errors_not_html(
    http: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["message"]


async def test_invalid_query_is_a_graphql_error_without_data(
    http: httpx.AsyncClient,
) -> None:
    response = await _post(http, "query { nope }")

    body = response.json()
    assert body["data"] is None
    assert "nope" in body["errors"][0]["message"]


async def test_unknown_path_is_json_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Not Found"


async def test_health_check_answers_when_the_database_does(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/healthz")

    assert response.json() == {"status": "ok"}


async def test_unexpected_failure_answers_098e_with_an_incident_id_in_the_log(
    http: httpx.AsyncClient, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    login = await _post(http, LOGIN, {"authId": user.auth_id, "password": PASSWORD})
    token = login.json()["data"]["login"]["token"]
    db = connections.get("default")
    # A real infrastructure failure: the sessions table disappears under the service.
    await db.execute_script("ALTER TABLE user_sessions RENAME TO user_sessions_gone")
    try:
        with caplog.at_level(logging.ERROR, logger="ras_identity.incident"):
            response = await _post(
                http, ME, headers={"Authorization": f"Bearer {token}"}
            )
    finally:
        await db.execute_script(
            "ALTER TABLE user_sessions_gone RENAME TO user_sessions"
        )

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert (
        error["message"]
        == "システムエラーが発生しました。ヘルプデスクに問合せください。"
    )
    assert error["extensions"]["code"] == "WZBAM098E"
    incident = error["extensions"]["incidentId"]
    assert "Traceback" not in response.text
    assert "user_sessions" not in response.text
    logged = [r for r in caplog.records if incident in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert token not in caplog.text


async def test_graphiql_is_served_in_development(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_off_in_production(db: str, services: Services) -> None:
    settings = Settings(database_url=db, environment=Environment.PRODUCTION)
    app = create_app(settings, services=services, manage_database=False)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert "graphiql" not in response.text.lower()
    assert response.headers["content-type"].startswith("application/json")


async def test_too_many_aliases_are_refused(http: httpx.AsyncClient) -> None:
    query = (
        "query {" + " ".join(f"a{n}: errorCatalog {{ code }}" for n in range(21)) + "}"
    )

    response = await _post(http, query)

    body = response.json()
    assert body["data"] is None
    assert "aliases" in json.dumps(body["errors"]).lower()


async def test_oversized_documents_are_refused_before_parsing(
    http: httpx.AsyncClient,
) -> None:
    query = "query { " + "__typename " * MAX_TOKENS + "}"

    response = await _post(http, query)

    body = response.json()
    assert body["data"] is None
    assert "token" in json.dumps(body["errors"]).lower()


async def test_full_introspection_query_is_answered(http: httpx.AsyncClient) -> None:
    from graphql import get_introspection_query

    response = await _post(http, get_introspection_query(descriptions=True))

    body = response.json()
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize(
    "body",
    [b"1", b"true", b'"x"', b"null", b"\xff\xfe", b'{"query": "{ me { __typename } }'],
)
async def test_bodies_that_are_not_a_json_object_are_400(
    http: httpx.AsyncClient, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "data" not in response.json()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "query($a: String!) { errorCatalog { code } }",'
        b' "variables": {"a": "\\ud800"}}',
        b'{"query": "{ errorCatalog { code } }", "operationName": "\\udc00"}',
        b'{"query": "{ errorCatalog { code } }", "operationName": 5}',
    ],
)
async def test_lone_surrogates_and_odd_envelopes_are_400(
    http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


async def test_oversized_bodies_are_refused_with_413(http: httpx.AsyncClient) -> None:
    big = {"query": "{ errorCatalog { code } }", "variables": {"x": "a" * 70_000}}

    declared = await http.post("/graphql", json=big)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    chunked = await http.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert declared.status_code == 413
    assert chunked.status_code == 413
    assert declared.json()["errors"][0]["message"].startswith("request body over")


async def test_access_log_never_shows_query_strings(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "MySecret-Pw1!"
    query = (
        f'mutation {{ login(input: {{authId: "AAAAAAAAAA", password: "{secret}"}}) '
        "{ __typename } }"
    )
    with caplog.at_level(logging.INFO):
        response = await http.get("/graphql", params={"query": query})

    assert response.status_code in {400, 405}
    assert "GET '/graphql'" in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("header", "english"),
    [
        ("en;level=1;q=0.5, ja;q=0.9", False),
        ("ja;q=0.1, en;q=0.2", True),
        ("en;q=inf", False),
        ("en;q=0", False),
        ("fr, en-GB;q=0.8", True),
        ("*", False),
    ],
)
async def test_accept_language_q_values(
    http: httpx.AsyncClient, header: str, english: bool
) -> None:
    response = await _post(http, ME, headers={"Accept-Language": header})

    message = response.json()["data"]["me"]["message"]
    assert message.startswith("You are not") is english


@pytest.mark.parametrize("depth", [450, 1200, 100_000 // 2])
async def test_deeply_nested_json_never_crashes(
    http: httpx.AsyncClient, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    body = '{"query": "{ __typename }", "variables": {"a": ' + "[" * depth
    body += "]" * depth + "}}"

    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code < 500
    assert "errors" in response.json() or "data" in response.json()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_access_log_lines_cannot_be_forged_through_the_path(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ras_identity.access"):
        await http.get("/x%0aINFO ras_identity.auth login: user_id=1")

    lines = [r.getMessage() for r in caplog.records if r.name == "ras_identity.access"]
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "\\n" in lines[0]


async def test_a_malformed_content_length_is_400(http: httpx.AsyncClient) -> None:
    reader, writer = await asyncio.open_connection(
        http.base_url.host, http.base_url.port
    )
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 12x\r\nConnection: close\r\n\r\n{}"
    )
    await writer.drain()
    head = await reader.read(64)
    writer.close()
    await writer.wait_closed()

    assert head.startswith(b"HTTP/1.1 400")
