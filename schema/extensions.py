"""The schema's extensions around every request: bounded parsing and
validation (with caches of both for short documents), and the answer cache of
public lookups."""

import functools
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from graphql import validate as graphql_validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from resolvers.context import Context
from schema.document_limits import document_problem, parse_bounded

# Validation stops at this many errors, and says no "Did you mean …?": each
# suggestion compares a name with every name of the schema, and a hundred
# errors cost more than a whole valid document.
MAX_VALIDATION_ERRORS = 20

# Parsed and validated documents are kept for reuse only up to this length: a
# long document parses to a large syntax tree, and a cache of such trees,
# filled with distinct documents (even ones that fail validation), held
# hundreds of MB. Portals send short documents; long ones are parsed anew.
CACHED_DOCUMENT_CHARS = 4000
CACHED_DOCUMENTS = 128


def checked_parse(
    query: str, operation_name: str | None
) -> tuple[DocumentNode, GraphQLError | None]:
    """The parsed document (within the parse limits, else the syntax error is
    raised) and why it is refused before validation, if it is (see
    schema.document_limits)."""
    document = parse_bounded(query)
    return document, document_problem(document, operation_name)


def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """graphql-core's validation with Strawberry's own two rules (as Strawberry
    runs it), stopping at MAX_VALIDATION_ERRORS and without suggestions."""
    return graphql_validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        max_errors=MAX_VALIDATION_ERRORS,
        hide_suggestions=True,
    )


cached_checked_parse = functools.lru_cache(maxsize=CACHED_DOCUMENTS)(checked_parse)
cached_validate_document = functools.lru_cache(maxsize=CACHED_DOCUMENTS)(
    validate_document
)


def provided_operation_name(context: ExecutionContext) -> str | None:
    """The operation name the request gave. Strawberry's `operation_name` falls
    back to the first operation's, which would hide a missing one."""
    name: str | None = getattr(context, "_provided_operation_name", None)
    return name


class CheckedParse(SchemaExtension):
    """Parses within the source and token limits, then bounds the document by
    one linear pass (schema.document_limits) before any validation rule runs;
    short documents are parsed and checked once and kept."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        run = (
            cached_checked_parse
            if len(query) <= CACHED_DOCUMENT_CHARS
            else checked_parse
        )
        document, problem = run(query, provided_operation_name(context))
        if problem is not None:
            raise problem
        context.graphql_document = document
        yield


@runtime_checkable
class BuiltSchema(Protocol):
    """A schema that shows the graphql-core schema it was built into."""

    @property
    def graphql_schema(self) -> GraphQLSchema: ...


class CheckedValidation(SchemaExtension):
    """Validates with validate_document; short documents once (the key holds
    the parsed tree, which CheckedParse keeps for them)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        built = context.schema
        if not isinstance(built, BuiltSchema):
            raise TypeError("CheckedValidation needs schema.root.RasSchema")
        run = (
            cached_validate_document
            if len(context.query or "") <= CACHED_DOCUMENT_CHARS
            else validate_document
        )
        if context.graphql_document is not None:
            context.pre_execution_errors = run(
                built.graphql_schema,
                context.graphql_document,
                context.validation_rules,
            )
        yield


class CachedAnswers(SchemaExtension):
    """Answers public lookups (the address search, introspection) from the
    services' AnswerCache when it holds them, and keeps what it may keep;
    execution is skipped for an answer it holds."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or execution.operation_extensions:
            yield
            return
        answers = context.services.answers
        key = answers.key(
            execution.query,
            execution.variables,
            provided_operation_name(execution),
            context.lang,
        )
        if key is None:
            yield
            return
        now = context.services.clock.now()
        cached = answers.get(key, now)
        if cached is not None:
            execution.result = cached  # Strawberry does not execute then
            yield
            return
        yield
        if execution.result is not None:
            answers.put(key, execution.result, now)
