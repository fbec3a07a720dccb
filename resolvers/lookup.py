"""Address search: prefectures, municipalities, postal codes, and the check the
account flows use for a municipality code. No login needed: the data is public
(Japan Post's list) and says nothing about users."""

from typing import Annotated

import strawberry

from addresses.codes import (
    CodeProblem,
    parse_municipality_code,
    parse_postal_code,
    parse_prefecture_code,
)
from addresses.names import Query, QueryProblem, parse_query
from models import Lang
from models import Municipality as MunicipalityModel
from models import PostalCode as PostalCodeModel
from models import Prefecture as PrefectureModel
from resolvers.context import Info
from schema.errors import (
    InputProblem,
    InvalidFieldError,
    MunicipalityCodeRequiredError,
    RequiredFieldError,
)
from schema.lookup import (
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    MunicipalitiesResult,
    Municipality,
    MunicipalityConnection,
    MunicipalityEdge,
    MunicipalityResult,
    PostalCode,
    PostalCodeResult,
    PostalPlace,
    Prefecture,
)
from schema.messages import FieldLabel
from schema.types import PageInfo

_PROBLEMS = {
    CodeProblem.EMPTY: InputProblem.EMPTY,
    CodeProblem.MALFORMED: InputProblem.MALFORMED,
    CodeProblem.CHECK_DIGIT: InputProblem.CHECK_DIGIT,
    QueryProblem.EMPTY: InputProblem.EMPTY,
    QueryProblem.TOO_LONG: InputProblem.TOO_LONG,
    QueryProblem.CHARACTERS: InputProblem.CHARACTERS,
}
_MUNICIPALITY_LABEL = {
    Lang.JA: "{}（都道府県市区町村）",
    Lang.EN: "{} (prefecture and municipality)",
}


def _invalid(
    lang: Lang, field: str, label: FieldLabel | str, reason: InputProblem
) -> InvalidFieldError:
    return InvalidFieldError.build(lang, label, field=field, reason=reason)


async def prefectures() -> list[Prefecture]:
    """All 47 prefectures in code order (empty until the data is loaded)."""
    rows = await PrefectureModel.all().order_by("code")
    return [Prefecture.from_model(row) for row in rows]


async def municipalities(
    info: Info,
    prefecture_code: Annotated[
        str | None,
        strawberry.argument(
            description="Only this prefecture: its 2-digit code, 01 to 47."
        ),
    ] = None,
    query: Annotated[
        str | None,
        strawberry.argument(
            description="Search text of at most 64 characters: part of the "
            "name in kanji (新宿), kana in hiragana or katakana, full- or "
            "half-width (しんじゅく, ｼﾝｼﾞｭｸ), romaji in Hepburn or Kunrei "
            "spelling (shinjuku, sinzyuku, chuo), or the first digits of the "
            "code (131). Also matches from the start of prefecture + "
            "municipality (東京都新宿)."
        ),
    ] = None,
    first: Annotated[
        int | None,
        strawberry.argument(
            description=f"Page size, 1 to {PAGE_SIZE_MAX}; default {PAGE_SIZE_DEFAULT}."
        ),
    ] = None,
    after: Annotated[
        str | None,
        strawberry.argument(
            description="Continue after this cursor (`pageInfo.endCursor` of "
            "the previous page)."
        ),
    ] = None,
) -> MunicipalitiesResult:
    """A page of municipalities in code order, filtered by prefecture and query.

    - InvalidFieldError (005E) naming the argument: prefecture code not 01-47;
      query empty, over 64 characters or with characters no name has; ``first``
      outside 1-100; ``after`` not a cursor of this connection.
    - Otherwise the page (possibly empty), in code order, from the in-memory
      index (addresses.index), which stops reading as soon as the page is full.
    """
    lang = info.context.lang
    prefecture: str | None = None
    if prefecture_code is not None:
        parsed_prefecture = parse_prefecture_code(prefecture_code)
        if isinstance(parsed_prefecture, CodeProblem):
            return _invalid(
                lang,
                "prefectureCode",
                FieldLabel.PREFECTURE_CODE,
                InputProblem.MALFORMED,
            )
        prefecture = parsed_prefecture
    parsed_query: Query | None = None
    if query is not None:
        parsed = parse_query(query)
        if isinstance(parsed, QueryProblem):
            return _invalid(lang, "query", FieldLabel.SEARCH_TEXT, _PROBLEMS[parsed])
        parsed_query = parsed
    size = PAGE_SIZE_DEFAULT if first is None else first
    if not 1 <= size <= PAGE_SIZE_MAX:
        return _invalid(lang, "first", FieldLabel.PAGE_SIZE, InputProblem.OUT_OF_RANGE)
    if after is not None:
        cursor = parse_municipality_code(after)
        if isinstance(cursor, CodeProblem) or cursor != after:
            return _invalid(lang, "after", FieldLabel.CURSOR, InputProblem.MALFORMED)
    services = info.context.services
    rows = await services.municipalities.search(
        now=services.clock.now(),
        query=parsed_query,
        prefecture=prefecture,
        after=after,
        limit=size + 1,
    )
    page = rows[:size]
    edges = [
        MunicipalityEdge(cursor=row.code, node=Municipality.from_model(row))
        for row in page
    ]
    return MunicipalityConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


async def check_municipality_code(
    raw: str | None, *, lang: Lang, field: str, label: FieldLabel
) -> MunicipalityModel | MunicipalityCodeRequiredError | InvalidFieldError:
    """The municipality of a code entered in an address item, or the error.

    ``label`` names the address item (住居地); its code part is what is missing
    (WZBAM103E) or wrong (WZBAM005E: malformed, wrong check digit, unknown).
    Accepts the 6-digit code and the 5-digit JIS X 0402 form, full-width digits
    included. The result has its prefecture loaded.
    """
    code = parse_municipality_code(raw or "")
    if code is CodeProblem.EMPTY:
        return MunicipalityCodeRequiredError.build(lang, label, field=field)
    code_label = _MUNICIPALITY_LABEL[lang].format(label.text(lang))
    if isinstance(code, CodeProblem):
        return _invalid(lang, field, code_label, _PROBLEMS[code])
    row = await MunicipalityModel.get_or_none(code=code).select_related("prefecture")
    if row is None:
        return _invalid(lang, field, code_label, InputProblem.UNKNOWN)
    return row


async def municipality(
    info: Info,
    code: Annotated[
        str,
        strawberry.argument(
            description="6 digits with the check digit (131041), or the "
            "5-digit JIS X 0402 form (13104); full-width digits are accepted."
        ),
    ],
) -> MunicipalityResult:
    """One municipality by its code (6 digits, or the 5-digit JIS form).

    - MunicipalityCodeRequiredError (103E) when the code is empty.
    - InvalidFieldError (005E) when malformed, wrong check digit or unknown.
    """
    found = await check_municipality_code(
        code, lang=info.context.lang, field="code", label=FieldLabel.ADDRESS
    )
    if isinstance(found, MunicipalityModel):
        return Municipality.from_model(found)
    return found


async def postal_code(
    info: Info,
    code: Annotated[
        str,
        strawberry.argument(
            description="7 digits (1600023), optionally with a hyphen after "
            "the third (160-0023), 〒 or full-width digits."
        ),
    ],
) -> PostalCodeResult:
    """The places of a postal code: prefecture, municipality and town.

    - RequiredFieldError (001E) when the code is empty.
    - InvalidFieldError (005E) when it is not 7 digits (an optional hyphen after
      the third, 〒 and full-width digits accepted) or no such code exists.
    """
    lang = info.context.lang
    postal = parse_postal_code(code)
    if postal is CodeProblem.EMPTY:
        return RequiredFieldError.build(lang, field="code", fields=["code"])
    if isinstance(postal, CodeProblem):
        return _invalid(lang, "code", FieldLabel.POSTAL_CODE, InputProblem.MALFORMED)
    row = await PostalCodeModel.get_or_none(code=postal)
    if row is None:
        return _invalid(lang, "code", FieldLabel.POSTAL_CODE, InputProblem.UNKNOWN)
    codes = {str(place[0]) for place in row.places}
    found = {
        municipality.code: municipality
        for municipality in await MunicipalityModel.filter(
            code__in=codes
        ).select_related("prefecture")
    }
    return PostalCode(
        code=row.code,
        places=[
            PostalPlace.build(found[str(code_)], town, kana, note)
            for code_, town, kana, note in row.places
            if str(code_) in found
        ],
    )
