"""/dev/mail: the embedded sink's messages in the browser, in development only
and for clients on this machine only, escaped, with their links clickable."""

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

import portal
from app.main import create_app
from app.settings import Environment, Settings
from resolvers.context import Services
from tests.support import serve

LINK = "http://127.0.0.1:8000/password/setup?token=abc123"


def _store(directory: Path) -> None:
    message = EmailMessage()
    message["To"] = "an@example.com"
    message["Subject"] = "<b>パスワード登録のお願い</b>"
    message.set_content(f"認証ID：K7Q2MZP4TX\n{LINK}\n<script>alert(1)</script>\n")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "20261130T000000-0001.eml").write_bytes(message.as_bytes())


@pytest.fixture
async def development(
    db: str, services: Services, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    _store(tmp_path / "mail")
    settings = Settings(database_url=db, mail_dir=tmp_path / "mail")
    app = create_app(settings, services=services, manage_database=False)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_development_shows_the_sinks_mail_with_links(
    development: httpx.AsyncClient,
) -> None:
    page = await development.get("/dev/mail")

    assert page.status_code == 200
    assert f'<a href="{LINK}">{LINK}</a>' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text
    assert "&lt;b&gt;パスワード登録のお願い&lt;/b&gt;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    "settings",
    [
        {"environment": Environment.PRODUCTION},
        {"smtp_url": "smtp://127.0.0.1:2525"},
    ],
)
async def test_no_mail_page_outside_development_with_the_sink(
    db: str, services: Services, tmp_path: Path, settings: dict[str, Any]
) -> None:
    _store(tmp_path / "mail")
    configured = Settings(database_url=db, mail_dir=tmp_path / "mail", **settings)
    app = create_app(configured, services=services, manage_database=False)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        page = await client.get("/dev/mail")

    assert page.status_code == 404
    assert "abc123" not in page.text


@pytest.mark.parametrize(
    ("client", "headers"),
    [
        ("192.0.2.10", [(b"host", b"127.0.0.1:8000")]),
        # Another site's name pointed at 127.0.0.1 (DNS rebinding).
        ("127.0.0.1", [(b"host", b"rebind.evil.example:8000")]),
        # Through a proxy on this machine every client would look local.
        ("127.0.0.1", [(b"host", b"127.0.0.1"), (b"x-forwarded-for", b"192.0.2.10")]),
        ("127.0.0.1", [(b"host", b"localhost"), (b"forwarded", b"for=192.0.2.10")]),
    ],
)
async def test_only_clients_on_this_machine_see_the_mail(
    tmp_path: Path, client: str, headers: list[tuple[bytes, bytes]]
) -> None:
    _store(tmp_path)
    route = portal.mail_page(tmp_path)
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/dev/mail",
            "query_string": b"",
            "headers": headers,
            "client": (client, 50000),
        }
    )

    with pytest.raises(HTTPException) as refused:
        await route.endpoint(request)

    assert refused.value.status_code == 404
