"""prefectures, municipalities, municipality and postalCode over the real schema
and the real data, on SQLite and PostgreSQL; no login needed."""

from typing import Any

import httpx
import pytest

from models import Lang
from resolvers.lookup import check_municipality_code
from schema.errors import InvalidFieldError, MunicipalityCodeRequiredError
from schema.messages import FieldLabel
from tests.support import Caller

ERROR = "... on Error { code message } ... on FieldError { field } "
ERROR += "... on InvalidFieldError { reason }"
NODE = "code jisCode name kana romaji prefecture { code name romaji }"
MUNICIPALITIES = f"""
query Search($pref: String, $q: String, $first: Int, $after: String) {{
  municipalities(prefectureCode: $pref, query: $q, first: $first, after: $after) {{
    __typename
    ... on MunicipalityConnection {{
      edges {{ cursor node {{ {NODE} }} }}
      pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    }}
    {ERROR}
  }}
}}
"""
MUNICIPALITY = f"""
query One($code: String!) {{
  municipality(code: $code) {{ __typename ... on Municipality {{ {NODE} }} {ERROR} }}
}}
"""
POSTAL = f"""
query Postal($code: String!) {{
  postalCode(code: $code) {{
    __typename
    ... on PostalCode {{
      code
      places {{
        municipality {{ {NODE} }}
        town townKana townRomaji note
      }}
    }}
    ... on RequiredFieldError {{ fields }}
    {ERROR}
  }}
}}
"""
PREFECTURES = "query { prefectures { code name kana romaji } }"
SHINJUKU = {
    "code": "131041",
    "jisCode": "13104",
    "name": "新宿区",
    "kana": "シンジュクク",
    "romaji": "Shinjuku-ku",
    "prefecture": {"code": "13", "name": "東京都", "romaji": "Tokyo-to"},
}


async def _search(execute: Caller, **variables: Any) -> dict[str, Any]:
    data = await execute(MUNICIPALITIES, variables)
    result: dict[str, Any] = data["municipalities"]
    return result


def _names(result: dict[str, Any]) -> list[str]:
    assert result["__typename"] == "MunicipalityConnection", result
    return [edge["node"]["name"] for edge in result["edges"]]


async def test_prefectures_lists_all_47_in_code_order(execute: Caller) -> None:
    prefectures = (await execute(PREFECTURES))["prefectures"]
    assert len(prefectures) == 47
    assert prefectures[12] == {
        "code": "13",
        "name": "東京都",
        "kana": "トウキョウト",
        "romaji": "Tokyo-to",
    }
    assert [p["code"] for p in prefectures] == sorted(p["code"] for p in prefectures)


@pytest.mark.parametrize(
    "query",
    [
        "新宿",
        "新宿区",
        "東京都新宿",
        "しんじゅく",
        "シンジュク",
        "ｼﾝｼﾞｭｸ",
        "shinjuku",
        "Shinjuku-ku",
        "SINZYUKU",
        "ｓｈｉｎｊｕｋｕ",
    ],
)
async def test_kanji_kana_and_romaji_find_shinjuku(execute: Caller, query: str) -> None:
    result = await _search(execute, pref="13", q=query)
    assert _names(result) == ["新宿区"]
    assert result["edges"][0]["node"] == SHINJUKU


async def test_search_without_prefecture_finds_every_prefecture(
    execute: Caller,
) -> None:
    # 中央区 is a Tokyo special ward and a ward of eight designated cities.
    result = await _search(execute, q="ちゅうおうく", first=100)
    names = _names(result)
    assert "中央区" in names
    assert "札幌市中央区" in names
    assert len(names) >= 8
    codes = [edge["node"]["code"] for edge in result["edges"]]
    assert codes == sorted(codes)


async def test_a_prefecture_name_is_matched_from_its_start_only(
    execute: Caller,
) -> None:
    kyoto = _names(await _search(execute, q="京都", first=100))
    tokyo = _names(await _search(execute, q="東京", first=100))
    assert "京都市北区" in kyoto
    assert "新宿区" not in kyoto  # 東京都 contains 京都, but does not start with it
    assert len(tokyo) == 62


async def test_romaji_matches_long_vowels_either_way(execute: Caller) -> None:
    for query in ("chuo", "chuuou", "tyuuou"):
        names = _names(await _search(execute, pref="13", q=query))
        assert names == ["中央区"], query


async def test_romaji_typed_letter_by_letter_keeps_finding_the_ward(
    execute: Caller,
) -> None:
    for typed in ("s", "sh", "shi", "shin", "shinj", "shinju", "shinjuk", "shinjuku"):
        names = _names(await _search(execute, pref="13", q=typed, first=100))
        assert "新宿区" in names, typed
    for typed in ("c", "ch", "chi", "chiy", "chiyo"):
        names = _names(await _search(execute, pref="13", q=typed, first=100))
        assert "千代田区" in names, typed


@pytest.mark.parametrize(
    ("pref", "typed", "name"),
    [("28", "tamba", "丹波市"), ("12", "sammu", "山武市"), ("13", "ohta", "大田区")],
)
async def test_older_romaji_spellings_find_the_name_while_typed(
    execute: Caller, pref: str, typed: str, name: str
) -> None:
    for end in range(1, len(typed) + 1):
        names = _names(await _search(execute, pref=pref, q=typed[:end], first=100))
        assert name in names, typed[:end]


async def test_code_prefix_search(execute: Caller) -> None:
    result = await _search(execute, q="1310", first=9)
    names = _names(result)
    # Exactly the nine wards 13101-13109: a full page with nothing after it.
    assert result["pageInfo"]["hasNextPage"] is False
    elsewhere = await _search(execute, q="41", first=100)
    assert elsewhere["edges"]
    assert all(edge["node"]["code"].startswith("41") for edge in elsewhere["edges"])
    assert names == [
        "千代田区",
        "中央区",
        "港区",
        "新宿区",
        "文京区",
        "台東区",
        "墨田区",
        "江東区",
        "品川区",
    ]


async def test_pages_follow_one_another_without_gaps(execute: Caller) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        result = await _search(execute, pref="13", first=10, after=after)
        seen.extend(edge["node"]["code"] for edge in result["edges"])
        pages += 1
        info = result["pageInfo"]
        assert info["hasPreviousPage"] is False
        if not info["hasNextPage"]:
            break
        assert info["endCursor"] == result["edges"][-1]["cursor"]
        after = info["endCursor"]
    assert pages == 7
    assert len(seen) == len(set(seen)) == 62
    assert seen == sorted(seen)


async def test_a_search_that_finds_nothing_is_an_empty_page(execute: Caller) -> None:
    result = await _search(execute, q="存在しない町")
    assert result["edges"] == []
    assert result["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


@pytest.mark.parametrize(
    ("variables", "field", "reason"),
    [
        ({"q": ""}, "query", "EMPTY"),
        ({"q": "   "}, "query", "EMPTY"),
        ({"q": "あ" * 65}, "query", "TOO_LONG"),
        ({"q": "%"}, "query", "CHARACTERS"),
        ({"q": "shin_juku"}, "query", "CHARACTERS"),
        ({"q": "' OR 1=1 --"}, "query", "CHARACTERS"),
        ({"q": "😀"}, "query", "CHARACTERS"),
        ({"pref": "48"}, "prefectureCode", "MALFORMED"),
        ({"pref": ""}, "prefectureCode", "MALFORMED"),
        ({"pref": "東京"}, "prefectureCode", "MALFORMED"),
        ({"first": 0}, "first", "OUT_OF_RANGE"),
        ({"first": 101}, "first", "OUT_OF_RANGE"),
        ({"first": -5}, "first", "OUT_OF_RANGE"),
        ({"after": "13104"}, "after", "MALFORMED"),
        ({"after": "131042"}, "after", "MALFORMED"),
        ({"after": "x" * 5000}, "after", "MALFORMED"),
        # The words of the parser's own problems are not cursors either.
        ({"after": "malformed"}, "after", "MALFORMED"),
        ({"after": "empty"}, "after", "MALFORMED"),
        ({"after": "check_digit"}, "after", "MALFORMED"),
        ({"after": ""}, "after", "MALFORMED"),
    ],
)
async def test_bad_arguments_are_typed_errors(
    execute: Caller, variables: dict[str, Any], field: str, reason: str
) -> None:
    result = await _search(execute, **variables)
    assert result["__typename"] == "InvalidFieldError"
    assert (result["code"], result["field"], result["reason"]) == (
        "WZBAM005E",
        field,
        reason,
    )


async def test_errors_name_the_item_in_the_request_language(execute: Caller) -> None:
    ja = await execute(MUNICIPALITIES, {"q": "%"}, lang=Lang.JA)
    en = await execute(MUNICIPALITIES, {"q": "%"}, lang=Lang.EN)
    assert ja["municipalities"]["message"] == (
        "検索語の入力内容に誤りがあります。再度入力してください。"
    )
    assert en["municipalities"]["message"].startswith("What you entered in Search text")


@pytest.mark.parametrize("code", ["131041", "13104", "１３１０４１"])
async def test_municipality_by_code(execute: Caller, code: str) -> None:
    found = (await execute(MUNICIPALITY, {"code": code}))["municipality"]
    assert found["__typename"] == "Municipality"
    assert (found["code"], found["name"]) == ("131041", "新宿区")


@pytest.mark.parametrize(
    ("code", "typename", "error_code", "reason"),
    [
        ("", "MunicipalityCodeRequiredError", "WZBAM103E", None),
        ("131042", "InvalidFieldError", "WZBAM005E", "CHECK_DIGIT"),
        ("1310", "InvalidFieldError", "WZBAM005E", "MALFORMED"),
        ("abcdef", "InvalidFieldError", "WZBAM005E", "MALFORMED"),
        # Well-formed with a right check digit, but no such municipality.
        ("999997", "InvalidFieldError", "WZBAM005E", "UNKNOWN"),
        # 札幌市 itself: its residents live in one of its wards.
        ("011002", "InvalidFieldError", "WZBAM005E", "UNKNOWN"),
    ],
)
async def test_municipality_refuses_bad_codes(
    execute: Caller, code: str, typename: str, error_code: str, reason: str | None
) -> None:
    found = (await execute(MUNICIPALITY, {"code": code}))["municipality"]
    assert found["__typename"] == typename
    assert found["code"] == error_code
    assert found["field"] == "code"
    assert found.get("reason") == reason


async def test_the_account_flows_check_names_the_address_item(db: str) -> None:
    missing = await check_municipality_code(
        None,
        lang=Lang.JA,
        field="newAddress.municipalityCode",
        label=FieldLabel.ADDRESS,
    )
    wrong = await check_municipality_code(
        "131042", lang=Lang.EN, field="code", label=FieldLabel.ADDRESS
    )
    found = await check_municipality_code(
        "13104", lang=Lang.JA, field="code", label=FieldLabel.ADDRESS
    )
    assert isinstance(missing, MunicipalityCodeRequiredError)
    assert missing.message == "住居地(都道府県市区町村)コードを入力してください。"
    assert missing.field == "newAddress.municipalityCode"
    assert isinstance(wrong, InvalidFieldError)
    assert wrong.message.startswith(
        "What you entered in Address (prefecture and municipality) is incorrect."
    )
    assert not isinstance(found, InvalidFieldError | MunicipalityCodeRequiredError)
    assert (found.code, found.name, found.prefecture.name) == (
        "131041",
        "新宿区",
        "東京都",
    )


@pytest.mark.postal_codes
@pytest.mark.parametrize("code", ["1600023", "160-0023", "〒１６０－００２３"])
async def test_postal_code_gives_prefecture_municipality_and_town(
    execute: Caller, code: str
) -> None:
    found = (await execute(POSTAL, {"code": code}))["postalCode"]
    assert found["__typename"] == "PostalCode"
    assert found["code"] == "1600023"
    assert found["places"] == [
        {
            "municipality": SHINJUKU,
            "town": "西新宿",
            "townKana": "ニシシンジュク",
            "townRomaji": "Nishishinjuku",
            "note": "次のビルを除く",
        }
    ]


@pytest.mark.postal_codes
async def test_a_postal_code_of_several_places(execute: Caller) -> None:
    # 0040000 covers the rest of two wards of Sapporo.
    found = (await execute(POSTAL, {"code": "0040000"}))["postalCode"]
    places = found["places"]
    assert [p["municipality"]["name"] for p in places] == [
        "札幌市厚別区",
        "札幌市清田区",
    ]
    assert {(p["town"], p["townRomaji"], p["note"]) for p in places} == {
        (None, None, "以下に掲載がない場合")
    }


@pytest.mark.postal_codes
@pytest.mark.parametrize(
    ("code", "typename", "error_code", "reason"),
    [
        ("", "RequiredFieldError", "WZBAM001E", None),
        ("160002", "InvalidFieldError", "WZBAM005E", "MALFORMED"),
        ("abc-defg", "InvalidFieldError", "WZBAM005E", "MALFORMED"),
        ("0000000", "InvalidFieldError", "WZBAM005E", "UNKNOWN"),
    ],
)
async def test_postal_code_refuses_bad_codes(
    execute: Caller, code: str, typename: str, error_code: str, reason: str | None
) -> None:
    found = (await execute(POSTAL, {"code": code}))["postalCode"]
    assert (found["__typename"], found["code"], found["field"]) == (
        typename,
        error_code,
        "code",
    )
    assert found.get("reason") == reason


async def test_address_search_over_http_needs_no_login(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(
        "/graphql",
        params={
            "query": '{ municipality(code: "473821") '
            "{ ... on Municipality { name romaji } } }"
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "municipality": {
                "name": "八重山郡与那国町",
                "romaji": "Yaeyama-gun Yonaguni-cho",
            }
        }
    }


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("ふじみ野", "ふじみ野市"),
        ("南アルプス", "南アルプス市"),
        ("さいたま市浦和", "さいたま市浦和区"),
    ],
)
async def test_names_mixing_kanji_and_kana(
    execute: Caller, query: str, name: str
) -> None:
    assert _names(await _search(execute, q=query)) == [name]
