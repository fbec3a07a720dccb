"""外字 detection and the field formats."""

from datetime import date

import pytest

from security.text import (
    TextProblem,
    gaiji,
    normalise_auth_id,
    normalise_email,
    normalise_name,
    normalise_nationality,
    normalise_phone,
    parse_date_of_birth,
    valid_email,
)


@pytest.mark.parametrize(
    "text",
    [
        "山田太郎",
        "東京都新宿区西新宿二丁目８番１号",
        "Taro Yamada 123",
        "凜",
        "〜",
        "～",
        "－",
    ],
)
def test_jis_x_0208_and_ascii_are_allowed(text: str) -> None:
    assert gaiji(text) == []


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("ｱｲｳ", ["ｱ", "ｲ", "ｳ"]),
        ("①番地", ["①"]),
        ("㈱山田", ["㈱"]),
        ("㍻元年", ["㍻"]),
        ("髙橋", ["髙"]),
        ("𠮷野家", ["𠮷"]),
        ("hello😀", ["😀"]),
        ("\ue000", ["\ue000"]),
        ("a\tb", ["\t"]),
        ("¥100", ["¥"]),
    ],
)
def test_gaiji_are_found(text: str, bad: list[str]) -> None:
    assert gaiji(text) == bad


def test_names_in_both_forms() -> None:
    assert normalise_name(" yamada   taro ") == "YAMADA TARO"
    assert normalise_name("山田　太郎") == "山田　太郎"
    assert normalise_name("A" * 105) is None
    assert normalise_name("山" * 27) is None
    assert normalise_name("Yamada 太郎") is None
    assert normalise_name("") is None


def test_email_format_and_length() -> None:
    assert valid_email("taro.yamada+ras@example.co.jp")
    assert not valid_email("taro@localhost")
    assert not valid_email("たろう@example.com")
    assert not valid_email(("a" * 49) + "@example.com")


def test_auth_id_normalisation() -> None:
    assert normalise_auth_id(" ａｂｃ１２３ ") == "ABC123"


def test_date_of_birth_bounds() -> None:
    today = date(2026, 11, 26)

    assert parse_date_of_birth("2026-11-26", today=today) == today
    assert parse_date_of_birth("20261127", today=today) is TextProblem.OUT_OF_RANGE
    assert parse_date_of_birth("19000101", today=today) == date(1900, 1, 1)
    assert parse_date_of_birth("18991231", today=today) is TextProblem.OUT_OF_RANGE


def test_nationality_is_three_letters_of_the_iso_list() -> None:
    assert normalise_nationality(" jpn ") == "JPN"
    assert normalise_nationality("ＶＮＭ") == "VNM"
    assert normalise_nationality("JPNX") is TextProblem.MALFORMED
    assert normalise_nationality("XYZ") is TextProblem.UNKNOWN


def test_email_and_phone_problems() -> None:
    assert normalise_email("あ" * 61) is TextProblem.TOO_LONG
    assert normalise_email("あ@example.jp") is TextProblem.CHARACTERS
    assert normalise_phone("٠٩٠١٢٣٤") is TextProblem.CHARACTERS  # Arabic-Indic digits
    assert normalise_phone(" 0312345678 ") == "0312345678"
