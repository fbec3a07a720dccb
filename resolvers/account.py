"""me and updateUserInfo: the user-info screens (manual 2.4.1-2.4.4)."""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mailer.outbox import enqueue
from mailer.render import (
    EmailChanged,
    EmailChangedNotice,
    PasswordResetLink,
    mask_email,
)
from models import (
    AuditEvent,
    AuditType,
    Lang,
    LinkPurpose,
    LinkToken,
    Municipality,
    RequestThrottle,
    RevokeReason,
    User,
    UserSession,
)
from resolvers.context import Info
from resolvers.inputs import INPUT_PROBLEMS, MAX_INPUT, gaiji_in, required
from resolvers.limits import link_refused, link_use_allowance, too_many
from resolvers.links import (
    LinkLost,
    find_link,
    issue_link,
)
from resolvers.lookup import check_municipality_code
from resolvers.session import (
    Authenticated,
    authenticate,
    recently_authenticated,
    revoked_error,
)
from schema.account import (
    MeResult,
    RevertEmailChangeInput,
    RevertEmailChangeResult,
    RevertEmailChangeSuccess,
    UpdateUserInfoInput,
    UpdateUserInfoResult,
    UpdateUserInfoSuccess,
)
from schema.errors import (
    AddressIncompleteError,
    EmailMismatchError,
    InputProblem,
    InvalidFieldError,
    LinkInvalidError,
    MunicipalityCodeRequiredError,
    NothingToChangeError,
    ReauthenticationRequiredError,
    StreetRequiredError,
)
from schema.messages import FieldLabel
from schema.types import User as UserType
from security.text import (
    TextProblem,
    normalise_email,
    normalise_phone,
    normalise_street,
)

logger = logging.getLogger("ras_identity.account")

_CODE_FIELD = "newAddress.municipalityCode"
_STREET_FIELD = "newAddress.street"


async def me(info: Info) -> MeResult:
    """The logged-in user's information.

    - User; or an AuthError (not logged in, timed out, displaced → WZBAM099E,
      change ticket → WZBAM158E, account status).
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    return UserType.from_model(auth.user)


def _given(value: str | None) -> str | None:
    """An item counts as entered when it holds more than spaces (portal forms
    send empty strings for untouched fields)."""
    return value if value is not None and value.strip() else None


def _invalid(
    lang: Lang, field: str, label: FieldLabel, problem: TextProblem
) -> InvalidFieldError:
    return InvalidFieldError.build(
        lang, label, field=field, reason=INPUT_PROBLEMS[problem]
    )


@dataclass(frozen=True, slots=True)
class UserInfoChange:
    """What an updateUserInfo form asks to store, every entered item checked."""

    municipality: Municipality | None = None
    street: str | None = None
    phone: str | None = None
    email: str | None = None


class _Refused(Exception):
    """Ends updateUserInfo's transaction (rolled back) with this answer."""

    def __init__(self, answer: UpdateUserInfoResult) -> None:
        super().__init__()
        self.answer = answer


class _TooOften(Exception):
    """Ends updateUserInfo's transaction (rolled back): the email change limit
    answered, to be recorded outside the transaction that is rolled back."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__()
        self.wait = wait


async def update_user_info(
    info: Info,
    input: Annotated[
        UpdateUserInfoInput, strawberry.argument(description="The items to change.")
    ],
) -> UpdateUserInfoResult:
    """Change the address, the phone number and/or the email address.

    Outcomes, in order (nothing is changed unless every entered item is right):
    - an AuthError: no usable session (also when it ended while this request
      ran: a revert, a password change or a newer login wins).
    - NothingToChangeError (245E): no item entered.
    - AddressIncompleteError (244E): one address part only; `field` and its
      `fieldErrors` (103E MunicipalityCodeRequiredError or 104E
      StreetRequiredError) name the missing part.
    - GaijiError (011E): 外字 in an entered item.
    - InvalidFieldError (005E): street too long; municipality code malformed,
      wrong check digit or unknown; phone not half-width digits or over 12;
      email over 60 or not an address.
    - EmailMismatchError (159E): newEmailConfirm differs (or is empty). A
      confirmation without a new email is 005E EMPTY on newEmail.
    - ReauthenticationRequiredError (RASX006E): the email address would change
      but the session's password was last checked more than
      RAS_STEP_UP_SECONDS ago (a stolen token alone cannot redirect the
      account's mail); `reauthenticate` first. Logging in and changing at once
      needs no extra step.
    - TooManyRequestsError (RASX004E): the email was changed too often in the
      window (each change mails two addresses).
    - UpdateUserInfoSuccess: stored in one transaction that locks the user row
      and checks the session is still active, comparing with the address as
      stored then (a revert that committed meanwhile is never overwritten).
      When the mailbox changed, a completion notice to the new address and a
      security notice to the old one (with a link that undoes the change) are
      written and every mailed password link is voided (mailSent). The new
      address is stored without the registration key (nothing proved it is
      the user's; another account may have it), with the same answer either
      way. Address or phone alone send no mail (manual 2.4.1), nor does an
      address that differs from the stored one only in letter case (the same
      mailbox; the spelling is kept); the stored address itself is no change.
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    change = await _checked_change(info, input)
    if not isinstance(change, UserInfoChange):
        return change
    if change.email not in (None, auth.user.email) and not recently_authenticated(
        auth, info
    ):
        return ReauthenticationRequiredError.build(info.context.lang)
    try:
        async with in_transaction() as conn:
            user, stored, mailed = await _store(info, auth, change, conn)
    except _Refused as refused:
        return refused.answer
    except _TooOften as limited:
        return await too_many(info, limited.wait, "email-changes", user_id=auth.user.id)
    logger.info(
        "user info changed: user_id=%s items=%s mail=%s",
        user.id,
        ",".join(stored),
        mailed,
    )
    return UpdateUserInfoSuccess(user=UserType.from_model(user), mail_sent=mailed)


async def _checked_change(
    info: Info, input: UpdateUserInfoInput
) -> UserInfoChange | UpdateUserInfoResult:
    """The form's entered items, checked in the order of update_user_info's
    outcomes; the first problem otherwise."""
    lang = info.context.lang
    address = input.new_address
    code = _given(address.municipality_code) if address else None
    street = _given(address.street) if address else None
    phone = _given(input.new_phone)
    email = _given(input.new_email)
    email_confirm = _given(input.new_email_confirm)
    if not any((code, street, phone, email, email_confirm)):
        return NothingToChangeError.build(lang)
    if (code is None) != (street is None):
        part = (
            MunicipalityCodeRequiredError.build(
                lang, FieldLabel.NEW_ADDRESS, field=_CODE_FIELD
            )
            if code is None
            else StreetRequiredError.build(
                lang, FieldLabel.NEW_ADDRESS, field=_STREET_FIELD
            )
        )
        return AddressIncompleteError.build(lang, field=part.field, field_errors=[part])
    if bad_characters := gaiji_in(
        lang,
        [
            (_CODE_FIELD, FieldLabel.NEW_MUNICIPALITY, code),
            (_STREET_FIELD, FieldLabel.NEW_STREET, street),
            ("newPhone", FieldLabel.NEW_PHONE, phone),
            ("newEmail", FieldLabel.NEW_EMAIL, email),
            ("newEmailConfirm", FieldLabel.NEW_EMAIL_CONFIRM, email_confirm),
        ],
    ):
        return bad_characters

    change = UserInfoChange()
    if code is not None and street is not None:
        stored_street = normalise_street(street[:MAX_INPUT])
        if isinstance(stored_street, TextProblem):
            return _invalid(lang, _STREET_FIELD, FieldLabel.NEW_STREET, stored_street)
        found = await check_municipality_code(
            code, lang=lang, field=_CODE_FIELD, label=FieldLabel.NEW_ADDRESS
        )
        if not isinstance(found, Municipality):
            return found
        change = replace(change, municipality=found, street=stored_street)
    if phone is not None:
        stored_phone = normalise_phone(phone[:MAX_INPUT])
        if isinstance(stored_phone, TextProblem):
            return _invalid(lang, "newPhone", FieldLabel.NEW_PHONE, stored_phone)
        change = replace(change, phone=stored_phone)
    if email is not None or email_confirm is not None:
        if email is None:
            return InvalidFieldError.build(
                lang, FieldLabel.NEW_EMAIL, field="newEmail", reason=InputProblem.EMPTY
            )
        checked = normalise_email(email[:MAX_INPUT])
        if isinstance(checked, TextProblem):
            return _invalid(lang, "newEmail", FieldLabel.NEW_EMAIL, checked)
        if (email_confirm or "").strip() != checked:
            return EmailMismatchError.build(lang, field="newEmailConfirm")
        change = replace(change, email=checked)
    return change


async def _store(
    info: Info, auth: Authenticated, change: UserInfoChange, conn: BaseDBAsyncClient
) -> tuple[User, list[str], bool]:
    """updateUserInfo's transaction: the user as stored now, the columns
    written, and whether the mailbox changed (two notices written); raises
    _Refused to roll back."""
    services = info.context.services
    now = services.clock.now()
    # The row lock orders this change with a revert (which takes it too and
    # ends every session): whichever commits second sees the other's result.
    user = await User.select_for_update().using_db(conn).get(id=auth.user.id)
    if not await UserSession.is_active(auth.session.id, using_db=conn):
        raise _Refused(await revoked_error(auth.session, info))
    old_email = user.email
    email = change.email if change.email != old_email else None
    if email is not None and not recently_authenticated(auth, info):
        # The stored address changed since the step-up was decided.
        raise _Refused(ReauthenticationRequiredError.build(info.context.lang))
    mailbox_changes = email is not None and User.email_key_of(
        email
    ) != User.email_key_of(old_email)
    if mailbox_changes:
        policy = services.policy
        wait = await RequestThrottle.take(
            f"email-change:{user.id}",
            now=now,
            window=policy.request_window,
            limit=policy.email_change_limit,
        )
        if wait is not None:
            logger.warning("email change refused, too many: user_id=%s", user.id)
            raise _TooOften(wait)
    updated = []
    if change.municipality is not None:
        user.municipality_code = change.municipality.code
        user.prefecture_name = change.municipality.prefecture.name
        user.municipality_name = change.municipality.name
        user.street = change.street
        updated += ["municipality_code", "prefecture_name", "municipality_name"]
        updated += ["street"]
    if change.phone is not None:
        user.phone = change.phone
        updated.append("phone")
    if email is not None:
        # The registration key stays only with the address the account was
        # registered with (a change of letter case keeps it). A new address is
        # stored without one: nothing proved the user owns it, so it must
        # neither keep its owner from registering nor tell, by a refusal,
        # that another account has it.
        if User.email_key_of(email) != user.email_key:
            user.email_key = None
        user.email = email
        updated += ["email", "email_key"]
    if updated:
        await user.save(using_db=conn, update_fields=updated)
    for written, event in (
        (change.municipality is not None, AuditType.ADDRESS_CHANGED),
        (change.phone is not None, AuditType.PHONE_CHANGED),
        (email is not None, AuditType.EMAIL_CHANGED),
    ):
        if written:
            await AuditEvent.record(
                event,
                at=now,
                origin=info.context.origin,
                user_id=user.id,
                detail="new mailbox"
                if event is AuditType.EMAIL_CHANGED and mailbox_changes
                else None,
                using_db=conn,
            )
    if mailbox_changes and email is not None:
        await _mail_email_change(info, user, old_email, now=now, using_db=conn)
    return user, updated, mailbox_changes


async def _mail_email_change(
    info: Info,
    user: User,
    old_email: str,
    *,
    now: datetime,
    using_db: BaseDBAsyncClient,
) -> None:
    """Void the mailed password links (they went to the old address, whose
    owner may be who the user is moving away from) and write the two notices,
    the one to the old address with a link that undoes the change."""
    services = info.context.services
    origin = info.context.origin
    await LinkToken.void(user.id, now=now, origin=origin, using_db=using_db)
    token, expires_at = await issue_link(
        user,
        LinkPurpose.EMAIL_REVERT,
        now=now,
        lifetime=services.policy.email_revert_lifetime,
        origin=origin,
        using_db=using_db,
        restore_email=old_email,
    )
    await enqueue(
        services.composer,
        EmailChanged(to=user.email, name=user.name, changed_at=now),
        now=now,
        using_db=using_db,
        user_id=user.id,
    )
    await enqueue(
        services.composer,
        EmailChangedNotice(
            to=old_email,
            name=user.name,
            changed_at=now,
            new_email_masked=mask_email(user.email),
            token=token,
            link_expires_at=expires_at,
        ),
        now=now,
        using_db=using_db,
        user_id=user.id,
    )


async def revert_email_change(
    info: Info,
    input: Annotated[
        RevertEmailChangeInput,
        strawberry.argument(description="The token of the notice's link."),
    ],
) -> RevertEmailChangeResult:
    """Undo an email change through the link in the notice to the old address.

    For when the change was not the user's: someone with a session changed the
    address, and could then reset the password through it.

    - RequiredFieldError (001E): no token.
    - LinkInvalidError (RASX003E): unknown, used, voided or expired (7 days by
      default), or the account may no longer be used; after
      RAS_CLIENT_LINK_LIMIT of these from one client address in its window,
      TooManyRequestsError (RASX004E) instead. A working link is never refused
      for what others on the same address sent.
    - RevertEmailChangeSuccess: in one transaction the link is used up, the
      address it was mailed to is the account's again (with its registration
      key, if no other account has taken it: using the link proves the
      mailbox), the password is removed (whoever changed the address may have
      set it), every session ends, every password link is voided, and a reset
      link is mailed to the restored address.

    Rank: every email change mails such a link to the address it replaces, so
    of two links the earlier one was sent to the earlier address. Using a link
    voids the links issued after it, never those before it: the owner's link
    (sent to the address from before an intruder's first change) stays usable
    for its whole lifetime whatever the intruder does with the later ones, and
    no later link can undo what the owner's restored. Email changes, password
    changes and resets void none of them.
    """
    lang = info.context.lang
    services = info.context.services
    if missing := required(lang, [("token", input.token)]):
        return missing
    now = services.clock.now()
    link = await find_link(input.token.strip(), LinkPurpose.EMAIL_REVERT, now=now)
    if link is None or link.restore_email is None:
        return await link_refused(info)
    if refused := await link_use_allowance(info, link):
        return refused
    user, email = link.user, link.restore_email
    key = User.email_key_of(email)
    taken = await User.filter(email_key=key).exclude(id=user.id).exists()
    try:
        try:
            expires_at = await _revert(info, link, email, None if taken else key)
        except IntegrityError:
            # A registration took the address's key meanwhile: restore without.
            expires_at = await _revert(info, link, email, None)
    except LinkLost:
        return LinkInvalidError.build(lang, field="token")
    logger.warning("email change undone by the old address: user_id=%s", user.id)
    return RevertEmailChangeSuccess(
        auth_id=user.auth_id, email=email, link_expires_at=expires_at
    )


async def _revert(info: Info, link: LinkToken, email: str, key: str | None) -> datetime:
    """revertEmailChange's transaction; returns the reset link's expiry."""
    services = info.context.services
    user = link.user
    now = services.clock.now()
    origin = info.context.origin
    async with in_transaction() as conn:
        if not await link.use(now=now, origin=origin, using_db=conn):
            raise LinkLost
        locked = await User.select_for_update().using_db(conn).get(id=user.id)
        # Whoever changed the address may have set the password.
        await locked.forget_password(
            now=now, keep=services.policy.password_history, using_db=conn
        )
        await User.filter(id=user.id).using_db(conn).update(email=email, email_key=key)
        await AuditEvent.record(
            AuditType.EMAIL_CHANGE_REVERTED,
            at=now,
            origin=origin,
            user_id=user.id,
            using_db=conn,
        )
        await UserSession.end_all(
            user.id, RevokeReason.EMAIL_REVERTED, now=now, origin=origin, using_db=conn
        )
        # Password links went to addresses the intruder may read. Of the links
        # that undo email changes only the later ones go: each was mailed to an
        # address set after this one, so it cannot outrank it, while the earlier
        # ones (the owner's, sent to the address from before the first change)
        # must keep working whatever was done with a later one.
        await LinkToken.void(user.id, now=now, origin=origin, using_db=conn)
        await LinkToken.void(
            user.id,
            now=now,
            origin=origin,
            using_db=conn,
            purposes=(LinkPurpose.EMAIL_REVERT,),
            issued_after=link,
        )
        token, expires_at = await issue_link(
            user,
            LinkPurpose.PASSWORD_RESET,
            now=now,
            lifetime=services.policy.reset_link_lifetime,
            origin=origin,
            using_db=conn,
        )
        await enqueue(
            services.composer,
            PasswordResetLink(
                to=email, name=user.name, token=token, link_expires_at=expires_at
            ),
            now=now,
            using_db=conn,
            user_id=user.id,
        )
    return expires_at
