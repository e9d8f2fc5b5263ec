"""The figures a sentence states: numbers (digits, percentages, English number words) and dates, each with its
span and the precision it was written to, and whether the facts support it.

A number is supported when a fact rounds to it at the precision shown ("0.72", "72%" and "71.6%" for 0.7163;
"1,234" for 1234). "about", "around", "over", "under" and the like before a number allow rounding to its last
non-zero digit ("about 1,200" for 1234), in the direction the word says ("over 1,000" needs at least 1,000)::

    >>> [(f.kind, f.value) for f in find_figures("On 14 Jun 2024 she spent $1,234.50, about 72%.", "en")]
    [('date', '2024-06-14'), ('number', '1234.50'), ('number', '72%')]
    >>> number_supported(find_figures("about 72%", "en")[0], frozenset({0.7163}))
    True
    >>> date_supported(find_figures("in June 2024", "en")[0], frozenset({"2024-06-14"}))
    True

Digits glued to letters ("256GB", "4K", "B12") are not figures: they are parts of names and model numbers.
Month names are English only; ISO and numeric dates ("14.06.2024", "06/14/2024": either order) work in any
language. A year alone ("in 2024") is supported by a fact date in that year or by the number itself.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Figure", "date_supported", "find_figures", "number_supported"]

logger = logging.getLogger(__name__)

#: languages writing "12,5" for twelve and a half and "1.234" for a thousand two hundred and thirty-four
DECIMAL_COMMA = frozenset({"de", "fr", "es", "it", "pt", "nl", "da", "sv", "nb", "no", "fi", "pl", "cs", "ru", "tr"})

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_DATES = [
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<a>\d{1,2})[./](?P<b>\d{1,2})[./](?P<y>\d{4})\b"),
    re.compile(rf"\b(?P<d>\d{{1,2}}){_ORD}(?:\s+of)?\s+{_MONTH}(?:,?\s+(?P<y>\d{{4}})\b)?", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}}){_ORD}\b(?:,?\s+(?P<y>\d{{4}})\b)?", re.I),
    re.compile(rf"\b{_MONTH},?\s+(?P<y>\d{{4}})\b", re.I),
]
#: a month named alone, capitalised ("in March"); "May" only after a word that makes it a month
_BARE_MONTH = re.compile(
    r"(?:\b(?:in|since|during|until|till|by|of|early|late|mid|last|this|next|from)\s+)?"
    r"\b(?P<mon>January|February|March|April|May|June|July|August|September|October|November|December)\b"
)
_NUMBER_EN = r"\d{1,3}(?:[,\u00a0\u202f ]\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMBER_COMMA = r"\d{1,3}(?:[.\u00a0\u202f ]\d{3})+(?!\d)(?:,\d+)?|\d+(?:,\d+)?"
_NUMBER = (
    r"(?<![\w.,])(?P<sign>[-−])?[$€£¥]?(?P<num>{num})(?P<ord>st|nd|rd|th)?(?!\w)"
    r"(?:\s*(?P<pct>%|percent\b|per\s+cent\b|prozent\b|pour\s+cent\b|por\s+ciento\b|per\s+cento\b))?"
)
_NUMBERS = {
    False: re.compile(_NUMBER.format(num=_NUMBER_EN), re.I),
    True: re.compile(_NUMBER.format(num=_NUMBER_COMMA), re.I),
}
_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty"
).split()
_NUMBER_WORD = re.compile(r"\b(?P<w>" + "|".join(_WORDS) + r")\b", re.I)
#: "one" is a pronoun more often than a count: not a figure before these words or after these
_ONE_NOT_AFTER = re.compile(r"\b(?:the|this|that|each|every|any|no|which|another|a|favourite|favorite)\s+$", re.I)
_ONE_NOT_BEFORE = re.compile(r"^\s*(?:of|another|who|that|which|day)\b|^\s*[,.;:!?]|^\s*$", re.I)
_APPROX = re.compile(
    r"(?:\b(?:about|around|roughly|approximately|approx\.?|some|close\s+to|circa|ca\.|"
    r"etwa|ungefähr|environ|cerca\s+de|circa|ongeveer)|~)\s*$",
    re.I,
)
_AT_LEAST = re.compile(r"\b(?:over|more\s+than|above|at\s+least|upwards\s+of|north\s+of|exceeding)\s*$", re.I)
_AT_MOST = re.compile(r"\b(?:under|less\s+than|below|fewer\s+than|at\s+most|up\s+to|nearly|almost)\s*$", re.I)


@dataclass(frozen=True)
class Figure:
    """A number or a date as written in a sentence.

    For a number, ``number`` is its value, ``decimals`` the digits after the point (negative for an
    approximate round number: -2 for "about 1,200"), ``percent`` whether it is a percentage and ``bound``
    one of "", "approx", "at least", "at most". For a date, ``year``/``month``/``day`` are what it names
    (0 where it leaves a part out: "June 2024" has no day, "14 Jun" no year).
    """

    kind: str  # "number" or "date"
    value: str  # a readable form for claims: "1234.5", "72%", "2024-06-14", "--06-14", "2024-06", "2024"
    start: int
    end: int
    number: float = 0.0
    decimals: int = 0
    percent: bool = False
    bound: str = ""
    year: int = 0
    month: int = 0
    day: int = 0
    swappable: bool = False  # a numeric date whose day and month may be either way round


def _date_value(year: int, month: int, day: int) -> str:
    """The claim text of a (partial) date."""
    if year and month and day:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if year and month:
        return f"{year:04d}-{month:02d}"
    if month and day:
        return f"--{month:02d}-{day:02d}"
    if month:
        return f"--{month:02d}"
    return f"{year:04d}"


def _date(match: re.Match[str]) -> Figure | None:
    """The date a date pattern matched, or None when it names no real day or month."""
    parts = match.groupdict()
    year = int(parts.get("y") or 0)
    if parts.get("a"):
        day, month = int(parts["a"]), int(parts["b"])
        swappable = day <= 12 and month <= 12
        if month > 12 and day <= 12:
            day, month = month, day
    else:
        swappable = False
        month = _MONTHS[parts["mon"][:3].lower()] if parts.get("mon") else int(parts.get("m") or 0)
        day = int(parts.get("d") or 0)
    if not 1 <= month <= 12 or not 0 <= day <= 31:
        return None
    value = _date_value(year, month, day)
    return Figure("date", value, match.start(), match.end(), year=year, month=month, day=day, swappable=swappable)


def _find_dates(text: str) -> list[Figure]:
    """Every date in ``text``, earlier patterns first, none overlapping."""
    found: list[Figure] = []
    for pattern in _DATES:
        for match in pattern.finditer(text):
            figure = _date(match)
            if figure and not _overlaps(figure.start, figure.end, found):
                found.append(figure)
    for match in _BARE_MONTH.finditer(text):
        month = match.group("mon")
        if (month != "May" or match.start() != match.start("mon")) and match.start("mon") > 0:
            start, end = match.span("mon")
            if not _overlaps(start, end, found):
                number = _MONTHS[month[:3].lower()]
                found.append(Figure("date", _date_value(0, number, 0), start, end, month=number))
    return found


def _overlaps(start: int, end: int, spans: Iterable[Figure | tuple[int, int]]) -> bool:
    """Whether ``[start, end)`` overlaps any of ``spans``."""
    for span in spans:
        other = (span.start, span.end) if isinstance(span, Figure) else span
        if start < other[1] and other[0] < end:
            return True
    return False


def _bound(before: str) -> str:
    """The hedge the words before a number put on it ("approx", "at least", "at most" or "")."""
    if _AT_MOST.search(before):
        return "at most"
    if _APPROX.search(before):
        return "approx"
    if _AT_LEAST.search(before):
        return "at least"
    return ""


def _digits(match: re.Match[str], decimal_comma: bool, text: str) -> Figure:
    """The number a digit pattern matched (a plain four-digit number from 1900 to 2100 is a year)."""
    written = match.group("num")
    integer, _, fraction = written.partition("," if decimal_comma else ".")
    integer = re.sub(r"\D", "", integer)
    if match.group() == written and not fraction and len(integer) == 4 and 1900 <= int(integer) <= 2100:
        return Figure("date", integer, match.start(), match.end(), number=float(integer), year=int(integer))
    value = float(f"{integer}.{fraction}" if fraction else integer)
    if match.group("sign"):
        value = -value
    bound = _bound(text[max(0, match.start() - 24) : match.start()])
    decimals = len(fraction)
    if bound and not fraction and int(integer):
        decimals = -(len(integer) - len(integer.rstrip("0")))
    percent = bool(match.group("pct"))
    shown = f"{value:.{len(fraction)}f}" if fraction else str(int(value))
    shown += "%" if percent else ""
    return Figure(
        "number", shown, match.start(), match.end(), number=value, decimals=decimals, percent=percent, bound=bound
    )


def _word(match: re.Match[str], text: str) -> Figure | None:
    """The number an English number word stands for, or None where "one" is a pronoun."""
    word = match.group("w").lower()
    if word == "one" and (
        _ONE_NOT_AFTER.search(text[: match.start()]) or _ONE_NOT_BEFORE.search(text[match.end() : match.end() + 12])
    ):
        return None
    value = _WORDS.index(word)
    bound = _bound(text[max(0, match.start() - 24) : match.start()])
    return Figure("number", str(value), match.start(), match.end(), number=float(value), bound=bound)


def find_figures(text: str, language: str = "en", skip: Iterable[tuple[int, int]] = ()) -> list[Figure]:
    """The numbers and dates of ``text`` in order, leaving out those inside the ``skip`` spans (names)."""
    skip = list(skip)
    found = [d for d in _find_dates(text) if not _overlaps(d.start, d.end, skip)]
    taken = skip + [(d.start, d.end) for d in found]
    base = language.split("-")[0].lower()
    for match in _NUMBERS[base in DECIMAL_COMMA].finditer(text):
        if not _overlaps(match.start("num"), match.end("num"), taken):
            found.append(_digits(match, base in DECIMAL_COMMA, text))
    if base == "en":
        for match in _NUMBER_WORD.finditer(text):
            figure = _word(match, text)
            if figure and not _overlaps(figure.start, figure.end, taken):
                found.append(figure)
    return sorted(found, key=lambda f: f.start)


def _matches(written: float, fact: float, decimals: int, bound: str) -> bool:
    """Whether ``fact`` rounded half away from zero to ``decimals`` places (under ``bound``) reads as ``written``."""
    half = 0.5 * 10.0 ** (-decimals)
    eps = 1e-9 * max(1.0, abs(fact))
    low, high = written - half, written + half
    inside = low - eps <= fact < high - eps if written >= 0 else low + eps < fact <= high + eps
    if not inside:
        return False
    if bound == "at least":
        return fact >= written - eps
    if bound == "at most":
        return fact <= written + eps
    return True


def number_supported(figure: Figure, numbers: Iterable[float]) -> bool:
    """Whether a number figure is one of ``numbers`` as a writer would round it (a share in [0, 1] may be
    written as a percentage; a year-like number may also be a fact date's year, see :func:`date_supported`)."""
    for fact in numbers:
        if not math.isfinite(fact):
            continue
        candidates = [fact, 100.0 * fact] if figure.percent and 0.0 <= abs(fact) <= 1.0 else [fact]
        if any(_matches(figure.number, c, figure.decimals, figure.bound) for c in candidates):
            return True
    return False


def date_supported(figure: Figure, dates: Iterable[str]) -> bool:
    """Whether a date figure names (a part of) one of the ISO ``dates``."""
    wanted = [(figure.year, figure.month, figure.day)]
    if figure.swappable:
        wanted.append((figure.year, figure.day, figure.month))
    for iso in dates:
        try:
            year, month, day = (int(part) for part in iso[:10].split("-"))
        except ValueError:
            logger.debug("fact date %r is not ISO yyyy-mm-dd", iso)
            continue
        for y, m, d in wanted:
            if (not y or y == year) and (not m or m == month) and (not d or d == day):
                return True
    return False
