"""Helpers of the admin API's tests: staff members, their TOTP codes, and a
client of /admin/graphql over real HTTP."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
from tortoise.transactions import in_transaction

from models import Staff, StaffRole
from resolvers.context import Services
from resolvers.staff import new_staff

STAFF_PASSWORD = "Kanri2026$desk"

STAFF_LOGIN = """
mutation($i: StaffLoginInput!) {
  staffLogin(input: $i) {
    __typename
    ... on StaffLoginSuccess { token idleTimeoutSeconds staff { loginId name role } }
    ... on Error { code message remedy }
    ... on RequiredFieldError { fields }
    ... on TooManyRequestsError { retryAfterSeconds }
    ... on AccountLockedError { retryAfterSeconds }
  }
}
"""

# The fields every user action answers with.
USER_FIELDS = """
__typename
... on UserActionSuccess {
  user { authId status name email usageExpiresAt passwordExpiresAt
         lock { locked failures lockedUntil } }
}
... on Error { code message }
... on FieldError { field }
... on InvalidFieldError { reason }
... on ForbiddenError { requiredRole }
... on AccountStateError { status }
"""


def secret_of(uri: str) -> str:
    """The secret of an otpauth:// provisioning URI (checking its form)."""
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["ras-identity"]
    return query["secret"][0]


def code_at(staff: Staff, moment: datetime) -> str:
    """The code the staff member's authenticator app shows at ``moment``."""
    return pyotp.TOTP(staff.totp_secret).at(moment)


async def make_staff(
    services: Services, login_id: str, role: StaffRole, name: str = "KANRI TARO"
) -> Staff:
    async with in_transaction() as conn:
        return await new_staff(
            services,
            login_id=login_id,
            name=name,
            role=role,
            password=STAFF_PASSWORD,
            using_db=conn,
        )


@dataclass
class Admin:
    """A GraphQL client over real HTTP, optionally with a token: of the admin
    API unless ``path`` says otherwise (the public /graphql)."""

    http: httpx.AsyncClient
    token: str | None = None
    path: str = "/admin/graphql"

    async def __call__(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        lang: str = "ja",
    ) -> dict[str, Any]:
        bearer = token if token is not None else self.token
        headers = {"Accept-Language": lang}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            self.path,
            json={"query": document, "variables": variables or {}},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        payload = response.json()
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data

    async def login(
        self, staff: Staff, moment: datetime, password: str = STAFF_PASSWORD
    ) -> dict[str, Any]:
        data = await self(
            STAFF_LOGIN,
            {
                "i": {
                    "loginId": staff.login_id,
                    "password": password,
                    "totpCode": code_at(staff, moment),
                }
            },
        )
        result: dict[str, Any] = data["staffLogin"]
        return result

    async def logged_in(self, staff: Staff, moment: datetime) -> "Admin":
        """A client holding a new session of ``staff`` (the test fails if the
        login does)."""
        result = await self.login(staff, moment)
        assert result["__typename"] == "StaffLoginSuccess", result
        return Admin(self.http, result["token"])
