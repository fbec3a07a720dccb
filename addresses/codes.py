"""全国地方公共団体コード, JIS X 0402 and postal codes: parsing and the check digit.

A local government code is the 5-digit JIS X 0402 code (2-digit prefecture, 3-digit
municipality) followed by a check digit: weigh the five digits 6, 5, 4, 3, 2, take
the sum modulo 11 and subtract it from 11; the check digit is the last digit of
the result (so a remainder of 0 gives 1 and a remainder of 1 gives 0).
"""

import re
import unicodedata
from enum import Enum

_WEIGHTS = (6, 5, 4, 3, 2)
_DIGITS = re.compile(r"[0-9]+")
# After NFKC and without spaces: 〒 and any dash people put between the parts.
_POSTAL = re.compile(r"〒?([0-9]{3})[-‐‑‒–—―−ー]?([0-9]{4})")
_SPACES = re.compile(r"\s+")
PREFECTURE_COUNT = 47


class CodeProblem(Enum):
    """Why a code given as input was refused."""

    EMPTY = "empty"
    MALFORMED = "malformed"
    CHECK_DIGIT = "check_digit"


def check_digit(jis_code: str) -> str:
    """The check digit of a 5-digit JIS X 0402 code."""
    if len(jis_code) != 5 or not jis_code.isascii() or not jis_code.isdigit():
        raise ValueError("a JIS X 0402 code has five digits")
    pairs = zip(jis_code, _WEIGHTS, strict=True)
    total = sum(int(digit) * weight for digit, weight in pairs)
    return str((11 - total % 11) % 10)


def with_check_digit(jis_code: str) -> str:
    """The 6-digit 全国地方公共団体コード of a 5-digit JIS X 0402 code."""
    return jis_code + check_digit(jis_code)


def _digits(raw: str) -> str:
    # NFKC turns full-width digits (１３１０４) into ASCII ones.
    return unicodedata.normalize("NFKC", raw).strip()


def parse_municipality_code(raw: str) -> str | CodeProblem:
    """The 6-digit code from 6 digits (check digit verified) or 5 (it is added)."""
    text = _digits(raw)
    if not text:
        return CodeProblem.EMPTY
    if _DIGITS.fullmatch(text) is None or len(text) not in (5, 6):
        return CodeProblem.MALFORMED
    if len(text) == 5:
        return with_check_digit(text)
    if check_digit(text[:5]) != text[5]:
        return CodeProblem.CHECK_DIGIT
    return text


def parse_prefecture_code(raw: str) -> str | CodeProblem:
    """The 2-digit prefecture code, 01 (北海道) to 47 (沖縄県)."""
    text = _digits(raw)
    if not text:
        return CodeProblem.EMPTY
    if (
        _DIGITS.fullmatch(text) is None
        or len(text) != 2
        or not 1 <= int(text) <= PREFECTURE_COUNT
    ):
        return CodeProblem.MALFORMED
    return text


def parse_postal_code(raw: str) -> str | CodeProblem:
    """The 7-digit postal code from ``1600023``, ``160-0023``, ``〒 160-0023`` or
    their full-width forms."""
    text = _SPACES.sub("", _digits(raw))
    if not text:
        return CodeProblem.EMPTY
    match = _POSTAL.fullmatch(text)
    if match is None:
        return CodeProblem.MALFORMED
    return match[1] + match[2]
