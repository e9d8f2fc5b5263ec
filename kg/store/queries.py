"""Cypher lives in ``.cypher`` files owned by the package that runs them; this module finds, loads and fills them.

Each owning package has a ``cypher/`` subpackage of ``.cypher`` files. A query is imported by its file's
name in capitals, ``from kg.ingest.cypher import EVENTS_MERGE`` for ``events_merge.cypher``: the files are
the only list, so a name without a file fails at import. A file ``<package>/cypher/<dialect>/<name>.cypher``
overrides ``<package>/cypher/<name>.cypher`` for one backend, and a query with only a dialect file exists
only for that backend: dialect differences stay files chosen in one place. Labels, types and property
names enter the text only through :func:`ident`.

>>> ident("PURCHASED")
'`PURCHASED`'
>>> from kg.store.cypher import SERVER_VERSION
>>> SERVER_VERSION.dialects
('neo4j',)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources

from kg.foundation.errors import ConfigError

__all__ = ["DIALECTS", "Query", "find", "load", "names", "package_attributes", "ident", "render"]

#: the backends' query dialects
DIALECTS: tuple[str, ...] = ("falkordb", "neo4j")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_QUERY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    """One query: ``name.cypher`` in the ``package`` (a ``...cypher`` package), for ``dialects``."""

    package: str
    name: str
    dialects: tuple[str, ...] = DIALECTS

    def __str__(self) -> str:
        return f"{self.package}/{self.name}"


@cache
def find(package: str, constant: str) -> Query:
    """The query a query package's ``constant`` names (``EVENTS_MERGE`` -> ``events_merge.cypher``).

    Query packages use it as their module ``__getattr__``, so an unknown name is an AttributeError
    (an ImportError at ``from ... import``).
    """
    name = constant.lower()
    if constant != name.upper() or not _QUERY_NAME.match(name):
        raise AttributeError(f"module {package!r} has no attribute {constant!r}")
    root = resources.files(package)
    if (root / f"{name}.cypher").is_file():
        return Query(package, name)
    dialects = tuple(d for d in DIALECTS if (root / d / f"{name}.cypher").is_file())
    if not dialects:
        raise AttributeError(f"module {package!r} has no query {constant}: no {name}.cypher in it")
    return Query(package, name, dialects)


def package_attributes(package: str) -> tuple[Callable[[str], Query], Callable[[], list[str]]]:
    """A query package's module ``__getattr__`` and ``__dir__``: its queries by their files' names."""
    return partial(find, package), partial(names, package)


def names(package: str) -> list[str]:
    """The constants of a query package: its files' names in capitals (its module ``__dir__``)."""
    root = resources.files(package)
    files = [f.name for f in root.iterdir()]
    files += [f.name for d in DIALECTS if (root / d).is_dir() for f in (root / d).iterdir()]
    return sorted({f.removesuffix(".cypher").upper() for f in files if f.endswith(".cypher")})


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
