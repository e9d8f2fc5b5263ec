"""One registry of input formats per kind of data: which reader reads it and which loader writes it.

Everything that ingests a file (the CLI, ``kg demo``, the benchmarks, tests, the scheduler) goes
through :func:`kg.ingest.api.ingest_file`, which looks the format up here.

>>> sorted(FORMATS["events"])
['amazon', 'csv', 'jsonl', 'retailrocket']
>>> resolve_format("products", "amazon-meta").kind
'products'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.settings import Settings
from kg.ingest.loaders import Loader
from kg.ingest.source import LineSource

__all__ = ["Format", "FORMATS", "KINDS", "resolve_format", "kind_formats"]

logger = logging.getLogger(__name__)

Reader = Callable[..., Iterator[Any]]
LoaderFactory = Callable[[Settings, Mapping[str, Any]], Loader]


@dataclass(frozen=True)
class Format:
    """A (kind, format) pair: how to read a file and how to load its records."""

    kind: str
    name: str
    reader: Callable[[], Reader]  # lazy: readers import only when used
    loader: LoaderFactory
    reader_options: tuple[str, ...] = ()
    loader_options: tuple[str, ...] = ()
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def read(self, source: LineSource, options: Mapping[str, Any]) -> Iterator[Any]:
        """Records and bad rows of ``source`` (reader options only)."""
        reader = self.reader()
        picked = {k: v for k, v in options.items() if k in self.reader_options and v is not None}
        return reader(source, **picked) if picked else reader(source)

    def make_loader(self, settings: Settings, options: Mapping[str, Any]) -> Loader:
        """A fresh loader for one run (loader options only)."""
        picked = {k: v for k, v in options.items() if k in self.loader_options and v is not None}
        return self.loader(settings, picked)

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Refuse options this format does not understand (``None`` means "not given")."""
        known = set(self.reader_options) | set(self.loader_options)
        unknown = sorted(k for k, v in options.items() if v is not None and v is not False and k not in known)
        if unknown:
            hint = f"{self.kind} --format {self.name} takes " + (
                ", ".join(f"--{o.replace('_', '-')}" for o in sorted(known)) or "no options"
            )
            raise ConfigError(
                f"option(s) {', '.join('--' + u.replace('_', '-') for u in unknown)} "
                f"do not apply to {self.kind} format {self.name!r}",
                hint=hint,
            )


# -- readers (imported lazily) -------------------------------------------------------------
_READER_REGISTRIES = {
    "events": ("kg.ingest.event_readers", "EVENT_READERS"),
    "products": ("kg.ingest.product_readers", "PRODUCT_READERS"),
    "reviews": ("kg.ingest.reviews.readers", "REVIEW_READERS"),
}


def _reader(kind: str, name: str) -> Callable[[], Reader]:
    """The reader ``name`` of ``kind``, imported on first use (so ``kg --help`` stays fast)."""

    def get() -> Reader:
        import importlib

        module, registry = _READER_REGISTRIES[kind]
        return getattr(importlib.import_module(module), registry)[name]

    return get


# -- loaders -------------------------------------------------------------------------------
def _event_loader(settings: Settings, options: Mapping[str, Any]) -> Loader:
    from kg.ingest.loaders import EventLoader

    return EventLoader.from_settings(settings)


def _product_loader(settings: Settings, options: Mapping[str, Any]) -> Loader:
    from kg.ingest.loaders import ProductLoader

    return ProductLoader()


def _review_loader(settings: Settings, options: Mapping[str, Any]) -> Loader:
    from kg.ingest.reviews.loader import ReviewLoader

    return ReviewLoader.from_settings(settings, **options)


_TABULAR = ("delimiter", "columns")
_JSONL = ("columns",)
_REVIEW_OPTIONS = ("lang", "store_text", "sentiment", "folds", "synonyms")
_EVENT_DIALECT = ("event_types", "time_format", "tz")  # value codes, strptime layout, zone of naive times


def _formats() -> dict[str, dict[str, Format]]:
    table = [
        Format(
            "events",
            "csv",
            _reader("events", "csv"),
            _event_loader,
            _TABULAR + _EVENT_DIALECT,
            description="user_id,item_id,event_type,timestamp[,rating]",
        ),
        Format(
            "events",
            "jsonl",
            _reader("events", "jsonl"),
            _event_loader,
            _JSONL + _EVENT_DIALECT,
            description="JSON lines with the csv columns",
        ),
        Format(
            "events",
            "amazon",
            _reader("events", "amazon"),
            _event_loader,
            description="Amazon Review Data (2018): each review is a RATED and a PURCHASED event",
        ),
        Format(
            "events",
            "retailrocket",
            _reader("events", "retailrocket"),
            _event_loader,
            description="RetailRocket events.csv (timestamp,visitorid,event,itemid,transactionid)",
        ),
        Format(
            "products",
            "csv",
            _reader("products", "csv"),
            _product_loader,
            _TABULAR,
            description="id,title,brand,category (a > b > c),price,also_bought,also_viewed",
        ),
        Format(
            "products",
            "jsonl",
            _reader("products", "jsonl"),
            _product_loader,
            _JSONL,
            description="JSON lines with the csv columns (lists as arrays)",
        ),
        Format(
            "products",
            "amazon-meta",
            _reader("products", "amazon-meta"),
            _product_loader,
            description="Amazon metadata (2018) lines: asin, title, brand, category, also_buy/view",
        ),
        Format(
            "reviews",
            "amazon",
            _reader("reviews", "amazon"),
            _review_loader,
            (),
            _REVIEW_OPTIONS,
            description="Amazon Review Data (2018): reviewerID, asin, overall, reviewText",
        ),
        Format(
            "reviews",
            "csv",
            _reader("reviews", "csv"),
            _review_loader,
            _TABULAR,
            _REVIEW_OPTIONS,
            description="[review_id,]user_id,item_id,rating,text,timestamp",
        ),
        Format(
            "reviews",
            "jsonl",
            _reader("reviews", "jsonl"),
            _review_loader,
            _JSONL,
            _REVIEW_OPTIONS,
            description="JSON lines with the csv columns",
        ),
    ]
    out: dict[str, dict[str, Format]] = {}
    for fmt in table:
        out.setdefault(fmt.kind, {})[fmt.name] = fmt
    return out


FORMATS: dict[str, dict[str, Format]] = _formats()
KINDS: tuple[str, ...] = tuple(FORMATS)


def kind_formats(kind: str) -> dict[str, Format]:
    """The formats of one kind; ConfigError for an unknown kind."""
    if kind not in FORMATS:
        raise ConfigError(f"unknown kind of data {kind!r}", hint=f"choose one of {', '.join(KINDS)}")
    return FORMATS[kind]


def resolve_format(kind: str, name: str) -> Format:
    """The registered format ``name`` of ``kind``; ConfigError naming the choices otherwise."""
    formats = kind_formats(kind)
    if name not in formats:
        raise ConfigError(f"unknown {kind} format {name!r}", hint=f"choose one of {', '.join(formats)}")
    return formats[name]
