"""What the audit trail costs a login, over real HTTP, measured with wrk.

Login is bound by argon2id: the most a machine can log in is what its cores
verify. This bench measures that ceiling (production parameters, one thread per
core, nothing else running), then drives `login` for --seconds against
`ras-identity serve` (its worker, and so the sealer, running) twice per round:

- audit on: the service as it ships;
- audit off: the same service started with a ``sitecustomize`` (on
  PYTHONPATH, so that every web process loads it) that makes
  ``AuditEvent.record`` write nothing. The product has no switch for this.

Each request logs in, with the right password, as one of --users accounts
drawn at random: a session row, the displaced session's end, and two events
(session_displaced, login_succeeded) per login when the audit is on. The bench
checks that the off runs wrote no event and the on runs one or more per login,
so a variant that did not take is caught. Runs alternate (off, on, off, on…)
so that drift on the machine hits both; the medians are compared.

    apt-get install wrk   # Debian's package
    .venv/bin/python bench/audit_cost.py [--rounds 3] [--seconds 20]
        [--workers 2] [--connections 32] [--users 64]
        [--database-url postgres://postgres@127.0.0.1:5432/DB]
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from address_search import free_port, healthy, run_wrk, summary, wrk_script
from argon2 import PasswordHasher, Type

from app.database import connected, migrate
from app.main import build_services
from app.settings import Settings
from models import AuditEvent, AuditType, User
from resolvers.operator import create_user

PASSWORD = "Sakura2026$"
LOGIN = (
    "mutation($a: String!, $p: String!) { login(input: {authId: $a, password: $p}) "
    "{ __typename ... on Error { code } } }"
)
# Loaded by every process started with this folder on PYTHONPATH.
NO_AUDIT = '''
"""Bench only: the audit write does nothing (bench/audit_cost.py)."""
from models.audit import AuditEvent


async def _nothing(cls, *args, **kwargs):
    return None


AuditEvent.record = classmethod(_nothing)
'''


def production_hasher() -> PasswordHasher:
    """argon2id with the production parameters of Settings."""
    settings = Settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


def hashing_ceiling(seconds: float) -> float:
    """argon2id verifications per second with every core busy (the production
    parameters of Settings), nothing else running."""
    hasher = production_hasher()
    encoded = hasher.hash(PASSWORD)
    done = [0] * (os.cpu_count() or 1)
    stop = time.monotonic() + seconds

    def work(slot: int) -> None:
        while time.monotonic() < stop:
            hasher.verify(encoded, PASSWORD)
            done[slot] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(done))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - start)


async def prepare(database_url: str, users: int, tag: str) -> list[str]:
    await migrate(database_url)
    services = build_services(Settings(database_url=database_url))
    auth_ids = []
    async with connected(database_url):
        for n in range(users):
            created = await create_user(
                services,
                email=f"bench{tag}{n}@example.com",
                name="Bench User",
                password=PASSWORD,
            )
            assert isinstance(created, User), created
            auth_ids.append(created.auth_id)
    return auth_ids


async def count_events(database_url: str) -> tuple[int, int]:
    """(all events, successful logins among them)."""
    async with connected(database_url):
        succeeded = AuditEvent.filter(type=AuditType.LOGIN_SUCCEEDED)
        return await AuditEvent.all().count(), await succeeded.count()


def log_in_once(port: int, auth_id: str) -> str:
    """The answer's type of one login (the bench's logins must succeed)."""
    body = json.dumps({"query": LOGIN, "variables": {"a": auth_id, "p": PASSWORD}})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        kind: str = json.load(answer)["data"]["login"]["__typename"]
        return kind


def start_server(
    database_url: str, port: int, workers: int, audit: bool, workdir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RAS_DATABASE_URL": database_url,
        "RAS_LOG_LEVEL": "WARNING",
        "RAS_MAIL_DIR": str(workdir / "mail"),
        # Every request comes from 127.0.0.1, and a login in flight counts as
        # a failure of its address until its password proves right: 32 at
        # once would pass the 20 an address may fail.
        "RAS_CLIENT_LOGIN_FAILURE_LIMIT": "100000",
    }
    if not audit:
        patch = workdir / "no-audit"
        patch.mkdir(exist_ok=True)
        (patch / "sitecustomize.py").write_text(NO_AUDIT, encoding="utf-8")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(patch), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    command = [
        str(Path(sys.executable).with_name("ras-identity")),
        "serve",
        "--port",
        str(port),
        "--no-migrate",
        "--workers",
        str(workers),
    ]
    return healthy(subprocess.Popen(command, env=env), port)  # noqa: S603


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and every process
    under it (the web processes of `serve --workers N`)."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, total = {root}, 0.0
    for pid in sorted(parents):  # children have larger pids than their parents
        if pid in tree or parents[pid] in tree:
            tree.add(pid)
            total += used.get(pid, 0.0)
    return total


def rate(output: str) -> float:
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit(f"wrk printed no rate:\n{output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite://{workdir / 'bench.sqlite3'}"
    auth_ids = asyncio.run(prepare(url, args.users, workdir.name[-6:]))
    bodies = workdir / "bodies.jsonl"
    bodies.write_text(
        "".join(
            json.dumps({"query": LOGIN, "variables": {"a": a, "p": PASSWORD}}) + "\n"
            for a in auth_ids
        ),
        encoding="utf-8",
    )
    script = workdir / "login.lua"
    script.write_text(wrk_script(bodies), encoding="utf-8")

    ceiling = hashing_ceiling(args.seconds / 2)
    print(
        f"database: {url.split('://')[0]}, web processes: {args.workers}, "
        f"connections: {args.connections}, accounts: {args.users}, "
        f"cpus: {os.cpu_count()}"
    )
    print(f"hashing ceiling: {ceiling:.1f} argon2id verifications/s")
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    for n in range(args.rounds):
        for audit in (False, True):
            before = asyncio.run(count_events(url))
            port = free_port()
            server = start_server(url, port, args.workers, audit, workdir)
            try:
                kind = log_in_once(port, auth_ids[0])
                if kind != "LoginSuccess":
                    raise SystemExit(f"the bench's login answered {kind}")
                run_wrk(port, script, args.connections, 3)  # warm-up
                cpu = tree_cpu(server.pid)
                output = run_wrk(port, script, args.connections, args.seconds)
                cpu = tree_cpu(server.pid) - cpu
            finally:
                server.terminate()
                server.wait(timeout=30)
            after = asyncio.run(count_events(url))
            written, succeeded = after[0] - before[0], after[1] - before[1]
            label = "audit on " if audit else "audit off"
            per_login = cpu / (rate(output) * args.seconds) * 1000
            print(
                f"round {n + 1} {label}  {summary(output)}  "
                f"server CPU {per_login:5.1f} ms/login  events: {written}"
            )
            if audit and succeeded < rate(output) * args.seconds:
                raise SystemExit("fewer successful logins recorded than requests made")
            if not audit and written:
                raise SystemExit(
                    "the audit-off run wrote events: the patch did not take"
                )
            rates[audit].append(rate(output))
            cpus[audit].append(per_login)
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(
        f"median login/s: audit off {off:.1f} ({off / ceiling:.1%} of the ceiling), "
        f"audit on {on:.1f} ({on / ceiling:.1%}); throughput {on / off - 1:+.1%}"
    )
    off, on = statistics.median(cpus[False]), statistics.median(cpus[True])
    argon2_ms = 1000 / ceiling * (os.cpu_count() or 1)
    print(
        f"median server CPU per login: audit off {off:.2f} ms, audit on {on:.2f} ms "
        f"({on / off - 1:+.1%}); argon2id alone {argon2_ms:.2f} ms"
    )


if __name__ == "__main__":
    main()
