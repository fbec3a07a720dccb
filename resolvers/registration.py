"""registerUser and registerPassword (manual 2.1.2, 利用者登録)."""

import hashlib
import logging
from datetime import datetime
from typing import Annotated

import strawberry
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mailer.outbox import enqueue
from mailer.render import (
    JST,
    PasswordRegistered,
    RegistrationExisting,
    RegistrationNotice,
)
from models import (
    AccountStatus,
    AuditEvent,
    AuditType,
    Lang,
    LinkPurpose,
    RequestThrottle,
    User,
)
from resolvers.context import Info
from resolvers.inputs import INPUT_PROBLEMS, MAX_INPUT, gaiji_in, required
from resolvers.limits import (
    ClientLimit,
    client_allowance,
    too_many,
)
from resolvers.links import (
    issue_link,
)
from resolvers.password import LinkPasswordForm, set_password_through_link
from schema.errors import (
    EmailMismatchError,
    MalformedFieldError,
    NoSuchDateError,
    TermsNotAgreedError,
)
from schema.messages import FieldLabel
from schema.registration import (
    RegisterPasswordInput,
    RegisterPasswordResult,
    RegisterPasswordSuccess,
    RegisterUserInput,
    RegisterUserResult,
    RegisterUserSuccess,
)
from security.text import (
    TextProblem,
    normalise_email,
    normalise_name,
    normalise_nationality,
    normalise_phone,
    parse_date_of_birth,
)
from security.timing import no_sooner_than
from security.tokens import new_auth_id

logger = logging.getLogger("ras_identity.registration")

_AUTH_ID_ATTEMPTS = 8


def _malformed(
    lang: Lang, field: str, label: FieldLabel, problem: TextProblem
) -> MalformedFieldError:
    return MalformedFieldError.build(
        lang, label, field=field, reason=INPUT_PROBLEMS[problem]
    )


async def register_user(
    info: Info,
    input: Annotated[
        RegisterUserInput, strawberry.argument(description="The registration form.")
    ],
) -> RegisterUserResult:
    """Register a new applicant and mail the 認証ID with a password-setup link.

    Outcomes, in the order they are decided (nothing is written before the last
    check passes):
    - TermsNotAgreedError (256E): not agreed; nothing else is looked at.
    - RequiredFieldError (001E): every empty item listed.
    - GaijiError (011E): the first item with 外字.
    - MalformedFieldError (018E): the first item not in its format (name,
      dateOfBirth incl. a future date, nationality, email, phone).
    - NoSuchDateError (111E): dateOfBirth is well-formed but does not exist.
    - EmailMismatchError (159E): emailConfirm differs from email.
    - TooManyRequestsError (RASX004E): this client address made
      RAS_CLIENT_REGISTRATION_LIMIT registrations in its window, or this email
      address was registered too often in the window (counted whether or not it
      has an account).
    - RegisterUserSuccess: an account with a new 認証ID and a 24-hour link, mailed
      in the same transaction. If the address already has an account nothing is
      created and its owner is mailed instead: the answer is the same, and it
      comes no sooner than RAS_ANSWER_FLOOR_MS after the checks, so
      neither it nor its timing tells whether an address is registered.
    """
    lang = info.context.lang
    services = info.context.services
    if not input.agreed_to_terms:
        return TermsNotAgreedError.build(lang, field="agreedToTerms")
    if missing := required(
        lang,
        [
            ("name", input.name),
            ("dateOfBirth", input.date_of_birth),
            ("nationality", input.nationality),
            ("email", input.email),
            ("emailConfirm", input.email_confirm),
            ("phone", input.phone),
        ],
    ):
        return missing
    if bad_characters := gaiji_in(
        lang,
        [
            ("name", FieldLabel.NAME, input.name),
            ("dateOfBirth", FieldLabel.DATE_OF_BIRTH, input.date_of_birth),
            ("nationality", FieldLabel.NATIONALITY, input.nationality),
            ("email", FieldLabel.EMAIL, input.email),
            ("emailConfirm", FieldLabel.EMAIL_CONFIRM, input.email_confirm),
            ("phone", FieldLabel.PHONE, input.phone),
        ],
    ):
        return bad_characters

    name = normalise_name(input.name) if len(input.name) <= MAX_INPUT else None
    if name is None:
        return _malformed(lang, "name", FieldLabel.NAME, TextProblem.MALFORMED)
    today = services.clock.now().astimezone(JST).date()
    born = parse_date_of_birth(input.date_of_birth[:MAX_INPUT], today=today)
    if born is TextProblem.NO_SUCH_DATE:
        return NoSuchDateError.build(
            lang, FieldLabel.DATE_OF_BIRTH, field="dateOfBirth"
        )
    if isinstance(born, TextProblem):
        return _malformed(lang, "dateOfBirth", FieldLabel.DATE_OF_BIRTH, born)
    nationality = normalise_nationality(input.nationality[:MAX_INPUT])
    if isinstance(nationality, TextProblem):
        return _malformed(lang, "nationality", FieldLabel.NATIONALITY, nationality)
    email = normalise_email(input.email[:MAX_INPUT])
    if isinstance(email, TextProblem):
        return _malformed(lang, "email", FieldLabel.EMAIL, email)
    phone = normalise_phone(input.phone[:MAX_INPUT])
    if isinstance(phone, TextProblem):
        return _malformed(lang, "phone", FieldLabel.PHONE, phone)
    if input.email_confirm.strip() != email:
        return EmailMismatchError.build(lang, field="emailConfirm")
    if refused := await client_allowance(info, ClientLimit.REGISTRATION):
        return refused

    fields: dict[str, object] = {
        "name": name,
        "email": email,
        "date_of_birth": born,
        "nationality": nationality,
        "phone": phone,
        "language": input.language,
    }
    # From here on the work differs for new and registered addresses; the
    # answer waits until the same time has passed for both.
    async with no_sooner_than(services.policy.answer_floor):
        return await _register(info, email, fields)


async def _register(
    info: Info, email: str, fields: dict[str, object]
) -> RegisterUserResult:
    services = info.context.services
    policy = services.policy
    now = services.clock.now()
    key = User.email_key_of(email)
    wait = await RequestThrottle.take(
        "register:" + hashlib.sha256(key.encode()).hexdigest()[:40],
        now=now,
        window=policy.request_window,
        limit=policy.registration_limit,
    )
    if wait is not None:
        logger.warning("registration refused: too many for one address")
        return await too_many(info, wait, "registrations-per-address")

    expires_at = now + policy.setup_link_lifetime
    fields = fields | {"email_key": key}
    for _ in range(_AUTH_ID_ATTEMPTS):
        existing = await User.get_or_none(email_key=key)
        if existing is not None and existing.status is AccountStatus.DELETED:
            # A deleted (抹消) account gives its address up: it may register anew.
            await User.filter(id=existing.id, email_key=key).update(email_key=None)
            existing = None
        if existing is not None:
            await _tell_owner(info, existing, now)
            return RegisterUserSuccess(email=email, link_expires_at=expires_at)
        try:
            await _create(info, fields, now)
        except IntegrityError:
            # The random ID was taken, or the same address registered at the
            # same moment: look again.
            continue
        return RegisterUserSuccess(email=email, link_expires_at=expires_at)
    raise RuntimeError("could not draw a free auth ID")


async def _create(info: Info, fields: dict[str, object], now: datetime) -> None:
    services = info.context.services
    async with in_transaction() as conn:
        user = await User.create(
            auth_id=new_auth_id(), created_at=now, using_db=conn, **fields
        )
        origin = info.context.origin
        await AuditEvent.record(
            AuditType.REGISTERED,
            at=now,
            origin=origin,
            user_id=user.id,
            auth_id=user.auth_id,
            detail="new address",
            using_db=conn,
        )
        token, expires_at = await issue_link(
            user,
            LinkPurpose.PASSWORD_SETUP,
            now=now,
            lifetime=services.policy.setup_link_lifetime,
            origin=origin,
            using_db=conn,
        )
        mail = RegistrationNotice(
            to=user.email,
            name=user.name,
            auth_id=user.auth_id,
            token=token,
            link_expires_at=expires_at,
        )
        await enqueue(services.composer, mail, now=now, using_db=conn, user_id=user.id)
    logger.info("registered: user_id=%s auth_id=%s", user.id, user.auth_id)


async def _tell_owner(info: Info, user: User, now: datetime) -> None:
    services = info.context.services
    mail = RegistrationExisting(to=user.email, name=user.name, auth_id=user.auth_id)
    async with in_transaction() as conn:
        # The answer does not say the address has an account; the trail does.
        await AuditEvent.record(
            AuditType.REGISTERED,
            at=now,
            origin=info.context.origin,
            user_id=user.id,
            auth_id=user.auth_id,
            detail="existing address",
            using_db=conn,
        )
        await enqueue(services.composer, mail, now=now, using_db=conn, user_id=user.id)
    logger.info("registration for an address in use: user_id=%s", user.id)


async def register_password(
    info: Info,
    input: Annotated[
        RegisterPasswordInput,
        strawberry.argument(description="Token and the new password twice."),
    ],
) -> RegisterPasswordResult:
    """Set the first password through the registration mail's link.

    Outcomes: those of set_password_through_link (a link of an account that has
    a password by now is RASX003E), then RegisterPasswordSuccess: password set,
    link used up, other links voided and a completion mail written, in one
    transaction. Of two requests with the same link exactly one succeeds (the
    other gets RASX003E).
    """
    form = LinkPasswordForm(
        token=input.token,
        password=input.password,
        confirm=input.password_confirm,
        field="password",
        confirm_field="passwordConfirm",
    )
    done = await set_password_through_link(
        info,
        form,
        LinkPurpose.PASSWORD_SETUP,
        mail=lambda user, _now: PasswordRegistered(
            to=user.email, name=user.name, auth_id=user.auth_id
        ),
        event=AuditType.PASSWORD_REGISTERED,
        end_sessions=None,
    )
    if not isinstance(done, tuple):
        return done
    user, expires_at = done
    logger.info("first password set: user_id=%s", user.id)
    return RegisterPasswordSuccess(auth_id=user.auth_id, password_expires_at=expires_at)
