"""The cache of checked documents: a repeated short document is parsed and
validated once; long documents are never kept."""

from schema.pipeline import CACHED_DOCUMENT_CHARS
from schema.root import schema


def test_a_repeated_document_is_parsed_and_validated_once() -> None:
    # Keyed by the request's text and operation name: the same document with
    # another operation name is another entry.
    document = "query Repeated { __typename again: __typename }"
    schema.execute_sync(document)
    before = schema.checked.cache_info()
    assert schema.execute_sync(document).errors is None
    after = schema.checked.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    schema.execute_sync(document, operation_name="Repeated")
    assert schema.checked.cache_info().misses == after.misses + 1


def test_a_cached_document_keeps_its_errors() -> None:
    # A document refused once is refused again from the cache, with the same
    # errors, and never executed.
    document = "{ noSuchField }"
    first = schema.execute_sync(document)
    second = schema.execute_sync(document)
    assert first.data is None
    assert second.data is None
    assert [e.message for e in first.errors or []] == [
        e.message for e in second.errors or []
    ]
    assert second.errors


def test_long_documents_are_not_kept() -> None:
    # Distinct long documents kept would let a client fill memory with syntax
    # trees (at the old token limit, over a megabyte each).
    before = schema.checked.cache_info().currsize
    for n in range(5):
        aliases = " ".join(f"a{i}_{'x' * 150}: __typename" for i in range(30))
        document = f"{{ {aliases} b{n}: __typename }}"
        assert len(document) > CACHED_DOCUMENT_CHARS
        result = schema.execute_sync(document)
        assert result.errors  # over the alias limit, and still not kept
    assert schema.checked.cache_info().currsize == before
