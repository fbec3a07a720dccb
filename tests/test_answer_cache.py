"""The answer cache serves repeated public address lookups and nothing else."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from graphql import GraphQLError, get_introspection_query
from strawberry.types import ExecutionResult

from models import Lang, Municipality
from resolvers.context import Context, Services
from schema.answer_cache import ENTRY_OVERHEAD, AnswerCache, public_lookup_only
from schema.root import schema
from security.clock import SettableClock
from tests.support import Caller

SEARCH = """
query($q: String) {
  municipalities(query: $q) {
    ... on MunicipalityConnection { edges { node { code name } } }
  }
}
"""
ONE = """
query($code: String!) {
  municipality(code: $code) { __typename ... on Error { code message } }
}
"""


@pytest.mark.parametrize(
    ("document", "cacheable"),
    [
        ("{ prefectures { code } }", True),
        ('query A { municipality(code: "131041") { __typename } }', True),
        ('{ __typename postalCode(code: "1600023") { __typename } }', True),
        ("{ me { __typename } }", False),
        ("{ prefectures { code } me { __typename } }", False),
        ("{ ...F } fragment F on Query { prefectures { code } }", False),
        ("{ ... on Query { prefectures { code } } }", False),
        ("mutation { logout { __typename } }", False),
        (
            "query A { prefectures { code } } mutation B { logout { __typename } }",
            False,
        ),
        ("{ prefectures { code ", False),
        ("fragment F on Query { prefectures { code } }", False),
        ("mutation { __typename }", False),
        ("subscription { __typename }", False),
        ('{ __schema { queryType { name } } __type(name: "User") { name } }', True),
        ("{ __schema { queryType { name } } me { __typename } }", False),
    ],
)
def test_only_documents_of_public_lookups_are_cacheable(
    document: str, cacheable: bool
) -> None:
    assert public_lookup_only(document) is cacheable


@pytest.fixture
def cached(services: Services) -> Caller:
    return Caller(services=replace(services, answers=AnswerCache(max_bytes=100_000)))


async def test_a_repeated_search_is_answered_from_the_cache(
    db: str, cached: Caller, clock: SettableClock
) -> None:
    first = await cached(SEARCH, {"q": "新宿"})
    # Gone from the table, still in the answer: the second came from the cache.
    # (PostgreSQL keeps the address tables between tests: put the row back.)
    shinjuku = await Municipality.get(code="131041")
    await shinjuku.delete()
    try:
        second = await cached(SEARCH, {"q": "新宿"})
        clock.advance(timedelta(minutes=5))
        expired = await cached(SEARCH, {"q": "新宿"})
    finally:
        await shinjuku.save(force_create=True)

    assert second == first
    assert "新宿区" in str(first)
    assert "新宿区" not in str(expired)
    assert (cached.services.answers.hits, cached.services.answers.misses) == (1, 2)


async def test_repeated_introspection_is_answered_from_the_cache(
    services: Services,
) -> None:
    cache = AnswerCache(max_bytes=32 * 1024 * 1024)
    caller = Caller(services=replace(services, answers=cache))
    query = get_introspection_query(descriptions=True)

    first = await caller(query)
    second = await caller(query)

    assert second == first
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)


async def test_variables_and_language_are_part_of_the_key(
    db: str, cached: Caller
) -> None:
    ja = await cached(ONE, {"code": "131042"}, lang=Lang.JA)
    en = await cached(ONE, {"code": "131042"}, lang=Lang.EN)
    other = await cached(ONE, {"code": "131016"}, lang=Lang.JA)

    assert ja["municipality"]["message"] != en["municipality"]["message"]
    assert other["municipality"] == {"__typename": "Municipality"}
    assert cached.services.answers.hits == 0
    assert len(cached.services.answers) == 3


ANSWER = '{"municipality":{"__typename":"Municipality"}}'
# What one answer of ONE counts for: its JSON, the document, the variables.
ENTRY = len(ANSWER) + len(ONE) + len('{"code": "131016"}') + ENTRY_OVERHEAD


async def test_the_cache_keeps_the_most_recent_answers_within_its_size(
    db: str, services: Services
) -> None:
    cache = AnswerCache(max_bytes=16 * ENTRY)  # room for sixteen
    cached = Caller(services=replace(services, answers=cache))
    codes = [m.code for m in await Municipality.filter(prefecture_id="13").limit(17)]
    for code in codes:
        await cached(ONE, {"code": code})
    assert (len(cache), cache.size_bytes) == (16, 16 * ENTRY)

    await cached(ONE, {"code": codes[-1]})
    await cached(ONE, {"code": codes[0]})

    assert (cache.hits, cache.misses) == (1, 18)


async def test_an_entry_over_a_sixteenth_of_the_cache_is_not_kept(
    db: str, services: Services
) -> None:
    cache = AnswerCache(max_bytes=16 * ENTRY - 1)
    cached = Caller(services=replace(services, answers=cache))
    await cached(ONE, {"code": "131041"})
    assert len(cache) == 0


async def test_unused_variables_count_towards_the_size(
    db: str, services: Services
) -> None:
    # GraphQL ignores variables the operation does not declare; a key keeps them.
    cache = AnswerCache(max_bytes=1024 * 1024)
    cached = Caller(services=replace(services, answers=cache))
    for n in range(40):
        await cached("{ __typename }", {"padding": f"{n}" + "A" * 60_000})
    assert cache.size_bytes <= cache.max_bytes
    assert len(cache) <= 17


async def test_answers_with_errors_and_private_documents_are_not_kept(
    db: str, cached: Caller
) -> None:
    for _ in range(2):
        context = Context(services=cached.services)
        result = await schema.execute(
            "{ prefectures { nosuch } }", context_value=context
        )
        assert result.errors
        await cached("{ me { __typename } }")

    assert len(cached.services.answers) == 0
    assert cached.services.answers.hits == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    answer = ExecutionResult(data={"__typename": "Query"}, errors=None)
    probe = AnswerCache(max_bytes=1024 * 1024)
    first = probe.key("{ __typename }", {"n": "00"}, None, Lang.JA)
    assert first is not None
    probe.put(first, answer, now)
    cache = AnswerCache(max_bytes=16 * probe.size_bytes)  # room for sixteen
    keys = []
    for n in range(17):
        key = cache.key("{ __typename }", {"n": f"{n:02d}"}, None, Lang.JA)
        assert key is not None
        keys.append(key)
    for key in keys[:16]:
        cache.put(key, answer, now)
    assert cache.get(keys[0], now) is not None  # used again: now the most recent

    cache.put(keys[16], answer, now)

    assert cache.get(keys[1], now) is None
    assert cache.get(keys[0], now) is not None
    # Putting a key again replaces its entry instead of counting it twice.
    cache.put(keys[16], answer, now)
    assert (len(cache), cache.size_bytes) == (16, 16 * probe.size_bytes)


def test_an_answer_with_data_and_errors_is_not_kept() -> None:
    cache = AnswerCache(max_bytes=1024 * 1024)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    key = cache.key("{ prefectures { code } }", None, None, Lang.JA)
    assert key is not None
    partial = ExecutionResult(data={"prefectures": None}, errors=[GraphQLError("x")])
    cache.put(key, partial, now)
    assert len(cache) == 0


async def test_operation_name_and_extensions_are_respected(
    db: str, cached: Caller
) -> None:
    document = (
        'query A { municipality(code: "131041") { ... on Municipality { name } } } '
        'query B { municipality(code: "131016") { ... on Municipality { name } } }'
    )
    context = Context(services=cached.services)
    first = await schema.execute(document, context_value=context, operation_name="A")
    second = await schema.execute(document, context_value=context, operation_name="B")
    with_extensions = await schema.execute(
        document,
        context_value=context,
        operation_name="A",
        operation_extensions={"trace": True},
    )
    assert first.data == {"municipality": {"name": "新宿区"}}
    assert second.data == {"municipality": {"name": "千代田区"}}
    assert with_extensions.data == first.data
    assert (cached.services.answers.hits, len(cached.services.answers)) == (0, 2)
