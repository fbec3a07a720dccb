"""Validation rules of the service's own."""

from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, ValidationRule
from graphql.language import FieldNode


class OneLoginPerDocument(ValidationRule):
    """At most one ``login`` field per document.

    Aliases would otherwise let one request try many passwords (or many auth
    IDs) at once, multiplying credential stuffing per request.
    """

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *_args: Any
    ) -> None:
        if node.operation is not OperationType.MUTATION:
            return
        logins = [
            selection
            for selection in node.selection_set.selections
            if isinstance(selection, FieldNode) and selection.name.value == "login"
        ]
        if len(logins) > 1:
            self.report_error(
                GraphQLError("A request may contain at most one `login`.", logins)
            )
