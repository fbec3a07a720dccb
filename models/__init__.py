"""Tortoise ORM models; the app label is ``models``."""

from models.session import RevokeReason, SessionKind, UserSession
from models.throttle import Attempt, LoginThrottle
from models.user import AccountStatus, User, UserCategory

__all__ = [
    "AccountStatus",
    "Attempt",
    "LoginThrottle",
    "RevokeReason",
    "SessionKind",
    "User",
    "UserCategory",
    "UserSession",
]
