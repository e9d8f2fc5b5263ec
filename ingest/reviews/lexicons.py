"""Per-language word lists for the rule-based extraction route and the lexicon sentiment.

The lists themselves are data, not code: ``ingest/reviews/data/lexicon_<lang>.json`` (plus
``generic_nouns.txt`` and ``synonyms.json``), read once on first use. They are deliberately short
and hand-checked: the rules route (``spacy.blank(lang)`` plus a sentencizer, no POS tags) can only
find aspects it knows or that sit in a clear pattern next to an opinion word, so these lists define
its recall. English opinion words come from the VADER lexicon (filtered, see the ``vader`` entry of
``lexicon_en.json``) plus the file's own domain valences; other languages use their file only.

This module depends on :mod:`kg.ingest.reviews.wordlists` and :mod:`kg.ingest.reviews.inflect` only;
:mod:`kg.ingest.reviews.normalise` depends on it, never the other way round.

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
from dataclasses import dataclass, field
from typing import Any

from kg.ingest.reviews.inflect import singular
from kg.ingest.reviews.wordlists import has_data, load_json, load_words

__all__ = [
    "LANGUAGES",
    "Lexicon",
    "aspect_seeds",
    "default_synonyms",
    "domain_valence",
    "generic_nouns",
    "get_lexicon",
    "guess_language",
]

logger = logging.getLogger(__name__)

#: Languages with hand-made rules (a ``data/lexicon_<lang>.json``). Other languages still run
#: (blank pipeline): catalogue matching, their seed aspects (``data/aspect_seeds.json``) and the
#: language-independent frequent-noun aspects of :mod:`kg.ingest.reviews.discovery`.
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "zh", "ja")
#: Languages written without spaces between words (opinion texts are joined without a space).
UNSPACED: frozenset[str] = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})


def generic_nouns() -> frozenset[str]:
    """Nouns too generic to be aspects in either route ("thing", "husband", "birthday", ...)."""
    return load_words("generic_nouns.txt")


def default_synonyms() -> dict[str, str]:
    """A fresh copy of the default aspect synonym map (variants and translations -> canonical)."""
    return dict(load_json("synonyms.json"))


def aspect_seeds(lang: str) -> dict[str, str]:
    """Known shop aspects of ``lang``: ``{word: canonical English aspect}`` (empty if none)."""
    data = load_json("aspect_seeds.json")
    return dict(data.get(_normal_lang(lang), {}))


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
    #: intensifier / negation prefixes glued to opinion words (Chinese "很快", "不好")
    prefixes: tuple[str, ...] = ()
    negation_prefixes: tuple[str, ...] = ()
    negation_suffixes: tuple[str, ...] = ()
    #: "配送很快", "配送が早い": aspect + [particle/modifiers] + opinion needs no copula
    copula_optional: bool = False
    #: the negator follows the opinion (Japanese "良くない")
    negation_follows: bool = False
    #: nouns are capitalised (German): a cheap noun test without a tagger
    nouns_capitalised: bool = False
    #: infinitive / adverb endings (Romance languages): a lemma ending so is no noun-like aspect
    verb_endings: tuple[str, ...] = ()
    #: what joins opinion words ("" for languages written without spaces)
    joiner: str = " "
    _memo: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_data(cls, lang: str, data: Mapping[str, Any], opinions: Mapping[str, float]) -> Lexicon:
        """A lexicon from the parsed ``lexicon_<lang>.json`` and its (final) opinion valences."""

        def words(key: str) -> frozenset[str]:
            return frozenset(data.get(key, ()))

        aspects = frozenset(a.lower() for a in (*data.get("aspects", ()), *aspect_seeds(lang)))
        return cls(
            lang=lang,
            opinions=dict(opinions),
            aspects=aspects,
            copulas=words("copulas"),
            negators=words("negators"),
            modifiers=words("modifiers"),
            breakers=words("breakers"),
            determiners=words("determiners"),
            conjunctions=words("conjunctions"),
            suffixes=tuple(data.get("suffixes", ())),
            aspect_suffixes=tuple(data.get("aspect_suffixes", ())),
            negation_word=data.get("negation_word", "not"),
            too_word=data.get("too_word", "too"),
            prefixes=tuple(data.get("prefixes", ())),
            negation_prefixes=tuple(data.get("negation_prefixes", ())),
            negation_suffixes=tuple(data.get("negation_suffixes", ())),
            copula_optional=bool(data.get("copula_optional", False)),
            negation_follows=bool(data.get("negation_follows", False)),
            nouns_capitalised=bool(data.get("nouns_capitalised", False)),
            verb_endings=tuple(data.get("verb_endings", ())),
            joiner=data.get("joiner", "" if lang in UNSPACED else " "),
            max_aspect_words=max([3, *(len(a.split()) for a in aspects)]),
        )

    @property
    def has_rules(self) -> bool:
        """Whether the language has an opinion lexicon (hand-made rules)."""
        return bool(self.opinions)

    def _variants(self, word: str, suffixes: tuple[str, ...]) -> list[str]:
        out = [word]
        for suf in suffixes:
            if word.endswith(suf) and len(word) - len(suf) >= 3:
                out.append(word[: -len(suf)])
        return out

    def opinion_valence(self, word: str) -> float | None:
        """Valence in [-1, 1] of an opinion word (inflections, glued intensifiers and glued
        negations such as Chinese "很好" / "不好" tolerated), or None."""
        key = ("o", word)
        if key not in self._memo:
            if len(self._memo) > 200_000:
                self._memo.clear()
            self._memo[key] = self._valence(word)
        return self._memo[key]

    def _valence(self, word: str) -> float | None:
        w = word.lower()
        v = self._plain_valence(w)
        if v is not None or not (self.prefixes or self.negation_prefixes or self.negation_suffixes):
            return v
        for neg in self.negation_suffixes:
            if w.endswith(neg) and len(w) > len(neg):
                inner = self._plain_valence(w[: -len(neg)])
                if inner is not None:
                    return -inner
        for neg in self.negation_prefixes:
            if w.startswith(neg) and len(w) > len(neg):
                inner = self._valence(w[len(neg) :])
                if inner is not None:
                    return -inner
        for pre in self.prefixes:
            if w.startswith(pre) and len(w) > len(pre):
                inner = self._plain_valence(w[len(pre) :])
                if inner is not None:
                    return inner
        return None

    def _plain_valence(self, w: str) -> float | None:
        for v in self._variants(w, self.suffixes):
            if v in self.opinions:
                return self.opinions[v]
        return None

    def split_fused(self, word: str) -> tuple[str, str] | None:
        """(aspect, opinion) of one token that glues both (Chinese "价格便宜"), else None."""
        w = word.lower()
        for n in range(len(w) - 1, 0, -1):
            head, tail = w[:n], w[n:]
            if head in self.aspects and self.opinion_valence(tail) is not None:
                return head, tail
        return None

    def is_opinion(self, word: str) -> bool:
        return self.opinion_valence(word) is not None

    def aspect_form(self, words: list[str]) -> str | None:
        """The lexicon form of a (multi-)word aspect, tolerating plural/inflection endings."""
        key = ("a", "\x1f".join(words))
        if key not in self._memo:
            if len(self._memo) > 200_000:
                self._memo.clear()
            self._memo[key] = self._aspect_form(words)
        return self._memo[key]

    def _aspect_form(self, words: list[str]) -> str | None:
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
        logger.info("no rules lexicon for language %r: seed and frequent-noun aspects only", lang)
        seeds = frozenset(aspect_seeds(lang))
        return Lexicon(
            lang=lang,
            opinions={},
            aspects=seeds,
            joiner="" if lang in UNSPACED else " ",
            max_aspect_words=max([3, *(len(a.split()) for a in seeds)]),
        )
    data = load_json(name)
    return Lexicon.from_data(lang, data, _opinions(data))


_VOTE_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")


@functools.cache
def _stop_words(lang: str) -> frozenset[str]:
    try:
        mod = importlib.import_module(f"spacy.lang.{lang}.stop_words")
    except ImportError:
        return frozenset()
    return frozenset(mod.STOP_WORDS)


def guess_language(text: str, default: str, *, min_margin: int = 2) -> str:
    """Cheap stop-word vote among en/de/fr/es (the fallback when ``langid`` is missing); returns ``default``
    unless another wins clearly.

    Example:
        >>> guess_language("Die Lieferung war sehr schnell und der Preis ist gut.", "en")
        'de'
    """
    words = [w.strip(".,!?;:()\"'").lower() for w in text.split()]
    words = [w for w in words if w]
    if len(words) < 4:
        return default
    scores = {lang: sum(w in _stop_words(lang) for w in words) for lang in _VOTE_LANGUAGES}
    best = max(scores, key=lambda k: scores[k])
    base = scores.get(default, 0)
    if best != default and scores[best] >= base + min_margin and scores[best] >= 0.25 * len(words):
        return best
    return default
