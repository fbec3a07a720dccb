"""`ras-identity mail list | show | outbox`, and `worker` / `serve` refusing to
run in production without a real SMTP server."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from tortoise.transactions import in_transaction

from mailer.outbox import enqueue
from mailer.render import PasswordResetLink
from mailer.sink import MailDirHandler
from mailer.worker import DeliveryWorker
from models import User
from schema.context import Services
from security.clock import SettableClock
from tests.conftest import SmtpServer
from tests.test_cli import _run

MakeWorker = Callable[..., DeliveryWorker]


def file_mail(folder: Path, subject: str, body: str) -> str:
    message = (
        "From: no-reply@localhost\r\nTo: taro@example.com\r\n"
        f"Subject: {subject}\r\nDate: Thu, 26 Nov 2026 16:00:00 +0900\r\n"
        "Message-ID: <m@localhost>\r\n\r\n"
        f"{body}\r\n"
    )
    return MailDirHandler(folder).store(message.encode()).stem


def test_mail_list_shows_newest_first_and_show_prints_the_text(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    older = file_mail(folder, "first", "one")
    newer = file_mail(folder, "second", "two")
    env = {"RAS_MAIL_DIR": str(folder)}
    url = f"sqlite://{tmp_path / 'unused.sqlite3'}"

    listing = _run(["mail", "list"], url, **env)
    limited = _run(["mail", "list", "--limit", "1"], url, **env)
    by_id = _run(["mail", "show", older], url, **env)
    by_prefix = _run(["mail", "show", older[:-3]], url, **env)
    newest = _run(["mail", "show"], url, **env)
    raw = _run(["mail", "show", "--raw", newer], url, **env)

    lines = listing.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [newer, older]
    assert "second" in lines[0]
    assert limited.stdout.splitlines() == lines[:1]
    assert "Subject: first" in by_id.stdout
    assert by_id.stdout.rstrip().endswith("one")
    assert by_prefix.stdout == by_id.stdout
    assert "Subject: second" in newest.stdout
    assert raw.stdout.startswith("From: no-reply@localhost")


def test_mail_show_refuses_an_unknown_or_ambiguous_id(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    first = file_mail(folder, "a", "a")
    file_mail(folder, "b", "b")
    env = {"RAS_MAIL_DIR": str(folder)}
    url = f"sqlite://{tmp_path / 'unused.sqlite3'}"

    outside = file_mail(tmp_path, "outside", "not in the mail folder")
    unknown = _run(["mail", "show", "nope"], url, **env)
    ambiguous = _run(["mail", "show", first[:8]], url, **env)
    escape = _run(["mail", "show", f"../{outside}"], url, **env)
    wildcard = _run(["mail", "show", "*"], url, **env)

    for done in (unknown, ambiguous, escape, wildcard):
        assert done.returncode == 2
        assert "mail list" in done.stderr
        assert done.stdout == ""


def test_mail_list_on_an_empty_folder_says_so(tmp_path: Path) -> None:
    done = _run(
        ["mail", "list"],
        f"sqlite://{tmp_path / 'unused.sqlite3'}",
        RAS_MAIL_DIR=str(tmp_path / "none"),
    )

    assert done.returncode == 0
    assert done.stdout == ""
    assert "no mail under" in done.stderr


async def test_mail_outbox_lists_status_attempts_and_error_without_bodies(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    db: str,
) -> None:
    async with in_transaction() as conn:
        for token in ("first-secret-token", "second-secret-token"):
            await enqueue(
                services.composer,
                PasswordResetLink(
                    to=user.email,
                    name=user.name,
                    token=token,
                    link_expires_at=clock.now() + timedelta(hours=1),
                ),
                now=clock.now(),
                using_db=conn,
            )
    smtp.handler.data_replies.append("451 4.3.0 Mailbox busy")
    await make_worker().deliver_batch()

    everything = _run(["mail", "outbox"], db)
    pending = _run(["mail", "outbox", "--status", "pending"], db)

    assert everything.returncode == 0, everything.stderr
    rows = [line.split("\t") for line in everything.stdout.splitlines()[1:]]
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("sent", "password_reset", "t***@example.com", "1"),
        ("pending", "password_reset", "t***@example.com", "1"),
    ]
    assert rows[1][-1] == "451 4.3.0 Mailbox busy"
    assert len(pending.stdout.splitlines()) == 2
    for output in (everything.stdout, pending.stdout):
        assert "secret-token" not in output
        assert "taro@example.com" not in output


def test_worker_and_serve_refuse_production_without_smtp(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'x.sqlite3'}"
    env = {"RAS_ENVIRONMENT": "production", "RAS_SMTP_URL": ""}

    worker = _run(["worker"], url, **env)
    serve = _run(["serve", "--port", "1"], url, **env)

    for done in (worker, serve):
        assert done.returncode == 2
        assert "RAS_SMTP_URL: required in production" in done.stderr
        assert "RAS_PUBLIC_URL: must be https://" in done.stderr
        assert "RAS_MAIL_FROM: needs the agency" in done.stderr
