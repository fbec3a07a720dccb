"""Several processes on one SQLite file (`serve --workers N` on the embedded
default): a transaction takes the write lock when it begins, so another
process's write waits for it instead of making it fail with "database is
locked" (WZBAM098E), and a BEGIN that times out leaves the process usable."""

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction

from app.database import connected, migrate
from models import User
from tests.support import LOGIN, PASSWORD, run_cli, serving


async def _database(path: Path, **params: str) -> str:
    url = f"sqlite://{path}"
    await migrate(url)
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"{url}?{query}" if query else url


async def _account(auth_id: str) -> User:
    return await User.create(
        auth_id=auth_id,
        name="TARO",
        email=f"{auth_id.lower()}@example.com",
        created_at=datetime.now(UTC),
    )


async def test_a_write_from_another_process_waits_for_the_transaction(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite3"
    url = await _database(path)
    other_done: list[float] = []

    def other_process_writes() -> None:
        with sqlite3.connect(path, timeout=10) as other:
            other.execute("UPDATE users SET phone = '0311112222'")
        other_done.append(time.monotonic())

    async with connected(url):
        user = await _account("SHARED0001")
        async with in_transaction() as conn:
            await User.filter(id=user.id).using_db(conn).first()  # read first
            writer = threading.Thread(target=other_process_writes)
            writer.start()
            await asyncio.sleep(0.3)
            waited = not other_done
            # With a deferred BEGIN this write failed: the other process had
            # committed since this transaction's read ("database is locked").
            await User.filter(id=user.id).using_db(conn).update(phone="0399998888")
            committed = time.monotonic()
        await asyncio.to_thread(writer.join, 10)
        stored = await User.get(id=user.id)

    assert waited
    assert other_done
    assert other_done[0] >= committed
    assert stored.phone == "0311112222"  # the other write came after ours


async def test_a_begin_that_times_out_leaves_the_process_usable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.sqlite3"
    url = await _database(path, busy_timeout="200")
    holding = threading.Event()
    release = threading.Event()

    def other_process_holds_the_write_lock() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        holding.set()
        release.wait(10)
        other.execute("COMMIT")
        other.close()

    async with connected(url):
        await _account("BUSY000001")
        holder = threading.Thread(target=other_process_holds_the_write_lock)
        holder.start()
        await asyncio.to_thread(holding.wait, 10)
        with pytest.raises(TransactionManagementError):
            async with in_transaction() as conn:
                await User.all().using_db(conn).count()
        release.set()
        await asyncio.to_thread(holder.join, 10)
        # Tortoise's own context kept the connection's lock after a failed
        # BEGIN, and every later query of the process waited forever.
        count = await asyncio.wait_for(User.all().count(), timeout=5)
        async with in_transaction() as conn:
            await User.filter(auth_id="BUSY000001").using_db(conn).update(phone="1")

    assert count == 1


def test_parallel_logins_on_two_web_processes_never_answer_098e(
    tmp_path: Path,
) -> None:
    url = f"sqlite://{tmp_path / 'two.sqlite3'}"
    users = 6
    auth_ids = []
    args = ["user", "create", "--name", "Taro", "--password", PASSWORD]
    for n in range(users):
        created = run_cli([*args, "--email", f"u{n}@example.com"], url)
        assert created.returncode == 0, created.stderr
        auth_ids.append(created.stdout.strip())

    async def rounds(base: str) -> Counter[str]:
        answers: Counter[str] = Counter()
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for _ in range(4):
                replies = await asyncio.gather(
                    *(
                        client.post(
                            "/graphql",
                            json={
                                "query": LOGIN,
                                "variables": {
                                    "authId": auth_ids[n % users],
                                    "password": PASSWORD,
                                },
                            },
                        )
                        for n in range(4 * users)
                    )
                )
                for reply in replies:
                    body = reply.json()
                    data = body.get("data") or {}
                    login = data.get("login") or {}
                    answers[login.get("__typename") or str(body.get("errors"))] += 1
        return answers

    with serving(
        url,
        "--workers",
        "2",
        "--no-migrate",
        RAS_MAIL_DIR=str(tmp_path / "mail"),
        RAS_CLIENT_LOGIN_FAILURE_LIMIT="1000",
    ) as server:
        answers = asyncio.run(rounds(server.url))
    log = server.output

    assert answers == Counter({"LoginSuccess": 4 * 4 * users}), answers
    assert "database is locked" not in log
    assert "incident" not in log
