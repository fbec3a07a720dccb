"""The domain's enums as GraphQL enums: one Python enum each, with the name and
descriptions partners read by introspection.

A GraphQL enum needs a description on every value, which Strawberry takes from
``strawberry.enum_value`` in the class body; the domain's enums live where the
rules do (models, security) and know nothing of GraphQL. ``described`` gives
such an enum its GraphQL face in place, so resolvers pass domain values
straight through instead of mapping between two enums of the same values.
"""

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from models import AuditType, Lang, UserCategory
from security.passwords import PasswordRule

E = TypeVar("E", bound=Enum)


def described(
    cls: type[E], *, name: str, description: str, values: Mapping[E, str]
) -> type[E]:
    """Make ``cls`` the GraphQL enum ``name`` (values named by their Python
    names), every value described; a value left undescribed is an error here,
    not a gap in the contract."""
    if missing := [member.name for member in cls if member not in values]:
        raise ValueError(f"{name}: no description for {', '.join(missing)}")
    strawberry.enum(cls, name=name, description=description)
    definition: StrawberryEnumDefinition = vars(cls)["__strawberry_definition__"]
    for value in definition.values:
        value.description = values[cls[value.name]]
    return cls


described(
    Lang,
    name="Language",
    description="A language the service answers in (messages, mails).",
    values={
        Lang.JA: "Japanese (日本語); the default.",
        Lang.EN: "English.",
    },
)

described(
    UserCategory,
    name="UserCategory",
    description="利用者区分: the user category, which decides the menu.",
    values={
        UserCategory.COUNTER_COE_ELECTRONIC: "（窓口申請）在留資格認定証明書電子交付"
        "希望者: applied at a counter for a Certificate of Eligibility and wants it "
        "issued electronically.",
    },
)

described(
    PasswordRule,
    name="PasswordRule",
    description="A rule of the password policy (see `passwordPolicy`).",
    values={
        PasswordRule.LENGTH: "8 to 32 characters (RAS_PASSWORD_MIN/MAX_LENGTH).",
        PasswordRule.CHARACTERS: "Only half-width letters, digits and the symbols "
        "$%&=@_#*+-?!.",
        PasswordRule.MIX: "At least one letter, one digit and one symbol.",
        PasswordRule.CONTAINS_AUTH_ID: "Must not contain the 認証ID.",
        PasswordRule.COMMON: "Not a common password, nor one with only digits and "
        "symbols added around a very common one (Password1!).",
        PasswordRule.RECENTLY_USED: "Not the current password nor one of the ones "
        "before it (the last 3 passwords by default).",
    },
)

described(
    AuditType,
    name="SecurityEventType",
    description="What a security event recorded.",
    values={
        AuditType.LOGIN_SUCCEEDED: "A login succeeded (outcome WZBAM158E: with an "
        "expired password, a change ticket was given).",
        AuditType.LOGIN_FAILED: "A login or password check failed; the outcome is "
        "the code it was answered (WZBAM005E, WZBAM154E, WZBAM153E, WZBAM155E…).",
        AuditType.LOGIN_LOCKED: "Failed attempts locked the 認証ID (WZBAM153E).",
        AuditType.SESSION_DISPLACED: "A newer login ended the session before it "
        "(WZBAM099E on its next call).",
        AuditType.SESSION_TIMED_OUT: "A session ended after 30 idle minutes or "
        "its maximum lifetime.",
        AuditType.LOGGED_OUT: "The user logged out.",
        AuditType.REAUTHENTICATED: "The password was entered again on a session "
        "(`reauthenticate`).",
        AuditType.PASSWORD_REGISTERED: "The first password was set.",
        AuditType.PASSWORD_CHANGED: "The password was changed.",
        AuditType.PASSWORD_RESET: "The password was reset through a mailed link.",
        AuditType.EMAIL_CHANGED: "The email address was changed.",
        AuditType.ADDRESS_CHANGED: "The address (住居地) was changed.",
        AuditType.PHONE_CHANGED: "The phone number was changed.",
        AuditType.EMAIL_CHANGE_REVERTED: "An email change was undone with the "
        "link mailed to the old address.",
        AuditType.LINK_ISSUED: "A one-time link was mailed.",
        AuditType.LINK_USED: "A one-time link was used.",
        AuditType.LINK_VOIDED: "Unused one-time links were voided.",
        AuditType.REGISTERED: "A registration with this account's email "
        "address (a new account, or one that already had it).",
        AuditType.LIMIT_HIT: "A request limit answered RASX004E.",
        AuditType.AUDIT_PURGED: "Old events were purged after the retention period.",
        AuditType.USER_UNLOCKED: "Staff lifted the 認証ID's lock.",
        AuditType.USER_SUSPENDED: "Staff suspended the account (WZBAM155E).",
        AuditType.USER_REINSTATED: "Staff made the account active again.",
        AuditType.USER_DELETED: "Staff deleted the account (抹消, WZBAM156E); its "
        "personal data was erased.",
        AuditType.USER_MARKED_INVALID: "Staff marked the user information invalid "
        "(WZBAM150E).",
        AuditType.USAGE_EXPIRY_SET: "Staff set or cleared the usage expiry "
        "(WZBAM151E after it).",
        AuditType.PASSWORD_EXPIRED: "Staff expired the password (WZBAM158E at the "
        "next login).",
        AuditType.SESSIONS_REVOKED: "Staff ended every session of the account.",
        AuditType.CREDENTIALS_REISSUED: "Staff mailed the 認証ID with a new link to "
        "set a password (and lifted a lock).",
        AuditType.MAIL_RETRIED: "Staff queued a dead mail again.",
        AuditType.NOTICE_PUBLISHED: "Staff published お知らせ.",
        AuditType.NOTICE_WITHDRAWN: "Staff withdrew お知らせ.",
        AuditType.STAFF_CREATED: "A staff member was created.",
        AuditType.STAFF_DISABLED: "A staff member was disabled.",
        AuditType.STAFF_ROLE_SET: "A staff member's role was changed.",
        AuditType.STAFF_TOTP_RESET: "A staff member's authenticator secret was "
        "replaced (`staff reset-totp`).",
        AuditType.TWO_STEP_CHALLENGED: "The password was right and login asked "
        "for the one-time code (`TotpRequired`).",
        AuditType.TWO_STEP_ENROLLMENT_BEGUN: "Setting up two-step login began "
        "(`beginTotpEnrollment`).",
        AuditType.TWO_STEP_ENABLED: "Two-step login was turned on.",
        AuditType.TWO_STEP_DISABLED: "Two-step login was turned off by the user.",
        AuditType.RECOVERY_CODE_USED: "A recovery code was used instead of the "
        "one-time code.",
        AuditType.RECOVERY_CODES_REGENERATED: "New recovery codes replaced the "
        "old ones.",
        AuditType.TWO_STEP_RESET: "Staff removed two-step login (`resetTotp`), "
        "for a user who lost the authenticator.",
    },
)

__all__ = ["AuditType", "Lang", "PasswordRule", "UserCategory", "described"]
