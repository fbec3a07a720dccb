"""The applicants' portal in headless Chromium (Debian's, driven by Playwright):
a newcomer registers, sets the password from the mailed link, logs in, logs
out, forgets the password and resets it, in English and Japanese, and never
holds a token in JavaScript. scripts/test installs Chromium; a missing browser
fails here, it is never skipped."""

import re
import shutil
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from app.main import create_app
from app.settings import Settings
from models import User
from resolvers.context import Services
from tests.support import Mailbox, link_token, serve

NEW_PASSWORD = "Fuji-San-3776m"
RESET_TO = "Kyoto-Nara-794"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: scripts/test installs it (apt-get)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@pytest.fixture
async def portal(db: str, services: Services) -> AsyncIterator[str]:
    """The service (portal and API) on a loopback port; yields its base URL."""
    app = create_app(
        Settings(database_url=db), services=services, manage_database=False
    )
    async with serve(app) as url:
        yield url


async def _page(browser: Browser) -> Page:
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if message.type == "error" else None
        ),
    )
    page.problems = problems  # type: ignore[attr-defined]
    return page


async def _register(page: Page, portal: str, email: str) -> None:
    await page.goto(portal + "/register")
    await page.get_by_label("Name").fill("NGUYEN VAN AN")
    await page.get_by_label("Date of birth (YYYY-MM-DD)").fill("1995-04-01")
    await page.get_by_label("Nationality (3-letter country code, e.g. VNM)").fill("VNM")
    await page.get_by_label("Email address", exact=True).fill(email)
    await page.get_by_label("Email address (confirmation)").fill(email)
    await page.get_by_label("Phone number").fill("09012345678")
    await page.get_by_label("I agree to the terms of use").check()
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_contain_text(email)


async def _log_in(page: Page, portal: str, auth_id: str, password: str) -> None:
    await page.goto(portal + "/login")
    await page.get_by_label("Auth ID").fill(auth_id)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def test_a_newcomer_registers_logs_in_forgets_and_resets_in_the_browser(
    browser: Browser, portal: str, mailbox: Mailbox
) -> None:
    page = await _page(browser)
    await page.goto(portal + "/")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "在留申請オンラインシステム"
    )
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Online Residence Application System"
    )
    await page.reload()  # the choice is remembered
    await expect(page.get_by_role("heading", name="Notices")).to_be_visible()

    email = "an.nguyen@example.com"
    await _register(page, portal, email)
    (setup_mail,) = [m for m in await mailbox.deliver() if m["To"] == email]
    token = link_token(setup_mail)
    assert f"/password/setup?token={token}" in setup_mail.get_content()

    await page.goto(f"{portal}/password/setup?token={token}")
    assert "token" not in page.url  # taken out of the address bar
    await page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Password (confirmation)").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Send").click()
    auth_id = await page.locator("#new-auth-id").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{10}", auth_id)

    await _log_in(page, portal, auth_id, NEW_PASSWORD)
    await expect(page.get_by_role("heading", name="Menu")).to_be_visible()
    await expect(page.get_by_text("NGUYEN VAN AN")).to_be_visible()
    # The session is an HttpOnly cookie: nothing a script could read or send.
    assert "ras_session" not in await page.evaluate("document.cookie")
    cookies = await page.context.cookies()
    (session,) = [c for c in cookies if c["name"] == "ras_session"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Strict"

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("status")).to_have_text("You have logged out.")
    await page.goto(portal + "/menu")  # the ended session leads back to login
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("RASX002E")

    await page.goto(portal + "/password/forgot")
    await page.get_by_label("Auth ID").fill(auth_id)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_be_visible()
    (reset_mail,) = [
        m
        for m in await mailbox.deliver()
        if m["To"] == email and "/password/reset?token=" in m.get_content()
    ]
    await page.goto(f"{portal}/password/reset?token={link_token(reset_mail)}")
    await page.get_by_label("New password", exact=True).fill(RESET_TO)
    await page.get_by_label("New password (confirmation)").fill(RESET_TO)
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_contain_text("has been reset")

    await _log_in(page, portal, auth_id, RESET_TO)
    await expect(page.get_by_role("heading", name="Menu")).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]


async def test_a_wrong_password_is_shown_in_red_with_marks_in_japanese(
    browser: Browser, portal: str, user: User
) -> None:
    page = await _page(browser)

    await page.goto(portal + "/login")
    await page.get_by_label("認証ID").fill(user.auth_id)
    await page.get_by_label("パスワード").fill("not-the-password")
    await page.get_by_role("button", name="ログイン").click()

    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("！")
    await expect(alert).to_contain_text("WZBAM005E")
    marked = page.locator(".field.invalid")
    await expect(marked).to_have_count(2)  # 認証ID and パスワード
    await expect(page.get_by_label("パスワード")).to_have_attribute(
        "aria-invalid", "true"
    )


async def test_every_screen_path_serves_the_portal_with_its_policy(
    browser: Browser, portal: str
) -> None:
    page = await _page(browser)
    for path in ("/", "/login", "/register", "/password/forgot"):
        answer = await page.goto(portal + path)
        assert answer is not None
        assert answer.status == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
    # A mailed link without its token says so instead of a blank form.
    await page.goto(portal + "/password/setup")
    await expect(page.get_by_text("リンクが正しくありません")).to_be_visible()
    assert urlsplit(page.url).path == "/password/setup"
    assert page.problems == []  # type: ignore[attr-defined]
