"""Tortoise ORM models; the app label is ``models``."""

from models.address import Municipality, PostalCode, Prefecture, ReferenceData
from models.outbox import MailKind, MailStatus, OutboxMail
from models.session import RevokeReason, SessionKind, UserSession
from models.throttle import Limits, LoginSlot, LoginThrottle, Reservation, Verdict
from models.user import AccountStatus, User, UserCategory

__all__ = [
    "AccountStatus",
    "Limits",
    "LoginSlot",
    "LoginThrottle",
    "MailKind",
    "MailStatus",
    "Municipality",
    "OutboxMail",
    "PostalCode",
    "Prefecture",
    "ReferenceData",
    "Reservation",
    "RevokeReason",
    "SessionKind",
    "User",
    "UserCategory",
    "UserSession",
    "Verdict",
]
