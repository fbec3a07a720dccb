"""The loaded address data: real codes, plausible counts, idempotent loads."""

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime

import pytest

from addresses.codes import check_digit
from addresses.load import DATA_SET, load_addresses
from addresses.source import Snapshot, source_version
from models import Municipality, PostalCode, Prefecture, ReferenceData
from tests.support import address_snapshot

NOW = datetime(2026, 11, 26, tzinfo=UTC)


async def test_every_loaded_code_has_its_check_digit(db: str) -> None:
    codes = [row.code for row in await Municipality.all()]
    assert len(codes) > 1800
    wrong = [code for code in codes if check_digit(code[:5]) != code[5]]
    assert wrong == []


@pytest.mark.parametrize(
    ("code", "name", "kana", "romaji", "prefecture"),
    [
        ("131016", "千代田区", "チヨダク", "Chiyoda-ku", "東京都"),
        ("131041", "新宿区", "シンジュクク", "Shinjuku-ku", "東京都"),
        (
            "011011",
            "札幌市中央区",
            "サッポロシチュウオウク",
            "Sapporo-shi Chuo-ku",
            "北海道",
        ),
        (
            "473821",
            "八重山郡与那国町",
            "ヤエヤマグンヨナグニチョウ",
            "Yaeyama-gun Yonaguni-cho",
            "沖縄県",
        ),
    ],
)
async def test_known_municipalities(
    db: str, code: str, name: str, kana: str, romaji: str, prefecture: str
) -> None:
    row = await Municipality.get(code=code).select_related("prefecture")
    assert (row.name, row.kana, row.romaji) == (name, kana, romaji)
    assert row.prefecture.name == prefecture


async def test_counts_per_prefecture_are_plausible(db: str) -> None:
    prefectures = await Prefecture.all().order_by("code")
    assert [p.code for p in prefectures] == [f"{n:02d}" for n in range(1, 48)]
    assert (prefectures[0].name, prefectures[12].name, prefectures[46].name) == (
        "北海道",
        "東京都",
        "沖縄県",
    )
    counts = Counter(row.prefecture_id for row in await Municipality.all())
    # Every prefecture has more than a handful; Hokkaido has by far the most.
    assert min(counts.values()) >= 15
    assert counts.most_common(1)[0][0] == "01"
    assert 1850 <= sum(counts.values()) <= 1950
    tokyo = [row.name for row in await Municipality.filter(prefecture_id="13")]
    special_wards = [name for name in tokyo if name.endswith("区")]
    assert len(special_wards) == 23
    assert "千代田区" in special_wards
    # 26 cities, 5 towns and 8 villages besides the wards.
    assert Counter(name[-1] for name in tokyo) == {"区": 23, "市": 26, "町": 5, "村": 8}


async def test_designated_city_wards_and_counties_are_split_in_romaji(db: str) -> None:
    wards = [row.romaji for row in await Municipality.filter(name__startswith="横浜市")]
    assert len(wards) == 18
    assert all(r.startswith("Yokohama-shi ") and r.endswith("-ku") for r in wards)
    rows = [(row.name, row.romaji) for row in await Municipality.all()]
    suffix: dict[str, tuple[str, ...]] = {
        "市": ("-shi",),
        "区": ("-ku",),
        "町": ("-cho", "-machi"),
        "村": ("-son", "-mura"),
    }
    unsuffixed = [
        (name, romaji) for name, romaji in rows if not romaji.endswith(suffix[name[-1]])
    ]
    assert unsuffixed == []


@pytest.mark.postal_codes
async def test_postal_codes_point_at_loaded_municipalities(db: str) -> None:
    row = await PostalCode.get(code="1600023")
    assert row.places == [["131041", "西新宿", "ニシシンジュク", "次のビルを除く"]]
    assert await PostalCode.all().count() > 100_000
    codes = {row.code for row in await Municipality.all()}
    sample = await PostalCode.all().order_by("code").limit(5000)
    assert {place[0] for row in sample for place in row.places} <= codes


async def test_a_second_load_does_nothing(db: str) -> None:
    before = await ReferenceData.get(name=DATA_SET)
    report = await load_addresses(now=NOW, reader=address_snapshot)
    after = await ReferenceData.get(name=DATA_SET)
    assert not report.loaded
    assert report.version == source_version() == after.version
    assert after.loaded_at == before.loaded_at
    assert (report.prefectures, report.municipalities) == (47, after.rows)


async def test_a_new_release_replaces_the_data_in_one_transaction(db: str) -> None:
    full = address_snapshot()
    # A release in which one municipality merged away and a postal code moved.
    newer = dataclasses.replace(
        full,
        version="newer",
        municipalities=[m for m in full.municipalities if m.code != "473821"],
        postal_codes={
            code: places
            for code, places in full.postal_codes.items()
            if all(place[0] != "473821" for place in places)
        },
    )
    await ReferenceData.filter(name=DATA_SET).update(version="older")

    report = await load_addresses(now=NOW, reader=lambda: newer)

    assert report.loaded
    assert report.municipalities == len(full.municipalities) - 1
    assert not await Municipality.exists(code="473821")
    assert await Municipality.exists(code="131041")
    marker = await ReferenceData.get(name=DATA_SET)
    assert (marker.version, marker.rows) == ("newer", report.municipalities)
    # Put the real data back for the tests that share this database.
    await load_addresses(now=NOW, force=True, reader=address_snapshot)
    assert await Municipality.exists(code="473821")


@pytest.mark.postal_codes
async def test_a_failing_load_leaves_the_old_data(db: str) -> None:
    full = address_snapshot()
    # A municipality of a prefecture that does not exist breaks the load
    # half-way, after the old rows were deleted.
    broken = dataclasses.replace(
        full,
        version="broken",
        municipalities=[
            *full.municipalities,
            dataclasses.replace(
                full.municipalities[0], code="999997", prefecture_code="99"
            ),
        ],
    )

    with pytest.raises(KeyError):
        await load_addresses(now=NOW, force=True, reader=lambda: broken)

    assert await Municipality.all().count() == len(full.municipalities)
    assert await PostalCode.exists(code="1600023")
    assert (await ReferenceData.get(name=DATA_SET)).version == source_version()


async def test_concurrent_loads_replace_the_data_once(db: str) -> None:
    await ReferenceData.filter(name=DATA_SET).update(version="older")
    reports = await asyncio.gather(
        load_addresses(now=NOW, reader=address_snapshot),
        load_addresses(now=NOW, reader=address_snapshot),
    )

    # Both read the release; the one that got the lock second found it loaded.
    assert sorted(report.loaded for report in reports) == [False, True]
    assert await Municipality.all().count() == len(address_snapshot().municipalities)


async def test_concurrent_first_loads_replace_the_data_once(db: str) -> None:
    # No marker row yet, as on a fresh database: the upsert must still make the
    # second load wait for the first instead of failing on the primary key.
    await ReferenceData.filter(name=DATA_SET).delete()
    reports = await asyncio.gather(
        load_addresses(now=NOW, reader=address_snapshot),
        load_addresses(now=NOW, reader=address_snapshot),
    )
    assert sorted(report.loaded for report in reports) == [False, True]
    assert (await ReferenceData.get(name=DATA_SET)).version == source_version()


async def test_current_data_is_recognised_without_reading_the_release(
    db: str,
) -> None:
    def unreadable() -> Snapshot:
        raise AssertionError("read although current")

    report = await load_addresses(now=NOW, reader=unreadable)
    assert not report.loaded
    assert report.municipalities == len(address_snapshot().municipalities)
