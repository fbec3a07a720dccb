"""The error-message registry: the manual's 別紙 codes plus the service's own.

Japanese texts of the WZBAM codes are the 別紙 verbatim (data/error-catalog-ja.tsv,
copied from the manual's reference list). English texts are this service's
translation. Codes are append-only: tests/test_error_codes.py pins every value.
Extension codes use the prefix RASX so they can never collide with WZBAM numbers.
"""

import csv
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import cache
from pathlib import Path

from models import Lang

FIELD_PLACEHOLDER_JA = "【入力項目名】"
FIELD_PLACEHOLDER_EN = "[field name]"


class ErrorCode(StrEnum):
    """Every code the service can answer with. Append only; never renumber."""

    REQUIRED = "WZBAM001E"
    INVALID_INPUT = "WZBAM005E"
    GAIJI = "WZBAM011E"
    MALFORMED = "WZBAM018E"
    CHECK_FAILED = "WZBAM023E"
    SYSTEM_ERROR = "WZBAM098E"
    DUPLICATE_LOGIN = "WZBAM099E"
    MUNICIPALITY_CODE_REQUIRED = "WZBAM103E"
    STREET_REQUIRED = "WZBAM104E"
    NO_SUCH_DATE = "WZBAM111E"
    USER_INFO_INVALID = "WZBAM150E"
    USAGE_EXPIRED = "WZBAM151E"
    ACCOUNT_LOCKED = "WZBAM153E"
    CURRENT_PASSWORD_WRONG = "WZBAM154E"
    ACCOUNT_SUSPENDED = "WZBAM155E"
    ACCOUNT_DELETED = "WZBAM156E"
    PASSWORD_EXPIRED = "WZBAM158E"
    EMAIL_MISMATCH = "WZBAM159E"
    PASSWORD_REENTRY_MISMATCH = "WZBAM160E"
    PASSWORD_CONFIRM_MISMATCH = "WZBAM162E"
    AUTH_ID_EMAIL_MISMATCH = "WZBAM168E"
    ADDRESS_INCOMPLETE = "WZBAM244E"
    NOTHING_TO_CHANGE = "WZBAM245E"
    TERMS_NOT_AGREED = "WZBAM256E"
    OPERATION_NOT_ALLOWED = "WZBAM250E"
    # Extensions of this service (situations the manual has no code for).
    SESSION_EXPIRED = "RASX001E"
    NOT_AUTHENTICATED = "RASX002E"
    LINK_INVALID = "RASX003E"
    TOO_MANY_REQUESTS = "RASX004E"
    ONE_TIME_CODE_WRONG = "RASX005E"
    REAUTHENTICATION_REQUIRED = "RASX006E"
    # The admin API's (staff only).
    FORBIDDEN = "RASX007E"
    NOT_FOUND = "RASX008E"
    MAIL_NOT_RETRYABLE = "RASX009E"
    LOGIN_ID_TAKEN = "RASX010E"
    ACCOUNT_STATE = "RASX011E"
    # Two-step login (applicants).
    STEP_EXPIRED = "RASX012E"
    TWO_STEP_STATE = "RASX013E"

    @property
    def is_extension(self) -> bool:
        return not self.value.startswith("WZBAM")


@dataclass(frozen=True, slots=True)
class Texts:
    """Message and remedy (対応方法) of one code in one language."""

    message: str
    remedy: str


_HELPDESK_EN = "Please contact the help desk."

_ENGLISH: dict[ErrorCode, Texts] = {
    ErrorCode.REQUIRED: Texts(
        'Please fill in the items marked with "!".',
        'Check what you entered in the items marked with "!" against the examples '
        "on the screen, and enter them again.",
    ),
    ErrorCode.INVALID_INPUT: Texts(
        "What you entered in [field name] is incorrect. Please enter it again.",
        "What you entered in the item named in the message is incorrect. Please "
        "enter it again.",
    ),
    ErrorCode.GAIJI: Texts(
        "Do not enter non-standard characters (gaiji) in [field name].",
        "Do not enter non-standard characters (gaiji) in the item named in the "
        "message.",
    ),
    ErrorCode.MALFORMED: Texts(
        'An item marked with "!" is incorrect. Check what you entered and its '
        "format, and enter it again.",
        'An item marked with "!" is incorrect. Check what you entered and its '
        "format, and enter it again.",
    ),
    ErrorCode.CHECK_FAILED: Texts(
        "An unexpected error occurred while checking the input.", _HELPDESK_EN
    ),
    ErrorCode.SYSTEM_ERROR: Texts(
        "A system error occurred. Please contact the help desk.", _HELPDESK_EN
    ),
    ErrorCode.DUPLICATE_LOGIN: Texts(
        "Duplicate login error. Do not operate on more than one screen. If this "
        "screen appears although you are not using more than one screen, please "
        "contact the help desk.",
        "Duplicate login error. Do not operate on more than one screen. If this "
        "screen appears although you are not using more than one screen, please "
        "contact the help desk.",
    ),
    ErrorCode.MUNICIPALITY_CODE_REQUIRED: Texts(
        "Enter the (prefecture and municipality) code of [field name].",
        "Enter the prefecture and municipality code in the item named in the message.",
    ),
    ErrorCode.STREET_REQUIRED: Texts(
        "Enter the (town, block and house number) part of [field name].",
        "Enter the town, block and house number in the item named in the message.",
    ),
    ErrorCode.NO_SUCH_DATE: Texts(
        "Specify a date that exists.", "Specify a date that exists."
    ),
    ErrorCode.USER_INFO_INVALID: Texts(
        "The user information is invalid.", _HELPDESK_EN
    ),
    ErrorCode.USAGE_EXPIRED: Texts(
        "The validity period of your usage application has expired.", _HELPDESK_EN
    ),
    ErrorCode.ACCOUNT_LOCKED: Texts(
        "The account is locked because login failed more than the allowed number "
        "of times. The lock is released automatically after 24 hours. To release "
        "it at once, have your auth ID and password notified again.",
        "The lock is released automatically after 24 hours. If it is urgent, reset "
        "your password at a counter of a Regional Immigration Services Bureau.",
    ),
    ErrorCode.CURRENT_PASSWORD_WRONG: Texts(
        "The password does not match. Check your current password again.",
        "Check your current password again.",
    ),
    ErrorCode.ACCOUNT_SUSPENDED: Texts(
        "The auth ID entered is suspended.", _HELPDESK_EN
    ),
    ErrorCode.ACCOUNT_DELETED: Texts(
        "The auth ID entered has been deleted.", _HELPDESK_EN
    ),
    ErrorCode.PASSWORD_EXPIRED: Texts(
        "Your password has expired. Please change your password.",
        "Your password has expired. Please change your password.",
    ),
    ErrorCode.EMAIL_MISMATCH: Texts(
        'Enter the same value in "Email address" and "Email address (confirmation)".',
        'Enter the same value in "Email address" and "Email address (confirmation)".',
    ),
    ErrorCode.PASSWORD_REENTRY_MISMATCH: Texts(
        'Enter the same value in "Password" and "Password (re-entry)".',
        'Enter the same value in "Password" and "Password (re-entry)".',
    ),
    ErrorCode.PASSWORD_CONFIRM_MISMATCH: Texts(
        'Enter the same value in "Password" and "Password (confirmation)".',
        'Enter the same value in "Password" and "Password (confirmation)".',
    ),
    ErrorCode.AUTH_ID_EMAIL_MISMATCH: Texts(
        "The auth ID or email address entered is incorrect. Please enter it again.",
        "The auth ID or email address entered is incorrect. Please enter it again.",
    ),
    ErrorCode.ADDRESS_INCOMPLETE: Texts(
        "To change your address, enter both the prefecture/municipality and the "
        "town, block and house number.",
        "To change your address, enter both the prefecture/municipality and the "
        "town, block and house number.",
    ),
    ErrorCode.NOTHING_TO_CHANGE: Texts(
        "Enter the information to change.",
        "To change your user information, fill in at least one of the items "
        'marked with "!" and press the "Change" button.',
    ),
    ErrorCode.TERMS_NOT_AGREED: Texts(
        "Please agree to the terms of use.",
        "Read the terms of use and tick the agreement check box.",
    ),
    ErrorCode.OPERATION_NOT_ALLOWED: Texts(
        'This operation is not available for the user category "(counter '
        "application) applicant for electronic issuance of a Certificate of "
        'Eligibility".',
        'This operation is not available for the user category "(counter '
        "application) applicant for electronic issuance of a Certificate of "
        'Eligibility".',
    ),
    ErrorCode.SESSION_EXPIRED: Texts(
        "Your session has timed out. Please log in again.",
        "The session ends after 30 minutes without any operation, or when it "
        "reaches its maximum lifetime. Log in again.",
    ),
    ErrorCode.NOT_AUTHENTICATED: Texts(
        "You are not logged in. Please log in.",
        "Log in from the login page, then try again.",
    ),
    ErrorCode.LINK_INVALID: Texts(
        "This link is invalid, has already been used, or has expired.",
        "Request a new email from the screen you started from and use the newest "
        "link within its validity period.",
    ),
    ErrorCode.TOO_MANY_REQUESTS: Texts(
        "Too many requests. Please wait a while and try again.",
        "Wait a while before trying again.",
    ),
    ErrorCode.ONE_TIME_CODE_WRONG: Texts(
        "The one-time code is incorrect. Please enter it again.",
        "Enter the current code shown by your authenticator app.",
    ),
    ErrorCode.REAUTHENTICATION_REQUIRED: Texts(
        "For your security, please enter your password again before making this "
        "change.",
        "Enter your current password again, then repeat the change.",
    ),
    ErrorCode.FORBIDDEN: Texts(
        "Your role does not allow this operation.",
        "Ask a staff member with a higher role (an administrator) to do it.",
    ),
    ErrorCode.NOT_FOUND: Texts(
        "Nothing was found for [field name].",
        "Check the identifier and try again.",
    ),
    ErrorCode.MAIL_NOT_RETRYABLE: Texts(
        "This mail cannot be sent again.",
        "Only a mail that was given up on, and whose body is still kept, can be "
        "sent again; otherwise have the user repeat the step that sends it.",
    ),
    ErrorCode.LOGIN_ID_TAKEN: Texts(
        "[field name] is already in use.",
        "Choose another login ID.",
    ),
    ErrorCode.ACCOUNT_STATE: Texts(
        "This operation is not possible for the account in its current status.",
        "Check the account's status; a deleted account cannot be changed.",
    ),
    ErrorCode.STEP_EXPIRED: Texts(
        "This step has expired or has already been used.",
        "Start again from the beginning (log in again, or begin the set-up again).",
    ),
    ErrorCode.TWO_STEP_STATE: Texts(
        "This is not possible with two-step login as it is now set.",
        "Check whether two-step login is on (the user information screen shows "
        "it): turn it off before setting it up again.",
    ),
}

_EXTENSIONS_JA: dict[ErrorCode, Texts] = {
    ErrorCode.SESSION_EXPIRED: Texts(
        "セッションの有効期限が切れました。再度ログインしてください。",
        "一定時間（30分以上）操作がない場合又はセッションの最長有効期間を過ぎた場合は、"
        "再ログインが必要です。再度ログインしてください。",
    ),
    ErrorCode.NOT_AUTHENTICATED: Texts(
        "ログインしていません。ログインしてください。",
        "ログインページからログインした上で、再度操作してください。",
    ),
    ErrorCode.LINK_INVALID: Texts(
        "このURLは無効か、使用済みか、有効期限が切れています。",
        "元の画面からメールを再度送信し、最新のURLを有効期限内に使用してください。",
    ),
    ErrorCode.TOO_MANY_REQUESTS: Texts(
        "短時間に多数の要求がありました。しばらく待ってから再度操作してください。",
        "しばらく待ってから再度操作してください。",
    ),
    ErrorCode.ONE_TIME_CODE_WRONG: Texts(
        "ワンタイムコードに誤りがあります。再度入力してください。",
        "認証アプリに表示されている現在のコードを入力してください。",
    ),
    ErrorCode.REAUTHENTICATION_REQUIRED: Texts(
        "安全のため、この変更の前にパスワードを再度入力してください。",
        "現在のパスワードを再度入力した上で、もう一度変更してください。",
    ),
    ErrorCode.FORBIDDEN: Texts(
        "この操作を行う権限がありません。",
        "上位の権限を持つ職員（管理者）に依頼してください。",
    ),
    ErrorCode.NOT_FOUND: Texts(
        "【入力項目名】に該当するものが見つかりません。",
        "指定した値を確認し、再度操作してください。",
    ),
    ErrorCode.MAIL_NOT_RETRYABLE: Texts(
        "このメールは再送できません。",
        "送信を断念したメールで本文が保管されているものだけが再送できます。"
        "それ以外は、利用者にメールを送る操作をやり直してもらってください。",
    ),
    ErrorCode.LOGIN_ID_TAKEN: Texts(
        "【入力項目名】は既に使用されています。",
        "別のログインIDを指定してください。",
    ),
    ErrorCode.ACCOUNT_STATE: Texts(
        "現在の利用者の状態では、この操作はできません。",
        "利用者の状態を確認してください。抹消された利用者は変更できません。",
    ),
    ErrorCode.STEP_EXPIRED: Texts(
        "この手続は有効期限が切れたか、既に使用されています。",
        "最初からやり直してください（再度ログインするか、設定を最初から行ってください）。",
    ),
    ErrorCode.TWO_STEP_STATE: Texts(
        "現在の2段階認証の設定では、この操作はできません。",
        "2段階認証が有効かどうかを利用者情報画面で確認してください。"
        "設定し直す場合は、先に無効にしてください。",
    ),
}


@cache
def _japanese() -> dict[ErrorCode, Texts]:
    path = Path(__file__).with_name("data") / "error-catalog-ja.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        manual = {
            ErrorCode(row["code"]): Texts(row["message_ja"], row["remedy_ja"])
            for row in rows
        }
    return manual | _EXTENSIONS_JA


def texts(code: ErrorCode, lang: Lang) -> Texts:
    """Message and remedy of ``code`` in ``lang``, placeholders left in."""
    return _japanese()[code] if lang is Lang.JA else _ENGLISH[code]


def render(code: ErrorCode, lang: Lang, field_label: str | None = None) -> Texts:
    """Message and remedy with the field's name put in for the placeholder."""
    base = texts(code, lang)
    if field_label is None:
        return base
    placeholder = FIELD_PLACEHOLDER_JA if lang is Lang.JA else FIELD_PLACEHOLDER_EN
    return Texts(base.message.replace(placeholder, field_label), base.remedy)


class FieldLabel(Enum):
    """Input items as the screens name them: (Japanese, English)."""

    CREDENTIALS = ("認証ID又はパスワード", "Auth ID or password")
    ADDRESS = ("住居地", "Address")
    SEARCH_TEXT = ("検索語", "Search text")
    PREFECTURE_CODE = ("都道府県コード", "Prefecture code")
    PAGE_SIZE = ("表示件数", "Number of results")
    CURSOR = ("続きの位置", "Continuation cursor")
    POSTAL_CODE = ("郵便番号", "Postal code")
    NAME = ("氏名", "Name")
    DATE_OF_BIRTH = ("生年月日", "Date of birth")
    NATIONALITY = ("国籍", "Nationality")
    EMAIL = ("メールアドレス", "Email address")
    EMAIL_CONFIRM = ("メールアドレス（確認）", "Email address (confirmation)")
    PHONE = ("連絡先（電話番号）", "Phone number")
    LANGUAGE = ("使用言語", "Language")
    NEW_ADDRESS = ("新しい住居地", "New address")
    NEW_MUNICIPALITY = (
        "新しい住居地（都道府県市区町村）",
        "New address (prefecture and municipality)",
    )
    NEW_STREET = (
        "新しい住居地（町名丁目番地号等）",
        "New address (town, block and house number)",
    )
    NEW_PHONE = ("新しい連絡先", "New phone number")
    NEW_EMAIL = ("新しいメールアドレス", "New email address")
    NEW_EMAIL_CONFIRM = (
        "新しいメールアドレス（確認）",
        "New email address (confirmation)",
    )
    PASSWORD = ("パスワード", "Password")
    ONE_TIME_CODE = ("ワンタイムコード", "One-time code")
    RECOVERY_CODE = ("リカバリーコード", "Recovery code")
    CURRENT_PASSWORD = ("現在のパスワード", "Current password")
    NEW_PASSWORD = ("新しいパスワード", "New password")
    AUTH_ID = ("認証ID", "Auth ID")
    REASON = ("理由", "Reason")
    LOGIN_ID = ("ログインID", "Login ID")
    MAIL_ID = ("メールの番号", "Mail ID")
    NOTICE_ID = ("お知らせの番号", "Notice ID")
    TITLE_JA = ("件名（日本語）", "Title (Japanese)")
    TITLE_EN = ("件名（英語）", "Title (English)")
    BODY_JA = ("本文（日本語）", "Text (Japanese)")
    BODY_EN = ("本文（英語）", "Text (English)")
    NOTICE_START = ("掲載開始日時", "Start of display")
    NOTICE_END = ("掲載終了日時", "End of display")
    USAGE_EXPIRY = ("利用期限", "Usage expiry")
    DATE_RANGE = ("期間", "Date range")
    SINCE = ("開始日時", "Since")
    UNTIL = ("終了日時", "Until")

    def text(self, lang: Lang) -> str:
        ja, en = self.value
        return ja if lang is Lang.JA else en
