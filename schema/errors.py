"""The Error interface and one GraphQL type per expected failure.

Expected failures are data: a resolver returns one of these as a member of its
``<Op>Result`` union. Each carries the manual's code with message and remedy in
the request's language; field errors also name the input field.
"""

from enum import Enum
from typing import ClassVar, Self

import strawberry

from schema.catalog import ErrorCode, FieldLabel, Lang, render


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
        "as the Bearer token, allows `changePassword` and nothing else.",
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
    description="RASX004E (extension): too many attempts for the same auth ID are "
    "in progress at once; wait a moment and try again."
)
class TooManyRequestsError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.TOO_MANY_REQUESTS


@strawberry.type(
    description="WZBAM250E: the operation is not available for the user's category."
)
class OperationNotAllowedError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.OPERATION_NOT_ALLOWED


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
