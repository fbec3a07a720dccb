"""Bilingual mails: one typed value per kind, one template folder per kind.

A template names its values as ``$name``; every value comes from the fields of
the kind's dataclass (datetimes as ``$<field>_ja`` and ``$<field>_en`` in Japan
time, a ``token`` as ``$link`` under RAS_PUBLIC_URL) or from the common values
below. ``string.Template.substitute`` raises on a missing value, and
tests/test_mail_templates.py renders every kind, so a template that names a value
its kind lacks fails a test instead of a user's mail.
"""

import base64
import dataclasses
import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, formataddr, parseaddr
from importlib import resources
from string import Template
from typing import ClassVar

from models.outbox import MailKind

SERVICE_JA = "在留申請オンラインシステム"
SERVICE_EN = "Online Residence Application System"
JST = timezone(timedelta(hours=9), "JST")  # Japan keeps no daylight saving time
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Mail:
    """What every mail has: its recipient and the name it greets."""

    KIND: ClassVar[MailKind]
    # Where a kind's one-time link leads on the portal (only kinds with a token).
    LINK_PATH: ClassVar[str] = ""

    to: str
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistrationNotice(Mail):
    """利用者登録: the 認証ID and a link to set the first password."""

    KIND = MailKind.REGISTRATION
    LINK_PATH = "/password/setup"
    auth_id: str
    token: str
    link_expires_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistrationExisting(Mail):
    """To an address that registered again: it already has this 認証ID (the
    answer to the registration does not say so; only the mailbox's owner learns
    it)."""

    KIND = MailKind.REGISTRATION_EXISTING
    auth_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordRegistered(Mail):
    """The first password was set."""

    KIND = MailKind.PASSWORD_REGISTERED
    auth_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordResetLink(Mail):
    """パスワード再設定: a single-use link to set a new password."""

    KIND = MailKind.PASSWORD_RESET
    LINK_PATH = "/password/reset"
    token: str
    link_expires_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordChanged(Mail):
    """The password was changed (or reset)."""

    KIND = MailKind.PASSWORD_CHANGED
    changed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailChanged(Mail):
    """To the new address: mail will come here from now on."""

    KIND = MailKind.EMAIL_CHANGED
    changed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailChangedNotice(Mail):
    """To the old address: a security notice that the address was changed, with
    a link that undoes the change (for when it was not the user)."""

    KIND = MailKind.EMAIL_CHANGED_NOTICE
    LINK_PATH = "/email/revert"
    changed_at: datetime
    new_email_masked: str
    token: str
    link_expires_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordExpiring(Mail):
    """A reminder 30 or 7 days before the password expires."""

    KIND = MailKind.PASSWORD_EXPIRING
    auth_id: str
    expires_at: datetime
    days: int


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountLocked(Mail):
    """Repeated wrong passwords locked the 認証ID."""

    KIND = MailKind.ACCOUNT_LOCKED
    auth_id: str
    locked_until: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CredentialsReissued(Mail):
    """認証ID・パスワードの再通知: at the user's request staff send the 認証ID
    again, with a single-use link to set a new password. It is a reset link (the
    reset page takes it), so the current password keeps working until it is used."""

    KIND = MailKind.CREDENTIALS_REISSUED
    LINK_PATH = "/password/reset"
    auth_id: str
    token: str
    link_expires_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TwoStepEnabled(Mail):
    """Two-step login was turned on."""

    KIND = MailKind.TWO_STEP_ENABLED
    changed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TwoStepDisabled(Mail):
    """The user turned two-step login off."""

    KIND = MailKind.TWO_STEP_DISABLED
    changed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TwoStepReset(Mail):
    """Staff removed two-step login (the user lost the authenticator)."""

    KIND = MailKind.TWO_STEP_RESET
    changed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class RecoveryCodeUsed(Mail):
    """A recovery code was used to log in (or to turn two-step login off)."""

    KIND = MailKind.RECOVERY_CODE_USED
    used_at: datetime
    codes_left: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RecoveryCodesRegenerated(Mail):
    """New recovery codes replaced the old ones."""

    KIND = MailKind.RECOVERY_CODES_REGENERATED
    changed_at: datetime


MAIL_TYPES: tuple[type[Mail], ...] = (
    RegistrationNotice,
    RegistrationExisting,
    PasswordRegistered,
    PasswordResetLink,
    PasswordChanged,
    EmailChanged,
    EmailChangedNotice,
    PasswordExpiring,
    AccountLocked,
    CredentialsReissued,
    TwoStepEnabled,
    TwoStepDisabled,
    TwoStepReset,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
)


def format_ja(moment: datetime) -> str:
    local = moment.astimezone(JST)
    return f"{local:%Y年%m月%d日 %H時%M分}（日本時間）"


def format_en(moment: datetime) -> str:
    local = moment.astimezone(JST)
    return (
        f"{local.day} {_EN_MONTHS[local.month - 1]} {local.year}, "
        f"{local:%H:%M} Japan time (UTC+9)"
    )


def mask_email(address: str) -> str:
    """``t***@example.com``: enough to recognise, not enough to harvest."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True, slots=True)
class Templates:
    """The three parts of one kind's mail."""

    subject: Template
    ja: Template
    en: Template


def _read(*parts: str) -> Template:
    text = resources.files("mailer").joinpath("templates", *parts).read_text("utf-8")
    return Template(text.strip("\n"))


@functools.cache
def templates(kind: MailKind) -> Templates:
    """The templates of one kind, read once from the package."""
    return Templates(
        subject=_read(kind.value, "subject.txt"),
        ja=_read(kind.value, "ja.txt"),
        en=_read(kind.value, "en.txt"),
    )


@functools.cache
def footer() -> tuple[Template, Template]:
    return _read("_footer", "ja.txt"), _read("_footer", "en.txt")


_RULE = "―" * 30
CRLF = "\r\n"
# RFC 2047: a line holding encoded words stays within 76 characters; each word
# spends 12 on "=?utf-8?b?" and "?=", and carries 3 bytes per 4 base64 characters.
_LINE = 76
_WORD_OVERHEAD = 12


def _word_bytes(room: int) -> int:
    return (room - _WORD_OVERHEAD) // 4 * 3


def _header_safe_lines(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("a header value must be one line")
    return value


def _header_safe(value: str) -> str:
    if not value.isascii():
        raise ValueError("a header value must be one line of ASCII")
    return _header_safe_lines(value)


@functools.lru_cache(maxsize=1024)  # a kind's subject rarely changes: encode once
def encode_header(value: str, *, name: str = "Subject") -> str:
    """The value of header ``name`` as RFC 2047 encoded words (UTF-8, base64),
    folded so that no line passes 76 characters; short ASCII passes unchanged."""
    _header_safe_lines(value)
    used = len(name) + 2  # "Subject: "
    if value.isascii() and used + len(value) <= _LINE:
        return value
    words: list[bytes] = []
    chunk = b""
    room = _word_bytes(_LINE - used)
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > room:
            words.append(chunk)
            chunk = b""
            room = _word_bytes(_LINE - 1)  # continuation lines start with a space
        chunk += encoded
    words.append(chunk)
    return (CRLF + " ").join(
        f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words
    )


@dataclass(frozen=True, slots=True)
class Composed:
    """A mail ready for the outbox."""

    message_id: str
    recipient: str
    subject: str
    message: str


class Composer:
    """Turns a Mail into a complete RFC 5322 message with a stable Message-ID."""

    def __init__(
        self,
        *,
        sender: str = "在留申請オンラインシステム <no-reply@localhost>",
        public_url: str = "http://127.0.0.1:8000",
    ) -> None:
        display, address = parseaddr(sender)
        self.envelope_sender = address
        self.domain = address.rpartition("@")[2]
        if display and not display.isascii():
            self._from = f"{encode_header(display, name='From')} <{address}>"
        else:
            # formataddr quotes an ASCII name with specials ("Agency, Japan").
            self._from = formataddr((display, address))
        self.public_url = public_url.rstrip("/")

    def values(self, mail: Mail) -> dict[str, str]:
        """Everything a template of this mail's kind may name."""
        values = {
            "service_ja": SERVICE_JA,
            "service_en": SERVICE_EN,
            "portal_url": self.public_url + "/",
        }
        for field in dataclasses.fields(mail):
            value = getattr(mail, field.name)
            if isinstance(value, datetime):
                values[f"{field.name}_ja"] = format_ja(value)
                values[f"{field.name}_en"] = format_en(value)
            elif field.name == "token":
                # The `token` query parameter is the contract with the portals.
                # A link is single-use, short-lived and stored only as a hash,
                # so one left in an access log is worthless once followed.
                values["link"] = f"{self.public_url}{mail.LINK_PATH}?token={value}"
            else:
                values[field.name] = str(value)
        return values

    def compose(self, mail: Mail, *, now: datetime) -> Composed:
        """Render the mail; KeyError if a template names a value the kind lacks."""
        parts = templates(mail.KIND)
        footer_ja, footer_en = footer()
        values = self.values(mail)
        subject = parts.subject.substitute(values)
        text = "\n\n".join(
            (
                parts.ja.substitute(values),
                footer_ja.substitute(values),
                _RULE + "\n(English follows)",
                parts.en.substitute(values),
                footer_en.substitute(values),
            )
        )
        message_id = f"<{uuid.uuid4().hex}@{self.domain}>"
        # Built by hand: email.generator's header folding costs ~5 ms a mail,
        # more than the whole enqueue budget. tests/test_mail_templates.py parses
        # every kind back with the stdlib parser.
        headers = (
            f"From: {self._from}",
            f"To: {_header_safe(mail.to)}",
            f"Subject: {encode_header(subject)}",
            f"Date: {format_datetime(now.astimezone(JST))}",
            f"Message-ID: {message_id}",
            "Auto-Submitted: auto-generated",
            "Content-Language: ja, en",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
        )
        # Canonical text/plain has CRLF line ends; base64 lines of 76 characters.
        body = base64.encodebytes((text + "\n").replace("\n", CRLF).encode("utf-8"))
        message = (
            CRLF.join(headers) + CRLF + CRLF + body.decode("ascii").replace("\n", CRLF)
        )
        return Composed(
            message_id=message_id,
            recipient=mail.to,
            subject=subject,
            message=message,
        )
