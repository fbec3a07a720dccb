"""The admin API's schema (served at /admin/graphql): its own Query and
Mutation, none of it in the public schema, with the public schema's request
checks (parse and validation limits, masking of unexpected errors)."""

from typing import Any

import strawberry

from resolvers import admin, admin_actions, notices, staff
from schema.admin import MailRetryProblem
from schema.errors import FieldError, RequiredFieldError
from schema.pipeline import RasSchema

_STAFF = "Staff session (Bearer token), any role."
_OPERATOR = (
    "Staff session, role operator or admin; `reason` is stored in the audit trail."
)
_ADMIN = "Staff session, role admin; `reason` is stored in the audit trail."


@strawberry.type(description="What staff read (any role).")
class AdminQuery:
    users = strawberry.field(
        resolver=admin.users,
        description="Search the applicants by 認証ID, email or name, status and "
        f"lock state, in registration order (Relay connection). {_STAFF}",
    )
    user = strawberry.field(
        resolver=admin.user,
        description="One applicant: status, usage expiry, lock state, password "
        f"expiry, current session and recent audit events. {_STAFF}",
    )
    audit_events = strawberry.field(
        resolver=admin.audit_events,
        description=f"The audit trail, newest first (Relay connection). {_STAFF}",
    )
    outbox = strawberry.field(
        resolver=admin.outbox,
        description="The mail outbox, newest first: kind, masked recipient and "
        f"delivery state, never a body (Relay connection). {_STAFF}",
    )
    notices = strawberry.field(
        resolver=notices.staff_notices,
        description=f"お知らせ in both languages, newest first. {_STAFF}",
    )
    daily_figures = strawberry.field(
        resolver=admin.daily_figures,
        description="Registrations, logins, locks and mails sent and dead per day "
        f"(Japan time), at most 366 days. {_STAFF}",
    )


@strawberry.type(description="What staff do.")
class AdminMutation:
    staff_login = strawberry.mutation(
        resolver=staff.staff_login,
        description="Staff login: login ID, password and the current TOTP code, "
        "always. Wrong credentials count toward the staff lockout (WZBAM153E).",
    )
    staff_logout = strawberry.mutation(
        resolver=staff.staff_logout,
        description="End the staff session of the Bearer token.",
    )
    unlock_user = strawberry.mutation(
        resolver=admin_actions.unlock_user,
        description=f"Lift a 認証ID's lock (WZBAM153E's remedy). {_OPERATOR}",
    )
    suspend_user = strawberry.mutation(
        resolver=admin_actions.suspend_user,
        description="Suspend an account: sessions end, login answers WZBAM155E. "
        f"{_OPERATOR}",
    )
    reinstate_user = strawberry.mutation(
        resolver=admin_actions.reinstate_user,
        description=f"Make a suspended or invalid account active again. {_OPERATOR}",
    )
    delete_user = strawberry.mutation(
        resolver=admin_actions.delete_user,
        description="抹消: erase the account's personal data and free its email "
        f"address; login answers WZBAM156E. {_ADMIN}",
    )
    mark_invalid = strawberry.mutation(
        resolver=admin_actions.mark_invalid,
        description="Mark the user information invalid: sessions end, login "
        f"answers WZBAM150E. {_OPERATOR}",
    )
    set_usage_expiry = strawberry.mutation(
        resolver=admin_actions.set_usage_expiry,
        description="Set or clear the usage expiry (利用期限); after it login "
        f"answers WZBAM151E. {_OPERATOR}",
    )
    expire_password = strawberry.mutation(
        resolver=admin_actions.expire_password,
        description="Expire the password now: sessions end, the next login answers "
        f"WZBAM158E. {_OPERATOR}",
    )
    revoke_sessions = strawberry.mutation(
        resolver=admin_actions.revoke_sessions,
        description=f"End every session of the account. {_OPERATOR}",
    )
    reissue_credentials = strawberry.mutation(
        resolver=admin_actions.reissue_credentials,
        description="認証ID・パスワードの再通知: mail the 認証ID with a new link "
        f"to set a password, and lift a lock. {_OPERATOR}",
    )
    reset_totp = strawberry.mutation(
        resolver=admin_actions.reset_totp,
        description="Remove the applicant's two-step login, for one who lost the "
        "authenticator and the recovery codes (check who is asking first); "
        f"mails the applicant. {_OPERATOR}",
    )
    retry_mail = strawberry.mutation(
        resolver=admin_actions.retry_mail,
        description=f"Send a dead mail again while its body is kept. {_OPERATOR}",
    )
    publish_notice = strawberry.mutation(
        resolver=admin_actions.publish_notice,
        description=f"Publish お知らせ for a time window. {_OPERATOR}",
    )
    withdraw_notice = strawberry.mutation(
        resolver=admin_actions.withdraw_notice,
        description=f"Withdraw お知らせ. {_OPERATOR}",
    )
    create_staff = strawberry.mutation(
        resolver=admin_actions.create_staff,
        description="Create a staff member; answers their TOTP provisioning URI "
        f"once. {_ADMIN}",
    )
    disable_staff = strawberry.mutation(
        resolver=admin_actions.disable_staff,
        description=f"Disable a staff member: their sessions end. {_ADMIN}",
    )
    set_staff_role = strawberry.mutation(
        resolver=admin_actions.set_staff_role,
        description=f"Change a staff member's role. {_ADMIN}",
    )


def build_admin_schema(**kwargs: Any) -> RasSchema:
    return RasSchema(
        query=AdminQuery,
        mutation=AdminMutation,
        types=[FieldError, RequiredFieldError, MailRetryProblem],
        **kwargs,
    )


admin_schema = build_admin_schema()
