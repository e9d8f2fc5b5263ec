"""English singular forms for aspect matching and normalisation (no lemmatiser needed).

The word lists (invariant words, irregular plurals) are data: ``data/english_plurals.json``.

Example:
    >>> [singular(w) for w in ("batteries", "boxes", "stories", "glass", "fees")]
    ['battery', 'box', 'story', 'glass', 'fee']
"""

from __future__ import annotations

import functools

from kg.ingest.reviews.wordlists import load_json

__all__ = ["singular"]


@functools.cache
def _plurals() -> tuple[frozenset[str], dict[str, str]]:
    data = load_json("english_plurals.json")
    return frozenset(data["invariant"]), dict(data["irregular"])


def singular(word: str) -> str:
    """Rule-based English singular of one word, lower-cased (idempotent on singular forms)."""
    w = word.lower()
    invariant, irregular = _plurals()
    if w in irregular:
        return irregular[w]
    if len(w) <= 3 or w in invariant or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes", "zes")):
        return w[:-2]
    if w.endswith(("ss", "us", "is", "ous")):
        return w
    if w.endswith("s"):
        return w[:-1]
    return w
