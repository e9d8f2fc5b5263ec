"""The analyst query library: ``cypher/analyst/*.cypher``, one named, documented, typed query per file.

A query file starts with a header of ``//`` comment lines, then the Cypher::

    // name: user_interests
    // description: A person's interests with their decayed scores, strongest first.
    // subject: user
    // param: user text raw-user-id example=A31UBHTUUIFJUT -- the raw id from your logs
    // param: limit int default=10 min=0 example=5 -- rows wanted
    // returns: kind, interest, score, updated_at

``param: NAME TYPE [raw-user-id] [default=VALUE] [min=NUMBER] example=VALUE [-- description]``: TYPE is
text, int, float, bool or list (comma-separated text or a JSON array); values with spaces are quoted
(``example="Gift Cards"``); a parameter with a default is optional. ``subject`` says what the query is about
(user, product, brand, category, segment, aspect, or shop for shop-wide queries); the subject's key is the
first parameter. ``returns`` lists the returned columns in order. Other ``//`` lines are notes.

A ``raw-user-id`` parameter takes the id as it appears in your logs and kg pseudonymises it (the graph only
holds pseudonyms); the query text receives the pseudonym. Pass ``pseudonym=HEX`` instead to give the
graph's pseudonym directly (as printed by ``kg user`` or returned by ``dropped_users``).

A file in ``cypher/analyst/<dialect>/`` replaces the portable one for that backend (``similar_products``
uses each backend's vector index). Library queries run read-only unless ``write=True``.

>>> q = get_query("user_interests")
>>> [p.name for p in q.params], q.subject
(['user', 'limit'], 'user')
>>> coerce(q.params[1], "5")
5
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import shlex
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kg.foundation.errors import ConfigError

if TYPE_CHECKING:
    from kg.foundation.settings import Settings
    from kg.store import GraphStore

__all__ = [
    "QueryParam",
    "LibraryQuery",
    "QueryResult",
    "list_queries",
    "get_query",
    "coerce",
    "bind_params",
    "run_library_query",
    "browser_guide",
    "export_zip",
    "parse_header",
    "DIALECTS",
    "PARAM_TYPES",
    "SUBJECTS",
    "PSEUDONYM_KEY",
    "ZIP_NAME",
    "spreadsheet_safe",
]

logger = logging.getLogger(__name__)

DIALECTS = ("falkordb", "neo4j")
PARAM_TYPES = ("text", "int", "float", "bool", "list")
SUBJECTS = ("user", "product", "brand", "category", "segment", "aspect", "shop")
#: the alternative key for a raw-user-id parameter: the graph's pseudonym itself
PSEUDONYM_KEY = "pseudonym"
#: the file name ``kg explore`` serves the favourites zip under, next to the guide
ZIP_NAME = "kg-queries.zip"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_HEX = re.compile(r"^[0-9a-f]{32}$")
_HEADER = re.compile(r"^//\s*([a-z_]+)\s*:\s*(.*?)\s*$")
_INT64 = (-(2**63), 2**63 - 1)
_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class QueryParam:
    """One ``$parameter`` of a library query, typed by its header line."""

    name: str
    type: str
    example: str
    required: bool = True
    default: Any = None
    description: str = ""
    raw_user_id: bool = False
    min: float | None = None

    def describe(self) -> str:
        """``limit (int, default 10, e.g. 5)``: how error messages and ``kg query show`` list it."""
        bits = [self.type] + (["raw user id"] if self.raw_user_id else [])
        if not self.required:
            bits.append(f"default {self.default!r}" if isinstance(self.default, str) else f"default {self.default}")
        bits.append(f"e.g. {self.example}")
        return f"{self.name} ({', '.join(bits)})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LibraryQuery:
    """A named query of ``cypher/analyst/``: header fields plus its text per dialect."""

    name: str
    description: str
    params: list[QueryParam]
    columns: list[str]
    subject: str
    texts: dict[str, str] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list, repr=False)

    def text_for(self, dialect: str) -> str:
        """The query text for ``falkordb`` or ``neo4j`` (its variant when it has one, else the portable text)."""
        if dialect not in DIALECTS:
            raise ConfigError(f"unknown dialect {dialect!r}", hint=f"one of {', '.join(DIALECTS)}")
        return self.texts.get(dialect) or self.texts["portable"]

    @property
    def portable(self) -> bool:
        """True when one text serves both backends."""
        return "portable" in self.texts and not (set(self.texts) & set(DIALECTS))

    def expects(self) -> str:
        """``user (text, raw user id, e.g. X), limit (int, default 10, e.g. 5)`` or ``no parameters``."""
        return ", ".join(p.describe() for p in self.params) or "no parameters"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "subject": self.subject,
            "params": [p.as_dict() for p in self.params],
            "columns": list(self.columns),
            "portable": self.portable,
        }


@dataclass
class QueryResult:
    """Rows of a library query (each a dict in ``columns`` order) and how long it ran."""

    columns: list[str]
    rows: list[dict[str, Any]]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows, "seconds": self.seconds}


# --------------------------------------------------------------------------- header parsing


def _parsed(raw: str, convert: Callable[[str], _N], what: str) -> _N:
    """``convert(raw.strip())``; ValueError "'raw' is not <what>" when it does not parse."""
    try:
        return convert(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not {what}") from None


def _typed(kind: str, raw: str, *, where: str) -> Any:
    """``raw`` text as a value of ``kind``; ValueError with a short reason otherwise."""
    if kind == "text":
        return raw
    if kind == "int":
        value = _parsed(raw, int, "an integer")
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"{raw!r} is beyond 64 bits")
        return value
    if kind == "float":
        number = _parsed(raw, float, "a number")
        if not math.isfinite(number):
            raise ValueError(f"{raw!r} is not a finite number")
        return number
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{raw!r} is not true or false")
        return lowered in ("true", "1", "yes")
    if kind == "list":
        text = raw.strip()
        if text.startswith("["):
            try:
                value = json.loads(text, parse_constant=_no_constant)
            except (ValueError, RecursionError):
                raise ValueError(f"{raw!r} is not a JSON array") from None
            if not isinstance(value, list) or any(isinstance(v, (list, dict)) for v in value):
                raise ValueError(f"{raw!r} is not a flat JSON array")
            return value
        return [item.strip() for item in text.split(",") if item.strip()]
    raise ValueError(f"unknown type {kind!r} in {where}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _parse_param(spec: str, where: str) -> QueryParam:
    head, _, description = spec.partition(" -- ")
    try:
        tokens = shlex.split(head)
    except ValueError as e:
        raise ConfigError(f"{where}: bad param line {spec!r} ({e})") from None
    if len(tokens) < 2 or not _NAME.match(tokens[0]) or tokens[1] not in PARAM_TYPES:
        raise ConfigError(
            f"{where}: bad param line {spec!r}",
            hint=f"write: param: NAME TYPE [raw-user-id] [default=V] [min=N] example=V -- text; "
            f"TYPE one of {', '.join(PARAM_TYPES)}",
        )
    name, kind = tokens[0], tokens[1]
    options: dict[str, str] = {}
    raw_user = False
    for token in tokens[2:]:
        if token == "raw-user-id":
            raw_user = True
            continue
        key, eq, value = token.partition("=")
        if not eq or key not in ("default", "example", "min"):
            raise ConfigError(f"{where}: unknown option {token!r} for parameter {name}")
        options[key] = value
    if "example" not in options:
        raise ConfigError(f"{where}: parameter {name} has no example=")
    try:
        default = _typed(kind, options["default"], where=where) if "default" in options else None
        minimum = float(options["min"]) if "min" in options else None
    except ValueError as e:
        raise ConfigError(f"{where}: parameter {name}: {e}") from None
    if raw_user and kind != "text":
        raise ConfigError(f"{where}: raw-user-id parameter {name} must be text")
    return QueryParam(
        name=name,
        type=kind,
        example=options["example"],
        required="default" not in options,
        default=default,
        description=description.strip(),
        raw_user_id=raw_user,
        min=minimum,
    )


def parse_header(text: str, where: str = "query") -> dict[str, Any]:
    """The header fields of a query file: name, description, subject, params, columns, notes."""
    fields: dict[str, Any] = {"params": [], "notes": []}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("//"):
            break
        match = _HEADER.match(stripped)
        key, value = (match.group(1), match.group(2)) if match else ("", "")
        if key == "param":
            fields["params"].append(_parse_param(value, where))
        elif key == "returns":
            fields["columns"] = [c.strip() for c in value.split(",") if c.strip()]
        elif key in ("name", "description", "subject"):
            fields[key] = value
        else:
            fields["notes"].append(stripped[2:].strip())
    missing = [k for k in ("name", "description", "subject", "columns") if not fields.get(k)]
    if missing:
        raise ConfigError(f"{where}: header lacks {', '.join(m if m != 'columns' else 'returns' for m in missing)}")
    if fields["subject"] not in SUBJECTS:
        raise ConfigError(f"{where}: subject {fields['subject']!r} is not one of {', '.join(SUBJECTS)}")
    return fields


def _root() -> Traversable:
    return resources.files("kg.cypher").joinpath("analyst")


@lru_cache(maxsize=1)
def _library() -> dict[str, LibraryQuery]:
    """Every query of ``cypher/analyst/``, by name (read once)."""
    texts: dict[str, dict[str, str]] = {}
    root = _root()
    for folder, variant in [(root, "portable"), *((root.joinpath(d), d) for d in DIALECTS)]:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.name.endswith(".cypher") and entry.is_file():
                texts.setdefault(entry.name.removesuffix(".cypher"), {})[variant] = entry.read_text(encoding="utf-8")
    library: dict[str, LibraryQuery] = {}
    for name, variants in sorted(texts.items()):
        if "portable" not in variants and set(variants) != set(DIALECTS):
            raise ConfigError(
                f"cypher/analyst: {name} has variants for {', '.join(sorted(variants))} only",
                hint="add a portable text or one per dialect",
            )
        first = variants.get("portable") or variants[DIALECTS[0]]
        header = parse_header(first, where=f"cypher/analyst/{name}.cypher")
        if header["name"] != name:
            raise ConfigError(f"cypher/analyst/{name}.cypher: header says name {header['name']!r}")
        library[name] = LibraryQuery(
            name=name,
            description=header["description"],
            params=header["params"],
            columns=header["columns"],
            subject=header["subject"],
            texts=variants,
            notes=header["notes"],
        )
    return library


def list_queries() -> list[LibraryQuery]:
    """Every library query, sorted by name."""
    return list(_library().values())


def get_query(name: str) -> LibraryQuery:
    """The named query; ConfigError listing the names when there is none."""
    library = _library()
    if name not in library:
        raise ConfigError(f"unknown query {name!r}; the library has: {', '.join(library)}", hint="kg query list")
    return library[name]


# --------------------------------------------------------------------------- parameters


def coerce(param: QueryParam, raw: Any) -> Any:
    """A raw value (text from the command line or a form; or an already typed value) as the param's type.

    >>> coerce(QueryParam("k", "int", "5", min=1), "0")
    Traceback (most recent call last):
    ...
    ValueError: 0 is below the minimum 1
    """
    if isinstance(raw, str):
        value = _typed(param.type, raw, where=param.name)
    else:
        value = _check_typed(param, raw)
    if param.min is not None and param.type in ("int", "float") and value < param.min:
        minimum = int(param.min) if float(param.min).is_integer() else param.min
        raise ValueError(f"{value} is below the minimum {minimum}")
    return value


def _check_typed(param: QueryParam, value: Any) -> Any:
    kinds: dict[str, tuple[type[Any], ...]] = {
        "text": (str,),
        "int": (int,),
        "float": (int, float),
        "bool": (bool,),
        "list": (list, tuple),
    }
    if isinstance(value, bool) and param.type in ("int", "float"):
        raise ValueError(f"{value!r} is not {param.type}")
    if not isinstance(value, kinds[param.type]):
        raise ValueError(f"{value!r} is not {param.type}")
    if param.type == "float":
        return _typed("float", repr(float(value)), where=param.name)
    if param.type == "int":
        return _typed("int", str(value), where=param.name)
    return list(value) if param.type == "list" else value


def bind_params(query: LibraryQuery, raw_params: Mapping[str, Any], pseudonymise: Any = None) -> dict[str, Any]:
    """Typed Cypher parameters for ``query`` from raw ones; one-line ConfigError listing what is expected.

    ``pseudonymise`` maps a raw user id to its pseudonym (needed only when a raw-user-id param is given).
    """
    expects = f"query {query.name!r} expects: {query.expects()}"
    hint = f"kg query show {query.name}"
    raw = dict(raw_params)
    raw_user_params = [p for p in query.params if p.raw_user_id]
    allowed = {p.name for p in query.params} | ({PSEUDONYM_KEY} if raw_user_params else set())
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"unknown parameter(s) {', '.join(unknown)}; {expects}", hint=hint)
    bound: dict[str, Any] = {}
    for param in query.params:
        if param.raw_user_id and PSEUDONYM_KEY in raw:
            if param.name in raw:
                raise ConfigError(
                    f"give {param.name} (raw id) or {PSEUDONYM_KEY} (the graph's pseudonym), not both; {expects}",
                    hint=hint,
                )
            pseudonym = str(raw[PSEUDONYM_KEY]).strip().lower()
            if not _HEX.match(pseudonym):
                raise ConfigError(
                    f"{PSEUDONYM_KEY} {raw[PSEUDONYM_KEY]!r} is not a pseudonym (32 hex digits); {expects}",
                    hint=f"pass the raw id as {param.name}=ID, or kg user ID",
                )
            bound[param.name] = pseudonym
            continue
        if param.name not in raw:
            if param.required:
                raise ConfigError(f"missing parameter {param.name}; {expects}", hint=hint)
            bound[param.name] = param.default
            continue
        try:
            value = coerce(param, raw[param.name])
        except ValueError as e:
            raise ConfigError(f"parameter {param.name}: {e}; {expects}", hint=hint) from None
        if param.raw_user_id:
            if pseudonymise is None:
                raise ConfigError(
                    f"parameter {param.name} is a raw user id and no pseudonym key is at hand",
                    hint=f"pass settings, or {PSEUDONYM_KEY}=HEX",
                )
            value = pseudonymise(value)
        bound[param.name] = value
    return bound


def _pseudonymiser(settings: Settings | None) -> Any:
    """A callable raw id -> pseudonym, created lazily (it may create the key file)."""

    def pseudonymise(raw: str) -> str:
        from kg.foundation.privacy import Pseudonymiser
        from kg.foundation.settings import Settings

        return Pseudonymiser.from_settings(settings or Settings()).user_id(raw)

    return pseudonymise


def run_library_query(
    store: GraphStore,
    name: str,
    raw_params: Mapping[str, Any],
    *,
    write: bool = False,
    settings: Settings | None = None,
) -> QueryResult:
    """Run a library query with parameters typed from its header (read-only unless ``write``).

    A raw-user-id parameter is pseudonymised with the key of ``settings`` (the environment's when None).
    """
    from kg.analyst.statements import run_cypher

    query = get_query(name)
    params = bind_params(query, raw_params, _pseudonymiser(settings))
    if any(p.raw_user_id for p in query.params):  # a forgotten person is not queried: the query log keeps it
        from kg.foundation.forgotten import ForgottenUsers
        from kg.foundation.settings import Settings

        forgotten = ForgottenUsers.from_settings(settings or Settings())
        if any(params.get(p.name) in forgotten for p in query.params if p.raw_user_id):
            raise ConfigError(
                "no such user: forgotten (kg forget); the database was not asked",
                hint="kg ingest ... --allow-forgotten brings a person back",
            )
    text = store.pick_variant(query.texts)
    started = time.perf_counter()
    result = run_cypher(store, text, params, write=write)
    seconds = time.perf_counter() - started
    if result.rows and list(result.rows[0]) != query.columns:
        raise ConfigError(
            f"query {name!r} returned {', '.join(result.rows[0])} but its header says {', '.join(query.columns)}",
            hint="fix the returns: line of its .cypher file",
        )
    rows = [{c: row.get(c) for c in query.columns} for row in result.rows]
    logger.debug("library query %s: %d rows in %.3f s", name, len(rows), seconds)
    return QueryResult(columns=list(query.columns), rows=rows, seconds=round(seconds, 6))


#: how a spreadsheet recognises a formula in a text cell
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any, text: str) -> str:
    """A CSV cell's ``text`` for ``value``, kept text in a spreadsheet: text values starting like a formula
    (``=``, ``+``, ``-``, ``@``, tab, CR) get a leading ``'``; numbers stay numbers. The one guard for every
    CSV export (``kg query run --format csv``, the explorer's download).

    >>> spreadsheet_safe("=HYPERLINK(1)", "=HYPERLINK(1)"), spreadsheet_safe(-1, "-1")
    ("'=HYPERLINK(1)", '-1')
    """
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA) else text


# --------------------------------------------------------------------------- Neo4j Browser


def _cypher_literal(value: Any) -> str:
    """A Cypher literal for ``:params`` in Neo4j Browser."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_cypher_literal(v) for v in value) + "]"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _example_params(query: LibraryQuery) -> str:
    """One ``:param name => value;`` line per parameter, with its example (a raw-user-id example becomes a
    pseudonym hint). Not ``:params {...}``: Browser parses that map itself and sends every number as a
    float, so ``LIMIT $top`` would get 3.0 and fail; ``=>`` lets the server evaluate the value."""
    lines = []
    for p in query.params:
        value: Any = "PSEUDONYM" if p.raw_user_id else coerce(p, p.example)
        lines.append(f":param {p.name} => {_cypher_literal(value)};")
    return "\n".join(lines)


def _graph_slide(queries: list[LibraryQuery]) -> str:
    """A slide whose query draws a graph (the library's queries return values): one product's neighbourhood,
    for the first product any query gives as its example."""
    from kg.analyst.cypher import GUIDE_PRODUCT_NEIGHBOURHOOD
    from kg.store.queries import load

    example = next((str(p.example) for q in queries for p in q.params if p.name == "product" and p.example), "")
    return "\n".join(
        [
            "## product_neighbourhood",
            "",
            "One product and everything one relationship away, drawn "
            "as a graph: its buyers and viewers (pseudonyms), brand, category, reviews and the products "
            "bought with it. Set the product, then run the query.",
            "",
            "```cypher",
            f":param product => {_cypher_literal(example)};",
            "```",
            "",
            "```cypher",
            _body(load(GUIDE_PRODUCT_NEIGHBOURHOOD, "neo4j")),
            "```",
        ]
    )


def _body(text: str) -> str:
    """The query without its header comments."""
    lines = text.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("//")):
        lines.pop(0)
    return "\n".join(lines).strip()


def browser_guide(*, base_url: str | None = None) -> str:
    """A Markdown guide for Neo4j Browser (``:guide URL``): a slide that draws a graph, then one slide per
    library query, split by ``---``, each with a runnable parameter block (the examples) and the query
    (Neo4j dialect)."""
    queries = list_queries()
    intro = [
        "# kg: the analyst query library",
        "",
        f"{len(queries)} read-only queries over the user-interest graph, one per slide, after a slide that draws "
        "one product's neighbourhood as a graph. On each slide run the `:param` block first (edit the values), "
        "then the query.",
        "",
        "People are stored under pseudonyms: where a query takes `user`, set it to the pseudonym that "
        "`kg user RAW_ID` prints (from the command line, `kg query run NAME -p user=RAW_ID` pseudonymises for you).",
        "",
        "| query | about | what it answers |",
        "|---|---|---|",
        *(f"| `{q.name}` | {q.subject} | {q.description} |" for q in queries),
    ]
    if base_url:
        intro += [
            "",
            f"The same queries as Browser favourites: download {base_url.rstrip('/')}/{ZIP_NAME} and "
            "drop it on the Favorites drawer.",
        ]
    slides = ["\n".join(intro), _graph_slide(queries)]
    for q in queries:
        params = (
            "\n".join(
                f"- `{p.name}` ({p.type}{', optional' if not p.required else ''}): "
                + ("the person's pseudonym (`kg user RAW_ID` prints it)" if p.raw_user_id else p.description)
                for p in q.params
            )
            or "- none"
        )
        blocks = [
            f"## {q.name}",
            "",
            q.description,
            "",
            f"Returns: {', '.join(q.columns)}",
            "",
            "Parameters:",
            "",
            params,
            "",
        ]
        if q.params:
            blocks += ["```cypher", _example_params(q), "```", ""]
        blocks += ["```cypher", _body(q.text_for("neo4j")), "```"]
        slides.append("\n".join(blocks))
    return "\n\n---\n\n".join(slides) + "\n"


def export_zip(path: str | Path) -> Path:
    """Write a zip of the library's ``.cypher`` files (Neo4j dialect) for Neo4j Browser's favourites drawer
    (drag and drop). Each file's first line is ``// name: description`` (Browser shows it as the title)."""
    target = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for q in list_queries():
            info = zipfile.ZipInfo(f"{q.name}.cypher", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, f"// {q.name}: {q.description}\n{q.text_for('neo4j')}")
    target.write_bytes(buffer.getvalue())
    return target
