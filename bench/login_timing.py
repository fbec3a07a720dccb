"""How long login takes, and whether an unknown auth ID answers in the same time.

Runs the real schema against a real database (a fresh SQLite file, or the
PostgreSQL URL given with --database-url) with the production argon2id
parameters. Attempts alternate between an existing ID with a wrong password and
an unknown ID, each on its own fresh ID so the lockout never triggers.

    .venv/bin/python bench/login_timing.py [--rounds 200] [--database-url URL]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from app.database import connected, migrate
from app.main import build_services
from app.settings import Settings
from models import Lang, LoginThrottle
from resolvers.context import Context
from resolvers.operator import create_user
from schema.root import schema

LOGIN = """
mutation($a: String!, $p: String!) {
  login(input: {authId: $a, password: $p}) { __typename ... on Error { code } }
}
"""
PASSWORD = "Sakura2026$"


def _summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{name:<28} n={len(ordered):<4} "
        f"p50={p50 * 1000:7.2f} ms  p95={p95 * 1000:7.2f} ms"
    )


async def main(rounds: int, database_url: str) -> None:
    await migrate(database_url)
    settings = Settings(database_url=database_url)
    services = build_services(settings)
    async with connected(database_url):
        users = []
        for n in range(rounds):
            email = f"u{n}@example.com"
            created = await create_user(
                services, email=email, name="Bench User", password=PASSWORD
            )
            assert not isinstance(created, list)
            users.append(created.auth_id)

        async def attempt(auth_id: str, password: str) -> tuple[float, str]:
            context = Context(services=services, lang=Lang.JA)
            start = time.perf_counter()
            result = await schema.execute(
                LOGIN, {"a": auth_id, "p": password}, context_value=context
            )
            elapsed = time.perf_counter() - start
            assert result.data is not None
            return elapsed, result.data["login"]["__typename"]

        known, unknown, success = [], [], []
        for n, auth_id in enumerate(users):
            elapsed, kind = await attempt(auth_id, "Wrong2026$")
            assert kind == "InvalidCredentialsError"
            known.append(elapsed)
            elapsed, kind = await attempt(f"UNKNOWN{n:03d}", "Wrong2026$")
            assert kind == "InvalidCredentialsError"
            unknown.append(elapsed)
            elapsed, kind = await attempt(auth_id, PASSWORD)
            assert kind == "LoginSuccess"
            success.append(elapsed)
        await LoginThrottle.all().delete()

        print(f"database: {database_url.split('://')[0]}, rounds: {rounds}")
        print(_summary("wrong password, known ID", known))
        print(_summary("wrong password, unknown ID", unknown))
        print(_summary("correct password", success))
        diff = statistics.median(unknown) - statistics.median(known)
        print(f"median(unknown) - median(known) = {diff * 1000:+.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    asyncio.run(main(args.rounds, url))
