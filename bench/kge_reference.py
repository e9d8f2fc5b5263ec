"""Does our wrapper train as well as PyKEEN itself? TransE and DistMult on PyKEEN's bundled datasets.

For each of Nations, UMLS and Kinships (shipped inside the pykeen wheel, so this runs offline)
and each of TransE and DistMult, trains once through ``kg.embeddings.train_triples`` (our wrapper)
and once through a bare ``pykeen.pipeline.pipeline`` with the same hyper-parameters, the same
seed and the datasets' official splits, and prints filtered test MRR / Hits@10 side by side
with published figures.

Published figures (filtered, test split):
  [L18] X. V. Lin, R. Socher, C. Xiong. "Multi-Hop Knowledge Graph Reasoning with Reward
        Shaping", EMNLP 2018, Table 3, row "DistMult" (UMLS: H@1 82.1, H@10 96.7, MRR 86.8;
        Kinship: H@1 48.7, H@10 90.4, MRR 61.4), tuned models with 1-N scoring and many epochs.
  No comparable published TransE figures on these datasets, nor DistMult on Nations, are
  quoted here ("-"); untuned figures are expected to be lower than tuned published ones: the
  point of this script is the "ours vs bare PyKEEN" columns, which must agree.

Usage:
    PYSTOW_HOME=/tmp/pystow python bench/kge_reference.py [--epochs 50] [--dim 64] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import logging  # noqa: E402

from pykeen.datasets import UMLS, Kinships, Nations  # noqa: E402

from bench._common import Report, add_json_flag, bare_pipeline  # noqa: E402
from kg.embeddings import TrainConfig, train_triples  # noqa: E402
from kg.embeddings.train import extract_metrics  # noqa: E402

#: (dataset, model) -> (MRR, Hits@10, source)
PUBLISHED: dict[tuple[str, str], tuple[float, float, str]] = {
    ("UMLS", "DistMult"): (0.868, 0.967, "L18"),
    ("Kinships", "DistMult"): (0.614, 0.904, "L18"),
}


def bare(dataset, config: TrainConfig) -> tuple[dict[str, float], float]:  # type: ignore[no-untyped-def]
    """The same training as our wrapper, written directly against pykeen.pipeline."""
    result = bare_pipeline(config, dataset.training, dataset.validation, dataset.testing, eval_batch=256)
    return extract_metrics(result.metric_results), result.train_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--negatives", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--datasets", default="Nations,UMLS,Kinships")
    parser.add_argument("--models", default="TransE,DistMult")
    add_json_flag(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for name in ("pykeen", "torch_max_mem", "embeddings"):
        logging.getLogger(name).setLevel(logging.ERROR)

    datasets = {"Nations": Nations, "UMLS": UMLS, "Kinships": Kinships}
    rows = []
    with tempfile.TemporaryDirectory() as runs:
        for ds_name in args.datasets.split(","):
            dataset = datasets[ds_name]()
            for model in args.models.split(","):
                # the command line's hyper-parameters, as kg embed train's options of the same names
                config = TrainConfig.from_dict({**vars(args), "model": model, "device": "cpu", "early_stopping": False})
                t0 = time.perf_counter()
                run = train_triples(
                    None,
                    config,
                    runs_dir=Path(runs),
                    progress=False,  # type: ignore[arg-type]
                    presplit=(dataset.training, dataset.validation, dataset.testing),
                )
                ours_s = time.perf_counter() - t0
                ref, _ = bare(dataset, config)
                pub = PUBLISHED.get((ds_name, model))
                rows.append(
                    (
                        ds_name,
                        model,
                        run.metrics["mrr"],
                        run.metrics["hits_at_10"],
                        ref["mrr"],
                        ref["hits_at_10"],
                        pub,
                        ours_s,
                    )
                )
                print(f"done {ds_name} {model} in {ours_s:.1f}s", file=sys.stderr, flush=True)

    title = (
        f"filtered test metrics, {args.epochs} epochs, dim {args.dim}, batch {args.batch_size}, lr {args.lr}, "
        f"{args.negatives} negative(s), Adam, seed {args.seed}, CPU"
    )
    header = (
        "dataset",
        "model",
        "ours MRR",
        "ours H@10",
        "pykeen MRR",
        "pykeen H@10",
        "|dMRR|",
        "published MRR",
        "published H@10",
        "src",
        "ours seconds",
    )
    table = [
        (
            ds_name,
            model,
            round(mrr, 3),
            round(h10, 3),
            round(rmrr, 3),
            round(rh10, 3),
            round(abs(mrr - rmrr), 3),
            pub[0] if pub else "-",
            pub[1] if pub else "-",
            pub[2] if pub else "-",
            round(ours_s, 1),
        )
        for ds_name, model, mrr, h10, rmrr, rh10, pub, ours_s in rows
    ]
    report = Report("kge_reference", as_json=args.json, printer=_markdown, params=vars(args))
    report.table(title, header, table)
    report.emit()


def _markdown(title: str, header: list[str], rows: list[list[object]]) -> None:
    """The table as Markdown (pasted into the README)."""
    print(f"\n{title}")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print(
            "| "
            + " | ".join(
                f"{v:.3f}" if isinstance(v, float) and k != "ours seconds" else str(v)
                for k, v in zip(header, row, strict=True)
            )
            + " |"
        )


if __name__ == "__main__":
    main()
