"""Cypher lives in ``.cypher`` files owned by the package that runs them; this module loads and fills them.

Each owning package has a ``cypher/`` subpackage whose ``__init__.py`` binds one :class:`Query` per file
(``EVENTS_MERGE = Query(__name__, "events_merge")``). A file ``<package>/cypher/<dialect>/<name>.cypher``
overrides ``<package>/cypher/<name>.cypher`` for one backend, so dialect differences stay files chosen in
one place. Labels, types and property names enter the text only through :func:`ident`.

>>> ident("PURCHASED")
'`PURCHASED`'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from kg.foundation.errors import ConfigError

__all__ = ["DIALECTS", "Query", "load", "ident", "render"]

#: the backends' query dialects
DIALECTS: tuple[str, ...] = ("falkordb", "neo4j")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Query:
    """One query file: ``name.cypher`` in the ``package`` (a ``...cypher`` package), for ``dialects``.

    A backend-only query names its one dialect, e.g. ``Query(__name__, "server_version", ("neo4j",))``.
    """

    package: str
    name: str
    dialects: tuple[str, ...] = DIALECTS

    def __str__(self) -> str:
        return f"{self.package}/{self.name}"


def ident(name: str) -> str:
    """Escape a label, relationship type or property name; the only place they enter Cypher."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ConfigError(f"not a valid graph identifier: {name!r}", hint="use letters, digits and _")
    return f"`{name}`"


@cache
def load(query: Query, dialect: str) -> str:
    """Text of ``query`` for ``dialect`` (``falkordb`` or ``neo4j``): its dialect file, else its common one.

    >>> from kg.store.cypher import VECTOR_SET
    >>> load(VECTOR_SET, "falkordb").startswith("// name: vector_set (FalkorDB)")
    True
    """
    if not isinstance(query, Query):
        raise TypeError(f"a Query is expected, not {query!r}")
    if dialect not in query.dialects:
        raise ConfigError(f"query {query} has no {dialect} version")
    root = resources.files(query.package)
    for candidate in (root / dialect / f"{query.name}.cypher", root / f"{query.name}.cypher"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ConfigError(f"no Cypher file for query {query} ({dialect})")


def render(query: Query, dialect: str, **identifiers: str) -> str:
    """``query``'s text with ``{{placeholder}}`` identifiers filled in, each escaped by :func:`ident`.

    >>> from kg.store.cypher import VECTOR_SET
    >>> "{{label}}" in load(VECTOR_SET, "falkordb")
    True
    >>> "{{label}}" in render(VECTOR_SET, "falkordb", label="Product", key="id", prop="embedding")
    False
    """
    text = load(query, dialect)
    for key, value in identifiers.items():
        text = text.replace("{{" + key + "}}", ident(value))
    if "{{" in text:
        raise ConfigError(f"query {query} has unfilled identifiers")
    return text
