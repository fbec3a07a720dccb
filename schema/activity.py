"""mySecurityActivity: the logged-in user's own security events."""

from datetime import datetime
from typing import Annotated

import strawberry

from schema.enums import AuditType
from schema.errors import AuthError, InvalidFieldError
from schema.types import PageInfo


@strawberry.type(
    description="One security event of the user's account: a login, a failed or "
    "locked attempt, a session's end, or a change to the account."
)
class SecurityEvent:
    at: datetime = strawberry.field(description="When it happened (UTC).")
    type: AuditType = strawberry.field(description="What happened.")
    label: str = strawberry.field(
        description="What happened, for the user, in the request's language."
    )
    outcome: str = strawberry.field(
        description="OK, or the code the request was answered (e.g. WZBAM005E)."
    )
    client_address: str | None = strawberry.field(
        description="The address the request came from (an IPv6 client as its "
        "/64); null when the service itself caused the event."
    )
    user_agent: str | None = strawberry.field(
        description="The browser or program that sent it, as it said (at most "
        "200 characters)."
    )


@strawberry.type(description="One event and its cursor.")
class SecurityEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue.")
    node: SecurityEvent = strawberry.field(description="The event.")


@strawberry.type(
    description="A page of the user's security events, newest first (Relay connection)."
)
class SecurityActivity:
    edges: list[SecurityEventEdge] = strawberry.field(
        description="The events of this page, newest first."
    )
    page_info: PageInfo = strawberry.field(description="Where the page ends.")


MySecurityActivityResult = Annotated[
    SecurityActivity | InvalidFieldError | AuthError,
    strawberry.union(
        "MySecurityActivityResult",
        description="A page of the user's security events, WZBAM005E for a wrong "
        "`first` or `after`, or why the caller is not logged in.",
    ),
]
