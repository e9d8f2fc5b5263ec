"""``kg ingest reviews``: registered in kg/cli.py with ``ingest_app.command("reviews")(ingest_reviews)``.

Example::

    kg ingest reviews Gift_Cards_5.json --format amazon
    kg ingest reviews reviews.csv --format csv --lang de --store-text
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ingest_reviews"]


def ingest_reviews(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Input file (.gz read transparently).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="amazon | csv | jsonl")] = "amazon",
    lang: Annotated[str, typer.Option("--lang", help="Language of the reviews (spaCy code: en, de, fr, ...).")] = "en",
    store_text: Annotated[bool, typer.Option(
        "--store-text", help="Also store the review text, PII-scrubbed (default: only extracted structure).")] = False,
    sentiment: Annotated[str, typer.Option(
        "--sentiment", help="auto (encoder cross-fitted on the file when it has enough ratings, else lexicon) "
                            "| encoder | lexicon")] = "auto",
    folds: Annotated[int, typer.Option("--folds", min=2, max=20, help="Cross-fitting folds for the encoder.")] = 5,
    synonyms: Annotated[Path | None, typer.Option(
        "--synonyms", help="JSON object {variant: canonical} extending the aspect synonym map.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-process a file the manifest says is done.")] = False,
    max_bad_ratio: Annotated[float | None, typer.Option(
        "--max-bad-ratio", min=0.0, max=1.0, help="Exit 1 when more than this share of rows is bad (default 0.01).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout, no progress.")] = False,
) -> None:
    """Load reviews: Review nodes, aspects with opinions, catalogue mentions, sentiment, aspect aggregates.

    Uses the spaCy pipeline in KG_SPACY_MODEL when set (dependency arcs), else spacy.blank(--lang) + rules.
    Ingest the catalogue first so brand/product/category names in the text are linked.

    Example: kg ingest reviews Gift_Cards_5.json --format amazon
    """
    from ingest.reviews.loader import ReviewLoader
    from ingest.reviews.normalise import load_synonyms
    from ingest.reviews.readers import REVIEW_READERS
    from kg.cli import _run_ingest
    from kg.clikit import fail, stderr
    from kg.privacy import Pseudonymiser

    if fmt not in REVIEW_READERS:
        fail(f"unknown reviews format {fmt!r}; choose one of {', '.join(REVIEW_READERS)}")
    if sentiment not in ("auto", "encoder", "lexicon"):
        fail(f"unknown --sentiment {sentiment!r}; choose auto, encoder or lexicon")
    synonym_map = load_synonyms(synonyms) if synonyms else None
    loaders: list[ReviewLoader] = []

    def make_loader(settings):  # type: ignore[no-untyped-def]
        loader = ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings), lang=lang,
                              store_text=store_text, sentiment=sentiment, folds=folds, synonyms=synonym_map)
        loaders.append(loader)
        return loader

    try:
        _run_ingest(ctx, path, kind="reviews", fmt=fmt, reader=REVIEW_READERS[fmt], loader_factory=make_loader,
                    force=force, max_bad_ratio=max_bad_ratio, json_out=json_out)
    finally:
        if loaders and not json_out and loaders[0].languages:
            loader = loaders[0]
            rep = loader.report
            stderr.print(
                f"  reviews: {sum(loader.languages.values())} analysed "
                f"(languages {dict(loader.languages)}), {loader.aspect_mentions} aspect mentions, "
                f"{loader.entity_mentions} catalogue mentions; sentiment: {rep.method} ({rep.reason})"
                + (f", out-of-fold AUC {rep.oof_auc:.3f}" if rep.oof_auc is not None else ""))
