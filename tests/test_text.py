"""外字 detection and the field formats."""

import pytest

from security.text import gaiji, normalise_auth_id, normalise_name, valid_email


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
