"""Normalising words for matching: case, accents, apostrophes, simple plurals, and tokens with their spans.

Two spellings of a name match when their token keys match::

    >>> [t.key for t in tokens("Café Starbucks's")]
    ['cafe', 'starbucks']
    >>> singular("boxes"), singular("berries"), singular("glass")
    ('box', 'berry', 'glass')

Chinese, Japanese characters are one token each, so a name written in them is found anywhere inside a run of
text without spaces (a substring match on whole characters).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["COMMON_WORDS", "Token", "fold", "is_common", "key_of", "name_keys", "singular", "tokens"]

logger = logging.getLogger(__name__)

#: Han, kana and CJK compatibility ideographs: scripts written without spaces, one token per character
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*")

#: words so ordinary that a catalogue name made only of them ("Gift", "Home", "For Her") is not taken as a
#: mention when the sentence writes it in lower case; also never the start of an invented name
COMMON_WORDS: frozenset[str] = frozenset(
    """a about above after again against all also always am an and any are around as at away back be because
    been before being below best better between big both but by can could day did do does doing done down
    during each easy either even ever every everyday few first for from full further get go good great had has
    have having he her here hers herself him himself his home how i if in into is it its itself just kind last
    less like little lot made make many may me mine more most much must my myself new next nice no nor not now
    of off often old on once one only or other our ours out over own part per plus quite rather really regular
    same she should since so some such than that the their theirs them then there these they thing this those
    through to too top under until up us use very was way we well were what when where which while who whom
    why will with within without would yes yet you your yours
    accessory all-time basic bundle card choice classic collection deal essential everything extra favorite
    favourite gift item kit misc miscellaneous more other pack product purchase sale set shop shopping special
    stuff store stuffs variety value""".split()
)


@dataclass(frozen=True)
class Token:
    """One word of a text: ``key`` (folded, possessive dropped), ``loose`` (also singular), and where it is."""

    raw: str  # the folded word as written, apostrophes kept ("doesn't")
    key: str
    loose: str
    start: int
    end: int


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """``text`` case-folded with accents and compatibility forms removed (NFKD, combining marks dropped).

    >>> fold("Crème BRÛLÉE")
    'creme brulee'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().replace("’", "'")


def key_of(word: str) -> str:
    """The matching key of one folded word: a trailing possessive (``'s``, ``'``) and apostrophes dropped."""
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace("'", "")


@lru_cache(maxsize=200_000)
def singular(word: str) -> str:
    """A light English singular of a folded key, for category and aspect names (never a full stemmer)."""
    if len(word) <= 3 or not word.isalpha() or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def tokens(text: str) -> list[Token]:
    """The words of ``text`` with their character spans in ``text``."""
    found = []
    for match in _TOKEN.finditer(text):
        raw = fold(match.group())
        key = key_of(raw)
        if key:
            found.append(Token(raw, key, singular(key), match.start(), match.end()))
    return found


def name_keys(name: str) -> tuple[str, ...]:
    """The token keys of a name, without spans (the fast path for building an index of many names)."""
    return tuple(k for k in (key_of(w) for w in _TOKEN.findall(fold(name))) if k)


def is_common(key: str) -> bool:
    """Whether a token key is one of :data:`COMMON_WORDS` (in its singular form or as written)."""
    return key in COMMON_WORDS or singular(key) in COMMON_WORDS
