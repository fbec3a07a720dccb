"""Forward paging by keyset (Relay connections whose cursor is a row id):
`first` and `after` checked once for every such connection."""

from typing import Annotated

import strawberry

from resolvers.context import Info
from schema.errors import InputProblem, InvalidFieldError
from schema.messages import FieldLabel
from schema.types import PageInfo

PAGE_DEFAULT = 20
PAGE_MAX = 100
# The widest id any table has (BIGINT); INT ids (users) stop at INT_MAX.
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page size, 1 to {PAGE_MAX}; default {PAGE_DEFAULT}."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Continue after this cursor (`pageInfo.endCursor` of the page "
        "before)."
    ),
]


def row_id(text: str, maximum: int = BIGINT_MAX) -> int | None:
    """The row id a client sent, or None when no row can have it."""
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    value = int(text)
    return value if value <= maximum else None


def page_request(
    info: Info, first: int | None, after: str | None, *, maximum: int = BIGINT_MAX
) -> tuple[int, int | None] | InvalidFieldError:
    """The page size and the cursor as a row id, or WZBAM005E naming the bad
    argument (`first` outside 1-100, `after` not a cursor: not an id up to
    ``maximum``, the width of the table's id)."""
    lang = info.context.lang
    size = PAGE_DEFAULT if first is None else first
    if not 1 <= size <= PAGE_MAX:
        return InvalidFieldError.build(
            lang, FieldLabel.PAGE_SIZE, field="first", reason=InputProblem.OUT_OF_RANGE
        )
    if after is None:
        return size, None
    cursor = row_id(after, maximum)
    if cursor is None:
        return InvalidFieldError.build(
            lang, FieldLabel.CURSOR, field="after", reason=InputProblem.MALFORMED
        )
    return size, cursor


def page_info(cursors: list[str], more: bool) -> PageInfo:
    """Where a forward page ends (there is never a page before)."""
    return PageInfo(
        has_next_page=more,
        has_previous_page=False,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
