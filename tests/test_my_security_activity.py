"""mySecurityActivity: the logged-in user's own security events, newest first,
as a Relay connection with labels in the request's language."""

from typing import Any

import httpx

from models import AuditEvent, AuditType, Lang, User
from resolvers.activity import LABELS
from resolvers.context import Services
from resolvers.operator import create_user
from tests.support import LOGIN, PASSWORD, Caller, log_in, request_reset

ACTIVITY = """
query Activity($first: Int, $after: String) {
  mySecurityActivity(first: $first, after: $after) {
    __typename
    ... on Error { code message }
    ... on InvalidFieldError { field reason }
    ... on SecurityActivity {
      edges { cursor node { at type label outcome clientAddress userAgent } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def activity(
    execute: Caller, token: str | None, lang: Lang | None = None, **variables: Any
) -> dict[str, Any]:
    data = await execute(ACTIVITY, variables, token=token, lang=lang)
    result: dict[str, Any] = data["mySecurityActivity"]
    return result


def kinds(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["node"]["type"], e["node"]["outcome"]) for e in page["edges"]]


async def other_user(services: Services) -> User:
    created = await create_user(
        services, email="hanako@example.com", name="Sato Hanako", password=PASSWORD
    )
    assert isinstance(created, User)
    return created


async def test_only_the_callers_events_newest_first(
    execute: Caller, user: User, services: Services
) -> None:
    other = await other_user(services)
    await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
    await log_in(execute, other.auth_id)
    await execute(LOGIN, {"authId": other.auth_id, "password": "Wrong2026$"})
    await log_in(execute, user.auth_id)
    token = await log_in(execute, user.auth_id)  # displaces the one before
    # A reset link is the service's business (issued, not shown).
    await request_reset(execute, user.auth_id, "taro@example.com")

    page = await activity(execute, token)

    assert page["__typename"] == "SecurityActivity"
    assert kinds(page) == [
        ("LOGIN_SUCCEEDED", "OK"),
        ("SESSION_DISPLACED", "OK"),
        ("LOGIN_SUCCEEDED", "OK"),
        ("LOGIN_FAILED", "WZBAM005E"),
    ]
    assert await AuditEvent.filter(type=AuditType.LINK_ISSUED).count() == 1
    assert await AuditEvent.filter(user_id=other.id).count() == 2
    times = [e["node"]["at"] for e in page["edges"]]
    assert times == sorted(times, reverse=True)
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": page["edges"][0]["cursor"],
        "endCursor": page["edges"][-1]["cursor"],
    }


async def test_pages_follow_each_other_without_gaps(
    execute: Caller, user: User
) -> None:
    for _ in range(3):
        await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
    token = await log_in(execute, user.auth_id)
    everything = await activity(execute, token)

    first = await activity(execute, token, first=2)
    second = await activity(
        execute, token, first=2, after=first["pageInfo"]["endCursor"]
    )
    beyond = await activity(
        execute, token, first=2, after=second["pageInfo"]["endCursor"]
    )

    assert len(everything["edges"]) == 4
    assert first["edges"] + second["edges"] == everything["edges"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False
    assert beyond["edges"] == []
    assert beyond["pageInfo"]["endCursor"] is None


async def test_labels_are_in_the_requests_language(execute: Caller, user: User) -> None:
    token = await log_in(execute, user.auth_id)

    ja = await activity(execute, token, Lang.JA)
    en = await activity(execute, token, Lang.EN)

    assert ja["edges"][0]["node"]["label"] == "ログイン"
    assert en["edges"][0]["node"]["label"] == "Login"


def test_every_label_is_given_in_both_languages() -> None:
    shown = {t for t in AuditType if t in LABELS}
    assert AuditType.LOGIN_SUCCEEDED in shown
    assert AuditType.LINK_ISSUED not in shown
    assert AuditType.LIMIT_HIT not in shown
    for ja, en in LABELS.values():
        assert ja
        assert en
        assert ja != en


async def test_the_address_and_browser_of_an_http_login(
    http: httpx.AsyncClient, user: User
) -> None:
    agent = "Mozilla/5.0 (X11; Linux x86_64) RAS test"
    login = await http.post(
        "/graphql",
        json={
            "query": LOGIN,
            "variables": {"authId": user.auth_id, "password": PASSWORD},
        },
        headers={"User-Agent": agent},
    )
    token = login.json()["data"]["login"]["token"]

    answer = await http.post(
        "/graphql",
        json={"query": ACTIVITY, "variables": {"first": 1}},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )

    [edge] = answer.json()["data"]["mySecurityActivity"]["edges"]
    assert edge["node"]["clientAddress"] == "127.0.0.1"
    assert edge["node"]["userAgent"] == agent
    assert edge["node"]["label"] == "Login"


async def test_a_wrong_page_size_or_cursor_is_005e(execute: Caller, user: User) -> None:
    token = await log_in(execute, user.auth_id)

    answers = [
        await activity(execute, token, first=0),
        await activity(execute, token, first=101),
        await activity(execute, token, after="abc"),
        await activity(execute, token, after="9" * 20),
    ]

    assert [(a["code"], a["field"], a["reason"]) for a in answers] == [
        ("WZBAM005E", "first", "OUT_OF_RANGE"),
        ("WZBAM005E", "first", "OUT_OF_RANGE"),
        ("WZBAM005E", "after", "MALFORMED"),
        ("WZBAM005E", "after", "MALFORMED"),
    ]
    assert len((await activity(execute, token, first=100))["edges"]) == 1


async def test_without_a_session_nothing_is_shown(execute: Caller, user: User) -> None:
    token = await log_in(execute, user.auth_id)
    await log_in(execute, user.auth_id)  # the first session is displaced

    anonymous = await activity(execute, None)
    displaced = await activity(execute, token)
    forged = await activity(execute, "not-a-token")

    assert anonymous["__typename"] == "NotAuthenticatedError"
    assert anonymous["code"] == "RASX002E"
    assert displaced["__typename"] == "DuplicateLoginError"
    assert forged["__typename"] in {"NotAuthenticatedError", "SessionExpiredError"}
