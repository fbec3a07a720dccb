"""The scale-out proof: two web processes (`serve --workers 2 --no-worker`) and
two mail `worker` processes on one PostgreSQL database, over real HTTP.

Which web process answered a request is read from the kernel (the process that
holds the server end of its TCP connection), and requests are sent to a chosen
process over keep-alive connections kept because they landed on it. Each part
sends half of its requests to each process, in parallel:

1. the lockout is counted exactly: wrong logins for one 認証ID (an account's,
   or one that does not exist) get threshold-1 × 005E and then 153E, the
   counter stops at the threshold, and the audit trail holds one event per
   request, no more and no fewer;
2. one session per user: a user logged in through both processes at once keeps
   exactly one valid token, and the other answers 099E in both processes;
3. limits per client address are shared: failed logins and registrations of
   one address are cut off exactly at the limit, although each process alone
   saw fewer requests than the limit;
4. the worker processes deliver every mail exactly once;
5. the audit trail written by both web processes and sealed by both workers
   verifies (`ras-identity audit verify` exits 0, and 1 once an event is
   changed).
"""

import asyncio
import os
import re
import signal
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httpx
import pytest

from models import (
    AuditEvent,
    AuditType,
    LoginThrottle,
    MailKind,
    MailStatus,
    OutboxMail,
    RequestEvent,
    RevokeReason,
    User,
    UserSession,
)
from resolvers.context import Services
from resolvers.operator import create_user
from security.tokens import new_auth_id, token_hash
from tests.support import (
    BACKENDS,
    CLI,
    LOGIN,
    ME,
    PASSWORD,
    CountingHasher,
    SmtpServer,
    free_port,
    run_cli,
)
from tests.test_register_user import REGISTER, form
from tests.test_worker_process import WorkerProcess

THRESHOLD = 5
CLIENT_LOGIN_LIMIT = 24
CLIENT_REGISTRATION_LIMIT = 20
# Both kinds of processes run with these; argon2 stays at production's cost
# (the settings refuse anything cheaper).
SETTINGS = {
    "RAS_ENVIRONMENT": "development",
    "RAS_ANSWER_FLOOR_MS": "0",
    "RAS_LOCKOUT_THRESHOLD": str(THRESHOLD),
    "RAS_CLIENT_LOGIN_FAILURE_LIMIT": str(CLIENT_LOGIN_LIMIT),
    "RAS_CLIENT_REGISTRATION_LIMIT": str(CLIENT_REGISTRATION_LIMIT),
    "RAS_SECRET_KEY": "scale-out-test-secret-key-0123456789",
    "RAS_AUDIT_SEAL_SECONDS": "0.2",
    # One mail per claim, so that both workers take part.
    "RAS_MAIL_BATCH_SIZE": "1",
}
WRONG = "Wrong2026$"
DISPLACED = {"__typename": "DuplicateLoginError", "code": "WZBAM099E"}

# --- which process answered ---------------------------------------------------


def _endpoint(text: str) -> tuple[str, int]:
    """An address:port of /proc/net/tcp (the address in host byte order)."""
    address, port = text.split(":")
    packed = int(address, 16).to_bytes(4, sys.byteorder)
    return socket.inet_ntoa(packed), int(port, 16)


def _server_socket(port: int, client: tuple[str, int]) -> str | None:
    """The inode of the server end of the established connection from
    ``client`` to 127.0.0.1:``port``."""
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if (
                state == "01"  # ESTABLISHED
                and _endpoint(local) == ("127.0.0.1", port)
                and _endpoint(remote) == client
            ):
                return inode
    return None


def _holder(inode: str, pids: Sequence[int]) -> int | None:
    """Which of ``pids`` holds the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:  # closed meanwhile
                continue
    return None


# --- the processes -------------------------------------------------------------

STARTED = re.compile(r"Started server process \[(\d+)\]")


class WebProcesses:
    """`ras-identity serve --workers 2 --no-worker` on a free loopback port, with
    the PIDs of its two web processes (from uvicorn's log) and the log."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.pids: list[int] = []
        self.complete = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, database_url: str, **env: str) -> "WebProcesses":
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("RAS_")}
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            *CLI,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-worker",
            "--no-migrate",
            env={**inherited, "RAS_DATABASE_URL": database_url, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        web = cls(process, port)
        try:
            async with asyncio.timeout(60):
                await web._until_ready()
        except BaseException:
            await web.stop()
            raise
        return web

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            if started := STARTED.search(line):
                self.pids.append(int(started.group(1)))
            if "Application startup complete" in line:
                self.complete += 1

    async def _until_ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while True:
                if self.process.returncode is not None:
                    pytest.fail(f"serve exited early:\n{self.log}")
                if self.complete == 2 and len(self.pids) == 2:
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                await asyncio.sleep(0.05)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def answered_by(self, reply: httpx.Response) -> int:
        """The PID of the web process that answered ``reply`` (its connection
        is still open: keep-alive)."""
        client = reply.extensions["network_stream"].get_extra_info("client_addr")
        inode = _server_socket(self.port, (client[0], client[1]))
        pid = _holder(inode, self.pids) if inode else None
        assert pid is not None, f"no web process holds the connection from {client}"
        return pid

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await self.process.wait()
            await self._reader
        return code


@dataclass(frozen=True)
class Answer:
    """The one field of a GraphQL answer, which process gave it, and its
    Retry-After header."""

    result: dict[str, Any]
    pid: int
    retry_after: str | None


@dataclass(frozen=True)
class Connection:
    """One keep-alive HTTP connection from a client address to one web process."""

    web: WebProcesses
    client: httpx.AsyncClient
    pid: int

    async def call(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> Answer:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        reply = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert "errors" not in body, body
        [result] = body["data"].values()
        return Answer(
            result, self.web.answered_by(reply), reply.headers.get("retry-after")
        )


async def _connect(web: WebProcesses, source: str) -> Connection:
    transport = httpx.AsyncHTTPTransport(
        local_address=source, limits=httpx.Limits(max_connections=1)
    )
    client = httpx.AsyncClient(base_url=web.url, transport=transport, timeout=30)
    reply = await client.get("/healthz")
    assert reply.status_code == 200
    return Connection(web, client, web.answered_by(reply))


@asynccontextmanager
async def connections(
    web: WebProcesses, source: str, per_process: int
) -> AsyncIterator[tuple[list[Connection], list[Connection]]]:
    """``per_process`` connections from ``source`` on each of the two web
    processes (the first's, the second's). The kernel hands a new connection to
    whichever process accepts first, so connections are opened until each
    process holds enough of them."""
    kept: dict[int, list[Connection]] = {pid: [] for pid in web.pids}
    async with AsyncExitStack() as stack:
        for _ in range(50):
            if all(len(held) >= per_process for held in kept.values()):
                break
            for connection in await asyncio.gather(
                *(_connect(web, source) for _ in range(8))
            ):
                held = kept[connection.pid]
                if len(held) < per_process:
                    held.append(connection)
                    stack.push_async_callback(connection.client.aclose)
                else:
                    await connection.client.aclose()
        spread = {pid: len(held) for pid, held in kept.items()}
        assert all(n >= per_process for n in spread.values()), spread
        first, second = web.pids
        yield kept[first], kept[second]


def alternate(first: list[Connection], second: list[Connection]) -> list[Connection]:
    return [
        connection for pair in zip(first, second, strict=True) for connection in pair
    ]


def codes(answers: Sequence[Answer]) -> Counter[str]:
    return Counter(
        answer.result.get("code", answer.result["__typename"]) for answer in answers
    )


def answered(answers: Sequence[Answer]) -> Counter[int]:
    return Counter(answer.pid for answer in answers)


# --- the five parts ------------------------------------------------------------

LOCKOUT_ATTEMPTS = 20


async def lockout_counts_exactly(web: WebProcesses, source: str, auth_id: str) -> None:
    """Part 1, for one 認証ID (the password is right for an account's)."""
    async with connections(web, source, 4) as (first, second):
        both = alternate(first, second)
        wrong = await asyncio.gather(
            *(
                both[n % len(both)].call(
                    LOGIN, {"authId": auth_id, "password": f"Wrong{n}2026$"}
                )
                for n in range(LOCKOUT_ATTEMPTS)
            )
        )
        # Then the right password through each process: locked, not checked.
        right = await asyncio.gather(
            first[0].call(LOGIN, {"authId": auth_id, "password": PASSWORD}),
            second[0].call(LOGIN, {"authId": auth_id, "password": PASSWORD}),
        )

    half = LOCKOUT_ATTEMPTS // 2
    assert answered(wrong) == {pid: half for pid in web.pids}
    assert [answer.pid for answer in right] == web.pids
    # The attempt that reaches the threshold is answered 153E already.
    assert codes(wrong) == {
        "WZBAM005E": THRESHOLD - 1,
        "WZBAM153E": LOCKOUT_ATTEMPTS - THRESHOLD + 1,
    }, codes(wrong)
    assert codes(right) == {"WZBAM153E": 2}
    throttle = await LoginThrottle.get(key=auth_id)
    assert throttle.failures == THRESHOLD
    assert throttle.locked_until is not None
    # One event per request: the THRESHOLD password checks (failed, then the
    # one that locked) and every refused attempt, nothing lost or doubled.
    events = await AuditEvent.filter(auth_id=auth_id).values_list("type", "outcome")
    assert Counter(events) == {
        (AuditType.LOGIN_FAILED, "WZBAM005E"): THRESHOLD - 1,
        (AuditType.LOGIN_LOCKED, "WZBAM153E"): 1,
        (AuditType.LOGIN_FAILED, "WZBAM153E"): LOCKOUT_ATTEMPTS + 2 - THRESHOLD,
    }
    # And each one counted once against the client address (none forgiven).
    counted = await RequestEvent.filter(key=f"client-login:{source}").count()
    assert counted == LOCKOUT_ATTEMPTS + 2


async def one_session_per_user(web: WebProcesses, source: str, user: User) -> None:
    """Part 2: logins of one user through both processes, at once and one
    after the other; each token checked through both processes."""
    credentials = {"authId": user.auth_id, "password": PASSWORD}
    valid = {"__typename": "User", "authId": user.auth_id}
    async with connections(web, source, 1) as ([first], [second]):
        for _ in range(5):
            logins = await asyncio.gather(
                first.call(LOGIN, credentials), second.call(LOGIN, credentials)
            )
            assert [login.pid for login in logins] == web.pids
            assert codes(logins) == {"LoginSuccess": 2}
            tokens = [login.result["token"] for login in logins]
            checks = await asyncio.gather(
                *(c.call(ME, token=t) for t in tokens for c in (first, second))
            )
            assert answered(checks) == {pid: 2 for pid in web.pids}
            by_token = [
                [checks[0].result, checks[1].result],
                [checks[2].result, checks[3].result],
            ]
            assert sorted(by_token, key=str) == sorted(
                [[valid, valid], [DISPLACED, DISPLACED]], key=str
            ), by_token
            kept = tokens[by_token.index([valid, valid])]
            active = await UserSession.filter(user_id=user.id, revoked_at=None)
            assert [session.token_hash for session in active] == [token_hash(kept)]

        # One after the other: the second process's login displaces the first's.
        earlier = (await first.call(LOGIN, credentials)).result["token"]
        later = (await second.call(LOGIN, credentials)).result["token"]
        old_here = await first.call(ME, token=earlier)
        old_there = await second.call(ME, token=earlier)
        new_there = await first.call(ME, token=later)

    assert old_here.result == DISPLACED
    assert old_there.result == DISPLACED
    assert new_there.result == valid
    displaced = await UserSession.get(token_hash=token_hash(earlier))
    assert displaced.revoked_reason is RevokeReason.DISPLACED


async def client_limits_are_shared(
    web: WebProcesses, spraying: str, registering: str
) -> list[str]:
    """Part 3: each process gets fewer requests than the limit, yet the limit
    holds for their sum, exactly; then both processes refuse. Returns the
    addresses registered."""
    sprays = CLIENT_LOGIN_LIMIT + 16
    ids = [new_auth_id() for _ in range(sprays + 2)]
    assert await User.filter(auth_id__in=ids).count() == 0
    async with connections(web, spraying, 4) as (first, second):
        both = alternate(first, second)
        sprayed = await asyncio.gather(
            *(
                both[n % len(both)].call(LOGIN, {"authId": ids[n], "password": WRONG})
                for n in range(sprays)
            )
        )
        after = await asyncio.gather(
            first[0].call(LOGIN, {"authId": ids[-2], "password": WRONG}),
            second[0].call(LOGIN, {"authId": ids[-1], "password": WRONG}),
        )

    assert answered(sprayed) == {pid: sprays // 2 for pid in web.pids}
    assert sprays // 2 < CLIENT_LOGIN_LIMIT  # neither process alone reached it
    assert codes(sprayed) == {
        "WZBAM005E": CLIENT_LOGIN_LIMIT,
        "RASX004E": sprays - CLIENT_LOGIN_LIMIT,
    }, codes(sprayed)
    assert [answer.pid for answer in after] == web.pids
    assert codes(after) == {"RASX004E": 2}
    refused = [a for a in [*sprayed, *after] if a.result["code"] == "RASX004E"]
    assert all(answer.retry_after for answer in refused)
    counted = await RequestEvent.filter(key=f"client-login:{spraying}").count()
    assert counted == CLIENT_LOGIN_LIMIT
    # A refused attempt touched no ID's counter.
    checked = await LoginThrottle.filter(key__in=ids).count()
    assert checked == CLIENT_LOGIN_LIMIT
    hits = await AuditEvent.filter(
        type=AuditType.LIMIT_HIT, client=spraying, detail="client-login-failures"
    ).count()
    assert hits == len(refused)

    registrations = CLIENT_REGISTRATION_LIMIT + 10
    emails = [f"scale{n:02}@example.com" for n in range(registrations + 2)]

    def register(n: int) -> dict[str, Any]:
        return form(email=emails[n], emailConfirm=emails[n])

    async with connections(web, registering, 4) as (first, second):
        both = alternate(first, second)
        registered = await asyncio.gather(
            *(
                both[n % len(both)].call(REGISTER, register(n))
                for n in range(registrations)
            )
        )
        after = await asyncio.gather(
            first[0].call(REGISTER, register(registrations)),
            second[0].call(REGISTER, register(registrations + 1)),
        )

    assert answered(registered) == {pid: registrations // 2 for pid in web.pids}
    assert registrations // 2 < CLIENT_REGISTRATION_LIMIT
    assert codes(registered) == {
        "RegisterUserSuccess": CLIENT_REGISTRATION_LIMIT,
        "RASX004E": registrations - CLIENT_REGISTRATION_LIMIT,
    }, codes(registered)
    assert [answer.pid for answer in after] == web.pids
    assert codes(after) == {"RASX004E": 2}
    counted = await RequestEvent.filter(key=f"client-register:{registering}").count()
    assert counted == CLIENT_REGISTRATION_LIMIT
    accepted = [
        answer.result["email"]
        for answer in registered
        if answer.result["__typename"] == "RegisterUserSuccess"
    ]
    assert await User.filter(email__in=emails).count() == len(accepted)
    return accepted


async def every_mail_delivered_once(
    smtp: SmtpServer, workers: Sequence[WorkerProcess], recipients: list[str]
) -> None:
    """Part 4 (the workers have stopped)."""
    received = smtp.handler.received
    rows = await OutboxMail.all()
    assert len(rows) == len(recipients)
    assert {row.kind for row in rows} == {MailKind.REGISTRATION}
    assert [(row.status, row.attempts) for row in rows] == [(MailStatus.SENT, 1)] * len(
        rows
    )
    assert sorted(smtp.handler.message_ids()) == sorted(row.message_id for row in rows)
    assert Counter(parseaddr(str(m["To"]))[1] for m in received) == Counter(recipients)
    # Both workers took part; between them, each mail once.
    sent = [worker.sent() for worker in workers]
    assert all(n > 0 for n in sent), sent
    assert sum(sent) == len(recipients)


AUDIT_VERIFIED = re.compile(
    r"audit trail intact: (\d+) seals, (\d+) events sealed, (\d+) waiting"
)


async def audit_chain_verifies(database_url: str) -> None:
    """Part 5 (every process has stopped)."""
    verified = await asyncio.to_thread(run_cli, ["audit", "verify"], database_url)
    assert verified.returncode == 0, verified.stderr
    found = AUDIT_VERIFIED.search(verified.stdout)
    assert found is not None, verified.stdout
    seals, sealed, waiting = map(int, found.groups())
    # The workers sealed every event the web processes wrote.
    assert (sealed, waiting) == (await AuditEvent.all().count(), 0)
    assert seals > 0

    # The same check fails once a sealed event is changed.
    event = await AuditEvent.filter(type=AuditType.LOGIN_LOCKED).first()
    assert event is not None
    await AuditEvent.filter(id=event.id).update(outcome="OK")
    broken = await asyncio.to_thread(run_cli, ["audit", "verify"], database_url)
    assert broken.returncode == 1
    assert f"event {event.id}: changed" in broken.stderr


# --- the test --------------------------------------------------------------------


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL not reachable")
@pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="reads which process answered in /proc"
)
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_web_and_two_mail_processes_share_one_database(
    db: str,
    services: Services,
    real_hasher: CountingHasher,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    # Hashed at production's cost, as the web processes hash: no re-hash at login.
    production = replace(services, hasher=real_hasher)
    accounts = []
    for name in ("locked", "session"):
        created = await create_user(
            production,
            email=f"{name}@example.com",
            name="Yamada Taro",
            password=PASSWORD,
        )
        assert isinstance(created, User)
        accounts.append(created)
    locked, logged_in = accounts
    unknown = new_auth_id()
    assert not await User.exists(auth_id=unknown)

    # Each mail takes the SMTP server a moment, so that both workers take part.
    smtp.handler.on_data = lambda _: asyncio.sleep(0.05)
    env = {**SETTINGS, "RAS_SMTP_URL": smtp.url, "RAS_MAIL_DIR": str(tmp_path)}
    web = await WebProcesses.start(db, **env)
    mail_workers: list[WorkerProcess] = []
    try:
        mail_workers += await asyncio.gather(
            WorkerProcess.start(db, smtp.url, **SETTINGS),
            WorkerProcess.start(db, smtp.url, **SETTINGS),
        )
        await lockout_counts_exactly(web, "127.0.0.2", locked.auth_id)
        await lockout_counts_exactly(web, "127.0.0.3", unknown)
        await one_session_per_user(web, "127.0.0.4", logged_in)
        recipients = await client_limits_are_shared(web, "127.0.0.5", "127.0.0.6")
        await smtp.handler.wait_for(len(recipients))
        await asyncio.sleep(1)  # room for a duplicate to show up, if there were one
    finally:
        web_code = await web.stop()
        worker_codes = [await worker.stop() for worker in mail_workers]

    assert web_code == 0, web.log
    assert worker_codes == [0, 0]
    assert "incident" not in web.log  # no answer was WZBAM098E
    await every_mail_delivered_once(smtp, mail_workers, recipients)
    await audit_chain_verifies(db)
