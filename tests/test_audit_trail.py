"""The audit trail: each security event is written by the flow that causes it,
in that flow's transaction; sealing chains the events, and `audit verify` finds
an edited, deleted or moved row on SQLite and PostgreSQL."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tortoise import connections

from app.audit import SEAL_BATCH
from models import (
    AccountStatus,
    AuditChain,
    AuditEvent,
    AuditPending,
    AuditSeal,
    AuditType,
    User,
)
from models.audit import (
    GENESIS,
    USER_AGENT_CHARS,
    purge_before,
    seal_pending,
    verify_chain,
)
from resolvers.context import Context, Services
from schema.root import schema
from security.clock import SettableClock
from tests.support import (
    LOGIN,
    ME,
    PASSWORD,
    Caller,
    Mailbox,
    empty_postgres_database,
    link_token,
    log_in,
    request_reset,
    reset_password,
    run_cli,
    serving,
)
from tests.test_register_user import REGISTER, form

Row = tuple[str, str, str | None]


async def trail(user: User | None = None) -> list[Row]:
    """(type, outcome, detail) of the events (of ``user``), oldest first."""
    events = AuditEvent.all() if user is None else AuditEvent.filter(user_id=user.id)
    return [(e.type.value, e.outcome, e.detail) async for e in events.order_by("id")]


async def login(execute: Caller, auth_id: str, password: str) -> dict[str, Any]:
    data = await execute(LOGIN, {"authId": auth_id, "password": password})
    result: dict[str, Any] = data["login"]
    return result


async def test_logins_failures_and_the_lock_are_recorded(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    clock.advance(timedelta(seconds=1, microseconds=123457))
    token = await log_in(execute, user.auth_id)
    for _ in range(5):
        await login(execute, user.auth_id, "Wrong2026$")
    await login(execute, user.auth_id, PASSWORD)  # locked: not even checked

    assert await trail(user) == [
        ("login_succeeded", "OK", None),
        *[("login_failed", "WZBAM005E", "login")] * 4,
        ("login_locked", "WZBAM153E", "login"),
        ("login_failed", "WZBAM153E", "login"),
    ]
    assert token
    first = await AuditEvent.filter(user_id=user.id).order_by("id").first()
    assert first is not None
    assert first.auth_id == user.auth_id
    # The service clock's time, read back as it was written (to the microsecond).
    assert first.at == clock.now()


async def test_an_unknown_id_is_recorded_without_an_account_and_a_password_never(
    execute: Caller,
) -> None:
    await login(execute, "ZZZZZZZZZZ", "Wrong2026$")
    await login(execute, "MY PASSWORD IS SAKURA", "Wrong2026$")

    rows = await AuditEvent.all().order_by("id")
    assert [(r.type, r.user_id, r.auth_id) for r in rows] == [
        (AuditType.LOGIN_FAILED, None, "ZZZZZZZZZZ"),
        # Not shaped like an issued ID (users type passwords there): not kept.
        (AuditType.LOGIN_FAILED, None, None),
    ]
    assert "SAKURA" not in json.dumps([r.content() for r in rows])


async def test_status_refusals_tickets_displacement_time_out_and_logout(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    first = await log_in(execute, user.auth_id)
    second = await log_in(execute, user.auth_id)  # displaces the first
    clock.advance(timedelta(minutes=31))
    await execute(ME, token=second)  # timed out
    third = await log_in(execute, user.auth_id)
    await execute("mutation { logout { __typename } }", token=third)
    await User.filter(id=user.id).update(status=AccountStatus.SUSPENDED)
    await login(execute, user.auth_id, PASSWORD)
    await User.filter(id=user.id).update(
        status=AccountStatus.ACTIVE, password_expires_at=clock.now()
    )
    await login(execute, user.auth_id, PASSWORD)  # a change ticket

    assert first
    assert await trail(user) == [
        ("login_succeeded", "OK", None),
        ("session_displaced", "OK", None),
        ("login_succeeded", "OK", None),
        ("session_timed_out", "OK", None),
        ("login_succeeded", "OK", None),
        ("logged_out", "OK", None),
        ("login_failed", "WZBAM155E", "login"),
        ("login_succeeded", "WZBAM158E", None),
    ]


REAUTHENTICATE = """
mutation($p: String!) { reauthenticate(input: {password: $p}) { __typename } }
"""
CHANGE = """
mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c,
  newPassword: $n, newPasswordConfirm: $n}) { __typename } }
"""


async def test_password_checks_and_changes_are_recorded(
    execute: Caller, user: User
) -> None:
    token = await log_in(execute, user.auth_id)
    await execute(REAUTHENTICATE, {"p": "Wrong2026$"}, token=token)
    await execute(REAUTHENTICATE, {"p": PASSWORD}, token=token)
    await execute(CHANGE, {"c": "Wrong2026$", "n": "Hinoki2027#"}, token=token)
    await execute(CHANGE, {"c": PASSWORD, "n": "Hinoki2027#"}, token=token)

    assert (await trail(user))[1:] == [
        ("login_failed", "WZBAM154E", "reauthenticate"),
        ("reauthenticated", "OK", None),
        ("login_failed", "WZBAM154E", "change_password"),
        ("password_changed", "OK", None),
    ]


UPDATE = """
mutation($i: UpdateUserInfoInput!) { updateUserInfo(input: $i) { __typename } }
"""
REVERT = """
mutation($t: String!) { revertEmailChange(input: {token: $t}) { __typename } }
"""


async def test_registration_links_and_account_changes_are_recorded(
    execute: Caller, mailbox: Mailbox
) -> None:
    await execute(REGISTER, form())
    await execute(REGISTER, form())  # the same address again
    user = await User.get(email="an@example.com")
    [setup, existing] = await mailbox.deliver()
    assert existing["To"] == setup["To"]
    await execute(
        "mutation($t: String!) { registerPassword(input: {token: $t, password: "
        '"Hoshi#2027x", passwordConfirm: "Hoshi#2027x"}) { __typename } }',
        {"t": link_token(setup)},
    )
    token = await log_in(execute, user.auth_id, "Hoshi#2027x")
    await request_reset(execute, user.auth_id, user.email)
    await mailbox.deliver()
    new = "new.an@example.com"
    await execute(
        UPDATE,
        {
            "i": {
                "newEmail": new,
                "newEmailConfirm": new,
                "newPhone": "0312345678",
                "newAddress": {"municipalityCode": "131041", "street": "西新宿２"},
            }
        },
        token=token,
    )
    notice = next(m for m in await mailbox.deliver() if m["To"] != new)
    await execute(REVERT, {"t": link_token(notice)})
    [reset_mail] = await mailbox.deliver()
    await reset_password(execute, link_token(reset_mail), "Tsuki#2028y")

    assert await trail(user) == [
        ("registered", "OK", "new address"),
        ("link_issued", "OK", "password_setup"),
        ("registered", "OK", "existing address"),
        ("link_used", "OK", "password_setup"),
        ("password_registered", "OK", None),
        ("login_succeeded", "OK", None),
        ("link_issued", "OK", "password_reset"),
        ("address_changed", "OK", None),
        ("phone_changed", "OK", None),
        ("email_changed", "OK", "new mailbox"),
        ("link_voided", "OK", "password_setup,password_reset"),
        ("link_issued", "OK", "email_revert"),
        ("link_used", "OK", "email_revert"),
        ("email_change_reverted", "OK", None),
        ("link_issued", "OK", "password_reset"),
        ("link_used", "OK", "password_reset"),
        ("password_reset", "OK", None),
    ]


async def test_limits_hit_are_recorded(user: User, with_policy: Any) -> None:
    limited = Caller(services=with_policy(email_change_limit=1))
    token = await log_in(limited, user.auth_id)
    for address in ("a@example.com", "b@example.com"):
        await limited(
            UPDATE,
            {"i": {"newEmail": address, "newEmailConfirm": address}},
            token=token,
        )

    [hit] = await AuditEvent.filter(type=AuditType.LIMIT_HIT)
    assert (hit.user_id, hit.outcome, hit.detail) == (
        user.id,
        "RASX004E",
        "email-changes",
    )


async def test_a_rolled_back_change_leaves_no_event(
    execute: Caller, user: User, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await log_in(execute, user.auth_id)
    before = await trail(user)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the outbox is gone")

    # The mail is the last write of changePassword's transaction.
    monkeypatch.setattr("resolvers.password.enqueue", broken)
    result = await schema.execute(
        CHANGE,
        {"c": PASSWORD, "n": "Hinoki2027#"},
        context_value=Context(services=services, bearer=token),
    )

    assert result.errors is not None  # WZBAM098E
    assert await trail(user) == before
    assert (await User.get(id=user.id)).password_hash == user.password_hash
    assert await AuditPending.all().count() == await AuditEvent.all().count()


async def test_http_requests_record_their_origin(
    http: httpx.AsyncClient, user: User
) -> None:
    agent = "Mozilla/5.0 " + "x" * 400
    response = await http.post(
        "/graphql",
        json={
            "query": LOGIN,
            "variables": {"authId": user.auth_id, "password": PASSWORD},
        },
        headers={"User-Agent": agent},
    )

    [event] = await AuditEvent.filter(type=AuditType.LOGIN_SUCCEEDED)
    assert event.client == "127.0.0.1"
    assert event.user_agent == agent[:USER_AGENT_CHARS]
    assert event.request_id == response.headers["x-request-id"]


# --- sealing and verification ------------------------------------------------


async def recorded_run(execute: Caller, user: User) -> None:
    """A few events of several kinds, sealed in two passes."""
    await log_in(execute, user.auth_id)
    await login(execute, user.auth_id, "Wrong2026$")
    await seal_pending(now=execute.services.clock.now())
    await log_in(execute, user.auth_id)
    await login(execute, "ZZZZZZZZZZ", "Wrong2026$")
    await seal_pending(now=execute.services.clock.now())


async def sql(statement: str) -> None:
    await connections.get("default").execute_script(statement)


async def test_sealing_chains_every_event_and_verify_passes(
    execute: Caller, user: User
) -> None:
    await recorded_run(execute, user)
    await login(execute, user.auth_id, "Wrong2026$")  # not sealed yet

    found = await verify_chain()

    head = await AuditChain.get(id=1)
    assert (found.problem, found.seals, found.events, found.pending) == (None, 2, 5, 1)
    assert found.head == head.hash != GENESIS
    assert await AuditPending.all().count() == 1
    assert await seal_pending(now=execute.services.clock.now()) == 1
    assert (await verify_chain()).pending == 0


@pytest.mark.parametrize(
    ("tampering", "problem"),
    [
        (
            "UPDATE audit_events SET outcome = 'OK' WHERE id = {e2}",
            "event {e2}: changed",
        ),
        ("DELETE FROM audit_events WHERE id = {e3}", "event {e3}: deleted"),
        (  # two rows swap places (and so their ids)
            "UPDATE audit_events SET id = -1 WHERE id = {e1}; "
            "UPDATE audit_events SET id = {e1} WHERE id = {e2}; "
            "UPDATE audit_events SET id = {e2} WHERE id = -1",
            "event {e1}: changed",
        ),
        ("DELETE FROM audit_seals WHERE seq = 1", "seal 1: deleted (the chain"),
        ("DELETE FROM audit_seals WHERE seq = 2", "seal 2: the chain's head"),
        ("UPDATE audit_seals SET hash = prev_hash WHERE seq = 1", "seal 1: changed"),
        (
            "INSERT INTO audit_events (id, at, type, outcome) VALUES "
            "({e4} + 1000, '2026-04-01 09:00:00+00:00', 'login_succeeded', 'OK')",
            "event {e4+1000}: neither sealed nor waiting",
        ),
    ],
)
async def test_verify_names_the_first_bad_row(
    execute: Caller, user: User, tampering: str, problem: str
) -> None:
    await recorded_run(execute, user)
    assert (await verify_chain()).problem is None
    ids = {
        f"e{n}": row.id
        for n, row in enumerate(await AuditEvent.all().order_by("id"), 1)
    }
    ids["e4+1000"] = ids["e4"] + 1000

    await sql(tampering.format(**ids))

    found = await verify_chain()
    assert found.problem is not None
    assert found.problem.startswith(problem.format(**ids)), found.problem


async def test_the_cli_verifies_and_fails_after_tampering(
    execute: Caller, user: User, db: str
) -> None:
    await recorded_run(execute, user)

    first = await AuditEvent.all().order_by("id").first()
    assert first is not None

    intact = run_cli(["audit", "verify"], db)
    edit = "UPDATE audit_events SET client = '203.0.113.9' WHERE id = {}"
    await sql(edit.format(first.id))
    broken = run_cli(["audit", "verify"], db)

    assert intact.returncode == 0, intact.stderr
    assert "audit trail intact: 2 seals, 5 events sealed" in intact.stdout
    assert broken.returncode == 1
    assert f"event {first.id}: changed since seal 1" in broken.stderr


async def test_tail_prints_events_as_json_lines_with_filters(
    execute: Caller, user: User, db: str
) -> None:
    await recorded_run(execute, user)

    everything = run_cli(["audit", "tail", "--json"], db)
    mine = run_cli(["audit", "tail", "--json", "--user", user.auth_id], db)
    failed = run_cli(["audit", "tail", "--type", "login_failed"], db)
    since = run_cli(["audit", "tail", "--since", "2099-01-01T00:00:00Z"], db)
    wrong = run_cli(["audit", "tail", "--since", "yesterday"], db)

    rows = [json.loads(line) for line in everything.stdout.splitlines()]
    assert [r["type"] for r in rows] == [
        "login_succeeded",
        "login_failed",
        "session_displaced",
        "login_succeeded",
        "login_failed",
    ]
    # What was typed at login; other events name the account by user_id.
    assert {r["auth_id"] for r in rows} == {user.auth_id, "ZZZZZZZZZZ", None}
    assert {r["user_id"] for r in rows} == {user.id, None}
    assert len(mine.stdout.splitlines()) == 4
    assert [line.split("\t")[2] for line in failed.stdout.splitlines()] == [
        "login_failed"
    ] * 2
    assert since.stdout == ""
    assert wrong.returncode == 2


async def test_the_retention_purge_deletes_whole_seals_and_says_so(
    execute: Caller, user: User, clock: SettableClock
) -> None:
    await recorded_run(execute, user)  # seals 1 and 2, sealed now
    clock.advance(timedelta(days=401))
    await login(execute, user.auth_id, "Wrong2026$")
    await seal_pending(now=clock.now())

    purged = await purge_before(now=clock.now(), retention=timedelta(days=400))
    await seal_pending(now=clock.now())

    assert purged == 2
    assert [s.seq async for s in AuditSeal.all().order_by("seq")] == [3, 4]
    assert await trail() == [
        ("login_failed", "WZBAM005E", "login"),
        ("audit_purged", "OK", "through seal 2"),
    ]
    assert (await verify_chain()).problem is None
    # A seal deleted without a purge saying so is tampering.
    await sql("DELETE FROM audit_seals WHERE seq = 3")
    assert (await verify_chain()).problem is not None


async def test_concurrent_sealers_never_fork_the_chain(
    execute: Caller, user: User
) -> None:
    for _ in range(30):
        await login(execute, "ZZZZZZZZZZ", "Wrong2026$")

    sealed = await asyncio.gather(
        *(seal_pending(now=execute.services.clock.now(), batch=7) for _ in range(6))
    )

    assert sum(sealed) == 30
    found = await verify_chain()
    assert (found.problem, found.events, found.pending) == (None, 30, 0)
    assert SEAL_BATCH >= 30


def test_two_web_processes_on_postgres_make_a_chain_that_verifies(
    tmp_path: Any,
) -> None:
    async def run() -> str:
        async with empty_postgres_database("ras_audit") as url:
            create = ["user", "create", "--email", "a@example.com", "--name", "Taro"]
            created = run_cli([*create, "--password", PASSWORD], url)
            assert created.returncode == 0, created.stderr
            auth_id = created.stdout.strip()
            with serving(
                url,
                "--workers",
                "2",
                RAS_MAIL_DIR=str(tmp_path),
                RAS_AUDIT_SEAL_SECONDS="0.2",
            ) as served:
                async with httpx.AsyncClient(base_url=served.url, timeout=60) as client:
                    answers = await asyncio.gather(
                        *(
                            client.post(
                                "/graphql",
                                json={
                                    "query": LOGIN,
                                    "variables": {
                                        "authId": auth_id,
                                        "password": PASSWORD
                                        if n % 2
                                        else "Wrong2026$x",
                                    },
                                },
                            )
                            for n in range(24)
                        )
                    )
                    assert all(a.status_code == 200 for a in answers)
                    await asyncio.sleep(1.5)  # both workers seal meanwhile
            return run_cli(["audit", "verify"], url).stdout

    verified = asyncio.run(run())
    assert verified.startswith("audit trail intact: "), verified
    # Every one of the 24 logins left an event (the lock adds its own).
    sealed = int(verified.split(" seals, ")[1].split(" events")[0])
    assert sealed >= 24, verified
    assert " 0 waiting to be sealed" in verified
