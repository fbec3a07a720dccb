"""Address search (the 検索 button of the 住居地 items): prefectures, municipalities
by 全国地方公共団体コード and postal codes, from Japan Post's data."""

from typing import Annotated, Self

import strawberry

from addresses.names import romanise_town
from models import Municipality as MunicipalityModel
from models import Prefecture as PrefectureModel
from schema.errors import (
    InvalidFieldError,
    MunicipalityCodeRequiredError,
    RequiredFieldError,
)
from schema.types import PageInfo

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100


@strawberry.type(description="都道府県: one of the 47 prefectures.")
class Prefecture:
    code: str = strawberry.field(
        description="The 2-digit prefecture code (01 北海道 … 47 沖縄県), the first "
        "two digits of its municipalities' codes."
    )
    name: str = strawberry.field(description="The name in kanji, e.g. 東京都.")
    kana: str = strawberry.field(
        description="The reading in katakana, e.g. トウキョウト."
    )
    romaji: str = strawberry.field(
        description="The romanised name (Hepburn, long vowels unmarked), e.g. Tokyo-to."
    )

    @classmethod
    def from_model(cls, row: PrefectureModel) -> Self:
        return cls(code=row.code, name=row.name, kana=row.kana, romaji=row.romaji)


@strawberry.type(
    description="市区町村: a municipality, a ward of a designated city or a Tokyo "
    "special ward, as Japan Post's data names it."
)
class Municipality:
    code: str = strawberry.field(
        description="全国地方公共団体コード: 6 digits, the last a check digit, e.g. "
        "131041. This is the code the 住居地 items take."
    )
    jis_code: str = strawberry.field(
        description="The same code in its 5-digit JIS X 0402 form, e.g. 13104."
    )
    name: str = strawberry.field(
        description="The name in kanji, e.g. 新宿区 or 札幌市中央区 (a county's "
        "towns and villages start with the county, e.g. 八重山郡与那国町)."
    )
    kana: str = strawberry.field(description="The reading in katakana.")
    romaji: str = strawberry.field(
        description="The romanised name with its administrative suffix, e.g. "
        "Shinjuku-ku, Sapporo-shi Chuo-ku, Yaeyama-gun Yonaguni-cho."
    )
    prefecture: Prefecture = strawberry.field(
        description="The prefecture it belongs to."
    )

    @classmethod
    def from_model(cls, row: MunicipalityModel) -> Self:
        return cls(
            code=row.code,
            jis_code=row.code[:5],
            name=row.name,
            kana=row.kana,
            romaji=row.romaji,
            prefecture=Prefecture.from_model(row.prefecture),
        )


@strawberry.type(description="One municipality in a page of search results.")
class MunicipalityEdge:
    cursor: str = strawberry.field(
        description="Where this result stands; pass it as `after` to continue "
        "after it. Opaque to clients."
    )
    node: Municipality = strawberry.field(description="The municipality.")


@strawberry.type(description="A page of municipalities in code order.")
class MunicipalityConnection:
    edges: list[MunicipalityEdge] = strawberry.field(
        description="The results of this page, in code order."
    )
    page_info: PageInfo = strawberry.field(description="How to get the next page.")


@strawberry.type(description="One place a postal code covers.")
class PostalPlace:
    municipality: Municipality = strawberry.field(
        description="The municipality (with its prefecture)."
    )
    town: str | None = strawberry.field(
        description="町域: the town name in kanji, e.g. 西新宿; null when the "
        "code covers the rest of the municipality (see `note`)."
    )
    town_kana: str | None = strawberry.field(
        description="The town's reading in katakana; null with `town`."
    )
    town_romaji: str | None = strawberry.field(
        description="The town name romanised from its reading, e.g. Nishishinjuku; "
        "null with `town`."
    )
    note: str | None = strawberry.field(
        description="Japan Post's remark on the entry, e.g. 以下に掲載がない場合 "
        "(everything not listed elsewhere), 次のビルを除く, or a floor of a "
        "building with its own code."
    )

    @classmethod
    def build(
        cls,
        municipality: MunicipalityModel,
        town: str | None,
        town_kana: str | None,
        note: str | None,
    ) -> Self:
        return cls(
            municipality=Municipality.from_model(municipality),
            town=town,
            town_kana=town_kana,
            town_romaji=romanise_town(town_kana) if town_kana else None,
            note=note,
        )


@strawberry.type(description="郵便番号: what one postal code covers.")
class PostalCode:
    code: str = strawberry.field(description="The 7-digit postal code, e.g. 1600023.")
    places: list[PostalPlace] = strawberry.field(
        description="Every place with this code, in Japan Post's order (most codes "
        "cover one town; some cover several, a few several municipalities)."
    )


MunicipalitiesResult = Annotated[
    MunicipalityConnection | InvalidFieldError,
    strawberry.union(
        "MunicipalitiesResult",
        description="A page of municipalities, or which argument was wrong.",
    ),
]

MunicipalityResult = Annotated[
    Municipality | MunicipalityCodeRequiredError | InvalidFieldError,
    strawberry.union(
        "MunicipalityResult",
        description="The municipality of a code; WZBAM103E when no code was given; "
        "WZBAM005E when it is malformed, has a wrong check digit or is unknown.",
    ),
]

PostalCodeResult = Annotated[
    PostalCode | RequiredFieldError | InvalidFieldError,
    strawberry.union(
        "PostalCodeResult",
        description="The places of a postal code; WZBAM001E when none was given; "
        "WZBAM005E when it is malformed or unknown.",
    ),
]
