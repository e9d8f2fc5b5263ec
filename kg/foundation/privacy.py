"""Privacy of people: pseudonymised user ids (raw ids never reach the graph) and PII scrubbing.

>>> p = Pseudonymiser(b"k" * 32)
>>> p.user_id("A31UBHTUUIFJUT") == p.user_id("A31UBHTUUIFJUT")
True
>>> scrub_text("Mail jane_smith99 at gmail dot com or call +44 7700 900123")
'Mail [EMAIL] or call [PHONE]'

:func:`scrub_text` needs no NLP pipeline: regexes for e-mails (also written "at"/"dot", "(at)",
"[at]"), URLs, phone numbers (international, national with a trunk 0, Chinese mobiles), card-like
digit runs and claim codes, plus a given-name gazetteer for "First Last" pairs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from kg.foundation.settings import Settings

__all__ = [
    "Pseudonymiser",
    "load_or_create_key",
    "PII_KINDS",
    "find_pii",
    "find_names",
    "apply_spans",
    "scrub_text",
    "given_names",
]

logger = logging.getLogger(__name__)


def load_or_create_key(settings: Settings) -> bytes:
    """The HMAC key: ``KG_PSEUDONYM_KEY`` if set, else ``KG_HOME/pseudonym.key`` (created once, mode 600)."""
    if settings.pseudonym_key is not None and settings.pseudonym_key.get_secret_value():
        return settings.pseudonym_key.get_secret_value().encode("utf-8")
    from kg.foundation.home import create_private, ensure_home

    path: Path = settings.home / "pseudonym.key"
    if not path.exists():
        ensure_home(settings)
        # atomic: when processes race, exactly one key is written and nobody reads a half-written file
        if create_private(path, secrets.token_hex(32)):
            logger.info("generated pseudonym key in %s", path)
    return path.read_text().strip().encode("utf-8")


class Pseudonymiser:
    """Keyed HMAC-SHA256 of raw user ids (hex, 32 chars = 128 bits)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Pseudonymiser:
        return cls(load_or_create_key(settings))

    def user_id(self, raw: str) -> str:
        """Pseudonym of a raw user id."""
        digest = hmac.new(self._key, str(raw).strip().encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:32]


# --------------------------------------------------------------------------- PII scrubbing
#
# Plain regexes plus a given-name gazetteer: no spaCy here, so the quarantine and any other
# foundation code can scrub text. ``kg.ingest.reviews`` adds NER PERSON spans on top when it has them.

_TLDS = (
    r"(?:com|net|org|edu|gov|info|biz|io|co|me|us|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|cz|pt|ie"
    r"|ca|au|nz|in|cn|jp|ru|br|mx|ar|za|eu|ly|app|dev|online|shop)"
)
_BRACKET_AT = r"(?:\s*[(\[{<]\s*(?i:at)\s*[)\]}>]\s*|\s*@\s*)"
_MARKED_LOCAL = r"[\w+-]*(?:[\d_+]|\.\w)[\w.+-]*"  # a digit, _, + or inner dot: jane_smith99, jo.doe
_MAIL_HOSTS = (
    r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|me|mac|gmx|web|mail"
    r"|proton|protonmail|yandex|qq|163|126|orange|free|btinternet|comcast|t-online|libero|wanadoo)"
)
_OBF_DOT = r"(?:\s*[(\[{<]\s*(?i:dot)\s*[)\]}>]\s*|\s+(?i:dot)\s+|\.)"
_PHONE_END = r"(?![\w.]?\d)"

# order matters: earlier kinds win on overlaps
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    # jane (at) example [dot] co [dot] uk, jane@example dot com
    (
        "EMAIL",
        re.compile(
            rf"(?<![\w.+-])[\w.+-]*\w{_BRACKET_AT}[\w-]+"
            rf"(?:{_OBF_DOT}[\w-]+)*{_OBF_DOT}(?i:{_TLDS})\b"
        ),
    ),
    # jane_smith99 at gmail dot com, jane at gmail dot com ("shopped at amazon dot com" is no address)
    (
        "EMAIL",
        re.compile(
            rf"(?<![\w.+-])(?:{_MARKED_LOCAL}\s+(?i:at)\s+[\w-]+"
            rf"|[\w.+-]*\w\s+(?i:at)\s+(?i:{_MAIL_HOSTS}))"
            rf"(?:{_OBF_DOT}[\w-]+)*{_OBF_DOT}(?i:{_TLDS})\b"
        ),
    ),
    ("URL", re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.I)),
    (
        "URL",
        re.compile(
            r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|info|biz|de|fr|es|uk|us|co|ly|me)"
            r"/[^\s<>\"']*",
            re.I,
        ),
    ),
    # international prefix first (+44 7700 900123, 0049 30 1234567): they would read as card runs
    ("PHONE", re.compile(rf"(?<![\w$+])(?:\+|00)[1-9]\d{{0,2}}(?:[\s.-]?\(?\d{{1,4}}\)?){{3,6}}{_PHONE_END}")),
    ("CARD", re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")),
    ("CODE", re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{4,}(?:-[A-Z0-9]{4,}){2,}\b")),
    (
        "PHONE",
        re.compile(
            r"(?<![\w$.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?\d{3,4}[\s.-]?|\d{2,4}[.-]\d{3,4}[.-]?)"
            r"\d{3,4}(?![\w.]\d)"
        ),
    ),
    # national numbers with a trunk 0 (07700900123, 020 7946 0958, 030 1234567)
    ("PHONE", re.compile(rf"(?<![\w$.+/-])0\d{{2,4}}[\s.-]?\d{{3,4}}[\s.-]?\d{{3,4}}{_PHONE_END}")),
    # Chinese mobiles (13812345678, 138 1234 5678)
    ("PHONE", re.compile(rf"(?<![\w$.+/-])1[3-9]\d[\s-]?\d{{4}}[\s-]?\d{{4}}{_PHONE_END}")),
]

PII_KINDS = ("EMAIL", "URL", "CARD", "CODE", "PHONE", "PERSON")

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
#: person names that are brands or titles in shop reviews; they stay text
_BRAND_NAMES = frozenset(
    " ".join(pair.split("+"))
    for pair in (
        "harry+potter calvin+klein ralph+lauren tommy+hilfiger michael+kors hugo+boss kate+spade "
        "jack+daniels johnnie+walker jim+beam tory+burch marc+jacobs vera+wang betty+crocker "
        "duncan+hines estee+lauder ben+jerry dolce+gabbana hello+kitty mickey+mouse minnie+mouse "
        "peppa+pig thomas+tank paul+mitchell john+frieda burt+bees martha+stewart rachael+ray "
        "sam+adams jimmy+choo steve+madden kenneth+cole anne+klein alex+ani eddie+bauer elizabeth+arden "
        "hans+grohe polly+pocket mary+poppins tom+thumb marcus+theatres marcus+theaters"
    ).split()
)
#: a given name after these words is part of a place or a business ("San Diego Zoo", "Red Robin Burgers")
_PLACE_PREFIXES = frozenset(
    "san santa santo são sao st saint sainte fort port mount mt lake red little big "
    "new north south east west la le los las el del de".split()
)


def _data_words(name: str, *, lower: bool) -> frozenset[str]:
    text = resources.files("kg.foundation").joinpath("data", name).read_text(encoding="utf-8")
    words = (line.strip() for line in text.splitlines())
    return frozenset(w.lower() if lower else w for w in words if w and not w.startswith("#"))


@functools.lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """The shipped given-name gazetteer (``kg/foundation/data/given_names.txt``), capitalised."""
    return _data_words("given_names.txt", lower=False)


@functools.lru_cache(maxsize=1)
def _not_surnames() -> frozenset[str]:
    return _data_words("not_surnames.txt", lower=True)


def _is_surname(word: str) -> bool:
    return (
        len(word) >= 2
        and word[0].isupper()
        and any(c.islower() for c in word[1:])
        and word.lower() not in _not_surnames()
    )


def find_names(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, "PERSON")`` spans of a given name from the gazetteer followed by a surname.

    A surname is a capitalised word that is not an everyday or shop word (``kg/foundation/data/not_surnames.txt``);
    one middle name or initial may sit between ("Jane Q. Smith", "Mary Ann Jones"). A lone first
    name ("thanks Jane") is not a match, nor are brand names of people ("Calvin Klein").
    """
    names = given_names()
    words = list(_WORD.finditer(text))
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words) - 1:
        if (
            words[i].group() in names
            and not _after_place_prefix(text, words, i)
            and (j := _surname_index(text, words, i)) is not None
            and f"{words[i].group()} {words[j].group()}".lower() not in _BRAND_NAMES
        ):
            spans.append((words[i].start(), words[j].end(), "PERSON"))
            i = j + 1
        else:
            i += 1
    return spans


def _after_place_prefix(text: str, words: list[re.Match[str]], i: int) -> bool:
    """True when ``words[i]`` follows a capitalised place or business prefix ("San", "Fort", "Red")."""
    if i == 0 or not _is_gap(text, words[i - 1].end(), words[i].start()):
        return False
    before = words[i - 1].group()
    return before[0].isupper() and before.lower().rstrip(".") in _PLACE_PREFIXES


def _surname_index(text: str, words: list[re.Match[str]], i: int) -> int | None:
    """Index of the surname that follows the given name ``words[i]``, or None."""
    j = i + 1
    if not _is_gap(text, words[i].end(), words[j].start()):
        return None
    k = j + 1
    if k < len(words):
        middle = words[j].group()
        initial = len(middle) == 1 and middle.isupper()
        gap_start = words[j].end() + (1 if initial and text.startswith(".", words[j].end()) else 0)
        if (
            (initial or middle in given_names())
            and _is_gap(text, gap_start, words[k].start())
            and _is_surname(words[k].group())
        ):
            return k
    return j if _is_surname(words[j].group()) else None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _is_gap(text: str, start: int, end: int) -> bool:
    """True when only one to three spaces or tabs separate two words (no punctuation, no newline)."""
    gap = text[start:end]
    return 1 <= len(gap) <= 3 and not gap.strip(" \t")


def find_pii(text: str, *, names: bool = True) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, kind)`` character spans of regex- and gazetteer-detectable PII."""
    spans: list[tuple[int, int, str]] = []
    candidates = [(kind, m.span()) for kind, pat in _PATTERNS for m in pat.finditer(text)]
    if names:
        candidates += [("PERSON", (s, e)) for s, e, _ in find_names(text)]
    for kind, (s, e) in candidates:
        if s == e or any(s < e2 and s2 < e for s2, e2, _ in spans):
            continue
        spans.append((s, e, kind))
    return sorted(spans)


def apply_spans(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """Replace each span by ``[KIND]`` (overlapping spans are merged, first kind wins)."""
    out: list[str] = []
    pos = 0
    for s, e, kind in sorted(spans):
        if s < pos:
            if e > pos:
                pos = e
            continue
        out.append(text[pos:s])
        out.append(f"[{kind}]")
        pos = e
    out.append(text[pos:])
    return "".join(out)


def scrub_text(text: str, *, names: bool = True) -> str:
    """``text`` with e-mails, URLs, phones, card-like runs, claim codes and first+last names replaced
    by ``[EMAIL]``, ``[URL]``, ``[PHONE]``, ``[CARD]``, ``[CODE]``, ``[PERSON]``.

    >>> scrub_text("Write jane_smith99 at gmail dot com or call 07700 900123 - Jane Smith")
    'Write [EMAIL] or call [PHONE] - [PERSON]'
    """
    return apply_spans(text, find_pii(text, names=names))
