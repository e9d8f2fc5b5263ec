"""Review text cleaning: HTML entities and tags, control characters, whitespace, truncation.

Example:
    >>> cleaner = TextCleaner(max_chars=30)
    >>> cleaner("Great &amp; fast<br/>delivery!!  ")
    'Great & fast delivery!!'
    >>> len(cleaner("x" * 40)), cleaner.truncated
    (30, 1)
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_CHARS", "TextCleaner", "clean_text"]

logger = logging.getLogger(__name__)

#: Reviews longer than this are cut (at a word boundary) before NLP; the cut is counted and logged.
DEFAULT_MAX_CHARS = 5000

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]{0,200}>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_WS = re.compile(r"\s+")


def clean_text(text: object, max_chars: int = DEFAULT_MAX_CHARS) -> tuple[str, bool]:
    """Clean one text; returns ``(clean, truncated)``. ``None``/non-strings become ``""``."""
    if not isinstance(text, str):
        return "", False
    s = text
    for _ in range(2):  # double-encoded entities ("&amp;quot;") are common in scraped reviews
        unescaped = html.unescape(s)
        if unescaped == s:
            break
        s = unescaped
    s = _TAG.sub(" ", s)
    s = unicodedata.normalize("NFC", s)
    s = _CTRL.sub(" ", s)
    s = _WS.sub(" ", s).strip()
    if len(s) > max_chars:
        cut = s.rfind(" ", 0, max_chars)
        s = s[: cut if cut > max_chars // 2 else max_chars].rstrip()
        return s, True
    return s, False


@dataclass
class TextCleaner:
    """Callable cleaner that counts empty and truncated texts (for the run summary)."""

    max_chars: int = DEFAULT_MAX_CHARS
    truncated: int = 0
    empty: int = 0

    def __call__(self, text: object) -> str:
        s, cut = clean_text(text, self.max_chars)
        if cut:
            self.truncated += 1
            if self.truncated <= 3:
                logger.warning("review text longer than %d chars truncated", self.max_chars)
        if not s:
            self.empty += 1
        return s
