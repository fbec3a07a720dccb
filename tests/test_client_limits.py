"""Limits per client address, over real HTTP from two loopback addresses
(127.0.0.1 and 127.0.0.2): failed logins for any IDs (password spraying),
registrations, reset requests and link redemptions; RASX004E with
retryAfterSeconds and the Retry-After header; X-Forwarded-For believed only from
RAS_TRUSTED_PROXIES."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from models import LoginThrottle, OutboxMail, RequestThrottle, User
from resolvers.context import Services
from security.clients import client_address, client_key, parse_networks
from security.clock import SettableClock
from tests.support import (
    PASSWORD,
    REQUEST_RESET,
    RESET_PASSWORD,
    CountingHasher,
    Mailbox,
    WithPolicy,
    link_token,
    reset_input,
    serve,
    serving,
)
from tests.test_register_user import REGISTER, form

WRONG = "Wrong2026$"
LIMIT = 5
WINDOW = timedelta(minutes=10)


@asynccontextmanager
async def served(db: str, services: Services, **settings: Any) -> AsyncIterator[str]:
    """The app under uvicorn on 127.0.0.1; yields its base URL."""
    app = create_app(
        Settings(database_url=db, **settings),
        services=services,
        manage_database=False,
    )
    async with serve(app) as url:
        yield url


@asynccontextmanager
async def client_from(url: str, source: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose connections come from the loopback address ``source``."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(
        base_url=url, transport=transport, timeout=60
    ) as client:
        yield client


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], httpx.Response]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["data"].values()
    return result, response


LOGIN_OUT = """
mutation($authId: String!, $password: String!) {
  login(input: {authId: $authId, password: $password}) {
    __typename
    ... on Error { code }
    ... on TooManyRequestsError { retryAfterSeconds }
  }
}
"""


async def login(
    client: httpx.AsyncClient,
    auth_id: str,
    password: str = WRONG,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], httpx.Response]:
    return await post(
        client, LOGIN_OUT, {"authId": auth_id, "password": password}, headers
    )


@pytest.fixture
def limited(with_policy: WithPolicy) -> Services:
    return with_policy(
        client_login_failure_limit=LIMIT,
        client_login_window=WINDOW,
        client_registration_limit=2,
        client_reset_request_limit=2,
        client_link_limit=3,
    )


async def test_password_spraying_is_cut_off_for_that_address_only(
    db: str,
    user: User,
    limited: Services,
    clock: SettableClock,
    hasher: CountingHasher,
) -> None:
    async with (
        served(db, limited) as url,
        client_from(url, "127.0.0.2") as sprayer,
        client_from(url, "127.0.0.1") as other,
    ):
        # One password against many IDs: each a different, unlocked ID.
        sprayed = [(await login(sprayer, f"SPRAY{n:05}"))[0] for n in range(LIMIT)]
        checks = hasher.verifications
        refused, response = await login(sprayer, "SPRAY99999")
        owner_there, _ = await login(sprayer, user.auth_id, PASSWORD)
        owner_elsewhere, _ = await login(other, user.auth_id, PASSWORD)
        checked = hasher.verifications - checks
        clock.advance(WINDOW)
        later, _ = await login(sprayer, user.auth_id, PASSWORD)

    assert [s["code"] for s in sprayed] == ["WZBAM005E"] * LIMIT
    assert refused == {
        "__typename": "TooManyRequestsError",
        "code": "RASX004E",
        "retryAfterSeconds": 600,
    }
    assert response.headers["retry-after"] == "600"
    assert owner_there["code"] == "RASX004E"
    assert checked == 1  # only the other address's login
    # Refused attempts touch no ID's lockout counter.
    assert not await LoginThrottle.exists(key="SPRAY99999")
    assert (await LoginThrottle.get(key=user.auth_id)).failures == 0
    assert owner_elsewhere["__typename"] == "LoginSuccess"
    assert later["__typename"] == "LoginSuccess"


async def test_the_default_is_twenty_failures_in_ten_minutes(
    db: str, services: Services
) -> None:
    async with served(db, services) as url, client_from(url, "127.0.0.2") as sprayer:
        answers = [(await login(sprayer, f"SPRAY{n:05}"))[0] for n in range(21)]

    assert [a["code"] for a in answers] == ["WZBAM005E"] * 20 + ["RASX004E"]
    assert answers[-1]["retryAfterSeconds"] == 600


async def test_parallel_attempts_cannot_overshoot_the_allowance(
    db: str, limited: Services, hasher: CountingHasher
) -> None:
    async with served(db, limited) as url, client_from(url, "127.0.0.2") as sprayer:
        checks = hasher.verifications
        answers = await asyncio.gather(
            *(login(sprayer, f"PARALLEL{n:03}") for n in range(4 * LIMIT))
        )

    codes = sorted(answer["code"] for answer, _ in answers)
    assert codes == ["RASX004E"] * (3 * LIMIT) + ["WZBAM005E"] * LIMIT
    assert hasher.verifications == checks + LIMIT


async def test_right_passwords_are_not_failures(
    db: str, user: User, limited: Services
) -> None:
    async with served(db, limited) as url, client_from(url, "127.0.0.2") as client:
        answers = [
            (await login(client, user.auth_id, PASSWORD))[0] for _ in range(3 * LIMIT)
        ]
        wrong = [(await login(client, f"OTHER{n:05}"))[0] for n in range(LIMIT)]

    assert {a["__typename"] for a in answers} == {"LoginSuccess"}
    assert {w["code"] for w in wrong} == {"WZBAM005E"}


def registration(email: str) -> dict[str, Any]:
    return form(email=email, emailConfirm=email)


def pair(auth_id: str, email: str = "taro@example.com") -> dict[str, str]:
    """REQUEST_RESET's variables."""
    return {"authId": auth_id, "email": email}


async def test_registrations_are_limited_per_address(
    db: str, limited: Services
) -> None:
    async with (
        served(db, limited) as url,
        client_from(url, "127.0.0.2") as busy,
        client_from(url, "127.0.0.1") as other,
    ):
        accepted = [
            (await post(busy, REGISTER, registration(f"r{n}@example.com")))[0]
            for n in range(2)
        ]
        mails = await OutboxMail.all().count()
        refused, response = await post(busy, REGISTER, registration("r9@example.com"))
        elsewhere, _ = await post(other, REGISTER, registration("r9@example.com"))

    assert [a["__typename"] for a in accepted] == ["RegisterUserSuccess"] * 2
    assert refused["code"] == "RASX004E"
    assert response.headers["retry-after"] == "3600"
    assert elsewhere["__typename"] == "RegisterUserSuccess"
    assert await OutboxMail.all().count() == mails + 1  # only the other's mail


async def test_reset_requests_are_limited_per_address(
    db: str, user: User, limited: Services
) -> None:
    async with (
        served(db, limited) as url,
        client_from(url, "127.0.0.2") as busy,
        client_from(url, "127.0.0.1") as other,
    ):
        guesses = [
            (await post(busy, REQUEST_RESET, pair(f"GUESS{n:05}", "x@example.com")))[0]
            for n in range(2)
        ]
        refused, response = await post(busy, REQUEST_RESET, pair(user.auth_id))
        elsewhere, _ = await post(other, REQUEST_RESET, pair(user.auth_id))

    assert [g["code"] for g in guesses] == ["WZBAM168E"] * 2
    assert (refused["code"], refused["retryAfterSeconds"]) == ("RASX004E", 3600)
    assert response.headers["retry-after"] == "3600"
    assert elsewhere["__typename"] == "RequestPasswordResetSuccess"
    assert await OutboxMail.all().count() == 1


LINKS = [
    'mutation { resetPassword(input: {token: "nope", newPassword: "Hoshi#2027x", '
    'newPasswordConfirm: "Hoshi#2027x"}) { __typename ... on Error { code } } }',
    'mutation { registerPassword(input: {token: "nope", password: "Hoshi#2027x", '
    'passwordConfirm: "Hoshi#2027x"}) { __typename ... on Error { code } } }',
    'mutation { revertEmailChange(input: {token: "nope"}) '
    "{ __typename ... on Error { code } } }",
]


async def test_link_redemptions_share_one_allowance_per_address(
    db: str, limited: Services
) -> None:
    async with (
        served(db, limited) as url,
        client_from(url, "127.0.0.2") as guesser,
        client_from(url, "127.0.0.1") as other,
    ):
        tried = [(await post(guesser, document))[0] for document in LINKS]
        refused = [(await post(guesser, document))[0] for document in LINKS]
        elsewhere = [(await post(other, document))[0] for document in LINKS]

    assert [t["code"] for t in tried] == ["RASX003E"] * 3
    assert [r["code"] for r in refused] == ["RASX004E"] * 3
    assert [e["code"] for e in elsewhere] == ["RASX003E"] * 3


async def test_forwarded_for_is_ignored_from_peers_that_are_not_trusted(
    db: str, limited: Services
) -> None:
    async with served(db, limited) as url, client_from(url, "127.0.0.2") as sprayer:
        answers = [
            (
                await login(
                    sprayer,
                    f"SPRAY{n:05}",
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
            )[0]
            for n in range(LIMIT + 1)
        ]

    assert answers[-1]["code"] == "RASX004E"


async def test_a_trusted_proxy_is_believed_about_its_clients(
    db: str, limited: Services
) -> None:
    async with (
        served(db, limited, trusted_proxies="127.0.0.2/32") as url,
        client_from(url, "127.0.0.2") as proxy,
        client_from(url, "127.0.0.1") as direct,
    ):
        behind = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
        first = [
            (await login(proxy, f"SPRAY{n:05}", headers=behind))[0]
            for n in range(LIMIT + 1)
        ]
        # Another client behind the same proxy has its own allowance; so has
        # the proxy's peer that is not itself a trusted proxy.
        second, _ = await login(
            proxy, "SPRAY00000", headers={"X-Forwarded-For": "203.0.113.10"}
        )
        spoofed, _ = await login(direct, "SPRAY00000", headers=behind)

    assert first[-1]["code"] == "RASX004E"
    assert second["code"] == "WZBAM005E"
    assert spoofed["code"] == "WZBAM005E"


PROXIES = parse_networks("10.0.0.0/8, 2001:db8:ffff::/48")


@pytest.mark.parametrize(
    ("peer", "forwarded", "key"),
    [
        ("192.0.2.1", [], "192.0.2.1"),
        # Not a trusted peer: whatever it claims is ignored.
        ("192.0.2.1", ["203.0.113.5"], "192.0.2.1"),
        # A trusted proxy: the last address that is not a proxy.
        ("10.1.2.3", ["203.0.113.5"], "203.0.113.5"),
        ("10.1.2.3", ["198.51.100.1, 203.0.113.5, 10.9.9.9"], "203.0.113.5"),
        ("10.1.2.3", ["198.51.100.1", "203.0.113.5"], "203.0.113.5"),
        # Garbage stops the walk at the last trusted hop.
        ("10.1.2.3", ["203.0.113.5, not-an-ip"], "10.1.2.3"),
        ("10.1.2.3", ["10.4.4.4, 10.5.5.5"], "10.4.4.4"),
        # IPv6 clients are counted per /64; IPv4-mapped addresses as IPv4.
        ("2001:db8:1:2:aaaa::1", [], "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", [], "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", [], "192.0.2.7"),
        ("2001:db8:ffff::1", ["2001:db8:5:6::7"], "2001:db8:5:6::/64"),
        (None, [], "unknown"),
        ("not-an-address", [], "unknown"),
    ],
)
def test_client_keys(peer: str | None, forwarded: list[str], key: str) -> None:
    assert client_key(client_address(peer, forwarded, PROXIES)) == key


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    found = client_address("10.1.2.3", ["203.0.113.5"], ())
    assert found == ip_address("10.1.2.3")


@pytest.mark.parametrize("value", ["10.0.0.0/33", "example.com", "10.0.0.1, x"])
def test_bad_trusted_proxies_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not an IP address or CIDR"):
        parse_networks(value)


def test_serve_believes_no_forwarded_for_by_default(tmp_path: Path) -> None:
    # uvicorn on its own takes X-Forwarded-For from 127.0.0.1 as the client.
    url = f"sqlite://{tmp_path / 'serve.sqlite3'}"
    with serving(
        url, RAS_MAIL_DIR=str(tmp_path), RAS_CLIENT_LOGIN_FAILURE_LIMIT="2"
    ) as server:
        codes = []
        for n in range(3):
            reply = httpx.post(
                f"{server.url}/graphql",
                json={
                    "query": LOGIN_OUT,
                    "variables": {"authId": f"SPRAY{n:05}", "password": WRONG},
                },
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
                timeout=30,
            )
            codes.append(reply.json()["data"]["login"]["code"])

    assert codes == ["WZBAM005E", "WZBAM005E", "RASX004E"]


async def test_the_window_slides_so_its_end_allows_no_second_burst(db: str) -> None:
    # A fixed window let 1 failure at its start, 19 just before its end and
    # 20 just after it: 39 password checks in two seconds.
    start = SettableClock().now()
    window, limit = timedelta(minutes=10), 20

    async def take(at: timedelta) -> timedelta | None:
        return await RequestThrottle.take(
            "client-login:192.0.2.9", now=start + at, window=window, limit=limit
        )

    assert await take(timedelta(0)) is None
    for _ in range(19):
        assert await take(window - timedelta(seconds=1)) is None
    after = [await take(window + timedelta(seconds=1)) for _ in range(3)]

    # The first failure has left the window; the 19 others have not.
    assert after[0] is None
    assert after[1:] == [window - timedelta(seconds=2)] * 2


async def test_a_working_link_is_never_refused_for_others_on_its_address(
    db: str, user: User, limited: Services, mailbox: Mailbox
) -> None:
    async with (
        served(db, limited) as url,
        client_from(url, "127.0.0.2") as shared,
    ):
        await post(shared, REQUEST_RESET, pair(user.auth_id))
        [reset_mail] = await mailbox.deliver()
        # Someone else behind the same address spends its allowance.
        refused = [(await post(shared, LINKS[0]))[0]["code"] for _ in range(4)]
        done, _ = await post(
            shared, RESET_PASSWORD, reset_input(link_token(reset_mail), "Hoshi#2027x")
        )

    assert refused == ["RASX003E"] * 3 + ["RASX004E"]
    assert done["__typename"] == "ResetPasswordSuccess"


async def test_a_working_link_may_be_tried_only_so_often(
    db: str, user: User, limited: Services, mailbox: Mailbox
) -> None:
    tries = limited.policy.link_attempt_limit
    async with served(db, limited) as url, client_from(url, "127.0.0.2") as client:
        await post(client, REQUEST_RESET, pair(user.auth_id))
        [reset_mail] = await mailbox.deliver()
        token = link_token(reset_mail)
        weak = [
            (await post(client, RESET_PASSWORD, reset_input(token, "password")))[0][
                "code"
            ]
            for _ in range(tries)
        ]
        refused, response = await post(
            client, RESET_PASSWORD, reset_input(token, "Hoshi#2027x")
        )

    assert weak == ["WZBAM005E"] * tries
    assert refused["code"] == "RASX004E"
    assert response.headers["retry-after"] == "3600"
