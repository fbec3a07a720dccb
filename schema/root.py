"""The root Schema: every operation wired to its resolver, run by the
pipeline that bounds and caches the work around it (schema.pipeline)."""

from typing import Any

import strawberry

from resolvers import (
    account,
    activity,
    auth,
    catalog,
    lookup,
    notices,
    password,
    registration,
    two_step,
)
from resolvers import menu as menu_screen
from schema.errors import FieldError, RequiredFieldError, StreetRequiredError
from schema.pipeline import RasSchema


@strawberry.type(description="Read operations.")
class Query:
    me = strawberry.field(
        resolver=account.me,
        description="利用者情報表示: the logged-in user's information (Bearer token).",
    )
    menu = strawberry.field(
        resolver=menu_screen.menu,
        description="メニュー: the four menu items with their availability for the "
        "user's category (Bearer token).",
    )
    search_applications = strawberry.field(
        resolver=menu_screen.search_applications,
        description="申請情報検索 (Bearer token). Unavailable for this service's user "
        "category: answers WZBAM250E.",
    )
    error_catalog = strawberry.field(
        resolver=catalog.error_catalog,
        description="別紙「エラーメッセージ一覧」: every code with message and remedy, "
        "the manual's 25 first, then this service's RASX extensions. No login needed.",
    )
    prefectures = strawberry.field(
        resolver=lookup.prefectures,
        description="都道府県: the 47 prefectures in code order, from Japan Post's "
        "data. No login needed.",
    )
    municipalities = strawberry.field(
        resolver=lookup.municipalities,
        description="住居地の検索: municipalities (市区町村, designated-city wards, "
        "Tokyo special wards) in code order, optionally in one prefecture and matching "
        "a search text; pages of `first` after the cursor `after`. No login "
        "needed.",
    )
    municipality = strawberry.field(
        resolver=lookup.municipality,
        description="One municipality by its 全国地方公共団体コード. No login needed.",
    )
    postal_code = strawberry.field(
        resolver=lookup.postal_code,
        description="郵便番号検索: the prefecture, municipality and town(s) of a "
        "postal code, in kanji, kana and romaji, to pre-fill an address. No "
        "login needed.",
    )
    notices = strawberry.field(
        resolver=notices.notices,
        description="お知らせ: the notices of the portal's top page shown now (their "
        "window includes now), newest first, in the request's language. No login "
        "needed.",
    )
    my_security_activity = strawberry.field(
        resolver=activity.my_security_activity,
        description="The logged-in user's own security events, newest first "
        "(Bearer token): logins with time, client address, user agent and "
        "outcome, failed and locked attempts, sessions ended, and changes to "
        "the account.",
    )
    password_policy = strawberry.field(
        resolver=password.password_policy,
        description="The password policy in force, each rule in Japanese and "
        "English, for the password forms. No login needed.",
    )


@strawberry.type(description="Operations that change state.")
class Mutation:
    login = strawberry.mutation(
        resolver=auth.login,
        description="ログイン: 認証ID and password for a session token. Five "
        "consecutive failures for one auth ID lock it for 24 hours (WZBAM153E).",
    )
    logout = strawberry.mutation(
        resolver=auth.logout,
        description="ログアウト: ends the session of the Bearer token.",
    )
    verify_totp = strawberry.mutation(
        resolver=two_step.verify_totp,
        description="The code step of a login with two-step login: after `login` "
        "answered TotpRequired, the challenge token with the authenticator app's "
        "code (or a recovery code) gives the session. A wrong code counts toward "
        "the lockout like a wrong password; a code is accepted once.",
    )
    reauthenticate = strawberry.mutation(
        resolver=auth.reauthenticate,
        description="Enter the password again on this session (Bearer token) "
        "before a sensitive change: changing the email address needs the "
        "password checked within the last RAS_STEP_UP_SECONDS (10 minutes by "
        "default; logging in counts). A wrong password counts toward the lockout "
        "like a failed login. With two-step login on, the code is needed too.",
    )
    begin_totp_enrollment = strawberry.mutation(
        resolver=two_step.begin_totp_enrollment,
        description="Begin setting up two-step login (Bearer token, current "
        "password): a secret and its QR code for an authenticator app.",
    )
    confirm_totp_enrollment = strawberry.mutation(
        resolver=two_step.confirm_totp_enrollment,
        description="Turn two-step login on with the app's first code; answers 10 "
        "single-use recovery codes, shown once, and mails the user.",
    )
    disable_totp = strawberry.mutation(
        resolver=two_step.disable_totp,
        description="Turn two-step login off (current password and a code or a "
        "recovery code); mails the user.",
    )
    regenerate_recovery_codes = strawberry.mutation(
        resolver=two_step.regenerate_recovery_codes,
        description="Replace the recovery codes (the app's current code); the old "
        "ones stop working.",
    )
    register_user = strawberry.mutation(
        resolver=registration.register_user,
        description="利用者登録: create an account of the category （窓口申請）在留資格"
        "認定証明書電子交付希望者 and mail its 認証ID with a password-setup link "
        "(24 hours, single use). The answer does not tell whether the address "
        "already had an account; its owner gets a mail instead. No login needed.",
    )
    register_password = strawberry.mutation(
        resolver=registration.register_password,
        description="パスワード登録: set the first password with the token of the "
        "registration mail's link; then the user can log in. No login needed.",
    )
    update_user_info = strawberry.mutation(
        resolver=account.update_user_info,
        description="利用者情報変更: change the address, phone and/or email of the "
        "logged-in user (Bearer token). An email change mails the new and the old "
        "address (with a link that undoes it) and needs the password checked on "
        "the session recently (login or `reauthenticate`); other changes send no "
        "mail.",
    )
    revert_email_change = strawberry.mutation(
        resolver=account.revert_email_change,
        description="Undo an email change with the link in the notice mailed to "
        "the old address (for when it was not the user): the old address is back, "
        "every session ends, the password is removed and a reset link is mailed "
        "to the restored address. No login needed.",
    )
    change_password = strawberry.mutation(
        resolver=password.change_password,
        description="パスワード変更: with a session, or with the change ticket of "
        "WZBAM158E. A wrong current password counts toward the lockout. Success "
        "ends every other session, gives this one a new token and mails a "
        "completion notice.",
    )
    request_password_reset = strawberry.mutation(
        resolver=password.request_password_reset,
        description="パスワード再設定の申請 (manual 2.5): mail a reset link (1 hour, "
        "single use; a newer request voids older links) when auth ID and email "
        "belong to one active account. No login needed.",
    )
    reset_password = strawberry.mutation(
        resolver=password.reset_password,
        description="パスワード再設定: set a new password with the token of the "
        "reset mail's link. Lifts a WZBAM153E lock and ends every session. No "
        "login needed.",
    )


def build_schema(**kwargs: Any) -> RasSchema:
    """The service's public schema, answering public lookups from the cache."""
    return RasSchema(
        query=Query,
        mutation=Mutation,
        # Reachable only through interfaces (AddressIncompleteError.fieldErrors).
        types=[FieldError, RequiredFieldError, StreetRequiredError],
        cache_answers=True,
        **kwargs,
    )


schema = build_schema()
