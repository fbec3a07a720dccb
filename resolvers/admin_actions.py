"""The admin API's actions. Each needs a reason (stored with the action's audit
event, with the staff member's ID) and a role; a role that may not act gets
ForbiddenError and nothing changes. Each action and its audit event commit in
one transaction."""

import logging
from datetime import datetime
from typing import Annotated

import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from mailer.outbox import enqueue
from mailer.render import CredentialsReissued, TwoStepReset
from models import (
    AccountStatus,
    AuditEvent,
    AuditType,
    Lang,
    LinkPurpose,
    LinkToken,
    LoginThrottle,
    MailStatus,
    OutboxMail,
    RevokeReason,
    User,
    UserSession,
    remove_two_step,
)
from models.staff import Notice, Staff, StaffRole, StaffSession
from resolvers.admin import ID_MAX, find_user, managed_user, outbox_entry
from resolvers.context import Info
from resolvers.links import issue_link
from resolvers.notices import managed_notice
from resolvers.paging import INT_MAX, row_id
from resolvers.staff import (
    LOGIN_ID,
    StaffAuthenticated,
    StaffAuthFailure,
    authenticate_staff,
    member,
    new_staff,
    normalise_login_id,
)
from resolvers.staff_inputs import instant, lookup_text, text_problem
from schema.admin import (
    AccountStateError,
    CreateStaffInput,
    CreateStaffResult,
    CreateStaffSuccess,
    LoginIdTakenError,
    MailNotRetryableError,
    MailRetryProblem,
    NotFoundError,
    NoticeActionResult,
    NoticeActionSuccess,
    PublishNoticeInput,
    RetryMailResult,
    RetryMailSuccess,
    StaffActionResult,
    StaffActionSuccess,
    UserActionResult,
    UserActionSuccess,
)
from schema.errors import (
    InputProblem,
    InvalidFieldError,
    PasswordPolicyError,
    PasswordViolation,
    RequiredFieldError,
)
from schema.messages import FieldLabel
from security.passwords import policy_violations
from security.text import normalise_name

logger = logging.getLogger("ras_identity.admin")

REASON_MAX = 500
# What a deleted account's outbox rows keep as their recipient.
ERASED_RECIPIENT = "erased@deleted.invalid"
ACCOUNT_DELETED = "account deleted"
TITLE_MAX = 200
BODY_MAX = 4000

_AuthId = Annotated[str, strawberry.argument(description="The applicant's 認証ID.")]
_Reason = Annotated[
    str,
    strawberry.argument(
        description=f"Why (1-{REASON_MAX} characters; stored in the audit trail "
        "with the staff member's ID)."
    ),
]
_LoginId = Annotated[str, strawberry.argument(description="The staff login ID.")]


async def _staff_and_reason(
    info: Info, needed: StaffRole, reason: str
) -> StaffAuthenticated | StaffAuthFailure | RequiredFieldError | InvalidFieldError:
    auth = await authenticate_staff(info, needed)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    lang = info.context.lang
    if problem := text_problem(lang, "reason", FieldLabel.REASON, reason, REASON_MAX):
        return problem
    return auth


async def _record(
    info: Info,
    auth: StaffAuthenticated,
    type: AuditType,
    reason: str,
    *,
    conn: BaseDBAsyncClient,
    user_id: int | None = None,
    detail: str | None = None,
) -> None:
    await AuditEvent.record(
        type,
        at=info.context.services.clock.now(),
        origin=info.context.origin,
        user_id=user_id,
        staff_id=auth.staff.id,
        reason=reason.strip(),
        detail=detail,
        using_db=conn,
    )


# Users ------------------------------------------------------------------------


async def _user_action(
    info: Info,
    auth_id: str,
    reason: str,
    needed: StaffRole,
    event: AuditType,
    change: "UserChange",
) -> UserActionResult:
    """The common frame: staff, reason, the user (row locked), refuse a deleted
    account, ``change`` and its audit event in one transaction."""
    auth = await _staff_and_reason(info, needed, reason)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    if problem := change.problem(info.context.lang):
        return problem
    found = await find_user(info, auth_id)
    if isinstance(found, NotFoundError):
        return found
    now = info.context.services.clock.now()
    async with in_transaction() as conn:
        user = await User.select_for_update().using_db(conn).get(id=found.id)
        unusable = user.status is not AccountStatus.ACTIVE or user.usage_expired(now)
        if user.status is AccountStatus.DELETED or (change.needs_active and unusable):
            return AccountStateError.build(info.context.lang, status=user.status)
        detail = await change(info, user, now, conn)
        await _record(
            info, auth, event, reason, conn=conn, user_id=user.id, detail=detail
        )
    logger.info(
        "staff action %s: staff_id=%s user_id=%s", event.value, auth.staff.id, user.id
    )
    await user.refresh_from_db()
    return UserActionSuccess(user=await managed_user(info, user))


class UserChange:
    """What one action does to the locked user row (returns the event's detail).
    ``problem`` checks the action's own input before anything is read;
    ``needs_active`` refuses an account that cannot be used (RASX011E)."""

    needs_active = False

    def problem(self, lang: Lang) -> InvalidFieldError | None:
        return None

    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        raise NotImplementedError


async def _end_sessions(
    info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
) -> None:
    await UserSession.end_all(
        user.id,
        RevokeReason.STAFF,
        now=now,
        origin=info.context.origin,
        using_db=conn,
    )


class _SetStatus(UserChange):
    def __init__(self, status: AccountStatus) -> None:
        self.status = status

    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        user.status = self.status
        await user.save(using_db=conn, update_fields=["status"])
        if self.status is not AccountStatus.ACTIVE:
            await _end_sessions(info, user, now, conn)
        return self.status.value


class _Unlock(UserChange):
    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        await LoginThrottle.clear(user.auth_id, now=now, using_db=conn)
        return None


class _Erase(UserChange):
    """抹消: personal data erased, the address freed, sessions, links and
    two-step login ended,
    mail to the account dropped (recipient masked, body and error erased), the
    addresses kept by email-change undo links erased."""

    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        await (
            User.filter(id=user.id)
            .using_db(conn)
            .update(
                status=AccountStatus.DELETED,
                name="",
                email="",
                email_key=None,
                phone=None,
                municipality_code=None,
                prefecture_name=None,
                municipality_name=None,
                street=None,
                date_of_birth=None,
                nationality=None,
            )
        )
        await _end_sessions(info, user, now, conn)
        await remove_two_step(user.id, now=now, using_db=conn)
        await LinkToken.void(
            user.id,
            now=now,
            origin=info.context.origin,
            using_db=conn,
            purposes=tuple(LinkPurpose),
        )
        await (
            LinkToken.filter(user_id=user.id).using_db(conn).update(restore_email=None)
        )
        mails = OutboxMail.filter(user_id=user.id).using_db(conn)
        # Pending mail is not sent (the worker only sends and marks pending
        # rows); an error text may quote the address, so it goes too.
        await mails.filter(status=MailStatus.PENDING).update(
            status=MailStatus.DEAD,
            claim=None,
            claimed_until=None,
            last_error=ACCOUNT_DELETED,
        )
        await mails.update(recipient=ERASED_RECIPIENT, message=None)
        await mails.filter(~Q(last_error=ACCOUNT_DELETED)).update(last_error=None)
        return None


class _UsageExpiry(UserChange):
    def __init__(self, expires_at: datetime | None) -> None:
        self.expires_at = expires_at

    def problem(self, lang: Lang) -> InvalidFieldError | None:
        if self.expires_at is None:
            return None
        checked = instant(lang, "expiresAt", FieldLabel.USAGE_EXPIRY, self.expires_at)
        if isinstance(checked, InvalidFieldError):
            return checked
        self.expires_at = checked
        return None

    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        user.usage_expires_at = self.expires_at
        await user.save(using_db=conn, update_fields=["usage_expires_at"])
        if self.expires_at is not None and self.expires_at <= now:
            await _end_sessions(info, user, now, conn)
        return (
            "none"
            if self.expires_at is None
            else f"until {self.expires_at.isoformat(timespec='seconds')}"
        )


class _ExpirePassword(UserChange):
    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        if user.password_hash is not None:
            user.password_expires_at = now
            await user.save(using_db=conn, update_fields=["password_expires_at"])
        await _end_sessions(info, user, now, conn)
        return None


class _RevokeSessions(UserChange):
    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        await _end_sessions(info, user, now, conn)
        return None


class _Reissue(UserChange):
    """認証ID・パスワードの再通知: the 認証ID and a new link to set a password,
    mailed to the account's address; the lock lifted. The current password
    keeps working until the link is used. Only for a usable account: the link
    would not work for another (RASX011E)."""

    needs_active = True

    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        services = info.context.services
        await LoginThrottle.clear(user.auth_id, now=now, using_db=conn)
        token, expires_at = await issue_link(
            user,
            LinkPurpose.PASSWORD_RESET,
            now=now,
            lifetime=services.policy.setup_link_lifetime,
            origin=info.context.origin,
            using_db=conn,
        )
        await enqueue(
            services.composer,
            CredentialsReissued(
                to=user.email,
                name=user.name,
                auth_id=user.auth_id,
                token=token,
                link_expires_at=expires_at,
            ),
            now=now,
            using_db=conn,
            user_id=user.id,
        )
        return None


class _ResetTwoStep(UserChange):
    """Two-step login removed for a user who lost the authenticator and the
    recovery codes (after staff checked who is asking): the secret, recovery
    codes and open code steps go, and the user is told by mail. Nothing to
    remove is no error: recorded with detail ``off``, no mail."""

    async def __call__(
        self, info: Info, user: User, now: datetime, conn: BaseDBAsyncClient
    ) -> str | None:
        was_on = user.two_step
        await remove_two_step(user.id, now=now, using_db=conn)
        if not was_on:
            return "off"
        await enqueue(
            info.context.services.composer,
            TwoStepReset(to=user.email, name=user.name, changed_at=now),
            now=now,
            using_db=conn,
            user_id=user.id,
        )
        return None


async def reset_totp(info: Info, auth_id: _AuthId, reason: _Reason) -> UserActionResult:
    """Remove the applicant's two-step login (operator): for one who lost the
    authenticator and the recovery codes. Audited with the reason; the user
    is mailed. The password and sessions stay as they are."""
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.TWO_STEP_RESET,
        _ResetTwoStep(),
    )


async def unlock_user(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """Lift the 認証ID's lock (WZBAM153E) and forget its failures (operator)."""
    return await _user_action(
        info, auth_id, reason, StaffRole.OPERATOR, AuditType.USER_UNLOCKED, _Unlock()
    )


async def suspend_user(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """Suspend the account (operator): every session ends; login answers
    WZBAM155E (after a correct password) until reinstated."""
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.USER_SUSPENDED,
        _SetStatus(AccountStatus.SUSPENDED),
    )


async def reinstate_user(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """Make a suspended or invalid account active again (operator)."""
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.USER_REINSTATED,
        _SetStatus(AccountStatus.ACTIVE),
    )


async def mark_invalid(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """Mark the user information invalid (operator): sessions end; login
    answers WZBAM150E."""
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.USER_MARKED_INVALID,
        _SetStatus(AccountStatus.INVALID),
    )


async def delete_user(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """抹消 (admin): name, email, phone, address, date of birth and nationality
    erased, the email address free to register again, sessions and links
    ended, unsent mail dropped; login answers WZBAM156E. The audit trail keeps
    the account's events (they hold none of those items)."""
    return await _user_action(
        info, auth_id, reason, StaffRole.ADMIN, AuditType.USER_DELETED, _Erase()
    )


async def set_usage_expiry(
    info: Info,
    auth_id: _AuthId,
    reason: _Reason,
    expires_at: Annotated[
        datetime | None,
        strawberry.argument(
            description="利用期限 (with a UTC offset): from then on login answers "
            "WZBAM151E; null for none. Required: left out, it answers WZBAM001E."
        ),
    ] = strawberry.UNSET,
) -> UserActionResult:
    """Set or clear the account's usage expiry (operator); one in the past ends
    every session at once."""
    auth = await authenticate_staff(info, StaffRole.OPERATOR)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    if expires_at is strawberry.UNSET:
        # Null clears the expiry; leaving the argument out is no choice.
        return RequiredFieldError.build(
            info.context.lang, field="expiresAt", fields=["expiresAt"]
        )
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.USAGE_EXPIRY_SET,
        _UsageExpiry(expires_at),
    )


async def expire_password(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """Expire the password now (operator): sessions end, and the next login
    answers WZBAM158E with a change ticket."""
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.PASSWORD_EXPIRED,
        _ExpirePassword(),
    )


async def revoke_sessions(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """End every session and change ticket of the account (operator)."""
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.SESSIONS_REVOKED,
        _RevokeSessions(),
    )


async def reissue_credentials(
    info: Info, auth_id: _AuthId, reason: _Reason
) -> UserActionResult:
    """認証ID・パスワードの再通知 (operator): mail the 認証ID with a new link to
    set a password (valid as long as a registration's), and lift a lock. Older
    reset links stop working."""
    return await _user_action(
        info,
        auth_id,
        reason,
        StaffRole.OPERATOR,
        AuditType.CREDENTIALS_REISSUED,
        _Reissue(),
    )


# Mail -------------------------------------------------------------------------


async def retry_mail(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The outbox row's id.")
    ],
    reason: _Reason,
) -> RetryMailResult:
    """Queue a dead mail again (operator), while its body is kept."""
    auth = await _staff_and_reason(info, StaffRole.OPERATOR, reason)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    lang = info.context.lang
    mail_id = row_id(str(id))
    if mail_id is None:
        return NotFoundError.build(lang, FieldLabel.MAIL_ID, field="id")
    now = info.context.services.clock.now()
    async with in_transaction() as conn:
        row = (
            await OutboxMail.select_for_update().using_db(conn).get_or_none(id=mail_id)
        )
        if row is None:
            return NotFoundError.build(lang, FieldLabel.MAIL_ID, field="id")
        if row.status is not MailStatus.DEAD:
            return MailNotRetryableError.build(lang, reason=MailRetryProblem.NOT_DEAD)
        if row.message is None:
            return MailNotRetryableError.build(lang, reason=MailRetryProblem.BODY_GONE)
        await (
            OutboxMail.filter(id=row.id)
            .using_db(conn)
            .update(
                status=MailStatus.PENDING,
                attempts=0,
                failures=0,
                next_attempt_at=now,
                claim=None,
                claimed_until=None,
                last_error=None,
            )
        )
        await _record(
            info,
            auth,
            AuditType.MAIL_RETRIED,
            reason,
            conn=conn,
            user_id=row.user_id,  # type: ignore[attr-defined]
            detail=f"mail {row.id}",
        )
    await row.refresh_from_db()
    return RetryMailSuccess(mail=outbox_entry(row))


# Notices ----------------------------------------------------------------------


async def publish_notice(
    info: Info,
    input: Annotated[
        PublishNoticeInput,
        strawberry.argument(description="The notice, its window and the reason."),
    ],
) -> NoticeActionResult:
    """Publish お知らせ (operator): the public `notices` shows it from
    `startsAt` until `endsAt`, in the reader's language."""
    auth = await _staff_and_reason(info, StaffRole.OPERATOR, input.reason)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    lang = info.context.lang
    for field, label, value, limit in (
        ("titleJa", FieldLabel.TITLE_JA, input.title_ja, TITLE_MAX),
        ("titleEn", FieldLabel.TITLE_EN, input.title_en, TITLE_MAX),
        ("bodyJa", FieldLabel.BODY_JA, input.body_ja, BODY_MAX),
        ("bodyEn", FieldLabel.BODY_EN, input.body_en, BODY_MAX),
    ):
        multiline = field.startswith("body")
        if problem := text_problem(
            lang, field, label, value, limit, multiline=multiline
        ):
            return problem
    starts_at = instant(lang, "startsAt", FieldLabel.NOTICE_START, input.starts_at)
    if isinstance(starts_at, InvalidFieldError):
        return starts_at
    ends_at = instant(lang, "endsAt", FieldLabel.NOTICE_END, input.ends_at)
    if isinstance(ends_at, InvalidFieldError):
        return ends_at
    if ends_at <= starts_at:
        return InvalidFieldError.build(
            lang,
            FieldLabel.NOTICE_END,
            field="endsAt",
            reason=InputProblem.OUT_OF_RANGE,
        )
    now = info.context.services.clock.now()
    async with in_transaction() as conn:
        notice = await Notice.create(
            title_ja=input.title_ja.strip(),
            title_en=input.title_en.strip(),
            body_ja=input.body_ja.strip(),
            body_en=input.body_en.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            published_at=now,
            published_by=auth.staff.id,
            using_db=conn,
        )
        await _record(
            info,
            auth,
            AuditType.NOTICE_PUBLISHED,
            input.reason,
            conn=conn,
            detail=f"notice {notice.id}",
        )
    return NoticeActionSuccess(notice=await managed_notice(notice, now))


async def withdraw_notice(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The notice's id.")],
    reason: _Reason,
) -> NoticeActionResult:
    """Withdraw a notice (operator): the public `notices` no longer shows it.
    Withdrawing it again changes nothing and succeeds (and is recorded)."""
    auth = await _staff_and_reason(info, StaffRole.OPERATOR, reason)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    lang = info.context.lang
    notice_id = row_id(str(id), INT_MAX)
    if notice_id is None:
        return NotFoundError.build(lang, FieldLabel.NOTICE_ID, field="id")
    now = info.context.services.clock.now()
    async with in_transaction() as conn:
        notice = (
            await Notice.select_for_update().using_db(conn).get_or_none(id=notice_id)
        )
        if notice is None:
            return NotFoundError.build(lang, FieldLabel.NOTICE_ID, field="id")
        detail = f"notice {notice.id}"
        if notice.withdrawn_at is None:
            notice.withdrawn_at = now
            notice.withdrawn_by = auth.staff.id
            await notice.save(
                using_db=conn, update_fields=["withdrawn_at", "withdrawn_by"]
            )
        else:
            detail += " (already withdrawn)"
        # Every staff action is an event, also one that found nothing to do.
        await _record(
            info, auth, AuditType.NOTICE_WITHDRAWN, reason, conn=conn, detail=detail
        )
    return NoticeActionSuccess(notice=await managed_notice(notice, now))


# Staff ------------------------------------------------------------------------


async def create_staff(
    info: Info,
    input: Annotated[
        CreateStaffInput,
        strawberry.argument(description="The new staff member and the reason."),
    ],
) -> CreateStaffResult:
    """Create a staff member (admin) and answer their TOTP provisioning URI,
    once. They log in with the password given here and the authenticator app."""
    auth = await _staff_and_reason(info, StaffRole.ADMIN, input.reason)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    lang = info.context.lang
    login_id = normalise_login_id(input.login_id[:64])
    if problem := text_problem(lang, "name", FieldLabel.NAME, input.name, 104):
        return problem
    if not input.login_id.strip():
        return RequiredFieldError.build(lang, field="loginId", fields=["loginId"])
    if not LOGIN_ID.fullmatch(login_id):
        return InvalidFieldError.build(
            lang, FieldLabel.LOGIN_ID, field="loginId", reason=InputProblem.MALFORMED
        )
    services = info.context.services
    broken = policy_violations(input.password, auth_id=login_id, policy=services.policy)
    if broken:
        return PasswordPolicyError.build(
            lang,
            FieldLabel.PASSWORD,
            field="password",
            violations=[
                PasswordViolation(
                    rule=v.rule,
                    message=v.message_ja if lang.value == "ja" else v.message_en,
                )
                for v in broken
            ],
        )
    try:
        async with in_transaction() as conn:
            staff = await new_staff(
                services,
                login_id=login_id,
                name=normalise_name(input.name) or input.name.strip(),
                role=input.role,
                password=input.password,
                using_db=conn,
            )
            await _record(
                info,
                auth,
                AuditType.STAFF_CREATED,
                input.reason,
                conn=conn,
                detail=f"{staff.login_id} as {staff.role.value}",
            )
    except IntegrityError:
        return LoginIdTakenError.build(lang, FieldLabel.LOGIN_ID, field="loginId")
    return CreateStaffSuccess(
        staff=member(staff), totp_provisioning_uri=staff.provisioning_uri()
    )


async def _staff_change(
    info: Info,
    login_id: str,
    reason: str,
    event: AuditType,
    *,
    role: StaffRole | None = None,
    disable: bool = False,
) -> StaffActionResult:
    auth = await _staff_and_reason(info, StaffRole.ADMIN, reason)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    lang = info.context.lang
    now = info.context.services.clock.now()
    async with in_transaction() as conn:
        staff = (
            await Staff.select_for_update().using_db(conn).get_or_none(login_id=wanted)
            if (wanted := lookup_text(normalise_login_id(login_id[:64]), ID_MAX))
            else None
        )
        if staff is None:
            return NotFoundError.build(lang, FieldLabel.LOGIN_ID, field="loginId")
        if role is not None:
            staff.role = role
            await staff.save(using_db=conn, update_fields=["role"])
        if disable and staff.disabled_at is None:
            staff.disabled_at = now
            await staff.save(using_db=conn, update_fields=["disabled_at"])
            await (
                StaffSession.filter(staff_id=staff.id, revoked_at=None)
                .using_db(conn)
                .update(revoked_at=now)
            )
        await _record(
            info,
            auth,
            event,
            reason,
            conn=conn,
            detail=staff.login_id
            if role is None
            else f"{staff.login_id} as {role.value}",
        )
    return StaffActionSuccess(staff=member(staff))


async def disable_staff(
    info: Info, login_id: _LoginId, reason: _Reason
) -> StaffActionResult:
    """Disable a staff member (admin): their sessions end and they cannot log
    in (WZBAM155E after correct credentials)."""
    return await _staff_change(
        info, login_id, reason, AuditType.STAFF_DISABLED, disable=True
    )


async def set_staff_role(
    info: Info,
    login_id: _LoginId,
    role: Annotated[StaffRole, strawberry.argument(description="The new role.")],
    reason: _Reason,
) -> StaffActionResult:
    """Change a staff member's role (admin); it applies to their next request."""
    return await _staff_change(
        info, login_id, reason, AuditType.STAFF_ROLE_SET, role=role
    )
