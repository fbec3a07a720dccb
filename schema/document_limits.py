"""Bounds on a GraphQL document, checked by one linear pass before validation.

graphql-core's validation is not linear in the document, and neither are the
depth and alias rules: one request of `{ prefectures { code } ... }` with the
field repeated 795 times (16 KB, under the old token limit) cost about a second
of CPU; fragments that spread the next fragment a few times each cost minutes
in under a kilobyte, because every rule that follows spreads walks the whole
expansion; a list literal is printed into every error about it. The counts
below are taken in one walk over the syntax tree (fragments are sized once
each), and a document over any of them is refused before a single validation
rule runs. bench/validation_cost.py measures the worst document each family of
hostile documents can still get through (target: 20 ms of CPU).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    parse,
)

# Parse limits: characters (lexing 64 KiB of escapes costs more than the whole
# budget), tokens (full introspection is about 190) and line breaks
# (graphql-core finds an error's line by walking every line break before it
# in Python: 16,000 of them made 20 errors cost 50 ms).
MAX_SOURCE_CHARS = 16384
MAX_TOKENS = 600
MAX_LINE_BREAKS = 500


def parse_bounded(query: str, *, no_location: bool = False) -> DocumentNode:
    """``query`` parsed within the limits above; a GraphQLError otherwise (as
    for a syntax error)."""
    if query.count("\n") + query.count("\r") > MAX_LINE_BREAKS:
        raise GraphQLError(
            f"A document may have at most {MAX_LINE_BREAKS} line breaks."
        )
    return parse(
        query,
        no_location=no_location,
        max_tokens=MAX_TOKENS,
        max_source_length=MAX_SOURCE_CHARS,
    )


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What one document may hold."""

    # Fields, fragment spreads and inline fragments as written, over the whole
    # document (GraphiQL's introspection query has 81).
    selections: int = 100
    # The same with every fragment spread replaced by its fragment, over all
    # operations (what the depth and alias rules walk; introspection: 240).
    expanded_selections: int = 300
    # Directives (on variable definitions too), and on any one node: @skip and
    # @include are the only ones a query can use, so two are already all.
    directives: int = 20
    directives_per_node: int = 2
    # Arguments of one field or directive (introspection uses at most 5).
    arguments_per_node: int = 20
    # List items and input-object fields in literal values, in the document.
    value_items: int = 32
    # Operations and fragment definitions; variables of all operations.
    definitions: int = 20
    variables: int = 40
    # Fields under one response name in one selection set, counting those its
    # inline fragments and spreads bring in: validation compares every two of
    # them (with their arguments and sub-selections), so 98 × __typename(a: 1)
    # cost 16 ms. A portal repeats a name only across a union's members.
    same_response_name: int = 10


LIMITS = DocumentLimits()


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Counts:
    limits: DocumentLimits
    selections: int = 0
    directives: int = 0
    value_items: int = 0
    variables: int = 0

    def selection(self) -> None:
        self.selections += 1
        if self.selections > self.limits.selections:
            raise _Refused(
                f"A document may select at most {self.limits.selections} fields "
                "and fragments."
            )

    def node_directives(self, directives: Sequence[DirectiveNode]) -> None:
        if len(directives) > self.limits.directives_per_node:
            raise _Refused(
                f"At most {self.limits.directives_per_node} directives may stand "
                "on one field, fragment or operation."
            )
        self.directives += len(directives)
        if self.directives > self.limits.directives:
            raise _Refused(
                f"A document may hold at most {self.limits.directives} directives."
            )

    def node_arguments(self, arguments: Sequence[ArgumentNode]) -> None:
        if len(arguments) > self.limits.arguments_per_node:
            raise _Refused(
                f"A field or directive may take at most "
                f"{self.limits.arguments_per_node} arguments."
            )

    def value_item(self, count: int) -> None:
        self.value_items += count
        if self.value_items > self.limits.value_items:
            raise _Refused(
                f"Literal lists and input objects may hold at most "
                f"{self.limits.value_items} items in a document; pass larger "
                "values as variables."
            )

    def variable(self) -> None:
        self.variables += 1
        if self.variables > self.limits.variables:
            raise _Refused(
                f"A document may declare at most {self.limits.variables} variables."
            )


def _walk(
    definition: ExecutableDefinitionNode, counts: _Counts
) -> tuple[int, list[str]]:
    """Count what ``definition`` holds; return how many selections it writes
    and the fragments it spreads (once per spread)."""
    written = 0
    spreads: list[str] = []
    pending: list[Node] = [definition]
    while pending:
        node = pending.pop()
        if isinstance(node, FieldNode | FragmentSpreadNode | InlineFragmentNode):
            counts.selection()
            written += 1
            if isinstance(node, FragmentSpreadNode):
                spreads.append(node.name.value)
        elif isinstance(node, VariableDefinitionNode):
            counts.variable()
            if node.default_value is not None:
                pending.append(node.default_value)
        elif isinstance(node, ListValueNode):
            counts.value_item(len(node.values))
            pending.extend(node.values)
            continue
        elif isinstance(node, ObjectValueNode):
            counts.value_item(len(node.fields))
            pending.extend(node.fields)
            continue
        elif isinstance(node, ObjectFieldNode | ArgumentNode):
            pending.append(node.value)
            continue
        directives: Sequence[DirectiveNode] = getattr(node, "directives", None) or ()
        counts.node_directives(directives)
        pending.extend(directives)
        arguments: Sequence[ArgumentNode] = getattr(node, "arguments", None) or ()
        counts.node_arguments(arguments)
        pending.extend(arguments)
        if isinstance(node, OperationDefinitionNode | FragmentDefinitionNode):
            pending.extend(node.variable_definitions or ())
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            pending.extend(selection_set.selections)
    return written, spreads


def _expanded_size(
    written: dict[str, int],
    spreads: dict[str, list[str]],
    fragments: set[str],
    limit: int,
) -> int:
    """Selections of all operations with every spread replaced by its fragment
    (each fragment sized once); a fragment cycle is refused here, before the
    rules that would follow it."""
    sizes: dict[str, int] = {}
    visiting: set[str] = set()

    def size(name: str) -> int:
        if name in sizes:
            return sizes[name]
        if name in visiting:
            raise _Refused(f"Fragment {name!r} spreads itself.")
        visiting.add(name)
        total = written[name]
        for spread in spreads[name]:
            if spread in fragments:  # an unknown one is validation's to report
                total += size(spread)
            if total > limit:
                break  # already too many: no need to know how many
        visiting.discard(name)
        sizes[name] = total
        return total

    total = 0
    for name in written:
        if name not in fragments:
            total += size(name)
    for name in fragments:  # cycles among fragments no operation spreads
        size(name)
    return total


def _repeated_response_name(document: DocumentNode, limit: int) -> str | None:
    """A response name that more than ``limit`` fields share in one selection
    set (with what its inline fragments and spreads bring in), or None. Runs
    after cycles were refused, so spreads end."""
    fragments = {
        d.name.value: d.selection_set
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    merged: dict[int, Counter[str]] = {}

    def names(selection_set: SelectionSetNode) -> Counter[str]:
        known = merged.get(id(selection_set))
        if known is not None:
            return known
        counts: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                counts[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                counts.update(names(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                spread = fragments.get(selection.name.value)
                if spread is not None:
                    counts.update(names(spread))
        merged[id(selection_set)] = counts
        return counts

    pending: list[Node] = list(document.definitions)
    while pending:
        node = pending.pop()
        selection_set = getattr(node, "selection_set", None)
        if selection_set is None:
            continue
        counts = names(selection_set)
        if counts and max(counts.values()) > limit:
            return counts.most_common(1)[0][0]
        pending.extend(selection_set.selections)
    return None


def document_problem(
    document: DocumentNode,
    operation_name: str | None,
    limits: DocumentLimits = LIMITS,
) -> GraphQLError | None:
    """Why ``document`` is refused before validation, or None.

    Also refuses several operations without an operation name (GraphQL over
    HTTP: a request error, not "run the first one").
    """
    definitions = document.definitions
    if len(definitions) > limits.definitions:
        return GraphQLError(
            f"A document may hold at most {limits.definitions} operations and "
            "fragments."
        )
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > 1 and operation_name is None:
        return GraphQLError(
            "Must provide operation name if query contains multiple operations."
        )
    counts = _Counts(limits)
    written: dict[str, int] = {}
    spreads: dict[str, list[str]] = {}
    fragments: set[str] = set()
    try:
        for number, definition in enumerate(definitions):
            if not isinstance(definition, ExecutableDefinitionNode):
                continue  # type definitions: validation refuses them
            if isinstance(definition, FragmentDefinitionNode):
                key = definition.name.value
                fragments.add(key)
            else:  # operations are keyed so that no fragment name can clash
                key = f" operation {number}"
            written[key], spreads[key] = _walk(definition, counts)
        expanded = _expanded_size(
            written, spreads, fragments, limits.expanded_selections
        )
    except _Refused as refused:
        return GraphQLError(refused.message)
    if expanded > limits.expanded_selections:
        return GraphQLError(
            f"A document may select at most {limits.expanded_selections} fields "
            "and fragments with its fragments spread out."
        )
    if name := _repeated_response_name(document, limits.same_response_name):
        return GraphQLError(
            f"At most {limits.same_response_name} fields may answer as {name!r} "
            "in one selection set."
        )
    return None
