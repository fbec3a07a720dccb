"""The municipality search answered from memory (addresses.index): the same
rows, in the same order, as the database's LIKE query it replaced, for every
kind of query; and data replaced in the database is seen after the index's
lifetime, not before."""

from datetime import timedelta

import jaconv
import pytest
from tortoise.expressions import Q

from addresses.index import MunicipalityIndex
from addresses.names import Query, QueryKind, QueryProblem, hepburn, parse_query
from models import Municipality
from security.clock import SettableClock


def _database_match(query: Query) -> Q:
    """What the search asked the database before the index (the oracle)."""
    if query.kind is QueryKind.CODE:
        return Q(code__startswith=query.key)
    column = {
        QueryKind.ROMAJI: "romaji_key",
        QueryKind.KANA: "kana_key",
        QueryKind.NAME: "name_key",
    }[query.kind]
    keys = [query.key] if query.alternative is None else [query.key, query.alternative]
    return Q(
        *(
            Q(**{f"{column}__contains": k}) | Q(**{f"full_{column}__startswith": k})
            for k in keys
        ),
        join_type=Q.OR,
    )


async def _typed_queries() -> list[str]:
    """Prefixes and middles of every 40th municipality's names, as people type."""
    rows = await Municipality.all().order_by("code").select_related("prefecture")
    typed: set[str] = {"1", "13", "131", "0", "9999", "shin", "sinzyuku", "tanb"}
    for row in rows[::40]:
        hiragana = jaconv.kata2hira(row.kana)
        romaji = hepburn(row.kana)
        for cut in (1, 2, 3):
            typed.update({row.name[:cut], hiragana[:cut], romaji[: cut + 2]})
        typed.add(row.name[1:3])
        typed.add(row.prefecture.name + row.name[:1])
    return sorted(t for t in typed if t)


@pytest.mark.parametrize("prefecture", [None, "13", "47"])
async def test_the_index_answers_what_the_database_answered(
    db: str, clock: SettableClock, prefecture: str | None
) -> None:
    index = MunicipalityIndex()
    compared = 0
    for text in await _typed_queries():
        query = parse_query(text)
        if isinstance(query, QueryProblem):
            continue
        rows = Municipality.filter(_database_match(query))
        if prefecture is not None:
            rows = rows.filter(prefecture_id=prefecture)
        expected = await rows.order_by("code").limit(21).values_list("code", flat=True)
        found = await index.search(
            now=clock.now(), query=query, prefecture=prefecture, after=None, limit=21
        )
        assert [row.code for row in found] == [str(c) for c in expected], text
        compared += 1
    assert compared > 100


async def test_pages_continue_after_the_cursor(db: str, clock: SettableClock) -> None:
    index = MunicipalityIndex()
    query = parse_query("し")
    assert not isinstance(query, QueryProblem)
    first = await index.search(
        now=clock.now(), query=query, prefecture=None, after=None, limit=5
    )
    second = await index.search(
        now=clock.now(), query=query, prefecture=None, after=first[-1].code, limit=5
    )
    expected = (
        await Municipality.filter(_database_match(query))
        .order_by("code")
        .limit(10)
        .values_list("code", flat=True)
    )
    assert [r.code for r in first + second] == [str(c) for c in expected]


async def test_replaced_data_is_seen_after_the_lifetime(
    db: str, clock: SettableClock
) -> None:
    index = MunicipalityIndex(lifetime=timedelta(minutes=5))
    query = parse_query("新宿")
    assert not isinstance(query, QueryProblem)

    async def codes() -> list[str]:
        found = await index.search(
            now=clock.now(), query=query, prefecture=None, after=None, limit=20
        )
        return [row.code for row in found]

    before = await codes()
    assert "131041" in before
    # Reference data outlives a test on PostgreSQL: put it back.
    original = (await Municipality.get(code="131041")).name_key
    await Municipality.filter(code="131041").update(name_key="ゼンゼンベツ")
    try:
        assert await codes() == before  # within the lifetime: as read
        clock.advance(timedelta(minutes=5))
        assert "131041" not in await codes()
    finally:
        await Municipality.filter(code="131041").update(name_key=original)
