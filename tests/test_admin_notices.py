"""お知らせ: staff publish and withdraw notices on /admin/graphql, and the public
`notices` query on /graphql (no login) shows each while its window includes now,
in the reader's language. Real HTTP; every test runs on SQLite and PostgreSQL.

(The expiry reminders and lock notices mailed to applicants are in
tests/test_notices.py.)"""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from models import AuditEvent, AuditType
from models.staff import Notice, Staff
from security.clock import SettableClock
from tests.admin_support import Admin

NOTICE_FIELDS = """
__typename
... on NoticeActionSuccess {
  notice { id titleJa titleEn bodyJa bodyEn startsAt endsAt publishedAt
           publishedBy withdrawnAt shown }
}
... on Error { code }
... on FieldError { field }
... on InvalidFieldError { reason }
... on ForbiddenError { requiredRole }
"""

PUBLISH = f"""
mutation($i: PublishNoticeInput!) {{ publishNotice(input: $i) {{ {NOTICE_FIELDS} }} }}
"""

WITHDRAW = f"""
mutation($id: ID!, $r: String!) {{
  withdrawNotice(id: $id, reason: $r) {{ {NOTICE_FIELDS} }}
}}
"""

STAFF_NOTICES = """
query($all: Boolean!) {
  notices(includeExpired: $all) {
    __typename
    ... on ManagedNoticeList { notices { id titleJa withdrawnAt shown } }
    ... on Error { code }
  }
}
"""

PUBLIC_NOTICES = "{ notices { id title body startsAt endsAt } }"

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def notice_input(
    starts_at: datetime, ends_at: datetime, name: str = "メンテナンス", **changes: Any
) -> dict[str, Any]:
    values = {
        "titleJa": f"{name}のお知らせ",
        "titleEn": f"Notice: {name}",
        "bodyJa": f"{name}の本文です。\n2行目。",
        "bodyEn": f"About {name}.\nSecond line.",
        "startsAt": starts_at.isoformat(),
        "endsAt": ends_at.isoformat(),
        "reason": "定期メンテナンスの周知",
    }
    return {"i": values | changes}


async def publish(admin: Admin, variables: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(PUBLISH, variables))["publishNotice"]
    return result


async def published(
    admin: Admin, starts_at: datetime, ends_at: datetime, name: str = "メンテナンス"
) -> dict[str, Any]:
    """Publish a notice (the test fails if it is refused); the notice."""
    result = await publish(admin, notice_input(starts_at, ends_at, name))
    assert result["__typename"] == "NoticeActionSuccess", result
    notice: dict[str, Any] = result["notice"]
    return notice


async def withdraw(
    admin: Admin, notice_id: str, reason: str = "掲載誤り"
) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(WITHDRAW, {"id": notice_id, "r": reason}))[
        "withdrawNotice"
    ]
    return result


async def public_notices(
    http: httpx.AsyncClient, *, path: str = "/graphql", **headers: str
) -> list[dict[str, Any]]:
    response = await http.post(path, json={"query": PUBLIC_NOTICES}, headers=headers)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    notices: list[dict[str, Any]] = payload["data"]["notices"]
    return notices


async def titles(http: httpx.AsyncClient, **headers: str) -> list[str]:
    return [notice["title"] for notice in await public_notices(http, **headers)]


async def staff_notices(admin: Admin, *, include_expired: bool) -> list[dict[str, Any]]:
    data = await admin(STAFF_NOTICES, {"all": include_expired})
    assert data["notices"]["__typename"] == "ManagedNoticeList", data
    notices: list[dict[str, Any]] = data["notices"]["notices"]
    return notices


def moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def test_a_notice_is_shown_from_its_start_until_its_end(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    published_at = clock.now()
    starts_at = clock.now() + HOUR
    ends_at = starts_at + DAY

    notice = await published(admin, starts_at, ends_at)

    assert notice["titleJa"] == "メンテナンスのお知らせ"
    assert notice["titleEn"] == "Notice: メンテナンス"
    assert notice["bodyJa"] == "メンテナンスの本文です。\n2行目。"
    assert moment(notice["startsAt"]) == starts_at
    assert moment(notice["endsAt"]) == ends_at
    assert moment(notice["publishedAt"]) == published_at
    assert notice["publishedBy"] == "ops.sato"
    assert notice["withdrawnAt"] is None
    assert notice["shown"] is False  # not yet
    assert await public_notices(http) == []

    clock.advance(HOUR - timedelta(seconds=1))
    assert await public_notices(http) == []
    clock.advance(timedelta(seconds=1))  # startsAt itself: shown
    [shown] = await public_notices(http)
    assert shown == {
        "id": notice["id"],
        "title": "メンテナンスのお知らせ",
        "body": "メンテナンスの本文です。\n2行目。",
        "startsAt": notice["startsAt"],
        "endsAt": notice["endsAt"],
    }
    clock.advance(DAY - timedelta(seconds=1))
    assert await titles(http) == ["メンテナンスのお知らせ"]
    clock.advance(timedelta(seconds=1))  # endsAt itself: no longer
    assert await public_notices(http) == []


async def test_the_public_list_is_in_the_readers_language(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    await published(admin, clock.now(), clock.now() + DAY)

    japanese = await public_notices(http)
    english = await public_notices(http, **{"Accept-Language": "en-US,en;q=0.9"})
    by_query = await public_notices(http, path="/graphql?lang=en")
    preferred = await public_notices(http, **{"Accept-Language": "en;q=0.5,ja"})

    assert [(n["title"], n["body"]) for n in japanese] == [
        ("メンテナンスのお知らせ", "メンテナンスの本文です。\n2行目。")
    ]
    assert [(n["title"], n["body"]) for n in english] == [
        ("Notice: メンテナンス", "About メンテナンス.\nSecond line.")
    ]
    assert by_query == english
    assert preferred == japanese


async def test_notices_in_japan_time_are_the_same_instants(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    """Staff type times in Japan time: 18:30-19:30 JST is 09:30-10:30 UTC."""
    admin = await Admin(http).logged_in(operator, clock.now())
    notice = await publish(
        admin,
        {
            "i": notice_input(clock.now(), clock.now())["i"]
            | {
                "startsAt": "2026-04-01T18:30:00+09:00",
                "endsAt": "2026-04-01T19:30:00+09:00",
            }
        },
    )
    assert notice["__typename"] == "NoticeActionSuccess", notice

    assert await public_notices(http) == []  # 09:00 UTC
    clock.advance(timedelta(minutes=30))
    assert len(await public_notices(http)) == 1  # 09:30 UTC = 18:30 JST
    clock.advance(timedelta(minutes=59))
    assert len(await public_notices(http)) == 1
    clock.advance(timedelta(minutes=1))
    assert await public_notices(http) == []


async def test_the_public_list_shows_newest_first(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    now = clock.now()
    await published(admin, now - 2 * DAY, now + DAY, "古い")
    await published(admin, now, now + DAY, "新しい")
    await published(admin, now - DAY, now + DAY, "中間")
    await published(admin, now + HOUR, now + DAY, "予定")
    await published(admin, now - 3 * DAY, now - DAY, "終了")

    assert await titles(http) == [
        "新しいのお知らせ",
        "中間のお知らせ",
        "古いのお知らせ",
    ]


async def test_withdrawing_hides_a_notice(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    notice = await published(admin, clock.now(), clock.now() + DAY)
    kept = await published(admin, clock.now(), clock.now() + DAY, "別件")
    assert len(await public_notices(http)) == 2
    clock.advance(timedelta(minutes=5))

    withdrawn = await withdraw(admin, notice["id"], "内容に誤り")

    assert withdrawn["__typename"] == "NoticeActionSuccess", withdrawn
    assert moment(withdrawn["notice"]["withdrawnAt"]) == clock.now()
    assert withdrawn["notice"]["shown"] is False
    assert await titles(http) == ["別件のお知らせ"]
    # Withdrawing again changes nothing and succeeds.
    clock.advance(timedelta(minutes=5))
    again = await withdraw(admin, notice["id"], "二度目")
    assert again["notice"]["withdrawnAt"] == withdrawn["notice"]["withdrawnAt"]
    unknown = await withdraw(admin, "999999")
    assert (unknown["code"], unknown["field"]) == ("RASX008E", "id")
    malformed = await withdraw(admin, "abc")
    assert (malformed["code"], malformed["field"]) == ("RASX008E", "id")

    published_events = await AuditEvent.filter(
        type=AuditType.NOTICE_PUBLISHED
    ).order_by("id")
    assert [(e.staff_id, e.reason, e.detail) for e in published_events] == [
        (operator.id, "定期メンテナンスの周知", f"notice {notice['id']}"),
        (operator.id, "定期メンテナンスの周知", f"notice {kept['id']}"),
    ]
    withdrawn_events = await AuditEvent.filter(
        type=AuditType.NOTICE_WITHDRAWN
    ).order_by("id")
    # The second withdrawal changed nothing, and is on record all the same.
    assert [(e.staff_id, e.reason, e.detail) for e in withdrawn_events] == [
        (operator.id, "内容に誤り", f"notice {notice['id']}"),
        (operator.id, "二度目", f"notice {notice['id']} (already withdrawn)"),
    ]
    stored = await Notice.get(id=int(notice["id"]))
    assert stored.withdrawn_by == operator.id


async def test_staff_list_current_and_scheduled_or_all(
    http: httpx.AsyncClient, operator: Staff, viewer: Staff, clock: SettableClock
) -> None:
    ops = await Admin(http).logged_in(operator, clock.now())
    now = clock.now()
    expired = await published(ops, now - 3 * DAY, now - DAY, "終了")
    current = await published(ops, now - DAY, now + DAY, "掲載中")
    scheduled = await published(ops, now + DAY, now + 2 * DAY, "予定")
    withdrawn = await published(ops, now - HOUR, now + DAY, "取下げ")
    await withdraw(ops, withdrawn["id"])
    admin = await Admin(http).logged_in(viewer, clock.now())  # any role reads

    default = await staff_notices(admin, include_expired=False)
    everything = await staff_notices(admin, include_expired=True)

    assert [(n["id"], n["shown"]) for n in default] == [
        (scheduled["id"], False),
        (current["id"], True),
    ]
    assert [(n["id"], n["shown"]) for n in everything] == [
        (scheduled["id"], False),
        (withdrawn["id"], False),
        (current["id"], True),
        (expired["id"], False),
    ]
    assert [n["withdrawnAt"] is not None for n in everything] == [
        False,
        True,
        False,
        False,
    ]
    # The scheduled one is shown once its time comes.
    clock.advance(DAY)
    admin = await Admin(http).logged_in(viewer, clock.now())
    later = await staff_notices(admin, include_expired=False)
    assert [(n["id"], n["shown"]) for n in later] == [(scheduled["id"], True)]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"titleJa": ""}, "WZBAM001E", "titleJa"),
        ({"titleJa": "   "}, "WZBAM001E", "titleJa"),
        ({"titleEn": ""}, "WZBAM001E", "titleEn"),
        ({"bodyJa": ""}, "WZBAM001E", "bodyJa"),
        ({"reason": " "}, "WZBAM001E", "reason"),
        ({"titleJa": "題" * 201}, "WZBAM005E", "titleJa"),
        ({"titleEn": "t" * 201}, "WZBAM005E", "titleEn"),
        ({"bodyEn": "b" * 4001}, "WZBAM005E", "bodyEn"),
        ({"endsAt": "2026-04-01T09:00:00+00:00"}, "WZBAM005E", "endsAt"),
        ({"endsAt": "2026-04-01T08:00:00+00:00"}, "WZBAM005E", "endsAt"),
        # The same instant as startsAt, written in Japan time.
        ({"endsAt": "2026-04-01T18:00:00+09:00"}, "WZBAM005E", "endsAt"),
    ],
)
async def test_a_wrong_notice_is_refused_and_nothing_is_written(
    http: httpx.AsyncClient,
    operator: Staff,
    clock: SettableClock,
    changes: dict[str, Any],
    code: str,
    field: str,
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    variables = notice_input(clock.now(), clock.now() + DAY)
    variables["i"] |= changes

    refused = await publish(admin, variables)

    assert (refused["code"], refused["field"]) == (code, field)
    assert not await Notice.all().exists()
    assert not await AuditEvent.filter(type=AuditType.NOTICE_PUBLISHED).exists()


async def test_the_longest_title_and_body_are_accepted(
    http: httpx.AsyncClient, operator: Staff, clock: SettableClock
) -> None:
    admin = await Admin(http).logged_in(operator, clock.now())
    variables = notice_input(clock.now(), clock.now() + DAY)
    variables["i"] |= {"titleJa": "題" * 200, "bodyJa": "本" * 4000}

    notice = await publish(admin, variables)

    assert notice["__typename"] == "NoticeActionSuccess", notice
    assert (await public_notices(http))[0]["title"] == "題" * 200


async def test_a_viewer_may_not_publish_or_withdraw(
    http: httpx.AsyncClient, operator: Staff, viewer: Staff, clock: SettableClock
) -> None:
    ops = await Admin(http).logged_in(operator, clock.now())
    notice = await published(ops, clock.now(), clock.now() + DAY)
    admin = await Admin(http).logged_in(viewer, clock.now())
    before = await Notice.all().values()

    refused = await publish(admin, notice_input(clock.now(), clock.now() + DAY))
    not_withdrawn = await withdraw(admin, notice["id"])

    for answer in (refused, not_withdrawn):
        assert answer == {
            "__typename": "ForbiddenError",
            "code": "RASX007E",
            "requiredRole": "OPERATOR",
        }
    assert await Notice.all().values() == before
    assert (
        await AuditEvent.filter(
            type__in=[AuditType.NOTICE_PUBLISHED, AuditType.NOTICE_WITHDRAWN],
            staff_id=viewer.id,
        ).count()
        == 0
    )
    assert len(await public_notices(http)) == 1


async def test_publishing_needs_a_staff_session(
    http: httpx.AsyncClient, clock: SettableClock
) -> None:
    anonymous = Admin(http)

    refused = await publish(anonymous, notice_input(clock.now(), clock.now() + DAY))
    listed = await anonymous(STAFF_NOTICES, {"all": True})

    assert refused == {"__typename": "NotAuthenticatedError", "code": "RASX002E"}
    assert listed["notices"] == {
        "__typename": "NotAuthenticatedError",
        "code": "RASX002E",
    }
    assert not await Notice.all().exists()
