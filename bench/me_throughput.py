"""`me` throughput and latency over real HTTP, measured with wrk.

Starts `ras-identity serve --workers 1` on a fresh SQLite file (or
--database-url) with one account, logs it in, and drives `me` with its
session token from --connections wrk connections for --seconds (after a
3-second warm-up). Prints wrk's requests per second and latency
percentiles. Which event loop and HTTP parser uvicorn uses is what is
installed: uvloop and httptools are dependencies of the service.

    apt-get install wrk   # Debian's package
    cd bench && ../.venv/bin/python me_throughput.py [--seconds 15]
        [--connections 16] [--database-url postgres://…]
"""

import argparse
import asyncio
import json
import tempfile
import urllib.request
from pathlib import Path

from address_search import free_port, run_wrk
from audit_cost import LOGIN, PASSWORD, prepare, start_server

ME = '{"query":"{ me { __typename ... on User { authId name } } }"}'
LOGIN_TOKEN = LOGIN.replace("__typename", "__typename ... on LoginSuccess { token }")
SCRIPT = """wrk.method = "POST"
wrk.body = '%(body)s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
"""


def log_in(port: int, auth_id: str) -> str:
    body = json.dumps(
        {"query": LOGIN_TOKEN, "variables": {"a": auth_id, "p": PASSWORD}}
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        token: str = json.load(answer)["data"]["login"]["token"]
        return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        database_url = args.database_url or f"sqlite://{workdir}/me.sqlite3"
        (auth_id,) = asyncio.run(prepare(database_url, 1, "me"))
        port = free_port()
        server = start_server(database_url, port, 1, True, workdir)
        try:
            script = workdir / "me.lua"
            script.write_text(
                SCRIPT % {"body": ME, "token": log_in(port, auth_id)}, encoding="utf-8"
            )
            run_wrk(port, script, args.connections, 3)  # warm-up
            output = run_wrk(port, script, args.connections, args.seconds)
        finally:
            server.terminate()
            server.wait()
    for line in output.splitlines():
        if "Requests/sec" in line or ("%" in line and "ms" in line):
            print(line.strip())


if __name__ == "__main__":
    main()
