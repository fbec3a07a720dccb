"""Romanised names and the search keys of kanji, kana and romaji.

Japan Post's data carries every name in kanji and katakana. The romanised form is
made from the katakana by ``jaconv`` (Hepburn) and written the way Japan Post's
romanised list and road signs write place names: no macrons, long vowels
shortened (チュウオウ → Chuo, トウキョウ → Tokyo), and the administrative suffix
hyphenated (Shinjuku-ku, Yaeyama-gun Yonaguni-cho, Tokyo-to).

Search keys fold the ways people type one name into one string, applied to the
stored names and to the query alike: NFKC (full-width letters and half-width
katakana), hiragana to katakana, ヶ to ケ; for romaji, Kunrei spellings to Hepburn
(si/shi, tyu/chu, zi/ji: towards Hepburn, so that a Hepburn prefix typed so far,
"sh" or "ch", stays a prefix), macrons, long vowels (ou/oo/o, uu/u), IME
doubling (nn) and m/n before b and p (Shimbashi/Shinbashi).
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

import jaconv

QUERY_MAX = 64

_SUFFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "都": (("ト", "to"),),
    "府": (("フ", "fu"),),
    "県": (("ケン", "ken"),),
    "市": (("シ", "shi"),),
    "区": (("ク", "ku"),),
    "郡": (("グン", "gun"),),
    "町": (("チョウ", "cho"), ("マチ", "machi")),
    "村": (("ソン", "son"), ("ムラ", "mura")),
}
_LONG_VOWELS = (("ou", "o"), ("oo", "o"), ("uu", "u"))
# Kunrei (and Nihon-shiki) to Hepburn, and common slips. Hepburn itself never
# has si, ti, tu, zi, di, sy, ty, zy, dy, or hu but in chu and shu, so its
# spellings pass unchanged.
_TO_HEPBURN = tuple(
    (re.compile(pattern), spelling)
    for pattern, spelling in (
        ("sy", "sh"),
        ("ty", "ch"),
        ("[zdj]y", "j"),
        ("(?<=[sc]h)y", ""),
        ("si", "shi"),
        ("ti", "chi"),
        ("tu", "tsu"),
        ("(?<![cs])hu", "fu"),
        ("[zd]i", "ji"),
        ("cch", "tch"),
        ("nn", "n"),
        # ン before b, p or m, in the older spelling (Shimbashi, Sammu); and the
        # passport's "oh" for a long o (Ohta). Hepburn keys have neither.
        ("m(?=[bpm])", "n"),
        ("oh(?=[^aeiouy]|$)", "o"),
    )
)
# Katakana pairs that jaconv spells letter by letter (ティ as "tei").
_SMALL_VOWEL_PAIRS = {
    "ティ": "ti",
    "ディ": "di",
    "トゥ": "tu",
    "ドゥ": "du",
    "ジェ": "je",
    "チェ": "che",
    "シェ": "she",
    "ウィ": "wi",
    "ウェ": "we",
    "ウォ": "wo",
    "ヂャ": "ja",
    "ヂュ": "ju",
    "ヂョ": "jo",
    "・": " ",
}
_PAIRS = re.compile("|".join(_SMALL_VOWEL_PAIRS))
_NOT_LETTER = re.compile(r"[^a-z]")
_ROMAJI_INPUT = re.compile(r"[A-Za-z][A-Za-z '\-.]*")
_KANA_INPUT = re.compile(r"[ァ-ヴー ]+")
# Kanji (unified, extension A, compatibility, extensions B and later), kana and
# the marks place names use.
_NAME_INPUT = re.compile(
    r"[一-鿿㐀-䶿豈-﫿\U00020000-\U0003134F々〆ヶヵぁ-ゖァ-ヴー・ ]+"
)
_DIGITS_INPUT = re.compile(r"[0-9]+")


def _shorten_long_vowels(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        for long, short in _LONG_VOWELS:
            text = text.replace(long, short)
    return text


def hepburn(kana: str) -> str:
    """Lower-case Hepburn of katakana or hiragana, long vowels as written; digits
    and letters in the text (Japan Post writes them full-width) become ASCII."""
    text = jaconv.hira2kata(unicodedata.normalize("NFKC", kana)).replace("ー", "")
    text = _PAIRS.sub(lambda pair: _SMALL_VOWEL_PAIRS[pair[0]], text)
    text = jaconv.kana2alphabet(jaconv.kata2hira(text)).lower()
    # jaconv spells ッチ "cchi" and a final ッ "xtsu"; Hepburn writes "tchi" and
    # has no letter for a glottal stop at the end.
    return text.replace("cch", "tch").replace("xtsu", "")


def romanise(kana: str) -> str:
    """The romanised word: Hepburn, long vowels shortened, capitalised."""
    return _shorten_long_vowels(hepburn(kana)).capitalize()


@dataclass(frozen=True, slots=True)
class NamePart:
    """One administrative unit of a name: 札幌市 / サッポロシ."""

    name: str
    kana: str

    def romaji(self) -> str:
        """``Sapporo-shi``; a part whose reading does not end in its suffix's
        reading is romanised whole."""
        for reading, suffix in _SUFFIXES.get(self.name[-1:], ()):
            stem = self.kana.removesuffix(reading)
            if stem and stem != self.kana:
                return f"{romanise(stem)}-{suffix}"
        return romanise(self.kana)


def romanise_parts(parts: list[NamePart]) -> str:
    """``Sapporo-shi Chuo-ku`` from its parts."""
    return " ".join(part.romaji() for part in parts)


def name_key(text: str) -> str:
    """Names, readings and queries in kanji or kana: NFKC, kana as full-width
    katakana (さいたま市 and サイタマ市 alike), small ヶ/ヵ as written in Japan
    Post's data, no spaces."""
    folded = jaconv.hira2kata(unicodedata.normalize("NFKC", text))
    folded = folded.replace("ヶ", "ケ").replace("ヵ", "カ")
    return folded.replace(" ", "")


def _strip_marks(text: str) -> str:
    """Tōkyō → Tokyo: Latin letters without their diacritics."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def romaji_key(text: str) -> str:
    """Romaji names and queries folded to one spelling (see the module's notes)."""
    folded = _NOT_LETTER.sub("", _strip_marks(text).lower())
    for pattern, spelling in _TO_HEPBURN:
        folded = pattern.sub(spelling, folded)
    return _shorten_long_vowels(folded)


def kana_romaji_key(kana: str) -> str:
    """The romaji key of a name given in kana."""
    return romaji_key(hepburn(kana))


class QueryKind(Enum):
    """Which written form a search query is in."""

    CODE = "code"
    ROMAJI = "romaji"
    KANA = "kana"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class Query:
    """A search query folded to the key of its kind, and another key it may be
    on its way to (typing Tamba, "tam" may become "tanb")."""

    kind: QueryKind
    key: str
    alternative: str | None = None


class QueryProblem(Enum):
    """Why a search query was refused."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CHARACTERS = "characters"


def parse_query(raw: str) -> Query | QueryProblem:
    """Digits search codes; Latin letters romaji; kana the readings; anything
    else of kanji and kana the names. Other characters are refused, which also
    keeps SQL ``LIKE`` wildcards out."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return QueryProblem.EMPTY
    if len(text) > QUERY_MAX:
        return QueryProblem.TOO_LONG
    if _DIGITS_INPUT.fullmatch(text):
        return Query(QueryKind.CODE, text)
    if _ROMAJI_INPUT.fullmatch(_strip_marks(text)):
        key = romaji_key(text)
        if not key:
            return QueryProblem.CHARACTERS
        # A final m may be an ン whose b, p or m is not typed yet.
        alternative = key[:-1] + "n" if key.endswith("m") else None
        return Query(QueryKind.ROMAJI, key, alternative)
    kana = name_key(text)
    if _KANA_INPUT.fullmatch(kana):
        return Query(QueryKind.KANA, kana)
    if _NAME_INPUT.fullmatch(text):
        return Query(QueryKind.NAME, name_key(text))
    return QueryProblem.CHARACTERS


def romanise_town(kana: str) -> str:
    """A town name from its reading; Japan Post lists a few towns together,
    separated by 、."""
    return ", ".join(romanise(part) for part in kana.split("、") if part)
