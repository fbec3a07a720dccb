"""GraphQL over HTTP: the graphql-http audit suite, and the media types it checks."""

import asyncio
import json
from pathlib import Path

import httpx

from tests.support import ME

AUDIT = Path(__file__).with_name("http_audit")
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


async def test_every_graphql_over_http_audit_passes(http: httpx.AsyncClient) -> None:
    # scripts/test installs the audit (npm ci in tests/http_audit).
    process = await asyncio.create_subprocess_exec(
        "node",
        str(AUDIT / "audit.mjs"),
        str(http.base_url.join("/graphql")),
        cwd=AUDIT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()

    results = json.loads(stdout)
    assert len(results) >= 50
    failing = [r for r in results if r["status"] != "ok"]
    assert failing == []


async def test_request_errors_under_the_graphql_media_type_are_400_without_data(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql",
        json={
            "query": "query($l: Language) { errorCatalog(lang: $l) { code } }",
            "variables": {"l": "FR"},
        },
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"]


async def test_the_same_error_under_application_json_is_200_with_null_data(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "{ nope }"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None


async def test_typed_errors_are_data_under_either_media_type(
    http: httpx.AsyncClient,
) -> None:
    for accept in (GRAPHQL_RESPONSE_JSON, "application/json", "*/*"):
        response = await http.post(
            "/graphql", json={"query": ME}, headers={"Accept": accept}
        )
        assert response.status_code == 200
        assert response.json()["data"]["me"]["code"] == "RASX002E"
