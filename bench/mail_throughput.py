"""How fast mail leaves the outbox, and what enqueueing adds to a transaction.

1. Enqueue cost: in an open transaction that updates a user row (as a flow
   does), time each ``enqueue`` call (render + INSERT), and compare whole
   transactions (update + commit) with and without one enqueue.
2. Throughput: N rows are delivered by the real DeliveryWorker over real SMTP,
   one reused connection per batch, to the embedded aiosmtpd sink (which files
   every message as an .eml) running in a separate process, as a local relay
   would. Mails per second = N / time until the last row is marked SENT.

    .venv/bin/python bench/mail_throughput.py [--mails 3000] [--batch-size 50]
        [--database-url URL]   # default: a fresh SQLite file
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise.transactions import in_transaction

from app.database import connected, migrate
from app.main import build_services
from app.settings import Settings
from mailer.outbox import enqueue
from mailer.render import PasswordChanged
from mailer.sink import MailDirHandler, start_sink
from mailer.smtp import SmtpTarget, SmtpTransport
from mailer.worker import DeliveryPolicy, DeliveryWorker
from models import MailStatus, OutboxMail, User

PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$bench$bench"


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000
    return f"p50={p50:6.3f} ms  p99={p99:6.3f} ms  (n={len(ordered)})"


async def _serve_sink(port_file: Path, directory: Path) -> None:
    sink = await start_sink(MailDirHandler(directory))
    await asyncio.to_thread(port_file.write_text, str(sink.port))
    await asyncio.Event().wait()


def _start_sink_process(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port_file = folder / "port"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--serve-sink", str(folder)]
    )
    for _ in range(600):
        if port_file.exists() and port_file.read_text():
            return process, int(port_file.read_text())
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the sink did not start")


def _count_eml(folder: Path) -> int:
    return len(list(folder.glob("*.eml")))


async def measure_enqueue(user: User, rounds: int) -> None:
    services = build_services(Settings())
    calls, plain, with_mail = [], [], []
    for n in range(rounds):
        start = time.perf_counter()
        async with in_transaction() as conn:
            user.phone = f"0{n:09d}"
            await user.save(using_db=conn, update_fields=["phone"])
        plain.append(time.perf_counter() - start)

        start = time.perf_counter()
        async with in_transaction() as conn:
            user.phone = f"1{n:09d}"
            await user.save(using_db=conn, update_fields=["phone"])
            call = time.perf_counter()
            await enqueue(
                services.composer,
                PasswordChanged(
                    to=user.email, name=user.name, changed_at=datetime.now(UTC)
                ),
                now=datetime.now(UTC),
                using_db=conn,
                user_id=user.id,
            )
            calls.append(time.perf_counter() - call)
        with_mail.append(time.perf_counter() - start)
    print(f"enqueue call (render + INSERT)        {_ms(calls)}")
    print(f"transaction: update + commit          {_ms(plain)}")
    print(f"transaction: update + enqueue + commit {_ms(with_mail)}")
    print(
        "enqueue adds (median of differences)  "
        f"{(statistics.median(with_mail) - statistics.median(plain)) * 1000:.3f} ms"
    )


async def measure_throughput(user: User, mails: int, batch_size: int) -> None:
    services = build_services(Settings())
    await OutboxMail.all().delete()
    async with in_transaction() as conn:
        for _ in range(mails):
            await enqueue(
                services.composer,
                PasswordChanged(
                    to=user.email, name=user.name, changed_at=datetime.now(UTC)
                ),
                now=datetime.now(UTC),
                using_db=conn,
            )
    with tempfile.TemporaryDirectory() as folder:
        process, port = _start_sink_process(Path(folder))
        try:
            worker = DeliveryWorker(
                transport=SmtpTransport(SmtpTarget(host="127.0.0.1", port=port)),
                composer=services.composer,
                clock=services.clock,
                policy=DeliveryPolicy(batch_size=batch_size),
            )
            start = time.perf_counter()
            while await worker.deliver_batch():
                pass
            elapsed = time.perf_counter() - start
            filed = await asyncio.to_thread(_count_eml, Path(folder))
        finally:
            process.terminate()
            process.wait()
    sent = await OutboxMail.filter(status=MailStatus.SENT).count()
    print(
        f"delivered {sent}/{mails} (sink filed {filed}) in {elapsed:.2f} s: "
        f"{sent / elapsed:.0f} mails/s (batch size {batch_size})"
    )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite://{Path(scratch) / 'bench.sqlite3'}"
        await migrate(url)
        async with connected(url):
            user = await User.create(
                auth_id="BENCH23456",
                name="BENCH USER",
                email="bench@example.com",
                password_hash=PASSWORD_HASH,
                created_at=datetime.now(UTC),
            )
            print(f"database: {url.split('://')[0]}")
            await measure_enqueue(user, args.rounds)
            await measure_throughput(user, args.mails, args.batch_size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument("--serve-sink", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_sink:
        asyncio.run(_serve_sink(arguments.serve_sink / "port", arguments.serve_sink))
    else:
        asyncio.run(main(arguments))
