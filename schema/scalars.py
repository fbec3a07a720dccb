"""The `DateTime` and `Date` scalars, with the format each follows said by
`@specifiedBy` so a partner's code generator can map them to its own types."""

import dataclasses
from datetime import date, datetime

from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

RFC3339_DATE_TIME = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
RFC3339_FULL_DATE = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"

# Strawberry's own parsing and printing (isoformat) are kept: only what the
# schema says about them is new. Answers are always UTC with an offset
# ("2026-12-07T10:00:00+00:00"); an input without an offset is refused by the
# operation as WZBAM005E (MALFORMED), never read as some zone's time.
DATE_TIME = dataclasses.replace(
    DateTimeDefinition,
    description="An instant: an RFC 3339 date-time with a UTC offset, e.g. "
    "2026-12-07T10:00:00+00:00 (answers are in UTC, with microseconds when "
    "non-zero).",
    specified_by_url=RFC3339_DATE_TIME,
)
DATE = dataclasses.replace(
    DateDefinition,
    description="A calendar day: ISO 8601 extended format (RFC 3339 full-date) "
    "YYYY-MM-DD, e.g. 1990-04-01.",
    specified_by_url=RFC3339_FULL_DATE,
)

SCALARS: dict[object, ScalarDefinition] = {datetime: DATE_TIME, date: DATE}
