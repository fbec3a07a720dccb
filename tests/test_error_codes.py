"""The code registry is append-only: every value is pinned here."""

from models import Lang
from schema.messages import ErrorCode, render, texts

PINNED = {
    "REQUIRED": "WZBAM001E",
    "INVALID_INPUT": "WZBAM005E",
    "GAIJI": "WZBAM011E",
    "MALFORMED": "WZBAM018E",
    "CHECK_FAILED": "WZBAM023E",
    "SYSTEM_ERROR": "WZBAM098E",
    "DUPLICATE_LOGIN": "WZBAM099E",
    "MUNICIPALITY_CODE_REQUIRED": "WZBAM103E",
    "STREET_REQUIRED": "WZBAM104E",
    "NO_SUCH_DATE": "WZBAM111E",
    "USER_INFO_INVALID": "WZBAM150E",
    "USAGE_EXPIRED": "WZBAM151E",
    "ACCOUNT_LOCKED": "WZBAM153E",
    "CURRENT_PASSWORD_WRONG": "WZBAM154E",
    "ACCOUNT_SUSPENDED": "WZBAM155E",
    "ACCOUNT_DELETED": "WZBAM156E",
    "PASSWORD_EXPIRED": "WZBAM158E",
    "EMAIL_MISMATCH": "WZBAM159E",
    "PASSWORD_REENTRY_MISMATCH": "WZBAM160E",
    "PASSWORD_CONFIRM_MISMATCH": "WZBAM162E",
    "AUTH_ID_EMAIL_MISMATCH": "WZBAM168E",
    "ADDRESS_INCOMPLETE": "WZBAM244E",
    "NOTHING_TO_CHANGE": "WZBAM245E",
    "TERMS_NOT_AGREED": "WZBAM256E",
    "OPERATION_NOT_ALLOWED": "WZBAM250E",
    "SESSION_EXPIRED": "RASX001E",
    "NOT_AUTHENTICATED": "RASX002E",
    "LINK_INVALID": "RASX003E",
    "TOO_MANY_REQUESTS": "RASX004E",
    "ONE_TIME_CODE_WRONG": "RASX005E",
    "REAUTHENTICATION_REQUIRED": "RASX006E",
    "FORBIDDEN": "RASX007E",
    "NOT_FOUND": "RASX008E",
    "MAIL_NOT_RETRYABLE": "RASX009E",
    "LOGIN_ID_TAKEN": "RASX010E",
    "ACCOUNT_STATE": "RASX011E",
    "STEP_EXPIRED": "RASX012E",
    "TWO_STEP_STATE": "RASX013E",
}


def test_every_code_is_pinned() -> None:
    assert {code.name: code.value for code in ErrorCode} == PINNED


def test_codes_are_unique_and_extensions_never_look_like_manual_codes() -> None:
    # Iterating an Enum skips aliases, so look at every member name.
    values = [code.value for code in ErrorCode.__members__.values()]
    assert len(values) == len(set(values)) == len(PINNED)
    for code in ErrorCode:
        assert code.is_extension == code.value.startswith("RASX")


def test_every_code_has_message_and_remedy_in_both_languages() -> None:
    for code in ErrorCode:
        for lang in Lang:
            text = texts(code, lang)
            assert text.message.strip(), (code, lang)
            assert text.remedy.strip(), (code, lang)


def test_field_name_replaces_the_placeholder() -> None:
    ja = render(ErrorCode.GAIJI, Lang.JA, "氏名")
    en = render(ErrorCode.GAIJI, Lang.EN, "Name")

    assert ja.message == "氏名には外字を入力しないでください。"
    assert en.message == "Do not enter non-standard characters (gaiji) in Name."
