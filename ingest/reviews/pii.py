"""PII detection and scrubbing for review text.

Regexes catch e-mail addresses, URLs, phone numbers, card-like digit runs and gift-card claim
codes; PERSON entities are added by the spaCy component when the pipeline has NER.

Example:
    >>> scrub("Mail me at jo.doe@example.com or call +1 (555) 123-4567")
    'Mail me at [EMAIL] or call [PHONE]'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["PII_KINDS", "find_pii", "scrub", "apply_spans"]

# order matters: earlier kinds win on overlaps
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("URL", re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.I)),
    (
        "URL",
        re.compile(
            r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|info|biz|de|fr|es|uk|us|co|ly|me)"
            r"/[^\s<>\"']*",
            re.I,
        ),
    ),
    ("CARD", re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")),
    ("CODE", re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{4,}(?:-[A-Z0-9]{4,}){2,}\b")),
    (
        "PHONE",
        re.compile(
            r"(?<![\w$.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?\d{3,4}[\s.-]?|\d{2,4}[.-]\d{3,4}[.-]?)"
            r"\d{3,4}(?![\w.]\d)"
        ),
    ),
    ("PHONE", re.compile(r"(?<![\w$])\+\d{1,3}(?:[\s.-]?\d{1,4}){3,6}(?!\w)")),
]

PII_KINDS = ("EMAIL", "URL", "CARD", "CODE", "PHONE", "PERSON")


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, kind)`` character spans of regex-detectable PII."""
    spans: list[tuple[int, int, str]] = []
    for kind, pat in _PATTERNS:
        for m in pat.finditer(text):
            s, e = m.span()
            if any(s < e2 and s2 < e for s2, e2, _ in spans):
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


def scrub(text: str) -> str:
    """Regex-only scrubbing (no NER); see the ``kg_pii_scrubber`` component for names."""
    return apply_spans(text, find_pii(text))
