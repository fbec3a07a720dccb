"""The Error interface and one GraphQL type per expected failure.

Expected failures are data: a resolver returns one of these as a member of its
``<Op>Result`` union. Each carries the manual's code with message and remedy in
the request's language; field errors also name the input field.
"""

from enum import Enum
from typing import Any, ClassVar, Self, cast

import strawberry

from models import Lang
from schema.enums import PasswordRule
from schema.messages import ErrorCode, FieldLabel, render

ADMIN_ONLY = frozenset(
    {
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.MAIL_NOT_RETRYABLE,
        ErrorCode.LOGIN_ID_TAKEN,
        ErrorCode.ACCOUNT_STATE,
    }
)


def _kind_description(code: ErrorCode) -> str:
    where = " Answered by the admin API only." if code in ADMIN_ONLY else ""
    return f"{code.value}: {render(code, Lang.EN).message}{where}"


# One value per message ID, named as in the registry (schema/messages.py), which
# is append-only: a value is never renamed or removed.
ErrorKind: Any = strawberry.enum(
    cast(
        type[Enum],
        Enum(
            "ErrorKind",
            {
                code.name: strawberry.enum_value(
                    code.value, description=_kind_description(code)
                )
                for code in ErrorCode
            },
        ),
    ),
    description="The kind of an expected failure, one value per message ID "
    "(`code`): a stable name to switch on exhaustively. New values may be added "
    "(listed in the changelog); none is ever renamed or removed.",
)


@strawberry.interface(
    description="An expected failure: the manual's message ID (WZBAM…, or RASX… for "
    "this service's extensions) with message and remedy (対応方法) in the request's "
    "language."
)
class Error:
    code: str = strawberry.field(
        description="The message ID, e.g. WZBAM005E; see `errorCatalog`."
    )
    message: str = strawberry.field(description="What went wrong, for the user.")
    remedy: str = strawberry.field(
        description="What the user should do (the 別紙's 対応方法)."
    )

    kind: ErrorKind = strawberry.field(
        resolver=lambda root: ErrorKind(root.code),
        description="The same as `code`, as an enum value: stable across "
        "languages and releases.",
    )

    CODE: ClassVar[ErrorCode]

    @classmethod
    def build(
        cls, lang: Lang, label: FieldLabel | str | None = None, **extra: object
    ) -> Self:
        """The error in ``lang``, with ``label`` (already in ``lang`` when a
        string) put in for 【入力項目名】."""
        text = label.text(lang) if isinstance(label, FieldLabel) else label
        texts = render(cls.CODE, lang, text)
        return cls(
            code=cls.CODE.value, message=texts.message, remedy=texts.remedy, **extra
        )


@strawberry.interface(
    description="An error about one input item (the manual's 「！」 mark)."
)
class FieldError(Error):
    field: str = strawberry.field(
        description="The input field at fault, by its GraphQL name (e.g. `authId`)."
    )


@strawberry.type(description="WZBAM001E: required items were left empty.")
class RequiredFieldError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.REQUIRED
    fields: list[str] = strawberry.field(
        description="Every empty required field (the first is also in `field`)."
    )


@strawberry.enum(description="Why an input item was refused as WZBAM005E.")
class InputProblem(Enum):
    EMPTY = strawberry.enum_value("empty", description="Nothing was entered.")
    TOO_LONG = strawberry.enum_value(
        "too_long", description="Longer than the item allows."
    )
    CHARACTERS = strawberry.enum_value(
        "characters", description="Contains characters the item does not allow."
    )
    MALFORMED = strawberry.enum_value(
        "malformed",
        description="Not in the item's format (e.g. wrong number of digits).",
    )
    CHECK_DIGIT = strawberry.enum_value(
        "check_digit",
        description="The check digit of a 6-digit 全国地方公共団体コード is wrong.",
    )
    OUT_OF_RANGE = strawberry.enum_value(
        "out_of_range", description="A number outside the allowed range."
    )
    UNKNOWN = strawberry.enum_value(
        "unknown",
        description="Well-formed, but no such code exists in the current data.",
    )
    # Removed in 43afee2 without deprecation, which broke clients generated
    # before it; back, deprecated, so they compile again. Never answered.
    UNAVAILABLE = strawberry.enum_value(
        "unavailable",
        description="Never answered since email addresses may be shared between "
        "accounts (refusing one told anyone that it was registered).",
        deprecation_reason="Never answered; an email address in use by another "
        "account is accepted. Will be removed in a later release.",
    )


@strawberry.type(
    description="WZBAM005E: the item named in `field` was entered incorrectly; "
    "`reason` says how."
)
class InvalidFieldError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.INVALID_INPUT
    reason: InputProblem = strawberry.field(description="How the input was wrong.")


@strawberry.type(
    description="WZBAM103E: the (都道府県市区町村) code of an address item is "
    "missing; choose it with the address search (`municipalities`)."
)
class MunicipalityCodeRequiredError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.MUNICIPALITY_CODE_REQUIRED


@strawberry.type(
    description="WZBAM104E: the (町名丁目番地号等) part of an address item is missing."
)
class StreetRequiredError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.STREET_REQUIRED


@strawberry.type(
    description="WZBAM011E: the item named in `field` contains 外字 (characters "
    "outside JIS X 0208 levels 1-2 and printable ASCII: half-width katakana, ①, ㈱, "
    "㍻, JIS levels 3-4, emoji, private use, control characters)."
)
class GaijiError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.GAIJI
    characters: list[str] = strawberry.field(
        description="The offending characters, each once, in order of appearance."
    )


@strawberry.type(
    description="WZBAM018E: the item named in `field` is not in its format; "
    "`reason` says how (registration's form)."
)
class MalformedFieldError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.MALFORMED
    reason: InputProblem = strawberry.field(description="How the input was wrong.")


@strawberry.type(
    description="WZBAM111E: the date is in the right format but does not exist "
    "(e.g. 2023-02-30)."
)
class NoSuchDateError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.NO_SUCH_DATE


@strawberry.type(
    description="WZBAM159E: the email address and its confirmation differ "
    "(`field` is the confirmation)."
)
class EmailMismatchError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.EMAIL_MISMATCH


@strawberry.type(description="WZBAM256E: the terms of use were not agreed to.")
class TermsNotAgreedError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.TERMS_NOT_AGREED


@strawberry.type(
    description="WZBAM160E: the password and its re-entry differ (password setup "
    "and reset; `field` is the re-entry)."
)
class PasswordReentryMismatchError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.PASSWORD_REENTRY_MISMATCH


@strawberry.type(
    description="WZBAM162E: the new password and its confirmation differ "
    "(password change; `field` is the confirmation)."
)
class PasswordConfirmMismatchError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.PASSWORD_CONFIRM_MISMATCH


@strawberry.type(
    description="WZBAM154E: the current password is wrong. Counts toward the "
    "lockout like a failed login."
)
class CurrentPasswordWrongError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.CURRENT_PASSWORD_WRONG


@strawberry.type(
    description="WZBAM168E: the auth ID and email address do not belong to one "
    "active account."
)
class AuthIdEmailMismatchError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.AUTH_ID_EMAIL_MISMATCH


@strawberry.type(
    description="WZBAM244E: only one of the two parts of the new address was "
    "entered; `field` is the missing part and `fieldErrors` holds its own "
    "error (WZBAM103E or WZBAM104E)."
)
class AddressIncompleteError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.ADDRESS_INCOMPLETE
    field_errors: list[FieldError] = strawberry.field(
        description="The missing part's error: MunicipalityCodeRequiredError "
        "(WZBAM103E) or StreetRequiredError (WZBAM104E)."
    )


@strawberry.type(description="WZBAM245E: none of the items to change was entered.")
class NothingToChangeError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.NOTHING_TO_CHANGE


@strawberry.type(
    description="RASX003E (extension): the mailed link is unknown, already used, "
    "voided by a newer link or a password change, or expired."
)
class LinkInvalidError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.LINK_INVALID


@strawberry.type(description="One broken rule of the password policy.")
class PasswordViolation:
    rule: PasswordRule = strawberry.field(description="Which rule.")
    message: str = strawberry.field(
        description="What the rule asks for, in the request's language."
    )


@strawberry.type(
    description="WZBAM005E for a new password: it breaks the password policy; "
    "`violations` names every broken rule."
)
class PasswordPolicyError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.INVALID_INPUT
    violations: list[PasswordViolation] = strawberry.field(
        description="Every rule the password breaks, in the policy's order."
    )


@strawberry.type(
    description="WZBAM005E for the login item 「認証ID又はパスワード」: the auth ID or "
    "the password is wrong. The same answer, in about the same time, whether or not "
    "the auth ID exists."
)
class InvalidCredentialsError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.INVALID_INPUT


@strawberry.type(
    description="WZBAM153E: too many consecutive login failures for this auth ID; "
    "the lock lifts by itself after the lockout period (24 hours by default) or at "
    "once with a password reset."
)
class AccountLockedError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.ACCOUNT_LOCKED
    retry_after_seconds: int = strawberry.field(
        description="Seconds until the lock lifts by itself (also the HTTP "
        "`Retry-After` header); 0 when it was lifted meanwhile. The same type "
        "as `TooManyRequestsError.retryAfterSeconds`, so one selection may ask "
        "both.",
        default=0,
    )


@strawberry.type(description="WZBAM155E: the account is suspended by staff.")
class AccountSuspendedError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.ACCOUNT_SUSPENDED


@strawberry.type(description="WZBAM156E: the account has been deleted (抹消).")
class AccountDeletedError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.ACCOUNT_DELETED


@strawberry.type(description="WZBAM150E: the user information is invalid.")
class UserInfoInvalidError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.USER_INFO_INVALID


@strawberry.type(description="WZBAM151E: the usage application (利用申出) has expired.")
class UsageExpiredError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.USAGE_EXPIRED


@strawberry.type(
    description="WZBAM158E: the password has expired and must be changed before "
    "anything else."
)
class PasswordExpiredError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.PASSWORD_EXPIRED
    change_ticket: str | None = strawberry.field(
        default=None,
        description="Only in the answer to `login`: a short-lived token that, sent "
        "as the Bearer token, allows `changePassword` and nothing else. In cookie "
        "mode an empty string: the ticket is set as the session cookie.",
    )


@strawberry.type(
    description="WZBAM099E: a newer login of the same user displaced this session "
    "(二重ログイン)."
)
class DuplicateLoginError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.DUPLICATE_LOGIN


@strawberry.type(
    description="RASX001E (extension): the session timed out (30 minutes without a "
    "request, or its maximum lifetime); log in again."
)
class SessionExpiredError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.SESSION_EXPIRED


@strawberry.type(
    description="RASX002E (extension): no valid session token was sent; log in."
)
class NotAuthenticatedError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.NOT_AUTHENTICATED


@strawberry.type(
    description="RASX004E (extension): a limit answered: too many attempts for one "
    "auth ID at once, too many requests of this kind for one auth ID, address or "
    "account in the window, or too many from this client address. Try again "
    "after `retryAfterSeconds` (also the HTTP `Retry-After` header)."
)
class TooManyRequestsError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.TOO_MANY_REQUESTS
    retry_after_seconds: int = strawberry.field(
        description="Seconds until the limit that answered lets a request "
        "through again (at least 1)."
    )


@strawberry.type(
    description="RASX006E (extension): this change needs the password entered "
    "again on this session (it was last checked too long ago); call "
    "`reauthenticate`, then repeat the change. Nothing was changed."
)
class ReauthenticationRequiredError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.REAUTHENTICATION_REQUIRED


@strawberry.type(
    description="WZBAM250E: the operation is not available for the user's category."
)
class OperationNotAllowedError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.OPERATION_NOT_ALLOWED


@strawberry.type(
    description="RASX005E (extension): the one-time code from the authenticator "
    "app (or the recovery code, as `field` says) is wrong, not current, or "
    "already used. It counts toward the 認証ID's lockout like a wrong password."
)
class OneTimeCodeWrongError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.ONE_TIME_CODE_WRONG


@strawberry.type(
    description="RASX012E (extension): the code step of a login, or a begun "
    "two-step set-up, has expired, was used, or was voided (a password change "
    "or reset, a lock, or staff removing two-step login); start again."
)
class StepExpiredError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.STEP_EXPIRED


@strawberry.type(
    description="RASX013E (extension): not possible with two-step login as it "
    "is: setting it up while it is on, or turning it off (or making recovery "
    "codes) while it is off."
)
class TwoStepStateError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.TWO_STEP_STATE
    enabled: bool = strawberry.field(
        description="Whether two-step login is on for the account now."
    )


AuthError = (
    NotAuthenticatedError
    | SessionExpiredError
    | DuplicateLoginError
    | PasswordExpiredError
    | AccountSuspendedError
    | AccountDeletedError
    | UserInfoInvalidError
    | UsageExpiredError
)
"""What any call that needs a session can answer instead of its result."""
