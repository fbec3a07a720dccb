"""Fuzzing the admin API with hypothesis-graphql, as an admin: no document
valid for its schema, and no string in any action's arguments, may end in
WZBAM098E (a masked crash) or in an error other than the deliberate limits."""

from datetime import UTC, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from models import Staff, StaffSession, User
from resolvers.context import Context, Services
from schema.admin_root import admin_schema
from security.tokens import new_token, token_hash
from tests.test_fuzz_schema import ANY_TEXT, FUZZ, _problems

SDL = admin_schema.as_str()
# Any day of the calendar, and any moment with an offset, without one, or in
# a zone (staff type times; the service must answer every one of them).
SCALARS = {
    "Date": st.dates().map(lambda day: nodes.String(day.isoformat())),
    "DateTime": st.datetimes(
        timezones=st.one_of(st.none(), st.just(UTC), st.timezones())
    ).map(lambda moment: nodes.String(moment.isoformat())),
}


async def _execute(services: Services, doc: str, variables: Any, bearer: str) -> Any:
    context = Context(services=services, bearer=bearer)
    return await admin_schema.execute(doc, variables, context_value=context)


async def _session(services: Services, staff: Staff) -> str:
    """A staff session of ``staff`` (as staffLogin makes one; without a TOTP
    code per example)."""
    token = new_token()
    now = services.clock.now()
    await StaffSession.create(
        staff_id=staff.id,
        token_hash=token_hash(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=8),
    )
    return token


@FUZZ
@given(
    doc=st.one_of(
        queries(SDL, custom_scalars=SCALARS), mutations(SDL, custom_scalars=SCALARS)
    )
)
async def test_generated_admin_documents_never_crash(
    services: Services,
    user: User,
    admin_staff: Staff,
    caplog: pytest.LogCaptureFixture,
    doc: str,
) -> None:
    bearer = await _session(services, admin_staff)
    result = await _execute(services, doc, None, bearer)
    assert not _problems(result, caplog, valid=True), doc


ACTIONS = """
mutation A($a: String!, $r: String!, $l: String!, $id: ID!, $n: PublishNoticeInput!,
           $s: CreateStaffInput!) {
  unlockUser(authId: $a, reason: $r) { __typename }
  suspendUser(authId: $a, reason: $r) { __typename }
  setUsageExpiry(authId: $a, expiresAt: null, reason: $r) { __typename }
  retryMail(id: $id, reason: $r) { __typename }
  withdrawNotice(id: $id, reason: $r) { __typename }
  publishNotice(input: $n) { __typename }
  createStaff(input: $s) { __typename }
  setStaffRole(loginId: $l, role: VIEWER, reason: $r) { __typename }
}
"""
READS = """
query R($q: String, $a: String!, $l: String, $after: String) {
  users(query: $q, after: $after) { __typename }
  user(authId: $a) { __typename }
  auditEvents(filter: {authId: $a, staffLoginId: $l}, after: $after) { __typename }
  outbox(after: $after) { __typename }
}
"""


@FUZZ
@given(texts=st.lists(ANY_TEXT, min_size=8, max_size=8))
@example(texts=["\x00"] * 8)
@example(texts=["\ud800"] * 8)
@example(texts=["9" * 30] * 8)
async def test_admin_actions_and_reads_with_any_strings(
    services: Services,
    user: User,
    admin_staff: Staff,
    caplog: pytest.LogCaptureFixture,
    texts: list[str],
) -> None:
    auth_id, reason, login_id, item, title, body, name, password = texts
    bearer = await _session(services, admin_staff)
    actions = {
        "a": auth_id,
        "r": reason,
        "l": login_id,
        "id": item,
        "n": {
            "titleJa": title,
            "titleEn": title,
            "bodyJa": body,
            "bodyEn": body,
            "startsAt": "2026-04-01T09:00:00+09:00",
            "endsAt": "2026-04-02T09:00:00+09:00",
            "reason": reason,
        },
        "s": {
            "loginId": login_id,
            "name": name,
            "role": "VIEWER",
            "password": password,
            "reason": reason,
        },
    }
    reads = {"q": title, "a": auth_id, "l": login_id, "after": item}

    for doc, variables in ((ACTIONS, actions), (READS, reads)):
        result = await _execute(services, doc, variables, bearer)
        assert not _problems(result, caplog, valid=True), variables
