"""The request pipeline every operation goes through, as plain steps.

Parse within the limits, refuse what is too large before any validation rule
runs (schema.document_limits), validate (once for a short document), check
the operation type, answer public lookups from the answer cache, execute with
graphql-core, and replace every unexpected error by WZBAM098E with an incident
ID (schema.masking).

These steps were Strawberry schema extensions. Strawberry builds each
extension and an async context manager per hook for every request: about a
third of an authenticated `me` call's CPU went to that machinery (cProfile and
py-spy under bench/run, 2026-11-30). RasSchema runs the same steps directly,
in the same order and with the same answers, for `execute` (the HTTP views
and the tests) and `execute_sync`.
"""

import functools
import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    execute,
    specified_rules,
)
from graphql import validate as graphql_validate
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from models import Lang
from resolvers.context import Context
from schema.document_limits import document_problem, parse_bounded
from schema.errors import Error
from schema.masking import incident_error, is_unexpected
from schema.messages import ErrorCode
from schema.rules import VALIDATION_RULES
from schema.scalars import SCALARS
from telemetry import metrics

logger = logging.getLogger("ras_identity.graphql")

# Outcomes other than a message ID (Context.outcome).
OK = "OK"
CACHED = "CACHED"
BAD_REQUEST = "BAD_REQUEST"

# Validation stops at this many errors, and says no "Did you mean …?": each
# suggestion compares a name with every name of the schema, and a hundred
# errors cost more than a whole valid document.
MAX_VALIDATION_ERRORS = 20

# Checked documents are kept for reuse only up to this length: a long document
# parses to a large syntax tree, and a cache of such trees, filled with
# distinct documents (even ones that fail validation), held hundreds of MB.
# Portals send short documents; long ones are checked anew.
CACHED_DOCUMENT_CHARS = 4000
CACHED_DOCUMENTS = 128

# graphql-core's rules, Strawberry's two and the service's own.
RULES: tuple[type[ASTValidationRule], ...] = (
    *specified_rules,
    *VALIDATION_RULES,
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)


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
    rules: tuple[type[ASTValidationRule], ...] = RULES,
) -> list[GraphQLError]:
    """graphql-core's validation with ``rules``, stopping at
    MAX_VALIDATION_ERRORS and without suggestions."""
    return graphql_validate(
        schema,
        document,
        rules,
        max_errors=MAX_VALIDATION_ERRORS,
        hide_suggestions=True,
    )


def _operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation that runs (the named one, else the first), or None when
    the document has no such operation."""
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is None or (
            definition.name is not None and definition.name.value == operation_name
        ):
            return definition
    return None


def root_fields(
    operation: OperationDefinitionNode, document: DocumentNode | None = None
) -> set[str]:
    """The names of the root fields ``operation`` selects, through inline
    fragments and fragment spreads (of ``document``) as the executor goes."""
    fragments = {
        d.name.value: d
        for d in (document.definitions if document else ())
        if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()
    seen: set[str] = set()
    pending = list(operation.selection_set.selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                pending.extend(fragments[name].selection_set.selections)
    return names


def root_label(
    operation: OperationDefinitionNode, document: DocumentNode | None = None
) -> str:
    """What the metrics and the access log call a valid operation: its one
    root field (a name of the schema, however the document reaches it),
    "introspection", or "multiple"."""
    names = root_fields(operation, document)
    names.discard("__typename")
    if any(name.startswith("__") for name in names):
        return "introspection"
    if len(names) == 1:
        return names.pop()
    return "multiple" if names else "__typename"


@dataclass(frozen=True, slots=True)
class Checked:
    """A request's document after every check that depends only on its text
    and operation name; ``errors`` (a syntax error, a limit, validation) make
    it a request error, answered without execution."""

    document: DocumentNode | None
    errors: list[GraphQLError]
    operation_type: OperationType | None
    # Refused before validation: answered before the operation type is looked
    # at (as a syntax error is).
    refused_early: bool
    # root_label of a valid operation, else None (an invalid document's names
    # are the client's, never a metric label).
    root: str | None = None
    # The operation's name as the document gives it (for the access log only).
    name: str | None = None


def check(schema: GraphQLSchema, query: str, operation_name: str | None) -> Checked:
    """Parse, bound and validate ``query``."""
    try:
        document, problem = checked_parse(query, operation_name)
    except GraphQLError as error:
        return Checked(None, [error], None, refused_early=True)
    if problem is not None:
        return Checked(None, [problem], None, refused_early=True)
    operation = _operation(document, operation_name)
    if operation is None:
        return Checked(document, [], None, refused_early=False)
    errors = validate_document(schema, document)
    return Checked(
        document,
        errors,
        OperationType(operation.operation.value),
        refused_early=False,
        root=None if errors else root_label(operation, document),
        name=operation.name.value if operation.name else None,
    )


def _outcome(result: ExecutionResult, noted: str | None) -> str:
    """WZBAM098E when an error was masked; BAD_REQUEST when nothing ran (say,
    a variable of the wrong type); else the first root field's message ID
    (``noted``), or OK."""
    system_error = ErrorCode.SYSTEM_ERROR.value
    if result.errors:
        if any((e.extensions or {}).get("code") == system_error for e in result.errors):
            return system_error
        if result.data is None:
            return BAD_REQUEST
    return noted or OK


def _noting_outcome(name: str, resolve: Any) -> Any:
    """``resolve`` of the root field ``name``, noting the first expected
    failure a root field answered (its message ID) on the context, for the
    access log and the request metrics, and counting every login step and
    step-up as it runs, however the document reached it (so no fragment or
    second root field hides one). Only root fields are wrapped: nested
    fields cost nothing."""
    counted = name in metrics.LOGIN_OPERATIONS or name in metrics.STEP_UP_OPERATIONS

    def note(context: Any, result: Any) -> Any:
        code = result.code if isinstance(result, Error) else None
        if code is not None and getattr(context, "outcome", "") is None:
            context.outcome = code
        if counted:
            metrics.root_field_done(name, code or OK)
        return result

    async def noted(awaitable: Any, context: Any) -> Any:
        try:
            result = await awaitable
        except Exception:
            if counted:
                metrics.root_field_done(name, ErrorCode.SYSTEM_ERROR.value)
            raise
        return note(context, result)

    def resolve_noting(source: Any, info: Any, **args: Any) -> Any:
        try:
            result = resolve(source, info, **args)
        except Exception:
            if counted:
                metrics.root_field_done(name, ErrorCode.SYSTEM_ERROR.value)
            raise
        if optimized_is_awaitable(result):
            return noted(result, info.context)
        return note(info.context, result)

    return resolve_noting


class RasSchema(strawberry.Schema):
    """The service's schema, run by the pipeline above. ``cache_answers``
    answers public lookups from the services' AnswerCache (the public schema
    only). Client mistakes are logged quietly; unexpected errors are logged
    once, with their incident ID, where they are masked."""

    def __init__(self, *args: Any, cache_answers: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("scalar_overrides", SCALARS)
        super().__init__(*args, **kwargs)
        for root in (self._schema.query_type, self._schema.mutation_type):
            for name, field in root.fields.items() if root else ():
                field.resolve = _noting_outcome(name, field.resolve)
        self.cache_answers = cache_answers
        # Per schema: the key is the request's text, never a syntax tree
        # (hashing a tree walked every node of it on every request).
        self.checked = functools.lru_cache(maxsize=CACHED_DOCUMENTS)(self._check)

    @property
    def graphql_schema(self) -> GraphQLSchema:
        """The graphql-core schema Strawberry built (for validation)."""
        return self._schema

    def _check(self, query: str, operation_name: str | None) -> Checked:
        return check(self._schema, query, operation_name)

    def check_document(self, query: str, operation_name: str | None) -> Checked:
        """``check`` of ``query``, from the cache when it is short."""
        if len(query) <= CACHED_DOCUMENT_CHARS:
            return self.checked(query, operation_name)
        return self._check(query, operation_name)

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        for error in errors:
            if not is_unexpected(error):
                logger.debug("client error: %s", error.message)

    def _prepared(
        self,
        query: str | None,
        operation_name: str | None,
        allowed: Iterable[OperationType] | None,
    ) -> Checked:
        """The checked document; raises what Strawberry's views answer as
        HTTP errors (no query, no such operation, a type not allowed)."""
        if not query:
            raise MissingQueryError
        checked = self.check_document(query, operation_name)
        if checked.refused_early:
            return checked
        if checked.operation_type is None:
            raise CannotGetOperationTypeError(operation_name)
        if checked.operation_type not in (
            DEFAULT_ALLOWED_OPERATION_TYPES if allowed is None else allowed
        ):
            raise InvalidOperationTypeError(checked.operation_type)
        return checked

    def _run(
        self,
        document: DocumentNode,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> Any:
        """graphql-core's execution of a checked document (a result, or an
        awaitable of one)."""
        return execute(
            self._schema,
            document,
            root_value=root_value,
            variable_values=variable_values,
            operation_name=operation_name,
            context_value=context_value,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # a bool
            executor_class=self.execution_context_class,
            operation_extensions=operation_extensions,
        )

    def _finished(self, result: Any, context_value: Any) -> ExecutionResult:
        """Strawberry's result of ``result`` (anything with data and errors),
        every unexpected error masked."""
        data = getattr(result, "data", None)
        errors = result.errors
        if errors:
            self.process_errors(errors)
            lang = getattr(context_value, "lang", Lang.JA)
            errors = [
                incident_error(error, lang) if is_unexpected(error) else error
                for error in errors
            ]
        return ExecutionResult(data=data, errors=errors or None)

    @staticmethod
    def _failed(exc: Exception) -> ExecutionResult:
        return ExecutionResult(
            data=None, errors=[GraphQLError(str(exc), original_error=exc)]
        )

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        checked = self._prepared(query, operation_name, allowed_operation_types)
        document = checked.document
        observed = context_value if isinstance(context_value, Context) else None
        if observed is not None:
            observed.operation = checked.root
            observed.operation_name = checked.name or operation_name
        if checked.errors or document is None:
            if observed is not None:
                observed.outcome = BAD_REQUEST
            return self._finished(checked, context_value)
        answers, key, now = None, None, None
        if (
            self.cache_answers
            and isinstance(context_value, Context)
            and not operation_extensions
        ):
            answers = context_value.services.answers
            key = answers.key(
                query, variable_values, operation_name, context_value.lang
            )
            if key is not None:
                now = context_value.services.clock.now()
                cached = answers.get(key, now)
                if cached is not None:
                    if observed is not None:
                        observed.outcome = CACHED
                    return cached
        try:
            result = self._run(
                document,
                variable_values,
                context_value,
                root_value,
                operation_name,
                operation_extensions,
            )
            if optimized_is_awaitable(result):
                result = await result
        except Exception as exc:
            result = self._failed(exc)
        if answers is not None and key is not None and now is not None:
            answers.put(key, result, now)
        finished = self._finished(result, context_value)
        if observed is not None:
            observed.outcome = _outcome(finished, observed.outcome)
        return finished

    def execute_sync(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """As ``execute``, for documents whose resolvers are all synchronous
        (introspection, the catalogue); never from the answer cache."""
        checked = self._prepared(query, operation_name, allowed_operation_types)
        document = checked.document
        if checked.errors or document is None:
            return self._finished(checked, context_value)
        try:
            result = self._run(
                document,
                variable_values,
                context_value,
                root_value,
                operation_name,
                operation_extensions,
            )
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise RuntimeError("execution did not complete synchronously")
        except Exception as exc:
            result = self._failed(exc)
        return self._finished(result, context_value)
