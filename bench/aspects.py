"""The most-mentioned aspects per language, and how often top-rated reviews score negative.

For each review set (the shared ones at hand, or the files given), with language detection on
as ``kg ingest reviews`` does by default: the reviews go through :class:`ReviewAnalyser` (with the
set's catalogue where it has one) and the loader's review sentiment
(:meth:`ReviewLoader.score_sentiment`: the per-language cross-fit where ratings allow, else the
lexicon). Printed per set:

- the 30 most-mentioned aspects of each language with at least 2 % of the set's reviews, with
  their mention counts (MENTIONS edges, one per distinct aspect/opinion of a review) -- the list
  a person hand-checks ("is this a product or service aspect?");
- extraction speed (reviews/s, pipeline built and warm) and aspect mentions;
- where ratings exist: sentiment ROC AUC against rating >= 4 (the same figure as
  ``bench/reviews.py --languages``) and the *top-rating-negative rate*: the share of reviews
  with the set's highest rating (five stars; the positive label of a binary set) whose review
  sentiment is below 0.

    python bench/aspects.py                                  # every shared set at hand
    python bench/aspects.py --sets marc-es,giftcards-en --json
    python bench/aspects.py my_reviews.jsonl --lang pt       # a shop's own file(s)

Files: JSON lines with (``text``, ``rating``), (``review_body``, ``stars``) or
(``reviewText``, ``overall``); CSV with a header naming ``text``/``review`` and
``rating``/``stars``/``label``, or MARC's header-less (index, body, stars). ``--catalogue``: an
Amazon metadata file whose brands and titles are matched as entities, not aspects.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Report, add_json_flag  # noqa: E402
from bench.reviews import SHARED, _catalogue, _multilingual_sets, _read_set, _sample, print_table  # noqa: E402

TOP = 30
MIN_LANGUAGE_SHARE = 0.02


def read_file(path: Path) -> tuple[list[str], list[float | None]]:
    """(texts, ratings or None) of one reviews file; see the module doc for the layouts."""
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        header = [h.strip().lower() for h in rows[0]]
        text_col = next((header.index(k) for k in ("text", "review", "review_body") if k in header), None)
        if text_col is None:  # MARC's header-less (index, body, stars)
            return [r[1] for r in rows], [float(r[2]) for r in rows]
        rate_col = next((header.index(k) for k in ("rating", "stars", "label") if k in header), None)
        binary = rate_col is not None and header[rate_col] == "label"
        texts = [r[text_col] for r in rows[1:]]
        if rate_col is None:
            return texts, [None] * len(texts)
        return texts, [_rating(r[rate_col], binary) for r in rows[1:]]
    with open(path, encoding="utf-8") as handle:
        recs = [json.loads(line) for line in handle if line.strip()]
    keys = [("text", "rating"), ("review_body", "stars"), ("reviewText", "overall")]
    text_key, rate_key = next((k for k in keys if k[0] in recs[0]), keys[0])
    return [r.get(text_key) or "" for r in recs], [_rating(r.get(rate_key), False) for r in recs]


def _rating(value: Any, binary: bool) -> float | None:
    if value in (None, ""):
        return None
    v = float(value)
    return (5.0 if v >= 1 else 1.0) if binary else v


def measure(
    name: str, texts: list[str], ratings: list[float | None], *, lang: str, catalogue: list[dict[str, str]]
) -> dict:
    """Top aspects per language, speed and sentiment figures of one review set."""
    import numpy as np

    from kg.foundation.privacy import Pseudonymiser
    from kg.foundation.settings import Settings
    from kg.ingest.reviews.loader import ReviewLoader, _aspect_rows, _auc
    from kg.ingest.reviews.pipeline import ReviewAnalyser
    from kg.ingest.reviews.text import clean_text

    texts = [clean_text(t)[0] for t in texts]
    analyser = ReviewAnalyser(lang=lang, catalogue=catalogue)
    analyser.nlp_for(lang)
    analyser.analyse(texts[:20])  # build and warm the pipeline (lemma tables) outside the timing
    analyser.discovery.df.clear()
    analyser.discovery.reviews.clear()
    t0 = time.perf_counter()
    out = [a for i in range(0, len(texts), 1000) for a in analyser.analyse(texts[i : i + 1000])]
    seconds = time.perf_counter() - t0
    per_lang: dict[str, Counter[str]] = {}
    reviews_of: Counter[str] = Counter(a.lang for a in out)
    mentions = 0
    for i, a in enumerate(out):
        rows = _aspect_rows(str(i), a)
        mentions += len(rows)
        per_lang.setdefault(a.lang, Counter()).update(r["aspect"] for r in rows)
    shown = {k: v for k, v in reviews_of.items() if v >= MIN_LANGUAGE_SHARE * len(out)}
    top = {k: per_lang.get(k, Counter()).most_common(TOP) for k in sorted(shown, key=lambda k: -shown[k])}
    result: dict[str, Any] = {
        "set": name,
        "reviews": len(texts),
        "languages": dict(reviews_of.most_common()),
        "per_s": round(len(texts) / seconds, 1),
        "aspect_mentions": mentions,
        "top_aspects": {k: [[a, n] for a, n in v] for k, v in top.items()},
    }
    rated = [i for i, r in enumerate(ratings) if r is not None and texts[i].strip()]
    if len(rated) >= 2:
        settings = Settings(pseudonym_key="bench-key")
        loader = ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings))
        t1 = time.perf_counter()
        scores, _ = loader.score_sentiment(texts, ratings, [a.lang for a in out], [a.sentiment for a in out])
        best = max(r for r in ratings if r is not None)
        top_rated = [i for i in rated if ratings[i] == best]
        negative = sum((scores[i] or 0.0) < 0 for i in top_rated)
        y = np.array([int((ratings[i] or 0) >= 4) for i in rated])
        result.update(
            sentiment_s=round(time.perf_counter() - t1, 1),
            methods={k: v["method"] for k, v in loader.report.languages.items() if k in shown},
            auc=_auc(y, [scores[i] or 0.0 for i in rated]),
            lexicon_auc=_auc(y, [out[i].sentiment or 0.0 for i in rated]),
            top_rating=best,
            top_rated=len(top_rated),
            top_rated_negative=negative,
            top_rated_negative_rate=round(negative / max(1, len(top_rated)), 4),
        )
    return result


def _sets(args: argparse.Namespace) -> list[tuple[str, str, Path]]:
    """(name, language, path) of the sets to measure."""
    if args.files:
        return [(p.stem, args.lang or "en", p) for p in args.files]
    sets = _multilingual_sets(args.shared)
    wanted = set(args.sets.split(",")) if args.sets else set(sets)
    return [(name, lang, path) for name, (lang, path) in sets.items() if name in wanted]


def _load(name: str, path: Path, args: argparse.Namespace) -> tuple[list[str], list[float | None], list[dict]]:
    """Texts, ratings and catalogue of one set (a seeded sample of at most ``--limit`` reviews)."""
    if args.files:
        texts, ratings = read_file(path)
        catalogue = _catalogue_file(args.catalogue) if args.catalogue else []
    else:
        texts, stars = _read_set(name, path)
        ratings = list[float | None](stars)
        meta = path.parent / "meta_Gift_Cards.json"
        catalogue = _catalogue(path.parent) if meta.is_file() else []
    keep = _sample(len(texts), args.limit, args.seed)
    return [texts[i] for i in keep], [ratings[i] for i in keep], catalogue


def _catalogue_file(path: Path) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            m = json.loads(line)
            if (m.get("brand") or "").strip():
                out.append({"label": "Brand", "key": m["brand"].strip(), "name": m["brand"].strip()})
            if (m.get("title") or "").strip():
                out.append({"label": "Product", "key": m.get("asin", m["title"]), "name": m["title"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, help="reviews files (default: the shared sets at hand)")
    ap.add_argument("--lang", default=None, help="the files' main language (fallback of detection)")
    ap.add_argument("--catalogue", type=Path, default=None, help="Amazon metadata JSON lines of the files' shop")
    ap.add_argument("--sets", default="", help="comma-separated shared set names (default: all at hand)")
    ap.add_argument("--shared", type=Path, default=SHARED, help="folder of the shared data sets")
    ap.add_argument("--limit", type=int, default=20_000, help="reviews per set (seeded sample above it)")
    ap.add_argument("--seed", type=int, default=0)
    add_json_flag(ap)
    args = ap.parse_args()
    report = Report.from_args("aspects", args, "sets", "limit", "seed", printer=print_table)
    sets = _sets(args)
    if not sets:
        report.note(f"no review sets found (shared data under {args.shared}, or pass files)")
    runs = []
    for name, lang, path in sets:
        report.log(f"{name} ...")
        texts, ratings, catalogue = _load(name, path, args)
        runs.append(measure(name, texts, ratings, lang=lang, catalogue=catalogue))
    report.table(
        "Sentiment and speed per set (top-rated negative: highest rating, review sentiment < 0)",
        ["set", "reviews", "reviews/s", "aspect mentions", "AUC (method)", "lexicon AUC", "top-rated negative"],
        [
            [
                r["set"],
                r["reviews"],
                f"{r['per_s']:,.0f}",
                r["aspect_mentions"],
                f"{r.get('auc')} ({', '.join(sorted(set(r.get('methods', {}).values())))})",
                r.get("lexicon_auc"),
                f"{r['top_rated_negative']:,} / {r['top_rated']:,} ({r['top_rated_negative_rate']:.1%})"
                if "top_rated" in r
                else "-",
            ]
            for r in runs
        ],
        raw=runs,
    )
    for r in runs:
        for lang, top in r["top_aspects"].items():
            report.table(
                f"{r['set']} [{lang}]: top {TOP} aspects ({r['languages'][lang]:,} reviews)",
                ["#", "aspect", "mentions"],
                [[k + 1, a, n] for k, (a, n) in enumerate(top)],
            )
    report.emit()


if __name__ == "__main__":
    main()
