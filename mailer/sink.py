"""The embedded default: an SMTP server on 127.0.0.1 that files each message it
receives as an ``.eml`` under ./var/mail/, and the reading side of that folder
(``ras-identity mail list`` / ``mail show``).

The worker reaches the sink over real SMTP, exactly as it reaches a production
server; only the address differs.
"""

import asyncio
import email
import email.policy
import glob
import logging
import os
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

# aiosmtpd logs every recipient address at INFO; addresses stay out of our logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class MailDirHandler:
    """aiosmtpd handler: each accepted message becomes one file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        try:
            await asyncio.to_thread(self.store, content)
        except OSError as exc:
            # A full disk or a folder that cannot be written is temporary:
            # the worker keeps the mail and tries again.
            logging.getLogger("ras_identity.mail").error(
                "mail sink cannot write under %s: %s", self.directory, exc.strerror
            )
            return "451 4.3.0 Cannot store the message now"
        return "250 Message accepted for delivery"

    def store(self, content: bytes) -> Path:
        """Write atomically (temp file, then rename): a reader never sees half."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:6]}"
        partial = self.directory / f".{name}.tmp"
        partial.write_bytes(content)
        final = self.directory / f"{name}.eml"
        os.replace(partial, final)
        return final


@dataclass
class SmtpSink:
    """A running in-process SMTP server."""

    server: asyncio.Server
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def start_sink(
    handler: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    implicit_tls: ssl.SSLContext | None = None,
    **smtp_options: Any,
) -> SmtpSink:
    """Serve SMTP with ``handler`` in the running event loop (port 0: any free).

    ``smtp_options`` go to aiosmtpd's SMTP (STARTTLS context, authenticator …).
    """
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        # hostname given: aiosmtpd would otherwise look up the FQDN (DNS, slow).
        lambda: SMTP(handler, hostname="ras-identity-sink", loop=loop, **smtp_options),
        host=host,
        port=port,
        ssl=implicit_tls,
        reuse_address=True,
    )
    bound = server.sockets[0].getsockname()[1]
    return SmtpSink(server=server, host=host, port=bound)


@dataclass(frozen=True, slots=True)
class StoredMail:
    """One received message in the mail folder."""

    id: str
    path: Path
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def to(self) -> str:
        return str(self.message["To"] or "")

    @property
    def date(self) -> str:
        return str(self.message["Date"] or "")

    def text(self) -> str:
        """The decoded plain-text body."""
        part = self.message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        try:
            content = str(part.get_content())
        except (LookupError, UnicodeError):
            # An unknown charset (anyone on this machine can mail the sink).
            payload = part.get_payload(decode=True)
            content = (
                payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            )
        return content.replace("\r\n", "\n")


def _parse(path: Path) -> StoredMail:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)  # the default policy's class  # noqa: S101
    return StoredMail(id=path.stem, path=path, message=parsed)


def stored_mails(directory: Path, *, limit: int | None = None) -> list[StoredMail]:
    """The received messages, newest first (only the first ``limit`` are read)."""
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.eml"), key=lambda p: p.name, reverse=True)
    return [_parse(path) for path in paths[:limit]]


def find_mail(directory: Path, wanted: str) -> StoredMail | None:
    """The message whose id is ``wanted`` or starts with it (if only one does)."""
    if not directory.is_dir() or not wanted or "/" in wanted or wanted.startswith("."):
        return None
    matches = sorted(directory.glob(f"{glob.escape(wanted)}*.eml"))
    return _parse(matches[0]) if len(matches) == 1 else None
