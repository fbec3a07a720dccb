"""The view's own path for plain POSTs (app.view.GraphQLApp.plain_post) answers
exactly as Strawberry's view does, and is the path plain POSTs take; what the
view keeps per header text stays small."""

import json
import re
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from app.view import (
    GraphQLApp,
    _kept_client,
    _kept_language,
    request_client,
    request_language,
)
from models import Lang, User
from security.clients import parse_networks
from tests.support import LOGIN, PASSWORD

ME = "query { me { __typename ... on Error { code message } ... on User { authId } } }"
SEARCH = (
    "query Search($q: String!) { municipalities(query: $q, first: 2) "
    "{ edges { node { code name } } } }"
)
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
TWO = "query A { __typename } query B { __typename }"

# (body, extra headers): every shape a portal, a partner or a broken client
# sends as a JSON POST.
REQUESTS: list[tuple[Any, dict[str, str]]] = [
    ({"query": "{ __typename }"}, {}),
    ({"query": ME}, {}),
    ({"query": ME}, {"Accept-Language": "en"}),
    ({"query": ME, "variables": None, "operationName": None}, {}),
    ({"query": SEARCH, "variables": {"q": "新宿"}}, {}),
    ({"query": SEARCH, "variables": {"q": 5}}, {}),  # variables do not coerce
    ({"query": SEARCH, "variables": {"q": 5}}, {"Accept": GRAPHQL_RESPONSE_JSON}),
    ({"query": SEARCH}, {"Accept": GRAPHQL_RESPONSE_JSON}),  # missing variable
    ({"query": "{ me "}, {}),  # syntax error
    ({"query": "{ me "}, {"Accept": GRAPHQL_RESPONSE_JSON}),
    ({"query": "{ noSuchField }"}, {"Accept": GRAPHQL_RESPONSE_JSON}),
    ({"query": TWO}, {}),
    ({"query": TWO, "operationName": "B"}, {}),
    ({"query": "query A { __typename }", "operationName": "C"}, {}),
    ({"query": "subscription { __typename }"}, {}),
    ({"query": ""}, {}),
    ({"query": None}, {}),
    ({"query": 7}, {}),
    ({"query": ME, "variables": []}, {}),
    ({"query": ME, "variables": "{}"}, {}),
    ({"query": ME, "operationName": 3}, {}),
    ({"query": ME, "extensions": {"a": 1}}, {}),
    ({"query": ME, "extensions": []}, {}),
    ([{"query": ME}], {}),
    ("just a string", {}),
    ({"query": "{ errorCatalog { code } }"}, {"Accept": "application/json"}),
    ({"query": "mutation { logout { __typename } }"}, {}),
    # Bodies that are not requests, as bytes: refused with the request's ID.
    (b"{", {}),
    (b'{"query": "{ __typename }", "x": "\\ud800"}', {}),
    # Only the exact media type is plain; Strawberry refuses other spellings.
    ({"query": "{ __typename }"}, {"Content-Type": "APPLICATION/JSON"}),
    ({"query": "{ __typename }"}, {"Content-Type": "application/json; charset=utf-8"}),
    ({"query": "{ __typename }"}, {"Accept": "text/event-stream"}),
]


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {
        name: "-" if name == "x-request-id" else value
        for name, value in response.headers.items()
        if name not in {"date", "content-length"}
    }
    text = re.sub(r'"incidentId":"[0-9a-f]+"', '"incidentId":"-"', response.text)
    return response.status_code, headers, json.loads(text)


async def _post(
    http: httpx.AsyncClient, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return await http.post(
        "/graphql",
        content=body if isinstance(body, bytes) else json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


async def test_every_plain_post_is_answered_as_strawberrys_view_answers(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = [_comparable(await _post(http, body, h)) for body, h in REQUESTS]

    async def never(self: GraphQLApp, request: object) -> None:
        return None

    monkeypatch.setattr(GraphQLApp, "plain_post", never)
    strawberry = [_comparable(await _post(http, body, h)) for body, h in REQUESTS]

    for (body, _), mine, theirs in zip(REQUESTS, own, strawberry, strict=True):
        assert mine == theirs, body


async def test_a_logged_in_call_takes_the_plain_path(
    http: httpx.AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    login = await _post(
        http,
        {"query": LOGIN, "variables": {"authId": user.auth_id, "password": PASSWORD}},
        {},
    )
    token = login.json()["data"]["login"]["token"]
    through_strawberry: list[str] = []
    run = GraphQLApp.run

    async def counted(self: GraphQLApp, request: Any, *args: Any) -> Any:
        through_strawberry.append(request.method)
        return await run(self, request, *args)

    monkeypatch.setattr(GraphQLApp, "run", counted)
    me = await _post(http, {"query": ME}, {"Authorization": f"Bearer {token}"})
    # A GET, and a body that is not a plain object, are Strawberry's.
    by_get = await http.get("/graphql", params={"query": "{ __typename }"})
    batch = await _post(http, [{"query": ME}], {})

    assert me.json()["data"]["me"] == {"__typename": "User", "authId": user.auth_id}
    assert by_get.json() == {"data": {"__typename": "Query"}}
    assert batch.status_code == 400
    assert through_strawberry == ["GET", "POST"]


def _request(headers: list[tuple[bytes, bytes]]) -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "query_string": b"",
            "headers": headers,
            "client": ("203.0.113.9", 5000),
        }
    )


def test_long_headers_are_answered_but_never_kept() -> None:
    # The language choice and the client key are kept per header text; a
    # client sending distinct long headers must not fill memory with them.
    languages = _kept_language.cache_info().currsize
    clients = _kept_client.cache_info().currsize
    proxies = parse_networks("203.0.113.0/24")
    for n in range(20):
        long_language = "en;q=0.9, " + f"x-{n}, " * 100
        long_forwarded = ", ".join(f"198.51.100.{n}" for _ in range(40))
        request = _request(
            [
                (b"accept-language", long_language.encode()),
                (b"x-forwarded-for", long_forwarded.encode()),
            ]
        )
        assert request_language(request) is Lang.EN
        assert request_client(request, proxies) == f"198.51.100.{n}"
    assert _kept_language.cache_info().currsize == languages
    assert _kept_client.cache_info().currsize == clients


def test_forwarded_for_from_an_untrusted_peer_is_not_part_of_the_key() -> None:
    # Without trusted proxies the header counts for nothing, so distinct values
    # of it are one kept entry (the peer's), not one each.
    before = _kept_client.cache_info()
    for n in range(20):
        request = _request([(b"x-forwarded-for", f"198.51.100.{n}".encode())])
        assert request_client(request, ()) == "203.0.113.9"
    after = _kept_client.cache_info()
    assert after.currsize <= before.currsize + 1
    assert after.hits >= before.hits + 19
