"""Language-independent aspects: the frequent noun-like words of the shop's own reviews.

Hand-made rules exist for a few languages only. For every language (English aside, whose rules
already take unknown nouns next to opinion words) the ``kg_aspects`` component also lists each
review's noun-like tokens (:class:`~kg.ingest.reviews.components.AspectCandidate`: not a stop word,
opinion or function word; a NOUN where the tokenizer tags parts of speech; capitalised where the
language capitalises nouns), lemmatised. :class:`AspectDiscovery` counts in how many reviews of a
language each lemma occurs, and a candidate becomes an aspect mention when its lemma is

- a known aspect of the language (the seed list ``data/aspect_seeds.json`` or the rules lexicon), or
- frequent: in at least ``min_reviews`` reviews and ``min_share`` of the language's reviews so far,
  and not a word of a catalogue name (brands and product titles are entities, not aspects).

Where the language has an opinion lexicon, a candidate needs an opinion word in its clause (the
mention's opinion); where it has none, known aspects are kept with an empty opinion and their
sentiment is left to the review.

Example:
    >>> from kg.ingest.reviews.components import AspectCandidate as C
    >>> disc = AspectDiscovery(min_reviews=2)
    >>> docs = [[C("akku", "Akku", 0, 4, "gut")], [C("akku", "Akku", 4, 8, None)], [C("hund", "Hund", 0, 4, "gut")]]
    >>> disc.update("de", docs)
    >>> [[c.form for c in disc.select("de", d, need_opinion=True)] for d in docs]
    [['akku'], [], []]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kg.ingest.reviews.components import AspectCandidate

__all__ = ["AspectDiscovery"]


class AspectDiscovery:
    """Per-language review frequencies of candidate lemmas, and the choice of aspect mentions."""

    def __init__(self, *, min_reviews: int = 3, min_share: float = 0.004, exclude: Iterable[str] = ()) -> None:
        self.min_reviews = min_reviews
        self.min_share = min_share
        self.exclude = frozenset(w.casefold() for w in exclude)
        self.df: dict[str, Counter[str]] = {}
        self.reviews: Counter[str] = Counter()

    def update(self, lang: str, docs: Sequence[Sequence[AspectCandidate]]) -> None:
        """Count the candidates of a batch of reviews of ``lang`` (each lemma once per review)."""
        df = self.df.setdefault(lang, Counter())
        for cands in docs:
            df.update({c.form for c in cands})
        self.reviews[lang] += len(docs)

    def frequent(self, lang: str, form: str) -> bool:
        """Whether ``form`` is frequent enough in ``lang``'s reviews to be an aspect."""
        n = self.df.get(lang, Counter()).get(form, 0)
        return n >= max(self.min_reviews, self.min_share * self.reviews[lang]) and form not in self.exclude

    def vocabulary(self, lang: str, limit: int = 50) -> list[tuple[str, int]]:
        """The most frequent candidate lemmas of ``lang`` that qualify (for reports)."""
        df = self.df.get(lang, Counter())
        return [(f, n) for f, n in df.most_common() if self.frequent(lang, f)][:limit]

    def select(self, lang: str, cands: Sequence[AspectCandidate], *, need_opinion: bool) -> list[AspectCandidate]:
        """The candidates of one review that become aspect mentions (one per lemma)."""
        out, seen = [], set()
        for c in cands:
            if c.form in seen or (need_opinion and not c.opinion):
                continue
            if c.known or self.frequent(lang, c.form):
                seen.add(c.form)
                out.append(c)
        return out
