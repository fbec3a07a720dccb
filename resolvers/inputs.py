"""Checks every form shares: empty items (WZBAM001E) and 外字 (WZBAM011E)."""

from collections.abc import Sequence

from models import Lang
from schema.errors import GaijiError, InputProblem, RequiredFieldError
from schema.messages import FieldLabel
from security.text import TextProblem, gaiji

# Far longer than any item allows; longer input is refused before it is examined
# character by character (the format checks then name it TOO_LONG).
MAX_INPUT = 256

# How a format check's problem is named in InvalidFieldError/MalformedFieldError.
INPUT_PROBLEMS = {
    TextProblem.EMPTY: InputProblem.EMPTY,
    TextProblem.TOO_LONG: InputProblem.TOO_LONG,
    TextProblem.CHARACTERS: InputProblem.CHARACTERS,
    TextProblem.MALFORMED: InputProblem.MALFORMED,
    TextProblem.OUT_OF_RANGE: InputProblem.OUT_OF_RANGE,
    TextProblem.UNKNOWN: InputProblem.UNKNOWN,
}


def required(
    lang: Lang, values: Sequence[tuple[str, str | None]]
) -> RequiredFieldError | None:
    """WZBAM001E naming every empty item (spaces alone count as empty)."""
    missing = [field for field, value in values if not (value or "").strip()]
    if not missing:
        return None
    return RequiredFieldError.build(lang, field=missing[0], fields=missing)


def gaiji_in(
    lang: Lang, items: Sequence[tuple[str, FieldLabel, str | None]]
) -> GaijiError | None:
    """WZBAM011E for the first item holding 外字, with the characters found."""
    for field, label, value in items:
        if value and (found := gaiji(value[:MAX_INPUT])):
            return GaijiError.build(lang, label, field=field, characters=found)
    return None
