"""UserSession.with_user, the read every authenticated call starts with: on
SQLite it is read at once on a connection of its own (app.sqlite's read_now),
and must see exactly what is committed — and, inside a transaction, what the
transaction wrote."""

from datetime import date, datetime, timedelta

from tortoise import connections
from tortoise.transactions import in_transaction

from models import SessionKind, User, UserSession
from security.clock import SettableClock
from security.tokens import token_hash
from tests.support import Caller, log_in


async def _session(
    user: User,
    clock: SettableClock,
    digest: str,
    authenticated_at: datetime | None = None,
) -> UserSession:
    """A session of ``user`` for an hour from now, stored under ``digest``."""
    return await UserSession.create(
        user_id=user.id,
        token_hash=digest,
        kind=SessionKind.SESSION,
        created_at=clock.now(),
        last_seen_at=clock.now(),
        expires_at=clock.now() + timedelta(hours=1),
        authenticated_at=authenticated_at,
    )


async def test_a_committed_logout_is_seen_by_the_next_read(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)
    found = await UserSession.with_user(token_hash(token))
    assert found is not None
    assert found.revoked_at is None
    assert found.user.auth_id == user.auth_id
    await execute("mutation { logout { __typename } }", token=token)
    again = await UserSession.with_user(token_hash(token))
    assert again is not None
    assert again.revoked_at is not None


async def test_inside_a_transaction_the_read_sees_its_own_writes(
    user: User, clock: SettableClock
) -> None:
    digest = token_hash("not-yet-committed-token")
    async with in_transaction():
        await _session(user, clock, digest)
        inside = await UserSession.with_user(digest)
        assert inside is not None
        assert inside.user.id == user.id


async def test_unknown_tokens_are_none(user: User) -> None:
    assert await UserSession.with_user(token_hash("never-issued")) is None


async def test_sqlite_reads_on_its_own_connection(db: str, user: User) -> None:
    client = connections.get("default")
    read_now = getattr(client, "read_now", None)
    if not db.startswith("sqlite"):
        assert read_now is None  # PostgreSQL asks the pool as for anything
        return
    assert read_now is not None
    rows = read_now("SELECT auth_id FROM users WHERE id = ?", [user.id])
    assert rows == [{"auth_id": user.auth_id}]
    # What it cannot read it says so, and the caller asks the usual way.
    assert read_now("SELECT no_such_column FROM users", []) is None


def test_an_in_memory_database_is_never_read_aside() -> None:
    from app.sqlite import ImmediateSqliteClient

    client = ImmediateSqliteClient(":memory:", connection_name="aside")
    assert client.read_now("SELECT 1", []) is None


async def test_every_field_reads_as_the_orm_reads_it(
    user: User, clock: SettableClock
) -> None:
    # with_user parses SQLite's time texts itself (the standard library's
    # parser): every value, times and dates included, must equal the ORM's.
    user.date_of_birth = date(1990, 4, 1)
    user.password_changed_at = clock.now() - timedelta(days=3, microseconds=7)
    await user.save()
    digest = token_hash("read-every-field")
    created = await _session(user, clock, digest, authenticated_at=clock.now())

    found = await UserSession.with_user(digest)

    assert found is not None
    by_orm = await UserSession.get(id=created.id)
    user_by_orm = await User.get(id=user.id)
    for name in UserSession._meta.db_fields:
        assert getattr(found, name) == getattr(by_orm, name), name
    for name in User._meta.fields_map:
        if name in User._meta.db_fields:
            assert getattr(found.user, name) == getattr(user_by_orm, name), name
    assert found.user.date_of_birth == date(1990, 4, 1)
    assert found.created_at.tzinfo is not None
    assert found.user.password_changed_at == user.password_changed_at
