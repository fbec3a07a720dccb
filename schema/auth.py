"""Login and logout (manual 2.2, 1.3/1.4): inputs, success types, result unions."""

from datetime import datetime
from typing import Annotated

import strawberry

from schema.errors import (
    AccountDeletedError,
    AccountLockedError,
    AccountSuspendedError,
    AuthError,
    CurrentPasswordWrongError,
    InvalidCredentialsError,
    InvalidFieldError,
    NotAuthenticatedError,
    OneTimeCodeWrongError,
    PasswordExpiredError,
    RequiredFieldError,
    TooManyRequestsError,
    UsageExpiredError,
    UserInfoInvalidError,
)
from schema.types import User


@strawberry.input(description="What the login page asks for.")
class LoginInput:
    auth_id: str = strawberry.field(
        description="認証ID as notified by mail. Full-width letters and digits and "
        "lower case are accepted and folded."
    )
    password: str = strawberry.field(description="The password (case-sensitive).")


@strawberry.type(description="Logged in: a new session.")
class LoginSuccess:
    token: str = strawberry.field(
        description="The session token: send it as `Authorization: Bearer <token>`. "
        "It is shown only this once and stored by the service only as a hash. In "
        "cookie mode (a same-origin browser page sending `X-RAS-Session: cookie`) "
        "an empty string: the token is set as the HttpOnly session cookie instead."
    )
    idle_timeout_seconds: int = strawberry.field(
        description="The session ends after this many seconds without a request "
        "(30 minutes by default)."
    )
    user: User = strawberry.field(description="Who logged in.")


@strawberry.type(
    description="The password is right and the account uses two-step login: "
    "send the one-time code (or a recovery code) with `challengeToken` to "
    "`verifyTotp` before `expiresAt`. A step of the login, not an error."
)
class TotpRequired:
    challenge_token: str = strawberry.field(
        description="Single use; stored by the service only as a hash."
    )
    expires_at: datetime = strawberry.field(
        description="Until when (UTC) `verifyTotp` accepts it "
        "(RAS_TOTP_CHALLENGE_SECONDS, 5 minutes by default)."
    )


LoginResult = Annotated[
    LoginSuccess
    | TotpRequired
    | RequiredFieldError
    | InvalidCredentialsError
    | AccountLockedError
    | AccountSuspendedError
    | AccountDeletedError
    | UserInfoInvalidError
    | UsageExpiredError
    | PasswordExpiredError
    | TooManyRequestsError,
    strawberry.union(
        "LoginResult",
        description="A session, or why not. Account status errors (WZBAM155E, 156E, "
        "150E, 151E, 158E) come only after a correct password; so does "
        "TotpRequired, the code step of an account with two-step login.",
    ),
]


@strawberry.type(description="The session has ended.")
class LogoutSuccess:
    ok: bool = strawberry.field(description="Always true.")


LogoutResult = Annotated[
    LogoutSuccess | NotAuthenticatedError | PasswordExpiredError,
    strawberry.union(
        "LogoutResult",
        description="Ends the session of the Bearer token (also a timed-out or "
        "displaced one); NotAuthenticatedError when no known token was sent; "
        "PasswordExpiredError for a change ticket, which allows only "
        "`changePassword`.",
    ),
]


@strawberry.input(description="The password again, on a logged-in session.")
class ReauthenticateInput:
    password: str = strawberry.field(description="The current password.")
    code: str | None = strawberry.field(
        default=None,
        description="With two-step login on, required: the authenticator app's "
        "current code, or an unused recovery code.",
    )


@strawberry.type(
    description="The password is right: this session may make sensitive changes "
    "(the email address) until `freshUntil`."
)
class ReauthenticateSuccess:
    fresh_until: datetime = strawberry.field(
        description="Until when (UTC) the session counts as freshly authenticated "
        "(RAS_STEP_UP_SECONDS, 10 minutes by default)."
    )


ReauthenticateResult = Annotated[
    ReauthenticateSuccess
    | RequiredFieldError
    | InvalidFieldError
    | CurrentPasswordWrongError
    | OneTimeCodeWrongError
    | AccountLockedError
    | TooManyRequestsError
    | AuthError,
    strawberry.union(
        "ReauthenticateResult",
        description="Confirmed, or why not: not logged in (a change ticket answers "
        "WZBAM158E), WZBAM001E no password (or no code with two-step login on), "
        "WZBAM005E a code that cannot be one (not counted), "
        "RASX005E wrong code, WZBAM154E wrong (either counts toward the "
        "lockout like a failed login), WZBAM153E locked (which also ends every "
        "session), RASX004E checks for the ID busy elsewhere.",
    ),
]
