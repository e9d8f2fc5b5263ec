"""Read-only access to the word lists shipped in ``ingest/reviews/data/`` (loaded once, lazily).

Files:

- ``lexicon_<lang>.json`` — rules lexicon of one language (opinion valences, aspects, copulas, ...)
- ``synonyms.json`` — default aspect synonym map ``{"variant": "canonical"}``
- ``generic_nouns.txt`` — nouns too generic to be aspects (one per line, ``#`` comments)
- ``english_plurals.json`` — invariant words and irregular plurals for :func:`kg.ingest.reviews.inflect.singular`

Example:
    >>> "delivery" in load_json("synonyms.json").values()
    True
    >>> "thing" in load_words("generic_nouns.txt")
    True
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from importlib.abc import Traversable
from typing import Any

__all__ = ["data_file", "has_data", "load_json", "load_words"]

_PACKAGE = "kg.ingest.reviews"


def data_file(name: str) -> Traversable:
    """The shipped data file ``name`` (it may not exist: see :func:`has_data`)."""
    return resources.files(_PACKAGE).joinpath("data", name)


def has_data(name: str) -> bool:
    """Whether the data file ``name`` is shipped."""
    return data_file(name).is_file()


@functools.cache
def load_json(name: str) -> Any:
    """Parsed JSON of a data file (cached: callers must not mutate the result)."""
    return json.loads(data_file(name).read_text(encoding="utf-8"))


@functools.cache
def load_words(name: str) -> frozenset[str]:
    """The words of a text data file: one per line, blank lines and ``#`` comments skipped."""
    lines = data_file(name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#"))
