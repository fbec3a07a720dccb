"""Every speed target of the service in one run: `bench/run`.

The service is started as a user runs it (`ras-identity serve`, one web
process, the delivery worker inside), on a fresh SQLite file and, when it is
reachable, on a fresh PostgreSQL database, and loaded over real HTTP on
127.0.0.1 from separate processes: wrk (Debian's package) when it is
installed, else bench/load.py (a bounded asyncio client). Ratios are measured
side by side in the same run, because this machine is shared and absolute
times drift. Prints one table: each figure per database, its target, and
whether it is met.

Two settings differ from the defaults, both for the load generator's sake:
RAS_CLIENT_LOGIN_FAILURE_LIMIT (every request comes from 127.0.0.1, and a
login in flight counts as a failure of its address until its password proves
right) and RAS_ANSWER_CACHE_MB=0 (the address search figure is for executed
queries).

    bench/run [--seconds 10] [--mixed-seconds 60] [--backends sqlite,postgres]
        [--million 1000000] [--loader auto|wrk|python] [--smoke]

--smoke is the suite's: a second per phase, a few users, no million; it
checks that every figure is produced, never how fast.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from address_search import (
    LATENCY,
    SCALE,
    SEARCH,
    free_port,
    healthy,
    queries,
    wrk_script,
)
from address_search import prepare as prepare_addresses
from audit_cost import PASSWORD, production_hasher
from audit_cost import prepare as prepare_accounts
from tortoise import connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app.database import connected

BENCH = Path(__file__).resolve().parent
LOGIN = (
    "mutation($a: String!, $p: String!) { login(input: {authId: $a, password: $p}) "
    "{ __typename ... on LoginSuccess { token } ... on Error { code } } }"
)
ME = "{ me { __typename ... on User { authId name } } }"
POSTGRES_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Figure:
    """One row of the table: what is measured, its target and which way."""

    key: str
    label: str
    target: float
    at_least: bool
    unit: str

    def met(self, value: float) -> bool:
        return value >= self.target if self.at_least else value <= self.target

    def shown_target(self) -> str:
        sign = "≥" if self.at_least else "≤"
        return f"{sign} {self.target:,.2f}".rstrip("0").rstrip(".") + self.unit


FIGURES = [
    Figure("login_ratio", "login throughput ÷ hashing ceiling", 0.90, True, ""),
    Figure("me_rate", "`me` throughput, 1 process, 16 connections", 1200, True, "/s"),
    Figure("me_bare", "`me` ÷ bare Starlette route, same DB work", 0.75, True, ""),
    Figure("login_p99", "login p99 at 16 concurrent clients", 250, False, " ms"),
    Figure("flood_me_p99", "`me` p99 while logins saturate the CPU", 20, False, " ms"),
    Figure("search_p99", "address search executed, 16 clients: p99", 10, False, " ms"),
    Figure("document_ms", "worst accepted document parse + validate", 20, False, " ms"),
    Figure("million", "login p50 at 1M users ÷ at 1,000 (PostgreSQL)", 1.10, False, ""),
    Figure("rss_mb", "web process RSS after mixed load", 200, False, " MB"),
    Figure("mail_rate", "mails per second, outbox → local aiosmtpd", 300, True, "/s"),
]


@dataclass(frozen=True)
class Load:
    rate: float
    p50: float
    p99: float
    non_2xx: int


class Loader:
    """Runs a load from a separate process: wrk if installed, else load.py."""

    def __init__(self, workdir: Path, kind: str = "auto") -> None:
        self.wrk = None if kind == "python" else shutil.which("wrk")
        if kind == "wrk" and self.wrk is None:
            raise SystemExit("--loader wrk: wrk is not installed (apt-get install wrk)")
        self.workdir = workdir

    @property
    def name(self) -> str:
        return "wrk" if self.wrk else "bench/load.py"

    def start(
        self,
        port: int,
        bodies: list[str],
        connections: int,
        seconds: float,
        headers: dict[str, str] | None = None,
        pause_ms: float = 0,
    ) -> subprocess.Popen[str]:
        """``pause_ms``: each connection waits this long between its
        requests (a probe that must not itself take the CPU)."""
        path = self.workdir / f"bodies-{uuid.uuid4().hex[:8]}.jsonl"
        path.write_text("".join(body + "\n" for body in bodies), encoding="utf-8")
        headers = headers or {}
        if self.wrk:
            script = path.with_suffix(".lua")
            script.write_text(wrk_script(path, headers, pause_ms), encoding="utf-8")
            command = [
                self.wrk,
                f"-t{min(2, connections)}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}/",
            ]
        else:
            command = [
                sys.executable,
                str(BENCH / "load.py"),
                "--port",
                str(port),
                "--bodies",
                str(path),
                "--connections",
                str(connections),
                "--seconds",
                str(seconds),
                "--pause-ms",
                str(pause_ms),
                *(f"--header={k}: {v}" for k, v in headers.items()),
            ]
        return subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def result(self, process: subprocess.Popen[str]) -> Load:
        out, err = process.communicate(timeout=600)
        if process.returncode != 0:
            raise SystemExit(f"the load generator failed: {err or out}")
        if not self.wrk:
            data = json.loads(out)
            return Load(data["rate"], data["p50"], data["p99"], int(data["non_2xx"]))
        latency = {p: float(v) * SCALE[unit] for p, v, unit in LATENCY.findall(out)}
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if rate is None or "99" not in latency:
            raise SystemExit(f"wrk printed no result:\n{out}")
        return Load(
            float(rate[1]),
            latency["50"],
            latency["99"],
            int(errors[1]) if errors else 0,
        )

    def run(
        self,
        port: int,
        bodies: list[str],
        connections: int,
        seconds: float,
        headers: dict[str, str] | None = None,
    ) -> Load:
        return self.result(self.start(port, bodies, connections, seconds, headers))


# --- the service -------------------------------------------------------------


def serve(database_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`ras-identity serve` with one web process, as a user starts it."""
    port = free_port()
    env = {
        **os.environ,
        "RAS_DATABASE_URL": database_url,
        "RAS_LOG_LEVEL": "WARNING",
        "RAS_MAIL_DIR": str(workdir / "mail"),
        "RAS_SECRET_KEY_FILE": str(workdir / "secret.key"),
        "RAS_CLIENT_LOGIN_FAILURE_LIMIT": "100000",
        "RAS_ANSWER_CACHE_MB": "0",
    }
    command = [
        str(Path(sys.executable).with_name("ras-identity")),
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    server = subprocess.Popen(command, env=env)  # noqa: S603
    return healthy(server, port), port


def serve_bare(database_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [
        sys.executable,
        str(BENCH / "bare_me.py"),
        "--port",
        str(port),
        "--database-url",
        database_url,
    ]
    return healthy(subprocess.Popen(command), port), port  # noqa: S603


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def post(
    port: int,
    query: str,
    variables: dict[str, str],
    headers: dict[str, str] | None = None,
) -> dict[str, object]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        data: dict[str, object] = json.load(answer)["data"]
        return data


def token_of(port: int, auth_id: str) -> str:
    answer = post(port, LOGIN, {"a": auth_id, "p": PASSWORD})["login"]
    assert isinstance(answer, dict)
    if answer.get("__typename") != "LoginSuccess":
        raise SystemExit(f"the bench's login answered {answer}")
    return str(answer["token"])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS")


def hashing_ceiling(samples: int) -> float:
    """Logins per second the cores could verify: cores ÷ the median time of
    one argon2id verification (the production parameters), measured now."""
    hasher = production_hasher()
    encoded = hasher.hash(PASSWORD)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        hasher.verify(encoded, PASSWORD)
        times.append(time.perf_counter() - start)
    return (os.cpu_count() or 1) / statistics.median(times)


# --- one database ------------------------------------------------------------


async def accounts(database_url: str, count: int) -> list[str]:
    """The address data and ``count`` accounts with PASSWORD (their 認証IDs)."""
    # Tortoise keeps each model's SQL per connection name, not per dialect:
    # SQLite's must not serve PostgreSQL when the run moves on.
    EXECUTOR_CACHE.clear()
    await prepare_addresses(database_url)
    return await prepare_accounts(database_url, count, "")


def login_bodies(auth_ids: list[str]) -> list[str]:
    return [
        json.dumps({"query": LOGIN, "variables": {"a": a, "p": PASSWORD}})
        for a in auth_ids
    ]


def measure(
    database_url: str, args: argparse.Namespace, loader: Loader, workdir: Path
) -> dict[str, float]:
    """Every figure but the million and the mail rate, on one database."""
    auth_ids = asyncio.run(accounts(database_url, args.users + 1))
    me_user, flood = auth_ids[0], auth_ids[1:]
    logins = login_bodies(flood)
    me = [json.dumps({"query": ME})]
    search = [
        json.dumps({"query": SEARCH, "variables": {"q": q}}) for q in queries()[:3000]
    ]
    seconds, figures = args.seconds, {}
    server, port = serve(database_url, workdir)
    try:
        auth = {"Authorization": f"Bearer {token_of(port, me_user)}"}
        # Warm-up (imports, caches, the first connections), not counted.
        loader.run(port, logins[:1] + me * 8 + search[:400], 16, args.warm_up, auth)
        ceiling = hashing_ceiling(args.hash_samples)
        login = loader.run(port, logins, 16, seconds)
        figures["login_ratio"] = login.rate / ceiling
        figures["login_p99"] = login.p99
        print(
            f"  login: {login.rate:.1f}/s, ceiling {ceiling:.1f}/s, "
            f"p50 {login.p50:.1f} ms, p99 {login.p99:.1f} ms"
        )
        answer = loader.run(port, me, 16, seconds, auth)
        # The load tools see statuses only: the answers must be what is meant
        # to be measured (a typed error is a 200 too).
        probe = post(port, ME, {}, auth)["me"]
        if not isinstance(probe, dict) or probe.get("__typename") != "User":
            raise SystemExit(f"`me` answered {probe} after its load")
        figures["me_rate"] = answer.rate
        print(f"  me: {answer.rate:.0f}/s, p99 {answer.p99:.2f} ms")
        bare, bare_port = serve_bare(database_url)
        try:
            loader.run(bare_port, me, 16, args.warm_up, auth)
            floor = loader.run(bare_port, me, 16, seconds, auth)
        finally:
            stop(bare)
        figures["me_bare"] = answer.rate / floor.rate
        print(f"  bare route: {floor.rate:.0f}/s, p99 {floor.p99:.2f} ms")
        flooding = loader.start(port, logins, 16, seconds)
        time.sleep(min(1.0, seconds / 4))  # the flood is on before `me` starts
        # A probe of 2 connections pausing 10 ms between requests: it must
        # not itself take the CPU from the logins it is measured under.
        during = loader.result(
            loader.start(
                port, me, 2, seconds - min(1.0, seconds / 4), auth, pause_ms=10
            )
        )
        flooded = loader.result(flooding)
        figures["flood_me_p99"] = during.p99
        print(
            f"  me during a login flood: {during.rate:.0f}/s, p99 "
            f"{during.p99:.2f} ms (logins {flooded.rate:.1f}/s)"
        )
        found = loader.run(port, search, 16, seconds)
        probe = post(port, SEARCH, {"q": "新宿"})["municipalities"]
        if not isinstance(probe, dict) or not probe.get("edges"):
            raise SystemExit(f"the search answered {probe} after its load")
        figures["search_p99"] = found.p99
        print(f"  search: {found.rate:.0f}/s, p99 {found.p99:.2f} ms")
        mixed = logins[:1] + me * 8 + search[:400]
        loader.run(port, mixed, 16, args.mixed_seconds, auth)
        figures["rss_mb"] = rss_mb(server.pid)
        print(f"  RSS after {args.mixed_seconds:g} s mixed: {figures['rss_mb']:.0f} MB")
        failed = [x for x in (login, answer, floor, during, found) if x.non_2xx]
        if failed:
            raise SystemExit(f"answers that were not 200: {failed}")
    finally:
        stop(server)
    return figures


# --- PostgreSQL: the million -------------------------------------------------


async def seed(database_url: str, first: int, last: int, encoded: str) -> None:
    """Accounts ``first``..``last`` (認証ID S000000001…) in one statement."""
    async with connected(database_url):
        connection = connections.get("default")
        await connection.execute_query(
            "INSERT INTO users (auth_id, name, email, email_key, language, category, "
            "status, password_hash, password_changed_at, password_expires_at, "
            "created_at) SELECT 'S' || lpad(n::text, 9, '0'), 'SEED USER', "
            "'seed' || n || '@example.com', 'seed' || n || '@example.com', 'ja', "
            "'counter_coe_electronic', 'active', $1, now(), now() + interval "
            "'365 days', now() FROM generate_series($2::int, $3::int) AS n",
            [encoded, first, last],
        )
        await connection.execute_script("ANALYZE users")


def million(
    database_url: str, args: argparse.Namespace, loader: Loader, workdir: Path
) -> float:
    """Login p50 with ``args.million`` accounts ÷ with 1,000 (2 clients)."""
    encoded = production_hasher().hash(PASSWORD)
    p50 = {}
    for count, first in ((1000, 1), (args.million, 1001)):
        started = time.monotonic()
        asyncio.run(seed(database_url, first, count, encoded))
        drawn = sorted({(n * 7919) % count + 1 for n in range(1000)})
        bodies = login_bodies([f"S{n:09d}" for n in drawn])
        server, port = serve(database_url, workdir)
        try:
            token_of(port, f"S{drawn[0]:09d}")
            p50[count] = loader.run(port, bodies, 2, args.seconds).p50
        finally:
            stop(server)
        print(
            f"  {count:,} accounts (seeded in {time.monotonic() - started:.0f} s): "
            f"login p50 {p50[count]:.1f} ms"
        )
    return p50[args.million] / p50[1000]


async def _admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_reachable() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, Exception):
        return False
    return True


# --- outside the web process ---------------------------------------------------


def document_ms(smoke: bool) -> float:
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(BENCH / "validation_cost.py"),
            "--repeat",
            "1" if smoke else "5",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"worst accepted: .*? (>=)?([\d.]+) ms median", done.stdout)
    if found is None:
        raise SystemExit(f"validation_cost.py printed no result:\n{done.stdout}")
    return float(found[2])


def mail_rate(database_url: str | None, smoke: bool) -> float:
    command = [
        sys.executable,
        str(BENCH / "mail_throughput.py"),
        "--mails",
        "40" if smoke else "2000",
        "--rounds",
        "5" if smoke else "50",
    ]
    if database_url:
        command += ["--database-url", database_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"([\d.]+) mails/s", done.stdout)
    if found is None:
        raise SystemExit(f"mail_throughput.py printed no result:\n{done.stdout}")
    return float(found[1])


# --- the table -----------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()}"


def table(
    results: dict[str, dict[str, float]], loader: Loader, started: float, million: int
) -> str:
    backends = list(results)
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    shown: dict[str, Callable[[float], str]] = {
        "": lambda v: f"{v:.2f}",
        "/s": lambda v: f"{v:,.0f}/s",
        " ms": lambda v: f"{v:.1f} ms",
        " MB": lambda v: f"{v:.0f} MB",
    }
    lines = [
        f"ras-identity bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, "
        f"load: {loader.name}, {time.monotonic() - started:.0f} s",
        "",
        "| figure | " + " | ".join(names[b] for b in backends) + " | target | met |",
        "|---|" + "---|" * len(backends) + "---|---|",
    ]
    for figure in FIGURES:
        values = [results[b].get(figure.key) for b in backends]
        cells = ["—" if v is None else shown[figure.unit](v) for v in values]
        measured = [v for v in values if v is not None]
        met = (
            "—" if not measured else ("yes" if all(map(figure.met, measured)) else "NO")
        )
        label = figure.label
        if figure.key == "million" and million not in (0, 1_000_000):
            label = label.replace("1M", f"{million:,}")
        lines.append(
            f"| {label} | "
            + " | ".join(cells)
            + f" | {figure.shown_target()} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--mixed-seconds", type=float, default=60)
    parser.add_argument("--warm-up", type=float, default=3)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--hash-samples", type=int, default=40)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.mixed_seconds, args.users, args.warm_up = 1, 1, 4, 1
        args.hash_samples, args.million = 3, 0
    started = time.monotonic()
    wanted = args.backends.split(",")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        loader = Loader(workdir, args.loader)
        print(f"{machine()}; load: {loader.name}")
        if "sqlite" in wanted:
            print("SQLite")
            url = f"sqlite://{workdir / 'bench.sqlite3'}"
            results["sqlite"] = measure(url, args, loader, workdir)
            results["sqlite"]["mail_rate"] = mail_rate(None, args.smoke)
        if "postgres" in wanted and postgres_reachable():
            print("PostgreSQL")
            name = f"ras_bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            url = f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
            try:
                results["postgres"] = measure(url, args, loader, workdir)
                results["postgres"]["mail_rate"] = mail_rate(url, args.smoke)
                if args.million:
                    results["postgres"]["million"] = million(url, args, loader, workdir)
            finally:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        figures = results.setdefault(next(iter(results), "sqlite"), {})
        figures["document_ms"] = document_ms(args.smoke)
        print()
        print(table(results, loader, started, args.million))


if __name__ == "__main__":
    main()
