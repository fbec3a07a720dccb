"""Documents are bounded by one linear pass before any validation rule runs
(schema.document_limits): what the attack review sent is refused, over real HTTP,
with one error and no data; what portals and partner tooling send still runs.
How long the worst accepted document takes is measured in
bench/validation_cost.py, not here."""

import json

import httpx
import pytest
from graphql import get_introspection_query

from schema.answer_cache import public_lookup_only
from schema.document_limits import LIMITS, MAX_LINE_BREAKS, MAX_SOURCE_CHARS
from schema.pipeline import MAX_VALIDATION_ERRORS
from schema.root import schema

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


async def _post(
    http: httpx.AsyncClient, query: str, operation_name: str | None = None
) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": query, "operationName": operation_name},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )


def _refusal(response: httpx.Response) -> str:
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    message: str = error["message"]
    return message


async def test_the_reviews_repeated_field_is_refused_before_validation(
    http: httpx.AsyncClient,
) -> None:
    # 795 × `prefectures { code }`: 16.7 KB, under the old token limit, and
    # about a second of validation before the limits existed.
    review = "{" + " prefectures { code }" * 795 + "}"
    shorter = "{" + " prefectures { code }" * (LIMITS.selections // 2 + 1) + "}"

    assert _refusal(await _post(http, review)) == (
        f"Syntax Error: Source contains more than {MAX_SOURCE_CHARS} code points. "
        "Parsing aborted."
    )
    assert _refusal(await _post(http, shorter)) == (
        f"A document may select at most {LIMITS.selections} fields and fragments."
    )


async def test_fragments_are_counted_spread_out_and_cycles_refused(
    http: httpx.AsyncClient,
) -> None:
    # Each fragment spreads the next three times: 39 selections as written,
    # 3**12 spread out (this took over a second of CPU in the depth and alias
    # rules before the limit).
    chain = " ".join(
        f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} ...F{n + 1} }}"
        for n in range(12)
    )
    exponential = f"query {{ ...F0 }} {chain} fragment F12 on Query {{ __typename }}"
    cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"

    assert _refusal(await _post(http, exponential)) == (
        f"A document may select at most {LIMITS.expanded_selections} fields and "
        "fragments with its fragments spread out."
    )
    assert _refusal(await _post(http, cycle)) == "Fragment 'A' spreads itself."


async def test_literal_values_and_arguments_are_bounded(
    http: httpx.AsyncClient,
) -> None:
    items = ", ".join(["1"] * (LIMITS.value_items + 1))
    arguments = ", ".join(f"a{n}: 1" for n in range(LIMITS.arguments_per_node + 1))

    long_list = await _post(http, f"{{ errorCatalog(lang: [{items}]) {{ code }} }}")
    many_arguments = await _post(http, f"{{ errorCatalog({arguments}) {{ code }} }}")

    assert "pass larger values as variables" in _refusal(long_list)
    assert _refusal(many_arguments) == (
        f"A field or directive may take at most {LIMITS.arguments_per_node} arguments."
    )


@pytest.mark.parametrize("extra", [0, 1])
async def test_selections_are_counted_up_to_the_limit(
    http: httpx.AsyncClient, extra: int
) -> None:
    # Fields in fragments count where they are written; spreads count too.
    blocks = ["prefectures { code name kana romaji __typename }"] * 9  # 54
    blocks += ["errorCatalog { code message remedy extension }"] * 9  # 45
    assert LIMITS.selections == 1 + 54 + 45
    fields = " ".join(blocks) + " __typename" * extra
    query = f"query {{ ...F }} fragment F on Query {{ {fields} }}"

    response = await _post(http, query)

    if extra:
        assert "at most" in _refusal(response)
    else:
        assert response.status_code == 200
        assert len(response.json()["data"]["prefectures"]) == 47


async def test_duplicated_directives_are_one_refusal_not_an_error_each(
    http: httpx.AsyncClient,
) -> None:
    query = "{ __typename" + " @skip(if: false)" * 10 + " }"

    response = await _post(http, query)

    assert _refusal(response) == (
        f"At most {LIMITS.directives_per_node} directives may stand on one field, "
        "fragment or operation."
    )


async def test_directives_per_document_are_bounded(http: httpx.AsyncClient) -> None:
    fields = " ".join(
        f"a{n}: __typename @include(if: true)" for n in range(LIMITS.directives + 1)
    )
    response = await _post(http, f"{{ {fields} }}")

    assert "directives" in _refusal(response)


async def test_directives_on_variables_count_too(http: httpx.AsyncClient) -> None:
    directives = " ".join(f"@d{n}" for n in range(LIMITS.directives_per_node + 1))

    response = await _post(http, f"query($v: Int {directives}) {{ __typename }}")

    assert "directives may stand" in _refusal(response)


async def test_validation_stops_early_and_suggests_nothing(
    http: httpx.AsyncClient,
) -> None:
    fields = " ".join(f"prefecturez{n}" for n in range(40))

    response = await _post(http, f"{{ {fields} }}")

    errors = response.json()["errors"]
    assert len(errors) == MAX_VALIDATION_ERRORS + 1  # the last says it stopped
    assert "Did you mean" not in json.dumps(errors)


async def test_definitions_and_variables_are_bounded(http: httpx.AsyncClient) -> None:
    operations = " ".join(
        f"query Q{n} {{ __typename }}" for n in range(LIMITS.definitions + 1)
    )
    variables = ", ".join(f"$v{n}: Int" for n in range(LIMITS.variables + 1))

    many_operations = await _post(http, operations, "Q0")
    many_variables = await _post(http, f"query Q({variables}) {{ __typename }}")

    assert "operations and fragments" in _refusal(many_operations)
    assert "variables" in _refusal(many_variables)


async def test_the_full_introspection_query_is_within_the_limits(
    http: httpx.AsyncClient,
) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )

    response = await _post(http, query)

    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_refused_document_is_refused_in_process_too() -> None:
    # The limit lives in the schema, not the HTTP layer: every caller meets it.
    result = schema.execute_sync("{" + " __typename" * (LIMITS.selections + 1) + "}")

    assert result.data is None
    assert result.errors is not None
    assert "at most" in json.dumps([e.message for e in result.errors])


@pytest.mark.parametrize("extra", [0, 1])
async def test_line_breaks_are_bounded(http: httpx.AsyncClient, extra: int) -> None:
    # graphql-core finds each error's line by walking every line break before
    # it: 16,000 of them in front of 20 errors cost 50 ms.
    query = "\r\n" * (MAX_LINE_BREAKS // 2) + "\n" * extra + "{ nope }"

    response = await _post(http, query)

    if extra:
        assert _refusal(response) == (
            f"A document may have at most {MAX_LINE_BREAKS} line breaks."
        )
    else:
        assert "nope" in _refusal(response)  # validated, and located


async def test_fields_sharing_a_response_name_are_bounded(
    http: httpx.AsyncClient,
) -> None:
    # Validation compares every two of them: 98 × __typename(a: 1) cost 16 ms.
    most = LIMITS.same_response_name
    direct = "{ " + "__typename " * (most + 1) + "}"
    # Spread over inline fragments, they are compared just the same.
    spread = "{ " + "... on Query { __typename } " * (most + 1) + "}"
    allowed = "{ " + "... on Query { __typename } " * most + "}"

    assert _refusal(await _post(http, direct)) == (
        f"At most {most} fields may answer as '__typename' in one selection set."
    )
    assert "'__typename'" in _refusal(await _post(http, spread))
    assert (await _post(http, allowed)).json() == {"data": {"__typename": "Query"}}


def test_the_answer_cache_parses_within_the_limits_too() -> None:
    # It parses public lookups to decide what to keep: without the token
    # limit a 4,000-character document of 1,000 tokens cost 11 ms there.
    arguments = ",".join(f"a{n}:1" for n in range(500))
    document = f"{{ __typename({arguments}) }}"
    assert len(document) <= 4000

    assert not public_lookup_only(document)
    assert public_lookup_only("{ __typename(a: 1) }")
