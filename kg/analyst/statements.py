"""Analysts' Cypher: typed parameters, read-only by default, EXPLAIN/PROFILE on every backend.

>>> parse_param("id=1234567890")
('id', '1234567890')
>>> parse_param("n:int=5")
('n', 5)
>>> parse_param("tags:json=[\\"a\\", 1]")
('tags', ['a', 1])
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kg.foundation.errors import InputError, QueryError
from kg.store import GraphStore

__all__ = ["parse_param", "parse_params", "run_cypher", "CypherResult", "PARAM_TYPES"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_INT64 = (-(2**63), 2**63 - 1)
PARAM_TYPES = ("str", "int", "float", "bool", "json")
_MODE = re.compile(r"^\s*(EXPLAIN|PROFILE)\b\s*", re.IGNORECASE)
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*")
_PARAM_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COUNT = re.compile(r"\b(LIMIT|SKIP)\s+(?:\$([A-Za-z_][A-Za-z0-9_]*)|(\d+))", re.IGNORECASE)


def _bad(text: str, reason: str) -> InputError:
    return InputError(
        f"parameter {text!r}: {reason}",
        hint="write -p name=text, or name:int=5, name:float=0.5, name:bool=true, name:json=[1,2]",
    )


def _check_number(value: Any, text: str) -> Any:
    """Reject what a graph database would silently clamp or mangle: NaN, infinities, ints beyond 64 bits."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise _bad(text, "integer beyond 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(text, "not a finite number")
        return value
    if isinstance(value, list):
        return [_check_number(v, text) for v in value]
    if isinstance(value, dict):
        return {k: _check_number(v, text) for k, v in value.items()}
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _convert(kind: str, value: str, text: str) -> Any:
    if kind == "str":
        return value
    if kind in ("int", "float"):
        try:
            number: int | float = int(value.strip()) if kind == "int" else float(value.strip())
        except ValueError:
            raise _bad(text, f"{value!r} is not {'an integer' if kind == 'int' else 'a number'}") from None
        return _check_number(number, text)
    if kind == "bool":
        lowered = value.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise _bad(text, f"{value!r} is not true or false")
        return lowered in ("true", "1", "yes")
    try:
        parsed = json.loads(value, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise _bad(text, f"not valid JSON ({str(e).splitlines()[0][:80]})") from None
    return _check_number(parsed, text)


def parse_param(text: str) -> tuple[str, Any]:
    """``name=value`` (always a string) or ``name:type=value`` with type str, int, float, bool or json."""
    if "=" not in text:
        raise _bad(text, "not name=value")
    key, value = text.split("=", 1)
    name, _, kind = key.strip().partition(":")
    kind = kind.strip().lower() or "str"
    if not _NAME.match(name):
        raise _bad(text, f"{name!r} is not a parameter name (letters, digits and _)")
    if kind not in PARAM_TYPES:
        raise _bad(text, f"unknown type {kind!r} (want {', '.join(PARAM_TYPES)})")
    return name, _convert(kind, value, text)


def parse_params(texts: Iterable[str]) -> dict[str, Any]:
    """Several ``-p`` values as one dict."""
    return dict(parse_param(t) for t in texts)


@dataclass
class CypherResult:
    """Rows of a query, or the plan of an EXPLAIN/PROFILE."""

    mode: str  # run | explain | profile
    rows: list[dict[str, Any]] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any] | list[dict[str, Any]]:
        return self.rows if self.mode == "run" else {"mode": self.mode, "plan": self.plan}


def referenced_params(text: str) -> set[str]:
    """``$names`` used in query text (outside string literals and comments)."""
    return set(_PARAM_REF.findall(_STRINGS.sub(" ", text)))


def _check_counts(store: GraphStore, text: str, params: Mapping[str, Any]) -> None:
    """A LIMIT or SKIP count the backend would not take as given (``store.max_count``) is refused."""
    for word, name, digits in _COUNT.findall(_STRINGS.sub(" ", text)):
        value = params.get(name) if name else int(digits)
        if isinstance(value, int) and not isinstance(value, bool) and value > store.max_count:
            shown = f"${name} = {value}" if name else str(value)
            raise QueryError(
                f"{word.upper()} {shown} is beyond the largest count the database "
                f"takes ({store.max_count}); it would not return what it says",
                hint=f"use a count of at most {store.max_count}",
            )


def run_cypher(
    store: GraphStore, text: str, params: Mapping[str, Any] | None = None, *, write: bool = False
) -> CypherResult:
    """Run an analyst's query: read-only unless ``write``; a leading EXPLAIN shows the plan without
    running anything; PROFILE runs it and shows the plan with counts (refused for writing queries
    unless ``write``)."""
    params = dict(params or {})
    match = _MODE.match(text)
    mode = match.group(1).lower() if match else "run"
    body = text[match.end() :] if match else text
    missing = sorted(referenced_params(body) - set(params))
    if missing:
        raise QueryError(
            f"missing parameter(s) {', '.join('$' + m for m in missing)}",
            hint=" ".join(f"-p {m}=VALUE" for m in missing),
        )
    if mode == "explain":
        return CypherResult("explain", plan=store.explain(body, params))
    _check_counts(store, body, params)
    if mode == "profile":  # read-only unless write, as the bare query (each store refuses a writing one)
        return CypherResult("profile", plan=store.profile(body, params, write=write))
    rows = store.execute(body, params) if write else store.read(body, params)
    return CypherResult("run", rows=rows)
