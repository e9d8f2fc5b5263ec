"""Cypher lives in ``cypher/*.cypher``; this module loads it by name and escapes identifiers.

A file ``cypher/<dialect>/<name>.cypher`` overrides ``cypher/<name>.cypher`` for one backend,
so dialect differences stay files chosen in one place.

>>> ident("PURCHASED")
'`PURCHASED`'
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from kg.foundation.errors import ConfigError

__all__ = ["load", "ident", "names", "render"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def ident(name: str) -> str:
    """Escape a label, relationship type or property name; the only place they enter Cypher."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ConfigError(f"not a valid graph identifier: {name!r}", hint="use letters, digits and _")
    return f"`{name}`"


@lru_cache(maxsize=None)
def load(name: str, dialect: str) -> str:
    """Text of the named query for ``dialect`` (``falkordb`` or ``neo4j``)."""
    root = resources.files("kg.cypher")
    for candidate in (root / dialect / f"{name}.cypher", root / f"{name}.cypher"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ConfigError(f"no Cypher query named {name!r} in cypher/")


def names() -> list[str]:
    """All query names shipped in ``cypher/``."""
    root = resources.files("kg.cypher")
    return sorted(p.name.removesuffix(".cypher") for p in root.iterdir() if p.name.endswith(".cypher"))


def render(name: str, dialect: str, **identifiers: str) -> str:
    """The named query with ``{{placeholder}}`` identifiers filled in, each escaped by :func:`ident`.

    >>> "{{label}}" in load("vector_set", "falkordb")
    True
    """
    text = load(name, dialect)
    for key, value in identifiers.items():
        text = text.replace("{{" + key + "}}", ident(value))
    if "{{" in text:
        raise ConfigError(f"query {name!r} has unfilled identifiers")
    return text
