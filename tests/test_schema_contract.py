"""The schema is the partners' contract: described everywhere, errors as data."""

from typing import Any

import pytest
from strawberry import Schema

from schema.admin_root import admin_schema
from schema.root import schema

SCHEMAS = pytest.mark.parametrize(
    "built", [schema, admin_schema], ids=["public", "admin"]
)

INTROSPECT = """
query {
  __schema {
    types {
      name kind description
      fields(includeDeprecated: true) {
        name description
        args { name description }
      }
      inputFields { name description }
      enumValues(includeDeprecated: true) { name description }
      interfaces { name }
      possibleTypes { name }
    }
  }
}
"""
BUILT_IN = {"String", "Boolean", "Int", "Float", "ID"}


def _types(built: Schema = schema) -> dict[str, dict[str, Any]]:
    result = built.execute_sync(INTROSPECT)
    assert result.errors is None
    assert result.data is not None
    return {
        t["name"]: t
        for t in result.data["__schema"]["types"]
        if not t["name"].startswith("__") and t["name"] not in BUILT_IN
    }


@SCHEMAS
def test_every_type_field_argument_and_enum_value_is_described(built: Schema) -> None:
    missing = []
    for name, kind in _types(built).items():
        if not kind["description"]:
            missing.append(name)
        for field in kind["fields"] or []:
            if not field["description"]:
                missing.append(f"{name}.{field['name']}")
            missing.extend(
                f"{name}.{field['name']}({arg['name']})"
                for arg in field["args"]
                if not arg["description"]
            )
        missing.extend(
            f"{name}.{f['name']}"
            for f in kind["inputFields"] or []
            if not f["description"]
        )
        missing.extend(
            f"{name}.{v['name']}"
            for v in kind["enumValues"] or []
            if not v["description"]
        )
    assert missing == []


def test_every_result_union_member_but_the_success_implements_error() -> None:
    types = _types()
    unions = {n: t for n, t in types.items() if t["kind"] == "UNION"}
    assert set(unions) >= {
        "LoginResult",
        "LogoutResult",
        "MeResult",
        "MenuResult",
        "SearchApplicationsResult",
        "MunicipalitiesResult",
        "MunicipalityResult",
        "PostalCodeResult",
        "RegisterUserResult",
        "RegisterPasswordResult",
        "UpdateUserInfoResult",
        "ChangePasswordResult",
        "RequestPasswordResetResult",
        "ResetPasswordResult",
        "RevertEmailChangeResult",
        "ReauthenticateResult",
        "MySecurityActivityResult",
    }
    successes = {
        "RegisterUserSuccess",
        "RegisterPasswordSuccess",
        "UpdateUserInfoSuccess",
        "ChangePasswordSuccess",
        "RequestPasswordResetSuccess",
        "ResetPasswordSuccess",
        "RevertEmailChangeSuccess",
        "LoginSuccess",
        "TotpRequired",
        "LogoutSuccess",
        "ReauthenticateSuccess",
        "TotpEnrollment",
        "TotpEnabled",
        "TotpDisabled",
        "RecoveryCodesRegenerated",
        "SecurityActivity",
        "User",
        "Menu",
        "MunicipalityConnection",
        "Municipality",
        "PostalCode",
    }
    for union in unions.values():
        for member in union["possibleTypes"]:
            interfaces = {i["name"] for i in types[member["name"]]["interfaces"]}
            assert member["name"] in successes or "Error" in interfaces, member


def test_every_admin_result_union_member_but_the_success_implements_error() -> None:
    types = _types(admin_schema)
    unions = {n: t for n, t in types.items() if t["kind"] == "UNION"}
    successes = {
        "StaffLoginSuccess",
        "StaffLogoutSuccess",
        "UserActionSuccess",
        "StaffActionSuccess",
        "CreateStaffSuccess",
        "NoticeActionSuccess",
        "RetryMailSuccess",
        "ManagedUser",
        "ManagedUserConnection",
        "AuditEventConnection",
        "OutboxConnection",
        "ManagedNoticeList",
        "DailyFigures",
    }
    assert len(unions) >= 12
    for union in unions.values():
        for member in union["possibleTypes"]:
            interfaces = {i["name"] for i in types[member["name"]]["interfaces"]}
            assert member["name"] in successes or "Error" in interfaces, member


def test_admin_contract_names_exist_and_stay_out_of_the_public_schema() -> None:
    admin = _types(admin_schema)
    public = _types()
    query = {f["name"] for f in admin["AdminQuery"]["fields"]}
    mutation = {f["name"] for f in admin["AdminMutation"]["fields"]}
    assert query == {
        "users",
        "user",
        "auditEvents",
        "outbox",
        "notices",
        "dailyFigures",
    }
    assert mutation == {
        "staffLogin",
        "staffLogout",
        "unlockUser",
        "suspendUser",
        "reinstateUser",
        "deleteUser",
        "markInvalid",
        "setUsageExpiry",
        "expirePassword",
        "revokeSessions",
        "reissueCredentials",
        "resetTotp",
        "retryMail",
        "publishNotice",
        "withdrawNotice",
        "createStaff",
        "disableStaff",
        "setStaffRole",
    }
    users = next(f for f in admin["AdminQuery"]["fields"] if f["name"] == "users")
    assert {a["name"] for a in users["args"]} == {
        "query",
        "status",
        "locked",
        "first",
        "after",
    }
    assert {f["name"] for f in admin["StaffLoginInput"]["inputFields"]} == {
        "loginId",
        "password",
        "totpCode",
    }
    public_names = {f["name"] for f in public["Query"]["fields"]} | {
        f["name"] for f in public["Mutation"]["fields"]
    }
    assert public_names.isdisjoint(mutation | (query - {"notices"}))
    assert "notices" in public_names
    assert not {"StaffLoginSuccess", "ManagedUser", "AuditEventNode"} & set(public)


def test_public_contract_names_exist() -> None:
    types = _types()
    mutation = {f["name"] for f in types["Mutation"]["fields"]}
    query = {f["name"] for f in types["Query"]["fields"]}
    assert {"login", "logout"} <= mutation
    assert {"me", "menu", "searchApplications", "errorCatalog"} <= query
    assert {"prefectures", "municipalities", "municipality", "postalCode"} <= query
    municipalities = next(
        f for f in types["Query"]["fields"] if f["name"] == "municipalities"
    )
    assert {a["name"] for a in municipalities["args"]} == {
        "prefectureCode",
        "query",
        "first",
        "after",
    }
    assert {f["name"] for f in types["MunicipalityConnection"]["fields"]} == {
        "edges",
        "pageInfo",
    }
    assert {f["name"] for f in types["Municipality"]["fields"]} >= {
        "code",
        "name",
        "kana",
        "romaji",
        "prefecture",
    }
    assert {f["name"] for f in types["PageInfo"]["fields"]} == {
        "hasNextPage",
        "hasPreviousPage",
        "startCursor",
        "endCursor",
    }
    assert {f["name"] for f in types["LoginSuccess"]["fields"]} >= {
        "token",
        "idleTimeoutSeconds",
        "user",
    }
    assert "changeTicket" in {
        f["name"] for f in types["PasswordExpiredError"]["fields"]
    }
    assert {f["name"] for f in types["Error"]["fields"]} == {
        "code",
        "kind",
        "message",
        "remedy",
    }
    assert {f["name"] for f in types["User"]["fields"]} >= {
        "authId",
        "name",
        "email",
        "phone",
        "address",
        "userCategory",
        "lastLoginAt",
        "passwordExpiresAt",
    }
    assert {f["name"] for f in types["Address"]["fields"]} == {
        "municipalityCode",
        "prefectureName",
        "municipalityName",
        "street",
    }
    assert {f["name"] for f in types["MenuItem"]["fields"]} == {
        "key",
        "label",
        "available",
    }
