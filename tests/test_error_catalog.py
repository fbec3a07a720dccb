"""errorCatalog: the manual's 別紙 in Japanese and English, plus the extensions."""

import csv
from pathlib import Path

import pytest

from models import Lang
from tests.support import Caller

CATALOG = """
query Catalog($lang: Language) {
  errorCatalog(lang: $lang) { code message remedy extension }
}
"""
SHARED_TSV = Path(__file__).parents[2] / "shared" / "reference" / "error-catalog-ja.tsv"
PACKAGED_TSV = Path(__file__).parents[1] / "schema" / "data" / "error-catalog-ja.tsv"


def _manual_rows() -> list[dict[str, str]]:
    source = SHARED_TSV if SHARED_TSV.exists() else PACKAGED_TSV
    with source.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_packaged_catalog_is_the_reference_copy() -> None:
    if SHARED_TSV.exists():
        assert PACKAGED_TSV.read_bytes() == SHARED_TSV.read_bytes()
    assert len(_manual_rows()) == 25


async def test_catalog_lists_the_manual_codes_verbatim_in_japanese(
    execute: Caller,
) -> None:
    data = await execute(CATALOG, {"lang": "JA"})

    entries = data["errorCatalog"]
    manual = [e for e in entries if not e["extension"]]
    assert [
        {"code": e["code"], "message_ja": e["message"], "remedy_ja": e["remedy"]}
        for e in manual
    ] == _manual_rows()


async def test_catalog_has_english_for_every_code(execute: Caller) -> None:
    ja = (await execute(CATALOG, {"lang": "JA"}))["errorCatalog"]
    en = (await execute(CATALOG, {"lang": "EN"}))["errorCatalog"]

    assert [e["code"] for e in en] == [e["code"] for e in ja]
    for english, japanese in zip(en, ja, strict=True):
        assert english["message"].isascii(), english
        assert english["remedy"].isascii(), english
        assert english["message"] != japanese["message"]


async def test_catalog_marks_the_service_extensions(execute: Caller) -> None:
    entries = (await execute(CATALOG, {"lang": "JA"}))["errorCatalog"]

    extensions = [e["code"] for e in entries if e["extension"]]
    assert extensions == [
        "RASX001E",
        "RASX002E",
        "RASX003E",
        "RASX004E",
        "RASX005E",
        "RASX006E",
        "RASX007E",
        "RASX008E",
        "RASX009E",
        "RASX010E",
        "RASX011E",
        "RASX012E",
        "RASX013E",
    ]
    assert len(entries) == 38


@pytest.mark.parametrize(("lang", "first"), [(Lang.JA, "「！」"), (Lang.EN, "Please")])
async def test_catalog_defaults_to_the_request_language(
    execute: Caller, lang: Lang, first: str
) -> None:
    entries = (await execute(CATALOG, lang=lang))["errorCatalog"]

    assert entries[0]["code"] == "WZBAM001E"
    assert entries[0]["message"].startswith(first)
