"""Common passwords: zxcvbn's list of the 30,000 most frequent (MIT), ranked.

Kept by the zxcvbn project from leaked password sets; not typed by hand.
"""

import functools
import re

from zxcvbn.frequency_lists import FREQUENCY_LISTS

# What people write for letters; undone before looking a password up.
_UNLEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "l", "3": "e", "$": "s", "5": "s", "7": "t"}
)
_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")
_TRAILING = re.compile(r"[^a-z]+$")


@functools.cache
def _ranks() -> dict[str, int]:
    words = FREQUENCY_LISTS["passwords"]
    return {word: rank for rank, word in enumerate(words, start=1)}


def is_common(password: str, *, base_rank: int) -> bool:
    """Whether ``password`` is on the list (case ignored, with or without l33t),
    or is one of the ``base_rank`` most common with digits and symbols added
    around it ("Password1!", "!qwerty2026")."""
    ranks = _ranks()
    lowered = password.lower()
    unleeted = lowered.translate(_UNLEET)
    if lowered in ranks or unleeted in ranks:
        return True
    # Strip the edges before and after undoing l33t: "P@ssw0rd1!" loses "1!"
    # only before ("1" would become "l"), "@dmin2026!" its trailing digits
    # before and its "@" only after.
    stripped = _EDGES.sub("", lowered)
    bases = {
        stripped,
        _EDGES.sub("", stripped.translate(_UNLEET)),
        _EDGES.sub("", _TRAILING.sub("", lowered).translate(_UNLEET)),
        _EDGES.sub("", unleeted),
    }
    return any(ranks.get(base, base_rank + 1) <= base_rank for base in bases)
