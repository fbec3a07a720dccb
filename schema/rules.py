"""Validation rules of the service's own."""

from typing import Any

from graphql import GraphQLError, ValidationContext, ValidationRule
from graphql.language import FieldNode

# Mutations that check a password or a mailed link, hash one, or write mail:
# aliases would let one request make many guesses, do argon2 work many times or
# send many mails.
ONCE_PER_DOCUMENT = frozenset(
    {
        "login",
        "registerUser",
        "registerPassword",
        "changePassword",
        "requestPasswordReset",
        "resetPassword",
        "updateUserInfo",
        "revertEmailChange",
        "reauthenticate",
    }
)


class OncePerDocument(ValidationRule):
    """Each mutation of ONCE_PER_DOCUMENT at most once in a document, however it
    is reached (aliases, fragments, inline fragments).

    Without it one request could try many passwords (or auth IDs, or reset
    pairs) at once, or make the service hash twenty passwords.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.seen: dict[str, list[FieldNode]] = {}

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        name = node.name.value
        if name not in ONCE_PER_DOCUMENT:
            return
        if self.context.get_parent_type() is not self.context.schema.mutation_type:
            return
        nodes = self.seen.setdefault(name, [])
        nodes.append(node)
        if len(nodes) == 2:
            self.report_error(
                GraphQLError(f"A request may contain at most one `{name}`.", nodes)
            )
