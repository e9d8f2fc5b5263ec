"""Per-language word lists for the rule-based extraction route and the lexicon sentiment.

The lists themselves are data, not code: ``ingest/reviews/data/lexicon_<lang>.json`` (plus
``generic_nouns.txt`` and ``synonyms.json``), read once on first use. They are deliberately short
and hand-checked: the rules route (``spacy.blank(lang)`` plus a sentencizer, no POS tags) can only
find aspects it knows or that sit in a clear pattern next to an opinion word, so these lists define
its recall. English opinion words come from the VADER lexicon (filtered, see the ``vader`` entry of
``lexicon_en.json``) plus the file's own domain valences; other languages use their file only.

This module depends on :mod:`ingest.reviews.wordlists` and :mod:`ingest.reviews.inflect` only;
:mod:`ingest.reviews.normalise` depends on it, never the other way round.

Example:
    >>> lex = get_lexicon("de")
    >>> lex.opinion_valence("schnelle")
    0.5
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ingest.reviews.inflect import singular
from ingest.reviews.wordlists import has_data, load_json, load_words

__all__ = [
    "LANGUAGES",
    "Lexicon",
    "default_synonyms",
    "domain_valence",
    "generic_nouns",
    "get_lexicon",
    "guess_language",
]

logger = logging.getLogger(__name__)

#: Languages with a rules lexicon (a ``data/lexicon_<lang>.json``). Other languages still run
#: (blank pipeline), with catalogue matching only and an empty opinion lexicon.
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es")


def generic_nouns() -> frozenset[str]:
    """Nouns too generic to be aspects in either route ("thing", "husband", "birthday", ...)."""
    return load_words("generic_nouns.txt")


def default_synonyms() -> dict[str, str]:
    """A fresh copy of the default aspect synonym map (variants and translations -> canonical)."""
    return dict(load_json("synonyms.json"))


def domain_valence() -> dict[str, float]:
    """English evaluative words VADER scores 0 but that carry polarity for shop aspects."""
    return dict(load_json("lexicon_en.json")["opinions"])


@dataclass(frozen=True)
class Lexicon:
    """Word lists for one language (all lower-case)."""

    lang: str
    opinions: Mapping[str, float]
    aspects: frozenset[str]
    copulas: frozenset[str] = frozenset()
    negators: frozenset[str] = frozenset()
    modifiers: frozenset[str] = frozenset()
    breakers: frozenset[str] = frozenset()
    determiners: frozenset[str] = frozenset()
    conjunctions: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    aspect_suffixes: tuple[str, ...] = ()
    negation_word: str = "not"
    too_word: str = "too"
    max_aspect_words: int = 3

    @classmethod
    def from_data(cls, lang: str, data: Mapping[str, Any], opinions: Mapping[str, float]) -> Lexicon:
        """A lexicon from the parsed ``lexicon_<lang>.json`` and its (final) opinion valences."""
        sets = {k: frozenset(data.get(k, ())) for k in
                ("copulas", "negators", "modifiers", "breakers", "determiners", "conjunctions")}
        return cls(
            lang=lang, opinions=dict(opinions), aspects=frozenset(data.get("aspects", ())), **sets,
            suffixes=tuple(data.get("suffixes", ())), aspect_suffixes=tuple(data.get("aspect_suffixes", ())),
            negation_word=data.get("negation_word", "not"), too_word=data.get("too_word", "too"),
        )

    def _variants(self, word: str, suffixes: tuple[str, ...]) -> list[str]:
        out = [word]
        for suf in suffixes:
            if word.endswith(suf) and len(word) - len(suf) >= 3:
                out.append(word[: -len(suf)])
        return out

    def opinion_valence(self, word: str) -> float | None:
        """Valence in [-1, 1] of an opinion word (inflections tolerated), or None."""
        for w in self._variants(word.lower(), self.suffixes):
            if w in self.opinions:
                return self.opinions[w]
        return None

    def is_opinion(self, word: str) -> bool:
        return self.opinion_valence(word) is not None

    def aspect_form(self, words: list[str]) -> str | None:
        """The lexicon form of a (multi-)word aspect, tolerating plural/inflection endings."""
        phrase = " ".join(w.lower() for w in words)
        if phrase in self.aspects:
            return phrase
        *head, last = [w.lower() for w in words]
        variants = self._variants(last, self.aspect_suffixes)[1:]
        if self.lang == "en":
            variants.insert(0, singular(last))
        for v in variants:
            cand = " ".join([*head, v])
            if cand in self.aspects:
                return cand
        return None


def _vader_opinions(data: Mapping[str, Any]) -> dict[str, float]:
    """VADER words as opinion valences in [-1, 1], filtered by the lexicon file's ``vader`` entry."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    cfg = data["vader"]
    exclude = frozenset(cfg.get("exclude", ()))
    scale, floor = float(cfg.get("scale", 4.0)), float(cfg.get("min_abs_valence", 0.0))
    return {
        w: max(-1.0, min(1.0, v / scale))
        for w, v in SentimentIntensityAnalyzer().lexicon.items()
        if w.isalpha() and abs(v) >= floor and w not in exclude
    }


def _opinions(data: Mapping[str, Any]) -> dict[str, float]:
    """The file's opinions, over VADER's when the file asks for it; aspect words never count."""
    out = _vader_opinions(data) if "vader" in data else {}
    out.update(data.get("opinions", {}))
    for aspect in data.get("aspects", ()):
        out.pop(aspect, None)
    return out


def _normal_lang(lang: str | None) -> str:
    return (lang or "en").lower().split("-")[0].split("_")[0]


@functools.cache
def get_lexicon(lang: str) -> Lexicon:
    """The :class:`Lexicon` for ``lang``; languages without a data file get an empty one."""
    lang = _normal_lang(lang)
    name = f"lexicon_{lang}.json"
    if lang not in LANGUAGES or not has_data(name):
        logger.info("no rules lexicon for language %r: catalogue entities only", lang)
        return Lexicon(lang=lang, opinions={}, aspects=frozenset())
    data = load_json(name)
    return Lexicon.from_data(lang, data, _opinions(data))


@functools.cache
def _stop_words(lang: str) -> frozenset[str]:
    try:
        mod = importlib.import_module(f"spacy.lang.{lang}.stop_words")
    except ImportError:
        return frozenset()
    return frozenset(mod.STOP_WORDS)


def guess_language(text: str, default: str, *, min_margin: int = 2) -> str:
    """Cheap stop-word vote among :data:`LANGUAGES`; returns ``default`` unless another wins clearly.

    Example:
        >>> guess_language("Die Lieferung war sehr schnell und der Preis ist gut.", "en")
        'de'
    """
    words = [w.strip(".,!?;:()\"'").lower() for w in text.split()]
    words = [w for w in words if w]
    if len(words) < 4:
        return default
    scores = {lang: sum(w in _stop_words(lang) for w in words) for lang in LANGUAGES}
    best = max(scores, key=lambda k: scores[k])
    base = scores.get(default, 0)
    if best != default and scores[best] >= base + min_margin and scores[best] >= 0.25 * len(words):
        return best
    return default
