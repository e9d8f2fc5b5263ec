"""Readers of product catalogues: generic CSV/JSONL and Amazon metadata (2018)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from ingest.records import BadRow, ProductRecord
from ingest.source import LineSource
from ingest.tabular import clean_text, csv_rows, json_rows

__all__ = ["PRODUCT_READERS", "parse_price", "clean_category_path", "ProductReader"]

ProductReader = Callable[[LineSource], Iterator[ProductRecord | BadRow]]

_TAG = re.compile(r"<[^>]*>?")
_PRICE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_MAX_CATEGORY_LEN = 60


def _strip_markup(value: str) -> str:
    return " ".join(_TAG.sub(" ", html.unescape(value)).split())


def parse_price(value: Any) -> float | None:
    """"$25.00" -> 25.0; a range takes its low end; junk or empty -> None."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value >= 0 else None
    text = str(value)
    if "<" in text or "{" in text:  # HTML/CSS debris instead of a price
        return None
    match = _PRICE.search(text)
    if not match:
        return None
    try:
        return float(match.group().replace(",", ""))
    except ValueError:
        return None


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
    if isinstance(value, list):
        return clean_category_path(value)
    text = clean_text(value)
    if not text:
        return []
    separator = ">" if ">" in text else "/" if "/" in text else "|"
    return clean_category_path([p.strip() for p in text.split(separator)])


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return sorted({str(v).strip() for v in value if isinstance(v, (str, int)) and str(v).strip()})
    text = clean_text(value)
    return sorted({p.strip() for p in re.split(r"[|;,\s]+", text) if p.strip()}) if text else []


def _product_from_row(number: int, row: dict[str, Any], raw: str) -> ProductRecord | BadRow:
    item = clean_text(row.get("item_id"))
    if not item:
        return BadRow(number, "missing item_id", raw)
    price_value = row.get("price")
    price = parse_price(price_value)
    if clean_text(price_value) and price is None:
        return BadRow(number, f"bad price {str(price_value)[:30]!r}", raw)
    title = clean_text(row.get("title"))
    brand = clean_text(row.get("brand"))
    return ProductRecord(
        id=item, title=_strip_markup(title) if title else None, brand=_strip_markup(brand) if brand else None,
        category=_split_path(row.get("category")), price=price,
        also_bought=_ids(row.get("also_bought")), also_viewed=_ids(row.get("also_viewed")),
    )


def read_products_csv(source: LineSource) -> Iterator[ProductRecord | BadRow]:
    """CSV with item_id, title, brand, category (``A > B > C``), price[, also_bought, also_viewed]."""
    for entry in csv_rows(source, ("item_id",)):
        if isinstance(entry, BadRow):
            yield entry
        else:
            yield _product_from_row(entry[0], entry[1], json.dumps(entry[1], ensure_ascii=False))


def read_products_jsonl(source: LineSource) -> Iterator[ProductRecord | BadRow]:
    """JSON lines with the same keys as the CSV (category may be a list)."""
    for entry in json_rows(source):
        if isinstance(entry, BadRow):
            yield entry
        else:
            yield _product_from_row(entry[0], entry[1], json.dumps(entry[1], ensure_ascii=False))


def read_amazon_meta(source: LineSource) -> Iterator[ProductRecord | BadRow]:
    """Amazon metadata lines (asin, title, brand, category[], price, also_buy, also_view)."""
    for entry in json_rows(source):
        if isinstance(entry, BadRow):
            yield entry
            continue
        number, row = entry
        item = clean_text(row.get("asin"))
        if not item:
            yield BadRow(number, "missing asin", json.dumps(row, ensure_ascii=False)[:2000])
            continue
        title, brand = clean_text(row.get("title")), clean_text(row.get("brand"))
        title = _strip_markup(title) if title else None
        brand = _strip_markup(brand) if brand else None
        yield ProductRecord(
            id=item, title=title or None, brand=brand or None,
            category=clean_category_path(row.get("category") or []) if isinstance(row.get("category"), list) else [],
            price=parse_price(row.get("price")),
            also_bought=_ids(row.get("also_buy")), also_viewed=_ids(row.get("also_view")),
        )


PRODUCT_READERS: dict[str, ProductReader] = {
    "csv": read_products_csv,
    "jsonl": read_products_jsonl,
    "amazon-meta": read_amazon_meta,
}
