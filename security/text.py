"""外字 (WZBAM011E) and the agency's field formats.

Allowed text is printable ASCII plus JIS X 0208 (levels 1 and 2). Anything else
(half-width katakana, machine-dependent characters such as ①, ㈱, ㍻, JIS levels
3-4, emoji, private use, control characters) is 外字. Windows (CP932) keyboards
produce a few characters whose Unicode code points differ from the JIS X 0208
mapping (～ for 〜, － for −, …); they are the same JIS characters, so they are
folded to the JIS mapping instead of being rejected.
"""

import re
import unicodedata

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
