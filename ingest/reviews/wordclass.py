"""Which words can be aspects: word classes of one language from its own lemma data.

Aspects are nouns. Where no tagger says what a token is, the language's ``spacy-lookups-data``
tables do, best source first:

1. **part-of-speech lists**: the rule lemmatizer's ``lemma_index``/``lemma_exc`` (noun, verb, adj,
   adv, pron, det: en, es, fr, nl, ca, el, fa, mk) or the per-class lookup tables
   ``lemma_lookup_<class>`` (it, pl). A word listed as a noun is noun-like; one listed only in
   another class is not.
2. **paradigm size**: otherwise the plain ``lemma_lookup`` (pt, de, ...) maps every inflected form
   to its lemma. Verbs (and adjectives) have far more forms than nouns (Portuguese ``receber``: 58
   forms; ``loja``: 5), so a lemma with at least half as many forms as the language's most-inflected
   lemmas (the median of its top 5 %) is a verb/adjective paradigm, and its forms (``recebi`` ->
   ``receber``) are not aspects. The threshold comes from the table itself: no per-language
   constant.
3. nothing: every word may be a noun (the caller's other tests still apply).

:meth:`WordClasses.lemma` also looks a capitalised word up in lower case, so a sentence-initial
verb ("Recebi o produto") gets its lemma (the lookup lemmatizer is case-sensitive).

Example:
    >>> wc = word_classes("pt")
    >>> wc.noun_like("recebi"), wc.noun_like("prazo"), wc.lemma("Comprei")
    (False, True, 'comprar')
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

from kg.ingest.reviews.blank import _lookups, lemma_table_available

__all__ = ["WordClasses", "word_classes"]

logger = logging.getLogger(__name__)

#: part-of-speech classes that are never aspects (lists of the rule lemmatizer's tables)
_NOT_NOUN = ("verb", "aux", "adj", "adv", "pron", "det", "adp", "num", "part")
#: fine tags of nouns used as adverbs or counters (Sudachi, the Japanese tokenizer's POS)
_ADVERBIAL_TAGS = ("副詞可能", "助数詞可能")
#: jieba tags of names (people, places, organisations: shop and platform names are entities, not aspects)
_NAME_TAGS = ("nr", "ns", "nt")


def _noun_tag(tag: str) -> bool:
    """A jieba dictionary tag of a common noun (n, ng, nz, ...) or a nominal verb/adjective (vn, an)."""
    return (tag.startswith("n") and not tag.startswith(_NAME_TAGS)) or tag in ("vn", "an")


@dataclass(frozen=True)
class WordClasses:
    """Noun test and lemma fallback of one language (see the module doc)."""

    lang: str
    source: str = "none"  # "pos" | "tags" | "paradigm" | "none"
    nouns: tuple[Container[str], ...] = ()
    others: tuple[Container[str], ...] = ()
    paradigms: Container[str] = frozenset()
    lookup: Mapping[str, str] | None = None
    tags: Mapping[str, str] | None = None  # word -> dictionary POS tag (jieba's for Chinese)

    def lemma(self, text: str) -> str | None:
        """The lemma of ``text``, tried as written and in lower case (None if the table lacks both)."""
        if self.lookup is None:
            return None
        for key in (text, text.lower()):
            lemma = self.lookup.get(key)
            if isinstance(lemma, str) and lemma:  # a few tables hold lists for some forms
                return lemma
        return None

    @staticmethod
    def tagged_noun(pos: str, tag: str) -> bool:
        """Whether a tagger's token (coarse ``pos``, fine ``tag``) is a noun that may be an aspect: not
        an adverb- or counter-like noun (Japanese Sudachi tags ``名詞-普通名詞-副詞可能``: 以外, 今回;
        ``助数詞可能``: 通り)."""
        return pos == "NOUN" and not any(t in tag for t in _ADVERBIAL_TAGS)

    def noun_like(self, word: str, lemma: str | None = None) -> bool:
        """Whether ``word`` (lower case; ``lemma`` its lemma) may be a noun by the language's data."""
        lemma = lemma or self.lemma(word) or word
        if self.source == "pos":  # the word's own class first ("bought": a verb form), then its lemma's
            for w in (word, lemma):
                if any(w in c for c in self.nouns):
                    return True
                if any(w in c for c in self.others):
                    return False
            return True
        if self.source == "tags" and self.tags is not None:
            tag = self.tags.get(word)
            return tag is None or _noun_tag(tag)
        if self.source == "paradigm":
            return lemma not in self.paradigms and word not in self.paradigms
        return True


def _table(lang: str, name: str) -> Any:
    """One ``spacy-lookups-data`` table (a spaCy ``Table``: string lookups, hashed keys), or None."""
    if name == "lemma_lookup" and lemma_table_available(lang):
        return _lookups(lang).get_table("lemma_lookup")  # the lemmatizer's own copy, loaded once
    try:
        from spacy.lookups import load_lookups

        lookups = load_lookups(lang, [name], strict=False)
    except (ImportError, ValueError):  # spacy-lookups-data missing, or no table for the language
        return None
    table = lookups.get_table(name) if lookups.has_table(name) else None
    return table or None  # strict=False adds an empty table for a missing one


def _pos_lists(lang: str) -> tuple[list[Container[str]], list[Container[str]]] | None:
    """(noun containers, other classes' containers) from the POS-keyed tables, or None without them."""
    index, exc = _table(lang, "lemma_index"), _table(lang, "lemma_exc")
    if index is not None:  # {class: [lemmas]} (+ irregular forms {class: {form: [lemmas]}})
        nouns: set[str] = set(index.get("noun") or ())
        other = {w for c in _NOT_NOUN for w in index.get(c) or ()}
        if exc is not None:
            nouns.update(exc.get("noun") or {})
            other.update(w for c in _NOT_NOUN for w in exc.get(c) or {})
        return [nouns], [other]
    noun_table = _table(lang, "lemma_lookup_noun")  # per-class lookups {form: lemma}: forms and lemmas
    if noun_table is None:
        return None
    others: list[Container[str]] = []
    for c in _NOT_NOUN:
        table = _table(lang, f"lemma_lookup_{c}")
        if table is not None:
            others += [table, frozenset(table.values())]
    return [noun_table, frozenset(noun_table.values())], others


def _jieba_tags() -> Mapping[str, str] | None:
    """jieba's dictionary part-of-speech tags (word -> tag), or None without jieba."""
    try:
        import jieba.posseg
    except ImportError:
        return None
    table = getattr(jieba.posseg.dt, "word_tag_tab", None)
    return table if isinstance(table, dict) and table else None


def _paradigms(lookup: Mapping[str, str]) -> frozenset[str]:
    """Lemmas with at least half as many forms as the median of the table's top 5 % (verbs, adjectives)."""
    forms = Counter(lookup.values())
    sizes = sorted(forms.values())
    if len(sizes) < 100:
        return frozenset()
    top = sizes[-max(1, len(sizes) // 20) :]
    threshold = max(3, top[len(top) // 2] // 2)
    return frozenset(lemma for lemma, n in forms.items() if n >= threshold)


@functools.cache
def word_classes(lang: str) -> WordClasses:
    """The :class:`WordClasses` of ``lang``, built once per process from ``spacy-lookups-data``."""
    if lang == "zh":
        tags = _jieba_tags()
        if tags:
            logger.info("aspect word classes of 'zh': jieba's dictionary tags")
            return WordClasses(lang, "tags", tags=tags)
        return WordClasses(lang)
    lookup = _table(lang, "lemma_lookup")
    pos = _pos_lists(lang)
    if pos is not None:
        nouns, others = pos
        logger.info("aspect word classes of %r: part-of-speech lists", lang)
        return WordClasses(lang, "pos", tuple(nouns), tuple(others), lookup=lookup)
    if lookup:
        logger.info("aspect word classes of %r: paradigm sizes of the lemma table", lang)
        return WordClasses(lang, "paradigm", paradigms=_paradigms(lookup), lookup=lookup)
    return WordClasses(lang)
