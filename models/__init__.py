"""Tortoise ORM models; the app label is ``models``."""

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
    "OutboxMail",
    "Reservation",
    "RevokeReason",
    "SessionKind",
    "User",
    "UserCategory",
    "UserSession",
    "Verdict",
]
