"""Address search over real HTTP under concurrent clients, measured with wrk.

Starts `ras-identity serve` on a database holding the real address data (a fresh
SQLite file, or the PostgreSQL URL given with --database-url), then drives
`municipalities(query: …, first: 20)` with wrk (C, its own threads) from a list
of type-ahead queries: the first 1-3 characters of every municipality's name in
kanji, hiragana and romaji, in random order. Each configuration runs for
--seconds after a warm-up of the same length:

- answer cache off: every request parses, validates, queries and executes;
- answer cache on (RAS_ANSWER_CACHE_MB as set, or --cache-mb): repeated
  queries are answered from the per-process cache; a query drawn for the first
  time in a process still misses.

    apt-get install wrk   # Debian's package
    .venv/bin/python bench/address_search.py [--workers 2] [--connections 16]
        [--seconds 15] [--database-url postgres://postgres@127.0.0.1:5432/DB]
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import jaconv

from addresses.names import hepburn
from addresses.source import read_snapshot
from app.database import connected, migrate

SEARCH = (
    "query($q: String) { municipalities(query: $q, first: 20) { __typename "
    "... on MunicipalityConnection { edges { cursor node { code name kana romaji "
    "prefecture { code name } } } pageInfo { hasNextPage endCursor } } "
    "... on Error { code } } }"
)
LUA = """
local bodies = {}
for line in io.lines("%(path)s") do bodies[#bodies + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(seed * 7919)
end
%(delay)s
function request()
  local body = bodies[math.random(#bodies)]
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",%(headers)s
  }, body)
end
"""


def wrk_script(
    bodies: Path, headers: dict[str, str] | None = None, pause_ms: float = 0
) -> str:
    """A wrk script posting a random line of ``bodies`` to /graphql, with
    ``headers``; each connection waits ``pause_ms`` between its requests."""
    extra = "".join(f'\n    ["{k}"] = "{v}",' for k, v in (headers or {}).items())
    delay = f"function delay() return {pause_ms:g} end" if pause_ms else ""
    return LUA % {"path": bodies, "headers": extra, "delay": delay}


LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
SCALE = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def queries() -> list[str]:
    """Distinct type-ahead queries from every municipality's names."""
    found: set[str] = set()
    for row in read_snapshot().municipalities:
        hiragana = jaconv.kata2hira(row.kana)
        romaji = hepburn(row.kana)
        for length in (1, 2, 3):
            found.update((row.name[:length], hiragana[:length]))
            found.add(romaji[: length + 2])
    return sorted(found)


async def prepare(database_url: str) -> None:
    from datetime import UTC, datetime

    from addresses.load import load_addresses

    await migrate(database_url)
    async with connected(database_url):
        await load_addresses(now=datetime.now(UTC))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    database_url: str, port: int, workers: int, cache_mb: float | None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAS_DATABASE_URL": database_url, "RAS_LOG_LEVEL": "WARNING"}
    if cache_mb is not None:
        env["RAS_ANSWER_CACHE_MB"] = str(cache_mb)
    command = [
        str(Path(sys.executable).with_name("ras-identity")),
        "serve",
        "--port",
        str(port),
        "--no-worker",
        "--no-migrate",
        "--workers",
        str(workers),
    ]
    return healthy(subprocess.Popen(command, env=env), port)  # noqa: S603


def healthy(server: subprocess.Popen[bytes], port: int) -> subprocess.Popen[bytes]:
    """``server`` once its /healthz answers 200 (at most 30 s, else it is
    killed and the bench stops)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def run_wrk(port: int, script: Path, connections: int, seconds: int) -> str:
    done = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def summary(output: str) -> str:
    latency = {p: float(v) * SCALE[unit] for p, v, unit in LATENCY.findall(output)}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return (
        f"p50={latency['50']:6.2f} ms  p90={latency['90']:6.2f} ms  "
        f"p99={latency['99']:6.2f} ms  {float(rate[1]) if rate else 0:7.0f} req/s"
        f"{'  NON-2xx: ' + errors[1] if errors else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--cache-mb",
        type=float,
        help="RAS_ANSWER_CACHE_MB of the cached run (default: the setting's)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        help="use only this many of the distinct queries (a smaller, hotter set)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite://{workdir / 'bench.sqlite3'}"
    asyncio.run(prepare(url))
    texts = queries()
    random.Random(2026).shuffle(texts)
    texts = texts[: args.queries]
    bodies = workdir / "bodies.jsonl"
    bodies.write_text(
        "".join(
            json.dumps({"query": SEARCH, "variables": {"q": q}}, ensure_ascii=False)
            + "\n"
            for q in texts
        ),
        encoding="utf-8",
    )
    script = workdir / "search.lua"
    script.write_text(wrk_script(bodies), encoding="utf-8")
    print(
        f"database: {url.split('://')[0]}, web processes: {args.workers}, "
        f"connections: {args.connections}, distinct queries: {len(texts)}, "
        f"cpus: {os.cpu_count()}"
    )
    for label, cache_mb in (
        ("answer cache off", 0),
        ("answer cache on", args.cache_mb),
    ):
        port = free_port()
        server = start_server(url, port, args.workers, cache_mb)
        try:
            run_wrk(port, script, args.connections, args.seconds)  # warm-up
            print(
                f"{label:<18} "
                + summary(run_wrk(port, script, args.connections, args.seconds))
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
