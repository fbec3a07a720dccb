"""ras-identity backup: a SQLite snapshot taken while the database is in use
(WAL mode, a write in progress) restores in place of the database and logs the
account in; later writes are not in it; it never overwrites a file, is readable
by its owner only, writes nothing when the copy is bad, and sends PostgreSQL to
pg_dump."""

import os
import shutil
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import httpx
import pytest

import app.backup
from app.backup import DestinationExistsError, back_up_sqlite
from tests.support import LOGIN, PASSWORD, run_cli, serving


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Path:
    """A migrated SQLite database in WAL mode, as the service leaves it."""
    path = tmp_path / "live" / "identity.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    """An empty folder for backups."""
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


def _url(path: Path) -> str:
    return f"sqlite://{path}"


def _create_account(database: Path, email: str) -> str:
    done = run_cli(
        ["user", "create", "--email", email, "--name", "Taro", "--password", PASSWORD],
        _url(database),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _column(database: Path, sql: str) -> list[object]:
    with closing(sqlite3.connect(database)) as db:
        return [row[0] for row in db.execute(sql)]


def _auth_ids(database: Path) -> set[object]:
    return set(_column(database, "SELECT auth_id FROM users"))


def test_a_restored_backup_logs_the_account_in(
    live: Path, backups: Path, tmp_path: Path
) -> None:
    auth_id = _create_account(live, "taro@example.com")
    backup = backups / "identity.sqlite3"

    # The service in the middle of a write: in WAL mode the backup does not
    # wait for it, and copies what was committed before it.
    with closing(sqlite3.connect(live, isolation_level=None)) as service:
        service.execute("BEGIN IMMEDIATE")
        service.execute("UPDATE users SET password_hash = NULL")
        done = run_cli(["backup", str(backup)], _url(live))
        service.execute("COMMIT")
    # Restore: the backup in place of a database file, and the service started.
    restored = tmp_path / "restored" / "identity.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    with serving(
        _url(restored),
        RAS_MAIL_DIR=str(tmp_path / "mail"),
        RAS_SECRET_KEY_FILE=str(tmp_path / "secret.key"),
    ) as server:
        reply = httpx.post(
            f"{server.url}/graphql",
            json={
                "query": LOGIN,
                "variables": {"authId": auth_id, "password": PASSWORD},
            },
            timeout=30,
        ).json()
    verified = run_cli(["audit", "verify"], _url(restored))
    migrations = _column(live, "SELECT name FROM tortoise_migrations ORDER BY id")

    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"backup written: {backup} ({backup.stat().st_size} bytes, mode 0600); "
        f"integrity_check ok; accounts: 1; migrations applied: {len(migrations)} "
        f"(latest {migrations[-1]})\n"
    )
    assert _column(live, "SELECT password_hash FROM users") == [None]
    assert reply["data"]["login"]["__typename"] == "LoginSuccess", reply
    assert reply["data"]["login"]["user"] == {"authId": auth_id}
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("audit trail intact: ")


def test_the_backup_is_a_snapshot_without_later_writes(
    live: Path, backups: Path
) -> None:
    first = _create_account(live, "taro@example.com")
    backup = backups / "identity.sqlite3"

    done = run_cli(["backup", str(backup)], _url(live))
    second = _create_account(live, "hanako@example.com")

    assert done.returncode == 0, done.stderr
    assert _auth_ids(live) == {first, second}
    assert _auth_ids(backup) == {first}
    # One self-contained file: rollback mode, no -wal beside it to keep.
    assert _column(backup, "PRAGMA journal_mode") == ["delete"]
    assert sorted(path.name for path in backups.iterdir()) == [backup.name]


def test_a_file_copy_under_wal_misses_what_the_backup_holds(
    live: Path, backups: Path
) -> None:
    # While the service has the database open, nobody checkpoints on close:
    # the latest commits stay in the -wal file, which `cp` of the file leaves out.
    with closing(sqlite3.connect(live)) as service:
        service.execute("SELECT count(*) FROM users").fetchone()
        auth_id = _create_account(live, "taro@example.com")
        wal_bytes = Path(f"{live}-wal").stat().st_size
        copied = backups / "copied.sqlite3"
        shutil.copyfile(live, copied)
        done = run_cli(["backup", str(backups / "backup.sqlite3")], _url(live))

    assert wal_bytes > 0
    assert done.returncode == 0, done.stderr
    assert _auth_ids(copied) == set()
    assert _auth_ids(backups / "backup.sqlite3") == {auth_id}


def test_backup_refuses_to_overwrite_a_file(live: Path, backups: Path) -> None:
    backup = backups / "identity.sqlite3"
    backup.write_bytes(b"yesterday's backup")

    done = run_cli(["backup", str(backup)], _url(live))

    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{backup} already exists" in done.stderr
    assert backup.read_bytes() == b"yesterday's backup"
    assert sorted(path.name for path in backups.iterdir()) == [backup.name]


def test_backup_does_not_replace_a_file_that_appears_meanwhile(
    live: Path, backups: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = backups / "identity.sqlite3"
    check = app.backup._check

    def check_while_another_backup_lands(
        target: Path, source: Path
    ) -> tuple[int, list[str]]:
        backup.write_bytes(b"another backup")
        return check(target, source)

    monkeypatch.setattr(app.backup, "_check", check_while_another_backup_lands)

    with pytest.raises(DestinationExistsError):
        back_up_sqlite(live, backup)
    assert backup.read_bytes() == b"another backup"
    assert sorted(path.name for path in backups.iterdir()) == [backup.name]


def test_backup_is_readable_by_its_owner_only(live: Path, backups: Path) -> None:
    backup = backups / "identity.sqlite3"
    umask = os.umask(0)  # the subprocess inherits it: no help from the shell
    try:
        done = run_cli(["backup", str(backup)], _url(live))
    finally:
        os.umask(umask)

    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_backup_refuses_postgresql_and_points_to_pg_dump(backups: Path) -> None:
    backup = backups / "identity.dump"

    done = run_cli(["backup", str(backup)], "postgres://root@127.0.0.1:5432/ras")

    assert done.returncode == 2
    assert done.stdout == ""
    assert "pg_dump" in done.stderr
    assert list(backups.iterdir()) == []


def test_backup_of_a_missing_database_creates_neither_file(
    tmp_path: Path, backups: Path
) -> None:
    missing = tmp_path / "missing.sqlite3"

    done = run_cli(["backup", str(backups / "identity.sqlite3")], _url(missing))

    assert done.returncode == 1
    assert f"no database at {missing}" in done.stderr
    assert not missing.exists()
    assert list(backups.iterdir()) == []


def test_backup_that_fails_the_integrity_check_writes_nothing(
    live: Path, backups: Path
) -> None:
    (root,) = _column(live, "SELECT rootpage FROM sqlite_master WHERE name = 'users'")
    (page_size,) = _column(live, "PRAGMA page_size")
    assert isinstance(root, int)
    assert isinstance(page_size, int)
    with live.open("r+b") as file:  # the users table's root page: not a b-tree
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * 16)

    done = run_cli(["backup", str(backups / "identity.sqlite3")], _url(live))

    assert done.returncode == 1
    assert "integrity_check" in done.stderr
    assert list(backups.iterdir()) == []
