"""Login sessions and password-change tickets, stored only as token hashes."""

import contextlib
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.audit import AuditEvent, AuditType, Origin
from models.two_step import LoginChallenge

if TYPE_CHECKING:
    from models.user import User


class SessionKind(StrEnum):
    """A full session, or a ticket that allows nothing but changing the password."""

    SESSION = "session"
    CHANGE_TICKET = "change_ticket"


class RevokeReason(StrEnum):
    """Why a session ended; DISPLACED answers WZBAM099E on its next use."""

    LOGOUT = "logout"
    DISPLACED = "displaced"
    IDLE_TIMEOUT = "idle_timeout"
    LIFETIME = "lifetime"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_LOCKED = "account_locked"
    EMAIL_REVERTED = "email_reverted"
    # Ended by staff (suspended, marked invalid, deleted, password expired,
    # sessions revoked): the next call answers RASX002E.
    STAFF = "staff"


class UserSession(Model):
    """One bearer token. The token itself is never stored, only its SHA-256."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(SessionKind, max_length=16)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharEnumField(RevokeReason, max_length=24, null=True)
    # When the user last proved the password on this session (login, or
    # reauthenticate): sensitive changes need it recent (RAS_STEP_UP_SECONDS).
    # Null on sessions made before the column existed: they count as stale.
    authenticated_at = fields.DatetimeField(null=True)
    # The client address it was opened from (for the help desk).
    client = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "user_sessions"
        indexes = (("user_id", "revoked_at"),)

    @classmethod
    async def end_all(
        cls,
        user_id: int,
        reason: RevokeReason,
        *,
        now: datetime,
        origin: Origin,
        using_db: BaseDBAsyncClient,
        keep: int | None = None,
    ) -> int:
        """End every active session and change ticket of the user (but ``keep``,
        a session's id), and every open code step of a two-step login; their
        next call answers as ``reason`` says. A displacement is an audit event
        of its own; the other reasons are consequences of the event that ends
        the sessions."""
        await LoginChallenge.void_all(user_id, now=now, using_db=using_db)
        query = cls.filter(user_id=user_id, revoked_at=None)
        if keep is not None:
            query = query.exclude(id=keep)
        ended = await query.using_db(using_db).update(
            revoked_at=now, revoked_reason=reason
        )
        if ended and reason in _EVENTS:
            await AuditEvent.record(
                _EVENTS[reason],
                at=now,
                origin=origin,
                user_id=user_id,
                using_db=using_db,
            )
        return ended

    @classmethod
    async def end(
        cls,
        session_id: int,
        user_id: int,
        reason: RevokeReason,
        *,
        now: datetime,
        origin: Origin,
    ) -> bool:
        """End one session if it is still active (False when it had ended),
        with its audit event (logout, time-out)."""
        async with in_transaction() as conn:
            ended = await (
                cls.filter(id=session_id, revoked_at=None)
                .using_db(conn)
                .update(revoked_at=now, revoked_reason=reason)
            )
            if ended and reason in _EVENTS:
                await AuditEvent.record(
                    _EVENTS[reason],
                    at=now,
                    origin=origin,
                    user_id=user_id,
                    using_db=conn,
                )
        return ended == 1

    @classmethod
    async def with_user(cls, token_hash: str) -> "UserSession | None":
        """The session of ``token_hash`` with its user loaded, in one plain
        query. Every authenticated call starts here, and building the ORM's
        ``select_related`` query was about half of `me`'s time (py-spy under
        bench/run)."""
        from models.user import User

        conn = cls._meta.db
        sql, session_columns, user_columns = _with_user_sql(
            conn.capabilities.dialect == "postgres"
        )
        # SQLite's client (app.sqlite) reads this at once on a connection of
        # its own when it can; inside a transaction the wrapper has no such
        # method, and the read sees the transaction's own writes.
        read_now = getattr(conn, "read_now", None)
        rows = read_now(sql, [token_hash]) if read_now is not None else None
        if rows is None:
            rows = await conn.execute_query_dict(sql, [token_hash])
        if not rows:
            return None
        row = _parsed_times(rows[0])
        session = cls._init_from_db(**{c: row[f"s_{c}"] for c in session_columns})
        user = User._init_from_db(**{c: row[f"u_{c}"] for c in user_columns})
        object.__setattr__(session, "_user", user)
        return session

    @classmethod
    async def touch(cls, session_id: int, *, now: datetime) -> bool:
        """Record a call on an active session (for the idle limit); False when
        the session had ended meanwhile."""
        touched = await cls.filter(id=session_id, revoked_at=None).update(
            last_seen_at=now
        )
        return touched == 1

    @classmethod
    async def purge(cls, *, ended_before: datetime) -> int:
        """Delete sessions that ended (or expired) before ``ended_before``."""
        return await cls.filter(
            Q(revoked_at__lt=ended_before) | Q(expires_at__lt=ended_before)
        ).delete()

    @classmethod
    async def mark_authenticated(
        cls, session_id: int, user_id: int, *, now: datetime, origin: Origin
    ) -> bool:
        """Record that the session's password was just checked (step-up);
        False when the session had ended."""
        async with in_transaction() as conn:
            marked = await (
                cls.filter(id=session_id, revoked_at=None)
                .using_db(conn)
                .update(authenticated_at=now)
            )
            if marked:
                await AuditEvent.record(
                    AuditType.REAUTHENTICATED,
                    at=now,
                    origin=origin,
                    user_id=user_id,
                    using_db=conn,
                )
        return marked == 1

    @classmethod
    async def is_active(
        cls, session_id: int, *, using_db: BaseDBAsyncClient | None = None
    ) -> bool:
        """Whether the session has not ended (in ``using_db``'s view)."""
        return await (
            cls.filter(id=session_id, revoked_at=None).using_db(using_db).exists()
        )

    @classmethod
    async def renew_token(
        cls,
        session_id: int,
        token_hash: str,
        *,
        now: datetime,
        using_db: BaseDBAsyncClient,
    ) -> bool:
        """Give an active session whose password was just checked the token
        with ``token_hash``: the old token stops working (RASX002E). False if
        the session ended meanwhile."""
        renewed = await (
            cls.filter(id=session_id, revoked_at=None)
            .using_db(using_db)
            .update(token_hash=token_hash, authenticated_at=now)
        )
        return renewed == 1


# Session endings that are audit events of their own.
_EVENTS = {
    RevokeReason.DISPLACED: AuditType.SESSION_DISPLACED,
    RevokeReason.LOGOUT: AuditType.LOGGED_OUT,
    RevokeReason.IDLE_TIMEOUT: AuditType.SESSION_TIMED_OUT,
    RevokeReason.LIFETIME: AuditType.SESSION_TIMED_OUT,
}


@cache
def _time_columns() -> tuple[frozenset[str], frozenset[str]]:
    """with_user's columns (as named in its query) that hold a datetime, and
    those that hold a date."""
    from models.user import User

    times: set[str] = set()
    dates: set[str] = set()
    for prefix, model in (("s_", UserSession), ("u_", User)):
        for name, field in model._meta.fields_map.items():
            column = f"{prefix}{model._meta.fields_db_projection.get(name, name)}"
            if isinstance(field, fields.DatetimeField):
                times.add(column)
            elif isinstance(field, fields.DateField):
                dates.add(column)
    return frozenset(times), frozenset(dates)


def _parsed_times(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with the texts SQLite keeps for datetimes and dates parsed by
    the standard library's C parser. Tortoise parses them with the pure-Python
    iso8601 package, which was a sixth of `me`'s time on SQLite (py-spy under
    bench/run); a text the standard parser refuses is left to Tortoise."""
    times, dates = _time_columns()
    for column in times:
        value = row.get(column)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                row[column] = datetime.fromisoformat(value)
    for column in dates:
        value = row.get(column)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                row[column] = date.fromisoformat(value)
    return row


@cache
def _with_user_sql(postgres: bool) -> tuple[str, list[str], list[str]]:
    """UserSession.with_user's query, and the columns it reads of each table."""
    from models.user import User

    session_columns = sorted(UserSession._meta.db_fields)
    user_columns = sorted(User._meta.db_fields)
    selected = ", ".join(
        [f's."{c}" AS "s_{c}"' for c in session_columns]
        + [f'u."{c}" AS "u_{c}"' for c in user_columns]
    )
    placeholder = "$1" if postgres else "?"
    # Only the models' own column names go into the text; the token hash is a
    # parameter.
    sql = (
        f"SELECT {selected} FROM user_sessions s JOIN users u "  # noqa: S608
        f"ON u.id = s.user_id WHERE s.token_hash = {placeholder}"
    )
    return sql, session_columns, user_columns
