"""spaCy components for review extraction, registered as factories.

========================  ==========================================================  ============
factory                   assigns                                                      needs
========================  ==========================================================  ============
``kg_pii_scrubber``       ``doc._.kg_pii`` (char spans), ``doc._.kg_scrubbed`` (text)   ``ner`` opt.
``kg_catalogue_ruler``    ``doc.spans["kg_catalogue"]`` (label Brand/Product/Category,  --
                          ``kb_id_`` = catalogue key)
``kg_aspects``            ``doc._.kg_aspects`` (list of :class:`AspectMention`),         parser opt.
                          ``doc._.kg_route`` ("parser" or "rules")
``kg_sentiment``          ``doc._.kg_sentiment`` and ``AspectMention.sentiment``         --
========================  ==========================================================  ============

``kg_aspects`` pairs aspects with opinions from dependency arcs when the pipeline has a parser
(amod; nsubj <- AUX/VERB -> acomp; nsubj <- VERB -> advmod; nsubjpass <- opinion participle;
opinion verb -> dobj) and otherwise from rules over plain tokens (opinion word + following
noun-like word; aspect + copula + [negation/modifiers] + opinion; lexicon aspect + nearest opinion
in the same clause).

Example:
    >>> import spacy
    >>> nlp = spacy.blank("en"); _ = nlp.add_pipe("sentencizer")
    >>> for name in ("kg_pii_scrubber", "kg_aspects", "kg_sentiment"):
    ...     _ = nlp.add_pipe(name)
    >>> [(m.aspect, m.opinion) for m in nlp("Fast delivery, the battery life is not great.")._.kg_aspects]
    [('delivery', 'fast'), ('battery life', 'not great')]
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from kg.ingest.reviews.lexicons import Lexicon, generic_nouns, get_lexicon
from kg.ingest.reviews.normalise import AspectNormaliser
from kg.ingest.reviews.pii import apply_spans, find_pii
from kg.ingest.reviews.sentiment import LexiconScorer
from kg.ingest.reviews.wordclass import WordClasses, word_classes

__all__ = [
    "AspectCandidate",
    "AspectMention",
    "AspectExtractor",
    "CatalogueRuler",
    "PIIScrubber",
    "SentimentComponent",
    "catalogue_key",
]

logger = logging.getLogger(__name__)

#: languages whose tokenizer lemmatises (Japanese: Sudachi) or that have no lookup lemmas in the pipeline
_OWN_LEMMAS = frozenset({"en", "ja", "zh"})

for _ext, _default in (
    ("kg_aspects", None),
    ("kg_candidates", None),
    ("kg_pii", None),
    ("kg_scrubbed", None),
    ("kg_sentiment", None),
    ("kg_route", None),
):
    if not Doc.has_extension(_ext):
        Doc.set_extension(_ext, default=_default)


@dataclass
class AspectMention:
    """One aspect-opinion pair found in a review (``aspect`` normalised, ``surface`` as written)."""

    aspect: str
    opinion: str
    start: int
    end: int
    sentiment: float | None = None
    surface: str = ""


@dataclass
class AspectCandidate:
    """A noun-like token of a review that may be an aspect (see :mod:`kg.ingest.reviews.discovery`)."""

    form: str  # lemma / lexicon form, lower-case
    surface: str
    start: int
    end: int
    opinion: str | None = None  # nearest opinion in the same clause, if any
    known: bool = False  # a lexicon/seed aspect of the language


def _on_error(component: str, doc: Doc, exc: Exception, mode: str) -> None:
    if mode == "raise":
        raise exc
    logger.warning("[W-KG-%s] %s failed on a %d-char text: %s", component, component, len(doc.text), exc)


def _pii_tokens(doc: Doc) -> set[int]:
    out: set[int] = set()
    for s, e, _ in doc._.kg_pii or ():
        span = doc.char_span(s, e, alignment_mode="expand")
        if span is not None:
            out.update(range(span.start, span.end))
    return out


# --------------------------------------------------------------------------- PII scrubber


class PIIScrubber:
    """Finds e-mails, URLs, phones, card-like digit runs, claim codes and (with NER) PERSON names."""

    def __init__(self, nlp: Language, name: str, *, on_error: str = "warn") -> None:
        self.name = name
        self.on_error = on_error

    def __call__(self, doc: Doc) -> Doc:
        try:
            spans = find_pii(doc.text)
            if doc.has_annotation("ENT_IOB"):
                spans += [(e.start_char, e.end_char, "PERSON") for e in doc.ents if e.label_ == "PERSON"]
            doc._.kg_pii = sorted(spans)
            doc._.kg_scrubbed = apply_spans(doc.text, spans)
        except Exception as exc:  # noqa: BLE001 - routed to the error handler
            _on_error(self.name, doc, exc, self.on_error)
            doc._.kg_pii = [(0, len(doc.text), "ERROR")]
            doc._.kg_scrubbed = ""
        return doc


@Language.factory(
    "kg_pii_scrubber",
    assigns=["doc._.kg_pii", "doc._.kg_scrubbed"],
    default_config={"on_error": "warn"},
)
def make_pii_scrubber(nlp: Language, name: str, on_error: str) -> PIIScrubber:
    return PIIScrubber(nlp, name, on_error=on_error)


# --------------------------------------------------------------------------- catalogue ruler

_KEY_DROP = re.compile(r"[\W_]+", re.UNICODE)


def catalogue_key(text: str) -> str:
    """Case- and spacing-insensitive matching key: lower-case alphanumerics only."""
    return _KEY_DROP.sub("", text.casefold())


class CatalogueRuler:
    """Matches catalogue names in text, tolerant to case, spacing and punctuation.

    Entities are dicts ``{"label": "Brand"|"Product"|"Category", "key": <graph key>, "name": str}``.
    A name matches a run of tokens whose concatenated :func:`catalogue_key` equals the name's key,
    so "Star bucks", "STARBUCKS" and "Starbucks" all match the brand "Starbucks". Names that are
    shorter than 3 characters are matched only with
    their exact catalogue casing, and so are names made only of common words (stop words, aspect
    and opinion words: "Gift Card", "At Home").
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        entities: Iterable[Mapping[str, str]] = (),
        max_tokens: int = 12,
        on_error: str = "warn",
    ) -> None:
        self.name = name
        self.on_error = on_error
        self.max_tokens = max_tokens
        self._stop = {w.casefold() for w in nlp.Defaults.stop_words}
        lex = get_lexicon(nlp.lang)
        # words that make a name "generic" ("Gift Card", "At Home"): such names need exact casing
        self._common = (
            self._stop | set(lex.aspects) | generic_nouns() | {w + "s" for w in lex.aspects} | set(lex.opinions)
        )
        self._index: dict[str, list[tuple[str, str, str, bool]]] = {}
        self._longest = 1
        self.add_entities(entities)

    def __len__(self) -> int:
        return sum(len(v) for v in self._index.values())

    def add_entities(self, entities: Iterable[Mapping[str, str]]) -> None:
        for ent in entities:
            name = (ent.get("name") or "").strip()
            key = catalogue_key(name)
            if len(key) < 2 or key.isdigit():
                continue
            generic = all(w.casefold() in self._common for w in name.split()) or len(key) < 3
            item = (str(ent["label"]), str(ent.get("key", name)), name, generic)
            bucket = self._index.setdefault(key, [])
            if item not in bucket:
                bucket.append(item)
            self._longest = min(self.max_tokens, max(self._longest, len(name.split()) + 3))

    def __call__(self, doc: Doc) -> Doc:
        spans: list[Span] = []
        try:
            if self._index:
                blocked = _pii_tokens(doc)
                keys = [catalogue_key(t.text) for t in doc]
                i, n = 0, len(doc)
                while i < n:
                    best = None
                    if keys[i] and i not in blocked:
                        acc = ""
                        for j in range(i, min(n, i + self._longest)):
                            if j in blocked or (j > i and doc[j].is_sent_start):
                                break
                            acc += keys[j]
                            if keys[j] and acc in self._index:
                                best = (j + 1, acc)
                    if best is None:
                        i += 1
                        continue
                    end, key = best
                    text = doc[i:end].text
                    for label, gkey, name, generic in self._index[key]:
                        if generic and " ".join(name.split()) != " ".join(text.split()):
                            continue
                        spans.append(Span(doc, i, end, label=label, kb_id=gkey))
                    i = end
        except Exception as exc:  # noqa: BLE001 - on_error decides: one review must not stop the batch
            _on_error(self.name, doc, exc, self.on_error)
            spans = []
        doc.spans["kg_catalogue"] = spans
        return doc


@Language.factory(
    "kg_catalogue_ruler",
    assigns=["doc.spans"],
    default_config={"entities": [], "max_tokens": 12, "on_error": "warn"},
)
def make_catalogue_ruler(
    nlp: Language, name: str, entities: list[dict[str, str]], max_tokens: int, on_error: str
) -> CatalogueRuler:
    return CatalogueRuler(nlp, name, entities=entities, max_tokens=max_tokens, on_error=on_error)


# --------------------------------------------------------------------------- aspects


def _pipeline_lang(nlp: Language) -> str:
    """The pipeline's language; "en" (the lexicons' default) for spaCy's bare base class, which has none."""
    return nlp.lang or "en"


class AspectExtractor:
    """Aspect-opinion pairs from dependency arcs (parser route) or token rules (rules route)."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        lang: str | None = None,
        synonyms: Mapping[str, str] | None = None,
        route: str = "auto",
        on_error: str = "warn",
    ) -> None:
        self.name = name
        self.lang = lang or _pipeline_lang(nlp)
        self.lexicon: Lexicon = get_lexicon(self.lang)
        self.normalise = AspectNormaliser(synonyms=synonyms, lang=self.lang)
        if route not in ("auto", "parser", "rules"):
            raise ValueError(f"[E-KG-ROUTE] route must be auto, parser or rules, not {route!r}")
        self.route = route
        self.on_error = on_error
        self._generic = generic_nouns()
        # first words of multi-word lexicon aspects: cheap pre-check before trying n-grams
        self._starts = frozenset(a.split()[0] for a in self.lexicon.aspects)
        self._stop = frozenset(w.lower() for w in nlp.Defaults.stop_words)
        lex = self.lexicon
        self._function_words = (
            lex.copulas | lex.negators | lex.modifiers | lex.breakers | lex.determiners | lex.conjunctions | self._stop
        )
        #: collect noun-like candidates for frequent-noun aspects (all languages but English,
        #: whose rules already take unknown nouns next to opinions)
        self.discover = self.lang != "en"

    def __call__(self, doc: Doc) -> Doc:
        route = self.route
        if route == "auto":
            route = "parser" if doc.has_annotation("DEP") else "rules"
        doc._.kg_route = route
        try:
            blocked = _pii_tokens(doc)
            for span in doc.spans.get("kg_catalogue", []):  # brands/products are entities, not aspects
                blocked.update(t.i for t in span if not self.lexicon.aspect_form([t.lower_]))
            found = self._parser(doc, blocked) if route == "parser" else self._rules(doc, blocked)
            doc._.kg_candidates = self._candidates(doc, blocked, found) if self.discover else []
        except Exception as exc:  # noqa: BLE001 - on_error decides: one review must not stop the batch
            _on_error(self.name, doc, exc, self.on_error)
            found = []
            doc._.kg_candidates = []
        doc._.kg_aspects = found
        return doc

    # ---- token forms
    def key(self, tok: Token) -> str:
        """Lexicon lookup form of a token: lower-case text, or its lemma when only that is known."""
        low = tok.lower_
        lem = tok.lemma_.lower() if tok.lemma_ else ""
        if not lem or lem == low or self.lexicon.aspect_form([low]) or self.lexicon.is_opinion(low):
            return low
        if self.lexicon.aspect_form([lem]) or self.lexicon.is_opinion(lem) or lem in self.lexicon.negators:
            return lem
        return low

    @functools.cached_property
    def words(self) -> WordClasses:
        """Word classes of the language from its lemma data (loaded on first use)."""
        return word_classes(self.lang)

    def lemma(self, tok: Token) -> str:
        """Lower-case lemma (lookup tables, Japanese tokenizer), else the lower-case text; a
        capitalised word the case-sensitive lookup missed ("Recebi") is looked up in lower case (not where
        nouns are capitalised: German "Gerät" is no form of "geraten")."""
        lemma = tok.lemma_ or tok.text
        if (
            lemma == tok.text
            and not tok.is_lower
            and not self.lexicon.nouns_capitalised
            and self.lang not in _OWN_LEMMAS
        ):
            lemma = self.words.lemma(tok.text) or lemma
        return lemma.lower()

    # ---- frequent-noun candidates (language-independent aspects)
    def _noun_like(self, tok: Token, form: str, blocked: set[int]) -> bool:
        lex = self.lexicon
        if tok.i in blocked or not tok.is_alpha or tok.lower_ in self._function_words or form in self._function_words:
            return False
        if len(form) < (2 if lex.joiner == "" else 3) or form in self._generic or lex.is_opinion(form):
            return False
        if tok.has_morph() or tok.pos_:  # a tagger (e.g. Japanese tokenizer) says what is a noun
            return self.words.tagged_noun(tok.pos_, tok.tag_)
        if lex.nouns_capitalised and not (tok.text[:1].isupper() and not tok.is_sent_start):
            return False
        if lex.verb_endings and form.endswith(lex.verb_endings):
            return False
        return self.words.noun_like(tok.lower_, form)  # verb forms, adjectives, pronouns by the lemma data

    def _nearest_opinion(self, doc: Doc, i: int, blocked: set[int]) -> str | None:
        sent = doc[i].sent if doc.has_annotation("SENT_START") else doc[:]
        best = None
        for k in [*range(i + 1, min(sent.end, i + 4)), *range(i - 1, max(sent.start, i - 3) - 1, -1)]:
            lo, hi = (i + 1, k) if k > i else (k + 1, i)
            if any(doc[x].is_punct or doc[x].lower_ in self.lexicon.breakers for x in range(lo, hi)):
                continue
            t = doc[k]
            if (
                k not in blocked
                and t.is_alpha
                and self.lexicon.is_opinion(self.key(t))
                and t.lower_ not in self.lexicon.modifiers
            ):
                best = k
                break
        if best is None:
            return None
        t = doc[best]
        return (t.text if self.lexicon.is_opinion(t.lower_) else self.key(t)).lower()

    def _candidates(self, doc: Doc, blocked: set[int], found: list[AspectMention]) -> list[AspectCandidate]:
        taken = {m.start for m in found}
        out: list[AspectCandidate] = []
        for tok in doc:
            if tok.idx in taken:
                continue
            known = self.lexicon.aspect_form([tok.lower_]) or self.lexicon.aspect_form([self.lemma(tok)])
            form = known or self.lemma(tok)
            if not known and not self._noun_like(tok, form, blocked):
                continue
            if tok.i in blocked:
                continue
            out.append(
                AspectCandidate(
                    form=form,
                    surface=tok.text,
                    start=tok.idx,
                    end=tok.idx + len(tok.text),
                    opinion=self._nearest_opinion(doc, tok.i, blocked),
                    known=bool(known),
                )
            )
        return out

    # ---- shared helpers
    def _mention(
        self, words: list[str], lemmas: list[str] | None, opinion: str, start: int, end: int, surface: str = ""
    ) -> AspectMention | None:
        aspect = self.normalise(words, lemmas)
        if len(aspect) < 2 or aspect in self._generic:
            return None
        return AspectMention(
            aspect=aspect,
            opinion=opinion.lower(),
            start=start,
            end=end,
            surface=surface or self.lexicon.joiner.join(words),
        )

    def _negated_text(self, negated: bool, word: str, too: bool = False) -> str:
        """Opinion text: ``[negator] [too] word`` in the language's own words, lower-case
        (``word + negator`` where the negator follows, as in Japanese)."""
        lex = self.lexicon
        if lex.negation_follows:
            return lex.joiner.join([word.lower(), *([lex.negation_word] if negated else [])])
        parts = [lex.negation_word] if negated else []
        if too:
            parts.append(lex.too_word)
        parts.append(word.lower())
        return lex.joiner.join(parts)

    @staticmethod
    def _dedupe(items: list[AspectMention]) -> list[AspectMention]:
        seen: set[tuple[str, str, int]] = set()
        out = []
        for m in sorted(items, key=lambda m: (m.start, m.aspect)):
            k = (m.aspect, m.opinion, m.start)
            if k not in seen:
                seen.add(k)
                out.append(m)
        return out

    # ---- parser route
    def _evaluative(self, tok: Token) -> bool:
        return self.lexicon.is_opinion(tok.lower_) and tok.lower_ not in self.lexicon.modifiers

    def _aspect_of(self, noun: Token, blocked: set[int]) -> tuple[list[str], list[str], int, int] | None:
        if noun.pos_ != "NOUN" or noun.i in blocked or not noun.is_alpha:
            return None
        comps: list[Token] = []
        for left in reversed(list(noun.lefts)):
            if left.dep_ == "compound" and left.pos_ == "NOUN" and left.i == (comps[0].i if comps else noun.i) - 1:
                if left.i in blocked:
                    break
                comps.insert(0, left)
        comps = comps[-2:]
        words = [t.text for t in comps] + [noun.text]
        lemmas = [t.lower_ for t in comps] + [noun.lemma_ or noun.lower_]
        start = (comps[0] if comps else noun).idx
        return words, lemmas, start, noun.idx + len(noun.text)

    @staticmethod
    def _subjects(head: Token) -> list[Token]:
        subs = [c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")]
        for s in list(subs):
            subs.extend(c for c in s.children if c.dep_ == "conj")
        return subs

    @staticmethod
    def _is_negated(*toks: Token) -> bool:
        return any(c.dep_ == "neg" for t in toks for c in t.children)

    def _too(self, tok: Token) -> bool:
        return any(c.dep_ == "advmod" and c.lower_ == self.lexicon.too_word for c in tok.children)

    def _arc_pairs(self, t: Token) -> list[tuple[Token, str]]:
        """(aspect noun, opinion text) pairs that the arcs around token ``t`` express."""
        if t.dep_ == "amod" and t.pos_ == "ADJ" and self._evaluative(t):
            return [(t.head, self._negated_text(self._is_negated(t), t.text, self._too(t)))]
        if t.dep_ in ("acomp", "oprd") and t.pos_ == "ADJ":
            adjs = [t] + [c for c in t.children if c.dep_ == "conj" and c.pos_ == "ADJ"]
            neg = self._is_negated(t.head, t)
            return [
                (subj, self._negated_text(neg, adj.text, self._too(adj)))
                for subj in self._subjects(t.head)
                for adj in adjs
            ]
        if t.dep_ == "advmod" and t.head.pos_ == "VERB" and self._evaluative(t):
            neg = self._is_negated(t.head)
            return [(subj, self._negated_text(neg, t.text, self._too(t))) for subj in self._subjects(t.head)]
        if t.pos_ == "VERB" and t.tag_ == "VBN" and self._evaluative(t):
            text = self._negated_text(self._is_negated(t), t.text)
            return [(c, text) for c in t.children if c.dep_ == "nsubjpass"]
        if t.pos_ == "VERB" and self._evaluative(t):
            text = self._negated_text(self._is_negated(t), t.text)
            return [(c, text) for c in t.children if c.dep_ == "dobj"]
        return []

    def _parser(self, doc: Doc, blocked: set[int]) -> list[AspectMention]:
        out: list[AspectMention] = []
        for t in doc:
            if t.i in blocked:
                continue
            for noun, opinion in self._arc_pairs(t):
                asp = self._aspect_of(noun, blocked)
                m = self._mention(asp[0], asp[1], opinion, asp[2], asp[3]) if asp else None
                if m is not None:
                    out.append(m)
        return self._dedupe(out)

    # ---- rules route
    def _candidate(self, tok: Token, blocked: set[int], low: str | None = None) -> bool:
        """A lexicon aspect, or (English only, no POS available) a token that may be an unknown aspect noun."""
        low = low or tok.lower_
        if tok.i in blocked or not tok.is_alpha or len(low) < (2 if self.lexicon.joiner == "" else 3):
            return False
        if self.lexicon.aspect_form([low]):
            return True
        if tok.is_stop:
            return False
        if self.lexicon.aspect_form([low]):
            return True
        if self.lang != "en":
            return False
        if self.lexicon.is_opinion(low) or low in self._generic or low in self.lexicon.modifiers:
            return False
        if low.endswith(("ly", "ed", "ing", "est", "ful", "ous", "ive", "able")):
            return False
        if tok.is_title and not tok.is_sent_start:  # names, brands
            return False
        return self.words.noun_like(low)  # verbs, adjectives, pronouns by the lemma data

    def _lexicon_spans(
        self, sent: Span, blocked: set[int], low: list[str], alpha: list[bool]
    ) -> dict[int, tuple[int, str]]:
        """start token -> (end token, lexicon form) for lexicon aspects, longest first."""
        spans: dict[int, tuple[int, str]] = {}
        i = sent.start
        while i < sent.end:
            hit = None
            if alpha[i] and i not in blocked and (low[i] in self._starts or self.lexicon.aspect_form([low[i]])):
                hit = self._longest_aspect(i, sent.end, blocked, low, alpha)
            if hit:
                spans[i] = hit
                i = hit[0]
            else:
                i += 1
        return spans

    def _longest_aspect(
        self, i: int, end: int, blocked: set[int], low: list[str], alpha: list[bool]
    ) -> tuple[int, str] | None:
        """(end token, lexicon form) of the longest lexicon aspect starting at token ``i``."""
        for n in range(min(self.lexicon.max_aspect_words, end - i), 0, -1):
            if not all(alpha[k] and k not in blocked for k in range(i, i + n)):
                continue
            form = self.lexicon.aspect_form(low[i : i + n])
            if form:
                return i + n, form
        return None

    def _rules(self, doc: Doc, blocked: set[int]) -> list[AspectMention]:
        sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        low = [t.lower_ for t in doc] if self.lang == "en" else [self.key(t) for t in doc]
        alpha = [t.is_alpha for t in doc]
        out: list[AspectMention] = []
        for sent in sents:
            spans = self._lexicon_spans(sent, blocked, low, alpha)
            out.extend(_SentenceRules(self, sent, blocked, spans, low).run())
        return self._dedupe(out)


class _SentenceRules:
    """The rules route over one sentence: each ``rule_*`` method is one pattern.

    (a) opinion + aspect ("fast delivery"); (b) aspect + copula + [negation/modifiers] + opinion
    ("the battery life is not great"); (c) a lexicon aspect still without an opinion takes the
    nearest opinion in the same clause.
    """

    def __init__(
        self, ext: AspectExtractor, sent: Span, blocked: set[int], spans: dict[int, tuple[int, str]], low: list[str]
    ) -> None:
        self.ext, self.lex, self.doc, self.sent = ext, ext.lexicon, sent.doc, sent
        self.low = low  # per token of the doc: lexicon lookup form
        self.blocked = blocked
        self.spans = spans  # lexicon aspects: start token -> (end token, form)
        self.covered = {k for s, (e, _) in spans.items() for k in range(s, e)}
        self.paired: set[int] = set()  # aspect start tokens that found an opinion
        self.out: list[AspectMention] = []

    def run(self) -> list[AspectMention]:
        fused = self.lex.joiner == ""
        for k in range(self.sent.start, self.sent.end):
            if fused and k not in self.blocked and k not in self.covered:
                self.rule_fused(k)
            if self.is_opinion(k):
                opinion = self.opinion_text(k)
                if not self.rule_opinion_then_aspect(k, opinion):
                    self.rule_aspect_copula_opinion(k, opinion)
        for s, (e, _) in self.spans.items():
            if s not in self.paired:
                self.rule_nearest_opinion(s, e)
        return self.out

    # -- token tests
    def is_opinion(self, k: int) -> bool:
        t = self.doc[k]
        return (
            k not in self.blocked
            and k not in self.covered
            and t.is_alpha
            and self.lex.is_opinion(self.low[k])
            and t.lower_ not in self.lex.modifiers
        )

    def is_negator(self, k: int) -> bool:
        low = self.doc[k].lower_
        return low in self.lex.negators or low == "n't" or self.low[k] in self.lex.negators

    def candidate(self, k: int) -> bool:
        return self.ext._candidate(self.doc[k], self.blocked, self.low[k])

    def opinion_text(self, k: int) -> str:
        """The opinion at token ``k`` with a negator up to 3 tokens before (or, where the language
        puts it after, up to 2 tokens after) and a "too" just before."""
        start = self.sent.start
        if self.lex.negation_follows:
            neg = any(self.is_negator(j) for j in range(k + 1, min(self.sent.end, k + 3)))
        else:
            neg = any(self.is_negator(j) for j in range(max(start, k - 3), k))
        too = k - 1 >= start and self.doc[k - 1].lower_ == self.lex.too_word
        tok = self.doc[k]
        word = tok.text if self.lex.is_opinion(tok.lower_) else self.low[k]
        return self.ext._negated_text(neg, word, too)

    # -- aspect spans
    def aspect_from(self, k: int) -> tuple[int, int] | None:
        """Token range of the aspect starting at ``k``."""
        if k in self.spans:
            return k, self.spans[k][0]
        end_of_sent = self.sent.end
        if k >= end_of_sent or not self.candidate(k):
            return None
        end = k + 1
        if end < end_of_sent and end in self.spans and self.spans[end][0] == end + 1:
            end += 1  # "<unknown> card" compound
        elif end + 1 < end_of_sent and self.candidate(end) and not self.doc[end + 1].is_alpha:
            end += 1  # two unknown words closing a clause: "great battery life."
        return k, end

    def aspect_until(self, k: int) -> tuple[int, int] | None:
        """Token range of the aspect ending at ``k``."""
        for s, (e, _) in self.spans.items():
            if e - 1 == k:
                return s, e
        if k < self.sent.start or not self.candidate(k):
            return None
        s = k
        if (
            k - 1 >= self.sent.start
            and self.ext.lang == "en"
            and self.candidate(k - 1)
            and not self.doc[k - 1].is_sent_start
        ):
            s = k - 1
        return s, k + 1

    def emit(self, span: tuple[int, int], opinion: str) -> None:
        s, e = span
        doc = self.doc
        lemmas = None
        if s in self.spans and self.spans[s][0] == e:
            lemmas = self.spans[s][1].split()  # the lexicon form ("Lieferungen" -> "lieferung")
        elif self.ext.lang != "en":
            lemmas = [self.low[k] for k in range(s, e)]
        m = self.ext._mention(
            [t.text for t in doc[s:e]],
            lemmas,
            opinion,
            doc[s].idx,
            doc[e - 1].idx + len(doc[e - 1].text),
            surface=doc[s:e].text,
        )
        if m is not None:
            self.out.append(m)
            self.paired.add(s)

    def rule_fused(self, k: int) -> None:
        """(d) languages written without spaces: one token glues aspect and opinion ("价格便宜")."""
        tok = self.doc[k]
        split = self.lex.split_fused(tok.text)
        if split is None:
            return
        aspect, opinion = split
        m = self.ext._mention([aspect], None, opinion, tok.idx, tok.idx + len(aspect), surface=aspect)
        if m is not None:
            self.out.append(m)

    # -- rules
    def rule_opinion_then_aspect(self, k: int, opinion: str) -> bool:
        """(a) "fast delivery", "great battery life": the aspect after the opinion (and modifiers)."""
        j = k + 1
        while j < self.sent.end and (
            self.doc[j].lower_ in self.lex.modifiers or self.doc[j].lower_ in self.lex.determiners
        ):
            j += 1
        span = self.aspect_from(j) if j < self.sent.end else None
        if span is not None:
            self.emit(span, opinion)
        return span is not None

    def rule_aspect_copula_opinion(self, k: int, opinion: str) -> bool:
        """(b) "the battery life is not great": aspect + copula + [neg/modifiers/opinions] + opinion."""
        j = k - 1
        while j >= self.sent.start and self._between_copula_and_opinion(j):
            j -= 1
        if j >= self.sent.start and self.lex.copula_optional and self.doc[j].lower_ not in self.lex.copulas:
            span = self.aspect_until(j)  # "配送很快": aspect right before [modifiers +] opinion
            if span is not None:
                self.emit(span, opinion)
            return span is not None
        if j <= self.sent.start or self.doc[j].lower_ not in self.lex.copulas:
            return False
        span = self.aspect_until(j - 1)
        if span is not None:
            self.emit(span, opinion)
        return span is not None

    def _between_copula_and_opinion(self, j: int) -> bool:
        low = self.doc[j].lower_
        return low in self.lex.modifiers or self.is_negator(j) or self.is_opinion(j) or low in self.lex.conjunctions

    def rule_nearest_opinion(self, s: int, e: int) -> None:
        """(c) lexicon aspect ``[s, e)`` without an opinion: nearest opinion within 3 tokens, same clause."""
        best = None
        after = range(e, min(self.sent.end, e + 4))
        before = range(s - 1, max(self.sent.start, s - 4) - 1, -1)
        for k in [*after, *before]:
            lo, hi = (e, k) if k >= e else (k + 1, s)
            if any(self.doc[x].is_punct or self.doc[x].lower_ in self.lex.breakers for x in range(lo, hi)):
                continue
            if self.is_opinion(k) and (best is None or abs(k - s) < abs(best - s)):
                best = k
        if best is not None:
            self.emit((s, e), self.opinion_text(best))


@Language.factory(
    "kg_aspects",
    assigns=["doc._.kg_aspects", "doc._.kg_route"],
    default_config={"lang": None, "synonyms": {}, "route": "auto", "on_error": "warn"},
)
def make_aspects(
    nlp: Language, name: str, lang: str | None, synonyms: dict[str, str], route: str, on_error: str
) -> AspectExtractor:
    return AspectExtractor(nlp, name, lang=lang, synonyms=synonyms, route=route, on_error=on_error)


# --------------------------------------------------------------------------- sentiment


class SentimentComponent:
    """Lexicon sentiment of the (scrubbed) review and of each aspect mention's opinion."""

    def __init__(self, nlp: Language, name: str, *, lang: str | None = None, on_error: str = "warn") -> None:
        self.name = name
        self.scorer = LexiconScorer(lang or _pipeline_lang(nlp))
        self.on_error = on_error

    def __call__(self, doc: Doc) -> Doc:
        try:
            text = doc._.kg_scrubbed if doc._.kg_scrubbed is not None else doc.text
            if not text.strip():
                doc._.kg_sentiment = None
            elif self.scorer.lang == "en":
                doc._.kg_sentiment = self.scorer.score(text)
            else:  # tokens (and lemmas) of the tokenizer: also right for unspaced languages
                blocked = _pii_tokens(doc)
                words = [[t.lower_, (t.lemma_ or t.text).lower()] for t in doc if t.i not in blocked]
                doc._.kg_sentiment = self.scorer.score_tokens(words)
            for m in doc._.kg_aspects or ():
                m.sentiment = self.scorer.score(m.opinion)
        except Exception as exc:  # noqa: BLE001 - on_error decides: one review must not stop the batch
            _on_error(self.name, doc, exc, self.on_error)
            doc._.kg_sentiment = None
        return doc


@Language.factory(
    "kg_sentiment",
    assigns=["doc._.kg_sentiment"],
    default_config={"lang": None, "on_error": "warn"},
)
def make_sentiment(nlp: Language, name: str, lang: str | None, on_error: str) -> SentimentComponent:
    return SentimentComponent(nlp, name, lang=lang, on_error=on_error)
