"""`ras-identity mail list | show | outbox`, and `worker` / `serve` refusing to
run in production without a real SMTP server."""

from pathlib import Path

from mailer.sink import MailDirHandler
from models import User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import MakeWorker, SmtpServer, enqueue_mails, run_cli


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

    listing = run_cli(["mail", "list"], url, **env)
    limited = run_cli(["mail", "list", "--limit", "1"], url, **env)
    by_id = run_cli(["mail", "show", older], url, **env)
    by_prefix = run_cli(["mail", "show", older[:-3]], url, **env)
    newest = run_cli(["mail", "show"], url, **env)
    raw = run_cli(["mail", "show", "--raw", newer], url, **env)

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
    unknown = run_cli(["mail", "show", "nope"], url, **env)
    ambiguous = run_cli(["mail", "show", first[:8]], url, **env)
    escape = run_cli(["mail", "show", f"../{outside}"], url, **env)
    wildcard = run_cli(["mail", "show", "*"], url, **env)

    for done in (unknown, ambiguous, escape, wildcard):
        assert done.returncode == 2
        assert "mail list" in done.stderr
        assert done.stdout == ""


def test_mail_list_on_an_empty_folder_says_so(tmp_path: Path) -> None:
    done = run_cli(
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
    await enqueue_mails(services, user, count=2)
    smtp.handler.data_replies.append("451 4.3.0 Mailbox busy")
    await make_worker().deliver_batch()

    everything = run_cli(["mail", "outbox"], db)
    pending = run_cli(["mail", "outbox", "--status", "pending"], db)

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

    worker = run_cli(["worker"], url, **env)
    serve = run_cli(["serve", "--port", "1"], url, **env)

    for done in (worker, serve):
        assert done.returncode == 2
        assert "RAS_SMTP_URL: required in production" in done.stderr
        assert "RAS_PUBLIC_URL: must be https://" in done.stderr
        assert "RAS_MAIL_FROM: needs the agency" in done.stderr
        assert "RAS_DATABASE_URL: SQLite is the development database" in done.stderr
