"""``ras-identity backup``: a consistent copy of the SQLite database.

A file copy (``cp``) of a database in WAL mode is not a backup: the latest
commits may still be only in the ``-wal`` file, and a copy taken while a
checkpoint writes them back mixes old and new pages. SQLite's online backup API
copies the database as one read transaction sees it, while the service goes on
writing (in WAL mode a reader neither waits for writers nor stops them).
"""

import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import pathname2url

from tortoise.backends.base.config_generator import expand_db_url

from app.sqlite import BUSY_TIMEOUT_MS

# The copy holds password hashes and personal data: its owner only.
BACKUP_MODE = 0o600


class BackupError(Exception):
    """No backup was written; the message says why."""


class DestinationExistsError(BackupError):
    """The destination is taken: a backup never overwrites a file."""


@dataclass(frozen=True)
class Backup:
    """What was written: the file, its size, and what the copy holds."""

    path: Path
    size: int
    accounts: int
    migrations: int
    latest_migration: str | None


def sqlite_file(database_url: str) -> Path | None:
    """The file of a ``sqlite://`` URL as the service opens it (query
    parameters such as ``busy_timeout`` left out); None for another database."""
    if urlsplit(database_url).scheme != "sqlite":
        return None
    return Path(expand_db_url(database_url)["credentials"]["file_path"])


def back_up_sqlite(source: Path, destination: Path) -> Backup:
    """Copy the SQLite database at ``source`` to the new file ``destination``.

    Outcomes, in the order they are decided:
    - DestinationExistsError: ``destination`` exists (also when it appears
      while the copy is made);
    - BackupError: ``source`` is in memory or is no file, is not a ras-identity
      database, the copy cannot be written, or the copy fails
      ``PRAGMA integrity_check``;
    - otherwise the Backup: ``destination`` is a complete database in rollback
      (not WAL) mode, so the one file is all there is to keep, readable by its
      owner only.

    The copy is made in a temporary file beside ``destination`` and linked into
    place once checked, so ``destination`` never names a partial copy; the
    temporary file is removed whatever happens. The source is only read.
    """
    if str(source) == ":memory:":
        raise BackupError("RAS_DATABASE_URL names an in-memory database")
    if destination.exists() or destination.is_symlink():
        raise DestinationExistsError(_taken(destination))
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
        )
    except OSError as exc:
        raise BackupError(f"cannot write {destination}: {exc.strerror}") from None
    os.close(fd)
    partial = Path(name)
    try:
        _copy(source, partial)
        accounts, migrations = _check(partial, source)
        os.chmod(partial, BACKUP_MODE)
        _place(partial, destination)
    except OSError as exc:
        raise BackupError(f"cannot write {destination}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
        Path(f"{partial}-journal").unlink(missing_ok=True)
    return Backup(
        path=destination.resolve(),
        size=destination.stat().st_size,
        accounts=accounts,
        migrations=len(migrations),
        latest_migration=migrations[-1] if migrations else None,
    )


def _taken(destination: Path) -> str:
    return (
        f"{destination} already exists; a backup never overwrites a file: name a "
        "new one, or move the old one away first"
    )


def _copy(source: Path, target: Path) -> None:
    # mode=rw: never create an empty database where the file is missing. The
    # backup only reads; read-write lets SQLite, when it closes the last
    # connection, tidy up the -wal and -shm files a read-only one leaves.
    uri = f"file:{pathname2url(str(source.resolve()))}?mode=rw"
    try:
        with (
            closing(
                sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            ) as live,
            closing(sqlite3.connect(target)) as copy,
        ):
            # All pages in one step: one read transaction, one snapshot. Steps
            # of a few pages would start over whenever the service writes.
            live.backup(copy, pages=-1)
            # The copy as one self-contained file; the service turns WAL back
            # on when it opens a restored copy.
            copy.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {source}: {exc}") from None


def _check(target: Path, source: Path) -> tuple[int, list[str]]:
    """The copy's number of accounts and applied migrations, once SQLite
    found it intact."""
    with closing(sqlite3.connect(target)) as copy:
        problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(
                "the copy failed PRAGMA integrity_check (nothing written): "
                + "; ".join(problems[:5])
            )
        try:
            (accounts,) = copy.execute("SELECT count(*) FROM users").fetchone()
            migrations = [
                name
                for (name,) in copy.execute(
                    "SELECT name FROM tortoise_migrations ORDER BY id"
                )
            ]
        except sqlite3.OperationalError as exc:
            raise BackupError(
                f"{source} is not a ras-identity database ({exc}); "
                "`ras-identity migrate` makes one"
            ) from None
    return accounts, migrations


def _place(partial: Path, destination: Path) -> None:
    """Give the checked copy its name, atomically and without replacing a file
    that appeared meanwhile (a rename would replace it); on a file system
    without hard links (FAT, some network shares), rename after checking."""
    try:
        os.link(partial, destination)
    except FileExistsError:
        raise DestinationExistsError(_taken(destination)) from None
    except OSError:
        if destination.exists():
            raise DestinationExistsError(_taken(destination)) from None
        os.replace(partial, destination)
    _sync_directory(destination.parent)


def _sync_directory(directory: Path) -> None:
    """Make the new name survive a power cut (the copy's data SQLite synced)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
