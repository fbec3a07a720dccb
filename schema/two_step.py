"""Applicants' two-step login (TOTP): enrolment, the code step of a login,
turning it off, recovery codes."""

from datetime import datetime
from typing import Annotated

import strawberry

from schema.auth import LoginSuccess
from schema.errors import (
    AccountDeletedError,
    AccountLockedError,
    AccountSuspendedError,
    AuthError,
    CurrentPasswordWrongError,
    InvalidFieldError,
    OneTimeCodeWrongError,
    PasswordExpiredError,
    ReauthenticationRequiredError,
    RequiredFieldError,
    StepExpiredError,
    TooManyRequestsError,
    TwoStepStateError,
    UsageExpiredError,
    UserInfoInvalidError,
)

_CODE = (
    "The 6-digit code the authenticator app shows now (spaces and full-width "
    "digits are accepted)."
)


@strawberry.input(description="Begin setting up two-step login.")
class BeginTotpEnrollmentInput:
    current_password: str = strawberry.field(
        description="The current password (checked under the login lockout)."
    )


@strawberry.type(
    description="A begun set-up: add the secret to an authenticator app (scan "
    "`qrSvg` or open `otpauthUri`, or type `secret`), then confirm with its "
    "first code before `expiresAt`."
)
class TotpEnrollment:
    secret: str = strawberry.field(
        description="The TOTP secret in base32, for typing into an app by hand. "
        "Shown only now; stored encrypted."
    )
    otpauth_uri: str = strawberry.field(
        description="otpauth://totp/<issuer>:<認証ID>?secret=…&issuer=… (SHA-1, 6 "
        "digits, 30 seconds)."
    )
    qr_svg: str = strawberry.field(
        description="The same URI as a QR code: an inline SVG element."
    )
    expires_at: datetime = strawberry.field(
        description="Until when (UTC) `confirmTotpEnrollment` accepts a code for "
        "this secret (RAS_TOTP_ENROLLMENT_SECONDS, 10 minutes by default)."
    )


@strawberry.input(description="Confirm the set-up with the app's first code.")
class ConfirmTotpEnrollmentInput:
    code: str = strawberry.field(description=_CODE)


@strawberry.type(
    description="Two-step login is on. Keep the recovery codes somewhere safe: "
    "each logs in once in place of a one-time code."
)
class TotpEnabled:
    recovery_codes: list[str] = strawberry.field(
        description="10 single-use recovery codes (XXXX-XXXX-XXXX). Shown only "
        "now; the service keeps only keyed hashes."
    )


@strawberry.input(description="Turn two-step login off.")
class DisableTotpInput:
    current_password: str = strawberry.field(description="The current password.")
    code: str = strawberry.field(
        description=f"{_CODE} An unused recovery code is accepted instead."
    )


@strawberry.type(description="Two-step login is off; the recovery codes are void.")
class TotpDisabled:
    disabled_at: datetime = strawberry.field(description="When (UTC).")


@strawberry.input(description="Replace the recovery codes.")
class RegenerateRecoveryCodesInput:
    code: str = strawberry.field(description=_CODE)


@strawberry.type(description="New recovery codes; every earlier one is void.")
class RecoveryCodesRegenerated:
    recovery_codes: list[str] = strawberry.field(
        description="10 single-use recovery codes (XXXX-XXXX-XXXX), shown only now."
    )


@strawberry.input(
    description="The code step of a login: the challenge and exactly one of "
    "`code` and `recoveryCode`."
)
class VerifyTotpInput:
    challenge_token: str = strawberry.field(
        description="`TotpRequired.challengeToken` from `login`."
    )
    code: str | None = strawberry.field(
        default=None,
        description=f"{_CODE} An unused recovery code is accepted here too.",
    )
    recovery_code: str | None = strawberry.field(
        default=None,
        description="One of the recovery codes (XXXX-XXXX-XXXX), for when the "
        "authenticator app is not at hand; each works once.",
    )


BeginTotpEnrollmentResult = Annotated[
    TotpEnrollment
    | RequiredFieldError
    | CurrentPasswordWrongError
    | AccountLockedError
    | TooManyRequestsError
    | TwoStepStateError
    | AuthError,
    strawberry.union(
        "BeginTotpEnrollmentResult",
        description="A secret to add to the app, or why not: not logged in, "
        "WZBAM001E no password, WZBAM154E wrong (counts toward the lockout), "
        "WZBAM153E locked (every session ends), RASX004E busy, RASX013E already "
        "on. Beginning again replaces a begun set-up.",
    ),
]

ConfirmTotpEnrollmentResult = Annotated[
    TotpEnabled
    | RequiredFieldError
    | InvalidFieldError
    | OneTimeCodeWrongError
    | StepExpiredError
    | AccountLockedError
    | TooManyRequestsError
    | TwoStepStateError
    | AuthError,
    strawberry.union(
        "ConfirmTotpEnrollmentResult",
        description="On, with recovery codes, or why not: WZBAM005E not a "
        "6-digit code (not counted), RASX005E wrong code (counts toward the "
        "lockout), RASX012E no set-up begun or it ran out, RASX013E already on.",
    ),
]

DisableTotpResult = Annotated[
    TotpDisabled
    | RequiredFieldError
    | InvalidFieldError
    | CurrentPasswordWrongError
    | OneTimeCodeWrongError
    | AccountLockedError
    | TooManyRequestsError
    | TwoStepStateError
    | AuthError,
    strawberry.union(
        "DisableTotpResult",
        description="Off, or why not: WZBAM005E `code` is neither a 6-digit code "
        "nor a recovery code (not counted), WZBAM154E wrong password, RASX005E "
        "wrong code (either counts once toward the lockout), WZBAM153E locked, "
        "RASX013E not on.",
    ),
]

RegenerateRecoveryCodesResult = Annotated[
    RecoveryCodesRegenerated
    | RequiredFieldError
    | InvalidFieldError
    | ReauthenticationRequiredError
    | OneTimeCodeWrongError
    | AccountLockedError
    | TooManyRequestsError
    | TwoStepStateError
    | AuthError,
    strawberry.union(
        "RegenerateRecoveryCodesResult",
        description="New codes, or why not: RASX006E the session's secrets were "
        "checked too long ago (`reauthenticate` first), WZBAM005E not a 6-digit "
        "code (not counted), RASX005E wrong code (counts toward the lockout), "
        "WZBAM153E locked, RASX013E not on.",
    ),
]

VerifyTotpResult = Annotated[
    LoginSuccess
    | RequiredFieldError
    | InvalidFieldError
    | OneTimeCodeWrongError
    | StepExpiredError
    | AccountLockedError
    | AccountSuspendedError
    | AccountDeletedError
    | UserInfoInvalidError
    | UsageExpiredError
    | PasswordExpiredError
    | TooManyRequestsError,
    strawberry.union(
        "VerifyTotpResult",
        description="The session, or why not: WZBAM001E neither code given, "
        "WZBAM005E both given or one that cannot be a code (not counted), "
        "RASX012E the challenge expired, was used or was voided (a password "
        "change or reset, a lock, staff ending the sessions), "
        "RASX005E wrong, stale or replayed code (counts toward the 認証ID's "
        "lockout; the challenge stays usable), WZBAM153E the lock was reached "
        "(the challenge is void), account status errors as in `login`, "
        "WZBAM158E with a change ticket when the password has expired.",
    ),
]
