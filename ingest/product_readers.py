"""Readers of product catalogues: generic CSV/JSONL and Amazon metadata (2018).

Called as ``reader(source, **options)``: the generic formats take ``columns`` (canonical field ->
the file's column) and CSV also ``delimiter``; ``amazon-meta`` takes none.

A row must name its product. A row whose catalogue fields (title, brand, category, price,
also-bought/viewed) are all empty is a *sparse* row, a real product (marketplace catalogues leave the
category empty for a few percent of rows): it lands as a product with its id only and is counted as
sparse, never bad (see :func:`is_sparse`). A row that has no catalogue field at all (no such column or
key) is what a reviews or events file looks like when read as a catalogue, so it is quarantined
(marked as a format mismatch). Keys (id, brand, category path,
linked ids) over :data:`kg.foundation.schema.MAX_KEY_BYTES` quarantine the row, and so does a category part over
60 characters in the generic formats (Amazon metadata's category lists end in marketing sentences,
which are dropped as before); a product linked to itself
loses that link (counted as a warning on the source). A negative price quarantines the row in the
generic formats (like any bad price there) and is dropped with a warning in Amazon metadata, whose
junk prices are dropped anyway.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kg.foundation.schema import check_key
from kg.ingest.records import BadRow, ProductRecord
from kg.ingest.source import LineSource
from kg.ingest.tabular import check_columns, checked_csv_rows, clean_text, json_rows, key_text, reader_options

__all__ = [
    "PRODUCT_READERS",
    "parse_price",
    "clean_category_path",
    "ProductReader",
    "PRODUCT_FIELDS",
    "CATALOGUE_FIELDS",
    "NegativePrice",
    "is_sparse",
]

ProductReader = Callable[..., Iterator[ProductRecord | BadRow]]

#: canonical fields of the generic product formats (keys of a ``columns`` mapping)
PRODUCT_FIELDS: tuple[str, ...] = ("item_id", "title", "brand", "category", "price", "also_bought", "also_viewed")
#: what makes a row a catalogue row rather than a bare id
CATALOGUE_FIELDS: tuple[str, ...] = ("title", "brand", "category", "price", "also_bought", "also_viewed")

_TAG = re.compile(r"<[^>]*>?")
_PRICE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_NEGATIVE = re.compile(r"^\(?\s*[^\d\s-]{0,4}\s*[-\u2212]\s*[^\d\s]{0,4}\s*\d")
_MAX_CATEGORY_LEN = 60
_PATH_SEP = " > "  # how the loader joins a category path into the Category key


class NegativePrice(ValueError):
    """A price below zero."""


def _strip_markup(value: str) -> str:
    return " ".join(_TAG.sub(" ", html.unescape(value)).split())


def parse_price(value: Any) -> float | None:
    """ "$25.00" -> 25.0; a range takes its low end; junk, empty or non-finite -> None.

    Raises :class:`NegativePrice` for a price below zero (``-5``, ``"-$5"``, ``"$-5"``).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
        if not math.isfinite(number):
            return None
        if number < 0:
            raise NegativePrice(f"negative price {value!r}")
        return number
    text = str(value)
    if "<" in text or "{" in text:  # HTML/CSS debris instead of a price
        return None
    match = _PRICE.search(text)
    if not match:
        return None
    if _NEGATIVE.match(text.strip()):
        raise NegativePrice(f"negative price {text.strip()[:30]!r}")
    try:
        number = float(match.group().replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def clean_category_path(parts: list[Any]) -> list[str]:
    """Category path without markup debris, marketing sentences and repeated levels."""
    path: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            break
        if "<" in part or ">" in part and "&gt;" not in part:
            break  # HTML debris ends the path
        text = _strip_markup(part)
        if not text or len(text) > _MAX_CATEGORY_LEN or text.endswith((".", "!", "?")):
            break  # marketing text, not a category
        if path and path[-1].lower() == text.lower():
            continue
        path.append(text)
    return path


def _split_path(value: Any) -> list[str]:
    """The category path of a generic row; ValueError when a part is over the length of a category
    (the row is quarantined: a generic file's path is the user's own, not scraped debris)."""
    if isinstance(value, list):
        parts = value
    else:
        text = clean_text(value)
        if not text:
            return []
        separator = ">" if ">" in text else "/" if "/" in text else "|"
        parts = [p.strip() for p in text.split(separator)]
    for part in parts:
        if (
            isinstance(part, str)
            and len(part) > _MAX_CATEGORY_LEN
            and len(shown := _strip_markup(part)) > _MAX_CATEGORY_LEN
        ):
            raise ValueError(
                f"category part is {len(shown)} characters, over the {_MAX_CATEGORY_LEN}-character "
                f"limit: {shown[:40]!r}..."
            )
    return clean_category_path(parts)


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return sorted(
            {str(v).strip() for v in value if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip()}
        )
    text = clean_text(value)
    return sorted({p.strip() for p in re.split(r"[|;,\s]+", text) if p.strip()}) if text else []


def _has_value(value: Any) -> bool:
    if isinstance(value, (list, dict)):
        return bool(value)
    return clean_text(value) is not None


def _finish(
    number: int, raw: str, row: dict[str, Any], record: ProductRecord, source: LineSource, links: tuple[str, str]
) -> ProductRecord | BadRow:
    """``record`` with its also-bought/also-viewed ids from the row's ``links`` keys, its keys checked and
    self-links dropped (:func:`_check_keys`); a BadRow when a key is too long."""
    record.also_bought, record.also_viewed = _ids(row.get(links[0])), _ids(row.get(links[1]))
    try:
        return _check_keys(record, source, links)
    except ValueError as e:
        return BadRow(number, str(e), raw)


def _check_keys(record: ProductRecord, source: LineSource, links: tuple[str, str]) -> ProductRecord:
    """Check the record's keys (ValueError when one is too long); drop self-links with a warning."""
    for name, value in (("brand", record.brand), ("category", _PATH_SEP.join(record.category))):
        if value and (reason := check_key(value, name)):
            raise ValueError(reason)
    for attr, name in zip(("also_bought", "also_viewed"), links, strict=True):
        targets = getattr(record, attr)
        for target in targets:
            if reason := check_key(target, f"{name} target"):
                raise ValueError(reason)
        if record.id in targets:
            targets.remove(record.id)
            source.warn(f"{name} self-link dropped")
    return record


def is_sparse(record: object) -> bool:
    """A product record with its id and nothing else (a sparse catalogue row: landed, counted, not bad)."""
    return isinstance(record, ProductRecord) and not (
        record.title
        or record.brand
        or record.category
        or record.price is not None
        or record.also_bought
        or record.also_viewed
    )


def _no_catalogue(number: int, raw: str, fields: tuple[str, ...]) -> BadRow:
    return BadRow(number, f"no catalogue field ({', '.join(fields)})", raw, mismatch=True)


def _catalogue_key(number: int, row: dict[str, Any], raw: str, id_field: str, fields: tuple[str, ...]) -> str | BadRow:
    """The row's product id, or the BadRow saying why it has none or no catalogue field at all."""
    try:
        item = key_text(row.get(id_field), id_field)
    except ValueError as e:
        return BadRow(number, str(e), raw)
    if not item:
        return BadRow(number, f"missing {id_field}", raw, mismatch=True)
    if not any(f in row for f in fields):  # no catalogue column/key at all: another kind of file
        return _no_catalogue(number, raw, fields)
    return item


def _product_from_row(source: LineSource, number: int, row: dict[str, Any]) -> ProductRecord | BadRow:
    raw = json.dumps(row, ensure_ascii=False)[:2000]
    item = _catalogue_key(number, row, raw, "item_id", CATALOGUE_FIELDS)
    if isinstance(item, BadRow):
        return item
    price_value = row.get("price")
    try:
        price = parse_price(price_value)
    except NegativePrice as e:
        return BadRow(number, str(e), raw)
    if _has_value(price_value) and price is None:
        return BadRow(number, f"bad price {str(price_value)[:30]!r}", raw)
    title = clean_text(row.get("title"))
    brand = clean_text(row.get("brand"))
    try:
        category = _split_path(row.get("category"))
    except ValueError as e:
        return BadRow(number, str(e), raw)
    record = ProductRecord(
        id=item,
        title=_strip_markup(title) if title else None,
        brand=_strip_markup(brand) if brand else None,
        category=category,
        price=price,
    )
    return _finish(number, raw, row, record, source, ("also_bought", "also_viewed"))


def _products(source: LineSource, entries: Iterator[Any]) -> Iterator[ProductRecord | BadRow]:
    for entry in entries:
        yield entry if isinstance(entry, BadRow) else _product_from_row(source, *entry)


@reader_options("products", "csv")
def read_products_csv(
    source: LineSource, *, delimiter: str | None = None, columns: Mapping[str, str] | None = None
) -> Iterator[ProductRecord | BadRow]:
    """CSV with item_id, title, brand, category (``A > B > C``), price[, also_bought, also_viewed]."""
    rows = checked_csv_rows(source, ("item_id",), PRODUCT_FIELDS, kind="products", delimiter=delimiter, columns=columns)
    return _products(source, rows)


@reader_options("products", "jsonl")
def read_products_jsonl(
    source: LineSource, *, columns: Mapping[str, str] | None = None
) -> Iterator[ProductRecord | BadRow]:
    """JSON lines with the same keys as the CSV (category may be a list)."""
    mapping = check_columns(columns, PRODUCT_FIELDS, "products jsonl")
    return _products(source, json_rows(source, columns=mapping))


_META_FIELDS = ("title", "brand", "category", "price", "also_buy", "also_view")


def _amazon_meta_row(source: LineSource, number: int, row: dict[str, Any]) -> ProductRecord | BadRow:
    raw = json.dumps(row, ensure_ascii=False)[:2000]
    item = _catalogue_key(number, row, raw, "asin", _META_FIELDS)
    if isinstance(item, BadRow):
        return item
    title, brand = clean_text(row.get("title")), clean_text(row.get("brand"))
    try:
        price = parse_price(row.get("price"))
    except NegativePrice:
        source.warn("negative price dropped")
        price = None
    record = ProductRecord(
        id=item,
        title=_strip_markup(title) or None if title else None,
        brand=_strip_markup(brand) or None if brand else None,
        category=clean_category_path(row["category"]) if isinstance(row.get("category"), list) else [],
        price=price,
    )
    return _finish(number, raw, row, record, source, ("also_buy", "also_view"))


@reader_options("products", "amazon-meta")
def read_amazon_meta(source: LineSource) -> Iterator[ProductRecord | BadRow]:
    """Amazon metadata lines (asin, title, brand, category[], price, also_buy, also_view)."""
    for entry in json_rows(source):
        yield entry if isinstance(entry, BadRow) else _amazon_meta_row(source, *entry)


PRODUCT_READERS: dict[str, ProductReader] = {
    "csv": read_products_csv,
    "jsonl": read_products_jsonl,
    "amazon-meta": read_amazon_meta,
}
