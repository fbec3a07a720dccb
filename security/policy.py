"""The security numbers the resolvers enforce, built by the app from its settings."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Policy:
    """Session, lockout and password-age rules (every number is a ``RAS_`` setting)."""

    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=8)
    change_ticket_lifetime: timedelta = timedelta(minutes=15)
    lockout_threshold: int = 5
    lockout_duration: timedelta = timedelta(hours=24)
    password_max_age: timedelta = timedelta(days=365)
