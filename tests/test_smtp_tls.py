"""STARTTLS, implicit TLS and AUTH, against a real aiosmtpd server with a
certificate made for the test (openssl)."""

import ssl
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailer.smtp import SmtpTarget, TlsMode
from models import MailStatus, OutboxMail, User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import MakeWorker, SmtpServer, enqueue_mails

# The implicit-TLS server must tell aiosmtpd that AUTH needs no STARTTLS (the
# connection is TLS already); aiosmtpd warns about exactly that setting.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)
SMTP_USER = "ras-mailer"
SMTP_PASSWORD = "relay-secret-42"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticator(
    server: object,
    session: object,
    envelope: object,
    mechanism: str,
    auth_data: LoginPassword,
) -> AuthResult:
    good = auth_data.login == SMTP_USER.encode() and (
        auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False)  # False: aiosmtpd answers 535


def target(
    smtp: SmtpServer,
    tls: TlsMode,
    certificate: tuple[Path, Path] | None,
    password: str = SMTP_PASSWORD,
) -> SmtpTarget:
    return SmtpTarget(
        host="127.0.0.1",
        port=smtp.port,
        tls=tls,
        username=SMTP_USER,
        password=password,
        ca_file=certificate[0] if certificate else None,
        timeout=10,
    )


async def test_starttls_with_auth_delivers(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    server_tls: ssl.SSLContext,
    certificate: tuple[Path, Path],
) -> None:
    await smtp.start(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    [row] = await enqueue_mails(services, user)

    await make_worker(target(smtp, TlsMode.STARTTLS, certificate)).deliver_batch()

    assert smtp.handler.message_ids() == [row.message_id]
    assert (await OutboxMail.get(id=row.id)).status is MailStatus.SENT


async def test_implicit_tls_with_auth_delivers(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    server_tls: ssl.SSLContext,
    certificate: tuple[Path, Path],
) -> None:
    await smtp.start(
        implicit_tls=server_tls,
        authenticator=authenticator,
        auth_required=True,
        # aiosmtpd only knows of TLS it negotiated itself (STARTTLS); this
        # connection is TLS from its first byte.
        auth_require_tls=False,
    )
    [row] = await enqueue_mails(services, user)

    await make_worker(target(smtp, TlsMode.IMPLICIT, certificate)).deliver_batch()

    assert smtp.handler.message_ids() == [row.message_id]


@pytest.mark.parametrize(
    ("tls", "trusted", "password", "error"),
    [
        (TlsMode.STARTTLS, True, "wrong-password", "535"),
        (TlsMode.STARTTLS, False, SMTP_PASSWORD, "CERTIFICATE_VERIFY_FAILED"),
        (TlsMode.IMPLICIT, False, SMTP_PASSWORD, "CERTIFICATE_VERIFY_FAILED"),
    ],
    ids=["wrong-password", "untrusted-starttls", "untrusted-implicit"],
)
async def test_refused_session_keeps_mail_pending_and_uncounted(
    user: User,
    services: Services,
    clock: SettableClock,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    server_tls: ssl.SSLContext,
    certificate: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
    tls: TlsMode,
    trusted: bool,
    password: str,
    error: str,
) -> None:
    if tls is TlsMode.IMPLICIT:
        await smtp.start(
            implicit_tls=server_tls,
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=False,
        )
    else:
        await smtp.start(
            tls_context=server_tls,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        )
    [row] = await enqueue_mails(services, user)
    worker = make_worker(target(smtp, tls, certificate if trusted else None, password))

    with caplog.at_level("INFO"):
        assert await worker.deliver_batch() == 0

    pending = await OutboxMail.get(id=row.id)
    assert pending.status is MailStatus.PENDING
    assert pending.attempts == 0
    assert pending.last_error is not None
    assert error in pending.last_error
    assert smtp.handler.received == []
    assert password not in caplog.text
    assert "session failed" in caplog.text

    # Fixed configuration: the same row goes out.
    clock.advance(timedelta(minutes=1))
    await make_worker(target(smtp, tls, certificate)).deliver_batch()
    assert smtp.handler.message_ids() == [row.message_id]


async def test_plain_smtp_never_upgrades_on_its_own(
    user: User,
    services: Services,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    server_tls: ssl.SSLContext,
) -> None:
    """smtp:// means plain: a server offering STARTTLS with a certificate nobody
    configured does not turn every mail into a certificate error."""
    await smtp.start(tls_context=server_tls)
    [row] = await enqueue_mails(services, user)

    await make_worker(
        SmtpTarget(host="127.0.0.1", port=smtp.port, tls=TlsMode.NONE)
    ).deliver_batch()

    assert smtp.handler.message_ids() == [row.message_id]


def test_smtp_urls_parse_into_targets(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"

    plain = SmtpTarget.from_url("smtp://127.0.0.1:2525")
    starttls = SmtpTarget.from_url(
        "smtp+starttls://user%40corp:p%40ss%2Fword@mail.example.jp", ca_file=ca
    )
    implicit = SmtpTarget.from_url("smtps://mail.example.jp", timeout=5)

    assert (plain.host, plain.port, plain.tls, plain.username) == (
        "127.0.0.1",
        2525,
        TlsMode.NONE,
        None,
    )
    assert (starttls.port, starttls.tls) == (587, TlsMode.STARTTLS)
    assert (starttls.username, starttls.password) == ("user@corp", "p@ss/word")
    assert starttls.ca_file == ca
    assert (implicit.port, implicit.tls, implicit.timeout) == (465, TlsMode.IMPLICIT, 5)
    assert "p@ss/word" not in starttls.describe()
