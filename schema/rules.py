"""Validation rules of the service's own."""

from typing import Any

from graphql import GraphQLError, ValidationContext, ValidationRule
from graphql.language import FieldNode


class OneLoginPerDocument(ValidationRule):
    """At most one ``login`` field in a document, however it is reached.

    Aliases would otherwise let one request try many passwords (or many auth
    IDs) at once, multiplying credential stuffing per request; fragments are
    counted too, so spreading the aliases over them does not help.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.logins: list[FieldNode] = []

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value != "login":
            return
        if self.context.get_parent_type() is not self.context.schema.mutation_type:
            return
        self.logins.append(node)
        if len(self.logins) == 2:
            self.report_error(
                GraphQLError("A request may contain at most one `login`.", self.logins)
            )
