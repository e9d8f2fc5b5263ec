"""The claim checker: every generated sentence is checked against its subject's facts before it is stored.

A sentence passes when each entity it names (product, brand, category, aspect, segment) is one of the facts'
names, each number and date it states is one of the facts' figures (rounded as a writer would), it names no
other entity of the shop's catalogue, no capitalised name that is in neither, and it negates none of the facts::

    >>> from kg.profiles.text.facts import Facts
    >>> facts = Facts("user", "u1", ("bought 3 Starbucks gift cards",), {"brand": frozenset({"Starbucks"})},
    ...               numbers=frozenset({3.0}))
    >>> catalogue = Catalogue.from_names({"brand": ["Starbucks", "Costa"]})
    >>> [v.ok for v in check_text("She bought three Starbucks cards. She loves Costa.", facts, catalogue)]
    [True, False]
    >>> check_sentence("She never buys Starbucks.", facts, catalogue).problems
    ("negates brand 'Starbucks' ('never')",)

Rules chosen (and why):

* Names are matched on whole tokens, case and accents folded, possessives dropped; category, aspect and
  segment names also match in a light singular ("storage boxes" for "Storage box"). A category path
  ("Home > Storage") is also found by each of its parts ("Storage", "Home"); a fact path supports them all.
  The longest name wins; where a catalogue name is longer than what the facts cover ("Starbucks Coffee" the
  product, over the facts' brand "Starbucks" and category "Coffee"), the sentence passes when the facts'
  names (and common words) cover the whole span: one reading of it is true.
* A run of two or more words of a fact's name ("iPhone 15" of "Apple iPhone 15 Pro") counts as naming it,
  so a shortened product title passes and its digits are not figures.
* Catalogue names made only of :data:`~kg.profiles.text.normalise.COMMON_WORDS` ("Gift", "Home", "For Her")
  are not mentions when the sentence writes them in lower case (or as its first word).
* Invented names: a capitalised word not at the start of the sentence, not a common word, month, weekday
  or holiday, not in any fact line, and part of no catalogue or fact name, is an unsupported claim of kind
  ``"entity"`` (with the capitalised words next to it, as one name). So is a CamelCase word ("ZenPods")
  anywhere. German capitalises every noun: there only CamelCase words and words with digits count.
  Scripts without case (Chinese, Japanese) have no such check.
* Negation: facts only say what happened, so a fact's entity after a negation cue in the same clause
  ("never bought X", "is not interested in X", "doesn't like X", "no interest in X"), or followed by one
  ("X isn't her thing"), fails with "negates ...". Cues are English plus the shop language's where known
  (de, fr, es, it, pt, nl); other languages get the English cues only. This is conservative: "never misses
  a chance to buy X" fails too, and the template text takes its place.
* A sentence with no claims at all passes and is kept (``Verdict.grounded`` is False for it): whether a text
  with no grounded sentence is stored is the caller's decision.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kg.profiles.text.claims import Figure, date_supported, find_figures, number_supported
from kg.profiles.text.facts import ENTITY_KINDS, Facts
from kg.profiles.text.normalise import Token, is_common, name_keys, singular, tokens

__all__ = [
    "Catalogue",
    "Claim",
    "Mention",
    "Verdict",
    "check_sentence",
    "check_text",
    "kept_text",
    "split_sentences",
    "supported_share",
]

logger = logging.getLogger(__name__)

#: kinds whose names also match in a light singular ("storage boxes" for "Storage box")
LOOSE_KINDS = frozenset({"category", "aspect", "segment"})
#: separators of a category path ("Home > Storage", "Home / Storage", "Home › Storage")
_PATH = re.compile(r"\s*[>›»]\s*|\s+[/|]\s+")

_Candidate = tuple[str, str]  # (kind, name)

_NEGATION_CUES: dict[str, frozenset[str]] = {
    "en": frozenset("not never no none nothing neither nor without hardly barely cannot nobody".split()),
    "de": frozenset("nicht nie niemals kein keine keinen keinem keiner keines ohne weder".split()),
    "fr": frozenset("ne pas jamais aucun aucune sans ni rien".split()),
    "es": frozenset("no nunca jamas ningun ninguna ninguno sin tampoco ni".split()),
    "it": frozenset("non mai nessun nessuno nessuna senza ne".split()),
    "pt": frozenset("nao nunca nenhum nenhuma sem jamais".split()),
    "nl": frozenset("niet nooit geen zonder noch".split()),
}
_AUXILIARIES = frozenset("is are was were has have had does do did will would could can".split())
_CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014]")
_CLAUSE_WORDS = frozenset("but whereas although though however while".split())
_NEGATION_WINDOW = 6

#: capitalised words that are no one's name
_NOT_NAMES = frozenset(
    """january february march april may june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday christmas easter halloween thanksgiving valentine valentines
    black cyber boxing prime mother mothers father fathers year eve tv usb diy uk us usa eu ok pc dvd cd led hd
    uv ai vip faq pdf xl xxl""".split()
)
_CAMEL = re.compile(r"[a-z][A-Z]|[A-Za-z]\d|\d[A-Za-z]")
_NOUNS_CAPITALISED = frozenset({"de", "lb"})
_OPENERS = ':"“‘«(-–—•*'

_ABBREVIATIONS = frozenset(
    "e.g i.e eg ie vs mr mrs ms dr st no nr approx incl jr sr fig ca cf z.b bzw ggf usw p.ex".split()
)
_BOUNDARY = re.compile(r"[.!?…]+[\"”’')\]]*\s+|[。！？]+\s*|\n+")


@dataclass(frozen=True)
class Mention:
    """A catalogue name found in a text: its kind, the catalogue's own spelling, and where it is."""

    kind: str
    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Claim:
    """One atomic claim of a sentence: an entity it names, a number or a date it states, and whether the
    facts support it. ``kind`` is one of ENTITY_KINDS, ``"entity"`` (a name in neither the facts nor the
    catalogue), ``"number"`` or ``"date"``."""

    kind: str
    value: str
    supported: bool


@dataclass(frozen=True)
class Verdict:
    """What the checker found in one sentence; it may be stored when it has no problems."""

    sentence: str
    claims: tuple[Claim, ...]
    problems: tuple[str, ...]  # human-readable, e.g. "names brand 'Acme' not in the facts"

    @property
    def ok(self) -> bool:
        """Whether the sentence may be stored (no problems)."""
        return not self.problems

    @property
    def grounded(self) -> bool:
        """Whether the sentence may be stored and states at least one (supported) fact."""
        return self.ok and bool(self.claims)


class _Index:
    """Names by their token keys (and, for :data:`LOOSE_KINDS`, their singular keys), for longest match."""

    def __init__(self) -> None:
        self.exact: dict[tuple[str, ...], list[_Candidate]] = {}
        self.loose: dict[tuple[str, ...], list[_Candidate]] = {}
        self.longest_exact: dict[str, int] = {}  # first key -> longest name starting with it
        self.longest_loose: dict[str, int] = {}

    def add(self, keys: tuple[str, ...], candidate: _Candidate, loose: bool) -> None:
        """Index one spelling of a name."""
        if not keys:
            return
        _put(self.exact, self.longest_exact, keys, candidate)
        if loose:
            _put(self.loose, self.longest_loose, tuple(singular(k) for k in keys), candidate)

    def longest(self, keys: tuple[str, ...], looses: tuple[str, ...], i: int) -> tuple[int, list[_Candidate]]:
        """The longest name starting at token ``i``: its length in tokens (0 if none) and its candidates."""
        remaining = len(keys) - i
        for n in range(min(self.longest_exact.get(keys[i], 0), remaining), 0, -1):
            hit = self.exact.get(keys[i : i + n])
            if hit:
                found = (n, hit)
                break
        else:
            found = (0, [])
        for n in range(min(self.longest_loose.get(looses[i], 0), remaining), found[0], -1):
            hit = self.loose.get(looses[i : i + n])
            if hit:
                return n, hit
        return found

    def __len__(self) -> int:
        return len(self.exact)


def _put(
    table: dict[tuple[str, ...], list[_Candidate]],
    longest: dict[str, int],
    keys: tuple[str, ...],
    candidate: _Candidate,
) -> None:
    """Add ``candidate`` under ``keys`` once."""
    bucket = table.setdefault(keys, [])
    if candidate not in bucket:
        bucket.append(candidate)
    if longest.get(keys[0], 0) < len(keys):
        longest[keys[0]] = len(keys)


def _spellings(kind: str, name: str, parts: bool) -> Iterable[tuple[tuple[str, ...], str]]:
    """The spellings a name is found by, each with the name it stands for: a category path also by its
    leaf and, with ``parts``, by each ancestor path and its last part ("Home" for "Home > Storage")."""
    yield name_keys(name), name
    if kind != "category" or not _PATH.search(name):
        return
    steps = [s for s in _PATH.split(name) if s.strip()]
    yield name_keys(steps[-1]), name
    if parts:
        for end in range(1, len(steps)):
            ancestor = " > ".join(steps[:end])
            yield name_keys(ancestor), ancestor
            yield name_keys(steps[end - 1]), ancestor


def _build(names: Mapping[str, Iterable[str]], parts: bool) -> _Index:
    """An index of ``names`` (kind -> names)."""
    index = _Index()
    for kind, group in names.items():
        for name in group:
            for keys, stands_for in _spellings(kind, name, parts):
                index.add(keys, (kind, stands_for), kind in LOOSE_KINDS)
    return index


def _rank(candidate: _Candidate) -> int:
    """Order of kinds when one spelling names several entities (ENTITY_KINDS order, unknown kinds last)."""
    return ENTITY_KINDS.index(candidate[0]) if candidate[0] in ENTITY_KINDS else len(ENTITY_KINDS)


class Catalogue:
    """Every entity name of the shop, by kind, for finding the names a sentence mentions.

    >>> catalogue = Catalogue.from_names({"brand": ["Café Royal"], "category": ["Home > Storage"]})
    >>> [(m.kind, m.name) for m in catalogue.mentions("cafe royal pods and storage boxes")]
    [('brand', 'Café Royal'), ('category', 'Home > Storage')]
    """

    def __init__(self, index: _Index | None = None) -> None:
        """An empty catalogue (or one over a prepared index); build one with :meth:`from_names`."""
        self._index = index if index is not None else _Index()

    @classmethod
    def from_names(cls, names: Mapping[str, Iterable[str]]) -> Catalogue:
        """A catalogue of ``names`` (kind -> names); a category path is also found by each of its parts."""
        catalogue = cls(_build(names, parts=True))
        logger.debug("catalogue of %d spellings", len(catalogue._index))
        return catalogue

    def mentions(self, text: str) -> list[Mention]:
        """The catalogue names in ``text``: longest match first, not overlapping, case and accents folded."""
        found = []
        for span in _scan(text, tokens(text), (self._index,)):
            kind, name = min(span.candidates, key=_rank)
            found.append(Mention(kind, name, span.start, span.end))
        return found


@dataclass(frozen=True)
class _Span:
    """A name found in a sentence: its token range, character range, candidates, and which index found it."""

    first: int
    count: int
    start: int
    end: int
    candidates: tuple[_Candidate, ...]
    source: int  # position of the index that found it in the list scanned (0: the facts' own names)


def _ordinary(text: str, toks: Sequence[Token], first: int, count: int) -> bool:
    """Whether a found name is only common words written in lower case (or as the text's first word)."""
    if not all(is_common(t.key) for t in toks[first : first + count]):
        return False
    written = text[toks[first].start : toks[first + count - 1].end]
    return written == written.lower() or (first == 0 and written[1:] == written[1:].lower())


def _scan(text: str, toks: Sequence[Token], indexes: Sequence[_Index]) -> list[_Span]:
    """Longest, non-overlapping names of ``indexes`` in ``text``; on equal length the earlier index wins."""
    keys = tuple(t.key for t in toks)
    looses = tuple(t.loose for t in toks)
    spans, i = [], 0
    while i < len(toks):
        hits = [index.longest(keys, looses, i) for index in indexes]
        count = max(n for n, _ in hits)
        if not count:
            i += 1
            continue
        if _ordinary(text, toks, i, count):
            i += 1  # a real name may start inside it ("for Her Majesty")
            continue
        source = next(s for s, (n, _) in enumerate(hits) if n == count)
        spans.append(_Span(i, count, toks[i].start, toks[i + count - 1].end, tuple(hits[source][1]), source))
        i += count
    return spans


def _partial_index(facts: Facts) -> _Index:
    """Runs of two or more words of a fact's name, at least one of them neither common nor a number."""
    index = _Index()
    for kind, names in facts.entities.items():
        for name in names:
            keys = name_keys(name)
            for length in range(2, len(keys)):
                for first in range(len(keys) - length + 1):
                    run = keys[first : first + length]
                    if any(not is_common(k) and not k.isdigit() for k in run):
                        index.add(run, (kind, name), loose=False)
    return index


@dataclass(frozen=True)
class _Ground:
    """What a sentence is checked against: the facts, their names (whole and in part), the catalogue."""

    facts: Facts
    names: _Index
    partial: _Index
    catalogue: _Index
    vocabulary: frozenset[str]  # every token key of the facts' lines and names

    @classmethod
    def of(cls, facts: Facts, catalogue: Catalogue) -> _Ground:
        """The ground for checking sentences about ``facts``."""
        words = {t.key for line in facts.lines for t in tokens(line)}
        words |= {k for names in facts.entities.values() for name in names for k in name_keys(name)}
        return cls(facts, _build(facts.entities, parts=True), _partial_index(facts), catalogue._index, frozenset(words))


def _tiles(sentence: str, toks: Sequence[Token], span: _Span, ground: _Ground) -> list[_Span] | None:
    """The facts' names covering a catalogue name's span, with only common words in lower case between them
    ("Starbucks coffee" over brand "Starbucks" and category "Coffee"), or None when they cannot cover it."""
    end = span.first + span.count
    keys = tuple(t.key for t in toks[:end])
    looses = tuple(t.loose for t in toks[:end])
    tiles, i = [], span.first
    while i < end:
        n, hit = max(ground.names.longest(keys, looses, i), ground.partial.longest(keys, looses, i), key=_length)
        written = sentence[toks[i].start : toks[i].end]
        if n:
            tiles.append(_Span(i, n, toks[i].start, toks[i + n - 1].end, tuple(hit), 0))
            i += n
        elif is_common(keys[i]) and written == written.lower():
            i += 1
        else:
            return None
    return tiles


def _length(hit: tuple[int, list[_Candidate]]) -> int:
    """The length of an index hit."""
    return hit[0]


def _entity_spans(sentence: str, toks: Sequence[Token], ground: _Ground) -> list[_Span]:
    """The names in a sentence; source 0 or 1 (the facts' names, whole or in part) are supported, source 2
    (the catalogue) is not."""
    spans: list[_Span] = []
    for span in _scan(sentence, toks, (ground.names, ground.catalogue, ground.partial)):
        source = {0: 0, 1: 2, 2: 1}[span.source]
        tiles = _tiles(sentence, toks, span, ground) if source == 2 else None
        if tiles is None:
            spans.append(_Span(span.first, span.count, span.start, span.end, span.candidates, source))
        else:
            spans.extend(tiles)
    return spans


def _cues(language: str) -> frozenset[str]:
    """Negation cues for the shop language, always with the English ones."""
    return _NEGATION_CUES["en"] | _NEGATION_CUES.get(language.split("-")[0].lower(), frozenset())


def _is_cue(token: Token, cues: frozenset[str]) -> bool:
    """Whether a word negates (a cue word, an English "-n't" or a French "n'...")."""
    return token.key in cues or token.raw.endswith("n't") or token.raw.startswith("n'") or token.key == "dont"


def _negation(sentence: str, toks: Sequence[Token], span: _Span, taken: Sequence[_Span], cues: frozenset[str]) -> str:
    """The cue negating a name in its clause ("" if none): before it, or right after it ("X isn't ...")."""
    before_limit = max((s.first + s.count for s in taken if s.first < span.first), default=0)
    i = span.first - 1
    while i >= max(before_limit, span.first - _NEGATION_WINDOW):
        if _CLAUSE_BREAK.search(sentence[toks[i].end : toks[i + 1].start]) or toks[i].key in _CLAUSE_WORDS:
            break
        if _is_cue(toks[i], cues):
            return sentence[toks[i].start : toks[i].end]
        i -= 1
    after = list(toks[span.first + span.count : span.first + span.count + 2])
    if after and after[0].key in _AUXILIARIES and not _is_cue(after[0], cues):
        after = after[1:]
    if after and _is_cue(after[0], cues):
        gap = sentence[span.end : after[0].start]
        if not _CLAUSE_BREAK.search(gap):
            return sentence[after[0].start : after[0].end]
    return ""


def _sentence_start(sentence: str, token: Token, index: int) -> bool:
    """Whether a word opens the sentence (or a quote, a list item, the part after a colon)."""
    before = sentence[: token.start].rstrip()
    return index == 0 or not before or before[-1] in _OPENERS


def _name_like(word: str, language: str, at_start: bool) -> bool:
    """Whether a written word looks like (part of) a proper name."""
    if _CAMEL.search(word) and not word.isdigit():
        return True
    if at_start or language.split("-")[0].lower() in _NOUNS_CAPITALISED:
        return False
    return word[:1].isupper()


def _invented(sentence: str, toks: Sequence[Token], covered: set[int], ground: _Ground) -> list[str]:
    """Capitalised names that are neither in the facts nor in the catalogue (see the module's rules): runs of
    name-like words outside every name found, with at least one word that is not common, a month, a weekday,
    a holiday, or a word of the facts."""
    runs: list[list[int]] = []
    for i, token in enumerate(toks):
        word = sentence[token.start : token.end]
        if i in covered or not _name_like(word, ground.facts.language, _sentence_start(sentence, token, i)):
            continue
        if runs and runs[-1][-1] == i - 1 and not sentence[toks[i - 1].end : token.start].strip(" &-"):
            runs[-1].append(i)
        else:
            runs.append([i])
    return [
        sentence[toks[run[0]].start : toks[run[-1]].end] for run in runs if any(_unknown(toks[i], ground) for i in run)
    ]


def _unknown(token: Token, ground: _Ground) -> bool:
    """Whether a name-like word is none of the words a sentence may capitalise freely."""
    return not is_common(token.key) and token.key not in _NOT_NAMES and token.key not in ground.vocabulary


def _figure_claim(figure: Figure, facts: Facts) -> tuple[Claim, str]:
    """The claim a number or date makes and its problem ("" if supported)."""
    if figure.kind == "date":
        supported = date_supported(figure, facts.dates)
        if not supported and figure.year and not figure.month:
            supported = number_supported(figure, facts.numbers)
    else:
        supported = number_supported(figure, facts.numbers)
    problem = "" if supported else f"states {figure.kind} '{figure.value}' not in the facts"
    return Claim(figure.kind, figure.value, supported), problem


def _check(sentence: str, ground: _Ground) -> Verdict:
    """Check one sentence against a prepared ground."""
    toks = tokens(sentence)
    spans = _entity_spans(sentence, toks, ground)
    cues = _cues(ground.facts.language)
    found: list[tuple[int, Claim, str]] = []
    for span in spans:
        kind, name = min(span.candidates, key=_rank)
        if span.source == 2:
            found.append((span.start, Claim(kind, name, False), f"names {kind} '{name}' not in the facts"))
            continue
        cue = _negation(sentence, toks, span, spans, cues)
        problem = f"negates {kind} '{name}' ('{cue}')" if cue else ""
        found.append((span.start, Claim(kind, name, not cue), problem))
    skip = [(s.start, s.end) for s in spans]
    covered = {i for s in spans for i in range(s.first, s.first + s.count)}
    for figure in find_figures(sentence, ground.facts.language, skip):
        claim, problem = _figure_claim(figure, ground.facts)
        found.append((figure.start, claim, problem))
        covered |= {i for i, t in enumerate(toks) if figure.start <= t.start < figure.end}
    for name in _invented(sentence, toks, covered, ground):
        problem = f"names '{name}', which is neither in the facts nor in the catalogue"
        found.append((sentence.find(name), Claim("entity", name, False), problem))
    found.sort(key=lambda item: item[0])
    return Verdict(sentence, tuple(c for _, c, _ in found), tuple(p for _, _, p in found if p))


def check_sentence(sentence: str, facts: Facts, catalogue: Catalogue) -> Verdict:
    """Check one sentence against ``facts`` (see the module's rules)."""
    return _check(sentence, _Ground.of(facts, catalogue))


def check_text(text: str, facts: Facts, catalogue: Catalogue) -> list[Verdict]:
    """Check every sentence of ``text`` against ``facts``, in order."""
    ground = _Ground.of(facts, catalogue)
    return [_check(sentence, ground) for sentence in split_sentences(text)]


def _ends_sentence(text: str, boundary: re.Match[str]) -> bool:
    """Whether a candidate boundary really ends a sentence (not "e.g.", "Dr.", an initial, or before a
    lower-case word)."""
    mark = boundary.group()
    if "\n" in mark or mark.strip()[:1] in "。！？":
        return True
    following = text[boundary.end() : boundary.end() + 1]
    if following.islower():
        return False
    if mark.startswith(".") and not mark.startswith(".."):
        word = re.search(r"[\w.]*$", text[: boundary.start()])
        written = word.group().lower() if word else ""
        if written in _ABBREVIATIONS or (len(written) == 1 and written.isalpha()):
            return False
    return True


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: split after ., !, ?, … (and 。！？) and at line breaks, not after
    abbreviations ("e.g.", "Dr."), initials or inside numbers ("4.5 stars").

    >>> split_sentences("Rated 4.5 stars, e.g. by Dr. Who. Next one!")
    ['Rated 4.5 stars, e.g. by Dr. Who.', 'Next one!']
    """
    sentences, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        if _ends_sentence(text, boundary):
            piece = text[start : boundary.end()].strip()
            if piece:
                sentences.append(piece)
            start = boundary.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def kept_text(verdicts: Sequence[Verdict]) -> str:
    """The sentences that passed, joined with one space ("" if none)."""
    return " ".join(v.sentence for v in verdicts if v.ok)


def supported_share(verdicts: Sequence[Verdict]) -> float | None:
    """Supported claims over all claims of ``verdicts`` (None when they make no claim).

    Measure the raw model output with every verdict and the stored text with the kept ones only.
    """
    claims = [c for v in verdicts for c in v.claims]
    if not claims:
        return None
    return sum(c.supported for c in claims) / len(claims)
