"""The admin API's reads (users, user, auditEvents, outbox, dailyFigures) and the
actions around mail, credentials and staff (retryMail, reissueCredentials,
createStaff, disableStaff, setStaffRole), each over real HTTP: the app served by
uvicorn, mail delivered by a real worker to a real SMTP server, the applicant's
side through the public API. Every test runs on SQLite and on PostgreSQL."""

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from mailer.outbox import claim, erase_dead_bodies, mark_dead, mark_sent, outbox_row
from models import (
    AccountStatus,
    AuditEvent,
    AuditType,
    MailKind,
    MailStatus,
    OutboxMail,
    User,
)
from models.staff import Staff, StaffRole, StaffSession
from resolvers.context import Services
from resolvers.operator import create_user
from security.clock import SettableClock
from tests.admin_support import STAFF_LOGIN, USER_FIELDS, Admin, secret_of
from tests.support import (
    LOGIN,
    PASSWORD,
    RESET_PASSWORD,
    Mailbox,
    body,
    link_token,
    reset_input,
    reset_mail,
)
from tests.test_register_user import REGISTER, form

LEASE = timedelta(minutes=5)
WRONG = "Wrong2026$x"
REFUSAL = "550 5.1.1 <taro@example.com>: no such user"

# --- documents ------------------------------------------------------------------

USERS = """
query($q: String, $s: AccountStatus, $l: Boolean, $f: Int, $a: String) {
  users(query: $q, status: $s, locked: $l, first: $f, after: $a) {
    __typename
    ... on ManagedUserConnection {
      edges { cursor node { authId email name status lock { locked } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
    ... on Error { code }
    ... on FieldError { field }
  }
}
"""

USER = """
query($a: String!) {
  user(authId: $a) {
    __typename
    ... on ManagedUser {
      authId status passwordSet
      lock { locked failures lockedUntil }
      currentSession { startedAt lastSeenAt clientAddress }
      recentEvents { id at type outcome authId staffLoginId reason }
    }
    ... on Error { code }
    ... on FieldError { field }
  }
}
"""

AUDIT = """
query($f: AuditEventFilter, $n: Int, $a: String) {
  auditEvents(filter: $f, first: $n, after: $a) {
    __typename
    ... on AuditEventConnection {
      edges { cursor node { id at type outcome authId staffLoginId reason detail
                            clientAddress } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Error { code }
    ... on FieldError { field }
  }
}
"""

OUTBOX = """
query($s: MailStatus, $n: Int, $a: String) {
  outbox(status: $s, first: $n, after: $a) {
    __typename
    ... on OutboxConnection {
      edges { cursor node { id kind recipient status attempts lastError createdAt
                            sentAt retryable } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Error { code }
    ... on FieldError { field }
  }
}
"""

RETRY = """
mutation($id: ID!, $r: String!) {
  retryMail(id: $id, reason: $r) {
    __typename
    ... on RetryMailSuccess { mail { id status attempts lastError retryable } }
    ... on Error { code }
    ... on FieldError { field }
    ... on MailNotRetryableError { reason }
    ... on ForbiddenError { requiredRole }
  }
}
"""

FIGURES = """
query($from: Date!, $to: Date!) {
  dailyFigures(from: $from, to: $to) {
    __typename
    ... on DailyFigures {
      days { date registrations logins locks mailsSent mailsDead }
    }
    ... on Error { code }
    ... on FieldError { field }
  }
}
"""

STAFF_ERRORS = """
... on Error { code }
... on FieldError { field }
... on ForbiddenError { requiredRole }
"""

CREATE_STAFF = f"""
mutation($i: CreateStaffInput!) {{
  createStaff(input: $i) {{
    __typename
    ... on CreateStaffSuccess {{
      staff {{ loginId name role disabled }} totpProvisioningUri
    }}
    {STAFF_ERRORS}
    ... on PasswordPolicyError {{ violations {{ rule }} }}
  }}
}}
"""

SET_ROLE = f"""
mutation($l: String!, $role: StaffRole!, $r: String!) {{
  setStaffRole(loginId: $l, role: $role, reason: $r) {{
    __typename
    ... on StaffActionSuccess {{ staff {{ loginId role disabled }} }}
    {STAFF_ERRORS}
  }}
}}
"""

DISABLE = f"""
mutation($l: String!, $r: String!) {{
  disableStaff(loginId: $l, reason: $r) {{
    __typename
    ... on StaffActionSuccess {{ staff {{ loginId role disabled }} }}
    {STAFF_ERRORS}
  }}
}}
"""

REISSUE = (
    "mutation($a: String!, $r: String!) "
    f"{{ reissueCredentials(authId: $a, reason: $r) {{ {USER_FIELDS} }} }}"
)
SUSPEND = (
    "mutation($a: String!, $r: String!) "
    f"{{ suspendUser(authId: $a, reason: $r) {{ {USER_FIELDS} }} }}"
)


# --- fixtures and helpers -------------------------------------------------------


async def applicant(services: Services, email: str, name: str) -> User:
    created = await create_user(services, email=email, name=name, password=PASSWORD)
    assert isinstance(created, User), created
    return created


async def public_login(
    http: httpx.AsyncClient, auth_id: str, password: str = PASSWORD
) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"authId": auth_id, "password": password}},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["data"]["login"]
    return result


async def lock_out(http: httpx.AsyncClient, auth_id: str) -> None:
    """Five wrong passwords: the 認証ID is locked (WZBAM153E)."""
    answers = [(await public_login(http, auth_id, WRONG))["code"] for _ in range(5)]
    assert answers == ["WZBAM005E"] * 4 + ["WZBAM153E"]


async def public(
    http: httpx.AsyncClient, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": document, "variables": variables}
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    data: dict[str, Any] = payload["data"]
    return data


async def users_page(admin: Admin, **variables: Any) -> dict[str, Any]:
    names = {"query": "q", "status": "s", "locked": "l", "first": "f", "after": "a"}
    data = await admin(USERS, {names[k]: v for k, v in variables.items()})
    result: dict[str, Any] = data["users"]
    return result


async def found(admin: Admin, **variables: Any) -> list[str]:
    """The 認証IDs one page of ``users`` lists."""
    page = await users_page(admin, **variables)
    assert page["__typename"] == "ManagedUserConnection", page
    return [edge["node"]["authId"] for edge in page["edges"]]


async def managed(admin: Admin, auth_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(USER, {"a": auth_id}))["user"]
    return result


async def audit(admin: Admin, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(AUDIT, variables))["auditEvents"]
    return result


async def audit_nodes(admin: Admin, **filter: Any) -> list[dict[str, Any]]:
    page = await audit(admin, f=filter, n=100)
    assert page["__typename"] == "AuditEventConnection", page
    return [edge["node"] for edge in page["edges"]]


async def outbox(admin: Admin, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(OUTBOX, variables))["outbox"]
    return result


async def figures(admin: Admin, first: date, last: date) -> dict[str, Any]:
    data = await admin(FIGURES, {"from": first.isoformat(), "to": last.isoformat()})
    result: dict[str, Any] = data["dailyFigures"]
    return result


def moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def written(services: Services, user: User, at: datetime) -> OutboxMail:
    """A PENDING reset mail (a one-time link in its body) written at ``at``."""
    row = outbox_row(
        services.composer,
        reset_mail(user, token=f"secret-token-{at.timestamp()}"),
        now=at,
        user_id=user.id,
    )
    await row.save()
    return row


async def dead(services: Services, user: User, at: datetime) -> OutboxMail:
    """A mail written at ``at`` and refused for good, as the worker does it:
    claimed, then marked DEAD under that claim (the body is kept)."""
    row = await written(services, user, at)
    [claimed] = await claim(now=at, limit=1, lease=LEASE)
    assert claimed.id == row.id
    await mark_dead(claimed, error=REFUSAL)
    return await OutboxMail.get(id=row.id)


async def sent(services: Services, user: User, at: datetime) -> OutboxMail:
    row = await written(services, user, at)
    [claimed] = await claim(now=at, limit=1, lease=LEASE)
    assert claimed.id == row.id
    assert await mark_sent([row.id], now=at) == 1
    return await OutboxMail.get(id=row.id)


async def retry(
    admin: Admin, mail_id: object, reason: str = "受信箱の容量回復を確認"
) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(RETRY, {"id": str(mail_id), "r": reason}))[
        "retryMail"
    ]
    return result


async def staff_login(
    http: httpx.AsyncClient, login_id: str, password: str, code: str
) -> dict[str, Any]:
    data = await Admin(http)(
        STAFF_LOGIN,
        {"i": {"loginId": login_id, "password": password, "totpCode": code}},
    )
    result: dict[str, Any] = data["staffLogin"]
    return result


# ０-９, Ａ-Ｚ, ａ-ｚ: how a 認証ID looks typed in full width.
FULL_WIDTH = {c: c + 0xFEE0 for c in range(ord("0"), ord("z") + 1)}


# --- users ----------------------------------------------------------------------


async def test_users_searches_by_auth_id_email_and_name(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    operator: Staff,
    clock: SettableClock,
) -> None:
    hanako = await applicant(services, "hanako@example.org", "Suzuki Hanako")
    john = await applicant(services, "j.smith@Mail.Example.net", "John Smith")
    mei = await applicant(services, "mei@example.com", "Yamada Mei")
    admin = await Admin(http).logged_in(operator, clock.now())

    assert await found(admin, query=hanako.auth_id) == [hanako.auth_id]
    # The 認証ID as people type it: lower case, full width, spaces around.
    assert await found(admin, query=f" {hanako.auth_id.lower()} ") == [hanako.auth_id]
    assert await found(admin, query=john.auth_id.translate(FULL_WIDTH)) == [
        john.auth_id
    ]
    # The 認証ID must be whole: a part of it finds nobody.
    assert await found(admin, query=hanako.auth_id[:-1]) == []
    # Part of an email address, case ignored.
    assert await found(admin, query="EXAMPLE.NET") == [john.auth_id]
    assert await found(admin, query="j.smith@mail") == [john.auth_id]
    assert await found(admin, query="example.com") == [user.auth_id, mei.auth_id]
    # Part of a name, case ignored.
    assert await found(admin, query="yamada") == [user.auth_id, mei.auth_id]
    assert await found(admin, query="Hanako") == [hanako.auth_id]
    # Nothing matches; an empty query is no filter.
    assert await found(admin, query="nobody") == []
    assert await found(admin, query="  ") == [
        user.auth_id,
        hanako.auth_id,
        john.auth_id,
        mei.auth_id,
    ]
    page = await users_page(admin, query="john")
    assert page["edges"][0]["node"] == {
        "authId": john.auth_id,
        "email": "j.smith@Mail.Example.net",
        "name": "JOHN SMITH",
        "status": "ACTIVE",
        "lock": {"locked": False},
    }


async def test_users_filters_by_status_and_by_lock(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    operator: Staff,
    clock: SettableClock,
) -> None:
    hanako = await applicant(services, "hanako@example.org", "Suzuki Hanako")
    kenji = await applicant(services, "kenji@example.com", "Tanaka Kenji")
    admin = await Admin(http).logged_in(operator, clock.now())
    suspended = (await admin(SUSPEND, {"a": kenji.auth_id, "r": "本人申出"}))[
        "suspendUser"
    ]
    assert suspended["user"]["status"] == "SUSPENDED"
    await lock_out(http, hanako.auth_id)
    # Failures that did not lock are no lock.
    await public_login(http, user.auth_id, WRONG)

    assert await found(admin, status="SUSPENDED") == [kenji.auth_id]
    assert await found(admin, status="ACTIVE") == [user.auth_id, hanako.auth_id]
    assert await found(admin, status="DELETED") == []
    assert await found(admin, locked=True) == [hanako.auth_id]
    assert await found(admin, locked=False) == [user.auth_id, kenji.auth_id]
    # The filters combine.
    assert await found(admin, locked=False, status="ACTIVE") == [user.auth_id]
    assert await found(admin, locked=True, query="hanako") == [hanako.auth_id]
    assert await found(admin, locked=True, query="taro") == []
    page = await users_page(admin, locked=True)
    assert page["edges"][0]["node"]["lock"] == {"locked": True}

    # The lock runs out after 24 hours: nobody is locked any more.
    clock.advance(timedelta(hours=24, seconds=1))
    admin = await Admin(http).logged_in(operator, clock.now())
    assert await found(admin, locked=True) == []
    assert await found(admin, locked=False) == [
        user.auth_id,
        hanako.auth_id,
        kenji.auth_id,
    ]


async def test_users_pages_give_every_user_once_in_registration_order(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    viewer: Staff,
    clock: SettableClock,
) -> None:
    registered = [user.auth_id]
    for name in ("Abe Ken", "Ito Rin", "Ueda Sho", "Oda Yui"):
        clock.advance(timedelta(minutes=1))
        email = f"{name.split()[0].lower()}@example.com"
        registered.append((await applicant(services, email, name)).auth_id)
    admin = await Admin(http).logged_in(viewer, clock.now())

    pages: list[list[str]] = []
    more: list[bool] = []
    after = None
    while True:
        page = await users_page(admin, first=2, after=after)
        assert page["__typename"] == "ManagedUserConnection", page
        edges = page["edges"]
        pages.append([edge["node"]["authId"] for edge in edges])
        more.append(page["pageInfo"]["hasNextPage"])
        assert page["pageInfo"]["hasPreviousPage"] is False
        assert page["pageInfo"]["startCursor"] == edges[0]["cursor"]
        assert page["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == [registered[0:2], registered[2:4], registered[4:5]]
    assert more == [True, True, False]
    # A page that ends exactly at the last user has no next page.
    assert (await users_page(admin, first=5))["pageInfo"]["hasNextPage"] is False
    assert (await users_page(admin, first=4))["pageInfo"]["hasNextPage"] is True
    # The default page holds them all; past the end is an empty page.
    assert await found(admin) == registered
    last = await users_page(admin, first=5)
    empty = await users_page(admin, after=last["pageInfo"]["endCursor"])
    assert empty["edges"] == []
    assert empty["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    # A filter pages too.
    first = await users_page(admin, query="example.com", first=3)
    rest = await users_page(
        admin, query="example.com", first=3, after=first["pageInfo"]["endCursor"]
    )
    assert [e["node"]["authId"] for e in first["edges"] + rest["edges"]] == registered


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"after": "abc"}, "after"),
        ({"after": "-1"}, "after"),
        ({"after": "1" * 20}, "after"),
    ],
)
async def test_users_refuses_a_wrong_page_size_or_cursor(
    http: httpx.AsyncClient,
    user: User,
    viewer: Staff,
    clock: SettableClock,
    variables: dict[str, Any],
    field: str,
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())

    refused = await users_page(admin, **variables)

    assert refused == {
        "__typename": "InvalidFieldError",
        "code": "WZBAM005E",
        "field": field,
    }
    assert len(await found(admin, first=100)) == 1  # the limits themselves work
    assert len(await found(admin, first=1)) == 1


async def test_reads_need_a_staff_session(http: httpx.AsyncClient, user: User) -> None:
    # An applicant's token is nothing in the admin API.
    token = (await public_login(http, user.auth_id))["token"]

    refused = await Admin(http, token)(USERS)
    anonymous = await Admin(http)(USER, {"a": user.auth_id})

    assert refused["users"] == {
        "__typename": "NotAuthenticatedError",
        "code": "RASX002E",
    }
    assert anonymous["user"] == {
        "__typename": "NotAuthenticatedError",
        "code": "RASX002E",
    }


# --- user -----------------------------------------------------------------------


async def test_user_shows_the_lock_counting_up_to_the_lock(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())
    fresh = await managed(admin, user.auth_id)
    assert fresh["lock"] == {"locked": False, "failures": 0, "lockedUntil": None}
    assert fresh["status"] == "ACTIVE"
    assert fresh["passwordSet"] is True

    counted = []
    for _ in range(4):
        await public_login(http, user.auth_id, WRONG)
        counted.append((await managed(admin, user.auth_id))["lock"])
    assert counted == [
        {"locked": False, "failures": n, "lockedUntil": None} for n in (1, 2, 3, 4)
    ]

    locked_at = clock.now()
    assert (await public_login(http, user.auth_id, WRONG))["code"] == "WZBAM153E"
    lock = (await managed(admin, user.auth_id))["lock"]
    assert lock["locked"] is True
    assert moment(lock["lockedUntil"]) == locked_at + timedelta(hours=24)

    # A right password now is refused, and the lock stays as it was.
    assert (await public_login(http, user.auth_id))["code"] == "WZBAM153E"
    assert (await managed(admin, user.auth_id))["lock"] == lock


async def test_a_successful_login_resets_the_failures(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())
    await public_login(http, user.auth_id, WRONG)
    await public_login(http, user.auth_id, WRONG)
    assert (await managed(admin, user.auth_id))["lock"]["failures"] == 2

    assert (await public_login(http, user.auth_id))["__typename"] == "LoginSuccess"

    assert (await managed(admin, user.auth_id))["lock"] == {
        "locked": False,
        "failures": 0,
        "lockedUntil": None,
    }


async def test_user_shows_the_current_session_and_recent_events(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    viewer: Staff,
    clock: SettableClock,
) -> None:
    other = await applicant(services, "hanako@example.org", "Suzuki Hanako")
    admin = await Admin(http).logged_in(viewer, clock.now())
    before = await managed(admin, user.auth_id)
    assert before["currentSession"] is None
    assert before["recentEvents"] == []

    await public_login(http, user.auth_id, WRONG)
    clock.advance(timedelta(seconds=10))
    await public_login(http, other.auth_id)  # someone else's event
    clock.advance(timedelta(seconds=10))
    started = clock.now()
    token = (await public_login(http, user.auth_id))["token"]
    clock.advance(timedelta(minutes=2))
    me = await http.post(
        "/graphql",
        json={"query": "{ me { __typename } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.json()["data"]["me"]["__typename"] == "User"

    shown = await managed(admin, user.auth_id)

    session = shown["currentSession"]
    assert moment(session["startedAt"]) == started
    assert moment(session["lastSeenAt"]) == started + timedelta(minutes=2)
    assert session["clientAddress"] == "127.0.0.1"
    events = shown["recentEvents"]
    assert [e["type"] for e in events] == ["LOGIN_SUCCEEDED", "LOGIN_FAILED"]
    assert [e["outcome"] for e in events] == ["OK", "WZBAM005E"]
    assert {e["authId"] for e in events} == {user.auth_id}
    assert {e["staffLoginId"] for e in events} == {None}
    assert moment(events[0]["at"]) == started
    assert moment(events[1]["at"]) == started - timedelta(seconds=20)
    # The other applicant's session and events are theirs.
    theirs = await managed(admin, other.auth_id)
    assert theirs["currentSession"] is not None
    assert [e["type"] for e in theirs["recentEvents"]] == ["LOGIN_SUCCEEDED"]

    # Logging out ends the current session.
    await http.post(
        "/graphql",
        json={"query": "mutation { logout { __typename } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    after = await managed(admin, user.auth_id)
    assert after["currentSession"] is None
    assert after["recentEvents"][0]["type"] == "LOGGED_OUT"


async def test_recent_events_name_staff_actions_newest_first(
    http: httpx.AsyncClient, user: User, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    await public_login(http, user.auth_id)
    clock.advance(timedelta(seconds=5))
    await admin(SUSPEND, {"a": user.auth_id, "r": "不正利用の疑い"})

    events = (await managed(admin, user.auth_id))["recentEvents"]

    assert events[0]["type"] == "USER_SUSPENDED"
    assert events[0]["staffLoginId"] == "ops.sato"
    assert events[0]["reason"] == "不正利用の疑い"
    assert events[0]["authId"] == user.auth_id
    assert "LOGIN_SUCCEEDED" in [e["type"] for e in events[1:]]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids, reverse=True)


async def test_an_idle_session_is_no_current_session(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    token = (await public_login(http, user.auth_id))["token"]
    clock.advance(timedelta(minutes=31))  # past the 30-minute idle limit
    admin = await Admin(http).logged_in(viewer, clock.now())

    shown = await managed(admin, user.auth_id)

    # The applicant's next request answers RASX001E: the session is over.
    me = await http.post(
        "/graphql",
        json={"query": "{ me { __typename ... on Error { code } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.json()["data"]["me"]["code"] == "RASX001E"
    assert shown["currentSession"] is None


async def test_an_unknown_auth_id_is_not_found(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())

    for unknown in ("ZZZZZZZZZZ", "", "X" * 32):
        assert await managed(admin, unknown) == {
            "__typename": "NotFoundError",
            "code": "RASX008E",
            "field": "authId",
        }
    assert (await managed(admin, user.auth_id.lower()))["authId"] == user.auth_id


# Staff paste longer text (a whole email address) into the boxes for a 認証ID or
# a login ID (both at most 32 characters): the answer is "not found", an empty
# list or what the search finds, never a system error.
TOO_LONG = "X" * 33
LONG_EMAIL = "hanako.suzuki.at.the.help.desk@example.org"  # 42 characters
NOT_FOUND = {"code": "RASX008E"}


@pytest.mark.parametrize(
    ("document", "variables", "answer", "expected"),
    [
        (USER, {"a": TOO_LONG}, "user", NOT_FOUND | {"field": "authId"}),
        (
            "mutation($a: String!, $r: String!) "
            f"{{ unlockUser(authId: $a, reason: $r) {{ {USER_FIELDS} }} }}",
            {"a": TOO_LONG, "r": "依頼"},
            "unlockUser",
            NOT_FOUND | {"field": "authId"},
        ),
        (DISABLE, {"l": TOO_LONG, "r": "退職"}, "disableStaff", NOT_FOUND),
        (
            AUDIT,
            {"f": {"authId": TOO_LONG}},
            "auditEvents",
            {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
        ),
        (
            AUDIT,
            {"f": {"staffLoginId": TOO_LONG.lower()}},
            "auditEvents",
            {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
        ),
    ],
    ids=["user", "unlockUser", "disableStaff", "audit-authId", "audit-staffLoginId"],
)
async def test_an_id_longer_than_any_is_not_found(
    http: httpx.AsyncClient,
    user: User,
    admin_staff: Staff,
    clock: SettableClock,
    document: str,
    variables: dict[str, Any],
    answer: str,
    expected: dict[str, Any],
) -> None:
    admin = await Admin(http).logged_in(admin_staff, clock.now())
    response = await http.post(
        "/admin/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {admin.token}"},
    )

    payload = response.json()
    assert "errors" not in payload, payload  # WZBAM098E: a system error
    result = payload["data"][answer]
    assert {key: result.get(key) for key in expected} == expected


async def test_users_finds_a_whole_long_email_address(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    viewer: Staff,
    clock: SettableClock,
) -> None:
    hanako = await applicant(services, LONG_EMAIL, "Suzuki Hanako")
    admin = await Admin(http).logged_in(viewer, clock.now())

    assert await found(admin, query="hanako.suzuki") == [hanako.auth_id]
    assert await found(admin, query=LONG_EMAIL) == [hanako.auth_id]


# --- auditEvents ----------------------------------------------------------------


async def test_audit_events_newest_first_with_filters(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    operator: Staff,
    viewer: Staff,
    clock: SettableClock,
) -> None:
    other = await applicant(services, "hanako@example.org", "Suzuki Hanako")
    start = clock.now()
    await public_login(http, user.auth_id, WRONG)  # LOGIN_FAILED of user
    clock.advance(timedelta(minutes=1))
    await public_login(http, other.auth_id)  # LOGIN_SUCCEEDED of other
    clock.advance(timedelta(minutes=1))
    middle = clock.now()
    ops = await Admin(http).logged_in(operator, clock.now())  # staff login
    clock.advance(timedelta(minutes=1))
    await ops(SUSPEND, {"a": user.auth_id, "r": "本人から電話で依頼"})
    clock.advance(timedelta(minutes=1))
    await public_login(http, other.auth_id, WRONG)  # LOGIN_FAILED of other
    clock.advance(timedelta(minutes=1))
    end = clock.now()
    admin = await Admin(http).logged_in(viewer, clock.now())

    everything = await audit_nodes(admin)

    assert [(e["type"], e["authId"], e["staffLoginId"]) for e in everything] == [
        ("LOGIN_SUCCEEDED", None, "view.only"),
        ("LOGIN_FAILED", other.auth_id, None),
        ("USER_SUSPENDED", user.auth_id, "ops.sato"),
        ("LOGIN_SUCCEEDED", None, "ops.sato"),
        ("LOGIN_SUCCEEDED", other.auth_id, None),
        ("LOGIN_FAILED", user.auth_id, None),
    ]
    ats = [datetime.fromisoformat(e["at"]) for e in everything]
    assert ats == sorted(ats, reverse=True)
    ids = [int(e["id"]) for e in everything]
    assert ids == sorted(ids, reverse=True)
    suspended = everything[2]
    assert suspended["reason"] == "本人から電話で依頼"
    assert suspended["outcome"] == "OK"
    assert suspended["clientAddress"] == "127.0.0.1"
    # What applicants do carries no reason and no staff member.
    assert everything[1]["reason"] is None

    by_user = await audit_nodes(admin, authId=user.auth_id.lower())
    assert [e["type"] for e in by_user] == ["USER_SUSPENDED", "LOGIN_FAILED"]
    by_other = await audit_nodes(admin, authId=other.auth_id)
    assert [e["type"] for e in by_other] == ["LOGIN_FAILED", "LOGIN_SUCCEEDED"]
    by_staff = await audit_nodes(admin, staffLoginId="OPS.SATO")
    assert [e["type"] for e in by_staff] == ["USER_SUSPENDED", "LOGIN_SUCCEEDED"]
    assert await audit_nodes(admin, staffLoginId="nobody.here") == []
    assert await audit_nodes(admin, authId="ZZZZZZZZZZ") == []
    failed = await audit_nodes(admin, type="LOGIN_FAILED")
    assert [e["authId"] for e in failed] == [other.auth_id, user.auth_id]
    both = await audit_nodes(admin, authId=other.auth_id, type="LOGIN_FAILED")
    assert [e["type"] for e in both] == ["LOGIN_FAILED"]
    # since is inclusive, until exclusive.
    window = await audit_nodes(
        admin, since=middle.isoformat(), until=(end - timedelta(minutes=1)).isoformat()
    )
    assert [e["type"] for e in window] == ["USER_SUSPENDED", "LOGIN_SUCCEEDED"]
    assert len(await audit_nodes(admin, since=start.isoformat())) == 6
    assert await audit_nodes(admin, until=start.isoformat()) == []
    assert len(await audit_nodes(admin, since=end.isoformat())) == 1


async def test_audit_time_filters_in_japan_time(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    """Staff in Japan send times with +09:00: the same instants as in UTC."""
    await public_login(http, user.auth_id, WRONG)  # 09:00 UTC = 18:00 JST
    clock.advance(timedelta(hours=1))
    await public_login(http, user.auth_id, WRONG)  # 10:00 UTC = 19:00 JST
    clock.advance(timedelta(hours=1))
    admin = await Admin(http).logged_in(viewer, clock.now())

    utc = await audit_nodes(
        admin,
        type="LOGIN_FAILED",
        since="2026-04-01T09:30:00+00:00",
        until="2026-04-01T10:30:00+00:00",
    )
    jst = await audit_nodes(
        admin,
        type="LOGIN_FAILED",
        since="2026-04-01T18:30:00+09:00",
        until="2026-04-01T19:30:00+09:00",
    )

    assert len(utc) == 1
    assert moment(utc[0]["at"]) == datetime.fromisoformat("2026-04-01T10:00:00+00:00")
    assert jst == utc


async def test_audit_events_page_newest_first(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    for _ in range(4):
        await public_login(http, user.auth_id, WRONG)
        clock.advance(timedelta(seconds=1))
    admin = await Admin(http).logged_in(viewer, clock.now())
    everything = [e["id"] for e in await audit_nodes(admin, type="LOGIN_FAILED")]
    assert len(everything) == 4

    seen: list[str] = []
    more = []
    after = None
    while True:
        page = await audit(admin, f={"type": "LOGIN_FAILED"}, n=3, a=after)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert [edge["cursor"] for edge in page["edges"]] == [
            edge["node"]["id"] for edge in page["edges"]
        ]
        more.append(page["pageInfo"]["hasNextPage"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == everything
    assert more == [True, False]
    for variables, field in (({"n": 0}, "first"), ({"n": 101}, "first")):
        refused = await audit(admin, **variables)
        assert (refused["code"], refused["field"]) == ("WZBAM005E", field)
    refused = await audit(admin, a="not-a-cursor")
    assert (refused["code"], refused["field"]) == ("WZBAM005E", "after")


# --- outbox ---------------------------------------------------------------------


async def test_outbox_shows_masked_recipients_newest_first(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    viewer: Staff,
    clock: SettableClock,
) -> None:
    t0 = clock.now()
    delivered = await sent(services, user, t0 - timedelta(minutes=3))
    died = await dead(services, user, t0 - timedelta(minutes=2))
    waiting = await written(services, user, t0 - timedelta(minutes=1))
    admin = await Admin(http).logged_in(viewer, clock.now())

    response = await admin.http.post(
        "/admin/graphql",
        json={"query": OUTBOX, "variables": {}},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    page = response.json()["data"]["outbox"]

    nodes = [edge["node"] for edge in page["edges"]]
    assert [n["id"] for n in nodes] == [
        str(waiting.id),
        str(died.id),
        str(delivered.id),
    ]
    assert [n["status"] for n in nodes] == ["PENDING", "DEAD", "SENT"]
    assert {n["recipient"] for n in nodes} == {"t***@example.com"}
    assert {n["kind"] for n in nodes} == {"PASSWORD_RESET"}
    assert [n["retryable"] for n in nodes] == [False, True, False]
    assert [n["attempts"] for n in nodes] == [0, 1, 1]
    assert moment(nodes[2]["sentAt"]) == t0 - timedelta(minutes=3)
    assert moment(nodes[1]["createdAt"]) == t0 - timedelta(minutes=2)
    # The error is kept, its address masked; neither address nor link shows.
    assert nodes[1]["lastError"] == "550 5.1.1 <t***@example.com>: no such user"
    assert "taro@example.com" not in response.text
    assert "secret-token" not in response.text

    dead_only = await outbox(admin, s="DEAD")
    assert [e["node"]["id"] for e in dead_only["edges"]] == [str(died.id)]
    pending = await outbox(admin, s="PENDING")
    assert [e["node"]["id"] for e in pending["edges"]] == [str(waiting.id)]
    first = await outbox(admin, n=2)
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await outbox(admin, n=2, a=first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == [str(delivered.id)]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert (await outbox(admin, n=0))["code"] == "WZBAM005E"


ASKS_FOR_A_BODY = "{ outbox { ... on OutboxConnection { edges { node { body } } } } }"


async def test_an_outbox_entry_has_no_body_field(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())

    data = await admin('{ __type(name: "OutboxEntry") { fields { name } } }')

    names = {field["name"] for field in data["__type"]["fields"]}
    assert names == {
        "id",
        "kind",
        "recipient",
        "status",
        "attempts",
        "lastError",
        "createdAt",
        "sentAt",
        "retryable",
    }
    response = await admin.http.post(
        "/admin/graphql",
        json={"query": ASKS_FOR_A_BODY},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert "Cannot query field 'body'" in response.text


# --- retryMail ------------------------------------------------------------------


async def test_retry_sends_a_dead_mail_again(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    operator: Staff,
    clock: SettableClock,
    mailbox: Mailbox,
) -> None:
    row = await dead(services, user, clock.now())
    assert row.attempts == 1
    admin = await Admin(http).logged_in(operator, clock.now())

    retried = await retry(admin, row.id)

    assert retried == {
        "__typename": "RetryMailSuccess",
        "mail": {
            "id": str(row.id),
            "status": "PENDING",
            "attempts": 0,
            "lastError": None,
            "retryable": False,
        },
    }
    stored = await OutboxMail.get(id=row.id)
    assert (stored.status, stored.attempts, stored.message) == (
        MailStatus.PENDING,
        0,
        row.message,
    )
    [mail] = await mailbox.deliver()
    assert mail["To"] == "taro@example.com"
    assert mail["Message-ID"] == row.message_id  # the very mail, again
    assert "secret-token" in body(mail)
    delivered = await OutboxMail.get(id=row.id)
    assert delivered.status is MailStatus.SENT
    assert delivered.message is None
    (event,) = await AuditEvent.filter(type=AuditType.MAIL_RETRIED)
    assert (event.staff_id, event.reason, event.user_id) == (
        operator.id,
        "受信箱の容量回復を確認",
        user.id,
    )
    nodes = await audit_nodes(admin, type="MAIL_RETRIED")
    assert [(n["staffLoginId"], n["reason"], n["authId"]) for n in nodes] == [
        ("ops.sato", "受信箱の容量回復を確認", user.auth_id)
    ]


async def test_only_dead_mail_with_its_body_is_retried(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    operator: Staff,
    clock: SettableClock,
) -> None:
    now = clock.now()
    waiting = await written(services, user, now)
    delivered = await sent(services, user, now - timedelta(minutes=1))
    # Dead a day and more ago: housekeeping erased its body.
    old = await dead(services, user, now - timedelta(hours=25))
    assert await erase_dead_bodies(now=now) == 1
    admin = await Admin(http).logged_in(operator, clock.now())
    before = await OutboxMail.all().order_by("id").values()

    not_dead = [await retry(admin, row.id) for row in (waiting, delivered)]
    gone = await retry(admin, old.id)
    unknown = [await retry(admin, mail_id) for mail_id in ("999999", "abc", "-1")]

    assert (
        not_dead
        == [
            {
                "__typename": "MailNotRetryableError",
                "code": "RASX009E",
                "reason": "NOT_DEAD",
            }
        ]
        * 2
    )
    assert gone == {
        "__typename": "MailNotRetryableError",
        "code": "RASX009E",
        "reason": "BODY_GONE",
    }
    assert (
        unknown
        == [{"__typename": "NotFoundError", "code": "RASX008E", "field": "id"}] * 3
    )
    assert await OutboxMail.all().order_by("id").values() == before
    assert not await AuditEvent.filter(type=AuditType.MAIL_RETRIED).exists()


async def test_a_viewer_may_not_retry_mail(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    viewer: Staff,
    clock: SettableClock,
) -> None:
    row = await dead(services, user, clock.now())
    admin = await Admin(http).logged_in(viewer, clock.now())
    before = await OutboxMail.all().values()

    refused = await retry(admin, row.id)

    assert refused == {
        "__typename": "ForbiddenError",
        "code": "RASX007E",
        "requiredRole": "OPERATOR",
    }
    assert await OutboxMail.all().values() == before
    assert not await AuditEvent.filter(type=AuditType.MAIL_RETRIED).exists()


async def test_retry_needs_a_reason(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    operator: Staff,
    clock: SettableClock,
) -> None:
    row = await dead(services, user, clock.now())
    admin = await Admin(http).logged_in(operator, clock.now())

    blank = await retry(admin, row.id, reason="  ")

    assert (blank["code"], blank["field"]) == ("WZBAM001E", "reason")
    assert (await OutboxMail.get(id=row.id)).status is MailStatus.DEAD


# --- reissueCredentials ---------------------------------------------------------


async def test_reissue_mails_the_auth_id_and_a_link_that_sets_a_password(
    http: httpx.AsyncClient,
    user: User,
    operator: Staff,
    clock: SettableClock,
    mailbox: Mailbox,
) -> None:
    await lock_out(http, user.auth_id)
    admin = await Admin(http).logged_in(operator, clock.now())

    reissued = (await admin(REISSUE, {"a": user.auth_id, "r": "窓口で本人確認済み"}))[
        "reissueCredentials"
    ]

    assert reissued["__typename"] == "UserActionSuccess", reissued
    assert reissued["user"]["lock"] == {
        "locked": False,
        "failures": 0,
        "lockedUntil": None,
    }
    [mail] = await mailbox.deliver()
    assert mail["To"] == "taro@example.com"
    text = body(mail)
    assert user.auth_id in text
    token = link_token(mail)
    (row,) = await OutboxMail.filter(user_id=user.id)
    assert row.kind is MailKind.CREDENTIALS_REISSUED
    # The old password works until the link is used (the lock is lifted).
    assert (await public_login(http, user.auth_id))["__typename"] == "LoginSuccess"

    new_password = "Kaede#2027aki"
    done = (await public(http, RESET_PASSWORD, reset_input(token, new_password)))[
        "resetPassword"
    ]

    assert done["__typename"] == "ResetPasswordSuccess", done
    assert done["authId"] == user.auth_id
    assert (await public_login(http, user.auth_id, new_password))["__typename"] == (
        "LoginSuccess"
    )
    assert (await public_login(http, user.auth_id))["code"] == "WZBAM005E"
    # The link is single use.
    again = (await public(http, RESET_PASSWORD, reset_input(token, "Other#2027x")))[
        "resetPassword"
    ]
    assert again["code"] == "RASX003E"
    (event,) = await AuditEvent.filter(type=AuditType.CREDENTIALS_REISSUED)
    assert (event.user_id, event.staff_id, event.reason) == (
        user.id,
        operator.id,
        "窓口で本人確認済み",
    )


async def test_a_viewer_may_not_reissue(
    http: httpx.AsyncClient, user: User, viewer: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())

    refused = (await admin(REISSUE, {"a": user.auth_id, "r": "依頼"}))[
        "reissueCredentials"
    ]

    assert (refused["code"], refused["requiredRole"]) == ("RASX007E", "OPERATOR")
    assert not await OutboxMail.all().exists()


# --- dailyFigures ---------------------------------------------------------------


async def register(http: httpx.AsyncClient, email: str) -> None:
    answer = (await public(http, REGISTER, form(email=email, emailConfirm=email)))[
        "registerUser"
    ]
    assert answer["__typename"] == "RegisterUserSuccess", answer


APRIL_1 = date(2026, 4, 1)
APRIL_2 = date(2026, 4, 2)


def figure(
    day: date,
    registrations: int = 0,
    logins: int = 0,
    locks: int = 0,
    sent: int = 0,
    dead: int = 0,
) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "registrations": registrations,
        "logins": logins,
        "locks": locks,
        "mailsSent": sent,
        "mailsDead": dead,
    }


async def test_daily_figures_count_each_japan_day(
    http: httpx.AsyncClient,
    user: User,
    services: Services,
    viewer: Staff,
    clock: SettableClock,
    mailbox: Mailbox,
) -> None:
    # 1 April, 18:00 JST (09:00 UTC).
    await dead(services, user, clock.now())
    await register(http, "an@example.com")
    assert (await public_login(http, user.auth_id))["__typename"] == "LoginSuccess"
    assert len(await mailbox.deliver()) == 1  # the registration mail
    # 2 April, 01:00 JST (16:00 UTC on 1 April).
    clock.advance(timedelta(hours=7))
    await register(http, "binh@example.com")
    await register(http, "chi@example.com")
    await register(http, "an@example.com")  # an address with an account: not new
    hanako = await applicant(services, "hanako@example.org", "Suzuki Hanako")
    assert (await public_login(http, hanako.auth_id))["__typename"] == "LoginSuccess"
    assert (await public_login(http, user.auth_id))["__typename"] == "LoginSuccess"
    await lock_out(http, user.auth_id)
    await public_login(http, user.auth_id)  # refused while locked: no login
    assert len(await mailbox.deliver()) == 3
    # Staff logging in is no applicant's login.
    admin = await Admin(http).logged_in(viewer, clock.now())

    days = await figures(admin, date(2026, 3, 31), APRIL_2)
    april_2 = await figures(admin, APRIL_2, APRIL_2)
    april_1 = await figures(admin, APRIL_1, APRIL_1)

    expected_1 = figure(APRIL_1, registrations=1, logins=1, sent=1, dead=1)
    expected_2 = figure(APRIL_2, registrations=2, logins=2, locks=1, sent=3)
    assert days == {
        "__typename": "DailyFigures",
        "days": [figure(date(2026, 3, 31)), expected_1, expected_2],
    }
    assert april_1["days"] == [expected_1]
    assert april_2["days"] == [expected_2]


async def test_staff_lockouts_are_no_applicant_locks(
    http: httpx.AsyncClient, operator: Staff, viewer: Staff, clock: SettableClock
) -> None:
    # A staff member's login ID, and one nobody has, locked by wrong logins.
    for login_id in ("ops.sato", "ghost.member"):
        answers = [
            (await staff_login(http, login_id, "Wrong#2026x", "123456"))["code"]
            for _ in range(5)
        ]
        assert answers == ["WZBAM005E"] * 4 + ["WZBAM153E"]
    admin = await Admin(http).logged_in(viewer, clock.now())

    days = await figures(admin, APRIL_1, APRIL_1)

    assert days["days"] == [figure(APRIL_1)]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (APRIL_2, APRIL_1),  # reversed
        (date(2025, 3, 31), date(2026, 4, 1)),  # 366 days and one
    ],
)
async def test_daily_figures_refuse_a_wrong_range(
    http: httpx.AsyncClient,
    viewer: Staff,
    clock: SettableClock,
    first: date,
    last: date,
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())

    refused = await figures(admin, first, last)

    assert refused["__typename"] == "InvalidFieldError"
    assert refused["code"] == "WZBAM005E"


async def test_daily_figures_answer_up_to_366_days(
    http: httpx.AsyncClient, viewer: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(viewer, clock.now())

    year = await figures(admin, date(2025, 4, 1), APRIL_1)

    assert len(year["days"]) == 366
    assert year["days"][0] == figure(date(2025, 4, 1))
    assert year["days"][-1]["date"] == "2026-04-01"


# --- staff management -----------------------------------------------------------


def new_staff_input(**changes: Any) -> dict[str, Any]:
    values = {
        "loginId": "new.member",
        "name": "Kato Ai",
        "role": "OPERATOR",
        "password": "Shinjin#2026ok",
        "reason": "4月の配属",
    }
    return {"i": values | changes}


async def test_create_staff_answers_a_totp_uri_to_log_in_with(
    http: httpx.AsyncClient, admin_staff: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(admin_staff, clock.now())

    created = (await admin(CREATE_STAFF, new_staff_input(loginId="New.Member")))[
        "createStaff"
    ]

    assert created["__typename"] == "CreateStaffSuccess", created
    assert created["staff"] == {
        "loginId": "new.member",
        "name": "KATO AI",
        "role": "OPERATOR",
        "disabled": False,
    }
    uri = created["totpProvisioningUri"]
    assert uri.startswith("otpauth://totp/")
    secret = secret_of(uri)
    stored = await Staff.get(login_id="new.member")
    assert stored.totp_secret == secret
    assert stored.password_hash != "Shinjin#2026ok"
    # The new member logs in with the password and the app's code.
    code = pyotp.TOTP(secret).at(clock.now())
    login = await staff_login(http, "new.member", "Shinjin#2026ok", code)
    assert login["__typename"] == "StaffLoginSuccess", login
    assert login["staff"]["role"] == "OPERATOR"
    # A wrong code is no login.
    clock.advance(timedelta(seconds=30))
    other_code = f"{(int(code) + 1) % 1_000_000:06d}"
    wrong = await staff_login(http, "new.member", "Shinjin#2026ok", other_code)
    assert wrong["code"] == "WZBAM005E"
    (event,) = await AuditEvent.filter(type=AuditType.STAFF_CREATED)
    assert (event.staff_id, event.reason) == (admin_staff.id, "4月の配属")
    assert event.detail == "new.member as operator"


async def test_create_staff_refuses_a_taken_login_id_and_a_weak_password(
    http: httpx.AsyncClient,
    admin_staff: Staff,
    operator: Staff,
    clock: SettableClock,
) -> None:
    admin = await Admin(http).logged_in(admin_staff, clock.now())
    count = await Staff.all().count()

    taken = (await admin(CREATE_STAFF, new_staff_input(loginId="OPS.SATO")))[
        "createStaff"
    ]
    weak = (await admin(CREATE_STAFF, new_staff_input(password="password")))[
        "createStaff"
    ]
    bad_id = (await admin(CREATE_STAFF, new_staff_input(loginId="a b")))["createStaff"]
    no_reason = (await admin(CREATE_STAFF, new_staff_input(reason="")))["createStaff"]

    assert taken == {
        "__typename": "LoginIdTakenError",
        "code": "RASX010E",
        "field": "loginId",
    }
    assert weak["__typename"] == "PasswordPolicyError"
    assert weak["field"] == "password"
    assert {v["rule"] for v in weak["violations"]} >= {"MIX"}
    assert (bad_id["code"], bad_id["field"]) == ("WZBAM005E", "loginId")
    assert (no_reason["code"], no_reason["field"]) == ("WZBAM001E", "reason")
    assert await Staff.all().count() == count
    assert (await Staff.get(login_id="ops.sato")).role is StaffRole.OPERATOR
    assert not await AuditEvent.filter(type=AuditType.STAFF_CREATED).exists()


async def test_an_operator_may_not_manage_staff(
    http: httpx.AsyncClient,
    operator: Staff,
    viewer: Staff,
    clock: SettableClock,
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    before = await Staff.all().order_by("id").values()
    sessions = await StaffSession.all().order_by("id").values()

    created = (await admin(CREATE_STAFF, new_staff_input()))["createStaff"]
    disabled = (await admin(DISABLE, {"l": "view.only", "r": "退職"}))["disableStaff"]
    promoted = (
        await admin(SET_ROLE, {"l": "ops.sato", "role": "ADMIN", "r": "自分で昇格"})
    )["setStaffRole"]

    for refused in (created, disabled, promoted):
        assert refused == {
            "__typename": "ForbiddenError",
            "code": "RASX007E",
            "requiredRole": "ADMIN",
        }
    assert await Staff.all().order_by("id").values() == before
    after = await StaffSession.all().order_by("id").values()
    assert [s["revoked_at"] for s in after] == [s["revoked_at"] for s in sessions]
    assert not await AuditEvent.filter(
        type__in=[
            AuditType.STAFF_CREATED,
            AuditType.STAFF_DISABLED,
            AuditType.STAFF_ROLE_SET,
        ]
    ).exists()


async def test_a_new_role_applies_to_the_next_request(
    http: httpx.AsyncClient,
    user: User,
    admin_staff: Staff,
    operator: Staff,
    clock: SettableClock,
) -> None:
    ops = await Admin(http).logged_in(operator, clock.now())
    admin = await Admin(http).logged_in(admin_staff, clock.now())
    assert (await ops(SUSPEND, {"a": user.auth_id, "r": "確認"}))["suspendUser"][
        "user"
    ]["status"] == "SUSPENDED"

    demoted = (await admin(SET_ROLE, {"l": "ops.sato", "role": "VIEWER", "r": "異動"}))[
        "setStaffRole"
    ]

    assert demoted["staff"] == {
        "loginId": "ops.sato",
        "role": "VIEWER",
        "disabled": False,
    }
    refused = (
        await ops(
            "mutation($a: String!, $r: String!) { reinstateUser(authId: $a, "
            f"reason: $r) {{ {USER_FIELDS} }} }}",
            {"a": user.auth_id, "r": "確認"},
        )
    )["reinstateUser"]
    assert (refused["code"], refused["requiredRole"]) == ("RASX007E", "OPERATOR")
    assert (await User.get(id=user.id)).status is AccountStatus.SUSPENDED
    # Reading is still allowed.
    assert await found(ops) == [user.auth_id]
    (event,) = await AuditEvent.filter(type=AuditType.STAFF_ROLE_SET)
    assert (event.staff_id, event.reason, event.detail) == (
        admin_staff.id,
        "異動",
        "ops.sato as viewer",
    )


async def test_disable_staff_ends_their_session_and_login(
    http: httpx.AsyncClient,
    user: User,
    admin_staff: Staff,
    operator: Staff,
    clock: SettableClock,
) -> None:
    ops = await Admin(http).logged_in(operator, clock.now())
    admin = await Admin(http).logged_in(admin_staff, clock.now())

    disabled = (await admin(DISABLE, {"l": "ops.sato", "r": "退職"}))["disableStaff"]

    assert disabled["staff"] == {
        "loginId": "ops.sato",
        "role": "OPERATOR",
        "disabled": True,
    }
    assert (await ops(USERS))["users"]["code"] == "RASX002E"
    clock.advance(timedelta(seconds=30))
    assert (await Admin(http).login(operator, clock.now()))["code"] == "WZBAM155E"
    (event,) = await AuditEvent.filter(type=AuditType.STAFF_DISABLED)
    assert (event.staff_id, event.reason, event.detail) == (
        admin_staff.id,
        "退職",
        "ops.sato",
    )
    unknown = (await admin(DISABLE, {"l": "nobody.here", "r": "退職"}))["disableStaff"]
    assert (unknown["code"], unknown["field"]) == ("RASX008E", "loginId")
