"""外字 (WZBAM011E) and the agency's field formats.

Allowed text is printable ASCII plus JIS X 0208 (levels 1 and 2). Anything else
(half-width katakana, machine-dependent characters such as ①, ㈱, ㍻, JIS levels
3-4, emoji, private use, control characters) is 外字. Windows (CP932) keyboards
produce a few characters whose Unicode code points differ from the JIS X 0208
mapping (～ for 〜, － for −, …); they are the same JIS characters, so they are
folded to the JIS mapping instead of being rejected.
"""

import functools
import re
import unicodedata
from datetime import date
from enum import Enum

import pycountry

_CP932_TO_JIS = str.maketrans(
    {
        "\uff5e": "\u301c",  # ～ FULLWIDTH TILDE -> 〜 WAVE DASH
        "\uff0d": "\u2212",  # － FULLWIDTH HYPHEN-MINUS -> − MINUS SIGN
        "\u2225": "\u2016",  # ∥ PARALLEL TO -> ‖ DOUBLE VERTICAL LINE
        "\uffe0": "\u00a2",  # ￠ -> ¢
        "\uffe1": "\u00a3",  # ￡ -> £
        "\uffe2": "\u00ac",  # ￢ -> ¬
        "\u2014": "\u2015",  # — EM DASH -> ― HORIZONTAL BAR
    }
)
_JIS_X_0208_DESIGNATION = b"\x1b$B"


def fold_cp932_variants(text: str) -> str:
    """Map CP932 look-alikes to the code points JIS X 0208 uses."""
    return text.translate(_CP932_TO_JIS)


def _is_allowed(char: str) -> bool:
    if " " <= char <= "~":
        return True
    try:
        encoded = char.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    # iso2022_jp also knows JIS X 0201 Roman (¥, ‾), which is not JIS X 0208.
    return encoded.startswith(_JIS_X_0208_DESIGNATION)


def gaiji(text: str) -> list[str]:
    """The distinct 外字 in ``text`` (after folding CP932 variants), in order."""
    found: list[str] = []
    for char in fold_cp932_variants(text):
        if not _is_allowed(char) and char not in found:
            found.append(char)
    return found


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EMAIL_MAX = 60
_PASSPORT_NAME = re.compile(r"^[A-Za-z]+(?: [A-Za-z]+)*$")
PASSPORT_NAME_MAX = 104
FULL_WIDTH_NAME_MAX = 26


def valid_email(value: str) -> bool:
    """Half-width address of at most 60 characters, as on the agency's forms."""
    return len(value) <= EMAIL_MAX and _EMAIL.match(value) is not None


def normalise_name(value: str) -> str | None:
    """The name as stored, or None if it is neither form the forms accept.

    Either as in the passport (half-width letters and single spaces, at most 104,
    stored upper-case) or full-width (at most 26 characters of JIS X 0208).
    """
    text = " ".join(value.split())
    if _PASSPORT_NAME.match(text):
        return text.upper() if len(text) <= PASSPORT_NAME_MAX else None
    text = fold_cp932_variants(value.strip())
    if not text or len(text) > FULL_WIDTH_NAME_MAX or gaiji(text):
        return None
    if all(unicodedata.east_asian_width(c) in {"F", "W"} for c in text):
        return text
    return None


def normalise_auth_id(value: str) -> str:
    """Fold full-width letters/digits (NFKC) and case, so ＡＢ１ and ab1 match AB1."""
    return unicodedata.normalize("NFKC", value).strip().upper()


class TextProblem(Enum):
    """Why an entered item was refused (mapped to the manual's codes by the
    resolvers)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CHARACTERS = "characters"
    MALFORMED = "malformed"
    OUT_OF_RANGE = "out_of_range"
    NO_SUCH_DATE = "no_such_date"
    UNKNOWN = "unknown"


PHONE_MAX = 12
STREET_MAX = 85
_DATE_FORMS = (
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
)
OLDEST_BIRTH_YEAR = 1900


def parse_date_of_birth(value: str, *, today: date) -> date | TextProblem:
    """``yyyymmdd`` or ``yyyy-mm-dd`` (full-width digits too) as a date.

    MALFORMED for any other form, NO_SUCH_DATE for a date that does not exist
    (2023-02-30, month 13), OUT_OF_RANGE for one after ``today`` or before 1900.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    for form in _DATE_FORMS:
        if match := form.match(text):
            break
    else:
        return TextProblem.MALFORMED
    year, month, day = (int(part) for part in match.groups())
    try:
        born = date(year, month, day)
    except ValueError:
        return TextProblem.NO_SUCH_DATE
    if born > today or year < OLDEST_BIRTH_YEAR:
        return TextProblem.OUT_OF_RANGE
    return born


def normalise_phone(value: str) -> str | TextProblem:
    """Half-width digits, at most 12, no hyphens (full-width digits are folded)."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return TextProblem.EMPTY
    if not (text.isascii() and text.isdigit()):
        return TextProblem.CHARACTERS
    if len(text) > PHONE_MAX:
        return TextProblem.TOO_LONG
    return text


def normalise_email(value: str) -> str | TextProblem:
    """A half-width address of at most 60 characters, surrounding spaces removed."""
    text = value.strip()
    if not text:
        return TextProblem.EMPTY
    if len(text) > EMAIL_MAX:
        return TextProblem.TOO_LONG
    if not text.isascii():
        return TextProblem.CHARACTERS
    return text if valid_email(text) else TextProblem.MALFORMED


_TO_FULL_WIDTH = str.maketrans(
    {chr(code): chr(code + 0xFEE0) for code in range(0x21, 0x7F)}
    # The full-width forms of the quotes are not JIS X 0208; these are.
    | {" ": "\u3000", "'": "\u2019", '"': "\u201d"}
)


def normalise_street(value: str) -> str | TextProblem:
    """町名丁目番地号等 as stored: full-width, at most 85 characters.

    Half-width letters, digits, symbols and spaces are turned into their
    full-width forms (the agency's forms want full-width; an applicant abroad
    types "1-2-3"), CP932 look-alikes folded to JIS X 0208. Check ``gaiji`` first:
    what remains is then JIS X 0208, which is full-width.
    """
    text = fold_cp932_variants(value.strip().translate(_TO_FULL_WIDTH))
    if not text:
        return TextProblem.EMPTY
    if len(text) > STREET_MAX:
        return TextProblem.TOO_LONG
    if gaiji(text):
        return TextProblem.CHARACTERS
    return text


def normalise_nationality(value: str) -> str | TextProblem:
    """An ISO 3166-1 alpha-3 code as in the passport (JPN, USA, VNM …), from
    pycountry's list; lower case and full-width letters are folded."""
    text = unicodedata.normalize("NFKC", value).strip().upper()
    if not (len(text) == 3 and text.isascii() and text.isalpha()):
        return TextProblem.MALFORMED
    return text if text in _alpha3_codes() else TextProblem.UNKNOWN


@functools.cache
def _alpha3_codes() -> frozenset[str]:
    return frozenset(country.alpha_3 for country in pycountry.countries)
