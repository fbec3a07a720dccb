"""Checks of what staff type into the admin API: free text (reasons, notices,
names), times and identifiers. Bad input is a typed answer, never an
exception further in (a NUL breaks PostgreSQL, a time without an offset
cannot be compared, a year 9999 overflows)."""

from datetime import UTC, date, datetime

from models import Lang
from schema.errors import InputProblem, InvalidFieldError, RequiredFieldError
from schema.messages import FieldLabel

# Times staff may set (usage expiry, notice windows) and days they may ask for.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2999
# Line breaks and tabs are text; every other control character is not.
_TEXT_CONTROLS = {"\n", "\r", "\t"}


def has_controls(text: str, *, multiline: bool = False) -> bool:
    """Whether ``text`` holds a control character (C0, DEL, C1) other than the
    line breaks and tabs of multi-line text, or a lone surrogate (no UTF-8:
    the HTTP view refuses it, in-process callers may not)."""
    allowed = _TEXT_CONTROLS if multiline else set()
    return any(
        (ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or 0xD800 <= ord(char) < 0xE000)
        and char not in allowed
        for char in text
    )


def text_problem(
    lang: Lang,
    field: str,
    label: FieldLabel,
    value: str,
    limit: int,
    *,
    multiline: bool = False,
) -> RequiredFieldError | InvalidFieldError | None:
    """WZBAM001E when empty, 005E when longer than ``limit`` or holding control
    characters."""
    if not value.strip():
        return RequiredFieldError.build(lang, field=field, fields=[field])
    if len(value) > limit:
        return InvalidFieldError.build(
            lang, label, field=field, reason=InputProblem.TOO_LONG
        )
    if has_controls(value, multiline=multiline):
        return InvalidFieldError.build(
            lang, label, field=field, reason=InputProblem.CHARACTERS
        )
    return None


def instant(
    lang: Lang, field: str, label: FieldLabel, value: datetime
) -> datetime | InvalidFieldError:
    """``value`` in UTC, or 005E: MALFORMED without a UTC offset (09:00 of
    which zone?), OUT_OF_RANGE outside the years staff may set."""
    if value.tzinfo is None or value.utcoffset() is None:
        return InvalidFieldError.build(
            lang, label, field=field, reason=InputProblem.MALFORMED
        )
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return InvalidFieldError.build(
            lang, label, field=field, reason=InputProblem.OUT_OF_RANGE
        )
    return value.astimezone(UTC)


def day_in_range(day: date) -> bool:
    return EARLIEST_YEAR <= day.year <= LATEST_YEAR


def lookup_text(text: str, limit: int) -> str | None:
    """A lookup value that can name something: None when it is longer than any
    stored value or holds control characters (it matches nothing)."""
    if len(text) > limit or has_controls(text):
        return None
    return text
