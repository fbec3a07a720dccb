"""The parse and validation caches: a repeated short document is parsed and
validated once; long documents are never kept."""

import functools
from typing import cast

from schema.extensions import (
    CACHED_DOCUMENT_CHARS,
    cached_checked_parse,
    cached_validate_document,
)
from schema.root import schema


def _caches() -> "tuple[functools._lru_cache_wrapper[object], ...]":
    return (
        cast("functools._lru_cache_wrapper[object]", cached_checked_parse),
        cast("functools._lru_cache_wrapper[object]", cached_validate_document),
    )


def test_a_repeated_document_is_parsed_and_validated_once() -> None:
    # The validation cache is keyed by the rules: rule classes made per request
    # (as MaxAliasesLimiter and QueryDepthLimiter do) would miss it every time.
    document = "query Repeated { __typename errorCatalog { code } }"
    parsing, validation = _caches()
    schema.execute_sync(document)
    before = (parsing.cache_info(), validation.cache_info())
    schema.execute_sync(document)
    after = (parsing.cache_info(), validation.cache_info())
    for old, new in zip(before, after, strict=True):
        assert (new.hits, new.misses) == (old.hits + 1, old.misses)


def test_long_documents_are_not_kept() -> None:
    # Distinct long documents kept would let a client fill memory with syntax
    # trees (at the old token limit, over a megabyte each).
    parsing, validation = _caches()
    before = (parsing.cache_info().currsize, validation.cache_info().currsize)
    for n in range(5):
        aliases = " ".join(f"a{i}_{'x' * 150}: __typename" for i in range(30))
        document = f"{{ {aliases} b{n}: __typename }}"
        assert len(document) > CACHED_DOCUMENT_CHARS
        result = schema.execute_sync(document)
        assert result.errors  # over the alias limit, and still not kept
    after = (parsing.cache_info().currsize, validation.cache_info().currsize)
    assert after == before
