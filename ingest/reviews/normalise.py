"""Aspect normalisation: lower-case, lemma/plural merging and a small configurable synonym map.

Both extraction routes call the same :class:`AspectNormaliser`, so "Batteries" (rules route, no
lemmatiser) and "battery" (parser route, lemma) end up as one ``(:Aspect {name: "battery"})``.
The default synonym map is data (``data/synonyms.json``, via :func:`kg.ingest.reviews.lexicons.default_synonyms`).

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

from kg.foundation.errors import InputError
from kg.ingest.reviews.inflect import singular
from kg.ingest.reviews.lexicons import aspect_seeds, default_synonyms

__all__ = ["AspectNormaliser", "load_synonyms", "singular"]

logger = logging.getLogger(__name__)


def load_synonyms(path: str | Path) -> dict[str, str]:
    """Read a synonym map (JSON object ``{"variant": "canonical"}``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read synonym map {path}: {e}", hint='a JSON object {"variant": "canonical"}') from e
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError(f"synonym map {path} must be a JSON object of strings", hint='e.g. {"shipping": "delivery"}')
    return {k.lower().strip(): v.lower().strip() for k, v in data.items()}


class AspectNormaliser:
    """Maps the words of an aspect phrase to its canonical name.

    ``synonyms`` extend (and override) the default map (``data/synonyms.json``) and the seed
    aspects of ``lang`` (``data/aspect_seeds.json``: "Lieferung", "livraison", "配送" -> "delivery");
    pass ``defaults=False`` to use only your own map. Only the last word is singularised ("gift cards"
    -> "gift card"), and only for English; other languages rely on their lexicon forms and the
    synonym map.
    """

    def __init__(
        self,
        *,
        synonyms: Mapping[str, str] | None = None,
        defaults: bool = True,
        lang: str = "en",
    ) -> None:
        self.synonyms: dict[str, str] = default_synonyms() if defaults else {}
        if defaults and lang != "en":
            self.synonyms.update(aspect_seeds(lang))
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
