"""A repeated document is validated once, protective rules included."""

import functools
from typing import cast

from strawberry.extensions.validation_cache import _get_validate_cache

from schema.root import schema


def test_a_repeated_document_is_validated_once() -> None:
    # The validation cache is keyed by the rules: rule classes made per request
    # (as MaxAliasesLimiter and QueryDepthLimiter do) would miss it every time.
    document = "query Repeated { __typename errorCatalog { code } }"
    cache = cast("functools._lru_cache_wrapper[object]", _get_validate_cache(256))
    schema.execute_sync(document)
    before = cache.cache_info()
    schema.execute_sync(document)
    after = cache.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
