"""Validation rules of the service's own."""

from typing import Any

from graphql import ASTValidationRule, GraphQLError, ValidationContext, ValidationRule
from graphql.language import FieldNode
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

MAX_DEPTH = 12
MAX_ALIASES = 20

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
        # The admin API's (the same rule applies to its schema).
        "staffLogin",
        "createStaff",
        "reissueCredentials",
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


# The rule classes are made once: the validation cache is keyed by the rules, and
# MaxAliasesLimiter/QueryDepthLimiter make a new class per request, so with them
# every request missed the cache and was validated again (40% of the CPU time
# of an address search).
VALIDATION_RULES: list[type[ASTValidationRule]] = [
    OncePerDocument,
    aliases_rule(MAX_ALIASES),
    depth_rule(MAX_DEPTH, None),
]
