"""Whether registerUser's answer time tells a new address from a registered one.

The answer is the same either way; this measures the time. Runs the real schema
against a real database (a fresh SQLite file, or the PostgreSQL URL given with
--database-url). Rounds alternate: a new address (an account, a link and a mail
are written) and an address registered before (only a mail to its owner).

    .venv/bin/python bench/registration_timing.py [--rounds 200] [--database-url URL]
        [--answer-ms 100]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from app.database import connected, migrate
from app.main import build_services
from app.settings import Settings
from models import Lang
from resolvers.context import Context
from schema.root import schema

REGISTER = """
mutation($i: RegisterUserInput!) { registerUser(input: $i) { __typename } }
"""


def _form(email: str) -> dict[str, Any]:
    return {
        "i": {
            "name": "Bench User",
            "dateOfBirth": "1990-01-01",
            "nationality": "VNM",
            "email": email,
            "emailConfirm": email,
            "phone": "09012345678",
            "language": "JA",
            "agreedToTerms": True,
        }
    }


def _summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    p50 = statistics.median(ordered)
    return (
        f"{name:<22} n={len(ordered):<4} p50={p50 * 1000:7.2f} ms"
        f"  p95={p95 * 1000:7.2f} ms"
    )


async def main(rounds: int, database_url: str, answer_ms: float) -> None:
    await migrate(database_url)
    settings = Settings(
        database_url=database_url,
        registration_limit=1000,
        answer_floor_ms=answer_ms,
    )
    services = build_services(settings)
    async with connected(database_url):

        async def register(email: str) -> float:
            context = Context(services=services, lang=Lang.JA)
            start = time.perf_counter()
            result = await schema.execute(REGISTER, _form(email), context_value=context)
            elapsed = time.perf_counter() - start
            assert result.data is not None
            assert result.data["registerUser"]["__typename"] == "RegisterUserSuccess"
            return elapsed

        for n in range(rounds):  # the addresses that will be "registered"
            await register(f"old{n}@example.com")
        new, old = [], []
        for n in range(rounds):
            new.append(await register(f"new{n}@example.com"))
            old.append(await register(f"old{n}@example.com"))

    print(
        f"database: {database_url.split('://')[0]}, rounds: {rounds}, "
        f"answer time floor: {answer_ms:g} ms"
    )
    print(_summary("new address", new))
    print(_summary("registered address", old))
    diff = statistics.median(new) - statistics.median(old)
    print(f"median(new) - median(registered) = {diff * 1000:+.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--answer-ms",
        type=float,
        default=100.0,
        help="RAS_ANSWER_FLOOR_MS; 0 shows the difference it hides",
    )
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    asyncio.run(main(args.rounds, url, args.answer_ms))
