"""Types of the admin API (/admin/graphql): staff, the applicants as staff see
them, audit events, the outbox, notices and daily figures, and the errors
only staff meet. Nothing here is part of the public schema."""

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from enum import Enum
from typing import Annotated, ClassVar

import strawberry

from models import AccountStatus
from models.outbox import MailKind, MailStatus
from models.staff import StaffRole
from schema.enums import AuditType, described
from schema.errors import (
    AccountLockedError,
    AccountSuspendedError,
    Error,
    FieldError,
    InvalidCredentialsError,
    InvalidFieldError,
    NotAuthenticatedError,
    PasswordPolicyError,
    RequiredFieldError,
    SessionExpiredError,
    TooManyRequestsError,
)
from schema.messages import ErrorCode
from schema.types import PageInfo

described(
    StaffRole,
    name="StaffRole",
    description="What a staff member may do; each role includes the ones before it.",
    values={
        StaffRole.VIEWER: "Reads everything in the admin API; changes nothing.",
        StaffRole.OPERATOR: "A viewer who also runs the users' lifecycle (all but "
        "deleting), retries mail and publishes notices.",
        StaffRole.ADMIN: "Everything, including deleting users and managing staff.",
    },
)
described(
    AccountStatus,
    name="AccountStatus",
    description="What staff decided about an applicant's account.",
    values={
        AccountStatus.ACTIVE: "In use.",
        AccountStatus.SUSPENDED: "Suspended (停止): login answers WZBAM155E.",
        AccountStatus.DELETED: "Deleted (抹消): personal data erased; login answers "
        "WZBAM156E.",
        AccountStatus.INVALID: "Marked invalid (無効): login answers WZBAM150E.",
    },
)
described(
    MailKind,
    name="MailKind",
    description="Which of the service's mails an outbox row is.",
    values={kind: f"The `{kind.value}` mail." for kind in MailKind},
)
described(
    MailStatus,
    name="MailStatus",
    description="Where an outbox row is in its delivery.",
    values={
        MailStatus.PENDING: "Waiting for the delivery worker (or its next retry).",
        MailStatus.SENT: "Accepted by the SMTP server.",
        MailStatus.DEAD: "Given up after its attempts, or refused for good; "
        "`retryMail` sends it again while its body is kept.",
    },
)


# Errors only staff meet ---------------------------------------------------


@strawberry.type(
    description="RASX007E (extension): the staff member's role does not allow this "
    "operation. Nothing was changed."
)
class ForbiddenError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.FORBIDDEN
    required_role: StaffRole = strawberry.field(
        description="The least role that may do it."
    )


@strawberry.type(
    description="RASX008E (extension): nothing has the identifier given in `field`."
)
class NotFoundError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.NOT_FOUND


@strawberry.enum(description="Why an outbox row cannot be sent again.")
class MailRetryProblem(Enum):
    NOT_DEAD = strawberry.enum_value(
        "not_dead", description="It is pending or was sent: only dead mail is retried."
    )
    BODY_GONE = strawberry.enum_value(
        "body_gone",
        description="Its body was erased (delivered mail, or the account was "
        "deleted): the mail cannot be rebuilt.",
    )


@strawberry.type(
    description="RASX009E (extension): this outbox row cannot be sent again; "
    "`reason` says why. Nothing was changed."
)
class MailNotRetryableError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.MAIL_NOT_RETRYABLE
    reason: MailRetryProblem = strawberry.field(description="Why not.")


@strawberry.type(
    description="RASX010E (extension): a staff member with this login ID exists."
)
class LoginIdTakenError(FieldError):
    CODE: ClassVar[ErrorCode] = ErrorCode.LOGIN_ID_TAKEN


@strawberry.type(
    description="RASX011E (extension): the account's status does not allow this "
    "operation (a deleted account cannot be changed). Nothing was changed."
)
class AccountStateError(Error):
    CODE: ClassVar[ErrorCode] = ErrorCode.ACCOUNT_STATE
    status: AccountStatus = strawberry.field(description="The account's status.")


StaffAuthError = NotAuthenticatedError | SessionExpiredError | ForbiddenError


# Staff ---------------------------------------------------------------------


@strawberry.type(description="A staff member of the admin dashboards.")
class StaffMember:
    login_id: str = strawberry.field(description="The login ID (lower case).")
    name: str = strawberry.field(description="The staff member's name.")
    role: StaffRole = strawberry.field(description="What they may do.")
    disabled: bool = strawberry.field(
        description="True once disabled: no login, sessions ended."
    )
    created_at: datetime = strawberry.field(description="When the account was made.")


@strawberry.input(description="Staff login: all three are always needed.")
class StaffLoginInput:
    login_id: str = strawberry.field(description="The staff login ID.")
    password: str = strawberry.field(description="The staff member's password.")
    totp_code: str = strawberry.field(
        description="The current 6-digit code of the enrolled authenticator app "
        "(each code is accepted once)."
    )


@strawberry.type(description="Logged in: send `token` as the Bearer token.")
class StaffLoginSuccess:
    token: str = strawberry.field(description="The staff session's token.")
    idle_timeout_seconds: int = strawberry.field(
        description="The session ends after this long without a request."
    )
    staff: StaffMember = strawberry.field(description="Who logged in.")


StaffLoginResult = Annotated[
    StaffLoginSuccess
    | RequiredFieldError
    | InvalidCredentialsError
    | AccountLockedError
    | AccountSuspendedError
    | TooManyRequestsError,
    strawberry.union(
        "StaffLoginResult",
        description="A staff session, or why not: WZBAM001E (an empty item), "
        "WZBAM005E (login ID, password or code wrong, one answer for all), "
        "WZBAM153E (locked after failures), WZBAM155E (disabled), RASX004E.",
    ),
]


@strawberry.type(description="The staff session has ended.")
class StaffLogoutSuccess:
    ok: bool = strawberry.field(description="Always true.")


StaffLogoutResult = Annotated[
    StaffLogoutSuccess | NotAuthenticatedError,
    strawberry.union(
        "StaffLogoutResult",
        description="Logged out, or RASX002E for a token that is no staff session.",
    ),
]


# Applicants as staff see them ---------------------------------------------


@strawberry.type(description="The lockout counter of a 認証ID.")
class LockState:
    locked: bool = strawberry.field(description="True while a lock is in force.")
    failures: int = strawberry.field(
        description="Consecutive failed password checks that still count."
    )
    locked_until: datetime | None = strawberry.field(
        description="When the lock lifts by itself; null when not locked."
    )


@strawberry.type(description="The applicant's current session.")
class CurrentSession:
    started_at: datetime = strawberry.field(description="When it was opened (login).")
    last_seen_at: datetime = strawberry.field(description="Its last request.")
    client_address: str | None = strawberry.field(
        description="The client address it was opened from (IPv6 as its /64)."
    )


@strawberry.type(description="One security event, as staff and SIEMs read it.")
class AuditEventNode:
    id: str = strawberry.field(description="The event's id (also its cursor).")
    at: datetime = strawberry.field(description="When it happened (UTC).")
    type: AuditType = strawberry.field(description="What happened.")
    outcome: str = strawberry.field(
        description="OK, or the code the request was answered."
    )
    auth_id: str | None = strawberry.field(
        description="The applicant's 認証ID (or, for a login, what was typed when "
        "it had the form of one); null otherwise."
    )
    staff_login_id: str | None = strawberry.field(
        description="The staff member who acted (or logged in); null otherwise."
    )
    reason: str | None = strawberry.field(
        description="The reason a staff member gave for the action."
    )
    detail: str | None = strawberry.field(description="A short qualifier.")
    client_address: str | None = strawberry.field(
        description="The client address of the request."
    )
    user_agent: str | None = strawberry.field(
        description="The request's user agent (first 200 characters)."
    )
    request_id: str | None = strawberry.field(
        description="The request's id (its X-Request-Id answer header)."
    )


@strawberry.type(description="One audit event and its cursor.")
class AuditEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue.")
    node: AuditEventNode = strawberry.field(description="The event.")


@strawberry.type(description="A page of audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge] = strawberry.field(description="The events.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")


@strawberry.input(description="Which audit events to list (all given must hold).")
class AuditEventFilter:
    auth_id: str | None = strawberry.field(
        default=None, description="Only this applicant's events."
    )
    staff_login_id: str | None = strawberry.field(
        default=None, description="Only events of this staff member."
    )
    type: AuditType | None = strawberry.field(
        default=None, description="Only this type."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only events at or after this time."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only events before this time."
    )


@strawberry.type(description="An applicant's account, as staff see it.")
class ManagedUser:
    auth_id: str = strawberry.field(description="認証ID.")
    name: str = strawberry.field(description="氏名 (empty once deleted).")
    email: str | None = strawberry.field(
        description="The email address; null once deleted."
    )
    status: AccountStatus = strawberry.field(description="What staff decided.")
    created_at: datetime = strawberry.field(description="Registration time.")
    last_login_at: datetime | None = strawberry.field(description="The last login.")
    usage_expires_at: datetime | None = strawberry.field(
        description="利用期限: after it, login answers WZBAM151E; null for none."
    )
    password_set: bool = strawberry.field(
        description="False until the first password is registered (or after a "
        "revert removed it)."
    )
    password_expires_at: datetime | None = strawberry.field(
        description="After it, login answers WZBAM158E."
    )
    two_step_enabled: bool = strawberry.field(
        description="Whether login asks for a one-time code (`resetTotp` removes it)."
    )
    lock: LockState = strawberry.field(description="The 認証ID's lockout counter.")
    current_session: CurrentSession | None = strawberry.field(
        description="The active session, if any."
    )
    events_loader: strawberry.Private[Callable[[], Awaitable[list[AuditEventNode]]]]

    @strawberry.field(
        description="The account's latest audit events, newest first (20 at most; "
        "the full list through `auditEvents`)."
    )
    async def recent_events(self) -> list[AuditEventNode]:
        return await self.events_loader()


@strawberry.type(description="One user and its cursor.")
class ManagedUserEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue.")
    node: ManagedUser = strawberry.field(description="The user.")


@strawberry.type(description="A page of users in registration order.")
class ManagedUserConnection:
    edges: list[ManagedUserEdge] = strawberry.field(description="The users.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")


# Outbox, notices, figures ---------------------------------------------------


@strawberry.type(description="One outbox row: metadata only, never its body.")
class OutboxEntry:
    id: str = strawberry.field(description="The row's id (also its cursor).")
    kind: MailKind = strawberry.field(description="Which mail.")
    recipient: str = strawberry.field(description="The recipient, masked (t***@…).")
    status: MailStatus = strawberry.field(description="Where its delivery is.")
    attempts: int = strawberry.field(description="Delivery attempts so far.")
    last_error: str | None = strawberry.field(
        description="The last delivery error (addresses masked)."
    )
    created_at: datetime = strawberry.field(description="When it was queued.")
    sent_at: datetime | None = strawberry.field(description="When it was accepted.")
    retryable: bool = strawberry.field(
        description="True when `retryMail` can send it again (dead, body kept)."
    )


@strawberry.type(description="One outbox row and its cursor.")
class OutboxEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue.")
    node: OutboxEntry = strawberry.field(description="The row.")


@strawberry.type(description="A page of outbox rows, newest first.")
class OutboxConnection:
    edges: list[OutboxEdge] = strawberry.field(description="The rows.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")


@strawberry.type(description="お知らせ as staff manage it: both languages.")
class ManagedNotice:
    id: str = strawberry.field(description="The notice's id.")
    title_ja: str = strawberry.field(description="Title in Japanese.")
    title_en: str = strawberry.field(description="Title in English.")
    body_ja: str = strawberry.field(description="Text in Japanese.")
    body_en: str = strawberry.field(description="Text in English.")
    starts_at: datetime = strawberry.field(description="Shown from this time.")
    ends_at: datetime = strawberry.field(description="Shown until this time.")
    published_at: datetime = strawberry.field(description="When it was published.")
    published_by: str = strawberry.field(description="Staff login ID.")
    withdrawn_at: datetime | None = strawberry.field(
        description="When it was withdrawn; null while not."
    )
    shown: bool = strawberry.field(
        description="True when the public `notices` shows it now."
    )


@strawberry.input(description="A notice to publish, in both languages.")
class PublishNoticeInput:
    title_ja: str = strawberry.field(description="Title in Japanese (≤ 200).")
    title_en: str = strawberry.field(description="Title in English (≤ 200).")
    body_ja: str = strawberry.field(description="Text in Japanese (≤ 4000).")
    body_en: str = strawberry.field(description="Text in English (≤ 4000).")
    starts_at: datetime = strawberry.field(description="Shown from this time.")
    ends_at: datetime = strawberry.field(
        description="Shown until this time (after `startsAt`)."
    )
    reason: str = strawberry.field(description="Why (stored in the audit trail).")


@strawberry.type(description="One day's figures (the day in Japan time, JST).")
class DailyFigure:
    day: date = strawberry.field(name="date", description="The day (JST).")
    registrations: int = strawberry.field(
        description="New accounts registered (not repeat registrations)."
    )
    logins: int = strawberry.field(description="Successful applicant logins.")
    locks: int = strawberry.field(description="認証IDs locked by failures.")
    mails_sent: int = strawberry.field(description="Mails accepted by SMTP.")
    mails_dead: int = strawberry.field(
        description="Mails given up (dead rows, by the day they were queued)."
    )


@strawberry.type(description="The figures of each day of the range, in order.")
class DailyFigures:
    days: list[DailyFigure] = strawberry.field(description="One entry per day.")


# Inputs and results of actions ----------------------------------------------


@strawberry.input(description="A staff member to create.")
class CreateStaffInput:
    login_id: str = strawberry.field(
        description="3-26 of a-z, 0-9, '.', '_', '-' (stored in lower case)."
    )
    name: str = strawberry.field(description="Their name.")
    role: StaffRole = strawberry.field(description="What they may do.")
    password: str = strawberry.field(
        description="Their first password (the applicants' password policy)."
    )
    reason: str = strawberry.field(description="Why (stored in the audit trail).")


@strawberry.type(description="The action was done; the user as it is now.")
class UserActionSuccess:
    user: ManagedUser = strawberry.field(description="The account after the action.")


@strawberry.type(description="The staff member as they are now.")
class StaffActionSuccess:
    staff: StaffMember = strawberry.field(description="After the action.")


@strawberry.type(
    description="Created: hand the TOTP URI (or its QR code) to the new staff member "
    "once; it is not shown again."
)
class CreateStaffSuccess:
    staff: StaffMember = strawberry.field(description="The new staff member.")
    totp_provisioning_uri: str = strawberry.field(
        description="otpauth://totp/…?secret=…&issuer=… for an authenticator app."
    )


@strawberry.type(description="The notice after the action.")
class NoticeActionSuccess:
    notice: ManagedNotice = strawberry.field(description="The notice.")


@strawberry.type(description="The mail is queued again.")
class RetryMailSuccess:
    mail: OutboxEntry = strawberry.field(description="The row, pending again.")


_ACTION_ERRORS = (
    "WZBAM001E (an empty item, e.g. no reason), WZBAM005E (an item too long or out "
    "of range), RASX008E (no such item), RASX007E (role too low), RASX002E/RASX001E "
    "(no staff session)"
)

UserActionResult = Annotated[
    UserActionSuccess
    | RequiredFieldError
    | InvalidFieldError
    | NotFoundError
    | AccountStateError
    | NotAuthenticatedError
    | SessionExpiredError
    | ForbiddenError,
    strawberry.union(
        "UserActionResult",
        description=f"The user after the action, or: {_ACTION_ERRORS}, RASX011E "
        "(a deleted account).",
    ),
]
StaffActionResult = Annotated[
    StaffActionSuccess
    | RequiredFieldError
    | InvalidFieldError
    | NotFoundError
    | NotAuthenticatedError
    | SessionExpiredError
    | ForbiddenError,
    strawberry.union(
        "StaffActionResult",
        description=f"The staff member after the action, or: {_ACTION_ERRORS}.",
    ),
]
CreateStaffResult = Annotated[
    CreateStaffSuccess
    | RequiredFieldError
    | InvalidFieldError
    | LoginIdTakenError
    | PasswordPolicyError
    | NotAuthenticatedError
    | SessionExpiredError
    | ForbiddenError,
    strawberry.union(
        "CreateStaffResult",
        description=f"The new staff member, or: {_ACTION_ERRORS}, RASX010E (login "
        "ID taken), WZBAM005E with the broken password rules.",
    ),
]
NoticeActionResult = Annotated[
    NoticeActionSuccess
    | RequiredFieldError
    | InvalidFieldError
    | NotFoundError
    | NotAuthenticatedError
    | SessionExpiredError
    | ForbiddenError,
    strawberry.union(
        "NoticeActionResult",
        description=f"The notice after the action, or: {_ACTION_ERRORS}.",
    ),
]
RetryMailResult = Annotated[
    RetryMailSuccess
    | RequiredFieldError
    | InvalidFieldError
    | NotFoundError
    | MailNotRetryableError
    | NotAuthenticatedError
    | SessionExpiredError
    | ForbiddenError,
    strawberry.union(
        "RetryMailResult",
        description=f"The mail queued again, or: {_ACTION_ERRORS}, RASX009E (not "
        "dead, or its body is gone).",
    ),
]

# Results of reads ------------------------------------------------------------

ManagedUserResult = Annotated[
    ManagedUser | InvalidFieldError | NotFoundError | StaffAuthError,
    strawberry.union(
        "ManagedUserResult",
        description="The user, RASX008E for an unknown 認証ID, or no staff session.",
    ),
]
ManagedUsersResult = Annotated[
    ManagedUserConnection | InvalidFieldError | StaffAuthError,
    strawberry.union(
        "ManagedUsersResult",
        description="A page of users, WZBAM005E for a wrong `first`/`after`, or no "
        "staff session.",
    ),
]
AuditEventsResult = Annotated[
    AuditEventConnection | InvalidFieldError | StaffAuthError,
    strawberry.union(
        "AuditEventsResult",
        description="A page of events, WZBAM005E for a wrong `first`/`after`, or no "
        "staff session.",
    ),
]
OutboxResult = Annotated[
    OutboxConnection | InvalidFieldError | StaffAuthError,
    strawberry.union(
        "OutboxResult",
        description="A page of outbox rows, WZBAM005E for a wrong `first`/`after`, "
        "or no staff session.",
    ),
]


@strawberry.type(description="Notices, newest first.")
class ManagedNoticeList:
    notices: list[ManagedNotice] = strawberry.field(description="The notices.")


ManagedNoticesResult = Annotated[
    ManagedNoticeList | StaffAuthError,
    strawberry.union(
        "ManagedNoticesResult", description="The notices, or no staff session."
    ),
]
DailyFiguresResult = Annotated[
    DailyFigures | InvalidFieldError | StaffAuthError,
    strawberry.union(
        "DailyFiguresResult",
        description="The figures, WZBAM005E for a range that is reversed or longer "
        "than 366 days, or no staff session.",
    ),
]
