"""Municipality codes, postal codes, romanisation and search keys (no database)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from addresses.codes import (
    CodeProblem,
    check_digit,
    parse_municipality_code,
    parse_postal_code,
    parse_prefecture_code,
    with_check_digit,
)
from addresses.names import (
    NamePart,
    Query,
    QueryKind,
    QueryProblem,
    hepburn,
    kana_romaji_key,
    name_key,
    parse_query,
    romaji_key,
    romanise,
    romanise_parts,
    romanise_town,
)
from addresses.source import _head


@pytest.mark.parametrize(
    ("jis", "full"),
    [
        ("13101", "131016"),  # 千代田区
        ("13104", "131041"),  # 新宿区 (remainder 0 gives 1)
        ("01101", "011011"),  # 札幌市中央区
        ("47382", "473821"),  # 八重山郡与那国町
        ("27100", "271004"),  # 大阪市
        ("01100", "011002"),  # 札幌市
    ],
)
def test_check_digit_of_known_codes(jis: str, full: str) -> None:
    assert with_check_digit(jis) == full


def test_remainder_one_gives_check_digit_zero() -> None:
    # 6 * 2 = 12, 12 mod 11 = 1, 11 - 1 = 10: the last digit, 0.
    assert check_digit("00006") == "0"
    with pytest.raises(ValueError, match="five digits"):
        check_digit("1310")


@given(st.from_regex(r"[0-9]{5}", fullmatch=True))
def test_every_wrong_check_digit_is_refused(jis: str) -> None:
    right = with_check_digit(jis)
    assert parse_municipality_code(right) == right
    assert parse_municipality_code(jis) == right
    for digit in "0123456789":
        if digit != right[5]:
            assert parse_municipality_code(jis + digit) is CodeProblem.CHECK_DIGIT


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("131041", "131041"),
        ("13104", "131041"),
        ("１３１０４１", "131041"),
        (" 131041 ", "131041"),
        ("", CodeProblem.EMPTY),
        ("  ", CodeProblem.EMPTY),
        ("131042", CodeProblem.CHECK_DIGIT),
        ("1310", CodeProblem.MALFORMED),
        ("1310411", CodeProblem.MALFORMED),
        ("13-104", CodeProblem.MALFORMED),
        ("abcde", CodeProblem.MALFORMED),
        ("١٣١٠٤", CodeProblem.MALFORMED),  # other scripts' digits are not codes
    ],
)
def test_parse_municipality_code(raw: str, parsed: str | CodeProblem) -> None:
    assert parse_municipality_code(raw) == parsed


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("1600023", "1600023"),
        ("160-0023", "1600023"),
        ("〒160-0023", "1600023"),
        ("〒 160-0023", "1600023"),
        ("〒\u3000160―0023", "1600023"),
        ("160—0023", "1600023"),
        ("160 0023", "1600023"),
        ("160ー0023", "1600023"),
        ("１６０－００２３", "1600023"),
        ("", CodeProblem.EMPTY),
        ("160002", CodeProblem.MALFORMED),
        ("16000233", CodeProblem.MALFORMED),
        ("160--0023", CodeProblem.MALFORMED),
        ("16-00023", CodeProblem.MALFORMED),
    ],
)
def test_parse_postal_code(raw: str, parsed: str | CodeProblem) -> None:
    assert parse_postal_code(raw) == parsed


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("13", "13"),
        ("01", "01"),
        ("47", "47"),
        ("１３", "13"),
        ("", CodeProblem.EMPTY),
        ("1", CodeProblem.MALFORMED),
        ("00", CodeProblem.MALFORMED),
        ("48", CodeProblem.MALFORMED),
        ("130001", CodeProblem.MALFORMED),
    ],
)
def test_parse_prefecture_code(raw: str, parsed: str | CodeProblem) -> None:
    assert parse_prefecture_code(raw) == parsed


@pytest.mark.parametrize(
    ("parts", "romaji"),
    [
        ([("新宿区", "シンジュクク")], "Shinjuku-ku"),
        ([("札幌市", "サッポロシ"), ("中央区", "チュウオウク")], "Sapporo-shi Chuo-ku"),
        (
            [("八重山郡", "ヤエヤマグン"), ("与那国町", "ヨナグニチョウ")],
            "Yaeyama-gun Yonaguni-cho",
        ),
        ([("大島町", "オオシママチ")], "Oshima-machi"),
        ([("東京都", "トウキョウト")], "Tokyo-to"),
        ([("北海道", "ホッカイドウ")], "Hokkaido"),
        ([("大阪府", "オオサカフ")], "Osaka-fu"),
        ([("群馬県", "グンマケン")], "Gunma-ken"),
        ([("郡山市", "コオリヤマシ")], "Koriyama-shi"),
        # A reading that does not end in the suffix's reading stays whole.
        ([("某町", "ボウ")], "Bo"),
    ],
)
def test_romanised_names(parts: list[tuple[str, str]], romaji: str) -> None:
    assert romanise_parts([NamePart(name, kana) for name, kana in parts]) == romaji


def test_romanise_hepburn_details() -> None:
    # Long vowels are shortened until none is left: オオ then オ.
    assert romanise("ブンゴオオノ") == "Bungono"
    assert romanise("スオウオオシマ") == "Suoshima"
    assert hepburn("アッ") == "a"
    assert romanise("ハッチョウボリ") == "Hatchobori"
    assert romanise("ニシシンジュク") == "Nishishinjuku"
    assert romanise("シンバシ") == "Shinbashi"
    assert romanise("ジュウニソウ") == "Juniso"


@pytest.mark.parametrize(
    ("raw", "kind", "key"),
    [
        ("新宿", QueryKind.NAME, "新宿"),
        ("東京都 新宿", QueryKind.NAME, "東京都新宿"),
        ("霞ヶ関", QueryKind.NAME, "霞ケ関"),
        ("しんじゅく", QueryKind.KANA, "シンジュク"),
        ("シンジュク", QueryKind.KANA, "シンジュク"),
        ("ｼﾝｼﾞｭｸ", QueryKind.KANA, "シンジュク"),
        ("shinjuku", QueryKind.ROMAJI, kana_romaji_key("シンジュク")),
        ("Sinzyuku", QueryKind.ROMAJI, kana_romaji_key("シンジュク")),
        ("ＳＨＩＮＪＵＫＵ", QueryKind.ROMAJI, kana_romaji_key("シンジュク")),
        ("Shinjuku-ku", QueryKind.ROMAJI, kana_romaji_key("シンジュクク")),
        ("chuo", QueryKind.ROMAJI, kana_romaji_key("チュウオウ")),
        ("tyuuou", QueryKind.ROMAJI, kana_romaji_key("チュウオウ")),
        ("Shimbashi", QueryKind.ROMAJI, kana_romaji_key("シンバシ")),
        ("hacchobori", QueryKind.ROMAJI, kana_romaji_key("ハッチョウボリ")),
        ("131", QueryKind.CODE, "131"),
        ("１３１", QueryKind.CODE, "131"),
        ("Tōkyō", QueryKind.ROMAJI, kana_romaji_key("トウキョウ")),
        ("shinnjuku", QueryKind.ROMAJI, kana_romaji_key("シンジュク")),
        ("あ" * 64, QueryKind.KANA, "ア" * 64),
        ("南あるぷす", QueryKind.NAME, "南アルプス"),
        ("一ヵ", QueryKind.NAME, "一カ"),
        ("宮﨑", QueryKind.NAME, "宮﨑"),
        ("𠮷田", QueryKind.NAME, "𠮷田"),
        (
            "Yamanashi-ken Nishiyatsushiro-gun Ichikawamisato-cho",
            QueryKind.ROMAJI,
            kana_romaji_key("ヤマナシケンニシヤツシログンイチカワミサトチョウ"),
        ),
    ],
)
def test_queries_fold_to_the_stored_keys(raw: str, kind: QueryKind, key: str) -> None:
    assert parse_query(raw) == Query(kind, key)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", QueryProblem.EMPTY),
        ("　 ", QueryProblem.EMPTY),
        ("あ" * 65, QueryProblem.TOO_LONG),
        ("100%", QueryProblem.CHARACTERS),
        ("shin_juku", QueryProblem.CHARACTERS),
        ("新宿;--", QueryProblem.CHARACTERS),
        ("新宿\x00", QueryProblem.CHARACTERS),
        ("🗼", QueryProblem.CHARACTERS),
        ("---", QueryProblem.CHARACTERS),
    ],
)
def test_bad_queries_are_refused(raw: str, problem: QueryProblem) -> None:
    assert parse_query(raw) == problem


@pytest.mark.parametrize(
    ("typed", "reading"),
    [
        # Every prefix typed in Hepburn stays a prefix of the name's key: the
        # folding goes towards Hepburn, not away from it.
        *[("shinjuku"[:n], "シンジュク") for n in range(1, 9)],
        *[("chiyoda"[:n], "チヨダ") for n in range(1, 8)],
        *[("hachioji"[:n], "ハチオウジ") for n in range(1, 9)],
        *[("tsuchiura"[:n], "ツチウラ") for n in range(1, 10)],
        *[("fukuoka"[:n], "フクオカ") for n in range(1, 8)],
        *[("chofu"[:n], "チョウフ") for n in range(1, 6)],
        # Older spellings: m for ン before b, p, m; the passport's oh.
        *[("tamba"[:n], "タンバ") for n in range(1, 6)],
        *[("sammu"[:n], "サンム") for n in range(1, 6)],
        *[("oshamambe"[:n], "オシャマンベ") for n in range(1, 10)],
        *[("ohta"[:n], "オオタ") for n in range(1, 5)],
    ],
)
def test_typed_hepburn_prefixes_stay_prefixes(typed: str, reading: str) -> None:
    stored = kana_romaji_key(reading)
    query = parse_query(typed)
    assert isinstance(query, Query)
    assert stored.startswith(query.key) or (
        query.alternative is not None and stored.startswith(query.alternative)
    )


@pytest.mark.parametrize(
    ("kunrei", "reading"),
    [
        ("sinzyuku", "シンジュク"),
        ("tiyoda", "チヨダ"),
        ("tutiura", "ツチウラ"),
        ("hukuoka", "フクオカ"),
        ("tyouhu", "チョウフ"),
        ("syuunan", "シュウナン"),
        ("zyouetu", "ジョウエツ"),
    ],
)
def test_kunrei_spellings_find_the_hepburn_key(kunrei: str, reading: str) -> None:
    assert romaji_key(kunrei) == kana_romaji_key(reading)


@pytest.mark.parametrize(
    ("kana", "romaji"),
    [
        ("キタ１ジョウヒガシ", "Kita1johigashi"),
        ("コウナンシナガワインターシティ", "Konanshinagawaintashiti"),
        ("ハルミオフィスタワーＸ", "Harumiofisutawax"),
        ("ディズニー", "Dizuni"),
        ("ジェイ・アール", "Jei aru"),
        ("イミチ、オクイミチ", "Imichi, Okuimichi"),
    ],
)
def test_town_names_are_romanised_cleanly(kana: str, romaji: str) -> None:
    assert romanise_town(kana) == romaji


def test_keys_of_names_and_queries_agree() -> None:
    assert name_key("鎌ヶ谷市") == name_key("鎌ケ谷市")
    assert name_key("ヵ") == "カ"
    assert name_key("かまがやし") == "カマガヤシ"
    assert romaji_key("Toukyou") == romaji_key("Tokyo") == kana_romaji_key("トウキョウ")


@pytest.mark.parametrize(
    ("name", "prefecture", "head"),
    [
        ("札幌市中央区", "北海道", ("札幌市", "市", "シ")),
        ("八重山郡与那国町", "沖縄県", ("八重山郡", "郡", "グン")),
        # Not a designated city's ward: a city whose name has 市 inside it.
        ("八日市場市", "千葉県", None),
        ("四日市市", "三重県", None),
        # A county-like 郡 inside a city's name.
        ("大和郡山市", "奈良県", None),
        ("郡山市", "福島県", None),
    ],
)
def test_names_split_into_county_or_city_and_the_rest(
    name: str, prefecture: str, head: tuple[str, str, str] | None
) -> None:
    assert _head(name, prefecture) == head
