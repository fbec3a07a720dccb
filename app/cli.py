"""ras-identity: serve, migrate and operator commands."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from app.database import connected, migrate
from app.settings import Settings, SettingsError, load_settings

EXIT_USAGE = 2


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

    commands.add_parser("migrate", help="apply pending database migrations")

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
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    app = create_app(settings, migrate_on_start=not args.no_migrate)
    # uvicorn's access log prints query strings; app.middleware.AccessLog does not.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from app.main import build_services
    from resolvers.admin import create_user

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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"ras-identity: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _configure_logging(settings)
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "migrate":
        asyncio.run(migrate(settings.database_url))
        print("migrations applied", file=sys.stderr)
        return 0
    return asyncio.run(_create_user(settings, args))


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
