"""HTTP hygiene over real HTTP: security headers on every answer, HSTS behind an
https portal, 405 for a mutation sent by GET, no "run the first operation", and
Vary for the negotiated language and media type."""

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from models import User, UserSession
from resolvers.context import Services
from security.tokens import token_hash
from tests.support import LOGIN, ME, PASSWORD, serve

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": "frame-ancestors 'none'",
}
LOGOUT = "mutation Out { logout { __typename } }"


async def _session(http: httpx.AsyncClient, user: User) -> str:
    response = await http.post(
        "/graphql",
        json={
            "query": LOGIN,
            "variables": {"authId": user.auth_id, "password": PASSWORD},
        },
    )
    token: str = response.json()["data"]["login"]["token"]
    return token


async def _active(token: str) -> bool:
    session = await UserSession.get(token_hash=token_hash(token))
    return session.revoked_at is None


async def test_every_answer_carries_the_security_headers(
    http: httpx.AsyncClient,
) -> None:
    answers = [
        await http.post("/graphql", json={"query": ME}),
        await http.get("/graphql", params={"query": ME}),
        await http.post("/graphql", json={"query": "{ nope }"}),
        await http.post(
            "/graphql", content=b"{", headers={"content-type": "application/json"}
        ),
        await http.get("/graphql", params={"query": LOGOUT}),
        await http.post(
            "/graphql", json={"query": ME, "variables": {"x": "a" * 70_000}}
        ),
        await http.put("/graphql", json={"query": ME}),
        await http.get("/nowhere"),
        await http.get("/healthz"),
        await http.get("/graphql", headers={"Accept": "text/html"}),  # GraphiQL
    ]

    assert [a.status_code for a in answers] == [
        200, 200, 200, 400, 405, 413, 405, 404, 200, 200
    ]  # fmt: skip
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.url, name)
        assert "strict-transport-security" not in answer.headers


async def test_https_portals_get_strict_transport_security(
    db: str, services: Services
) -> None:
    settings = Settings(database_url=db, public_url="https://portal.example.go.jp")
    app = create_app(settings, services=services, manage_database=False)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        answer = await client.post("/graphql", json={"query": ME})
        missing = await client.get("/nowhere")

    for response in (answer, missing):
        assert response.headers["strict-transport-security"] == (
            "max-age=63072000; includeSubDomains"
        )


async def test_a_mutation_sent_by_get_is_405_allowing_post_and_runs_nothing(
    http: httpx.AsyncClient, user: User
) -> None:
    token = await _session(http, user)

    response = await http.get(
        "/graphql",
        params={"query": LOGOUT},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()
    assert await _active(token)


async def test_other_methods_are_405_naming_the_allowed_ones(
    http: httpx.AsyncClient,
) -> None:
    response = await http.delete("/graphql")

    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {
        "GET",
        "POST",
    }


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, "application/json"])
async def test_several_operations_without_a_name_are_a_request_error(
    http: httpx.AsyncClient, user: User, accept: str
) -> None:
    token = await _session(http, user)

    response = await http.post(
        "/graphql",
        json={"query": f"{LOGOUT} query Me {{ __typename }}"},
        headers={"Authorization": f"Bearer {token}", "Accept": accept},
    )

    body = response.json()
    assert body.get("data") is None
    assert body["errors"][0]["message"] == (
        "Must provide operation name if query contains multiple operations."
    )
    assert response.status_code == (400 if accept == GRAPHQL_RESPONSE_JSON else 200)
    assert await _active(token)  # the first operation (logout) did not run


async def test_the_named_operation_runs_and_only_it(
    http: httpx.AsyncClient, user: User
) -> None:
    token = await _session(http, user)

    response = await http.post(
        "/graphql",
        json={"query": f"{LOGOUT} query Me {{ __typename }}", "operationName": "Me"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.json() == {"data": {"__typename": "Query"}}
    assert await _active(token)


async def test_answers_vary_by_language_and_media_type(
    http: httpx.AsyncClient,
) -> None:
    english = await http.post(
        "/graphql", json={"query": ME}, headers={"Accept-Language": "en"}
    )
    refused = await http.get("/graphql", params={"query": LOGOUT})

    for response in (english, refused):
        vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
        assert {"accept", "accept-language"} <= vary


async def test_head_is_answered_as_get_and_allow_lists_only_what_works(
    http: httpx.AsyncClient,
) -> None:
    head = await http.head("/graphql", params={"query": "{ __typename }"})
    mutation = await http.head("/graphql", params={"query": LOGOUT})
    options = await http.options("/graphql")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"].startswith("application/json")
    assert (mutation.status_code, mutation.headers["allow"]) == (405, "POST")
    assert options.status_code == 405
    assert {m.strip() for m in options.headers["allow"].split(",")} == {
        "GET",
        "HEAD",
        "POST",
    }
