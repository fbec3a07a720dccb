"""Tortoise ORM models; the app label is ``models``."""

from models.address import Municipality, PostalCode, Prefecture, ReferenceData
from models.audit import (
    OK,
    SERVICE,
    AuditChain,
    AuditEvent,
    AuditPending,
    AuditSeal,
    AuditType,
    Origin,
)
from models.heartbeat import WorkerHeartbeat, WorkerIdentity
from models.link import LinkPurpose, LinkToken
from models.outbox import MailKind, MailStatus, OutboxMail
from models.session import RevokeReason, SessionKind, UserSession
from models.staff import Notice, Staff, StaffRole, StaffSession
from models.throttle import (
    Attempt,
    Limits,
    LoginSlot,
    LoginThrottle,
    RequestEvent,
    RequestThrottle,
    Reservation,
    Verdict,
)
from models.two_step import LoginChallenge, RecoveryCode, remove_two_step
from models.user import (
    AccountStatus,
    Lang,
    PasswordHistory,
    User,
    UserCategory,
)

__all__ = [
    "OK",
    "SERVICE",
    "AccountStatus",
    "Attempt",
    "AuditChain",
    "AuditEvent",
    "AuditPending",
    "AuditSeal",
    "AuditType",
    "Lang",
    "Limits",
    "LinkPurpose",
    "LinkToken",
    "LoginChallenge",
    "LoginSlot",
    "LoginThrottle",
    "MailKind",
    "MailStatus",
    "Municipality",
    "Notice",
    "Origin",
    "OutboxMail",
    "PasswordHistory",
    "PostalCode",
    "Prefecture",
    "RecoveryCode",
    "ReferenceData",
    "RequestEvent",
    "RequestThrottle",
    "Reservation",
    "RevokeReason",
    "SessionKind",
    "Staff",
    "StaffRole",
    "StaffSession",
    "User",
    "UserCategory",
    "UserSession",
    "Verdict",
    "WorkerHeartbeat",
    "WorkerIdentity",
    "remove_two_step",
]
