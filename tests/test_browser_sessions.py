"""Browser sessions (cookie mode) and CORS, over real HTTP.

A same-origin page sends `X-RAS-Session: cookie`: the session token then lives
in an HttpOnly, SameSite=Strict cookie and never in an answer; a cross-site
page, a form, a GET or another origin cannot use it. CORS is closed unless
RAS_CORS_ORIGINS lists origins, and never allows credentials."""

from datetime import timedelta

import httpx
import pytest

from app.main import create_app
from app.settings import Environment, Settings, parse_origins
from app.view import SESSION_COOKIE
from models import User
from resolvers.context import Services
from security.clock import SettableClock
from tests.support import LOGIN, PASSWORD, serve
from tests.support import post_graphql as _post

ME = "query { me { __typename ... on Error { code } ... on User { authId } } }"
LOGOUT = "mutation { logout { __typename } }"
COOKIE_MODE = {"X-RAS-Session": "cookie"}
CHANGE = """
mutation Change($current: String!, $new: String!) {
  changePassword(
    input: {currentPassword: $current, newPassword: $new, newPasswordConfirm: $new}
  ) {
    __typename
    ... on ChangePasswordSuccess { token sessionEnded }
    ... on Error { code }
  }
}
"""


async def _cookie_login(client: httpx.AsyncClient, user: User) -> httpx.Response:
    own = {**COOKIE_MODE, "Origin": str(client.base_url).rstrip("/")}
    return await _post(
        client, LOGIN, {"authId": user.auth_id, "password": PASSWORD}, own
    )


async def test_a_cookie_login_sets_an_httponly_strict_cookie_and_no_token(
    http: httpx.AsyncClient, user: User
) -> None:
    login = await _cookie_login(http, user)

    answer = login.json()["data"]["login"]
    assert answer["__typename"] == "LoginSuccess"
    assert answer["token"] == ""  # nothing for a script to read
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict"} <= attributes
    assert "secure" not in attributes  # http on loopback, development
    me = await _post(http, ME, headers=COOKIE_MODE)
    assert me.json()["data"]["me"] == {"__typename": "User", "authId": user.auth_id}


async def test_the_cookie_counts_only_in_cookie_mode(
    http: httpx.AsyncClient, user: User
) -> None:
    await _cookie_login(http, user)

    # The http sends the cookie with any request to the service; without
    # the header (a form, a link, another site's request) it is not a session.
    plain = await _post(http, ME)
    by_get = await http.get("/graphql", params={"query": ME})

    assert plain.json()["data"]["me"]["code"] == "RASX002E"
    assert by_get.json()["data"]["me"]["code"] == "RASX002E"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_a_cross_site_request_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, user: User, headers: dict[str, str]
) -> None:
    await _cookie_login(http, user)

    refused = await _post(http, LOGOUT, headers={**COOKIE_MODE, **headers})

    assert refused.status_code == 403
    assert "data" not in refused.json()
    me = await _post(http, ME, headers=COOKIE_MODE)
    assert me.json()["data"]["me"]["__typename"] == "User"  # not logged out


async def test_a_form_post_or_a_get_cannot_use_the_cookie(
    http: httpx.AsyncClient, user: User
) -> None:
    await _cookie_login(http, user)

    form = await http.post(
        "/graphql", data={"query": LOGOUT}, headers={"Origin": "https://evil.example"}
    )
    get = await http.get("/graphql", params={"query": ME}, headers=COOKIE_MODE)

    assert form.status_code == 400
    assert get.status_code == 400
    me = await _post(http, ME, headers=COOKIE_MODE)
    assert me.json()["data"]["me"]["__typename"] == "User"


async def test_logout_ends_the_session_and_clears_the_cookie(
    http: httpx.AsyncClient, user: User
) -> None:
    await _cookie_login(http, user)
    token = http.cookies[SESSION_COOKIE]

    logout = await _post(http, LOGOUT, headers=COOKIE_MODE)

    assert logout.json()["data"]["logout"]["__typename"] == "LogoutSuccess"
    cleared = logout.headers["set-cookie"].lower()
    assert cleared.startswith(f'{SESSION_COOKIE}=""') or "max-age=0" in cleared
    assert SESSION_COOKIE not in http.cookies
    # The token itself is dead too, whoever kept a copy.
    again = await _post(http, ME, headers={"Authorization": f"Bearer {token}"})
    assert again.json()["data"]["me"]["__typename"] != "User"


async def test_an_expired_password_changes_through_the_cookie_ticket(
    http: httpx.AsyncClient, user: User, clock: SettableClock
) -> None:
    await User.filter(id=user.id).update(
        password_expires_at=clock.now() - timedelta(minutes=1)
    )
    login = await _cookie_login(http, user)
    expired = login.json()["data"]["login"]
    assert expired["code"] == "WZBAM158E"
    ticket = http.cookies[SESSION_COOKIE]
    assert ticket  # the ticket is in the cookie, not in the answer

    changed = await _post(
        http,
        CHANGE,
        {"current": PASSWORD, "new": "Another-Passw0rd-2026"},
        COOKIE_MODE,
    )

    answer = changed.json()["data"]["changePassword"]
    assert answer == {
        "__typename": "ChangePasswordSuccess",
        "token": None,
        "sessionEnded": True,
    }
    assert SESSION_COOKIE not in http.cookies  # the used-up ticket is cleared


async def test_bearer_tokens_keep_working_for_partners(
    http: httpx.AsyncClient, user: User
) -> None:
    login = await _post(http, LOGIN, {"authId": user.auth_id, "password": PASSWORD})

    token = login.json()["data"]["login"]["token"]
    assert token
    assert "set-cookie" not in login.headers
    me = await _post(http, ME, headers={"Authorization": f"Bearer {token}"})
    assert me.json()["data"]["me"]["__typename"] == "User"


async def test_the_admin_api_never_takes_the_cookie(
    http: httpx.AsyncClient, user: User
) -> None:
    await _cookie_login(http, user)

    answer = await http.post(
        "/admin/graphql",
        json={"query": "{ notices { __typename ... on Error { code } } }"},
        headers=COOKIE_MODE,
    )

    # As with no token at all: the header means nothing to the staff API.
    assert answer.json()["data"]["notices"]["code"] == "RASX002E"


async def test_https_portals_get_a_secure_cookie(
    db: str, services: Services, user: User
) -> None:
    settings = Settings(
        database_url=db,
        public_url="https://portal.example.go.jp",
        environment=Environment.DEVELOPMENT,
    )
    app = create_app(settings, services=services, manage_database=False)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        login = await _post(
            client,
            LOGIN,
            {"authId": user.auth_id, "password": PASSWORD},
            {**COOKIE_MODE, "Origin": "https://portal.example.go.jp"},
        )

    cookie = login.headers["set-cookie"]
    attributes = {p.strip().lower() for p in cookie.split(";")}
    assert "secure" in attributes
    # __Host-: the http keeps it only as set by this host (no Domain).
    assert cookie.startswith("__Host-ras_session=")
    assert not any(a.startswith("domain=") for a in attributes)


async def test_two_session_cookies_are_no_session(
    http: httpx.AsyncClient, user: User
) -> None:
    # A cookie planted for a parent domain travels with the service's own:
    # the server must not pick one of them (whose session would it be?).
    login = await _cookie_login(http, user)
    assert login.json()["data"]["login"]["token"] == ""
    own = http.cookies[SESSION_COOKIE]
    http.cookies.clear()
    planted = f"{SESSION_COOKIE}=planted-by-a-sibling; {SESSION_COOKIE}={own}"

    both = await _post(http, ME, headers={**COOKIE_MODE, "Cookie": planted})
    alone = await _post(
        http, ME, headers={**COOKIE_MODE, "Cookie": f"{SESSION_COOKIE}={own}"}
    )

    assert both.json()["data"]["me"]["code"] == "RASX002E"
    assert alone.json()["data"]["me"]["__typename"] == "User"


def test_secure_cookies_except_plain_http_on_loopback_in_development() -> None:
    def secure(public_url: str, environment: Environment) -> bool:
        return Settings(public_url=public_url, environment=environment).secure_cookies

    assert not secure("http://127.0.0.1:8000", Environment.DEVELOPMENT)
    assert not secure("http://localhost:8000", Environment.DEVELOPMENT)
    assert secure("http://192.0.2.7:8000", Environment.DEVELOPMENT)
    assert secure("https://127.0.0.1:8443", Environment.DEVELOPMENT)
    assert secure("http://127.0.0.1:8000", Environment.PRODUCTION)


# --- CORS --------------------------------------------------------------------


def _preflight(
    origin: str, headers: str = "content-type, authorization"
) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def test_cors_is_closed_by_default(http: httpx.AsyncClient) -> None:
    preflight = await http.options(
        "/graphql", headers=_preflight("https://portal.example.jp")
    )
    answer = await _post(
        http, "{ __typename }", headers={"Origin": "https://portal.example.jp"}
    )

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in answer.headers


async def test_listed_origins_may_call_with_a_bearer_token_only(
    db: str, services: Services
) -> None:
    settings = Settings(database_url=db, cors_origins="https://portal.example.jp")
    app = create_app(settings, services=services, manage_database=False)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        listed = await client.options(
            "/graphql", headers=_preflight("https://portal.example.jp")
        )
        other = await client.options(
            "/graphql", headers=_preflight("https://evil.example")
        )
        cookie_mode = await client.options(
            "/graphql",
            headers=_preflight("https://portal.example.jp", "x-ras-session"),
        )
        answer = await _post(
            client, "{ __typename }", headers={"Origin": "https://portal.example.jp"}
        )

    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == "https://portal.example.jp"
    assert "access-control-allow-credentials" not in listed.headers
    assert "access-control-allow-origin" not in other.headers
    assert cookie_mode.status_code == 400  # the cookie header is never allowed
    assert answer.headers["access-control-allow-origin"] == "https://portal.example.jp"


@pytest.mark.parametrize(
    "value", ["*", "https://portal.example.jp/path", "portal.example.jp", "ftp://x.jp"]
)
def test_cors_origins_must_be_exact_origins(value: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        parse_origins(value)


def test_cors_origins_are_read_as_lower_case_origins() -> None:
    assert parse_origins(" https://Portal.example.jp , http://127.0.0.1:5173/") == (
        "https://portal.example.jp",
        "http://127.0.0.1:5173",
    )


async def test_a_cookie_of_a_session_that_is_over_is_cleared(
    http: httpx.AsyncClient, user: User, clock: SettableClock
) -> None:
    await _cookie_login(http, user)
    clock.advance(timedelta(minutes=31))

    timed_out = await _post(http, ME, headers=COOKIE_MODE)
    garbage = await _post(
        http,
        ME,
        headers={**COOKIE_MODE, "Cookie": f"{SESSION_COOKIE}=never-issued"},
    )

    assert timed_out.json()["data"]["me"]["code"] == "RASX001E"
    assert "max-age=0" in timed_out.headers["set-cookie"].lower()
    assert SESSION_COOKIE not in http.cookies
    assert garbage.json()["data"]["me"]["code"] == "RASX002E"
    assert "max-age=0" in garbage.headers["set-cookie"].lower()
