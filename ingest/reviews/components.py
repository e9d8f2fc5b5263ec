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

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from ingest.reviews.lexicons import GENERIC_NOUNS, Lexicon, get_lexicon
from ingest.reviews.normalise import AspectNormaliser
from ingest.reviews.pii import apply_spans, find_pii
from ingest.reviews.sentiment import LexiconScorer

__all__ = [
    "AspectMention",
    "AspectExtractor",
    "CatalogueRuler",
    "PIIScrubber",
    "SentimentComponent",
    "catalogue_key",
]

logger = logging.getLogger(__name__)

for _ext, _default in (
    ("kg_aspects", None),
    ("kg_pii", None),
    ("kg_scrubbed", None),
    ("kg_sentiment", None),
    ("kg_route", None),
):
    if not Doc.has_extension(_ext):
        Doc.set_extension(_ext, default=_default)


@dataclass
class AspectMention:
    """One aspect-opinion pair found in a review."""

    aspect: str
    opinion: str
    start: int
    end: int
    sentiment: float | None = None


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
        self, nlp: Language, name: str, *, entities: Iterable[Mapping[str, str]] = (),
        max_tokens: int = 12, on_error: str = "warn",
    ) -> None:
        self.name = name
        self.on_error = on_error
        self.max_tokens = max_tokens
        self._stop = {w.casefold() for w in nlp.Defaults.stop_words}
        lex = get_lexicon(nlp.lang)
        # words that make a name "generic" ("Gift Card", "At Home"): such names need exact casing
        self._common = self._stop | set(lex.aspects) | GENERIC_NOUNS | {
            w + "s" for w in lex.aspects} | set(lex.opinions)
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
        except Exception as exc:  # noqa: BLE001
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

_NEG_WORD = {"en": "not", "de": "nicht", "fr": "pas", "es": "no"}
_TOO_WORD = {"en": "too", "de": "zu", "fr": "trop", "es": "demasiado"}
_CONJ = frozenset({"and", "&", ",", "und", "et", "y", "e", "or", "oder", "ou", "o"})


class AspectExtractor:
    """Aspect-opinion pairs from dependency arcs (parser route) or token rules (rules route)."""

    def __init__(
        self, nlp: Language, name: str, *, lang: str | None = None,
        synonyms: Mapping[str, str] | None = None, route: str = "auto", on_error: str = "warn",
    ) -> None:
        self.name = name
        self.lang = lang or nlp.lang
        self.lexicon: Lexicon = get_lexicon(self.lang)
        self.normalise = AspectNormaliser(synonyms=synonyms, lang=self.lang)
        if route not in ("auto", "parser", "rules"):
            raise ValueError(f"[E-KG-ROUTE] route must be auto, parser or rules, not {route!r}")
        self.route = route
        self.on_error = on_error
        # first words of multi-word lexicon aspects: cheap pre-check before trying n-grams
        self._starts = frozenset(a.split()[0] for a in self.lexicon.aspects)

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
        except Exception as exc:  # noqa: BLE001
            _on_error(self.name, doc, exc, self.on_error)
            found = []
        doc._.kg_aspects = found
        return doc

    # ---- shared helpers
    def _mention(self, words: list[str], lemmas: list[str] | None, opinion: str, start: int,
                 end: int) -> AspectMention | None:
        aspect = self.normalise(words, lemmas)
        if len(aspect) < 2 or aspect in GENERIC_NOUNS:
            return None
        return AspectMention(aspect=aspect, opinion=opinion.lower(), start=start, end=end)

    def _negated_text(self, negated: bool, word: str, too: bool = False) -> str:
        """Opinion text: ``[negator] [too] word`` in the language's own words, lower-case."""
        parts = [_NEG_WORD.get(self.lang, "not")] if negated else []
        if too:
            parts.append(_TOO_WORD.get(self.lang, "too"))
        parts.append(word.lower())
        return " ".join(parts)

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
        return any(c.dep_ == "advmod" and c.lower_ == _TOO_WORD.get(self.lang) for c in tok.children)

    def _parser(self, doc: Doc, blocked: set[int]) -> list[AspectMention]:
        out: list[AspectMention] = []

        def add(noun: Token, opinion: str) -> None:
            asp = self._aspect_of(noun, blocked)
            if asp is None:
                return
            m = self._mention(asp[0], asp[1], opinion, asp[2], asp[3])
            if m is not None:
                out.append(m)

        for t in doc:
            if t.i in blocked:
                continue
            if t.dep_ == "amod" and t.pos_ == "ADJ" and self._evaluative(t):
                add(t.head, self._negated_text(self._is_negated(t), t.text, self._too(t)))
            elif t.dep_ in ("acomp", "oprd") and t.pos_ == "ADJ":
                head = t.head
                adjs = [t] + [c for c in t.children if c.dep_ == "conj" and c.pos_ == "ADJ"]
                neg = self._is_negated(head, t)
                for subj in self._subjects(head):
                    for adj in adjs:
                        add(subj, self._negated_text(neg, adj.text, self._too(adj)))
            elif t.dep_ == "advmod" and t.head.pos_ == "VERB" and self._evaluative(t):
                neg = self._is_negated(t.head)
                for subj in self._subjects(t.head):
                    add(subj, self._negated_text(neg, t.text, self._too(t)))
            elif t.pos_ == "VERB" and t.tag_ == "VBN" and self._evaluative(t):
                neg = self._is_negated(t)
                for subj in (c for c in t.children if c.dep_ == "nsubjpass"):
                    add(subj, self._negated_text(neg, t.text))
            elif t.pos_ == "VERB" and self._evaluative(t):
                neg = self._is_negated(t)
                for obj in (c for c in t.children if c.dep_ == "dobj"):
                    add(obj, self._negated_text(neg, t.text))
        return self._dedupe(out)

    # ---- rules route
    def _candidate(self, tok: Token, blocked: set[int]) -> bool:
        """A token that may be an unknown aspect noun (English only, no POS available)."""
        low = tok.lower_
        if tok.i in blocked or not tok.is_alpha or len(low) < 3 or tok.is_stop:
            return False
        if self.lexicon.aspect_form([low]):
            return True
        if self.lang != "en":
            return False
        if self.lexicon.is_opinion(low) or low in GENERIC_NOUNS or low in self.lexicon.modifiers:
            return False
        if low.endswith(("ly", "ed", "ing", "est", "ful", "ous", "ive", "able")):
            return False
        if tok.is_title and not tok.is_sent_start:  # names, brands
            return False
        return True

    def _lexicon_spans(self, sent: Span, blocked: set[int], low: list[str],
                       alpha: list[bool]) -> dict[int, tuple[int, str]]:
        """start token -> (end token, lexicon form) for lexicon aspects, longest first."""
        spans: dict[int, tuple[int, str]] = {}
        starts = self._starts
        i = sent.start
        while i < sent.end:
            hit = None
            if alpha[i] and i not in blocked and (low[i] in starts or self.lexicon.aspect_form([low[i]])):
                for n in range(min(self.lexicon.max_aspect_words, sent.end - i), 0, -1):
                    if not all(alpha[k] and k not in blocked for k in range(i, i + n)):
                        continue
                    form = self.lexicon.aspect_form(low[i : i + n])
                    if form:
                        hit = (i + n, form)
                        break
            if hit:
                spans[i] = hit
                i = hit[0]
            else:
                i += 1
        return spans

    def _rules(self, doc: Doc, blocked: set[int]) -> list[AspectMention]:
        lex = self.lexicon
        out: list[AspectMention] = []
        sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        low = [t.lower_ for t in doc]
        alpha = [t.is_alpha for t in doc]
        for sent in sents:
            lspans = self._lexicon_spans(sent, blocked, low, alpha)
            covered = {k for s, (e, _) in lspans.items() for k in range(s, e)}
            paired: set[int] = set()  # aspect start tokens that found an opinion

            def is_op(k: int) -> bool:
                t = doc[k]
                return (k not in blocked and k not in covered and t.is_alpha
                        and lex.is_opinion(t.lower_) and t.lower_ not in lex.modifiers)

            def aspect_at(k: int, forward: bool) -> tuple[int, int] | None:
                """Token range of the aspect starting (forward) or ending (backward) at k."""
                if forward:
                    if k in lspans:
                        return k, lspans[k][0]
                    if k < sent.end and self._candidate(doc[k], blocked):
                        end = k + 1
                        if end < sent.end and end in lspans and lspans[end][0] == end + 1:
                            end += 1  # "<unknown> card" compound
                        elif end < sent.end and self._candidate(doc[end], blocked) and end + 1 < sent.end \
                                and not doc[end + 1].is_alpha:
                            end += 1  # two unknown words closing a clause: "great battery life."
                        return k, end
                    return None
                for s, (e, _) in lspans.items():
                    if e - 1 == k:
                        return s, e
                if k >= sent.start and self._candidate(doc[k], blocked):
                    s = k
                    if k - 1 >= sent.start and self._candidate(doc[k - 1], blocked) and self.lang == "en" \
                            and not doc[k - 1].is_sent_start:
                        s = k - 1
                    return s, k + 1
                return None

            def emit(span: tuple[int, int], opinion: str) -> None:
                s, e = span
                words = [t.text for t in doc[s:e]]
                m = self._mention(words, None, opinion, doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text))
                if m is not None:
                    out.append(m)
                    paired.add(s)

            for k in range(sent.start, sent.end):
                if not is_op(k):
                    continue
                neg = any(
                    doc[j].lower_ in lex.negators or doc[j].lower_ == "n't"
                    for j in range(max(sent.start, k - 3), k)
                )
                too = k - 1 >= sent.start and doc[k - 1].lower_ == _TOO_WORD.get(self.lang)
                opinion = self._negated_text(neg, doc[k].text, too)
                # (a) opinion + aspect: "fast delivery", "great battery life"
                j = k + 1
                while j < sent.end and (doc[j].lower_ in lex.modifiers or doc[j].lower_ in lex.determiners):
                    j += 1
                span = aspect_at(j, forward=True) if j < sent.end else None
                if span is not None:
                    emit(span, opinion)
                    continue
                # (b) aspect + copula + [neg/modifiers] + opinion(s): "the battery life is not great"
                j = k - 1
                while j >= sent.start and (doc[j].lower_ in lex.modifiers or doc[j].lower_ in lex.negators
                                           or doc[j].lower_ == "n't" or is_op(j) or doc[j].lower_ in _CONJ):
                    j -= 1
                if j > sent.start and doc[j].lower_ in lex.copulas:
                    span = aspect_at(j - 1, forward=False)
                    if span is not None:
                        emit(span, opinion)
                        continue
            # (c) lexicon aspects without an opinion yet: nearest opinion in the same clause
            for s, (e, _) in lspans.items():
                if s in paired:
                    continue
                best = None
                for k in list(range(e, min(sent.end, e + 4))) + list(range(s - 1, max(sent.start, s - 4) - 1, -1)):
                    lo, hi = (e, k) if k >= e else (k + 1, s)
                    if any(doc[x].is_punct or doc[x].lower_ in lex.breakers for x in range(lo, hi)):
                        continue
                    if is_op(k) and (best is None or abs(k - s) < abs(best - s)):
                        best = k
                if best is not None:
                    neg = any(doc[x].lower_ in lex.negators or doc[x].lower_ == "n't"
                              for x in range(max(sent.start, best - 3), best))
                    too = best - 1 >= sent.start and doc[best - 1].lower_ == _TOO_WORD.get(self.lang)
                    emit((s, e), self._negated_text(neg, doc[best].text, too))
        return self._dedupe(out)


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
        self.scorer = LexiconScorer(lang or nlp.lang)
        self.on_error = on_error

    def __call__(self, doc: Doc) -> Doc:
        try:
            text = doc._.kg_scrubbed if doc._.kg_scrubbed is not None else doc.text
            doc._.kg_sentiment = self.scorer.score(text) if text.strip() else None
            for m in doc._.kg_aspects or ():
                m.sentiment = self.scorer.score(m.opinion)
        except Exception as exc:  # noqa: BLE001
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
