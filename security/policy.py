"""The security numbers the resolvers enforce, built by the app from its settings."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Policy:
    """Session, lockout, password and link rules (every number is a ``RAS_``
    setting)."""

    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=8)
    change_ticket_lifetime: timedelta = timedelta(minutes=15)
    lockout_threshold: int = 5
    lockout_duration: timedelta = timedelta(hours=24)
    password_max_age: timedelta = timedelta(days=365)
    password_min_length: int = 8
    password_max_length: int = 32
    # "Not one of the last N passwords": the current one and N-1 before it.
    password_history: int = 3
    # A password whose letters (digits and symbols around them removed, l33t
    # undone) are one of this many most common passwords is refused, so that
    # "Password1!" does not pass for mixing three kinds of characters.
    common_password_base_rank: int = 1000
    setup_link_lifetime: timedelta = timedelta(hours=24)
    reset_link_lifetime: timedelta = timedelta(hours=1)
    # The link in the notice to the old address that undoes an email change.
    email_revert_lifetime: timedelta = timedelta(days=7)
    # Password-reset requests per auth ID, and registrations per email address,
    # within one window: limits guessing addresses and flooding a mailbox.
    reset_request_limit: int = 5
    registration_limit: int = 3
    # Email changes per account within one window (each mails two addresses).
    email_change_limit: int = 3
    request_window: timedelta = timedelta(hours=1)
    # registerUser and requestPasswordReset, once their input checks passed, are
    # answered no sooner than this: what they write depends on whether an
    # account exists (a new address writes an account, a link and a mail, a
    # registered one only a mail), and the difference (about 2 ms) must not
    # tell which addresses and pairs have accounts.
    answer_floor: timedelta = timedelta(milliseconds=100)
    # Changing the email address needs a session whose password was checked
    # (login or reauthenticate) within this long: a stolen session alone
    # cannot redirect the account's mail.
    step_up: timedelta = timedelta(minutes=10)
    # Per client address, shared by every web process through the database:
    # failed logins for any auth IDs (password spraying) in their own window,
    # and registrations, reset requests and mailed-link redemptions in one.
    client_login_failure_limit: int = 20
    client_login_window: timedelta = timedelta(minutes=10)
    client_registration_limit: int = 10
    client_reset_request_limit: int = 10
    client_link_limit: int = 30
    client_window: timedelta = timedelta(hours=1)
    # Uses of one working mailed link (each may cost argon2 work) per
    # request_window.
    link_attempt_limit: int = 10
    # Sealed segments of the audit trail older than this are purged.
    audit_retention: timedelta = timedelta(days=400)
    # Staff (admin API): failures before a staff login ID locks (for the same
    # lockout duration), and their sessions' idle and absolute limits.
    staff_lockout_threshold: int = 5
    staff_idle: timedelta = timedelta(minutes=15)
    staff_session_max: timedelta = timedelta(hours=8)
    # Applicants' two-step login: the issuer authenticator apps show, how long
    # a begun enrolment waits for its first code, and how long the code step
    # of a login waits after the right password.
    totp_issuer: str = "在留申請オンラインシステム"
    totp_enrollment: timedelta = timedelta(minutes=10)
    totp_challenge: timedelta = timedelta(minutes=5)
