"""Tortoise ORM models; the app label is ``models``."""

from models.session import RevokeReason, SessionKind, UserSession
from models.throttle import Limits, LoginThrottle, Reservation
from models.user import AccountStatus, User, UserCategory

__all__ = [
    "AccountStatus",
    "Limits",
    "LoginThrottle",
    "Reservation",
    "RevokeReason",
    "SessionKind",
    "User",
    "UserCategory",
    "UserSession",
]
