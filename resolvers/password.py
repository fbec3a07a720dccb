"""changePassword (manual 2.4.5-2.4.7), requestPasswordReset and resetPassword
(2.5), and the passwordPolicy the portals show."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import strawberry
from tortoise.transactions import in_transaction

from mailer.outbox import enqueue
from mailer.render import Mail, PasswordChanged, PasswordResetLink
from models import (
    AccountStatus,
    AuditType,
    Lang,
    LinkPurpose,
    LinkToken,
    LoginThrottle,
    RequestThrottle,
    RevokeReason,
    SessionKind,
    User,
    UserSession,
)
from resolvers.auth import (
    MAX_AUTH_ID_INPUT,
    check_own_password,
    loggable,
    shown_auth_id,
)
from resolvers.context import Info
from resolvers.inputs import MAX_INPUT, required
from resolvers.limits import (
    ClientLimit,
    client_allowance,
    link_refused,
    link_use_allowance,
    too_many,
)
from resolvers.links import (
    LinkLost,
    find_link,
    issue_link,
)
from resolvers.session import Authenticated, authenticate
from schema.errors import (
    AuthIdEmailMismatchError,
    CurrentPasswordWrongError,
    LinkInvalidError,
    PasswordConfirmMismatchError,
    PasswordPolicyError,
    PasswordReentryMismatchError,
    PasswordViolation,
    RequiredFieldError,
    TooManyRequestsError,
)
from schema.messages import FieldLabel
from schema.password import (
    ChangePasswordInput,
    ChangePasswordResult,
    ChangePasswordSuccess,
    PasswordPolicy,
    PasswordRuleText,
    RequestPasswordResetInput,
    RequestPasswordResetResult,
    RequestPasswordResetSuccess,
    ResetPasswordInput,
    ResetPasswordResult,
    ResetPasswordSuccess,
)
from schema.types import User as UserType
from security.passwords import (
    SYMBOLS,
    PasswordRule,
    PolicyViolation,
    policy_violations,
    reused,
    rule_texts,
)
from security.text import normalise_auth_id
from security.timing import no_sooner_than
from security.tokens import could_be_auth_id, new_token, token_hash

logger = logging.getLogger("ras_identity.password")

_LABELS = {
    "password": FieldLabel.PASSWORD,
    "newPassword": FieldLabel.NEW_PASSWORD,
}


def _policy_error(
    lang: Lang, field: str, broken: list[PolicyViolation]
) -> PasswordPolicyError:
    return PasswordPolicyError.build(
        lang,
        _LABELS[field],
        field=field,
        violations=[
            PasswordViolation(
                rule=v.rule,
                message=v.message_ja if lang is Lang.JA else v.message_en,
            )
            for v in broken
        ],
    )


def policy_error(
    info: Info, password: str, user: User, *, field: str
) -> PasswordPolicyError | None:
    """WZBAM005E naming every rule ``password`` breaks (all but reuse), or None."""
    broken = policy_violations(
        password, auth_id=user.auth_id, policy=info.context.services.policy
    )
    return _policy_error(info.context.lang, field, broken) if broken else None


async def reuse_error(
    info: Info, password: str, user: User, *, field: str
) -> PasswordPolicyError | None:
    """WZBAM005E (recently used) when ``password`` is the current one or one of
    those before it, as the policy counts them."""
    services = info.context.services
    hashes = await user.recent_password_hashes(keep=services.policy.password_history)
    if not await reused(services.hasher, password, hashes):
        return None
    texts = {t.rule: t for t in rule_texts(services.policy)}
    return _policy_error(info.context.lang, field, [texts[PasswordRule.RECENTLY_USED]])


async def change_password(
    info: Info,
    input: Annotated[
        ChangePasswordInput,
        strawberry.argument(description="Current password and new one twice."),
    ],
) -> ChangePasswordResult:
    """Change the password of the logged-in user (or of a WZBAM158E ticket).

    Outcomes, in order:
    - an AuthError: no usable session or change ticket.
    - RequiredFieldError (001E); PasswordConfirmMismatchError (162E);
      PasswordPolicyError (005E) for the rules that need no stored hash. These
      cost no attempt: the current password has not been looked at yet.
    - AccountLockedError (153E): the auth ID is locked (the password is not
      checked), or this wrong current password reached the threshold; either
      way every session of the user ends, so a stolen session cannot go on
      guessing.
    - TooManyRequestsError (RASX004E): checks for this ID elsewhere held every
      slot.
    - CurrentPasswordWrongError (154E): counts toward the lockout like a failed
      login (the same counter).
    - PasswordPolicyError (005E, recently used): the current password or one of
      the ones before it.
    - ChangePasswordSuccess: new hash and expiry, the old hash kept for the
      reuse rule, every other session (and a used ticket) ended, this session
      given a new token (the old one answers RASX002E: a copied token dies
      with the old password), links voided, completion mail written, in one
      transaction.
    """
    auth = await authenticate(info, allow_ticket=True)
    if not isinstance(auth, Authenticated):
        return auth
    lang = info.context.lang
    services = info.context.services
    if missing := required(
        lang,
        [
            ("currentPassword", input.current_password),
            ("newPassword", input.new_password),
            ("newPasswordConfirm", input.new_password_confirm),
        ],
    ):
        return missing
    if input.new_password != input.new_password_confirm:
        return PasswordConfirmMismatchError.build(lang, field="newPasswordConfirm")
    user = auth.user
    if weak := policy_error(info, input.new_password, user, field="newPassword"):
        return weak

    fresh = await check_own_password(
        info,
        user,
        input.current_password[:MAX_INPUT],
        field="currentPassword",
        label=FieldLabel.CURRENT_PASSWORD,
        purpose="change_password",
    )
    if not isinstance(fresh, User):
        return fresh
    if recent := await reuse_error(
        info, input.new_password, fresh, field="newPassword"
    ):
        return recent

    new_hash = await services.hasher.hash(input.new_password)
    now = services.clock.now()
    ticket = auth.session.kind is SessionKind.CHANGE_TICKET
    origin = info.context.origin
    async with in_transaction() as conn:
        stored = await fresh.store_password(
            new_hash,
            expected_hash=fresh.password_hash,
            now=now,
            max_age=services.policy.password_max_age,
            keep=services.policy.password_history,
            event=AuditType.PASSWORD_CHANGED,
            origin=origin,
            using_db=conn,
        )
        if not stored:
            # Changed by another request since the check: the current password
            # given here is no longer current.
            return CurrentPasswordWrongError.build(
                lang, FieldLabel.CURRENT_PASSWORD, field="currentPassword"
            )
        await UserSession.end_all(
            user.id,
            RevokeReason.PASSWORD_CHANGED,
            now=now,
            origin=origin,
            using_db=conn,
            keep=None if ticket else auth.session.id,
        )
        # The session goes on under a new token: whoever copied the old one
        # loses it with the old password.
        token: str | None = None
        if not ticket:
            token = new_token()
            if not await UserSession.renew_token(
                auth.session.id, token_hash(token), now=now, using_db=conn
            ):
                token = None  # a newer login displaced the session meanwhile
        await LinkToken.void(user.id, now=now, origin=origin, using_db=conn)
        await enqueue(
            services.composer,
            PasswordChanged(to=fresh.email, name=fresh.name, changed_at=now),
            now=now,
            using_db=conn,
            user_id=user.id,
        )
    logger.info("password changed: user_id=%s", user.id)
    # In cookie mode the new token replaces the cookie; a used-up change
    # ticket's cookie is cleared.
    info.context.cookie_ended = info.context.cookie_mode and token is None
    return ChangePasswordSuccess(
        password_expires_at=now + services.policy.password_max_age,
        user=UserType.from_model(fresh),
        session_ended=token is None,
        token=None if token is None else info.context.hand_over(token),
    )


async def request_password_reset(
    info: Info,
    input: Annotated[
        RequestPasswordResetInput,
        strawberry.argument(description="Auth ID and registered address."),
    ],
) -> RequestPasswordResetResult:
    """Mail a password-reset link (manual 2.5).

    Outcomes, in order:
    - RequiredFieldError (001E).
    - TooManyRequestsError (RASX004E): this client address made
      RAS_CLIENT_RESET_REQUEST_LIMIT requests in its window.
    - AuthIdEmailMismatchError (168E): the pair is not an active account's (the
      manual's answer; suspended, deleted and invalid accounts get it too).
    - TooManyRequestsError (RASX004E) when the auth ID had too many wrong pairs
      in the window (counted whether or not the ID exists; bounds guessing the
      address of a known ID), for a right pair too, so the answer stops telling
      right from wrong. A right pair still gets its mail then: someone who
      knows only the ID cannot keep its owner from resetting (which is how a
      lock lifts at once). Also when the account was mailed too many links in
      the window (a mailbox is not flooded).
    - RequestPasswordResetSuccess: a 1-hour single-use link; older reset links
      voided; the mail written in the same transaction. The answer never waits
      for SMTP: the worker delivers from the outbox.
    Past the input checks the answer comes no sooner than RAS_ANSWER_FLOOR_MS,
    so its time does not tell a right pair from a wrong one either.
    """
    lang = info.context.lang
    if missing := required(lang, [("authId", input.auth_id), ("email", input.email)]):
        return missing
    if len(input.auth_id) > MAX_AUTH_ID_INPUT or len(input.email) > MAX_INPUT:
        return AuthIdEmailMismatchError.build(lang)
    auth_id = normalise_auth_id(input.auth_id)
    if not could_be_auth_id(auth_id):
        return AuthIdEmailMismatchError.build(lang)
    if refused := await client_allowance(info, ClientLimit.RESET_REQUEST):
        return refused
    services = info.context.services
    async with no_sooner_than(services.policy.answer_floor):
        return await _request_reset(info, auth_id, input.email)


class _PairChanged(Exception):
    """The account's address or status changed between the check and the lock
    (the transaction is rolled back)."""


def _pair_matches(user: User, email: str, now: datetime) -> bool:
    """Whether ``email`` is the active account's address (as stored, not its
    key: an address shared with an account that registered it first has no
    key on this one)."""
    return (
        User.email_key_of(user.email) == User.email_key_of(email)
        and user.status is AccountStatus.ACTIVE
        and not user.usage_expired(now)
    )


async def _request_reset(
    info: Info, auth_id: str, email: str
) -> RequestPasswordResetResult:
    lang = info.context.lang
    services = info.context.services
    policy = services.policy
    now = services.clock.now()
    window = policy.request_window
    limit = policy.reset_request_limit
    misses = "reset-miss:" + auth_id
    user = await User.get_or_none(auth_id=auth_id)
    if user is None or not _pair_matches(user, email, now):
        wait = await RequestThrottle.take(misses, now=now, window=window, limit=limit)
        if wait is None:
            logger.info("reset refused, no match: auth_id=%s", loggable(auth_id))
            return AuthIdEmailMismatchError.build(lang)
        logger.warning("reset refused, guessing: auth_id=%s", loggable(auth_id))
        return await too_many(
            info, wait, "reset-guesses-per-id", auth_id=shown_auth_id(auth_id)
        )

    guessing = await RequestThrottle.exhausted(
        misses, now=now, window=window, limit=limit
    )
    unmailed = await RequestThrottle.take(
        f"reset-mail:{user.id}", now=now, window=window, limit=limit
    )
    if unmailed is None:
        try:
            async with in_transaction() as conn:
                # Again under the row lock: an email change or its undo that
                # committed since the check above decides where links go.
                user = await User.select_for_update().using_db(conn).get(id=user.id)
                if not _pair_matches(user, email, now):
                    raise _PairChanged
                token, expires_at = await issue_link(
                    user,
                    LinkPurpose.PASSWORD_RESET,
                    now=now,
                    lifetime=policy.reset_link_lifetime,
                    origin=info.context.origin,
                    using_db=conn,
                )
                mail = PasswordResetLink(
                    to=user.email,
                    name=user.name,
                    token=token,
                    link_expires_at=expires_at,
                )
                await enqueue(
                    services.composer, mail, now=now, using_db=conn, user_id=user.id
                )
        except _PairChanged:
            logger.info("reset refused, changed meanwhile: user_id=%s", user.id)
            return AuthIdEmailMismatchError.build(lang)
        logger.info("reset link mailed: user_id=%s", user.id)
    if waits := [wait for wait in (guessing, unmailed) if wait is not None]:
        logger.warning(
            "reset answered as too many: user_id=%s mailed=%s",
            user.id,
            unmailed is None,
        )
        return await too_many(
            info,
            max(waits),
            "reset-guesses-per-id" if guessing else "reset-mails-per-account",
            user_id=user.id,
        )
    return RequestPasswordResetSuccess(link_expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class LinkPasswordForm:
    """A form that sets a password through a mailed link (registerPassword,
    resetPassword): what was entered, and the GraphQL names of its fields."""

    token: str
    password: str
    confirm: str
    field: str
    confirm_field: str


LinkPasswordRefusal = (
    RequiredFieldError
    | LinkInvalidError
    | TooManyRequestsError
    | PasswordReentryMismatchError
    | PasswordPolicyError
)


async def set_password_through_link(
    info: Info,
    form: LinkPasswordForm,
    purpose: LinkPurpose,
    *,
    mail: Callable[[User, datetime], Mail],
    event: AuditType,
    end_sessions: RevokeReason | None,
) -> tuple[User, datetime] | LinkPasswordRefusal:
    """The step registerPassword and resetPassword share: the user and the new
    password's expiry, or the first refusal, in this order:

    - RequiredFieldError (001E): every empty item listed.
    - LinkInvalidError (RASX003E): unknown, used, voided (a newer link, a
      password set or changed, an email change) or expired, or the account is
      no longer active; a first-password link also once the account has a
      password. Counted against the client address, which after
      RAS_CLIENT_LINK_LIMIT of them in its window gets TooManyRequestsError
      (RASX004E) instead.
    - TooManyRequestsError (RASX004E): this working link was used
      RAS_LINK_ATTEMPT_LIMIT times in the window.
    - PasswordReentryMismatchError (160E): the re-entry differs.
    - PasswordPolicyError (005E): every broken rule, then reuse of the current
      or a recent password.

    Then one transaction: the link is used up (of two requests with one link
    exactly one gets further; the other is answered RASX003E), the password
    replaced over the one the link was found with, and with ``end_sessions``
    (a reset) the 認証ID's lockout cleared (a WZBAM153E lock lifts) and every
    session ended; other links voided and ``mail`` written.
    """
    lang = info.context.lang
    services = info.context.services
    policy = services.policy
    if missing := required(
        lang,
        [
            ("token", form.token),
            (form.field, form.password),
            (form.confirm_field, form.confirm),
        ],
    ):
        return missing
    link = await find_link(form.token.strip(), purpose, now=services.clock.now())
    first = purpose is LinkPurpose.PASSWORD_SETUP
    if link is None or (first and link.user.password_hash is not None):
        return await link_refused(info)
    if refused := await link_use_allowance(info, link):
        return refused
    user = link.user
    if form.password != form.confirm:
        return PasswordReentryMismatchError.build(lang, field=form.confirm_field)
    if weak := policy_error(info, form.password, user, field=form.field):
        return weak
    if recent := await reuse_error(info, form.password, user, field=form.field):
        return recent

    new_hash = await services.hasher.hash(form.password)
    now = services.clock.now()
    origin = info.context.origin
    try:
        async with in_transaction() as conn:
            if not await link.use(now=now, origin=origin, using_db=conn):
                raise LinkLost
            stored = await user.store_password(
                new_hash,
                expected_hash=user.password_hash,
                now=now,
                max_age=policy.password_max_age,
                keep=policy.password_history,
                event=event,
                origin=origin,
                using_db=conn,
            )
            if not stored:  # changed another way since the link was looked up
                raise LinkLost
            if end_sessions is not None:
                if user.two_step:
                    await LoginThrottle.clear_for_reset(
                        user.auth_id, now=now, using_db=conn
                    )
                else:
                    await LoginThrottle.clear(user.auth_id, now=now, using_db=conn)
                await UserSession.end_all(
                    user.id, end_sessions, now=now, origin=origin, using_db=conn
                )
            await LinkToken.void(user.id, now=now, origin=origin, using_db=conn)
            await enqueue(
                services.composer,
                mail(user, now),
                now=now,
                using_db=conn,
                user_id=user.id,
            )
    except LinkLost:
        return LinkInvalidError.build(lang, field="token")
    return user, now + policy.password_max_age


async def reset_password(
    info: Info,
    input: Annotated[
        ResetPasswordInput,
        strawberry.argument(description="Token and the new password twice."),
    ],
) -> ResetPasswordResult:
    """Set a new password through the reset mail's link.

    Outcomes: those of set_password_through_link, then ResetPasswordSuccess:
    the password replaced, the lockout counter of the 認証ID cleared (a
    WZBAM153E lock lifts), every session ended, other links voided and a
    completion mail written, in one transaction.
    """
    form = LinkPasswordForm(
        token=input.token,
        password=input.new_password,
        confirm=input.new_password_confirm,
        field="newPassword",
        confirm_field="newPasswordConfirm",
    )
    done = await set_password_through_link(
        info,
        form,
        LinkPurpose.PASSWORD_RESET,
        mail=lambda user, now: PasswordChanged(
            to=user.email, name=user.name, changed_at=now
        ),
        event=AuditType.PASSWORD_RESET,
        end_sessions=RevokeReason.PASSWORD_RESET,
    )
    if not isinstance(done, tuple):
        return done
    user, expires_at = done
    logger.info("password reset: user_id=%s", user.id)
    return ResetPasswordSuccess(auth_id=user.auth_id, password_expires_at=expires_at)


def password_policy(info: Info) -> PasswordPolicy:
    """The rules in force, in both languages."""
    policy = info.context.services.policy
    return PasswordPolicy(
        min_length=policy.password_min_length,
        max_length=policy.password_max_length,
        symbols=SYMBOLS,
        history=policy.password_history,
        valid_days=int(policy.password_max_age.total_seconds() // 86400),
        rules=[
            PasswordRuleText(rule=t.rule, ja=t.message_ja, en=t.message_en)
            for t in rule_texts(policy)
        ],
    )
