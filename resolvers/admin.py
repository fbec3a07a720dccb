"""The admin API's reads: users, one user, audit events, the outbox and the
daily figures. Every read needs a staff session (any role)."""

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import strawberry
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from mailer.render import JST, mask_email
from mailer.smtp import mask_addresses
from models import (
    OK,
    AccountStatus,
    AuditEvent,
    AuditType,
    LoginThrottle,
    MailStatus,
    OutboxMail,
    SessionKind,
    User,
    UserSession,
)
from models.staff import Staff
from resolvers.context import Info
from resolvers.paging import INT_MAX, After, First, page_info, page_request
from resolvers.staff import StaffAuthenticated, authenticate_staff
from resolvers.staff_inputs import day_in_range, has_controls, instant, lookup_text
from schema.admin import (
    AuditEventConnection,
    AuditEventEdge,
    AuditEventFilter,
    AuditEventNode,
    AuditEventsResult,
    CurrentSession,
    DailyFigure,
    DailyFigures,
    DailyFiguresResult,
    LockState,
    ManagedUser,
    ManagedUserConnection,
    ManagedUserEdge,
    ManagedUserResult,
    ManagedUsersResult,
    NotFoundError,
    OutboxConnection,
    OutboxEdge,
    OutboxEntry,
    OutboxResult,
)
from schema.errors import InputProblem, InvalidFieldError
from schema.messages import FieldLabel
from security.text import normalise_auth_id

RECENT_EVENTS = 20
# No 認証ID or staff login ID is longer (the columns' width): a longer one
# names nothing, and is not even asked for.
ID_MAX = 32
NAME_MAX = 104
# dailyFigures answers at most this many days at once.
FIGURE_DAYS_MAX = 366


async def event_nodes(events: Iterable[AuditEvent]) -> list[AuditEventNode]:
    """Events as staff read them: the account's 認証ID and the staff login ID
    looked up in two queries for the whole page."""
    events = list(events)
    user_ids = {e.user_id for e in events if e.user_id is not None}
    staff_ids = {e.staff_id for e in events if e.staff_id is not None}
    auth_ids = dict(
        await User.filter(id__in=user_ids).values_list("id", "auth_id")
        if user_ids
        else []
    )
    logins = dict(
        await Staff.filter(id__in=staff_ids).values_list("id", "login_id")
        if staff_ids
        else []
    )
    return [
        AuditEventNode(
            id=str(e.id),
            at=e.at,
            type=e.type,
            outcome=e.outcome,
            auth_id=auth_ids.get(e.user_id)
            if e.user_id is not None
            else (e.auth_id if e.staff_id is None else None),
            staff_login_id=logins.get(e.staff_id) if e.staff_id is not None else None,
            reason=e.reason,
            detail=e.detail,
            client_address=e.client,
            user_agent=e.user_agent,
            request_id=e.request_id,
        )
        for e in events
    ]


def _events_loader(user_id: int) -> Callable[[], Awaitable[list[AuditEventNode]]]:
    async def load() -> list[AuditEventNode]:
        events = (
            await AuditEvent.filter(user_id=user_id)
            .order_by("-id")
            .limit(RECENT_EVENTS)
        )
        return await event_nodes(events)

    return load


async def managed_users(
    users: list[User], now: datetime, idle: timedelta
) -> list[ManagedUser]:
    """Users as staff see them, their lock states and sessions read in two
    queries for the whole page (recent events only when asked for)."""
    keys = [u.auth_id for u in users]
    throttles = (
        {t.key: t for t in await LoginThrottle.filter(key__in=keys)} if keys else {}
    )
    sessions: dict[int, UserSession] = {}
    if users:
        for session in await UserSession.filter(
            user_id__in=[u.id for u in users],
            revoked_at=None,
            kind=SessionKind.SESSION,
            expires_at__gt=now,
            last_seen_at__gt=now - idle,
        ).order_by("id"):
            sessions[session.user_id] = session  # type: ignore[attr-defined]
    managed = []
    for user in users:
        throttle = throttles.get(user.auth_id)
        locked = throttle is not None and throttle.locked(now)
        current = sessions.get(user.id)
        managed.append(
            ManagedUser(
                auth_id=user.auth_id,
                name=user.name,
                email=user.email or None,
                status=user.status,
                created_at=user.created_at,
                last_login_at=user.last_login_at,
                usage_expires_at=user.usage_expires_at,
                password_set=user.password_hash is not None,
                password_expires_at=user.password_expires_at,
                two_step_enabled=user.two_step,
                lock=LockState(
                    locked=locked,
                    # While locked: the failures that locked it.
                    failures=(
                        (throttle.failures if locked else throttle.current_failures())
                        if throttle
                        else 0
                    ),
                    locked_until=throttle.locked_until if locked and throttle else None,
                ),
                current_session=CurrentSession(
                    started_at=current.created_at,
                    last_seen_at=current.last_seen_at,
                    client_address=current.client,
                )
                if current is not None
                else None,
                events_loader=_events_loader(user.id),
            )
        )
    return managed


async def managed_user(info: Info, user: User) -> ManagedUser:
    services = info.context.services
    shown = await managed_users(
        [user], services.clock.now(), services.policy.session_idle
    )
    return shown[0]


async def find_user(info: Info, auth_id: str) -> User | NotFoundError:
    """The account with this 認証ID, or RASX008E naming ``authId``."""
    wanted = lookup_text(normalise_auth_id(auth_id[:64]), ID_MAX)
    user = await User.get_or_none(auth_id=wanted) if wanted else None
    if user is None:
        return NotFoundError.build(
            info.context.lang, FieldLabel.AUTH_ID, field="authId"
        )
    return user


async def users(
    info: Info,
    query: Annotated[
        str | None,
        strawberry.argument(
            description="A 認証ID (exact), or part of an email address or a name "
            "(case ignored)."
        ),
    ] = None,
    status: Annotated[
        AccountStatus | None, strawberry.argument(description="Only this status.")
    ] = None,
    locked: Annotated[
        bool | None,
        strawberry.argument(
            description="True: only accounts whose 認証ID is locked now; false: "
            "only those that are not."
        ),
    ] = None,
    first: First = None,
    after: After = None,
) -> ManagedUsersResult:
    """Search the applicants' accounts, in registration order."""
    auth = await authenticate_staff(info)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    page = page_request(info, first, after, maximum=INT_MAX)
    if isinstance(page, InvalidFieldError):
        return page
    size, cursor = page
    now = info.context.services.clock.now()
    found: QuerySet[User] = User.all()
    text = (query or "").strip()[:254]
    if has_controls(text):
        found = found.filter(id__lt=0)  # no stored name, address or ID holds one
    elif text:
        matches = Q(email_key__icontains=text.lower())
        if len(text) <= NAME_MAX:
            matches |= Q(name__icontains=text)
        if len(auth_id := normalise_auth_id(text)) <= ID_MAX:
            matches |= Q(auth_id=auth_id)
        found = found.filter(matches)
    if status is not None:
        found = found.filter(status=status)
    if locked is not None:
        locks = Subquery(LoginThrottle.filter(locked_until__gt=now).values("key"))
        found = (
            found.filter(auth_id__in=locks)
            if locked
            else found.exclude(auth_id__in=locks)
        )
    if cursor is not None:
        found = found.filter(id__gt=cursor)
    rows = await found.order_by("id").limit(size + 1)
    shown = await managed_users(
        rows[:size], now, info.context.services.policy.session_idle
    )
    cursors = [str(u.id) for u in rows[:size]]
    return ManagedUserConnection(
        edges=[
            ManagedUserEdge(cursor=c, node=n)
            for c, n in zip(cursors, shown, strict=True)
        ],
        page_info=page_info(cursors, len(rows) > size),
    )


async def user(
    info: Info,
    auth_id: Annotated[str, strawberry.argument(description="The 認証ID.")],
) -> ManagedUserResult:
    """One account: status, usage expiry, lock state, password expiry, current
    session and recent audit events."""
    auth = await authenticate_staff(info)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    found = await find_user(info, auth_id)
    if isinstance(found, NotFoundError):
        return found
    return await managed_user(info, found)


async def audit_events(
    info: Info,
    filter: Annotated[
        AuditEventFilter | None,
        strawberry.argument(description="Which events (all when left out)."),
    ] = None,
    first: First = None,
    after: After = None,
) -> AuditEventsResult:
    """The audit trail, newest first."""
    auth = await authenticate_staff(info)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    page = page_request(info, first, after)
    if isinstance(page, InvalidFieldError):
        return page
    size, cursor = page
    events: QuerySet[AuditEvent] = AuditEvent.all()
    if filter is not None:
        if filter.auth_id:
            auth_id = lookup_text(normalise_auth_id(filter.auth_id[:64]), ID_MAX)
            if auth_id is None:
                return AuditEventConnection(edges=[], page_info=page_info([], False))
            owner = await User.get_or_none(auth_id=auth_id)
            mine = Q(auth_id=auth_id, staff_id=None)
            events = events.filter(mine | Q(user_id=owner.id) if owner else mine)
        if filter.staff_login_id:
            login_id = lookup_text(filter.staff_login_id.strip().lower(), ID_MAX)
            staff = await Staff.get_or_none(login_id=login_id) if login_id else None
            events = events.filter(staff_id=staff.id if staff else -1)
        if filter.type is not None:
            events = events.filter(type=filter.type)
        for field, label, value, lookup in (
            ("since", FieldLabel.SINCE, filter.since, "at__gte"),
            ("until", FieldLabel.UNTIL, filter.until, "at__lt"),
        ):
            if value is None:
                continue
            # In UTC: SQLite compares stored times as text, all of them UTC.
            moment = instant(info.context.lang, field, label, value)
            if isinstance(moment, InvalidFieldError):
                return moment
            events = events.filter(**{lookup: moment})
    if cursor is not None:
        events = events.filter(id__lt=cursor)
    rows = await events.order_by("-id").limit(size + 1)
    nodes = await event_nodes(rows[:size])
    return AuditEventConnection(
        edges=[AuditEventEdge(cursor=n.id, node=n) for n in nodes],
        page_info=page_info([n.id for n in nodes], len(rows) > size),
    )


def outbox_entry(row: OutboxMail) -> OutboxEntry:
    return OutboxEntry(
        id=str(row.id),
        kind=row.kind,
        recipient=mask_email(row.recipient),
        status=row.status,
        attempts=row.attempts,
        last_error=mask_addresses(row.last_error) if row.last_error else None,
        created_at=row.created_at,
        sent_at=row.sent_at,
        retryable=row.status is MailStatus.DEAD and row.message is not None,
    )


async def outbox(
    info: Info,
    status: Annotated[
        MailStatus | None, strawberry.argument(description="Only this status.")
    ] = None,
    first: First = None,
    after: After = None,
) -> OutboxResult:
    """The outbox, newest first: kinds, masked recipients, delivery state; never
    a body."""
    auth = await authenticate_staff(info)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    page = page_request(info, first, after)
    if isinstance(page, InvalidFieldError):
        return page
    size, cursor = page
    rows_query: QuerySet[OutboxMail] = OutboxMail.all()
    if status is not None:
        rows_query = rows_query.filter(status=status)
    if cursor is not None:
        rows_query = rows_query.filter(id__lt=cursor)
    rows = await rows_query.order_by("-id").limit(size + 1)
    entries = [outbox_entry(row) for row in rows[:size]]
    return OutboxConnection(
        edges=[OutboxEdge(cursor=e.id, node=e) for e in entries],
        page_info=page_info([e.id for e in entries], len(rows) > size),
    )


def _jst_day(moment: datetime) -> date:
    return moment.astimezone(JST).date()


async def daily_figures(
    info: Info,
    from_: Annotated[
        date,
        strawberry.argument(name="from", description="The first day (JST)."),
    ],
    to: Annotated[date, strawberry.argument(description="The last day (JST).")],
) -> DailyFiguresResult:
    """Per day (Japan time): registrations, logins, locks, mails sent and dead."""
    auth = await authenticate_staff(info)
    if not isinstance(auth, StaffAuthenticated):
        return auth
    days = (to - from_).days + 1
    if not (1 <= days <= FIGURE_DAYS_MAX and day_in_range(from_) and day_in_range(to)):
        return InvalidFieldError.build(
            info.context.lang,
            FieldLabel.DATE_RANGE,
            field="to",
            reason=InputProblem.OUT_OF_RANGE,
        )
    # In UTC: SQLite compares stored times as text, all of them UTC.
    start = datetime.combine(from_, time(), JST).astimezone(UTC)
    end = (datetime.combine(to, time(), JST) + timedelta(days=1)).astimezone(UTC)
    counts: dict[str, Counter[date]] = {
        name: Counter() for name in ("registrations", "logins", "locks", "sent", "dead")
    }
    events = AuditEvent.filter(
        at__gte=start,
        at__lt=end,
        staff_id=None,
        type__in=[
            AuditType.REGISTERED,
            AuditType.LOGIN_SUCCEEDED,
            AuditType.LOGIN_LOCKED,
        ],
    ).values_list("type", "at", "detail", "outcome")
    for kind, at, detail, outcome in await events:
        if detail == "staffLogin":  # staff's own logins and locks are not figures
            continue
        day = _jst_day(at)
        if kind == AuditType.REGISTERED:
            if detail == "new address":
                counts["registrations"][day] += 1
        elif kind == AuditType.LOGIN_SUCCEEDED:
            if outcome == OK:  # not a change ticket (WZBAM158E)
                counts["logins"][day] += 1
        else:
            counts["locks"][day] += 1
    for at in await OutboxMail.filter(
        status=MailStatus.SENT, sent_at__gte=start, sent_at__lt=end
    ).values_list("sent_at", flat=True):
        counts["sent"][_jst_day(at)] += 1  # type: ignore[arg-type]
    for at in await OutboxMail.filter(
        status=MailStatus.DEAD, created_at__gte=start, created_at__lt=end
    ).values_list("created_at", flat=True):
        counts["dead"][_jst_day(at)] += 1  # type: ignore[arg-type]
    return DailyFigures(
        days=[
            DailyFigure(
                day=day,
                registrations=counts["registrations"][day],
                logins=counts["logins"][day],
                locks=counts["locks"][day],
                mails_sent=counts["sent"][day],
                mails_dead=counts["dead"][day],
            )
            for day in (from_ + timedelta(days=n) for n in range(days))
        ]
    )
