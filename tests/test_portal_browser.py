"""The applicants' portal in headless Chromium (Debian's, driven by Playwright):
a newcomer registers, sets the password from the mailed link, logs in, logs
out, forgets the password and resets it, in English and Japanese, and never
holds a token in JavaScript. scripts/test installs Chromium; a missing browser
fails here, it is never skipped."""

import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from app.main import create_app
from app.settings import Settings
from models import User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import PASSWORD, Mailbox, link_token, serve

NEW_PASSWORD = "Fuji-San-3776m"
CHANGED_TO = "Biwa-Lake-670km2"
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


async def _page(browser: Browser, *, bypass_csp: bool = False) -> Page:
    """A page of a fresh browser profile that records script errors.
    ``bypass_csp``: for axe-core, which the test adds to the page (the
    portal's own policy runs nothing but its own script)."""
    context = await browser.new_context(bypass_csp=bypass_csp)
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


async def _english_menu(browser: Browser, portal: str, user: User) -> Page:
    """A fresh page switched to English, logged in as ``user``, on the menu."""
    page = await _page(browser)
    await page.goto(portal + "/")
    await page.get_by_role("button", name="English").click()
    await _log_in(page, portal, user.auth_id, PASSWORD)
    await expect(page.get_by_role("heading", name="Menu")).to_be_visible()
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
    await page.locator("#field-authId").fill(auth_id)
    await page.locator("#field-password").fill(password)
    await page.locator("button[type=submit]").click()


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

    await page.get_by_role("link", name="Change password").click()
    await page.get_by_label("Current password").fill(NEW_PASSWORD)
    await page.get_by_label("New password", exact=True).fill(CHANGED_TO)
    await page.get_by_label("New password (confirmation)").fill(CHANGED_TO)
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Your password has been changed."
    )
    await page.get_by_role("link", name="Back to the menu").click()

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


@pytest.mark.postal_codes
async def test_a_user_changes_the_address_and_email_undoes_it_and_enrols_two_step(
    browser: Browser,
    portal: str,
    user: User,
    mailbox: Mailbox,
    clock: SettableClock,
    db: str,
) -> None:
    portal_on_sqlite = db.startswith("sqlite")
    page = await _english_menu(browser, portal, user)
    await page.get_by_role("link", name="Update user information").click()

    # 2.4.3: the municipality from the search, then the street and phone.
    await page.get_by_label("Search a municipality").fill("新宿")
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.get_by_role("button", name=re.compile("Choose: 東京都 新宿区")).click()
    await expect(page.locator("#chosen-municipality")).to_have_text("東京都 新宿区")
    # The postal code gives the municipality and the town.
    await page.get_by_label("Postal code (7 digits)").fill("1600023")
    await page.get_by_role("button", name="Look up the address").click()
    await page.get_by_role(
        "button", name=re.compile("Choose: 東京都 新宿区 西新宿")
    ).click()
    street = page.get_by_label("Town, block number and building")
    await expect(street).to_have_value("西新宿")
    await street.fill("西新宿2-8-1")
    await page.get_by_label("New phone number").fill("0353211111")
    await page.get_by_label("New email address", exact=True).fill("new@example.com")
    await page.get_by_label("New email address (confirmation)").fill("new@example.com")
    # The password was checked at login 11 minutes ago: an email change asks
    # for it again (RASX006E), then goes through.
    clock.advance(timedelta(minutes=11))
    await page.get_by_role("button", name="Change").click()
    reauth = page.get_by_role("region", name="To confirm it is you")
    await reauth.get_by_label("Password").fill(PASSWORD)
    await reauth.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_contain_text("has been updated")
    stored = await User.get(id=user.id)
    assert stored.municipality_name == "新宿区"
    assert stored.street == "西新宿２−８−１"  # stored full-width, as the manual asks
    assert stored.email == "new@example.com"

    # The old address's notice undoes it (the link opens the portal).
    delivered = await mailbox.deliver()
    (notice,) = [
        m
        for m in delivered
        if m["To"] == user.email and "/email/revert?token=" in m.get_content()
    ]
    await page.goto(f"{portal}/email/revert?token={link_token(notice)}")
    await page.get_by_role("button", name="Undo the change").click()
    await expect(page.get_by_role("status")).to_contain_text(user.email)
    assert (await User.get(id=user.id)).email == user.email

    # The undo ended every session and removed the password: reset, log in.
    delivered = await mailbox.deliver()
    (reset,) = [
        m
        for m in delivered
        if m["To"] == user.email and "/password/reset?token=" in m.get_content()
    ]
    await page.goto(f"{portal}/password/reset?token={link_token(reset)}")
    await page.get_by_label("New password", exact=True).fill(RESET_TO)
    await page.get_by_label("New password (confirmation)").fill(RESET_TO)
    await page.get_by_role("button", name="Send").click()
    await _log_in(page, portal, user.auth_id, RESET_TO)

    # Two-step login: the QR code's secret, a code from it, recovery codes.
    await page.get_by_role("link", name="Two-step login").click()
    await page.get_by_label("Current password").fill(RESET_TO)
    await page.get_by_role("button", name="Set it up").click()
    secret = await page.locator("#totp-secret").inner_text()
    await expect(page.get_by_role("img")).to_be_visible()
    code = pyotp.TOTP(secret).at(clock.now())
    await page.get_by_label("One-time code").fill(code)
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.locator("#recovery-codes li")).to_have_count(10)

    # Security activity lists what just happened.
    await page.goto(portal + "/activity")
    await expect(page.locator("tbody tr").first).to_be_visible()
    assert await page.locator("tbody tr").count() >= 5

    await page.goto(portal + "/menu")
    await page.get_by_role("link", name="Two-step login").click()
    await expect(page.get_by_role("status")).to_have_text("Two-step login is on.")

    # The next login asks for the code (a later one: each code works once).
    await page.goto(portal + "/menu")
    await page.get_by_role("button", name="Log out").click()
    clock.advance(timedelta(seconds=30))
    await _log_in(page, portal, user.auth_id, RESET_TO)
    await expect(page.get_by_role("heading", name="Two-step login")).to_be_visible()
    if portal_on_sqlite:
        await screenshot(page, "login-code-step")
    await page.get_by_label("One-time code").fill(pyotp.TOTP(secret).at(clock.now()))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("heading", name="Menu")).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]


async def test_an_idle_session_and_a_lockout_lead_back_to_login_with_the_message(
    browser: Browser, portal: str, user: User, clock: SettableClock
) -> None:
    page = await _english_menu(browser, portal, user)

    clock.advance(timedelta(minutes=31))
    await page.goto(portal + "/menu")

    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("RASX001E")

    for _ in range(5):
        await page.get_by_label("Auth ID").fill(user.auth_id)
        await page.get_by_label("Password").fill("wrong-password-1")
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("WZBAM153E")


AXE = Path(__file__).with_name("browser") / "node_modules" / "axe-core" / "axe.min.js"
SCREENS_DIR = Path(__file__).resolve().parents[1] / "docs" / "screens"


async def _axe_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
    )
    return [str(item) for item in found]


async def test_every_screen_passes_axe_in_both_languages(
    browser: Browser, portal: str, user: User, db: str
) -> None:
    # scripts/test installs axe-core (npm ci in tests/browser).
    assert AXE.is_file(), "axe-core is missing: run scripts/test (npm ci)"
    page = await _page(browser, bypass_csp=True)
    public = [
        "/",
        "/login",
        "/register",
        "/password/forgot",
        "/password/setup",
        "/password/reset",
        "/email/revert",
    ]
    private = ["/menu", "/user", "/password/change", "/two-step", "/activity"]
    problems: dict[str, list[str]] = {}
    for language in ("日本語", "English"):
        await page.goto(portal + "/")
        await page.get_by_role("button", name=language).click()
        await _log_in_either(page, portal, user.auth_id)
        for path in public + private:
            await page.goto(portal + path)
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await page.wait_for_load_state("networkidle")
            found = await _axe_problems(page)
            if found:
                problems[f"{language} {path}"] = found
            if language == "English" and db.startswith("sqlite"):
                await screenshot(page, path.strip("/").replace("/", "-") or "top")
    assert problems == {}


async def screenshot(page: Page, name: str) -> None:
    """docs/screens/<name>.png. The auth ID differs every run: masked, so the
    files change only when the screens do."""
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    await page.screenshot(
        path=str(SCREENS_DIR / f"{name}.png"),
        full_page=True,
        mask=[page.locator(".auth-id")],
    )


async def _log_in_either(page: Page, portal: str, auth_id: str) -> None:
    """Log in on the login screen in whichever language it shows."""
    await page.goto(portal + "/login")
    await page.locator("#field-authId").fill(auth_id)
    await page.locator("#field-password").fill(PASSWORD)
    await page.locator("button[type=submit]").click()
    await expect(page.locator("dl.info")).to_be_visible()


async def test_the_login_works_with_the_keyboard_alone(
    browser: Browser, portal: str, user: User
) -> None:
    page = await _page(browser)
    await page.goto(portal + "/login")

    # Tab order: the language buttons, then the form's fields and button.
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "field-authId":
            break
    await page.keyboard.type(user.auth_id)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("heading", name="メニュー")).to_be_visible()
    focused = await page.evaluate("document.activeElement.id")
    assert focused == "screen"  # the new screen takes the focus, for readers


async def test_a_login_elsewhere_sends_the_first_browser_back_with_099e(
    browser: Browser, portal: str, user: User
) -> None:
    first = await _page(browser)
    second = await _page(browser)
    await _log_in(first, portal, user.auth_id, PASSWORD)
    await expect(first.get_by_role("heading", name="メニュー")).to_be_visible()

    await _log_in(second, portal, user.auth_id, PASSWORD)
    await expect(second.get_by_role("heading", name="メニュー")).to_be_visible()
    await first.goto(portal + "/menu")

    await expect(first.get_by_role("heading", name="ログイン")).to_be_visible()
    await expect(first.get_by_role("alert")).to_contain_text("WZBAM099E")


async def test_a_password_that_expires_in_a_session_is_changed_after_a_new_login(
    browser: Browser, portal: str, user: User, clock: SettableClock
) -> None:
    page = await _english_menu(browser, portal, user)
    await User.filter(id=user.id).update(
        password_expires_at=clock.now() - timedelta(minutes=1)
    )

    await page.goto(portal + "/menu")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("WZBAM158E")
    await _log_in(page, portal, user.auth_id, PASSWORD)  # the change ticket
    await expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password", exact=True).fill(CHANGED_TO)
    await page.get_by_label("New password (confirmation)").fill(CHANGED_TO)
    await page.get_by_role("button", name="Send").click()

    await expect(page.get_by_role("status")).to_contain_text("Log in with the new")
    await _log_in(page, portal, user.auth_id, CHANGED_TO)
    await expect(page.get_by_role("heading", name="Menu")).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]
