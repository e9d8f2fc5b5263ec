"""Aspect normalisation: lower-case, lemma/plural merging and a small configurable synonym map.

Both extraction routes call the same :class:`AspectNormaliser`, so "Batteries" (rules route, no
lemmatiser) and "battery" (parser route, lemma) end up as one ``(:Aspect {name: "battery"})``.

Example:
    >>> norm = AspectNormaliser(synonyms={"shipping": "delivery"})
    >>> norm(["Batteries"]), norm(["gift", "cards"]), norm(["Shipping"])
    ('battery', 'gift card', 'delivery')
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from ingest.reviews.lexicons import DEFAULT_SYNONYMS

__all__ = ["AspectNormaliser", "load_synonyms", "singular"]

logger = logging.getLogger(__name__)

_INVARIANT = frozenset(
    "news series species glass class grass gas bus plus status lens process access address "
    "business success chess dress mess boss loss bonus focus virus apparatus analysis basis "
    "crisis emphasis thesis this its is was has does yes us less unless express always perhaps "
    "christmas mathematics physics electronics headphones pants jeans scissors clothes goods "
    "thanks sales".split()
)
_IRREGULAR = {
    "children": "child", "people": "person", "men": "man", "women": "woman", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "knives": "knife", "lives": "life", "wives": "wife",
    "leaves": "leaf", "shelves": "shelf", "boxes": "box", "batteries": "battery",
}


def singular(word: str) -> str:
    """Rule-based English singular of one lower-case word (idempotent on singular forms)."""
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) <= 3 or w in _INVARIANT or not w.isalpha():
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


def load_synonyms(path: str | Path) -> dict[str, str]:
    """Read a synonym map (JSON object ``{"variant": "canonical"}``)."""
    from kg.errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read synonym map {path}: {e} (expected a JSON object)") from e
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InputError(f"synonym map {path} must be a JSON object of strings")
    return {k.lower().strip(): v.lower().strip() for k, v in data.items()}


class AspectNormaliser:
    """Maps the words of an aspect phrase to its canonical name.

    ``synonyms`` extend (and override) :data:`DEFAULT_SYNONYMS`; pass ``defaults=False`` to use
    only your own map. Only the last word is singularised ("gift cards" -> "gift card"), and only
    for English; other languages rely on their lexicon forms and the synonym map.
    """

    def __init__(
        self,
        *,
        synonyms: Mapping[str, str] | None = None,
        defaults: bool = True,
        lang: str = "en",
    ) -> None:
        self.synonyms: dict[str, str] = dict(DEFAULT_SYNONYMS) if defaults else {}
        if synonyms:
            self.synonyms.update({k.lower().strip(): v.lower().strip() for k, v in synonyms.items()})
        self.lang = lang

    def __call__(self, words: Sequence[str], lemmas: Sequence[str] | None = None) -> str:
        parts = [w.lower().strip(" -'\"") for w in (lemmas or words)]
        parts = [p for p in parts if p]
        if not parts:
            return ""
        phrase = " ".join(parts)
        if phrase in self.synonyms:
            return self.synonyms[phrase]
        if self.lang == "en":
            parts[-1] = singular(parts[-1])
            phrase = " ".join(parts)
        return self.synonyms.get(phrase, phrase)
