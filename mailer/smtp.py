"""SMTP delivery with aiosmtplib: one connection per batch, errors sorted by kind.

The same code talks to the embedded sink and to a production server; only the
``SmtpTarget`` differs.
"""

import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib


class TlsMode(Enum):
    """How the connection is protected."""

    NONE = "none"  # smtp:// — plain (loopback sinks and trusted relays)
    STARTTLS = "starttls"  # smtp+starttls:// — upgrade required, never optional
    IMPLICIT = "implicit"  # smtps:// — TLS from the first byte


_DEFAULT_PORTS = {TlsMode.NONE: 25, TlsMode.STARTTLS: 587, TlsMode.IMPLICIT: 465}
_SCHEMES = {
    "smtp": TlsMode.NONE,
    "smtp+starttls": TlsMode.STARTTLS,
    "smtps": TlsMode.IMPLICIT,
}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where mail goes, and how to authenticate there."""

    host: str
    port: int
    tls: TlsMode = TlsMode.NONE
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(
        cls, url: str, *, ca_file: Path | None = None, timeout: float = 30.0
    ) -> "SmtpTarget":
        """``smtp://host:25``, ``smtp+starttls://user:pass@host:587``, ``smtps://…``."""
        parts = urlsplit(url)
        tls = _SCHEMES[parts.scheme]
        if not parts.hostname:
            raise ValueError("the SMTP URL has no host")
        return cls(
            host=parts.hostname,
            port=parts.port or _DEFAULT_PORTS[tls],
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ca_file=ca_file,
            timeout=timeout,
        )

    def describe(self) -> str:
        """For logs: never the credentials."""
        return f"{self.host}:{self.port} ({self.tls.value})"


class Failure(Enum):
    """How a failed hand-over is treated."""

    # The server could not be reached, or refused the session or our envelope
    # sender (connect, TLS, AUTH, MAIL FROM, 530): the same for every message, so
    # no message's attempt is counted and the worker backs off as a whole.
    SESSION = "session"
    # The server answered 4xx for this message, or the connection broke during it.
    TEMPORARY = "temporary"
    # The server answered 5xx for this message: retrying cannot help.
    PERMANENT = "permanent"


class SendError(Exception):
    """A hand-over failed; ``failure`` says whether and how to retry."""

    def __init__(
        self, failure: Failure, detail: str, *, connection_lost: bool = False
    ) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail
        # The connection cannot carry more messages; the batch ends here.
        self.connection_lost = connection_lost


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]"
_ADDRESS = re.compile(rf"({_ATEXT}){_ATEXT}*@([A-Za-z0-9.-]+)")
MAX_ERROR = 500


def mask_addresses(text: str) -> str:
    """Server replies quote the recipient; logs and the admin listing must not."""
    return _ADDRESS.sub(r"\1***@\2", text)


def describe_error(exc: BaseException) -> str:
    """A short, address-free description of an SMTP or network error."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return clean_text(text)


def clean_text(text: str) -> str:
    """One printable line, addresses masked, short enough for the column.

    Servers answer in any encoding (Shift_JIS is common in Japan); aiosmtplib
    keeps undecodable bytes as lone surrogates, which no database column takes.
    """
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(c if c.isprintable() else " " for c in text)
    return mask_addresses(" ".join(text.split()))[:MAX_ERROR]


def _response_code(exc: BaseException) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return exc.recipients[0].code
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code
    return None


class SmtpConnection:
    """One open SMTP session; ``send`` hands over one message."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self._client = client

    async def send(self, *, sender: str, recipient: str, message: str) -> None:
        """Raise SendError unless the server accepted the message.

        The causes are not chained (``from None``): aiosmtplib's exceptions
        quote the recipient, and a logged chain would carry it into the log.
        """
        try:
            await self._client.sendmail(sender, [recipient], message)
        except aiosmtplib.SMTPSenderRefused as exc:
            # Our envelope sender is refused: the same for every message.
            raise SendError(Failure.SESSION, describe_error(exc)) from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            raise SendError(
                Failure.TEMPORARY, describe_error(exc), connection_lost=True
            ) from None
        except aiosmtplib.SMTPException as exc:
            code = _response_code(exc)
            if code == 530:  # "authentication required": a session problem
                raise SendError(Failure.SESSION, describe_error(exc)) from None
            if code is None or code < 500:
                # 421 means the server is closing the session.
                raise SendError(
                    Failure.TEMPORARY,
                    describe_error(exc),
                    connection_lost=code in (None, 421),
                ) from None
            raise SendError(Failure.PERMANENT, describe_error(exc)) from None
        except OSError as exc:
            raise SendError(
                Failure.TEMPORARY, describe_error(exc), connection_lost=True
            ) from None


class SmtpTransport:
    """Opens SMTP sessions to one target."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.target.tls is TlsMode.NONE:
            return None
        context = ssl.create_default_context(
            cafile=str(self.target.ca_file) if self.target.ca_file else None
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[SmtpConnection]:
        """An authenticated session; SendError(SESSION) if there is none."""
        target = self.target
        client = aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            use_tls=target.tls is TlsMode.IMPLICIT,
            # False, not None: aiosmtplib would otherwise upgrade opportunistically
            # on smtp:// and fail on a certificate the operator never asked for.
            start_tls=target.tls is TlsMode.STARTTLS,
            tls_context=self._tls_context(),
            username=target.username,
            password=target.password,
            timeout=target.timeout,
            local_hostname="ras-identity",
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise SendError(Failure.SESSION, describe_error(exc)) from None
        try:
            yield SmtpConnection(client)
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
